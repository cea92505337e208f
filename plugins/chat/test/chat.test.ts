import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { UnifiedEvent, UnifiedEventOf } from '@ttlp/sdk';
import { DEFAULT_LIMITS } from '@ttlp/sdk/sandbox';
import { createTestHost, makeEvent, ROOMY_CPU_LIMITS, type TestHost } from '@ttlp/sdk/testing';
import { captureEvents, captureFiles } from '../../../host/test/support/captures.ts';
import type { ChatMessage } from '../src/chat-message.ts';
import { STATE_MAX_BYTES, utf8Length } from '../src/feed.ts';
import { blockedWordMatcher } from '../src/filters.ts';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));

const hosts: TestHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

async function startHost(config: Record<string, unknown> = {}): Promise<TestHost> {
  const host = await createTestHost({ plugin: pluginDir, config: { stateIntervalMs: 10, ...config }, limits: ROOMY_CPU_LIMITS });
  hosts.push(host);
  return host;
}

type ChatEvent = UnifiedEventOf<'CHAT'>;
const isChat = (event: UnifiedEvent): event is ChatEvent => event.eventType === 'CHAT';
const messagesOf = (host: TestHost) => host.messages('chat') as unknown as ChatMessage[];
const stateOf = (host: TestHost) => host.state('chat') as unknown as { messages: ChatMessage[] } | undefined;
/** The state once the plugin's state timer has run. */
async function settledState(host: TestHost) {
  await host.timersRun();
  return stateOf(host);
}

/** Every capture, one session per file, in file order. */
const allCaptureEvents = captureFiles().flatMap((file) => captureEvents(file));
const captureChats = allCaptureEvents.filter(isChat);
/** The chats with re-deliveries (same eventId) removed. */
const distinctChats = [...new Map(captureChats.map((event) => [event.eventId, event])).values()];

/** What the README promises for a chat event. */
const expectedMessage = (event: ChatEvent): ChatMessage => ({
  id: event.eventId,
  user: {
    uniqueId: event.user.uniqueId,
    displayName: event.user.displayName ?? event.user.uniqueId,
    avatarUrl: event.user.avatarUrl ?? null,
    isModerator: event.user.isModerator ?? false,
    isSubscriber: event.user.isSubscriber ?? false,
  },
  text: event.payload!.message,
  emotes: event.payload!.emotes ?? [],
  at: event.timestamp,
});

const chat = (message: string, user: Partial<ChatEvent['user']> = {}) => makeEvent('CHAT', { message }, { user });

describe('chat feed from the real captures', () => {
  it('sends every chat message once and keeps the last 50 as state', async () => {
    expect(captureChats).toHaveLength(134);
    // jw.capture.ndjson has one chat message delivered twice.
    expect(distinctChats).toHaveLength(133);

    const host = await startHost();
    await host.send(...allCaptureEvents);
    const expected = distinctChats.map(expectedMessage);
    expect(messagesOf(host)).toEqual(expected);
    expect(await settledState(host)).toEqual({ messages: expected.slice(-50) });

    const emoteOnly = messagesOf(host).find((message) => message.emotes.length > 0)!;
    expect(emoteOnly).toMatchObject({ text: '', user: { isSubscriber: true, isModerator: false } });
    expect(emoteOnly.emotes).toHaveLength(19);
    expect(emoteOnly.emotes[1]).toEqual({
      emoteId: '7202546868612680453',
      emoteImageUrl:
        'https://p16-webcast.tiktokcdn.com/webcast-va/sub_ab131ac1edb6076816509d229d9c406811de2e2f6501407f07ea56c5dd4fb88c~tplv-fyjuxuxag8-webp.webp',
      position: 1,
    });
    expect(host.faults).toEqual([]);
  });

  it.each([1, 2] as const)('with minFollowRole %i shows only viewers of at least that role', async (minFollowRole) => {
    const kept = distinctChats.filter((event) => (event.user.followRole ?? 0) >= minFollowRole);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(distinctChats.length);

    const host = await startHost({ minFollowRole });
    await host.send(...allCaptureEvents);
    expect(messagesOf(host)).toEqual(kept.map(expectedMessage));
    expect(host.faults).toEqual([]);
  });

  it('drops messages with a blocked word in any case, but not words that merely contain it', async () => {
    const words = (text: string) => text.toLowerCase().split(/[^\p{L}\p{N}]+/u);
    const blocked = (event: ChatEvent) => words(event.payload!.message).some((word) => word === 'see' || word === 'window');
    const dropped = distinctChats.filter(blocked).map((event) => event.payload!.message);
    expect(dropped).toContain('See');
    expect(dropped).toContain('Fun Window lol coffee see');

    const host = await startHost({ blockedWords: ['SEE', ' window '] });
    const seenWindows = chat('seen windows');
    await host.send(...allCaptureEvents, seenWindows, chat('I SEE!'));
    expect(messagesOf(host)).toEqual([...distinctChats.filter((event) => !blocked(event)), seenWindows].map(expectedMessage));
    expect(host.faults).toEqual([]);
  });
});

