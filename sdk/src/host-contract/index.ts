/**
 * `@ttlp/sdk/host-contract`: what the host and its overlays and settings page agree on — the
 * overlay protocol's frames and the HTTP API's answers. Its constants are
 * also exported by `@ttlp/sdk` (dependency-free), for the browser bundles.
 */
export * from './constants.ts';
export * from './overlay-protocol.ts';
export * from './host-api.ts';
export * from './widget-page.ts';
