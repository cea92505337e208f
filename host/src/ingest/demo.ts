/**
 * The demo provider: a synthetic TikTok LIVE session for newcomers without a TikTok
 * user and for tests. Messages have the shapes tiktok-live-connector 2.x decodes
 * (tiktok-live-proto v3, 64-bit numbers as decimal strings), so the real normalizer
 * maps them, and a seed makes a session repeatable.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { RawEnvelope } from '@ttlp/sdk';
import { EnvelopeFactory } from './envelope.ts';
import { GIFT_CATALOGUE, type CatalogueGift } from './gift-catalogue.ts';
import { abortableSleep, pause, type IngestProvider, type Sleep } from './provider.ts';

export interface DemoProviderOptions {
  /** Seed of the session (0 … 2^32 − 1); the same seed and clock give the same messages. Default: random. */
  seed?: number;
  /** Webcast messages per second, on average. Default 4. */
  rate?: number;
  /** Stop after this many Webcast messages. Default: run until aborted. */
  limit?: number;
  sessionId?: string;
  /** Room id of the fake stream; by default a 19-digit id derived from the seed. */
  streamId?: string;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  /** Waits between messages. */
  sleep?: Sleep;
}

export interface DemoMessage {
  type: string;
  data: Record<string, unknown>;
}

type Data = Record<string, unknown>;

const DEFAULT_RATE = 4;
const MAX_SEED = 0xffffffff;
const VIEWER_POOL_SIZE = 30;
/** Derives the room id from the seed without drawing from the message stream. */
const ROOM_ID_SALT = 0x9e3779b9;

/** mulberry32: a tiny seeded PRNG, plenty for plausible fake traffic. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('cannot pick from an empty list');
    return item;
  }

  weighted<T>(items: readonly T[], weightOf: (item: T) => number): T {
    const total = items.reduce((sum, item) => sum + weightOf(item), 0);
    let roll = this.next() * total;
    for (const item of items) {
      roll -= weightOf(item);
      if (roll < 0) return item;
    }
    return this.pick(items);
  }

  /** A decimal id of `length` digits that starts with `lead`, like TikTok's snowflake ids. */
  digits(lead: string, length: number): string {
    let out = lead;
    while (out.length < length) out += String(Math.floor(this.next() * 1e6)).padStart(6, '0');
    return out.slice(0, length);
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) out += Math.floor(this.next() * 0x10000).toString(16).padStart(4, '0');
    return out.slice(0, length);
  }
}

/** The 19-digit room id a seed stands for. */
export function demoRoomId(seed: number): string {
  return new Random((seed ^ ROOM_ID_SALT) >>> 0).digits('7', 19);
}

const NAME_WORDS = [
  'Sunny', 'Pixel', 'Lucky', 'Cosmic', 'Mango', 'Velvet', 'Neon', 'Maple', 'Echo', 'Jade',
  'Turbo', 'Misty', 'Rusty', 'Nova', 'Cactus', 'Pepper', 'Frost', 'Comet', 'Willow', 'Bubbles',
  'Shadow', 'Honey', 'Storm', 'Peach', 'Blaze', 'Lemon', 'Orbit', 'Coral', 'Ziggy', 'Marble',
] as const;

const CHAT_LINES = [
  'hi everyone', 'hello from Berlin', 'hey hey', 'love this song', 'what game is this?', 'lol',
  'first time here', 'you got this!', 'gg', 'how long have you been live?', 'say hi to me pls',
  'this is so relaxing', 'omg', 'no way', 'that was close', 'can we do a challenge?', 'haha yes',
  'where are you from?', 'good morning from Manila', 'late night gang', 'let\'s goooo', 'so good',
  'what\'s the song name?', 'wait what happened', 'best stream today', 'back again', 'hype',
  'agreed', 'lmao', 'is this live?', 'sending love', 'big fan', 'do the dance again!', 'wow',
] as const;
const EMOJI = ['🔥', '😂', '❤️', '👏', '😍', '🙌', '💯', '🥹'] as const;
const COMMANDS = ['!points', '!song', '!discord', '!dice', '!socials', '!uptime', '!help'] as const;

