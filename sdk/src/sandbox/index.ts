/** `@ttlp/sdk/sandbox`: the isolate runtime shared by the host and the test harness. */
export * from './bundle.ts';
export * from './permissions.ts';
export { messageOf } from './boundary.ts';
export { DEFAULT_LIMITS, type SandboxLimits } from './budgets.ts';
export type { Fault, FaultKind, FaultReport } from './faults.ts';
export { PluginSandbox, type SandboxOptions } from './sandbox.ts';
export type { HttpAnswer, HttpCall, LogLevel, RunInfo, SandboxServices } from './services.ts';