describe('chat filters', () => {
  it('drops commands, with the configured prefix, unless ignoreCommands is off', async () => {
    const texts = ['!points', '  !points', 'hi !points', '?help', 'hello'];
    const shown = async (config: Record<string, unknown>) => {
      const host = await startHost(config);
      await host.send(...texts.map((text) => chat(text)));
      return messagesOf(host).map((message) => message.text);
    };
    expect(await shown({})).toEqual(['hi !points', '?help', 'hello']);
    expect(await shown({ commandPrefix: '?' })).toEqual(['!points', '  !points', 'hi !points', 'hello']);
    expect(await shown({ ignoreCommands: false })).toEqual(texts);
  });

  it('counts a missing followRole as 0', async () => {
    const host = await startHost({ minFollowRole: 1 });
    const stranger = chat('no role');
    const follower = chat('follower', { followRole: 1 });
    await host.send(stranger, follower);
    expect(stranger.user.followRole).toBeUndefined();
    expect(messagesOf(host).map((message) => message.text)).toEqual(['follower']);
  });

  it('matches blocked words and phrases whole, in any script and case, literally', () => {
    const matches = (words: string[], text: string) => blockedWordMatcher(words)(text);
    expect(matches(['dupa'], 'DUPA!')).toBe(true);
    expect(matches(['dupa'], 'to dupa.')).toBe(true);
    expect(matches(['dupa'], 'dupacz superdupa du pa')).toBe(false);
    expect(matches(['żółw'], 'ŻÓŁW idzie')).toBe(true);
    expect(matches(['żółw'], 'żółwik i nieżółw')).toBe(false);
    expect(matches(['bad word'], 'such a Bad Word here')).toBe(true);
    expect(matches(['bad word'], 'bad words')).toBe(false);
    expect(matches(['c++', 'a.b'], 'I like C++')).toBe(true);
    expect(matches(['c++', 'a.b'], 'axb')).toBe(false);
    expect(matches(['', '  '], 'anything at all')).toBe(false);
  });
});

describe('chat state', () => {
  it('is written once per interval, not per message', async () => {
    const host = await startHost({ stateIntervalMs: 200 });
    await host.send(...['one', 'two', 'three'].map((text) => chat(text)));
    // The events were handled in one turn of the event loop, before any timer could fire.
    expect(stateOf(host)).toBeUndefined();
    await host.timersRun();
    expect(host.overlay.filter((entry) => entry.kind === 'state')).toHaveLength(1);
    expect(stateOf(host)!.messages.map((message) => message.text)).toEqual(['one', 'two', 'three']);
  });

  it('keeps the last maxMessages messages', async () => {
    const host = await startHost({ maxMessages: 3 });
    const events = ['one', 'two', 'three', 'four', 'five'].map((text) => chat(text));
    await host.send(...events);
    expect(messagesOf(host)).toHaveLength(5);
    expect((await settledState(host))!.messages.map((message) => message.id)).toEqual(events.slice(-3).map((event) => event.eventId));
  });

  it('keeps the state within the overlay size limit when messages are large', async () => {
    expect(STATE_MAX_BYTES).toBe(DEFAULT_LIMITS.overlayMaxBytes);
    // The real emote-only message (19 emotes) is about 5 KB; 50 of them exceed the limit.
    const emoteChat = captureEvents('singles.capture.ndjson').find(isChat)!;
    const events = Array.from({ length: 50 }, () => makeEvent('CHAT', emoteChat.payload!, { user: emoteChat.user }));
    const stateBytes = (messages: ChatMessage[]) => Buffer.byteLength(JSON.stringify({ messages }));
    const all = events.map(expectedMessage);
    expect(stateBytes(all)).toBeGreaterThan(DEFAULT_LIMITS.overlayMaxBytes);
    let fitting = 0;
    while (stateBytes(all.slice(-(fitting + 1))) <= DEFAULT_LIMITS.overlayMaxBytes) fitting += 1;

    const host = await startHost();
    await host.send(...events);
    expect(messagesOf(host)).toHaveLength(50);
    expect(await settledState(host)).toEqual({ messages: all.slice(-fitting) });
    expect(host.faults).toEqual([]);
  });

  it('measures UTF-8 like the host does', () => {
    for (const text of ['abc', 'żółw', '€', '🥹🇵🇭', 'a\ud800b']) expect(utf8Length(text)).toBe(Buffer.byteLength(text));
  });
});
