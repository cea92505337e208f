/** Provider lifecycle envelopes (connected / disconnected / error) → CONNECTED / DISCONNECTED / ERROR. */
import { SYSTEM_USER } from '@ttlp/sdk';
import { badField } from './rejection.ts';
import { compact, optionalBoolean, optionalString, requiredString, type Fields } from './fields.ts';
import type { Mapped } from './webcast.ts';

/** Close codes arrive as numbers (WebSocket) or strings (typed errors); the contract keeps a string. */
function code(value: unknown, field: string): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return optionalString(value, field);
}

export function mapLifecycle(type: string, data: Fields, debug: boolean): Mapped | undefined {
  const user = { ...SYSTEM_USER };
  switch (type) {
    case 'connected':
      return {
        eventType: 'CONNECTED',
        user,
        payload: compact({
          roomId: optionalString(data.roomId, 'data.roomId'),
          isConnected: optionalBoolean(data.isConnected, 'data.isConnected') ?? true,
          provider: optionalString(data.provider, 'data.provider'),
        }),
      };
    case 'disconnected':
      return {
        eventType: 'DISCONNECTED',
        user,
        payload: compact({
          code: code(data.code, 'data.code'),
          reason: optionalString(data.reason, 'data.reason'),
          willReconnect: optionalBoolean(data.willReconnect, 'data.willReconnect'),
        }),
      };
    case 'error': {
      const stack = optionalString(data.stack, 'data.stack');
      if (stack !== undefined && stack.length > 16384) throw badField('data.stack', 'is too long');
      return {
        eventType: 'ERROR',
        user,
        payload: compact({
          message: requiredString(data.message, 'data.message'),
          code: code(data.code, 'data.code'),
          // Stacks reveal host internals; they leave the host only when debugging is on.
          stack: debug ? stack : undefined,
        }),
      };
    }
    default:
      return undefined;
  }
}
