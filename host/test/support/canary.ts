/**
 * The canary of the hostile-plugin suite: a well-behaved plugin that answers every GIFT with one
 * overlay message naming its eventId, the traffic that feeds the host real events (GIFTs at a
 * steady pace, chat between them, as raw.v1 envelopes on the `raw` stream, so every event goes
 * through the normalizer and the storage writer as a live one does), and the watch on the
 * `overlay` stream that times each of the canary's answers.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RawEnvelope } from '@ttlp/sdk';
import type { Consumer, EventBus } from '../../src/bus/types.ts';
import { normalizeEnvelope } from '../../src/normalize/index.ts';
import { NORMALIZER_GROUP } from '../../src/pipeline/stages.ts';
import { startSession } from '../../src/store/sessions.ts';
import type { Store } from '../../src/store/database.ts';
import { TEST_STREAM_ID } from './events.ts';
import { common, proto, testEnvelopes, user, withDefaults } from './messages.ts';
import type { TestPluginSpec } from './plugin-root.ts';

export const CANARY_ID = 'canary';
export const CANARY_CHANNEL = 'main';

export const CANARY: TestPluginSpec = {
  id: CANARY_ID,
  permissions: { events: ['GIFT'] },
  overlayChannels: [CANARY_CHANNEL],
  // Not awaited: a handler that finishes synchronously lets events share one entry into the isolate.
  source: `
    import { definePlugin } from '@ttlp/sdk';
    export default definePlugin({
      setup(ctx) {
        ctx.on('GIFT', (event) => {
          void ctx.overlay.send('${CANARY_CHANNEL}', { eventId: event.eventId });
        });
      },
    });
  `,
};

/** One GIFT the traffic published: when it was due, and its eventId as the normalizer computes it. */
export interface SentGift {
  eventId: string;
  /** performance.now() at which the GIFT was due on the `raw` stream. */
  dueAt: number;
}

export interface TrafficRun {
  gifts: SentGift[];
  /** Id of the last entry published on `raw`. */
  lastRawId: string;
}

export interface TrafficPlan {
  gifts: number;
  giftEveryMs: number;
  /** Chat messages between two GIFTs, evenly spaced. */
  chatsPerGift: number;
}

/**
 * Live-like traffic of one session: envelopes built before a run starts (building them costs CPU
 * on the loop being measured), then published one at a time on their schedule.
 */
export class EventTraffic {
  readonly sessionId = randomUUID();
  private readonly envelopes = testEnvelopes(this.sessionId);
  private nextMessage = 1;

  private constructor(private readonly bus: EventBus) {}

  /** Traffic of a session recorded in `store` as a live one. */
  static async open(bus: EventBus, store: Store): Promise<EventTraffic> {
    const traffic = new EventTraffic(bus);
    await startSession(store, { sessionId: traffic.sessionId, streamId: TEST_STREAM_ID, type: 'live', provider: 'test' });
    return traffic;
  }

  /**
   * Publishes `plan.gifts` GIFTs every `giftEveryMs`, with chat between them. Each GIFT's due time
   * is its slot on the schedule, not the moment it was published: the publisher runs on the host's
   * loop, so a stalled loop delays the publish itself, as it would delay a live message arriving.
   */
  async run(plan: TrafficPlan): Promise<TrafficRun> {
    const slot = plan.giftEveryMs / (plan.chatsPerGift + 1);
    const slots = plan.gifts * (plan.chatsPerGift + 1);
    const planned = Array.from({ length: slots }, (_, index) => (index % (plan.chatsPerGift + 1) === 0 ? this.gift() : this.chat(index)));
    const gifts: SentGift[] = [];
    const start = performance.now();
    let lastRawId = '';
    for (let index = 0; index < slots; index += 1) {
      const dueAt = start + index * slot;
      const wait = dueAt - performance.now();
      if (wait > 0) await sleep(wait);
      const { envelope, eventId } = planned[index]!;
      if (eventId && envelope.type === 'WebcastGiftMessage') gifts.push({ eventId, dueAt });
      lastRawId = await this.bus.publish('raw', envelope);
    }
    return { gifts, lastRawId };
  }