interface GiftSpec extends CatalogueGift {
  weight: number;
  /** Longest streak; cheap gifts are tapped in long runs. */
  maxRepeat: number;
}

/** How often the demo's viewers send each gift (by name), and their longest streaks. */
const GIFT_HABITS: Record<string, { weight: number; maxRepeat: number }> = {
  Rose: { weight: 30, maxRepeat: 20 },
  TikTok: { weight: 16, maxRepeat: 15 },
  'Finger Heart': { weight: 14, maxRepeat: 12 },
  Perfume: { weight: 8, maxRepeat: 6 },
  Doughnut: { weight: 6, maxRepeat: 5 },
  'Hand Heart': { weight: 4, maxRepeat: 4 },
  Galaxy: { weight: 4, maxRepeat: 1 },
  Lion: { weight: 0.05, maxRepeat: 1 },
};

const GIFTS: readonly GiftSpec[] = GIFT_CATALOGUE.flatMap((gift) => {
  const habits = GIFT_HABITS[gift.name];
  return habits ? [{ ...gift, ...habits }] : [];
});

type Kind = 'chat' | 'like' | 'gift' | 'streak' | 'join' | 'follow' | 'share' | 'subscribe';

const KIND_WEIGHTS: ReadonlyArray<readonly [Kind, number]> = [
  ['chat', 32],
  ['like', 26],
  ['join', 14],
  ['gift', 4],
  ['follow', 3],
  ['share', 2],
  ['subscribe', 0.5],
];
/** Weight of continuing each open streak: streaks run in quick succession, but other messages interleave. */
const STREAK_WEIGHT = 16;
const MAX_OPEN_STREAKS = 3;

const FOLLOW_KEY = 'pm_main_follow_message_viewer_2';
const SHARE_KEY = 'pm_mt_guidance_share';
const JOIN_KEY = 'live_room_enter_toast';
const MEMBER_ACTION_JOINED = 1;

interface Viewer {
  id: string;
  displayId: string;
  nickname: string;
  avatarUrl: string;
  followStatus: 0 | 1 | 2;
  isModerator: boolean;
  /** Months subscribed; 0 = not a subscriber. */
  subMonths: number;
  /** How chatty the viewer is, relative to the others. */
  activity: number;
}

interface Streak {
  viewer: Viewer;
  gift: GiftSpec;
  groupId: string;
  repeatCount: number;
  length: number;
}

/** The state of one demo session: viewers, counters and open gift streaks, all driven by the seed. */
export class DemoSession {
  private readonly random: Random;
  private readonly usedIds = new Set<string>();
  private readonly viewers: Viewer[];
  private readonly streaks: Streak[] = [];
  private likeBurst: { viewer: Viewer; remaining: number } | undefined;
  private likeTotal: number;
  private viewerCount: number;
  /** The room size the viewer count hovers around; it wanders slowly. */
  private audience: number;
  private totalUser: number;
  private hostFollowers: number;
  private untilRoomUserSeq: number;
  private time = 0;

  constructor(
    seed: number,
    private readonly roomId: string,
  ) {
    this.random = new Random(seed);
    this.usedIds.add(roomId);
    this.viewers = this.createViewers();
    this.likeTotal = this.random.int(0, 4000);
    this.viewerCount = this.random.int(60, 400);
    this.audience = this.viewerCount;
    this.totalUser = this.viewerCount + this.random.int(20, 300);
    this.hostFollowers = this.random.int(5_000, 250_000);
    // An early viewer count, so overlays show one soon after connecting.
    this.untilRoomUserSeq = this.random.int(1, 4);
  }

  /** The pause before the next message: `interval` on average, with jitter. */
  nextGap(interval: number): number {
    return interval * (0.5 + this.random.next());
  }

