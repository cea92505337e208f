/**
 * @ttlp/sdk — what plugin authors import.
 * Only dependency-free constants are runtime exports here, so plugin bundles stay small;
 * schemas and validators live in `@ttlp/sdk/contract` (the host's own contract with its overlays,
 * in `@ttlp/sdk/host-contract`).
 */
export * from './contract/constants.ts';
export * from './host-contract/constants.ts';
export type { UnifiedEvent, UnifiedEventOf, PayloadOf, EventUser, EventSource } from './contract/unified-event.ts';
export type { RawEnvelope } from './contract/raw-envelope.ts';
export type { CaptureLine } from './contract/capture-line.ts';
export { definePlugin } from './plugin.ts';
export type { PluginContext, PluginDefinition, PluginLog, Handler, HttpRequest, HttpResponse, Json } from './plugin.ts';
export type { PluginManifest, PluginPermissions } from './manifest.ts';
export { RecentKeys } from './recent-keys.ts';
export { messageOf } from './error-message.ts';
export { storableProblem, storableText, textProblem, STORABLE_MAX_DEPTH } from './storable-data.ts';
export { GiftStreaks, GIFT_STREAK_IDLE_MS, type GiftCredit, type GiftStreak, type GiftStreaksOptions, type GiftStreaksState } from './gift-streaks.ts';
