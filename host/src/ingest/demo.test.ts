import { describe, it, expect } from 'vitest';
import type { RawEnvelope, UnifiedEvent, UnifiedEventOf } from '@ttlp/sdk';
import { normalize } from '../normalize/index.ts';
import { DemoProvider, type DemoProviderOptions } from './demo.ts';

const START = Date.UTC(2025, 4, 1, 18, 0, 0);
const SESSION_ID = '3f0c9a52-6a3e-4f7e-9a0b-2d6c1e8f4b71';
const MESSAGES = 2000;

/** A clock that moves only when the provider sleeps: runs are instant and repeatable. */
function fakeTime(): Pick<DemoProviderOptions, 'now' | 'sleep'> {
  let time = START;
  return {
    now: () => time,
    sleep: async (ms) => {
      time += ms;
    },
  };
}

function demo(options: DemoProviderOptions = {}): DemoProvider {
  return new DemoProvider({ seed: 42, limit: MESSAGES, sessionId: SESSION_ID, ...fakeTime(), ...options });
}

async function collect(provider: DemoProvider, signal?: AbortSignal): Promise<RawEnvelope[]> {
  const out: RawEnvelope[] = [];
  for await (const envelope of provider.envelopes(signal)) out.push(envelope);
  return out;
}

function normalizeAll(envelopes: RawEnvelope[]): UnifiedEvent[] {
  return envelopes.map((envelope) => {
    const result = normalize(envelope);
    if (!result.ok) throw new Error(`${envelope.type} #${envelope.seqNo} rejected: ${result.rejection.message}`);
    return result.event;
  });
}

interface GiftData {
  common: { msgId: string };
  user: { id: string };
  giftId: string;
  groupId: string;
  repeatCount: number;
  repeatEnd: number;
  gift: { type: number; diamondCount: number };
}

const msgIdOf = (envelope: RawEnvelope) => (envelope.data.common as { msgId: string }).msgId;

