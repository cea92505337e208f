/** `@ttlp/sdk/sandbox`: the isolate runtime shared by the host and the test harness. */
export * from './bundle.ts';
export * from './permissions.ts';
export { messageOf } from './boundary.ts';
export { DEFAULT_LIMITS, pluginQuotas, type SandboxLimits } from './budgets.ts';
export { isQuotaExceeded, QuotaExceeded, type Fault, type FaultKind, type FaultReport } from './faults.ts';
export { KvUsage, storedJsonBytes } from './kv-quota.ts';
export { PluginSandbox, type SandboxOptions } from './sandbox.ts';
export type { HttpAnswer, HttpCall, LogLevel, RunInfo, SandboxServices } from './services.ts';
export { faultPlace } from './source-positions.ts';
