/** The event bus: Redis Streams when a Redis URL is configured, else the embedded one. */
import { MemoryBus } from './memory-bus.ts';
import { RedisBus } from './redis-bus.ts';
import type { EventBus } from './types.ts';

export { MemoryBus, type MemoryBusOptions } from './memory-bus.ts';
export { RedisBus, type RedisBusOptions } from './redis-bus.ts';
export { compareStreamIds } from './streams.ts';
export * from './types.ts';

export interface BusOptions {
  redisUrl?: string;
  /** Key prefix on Redis. Default `ttlp:`. */
  prefix?: string;
  /** Entries each stream keeps, approximately. Default 1 000 000. */
  maxLen?: number;
  /** Entries the `overlay` stream keeps: its messages matter for seconds, and it may have no reader. */
  overlayMaxLen?: number;
  /** Redis CLIENT SETNAME of the bus's connections, to find them in CLIENT LIST. */
  connectionName?: string;
  onConnectionError?: (error: Error) => void;
}

export function createBus(options: BusOptions): EventBus {
  if (options.redisUrl)
    return new RedisBus({
      url: options.redisUrl,
      prefix: options.prefix,
      maxLen: options.maxLen,
      streamMaxLen: { overlay: options.overlayMaxLen },
      connectionName: options.connectionName,
      onConnectionError: options.onConnectionError,
    });
  return new MemoryBus({ maxLen: options.maxLen, streamMaxLen: { overlay: options.overlayMaxLen } });
}