  /** True once the normalizer has turned every entry up to `rawId` into events. */
  normalized(rawId: string): Promise<boolean> {
    return this.bus.processed('raw', NORMALIZER_GROUP, rawId);
  }

  private message(): { msgId: string; createTime: string } {
    return { msgId: String(1_000_000 + this.nextMessage++), createTime: String(Date.now()) };
  }

  private gift(): { envelope: RawEnvelope; eventId: string | undefined } {
    const { msgId, createTime } = this.message();
    const envelope = this.envelopes.webcast(
      'WebcastGiftMessage',
      withDefaults(proto.WebcastGiftMessage, {
        common: common(msgId, 'WebcastGiftMessage', { createTime }),
        user: user('6812345678901234001', 'gifter'),
        giftId: '5655',
        repeatCount: 1,
        repeatEnd: 1,
        gift: withDefaults(proto.Gift, { id: '5655', name: 'Rose', diamondCount: 1, type: 2 }),
      }),
    );
    return { envelope, eventId: eventIdOf(envelope) };
  }

  private chat(index: number): { envelope: RawEnvelope; eventId: string | undefined } {
    const { msgId, createTime } = this.message();
    const envelope = this.envelopes.webcast(
      'WebcastChatMessage',
      withDefaults(proto.WebcastChatMessage, {
        common: common(msgId, 'WebcastChatMessage', { createTime }),
        user: user('6812345678901234002', 'chatter'),
        content: `background chat ${index}`,
      }),
    );
    return { envelope, eventId: undefined };
  }
}

/** The eventId the normalizer gives `envelope` (a pure function: the same here as in the host). */
function eventIdOf(envelope: RawEnvelope): string {
  const result = normalizeEnvelope(envelope);
  if (!result.ok) throw new Error(`the test traffic built an envelope the normalizer rejects: ${result.rejection.code} ${result.rejection.message}`);
  return result.event.eventId;
}

/**
 * Times the canary's overlay messages as they appear on the `overlay` stream, read in a consumer
 * group of its own on the host's bus — where the overlay hub reads them, on the same loop.
 */
export class OverlayWatch {
  /** performance.now() at which the canary's message for each eventId appeared (the first one). */
  readonly arrivals = new Map<string, number>();
  /** Overlay messages seen per plugin. */
  readonly messagesBy = new Map<string, number>();
  private consumer: Consumer | undefined;

  private constructor(
    private readonly bus: EventBus,
    readonly group: string,
  ) {}

  static async start(bus: EventBus, consumer: string): Promise<OverlayWatch> {
    const watch = new OverlayWatch(bus, `hostile-suite-${randomUUID()}`);
    watch.consumer = bus.consume({
      stream: 'overlay',
      group: watch.group,
      consumer,
      stage: 'hostile-suite',
      startAt: 'end',
      batchSize: 1000,
      blockMs: 50,
      handler: async (entries) => {
        const now = performance.now();
        for (const { payload } of entries) {
          watch.messagesBy.set(payload.pluginId, (watch.messagesBy.get(payload.pluginId) ?? 0) + 1);
          if (payload.pluginId !== CANARY_ID || payload.kind !== 'message') continue;
          const eventId = (payload.data as { eventId?: unknown } | null)?.eventId;
          if (typeof eventId === 'string' && !watch.arrivals.has(eventId)) watch.arrivals.set(eventId, now);
        }
      },
    });
    await watch.consumer.ready();
    return watch;
  }

  /** True once this watch has read every overlay message up to `id`. */
  readUpTo(id: string): Promise<boolean> {
    return this.bus.processed('overlay', this.group, id);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.bus.deleteGroup('overlay', this.group).catch(() => undefined);
  }
}

/** The `p`th percentile (0–100) of `values`, interpolated linearly between the closest ranks; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}
