/** `@ttlp/sdk/testing`: run a plugin against fixture events in a unit test, with no host. */
export * from './test-host.ts';
export * from './events.ts';