  /** The next Webcast message, created at `time` (ms). */
  next(time: number): DemoMessage {
    this.time = time;
    this.untilRoomUserSeq -= 1;
    if (this.untilRoomUserSeq <= 0) {
      this.untilRoomUserSeq = this.random.int(15, 25);
      return this.roomUserSeq();
    }
    switch (this.pickKind()) {
      case 'chat':
        return this.chat();
      case 'like':
        return this.like();
      case 'gift':
        return this.startGift();
      case 'streak':
        return this.continueStreak();
      case 'join':
        return this.join();
      case 'follow':
        return this.follow();
      case 'share':
        return this.share();
      case 'subscribe':
        return this.subscribe();
    }
  }

  private pickKind(): Kind {
    const kinds: Array<readonly [Kind, number]> = [...KIND_WEIGHTS];
    if (this.streaks.length > 0) kinds.push(['streak', STREAK_WEIGHT * this.streaks.length]);
    return this.random.weighted(kinds, ([, weight]) => weight)[0];
  }

  private createViewers(): Viewer[] {
    const handles = new Set<string>();
    const viewers: Viewer[] = [];
    for (let i = 0; i < VIEWER_POOL_SIZE; i += 1) {
      let handle: string;
      do handle = `demo_${this.random.pick(NAME_WORDS).toLowerCase()}_${this.random.int(1, 999)}`;
      while (handles.has(handle));
      handles.add(handle);
      const roll = this.random.next();
      viewers.push({
        id: this.freshId(this.random.pick(['6', '7'])),
        displayId: handle,
        nickname: `${this.random.pick(NAME_WORDS)} ${this.random.pick(NAME_WORDS)}`,
        avatarUrl: `https://example.invalid/avatar/${this.random.hex(16)}.webp`,
        followStatus: roll < 0.55 ? 0 : roll < 0.9 ? 1 : 2,
        isModerator: false,
        subMonths: 0,
        activity: 0.3 + 3 * this.random.next() ** 2,
      });
    }
    // A few moderators and subscribers, one of them both.
    const ranked = viewers.map((viewer) => [this.random.next(), viewer] as const).sort((a, b) => a[0] - b[0]);
    ranked.forEach(([, viewer], rank) => {
      if (rank < 3) viewer.isModerator = true;
      if (rank >= 2 && rank < 7) viewer.subMonths = this.random.int(1, 11);
    });
    return viewers;
  }

  /** A 19-digit id never handed out before in this session. */
  private freshId(lead = '7'): string {
    let id: string;
    do id = this.random.digits(lead, 19);
    while (this.usedIds.has(id));
    this.usedIds.add(id);
    return id;
  }

  private anyViewer(candidates: readonly Viewer[] = this.viewers): Viewer {
    return this.random.weighted(candidates, (viewer) => viewer.activity);
  }

  private common(method: string, displayText?: { key: string; defaultPattern: string }): Data {
    const common: Data = { method, msgId: this.freshId(), roomId: this.roomId, createTime: String(Math.floor(this.time)) };
    if (displayText) common.displayText = displayText;
    return common;
  }

  private user(viewer: Viewer): Data {
    return {
      id: viewer.id,
      displayId: viewer.displayId,
      nickname: viewer.nickname,
      avatarThumb: { urlList: [viewer.avatarUrl] },
      followInfo: { followStatus: String(viewer.followStatus) },
    };
  }

  private userIdentity(viewer: Viewer): Data {
    return {
      isFollowerOfAnchor: viewer.followStatus >= 1,
      isMutualFollowingWithAnchor: viewer.followStatus === 2,
      isModeratorOfAnchor: viewer.isModerator,
      isSubscriberOfAnchor: viewer.subMonths > 0,
    };
  }

  private fromViewer(type: string, viewer: Viewer, fields: Data, displayText?: { key: string; defaultPattern: string }): DemoMessage {
    return {
      type,
      data: { common: this.common(type, displayText), user: this.user(viewer), userIdentity: this.userIdentity(viewer), ...fields },
    };
  }