describe('DemoProvider', () => {
  it('produces envelopes that all normalize, framed by CONNECTED and DISCONNECTED, with the whole message mix', async () => {
    const provider = demo();
    const envelopes = await collect(provider);
    expect(envelopes).toHaveLength(MESSAGES + 2);
    const events = normalizeAll(envelopes);

    const first = events[0];
    expect(first?.eventType).toBe('CONNECTED');
    expect(first?.payload).toEqual({ roomId: provider.streamId, isConnected: true, provider: 'demo' });
    const last = events.at(-1);
    expect(last?.eventType).toBe('DISCONNECTED');
    expect(last?.payload).toEqual({ reason: 'demo stopped', willReconnect: false, code: 'DEMO_STOPPED' });

    const types = new Set(events.map((event) => event.eventType));
    for (const type of ['CHAT', 'LIKE', 'GIFT', 'FOLLOW', 'SHARE', 'JOIN', 'SUBSCRIBE', 'RAW'] as const) expect(types).toContain(type);
    const rawTypes = new Set(events.filter((event) => event.eventType === 'RAW').map((event) => event.rawType));
    expect([...rawTypes]).toEqual(['WebcastRoomUserSeqMessage']);

    for (const envelope of envelopes) {
      expect(envelope.streamId).toBe(provider.streamId);
      expect(envelope.sessionId).toBe(SESSION_ID);
      expect(envelope.source).toBe('live');
    }
    for (const envelope of envelopes.slice(1, -1)) {
      const common = envelope.data.common as Record<string, unknown>;
      expect(common.method).toBe(envelope.type);
      expect(common.roomId).toBe(provider.streamId);
      expect(common.createTime).toBe(String(Date.parse(envelope.timestamp)));
    }
  });

  it('uses a 19-digit room id derived from the seed unless one is given', () => {
    expect(demo().streamId).toMatch(/^[1-9][0-9]{18}$/);
    expect(demo().streamId).toBe(demo().streamId);
    expect(demo({ seed: 43 }).streamId).not.toBe(demo().streamId);
    expect(demo({ streamId: '7000000000000000001' }).streamId).toBe('7000000000000000001');
    expect(new DemoProvider().sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('repeats the same session for the same seed and clock, and a different one for another seed', async () => {
    const sequence = async (seed: number) =>
      (await collect(demo({ seed, limit: 500 }))).map(({ type, data }) => ({ type, data }));
    const first = await sequence(7);
    expect(await sequence(7)).toEqual(first);
    expect(await sequence(8)).not.toEqual(first);
  });

  it('sends gift streaks as growing repeat counts that end with repeatEnd 1', async () => {
    // A longer session, so that the rarer single big gifts show up too.
    const envelopes = await collect(demo({ limit: 5000 }));
    const gifts = envelopes.filter((envelope) => envelope.type === 'WebcastGiftMessage');
    const eventByMsgId = new Map(normalizeAll(gifts).map((event) => [event.seqNo, event as UnifiedEventOf<'GIFT'>]));

    // index = position in the whole session, to see other messages between a streak's own.
    const streaks = new Map<string, { data: GiftData; index: number }[]>();
    const singles: GiftData[] = [];
    envelopes.forEach((envelope, index) => {
      if (envelope.type !== 'WebcastGiftMessage') return;
      const data = envelope.data as unknown as GiftData;
      if (data.gift.type === 1) streaks.set(data.groupId, [...(streaks.get(data.groupId) ?? []), { data, index }]);
      else singles.push(data);
    });

    let ended = 0;
    let interleaved = 0;
    let longest = 0;
    for (const messages of streaks.values()) {
      const [head] = messages;
      if (!head) continue;
      expect(messages.map(({ data }) => data.repeatCount)).toEqual(messages.map((_, i) => i + 1));
      expect(new Set(messages.map(({ data }) => `${data.user.id}:${data.giftId}`)).size).toBe(1);
      const ends = messages.map(({ data }) => data.repeatEnd);
      longest = Math.max(longest, messages.length);
      if (messages.some((message, i) => message.index - head.index !== i)) interleaved += 1;
      if (!ends.includes(1)) continue; // still open when the limit was reached
      ended += 1;
      expect(ends).toEqual([...ends.slice(0, -1).map(() => 0), 1]);

      const events = messages.map(({ data }) => eventByMsgId.get(data.common.msgId));
      const lastEvent = events.at(-1);
      for (const event of events.slice(0, -1)) expect(event?.payload).toMatchObject({ isGiftStreak: true, streakActive: true, streakEnd: false });
      expect(lastEvent?.payload).toMatchObject({
        isGiftStreak: true,
        streakActive: false,
        streakEnd: true,
        giftCount: messages.length,
        coins: messages.length * head.data.gift.diamondCount,
      });
    }
    expect(ended).toBeGreaterThan(50);
    expect(streaks.size - ended).toBeLessThanOrEqual(3);
    expect(longest).toBeGreaterThan(5);
    expect(interleaved).toBeGreaterThan(0);

    expect(singles.length).toBeGreaterThan(0);
    for (const data of singles) {
      expect(data).toMatchObject({ repeatCount: 1, repeatEnd: 0 });
      expect(eventByMsgId.get(data.common.msgId)?.payload).toMatchObject({ isGiftStreak: false, giftCount: 1, coins: data.gift.diamondCount });
    }
  });

  it('keeps like totals growing and msgIds and eventIds unique', async () => {
    const envelopes = await collect(demo());
    const likes = envelopes
      .filter((envelope) => envelope.type === 'WebcastLikeMessage')
      .map((envelope) => envelope.data as { count: number; total: string });
    expect(likes.length).toBeGreaterThan(100);
    for (const [i, like] of likes.entries()) {
      expect(like.count).toBeGreaterThanOrEqual(1);
      expect(like.count).toBeLessThanOrEqual(15);
      const previous = likes[i - 1];
      if (previous) expect(Number(like.total)).toBe(Number(previous.total) + like.count);
    }

    const msgIds = envelopes.slice(1, -1).map(msgIdOf);
    for (const msgId of msgIds) expect(msgId).toMatch(/^[1-9][0-9]{18}$/);
    expect(new Set(msgIds).size).toBe(msgIds.length);
    const eventIds = normalizeAll(envelopes).map((event) => event.eventId);
    expect(new Set(eventIds).size).toBe(eventIds.length);
  });

  it('paces messages at the requested rate', async () => {
    const sleeps: number[] = [];
    await collect(
      demo({
        rate: 10,
        limit: 1000,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      }),
    );
    expect(sleeps).toHaveLength(1000);
    const mean = sleeps.reduce((sum, ms) => sum + ms, 0) / sleeps.length;
    expect(mean).toBeGreaterThan(90);
    expect(mean).toBeLessThan(110);
    expect(Math.min(...sleeps)).toBeGreaterThan(0);
  });

  it('stops at once when the signal aborts between messages', async () => {
    const controller = new AbortController();
    const seen: RawEnvelope[] = [];
    for await (const envelope of demo({ limit: undefined }).envelopes(controller.signal)) {
      seen.push(envelope);
      if (seen.length === 11) controller.abort();
    }
    expect(seen).toHaveLength(11);
    expect(seen.some((envelope) => envelope.type === 'disconnected')).toBe(false);
  });

  it('stops while sleeping when the signal aborts, with the default sleep', async () => {
    const controller = new AbortController();
    // A sleep of an hour between messages: one waited out would time the test out.
    const provider = new DemoProvider({ seed: 1, rate: 1 / 3600, limit: 5 });
    setTimeout(() => controller.abort(), 20);
    const seen = await collect(provider, controller.signal);
    expect(seen.map((envelope) => envelope.type)).toEqual(['connected']);
  });

  it('yields nothing for a signal that is already aborted', async () => {
    expect(await collect(demo(), AbortSignal.abort())).toEqual([]);
  });

  it('rejects invalid options', () => {
    expect(() => new DemoProvider({ rate: 0 })).toThrow(RangeError);
    expect(() => new DemoProvider({ rate: 0 })).toThrow(/rate must be a positive number/);
    expect(() => new DemoProvider({ rate: -1 })).toThrow(RangeError);
    expect(() => new DemoProvider({ rate: Number.NaN })).toThrow(RangeError);
    expect(() => new DemoProvider({ limit: -1 })).toThrow(RangeError);
    expect(() => new DemoProvider({ seed: 1.5 })).toThrow(RangeError);
  });
});
