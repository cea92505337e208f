/** `@ttlp/sdk/sandbox`: the isolate runtime shared by the host and the test harness. */
export * from './bundle.ts';
export * from './permissions.ts';
export * from './sandbox.ts';