  private chatLine(viewer: Viewer): string {
    const roll = this.random.next();
    if (roll < (viewer.isModerator ? 0.2 : 0.07)) return this.random.pick(COMMANDS);
    if (roll < 0.15) return this.random.pick(EMOJI).repeat(this.random.int(1, 3));
    const line = this.random.pick(CHAT_LINES);
    return this.random.chance(0.3) ? `${line} ${this.random.pick(EMOJI)}` : line;
  }

  private chat(): DemoMessage {
    const viewer = this.anyViewer();
    return this.fromViewer('WebcastChatMessage', viewer, { content: this.chatLine(viewer), contentLanguage: 'en', emotes: [] });
  }

  /** Likes come in bursts: one viewer tapping several times in a row, mostly a few likes per message. */
  private like(): DemoMessage {
    if (!this.likeBurst || this.likeBurst.remaining <= 0) this.likeBurst = { viewer: this.anyViewer(), remaining: this.random.int(1, 6) };
    this.likeBurst.remaining -= 1;
    const count = 1 + Math.floor(this.random.next() ** 2 * 15);
    this.likeTotal += count;
    return this.fromViewer('WebcastLikeMessage', this.likeBurst.viewer, { count, total: String(this.likeTotal) });
  }

  private giftMessage(viewer: Viewer, gift: GiftSpec, groupId: string, repeatCount: number, repeatEnd: 0 | 1): DemoMessage {
    return this.fromViewer('WebcastGiftMessage', viewer, {
      giftId: String(gift.id),
      groupId,
      repeatCount,
      repeatEnd,
      gift: {
        id: String(gift.id),
        name: gift.name,
        diamondCount: gift.diamondCount,
        type: gift.type,
        image: { urlList: [`https://example.invalid/gift/${gift.name.toLowerCase().replace(/ /g, '-')}.webp`] },
      },
    });
  }

  private startGift(): DemoMessage {
    const streaking = new Set(this.streaks.map((streak) => streak.viewer));
    const free = this.viewers.filter((viewer) => !streaking.has(viewer));
    const viewer = this.anyViewer(free.length > 0 ? free : this.viewers);
    const gift = this.random.weighted(GIFTS, (spec) => spec.weight);
    // More parallel streaks than this would be unusual for a small room.
    if (gift.type === 1 && this.streaks.length >= MAX_OPEN_STREAKS) return this.continueStreak();
    const groupId = this.freshId();
    if (gift.type === 2) return this.giftMessage(viewer, gift, groupId, 1, 0);
    const length = 1 + Math.floor(this.random.next() ** 2 * gift.maxRepeat);
    if (length === 1) return this.giftMessage(viewer, gift, groupId, 1, 1);
    this.streaks.push({ viewer, gift, groupId, repeatCount: 1, length });
    return this.giftMessage(viewer, gift, groupId, 1, 0);
  }

  private continueStreak(): DemoMessage {
    const index = this.random.int(0, this.streaks.length - 1);
    const streak = this.streaks[index];
    if (!streak) return this.startGift();
    streak.repeatCount += 1;
    const ended = streak.repeatCount >= streak.length;
    if (ended) this.streaks.splice(index, 1);
    return this.giftMessage(streak.viewer, streak.gift, streak.groupId, streak.repeatCount, ended ? 1 : 0);
  }

  private join(): DemoMessage {
    // Viewers also leave; the next viewer count update pulls the count back towards the audience size.
    if (this.random.chance(0.5)) this.viewerCount += 1;
    this.totalUser += 1;
    return this.fromViewer(
      'WebcastMemberMessage',
      this.anyViewer(),
      { action: MEMBER_ACTION_JOINED, memberCount: this.viewerCount },
      { key: JOIN_KEY, defaultPattern: '{0:user} joined' },
    );
  }

  private follow(): DemoMessage {
    const notFollowing = this.viewers.filter((viewer) => viewer.followStatus === 0);
    const viewer = this.anyViewer(notFollowing.length > 0 ? notFollowing : this.viewers);
    if (viewer.followStatus === 0) viewer.followStatus = 1;
    this.hostFollowers += 1;
    return this.fromViewer(
      'WebcastSocialMessage',
      viewer,
      { action: '1', followCount: String(this.hostFollowers) },
      { key: FOLLOW_KEY, defaultPattern: '{0:user} followed the LIVE creator' },
    );
  }

  private share(): DemoMessage {
    return this.fromViewer(
      'WebcastSocialMessage',
      this.anyViewer(),
      { action: '3', shareType: '1' },
      { key: SHARE_KEY, defaultPattern: '{0:user} shared the LIVE' },
    );
  }

  private subscribe(): DemoMessage {
    const viewer = this.anyViewer();
    viewer.subMonths = Math.min(viewer.subMonths + 1, 12);
    return this.fromViewer('WebcastSubNotifyMessage', viewer, { subMonth: String(viewer.subMonths) });
  }

  /** The viewer count jitters by a few percent around an audience size that slowly grows or shrinks. */
  private roomUserSeq(): DemoMessage {
    this.audience = Math.max(10, this.audience * (1 + (this.random.next() - 0.49) * 0.03));
    const jitter = this.viewerCount * (this.random.next() - 0.5) * 0.06;
    const pull = (this.audience - this.viewerCount) * 0.3;
    const before = this.viewerCount;
    this.viewerCount = Math.max(5, Math.round(this.viewerCount + jitter + pull));
    this.totalUser += Math.max(0, this.viewerCount - before) + this.random.int(0, 3);
    const type = 'WebcastRoomUserSeqMessage';
    return { type, data: { common: this.common(type), total: String(this.viewerCount), totalUser: String(this.totalUser) } };
  }
}

/** A synthetic live session, paced at `rate` messages per second. */
export class DemoProvider implements IngestProvider {
  readonly name = 'demo';
  readonly seed: number;
  readonly sessionId: string;
  readonly streamId: string;
  private readonly rate: number;
  private readonly limit: number;
  private readonly now: () => number;
  private readonly sleep: Sleep;

  constructor(options: DemoProviderOptions = {}) {
    const { seed = randomInt(MAX_SEED + 1), rate = DEFAULT_RATE, limit = Infinity } = options;
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)
      throw new RangeError(`seed must be an integer from 0 to ${MAX_SEED}, got ${seed}`);
    if (!(rate > 0) || !Number.isFinite(rate))
      throw new RangeError(`rate must be a positive number of messages per second, got ${rate}`);
    if (limit !== Infinity && (!Number.isInteger(limit) || limit < 0))
      throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
    this.seed = seed;
    this.rate = rate;
    this.limit = limit;
    this.sessionId = options.sessionId ?? randomUUID();
    this.streamId = options.streamId ?? demoRoomId(seed);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
  }

  /** Each call plays the session from its seed again. Aborting ends it without a closing envelope. */
  async *envelopes(signal?: AbortSignal): AsyncGenerator<RawEnvelope> {
    if (signal?.aborted) return;
    const factory = new EnvelopeFactory(this.streamId, this.sessionId, 'live');
    const session = new DemoSession(this.seed, this.streamId);
    const at = (time: number) => ({ timestamp: new Date(time), ingestedAt: new Date(time) });
    yield factory.make('connected', { roomId: this.streamId, isConnected: true, provider: this.name }, at(this.now()));
    const interval = 1000 / this.rate;
    for (let sent = 0; sent < this.limit; sent += 1) {
      if (signal?.aborted || !(await pause(this.sleep, session.nextGap(interval), signal))) return;
      const time = this.now();
      const message = session.next(time);
      yield factory.make(message.type, message.data, at(time));
    }
    if (signal?.aborted) return;
    yield factory.make('disconnected', { reason: 'demo stopped', willReconnect: false, code: 'DEMO_STOPPED' }, at(this.now()));
  }
}
