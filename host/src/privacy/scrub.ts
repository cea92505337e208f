/**
 * Pseudonymization of JSON whose shape the host does not own: the decoded Webcast message kept in
 * a RAW event's `payload.data` (D-010) and the values plugins keep in `plugin_kv`. The typed parts
 * of events are rewritten in SQL (pseudonymize.ts); this walks everything else, in two passes:
 * `discoverIdentity` finds the handles, nicknames and avatar URLs the people carry in these
 * documents, then `scrubDocument` rewrites the documents once all their pseudonyms are known.
 *
 * What counts as a person here:
 * - a *user object*: an object with a user-id key (`id`, `idStr`, `userId`, `uid`, `user_id`)
 *   holding one of their TikTok ids. It becomes a stub: id keys → the pseudonym, handle keys
 *   (`uniqueId`, `displayId`, `…DisplayId`, `username`…) → the handle's pseudonym, numbers,
 *   decimal strings and booleans kept (scores, ranks, flags), every other string (nickname,
 *   secUid, bio) and every nested object or array (avatars, badges, follow info) dropped, unless
 *   it holds someone else's user object, which is kept and walked;
 * - their text: the `content` of an object whose `user`/`sender`/`author`/`fromUser` is their
 *   user object (a chat embedded in a pin, a question), and the `payload.message` of a stored CHAT
 *   UnifiedEvent of theirs, become `REMOVED_TEXT`;
 * - any other string: exactly one of their ids or handles (also `@handle`) → the pseudonym,
 *   exactly one of their nicknames or avatar URLs → null; inside longer text their ids (between
 *   non-digits), handles (between non-handle characters, any case), nicknames of three characters
 *   or more (between non-letters) and avatar URLs are replaced; JSON held in a string as
 *   JSON.stringify writes it (a webhook body) is parsed, scrubbed by these rules and written back;
 * - object keys equal to one of their ids (maps keyed by user id) → the pseudonym.
 * Someone else's user object keeps every string except an exact id of the people being erased, so
 * another user who shares a nickname with them is left alone.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const REMOVED_TEXT = '[removed]';

/** What the pseudonymized people are known by, and what replaces it. */
export interface ErasedPeople {
  /** TikTok user id → its pseudonym. */
  ids: ReadonlyMap<string, string>;
  /** Handle (without @) → its pseudonym. */
  handles: ReadonlyMap<string, string>;
  /** Nicknames: removed where they stand alone, replaced in text. */
  nicknames: ReadonlySet<string>;
  /** Avatar URLs and other opaque profile strings (secUid): removed wherever they occur. */
  profileStrings: ReadonlySet<string>;
  /** Their own words (chat text) become `REMOVED_TEXT`. */
  removeContent: boolean;
}

export interface DiscoveredIdentity {
  handles: Set<string>;
  nicknames: Set<string>;
  profileStrings: Set<string>;
}

const USER_ID_KEYS = new Set(['id', 'idstr', 'userid', 'uid', 'useridstr']);
const AUTHOR_KEYS = new Set(['user', 'sender', 'author', 'fromuser']);
const MIN_NICKNAME_IN_TEXT = 3;
const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;

const normalizedKey = (key: string) => key.toLowerCase().replaceAll('_', '');
const isHandleKey = (key: string) => {
  const normalized = normalizedKey(key);
  return normalized.endsWith('uniqueid') || normalized.endsWith('displayid') || normalized === 'username' || normalized === 'sendusername';
};
const isNicknameKey = (key: string) => {
  const normalized = normalizedKey(key);
  return normalized.includes('nickname') || normalized === 'displayname';
};
const isProfileKey = (key: string) => {
  const normalized = normalizedKey(key);
  return normalized.includes('avatar') || normalized.includes('secuid') || normalized.includes('profilepic');
};

/** Assignment would treat a `__proto__` key from JSON.parse as the prototype. */
function put(object: JsonObject, key: string, value: Json): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

const isObject = (value: Json): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function idText(value: Json): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return undefined;
}

/** The erased id this object is the user object of, if any. */
function erasedIdOf(object: JsonObject, ids: ReadonlyMap<string, string> | ReadonlySet<string>): string | undefined {
  for (const [key, value] of Object.entries(object)) {
    if (!USER_ID_KEYS.has(normalizedKey(key))) continue;
    const id = idText(value);
    if (id !== undefined && ids.has(id)) return id;
  }
  return undefined;
}

/** Someone else's user object: a user id that is not erased, next to a handle, nickname or avatar. */
function isOtherUser(object: JsonObject, ids: ReadonlyMap<string, string>): boolean {
  let foreignId = false;
  let profile = false;
  for (const [key, value] of Object.entries(object)) {
    if (USER_ID_KEYS.has(normalizedKey(key))) {
      const id = idText(value);
      if (id !== undefined && id !== '' && !ids.has(id)) foreignId = true;
    } else if (isHandleKey(key) || isNicknameKey(key) || isProfileKey(key)) profile = true;
  }
  return foreignId && profile;
}

function holdsOtherUser(value: Json, ids: ReadonlyMap<string, string>): boolean {
  if (Array.isArray(value)) return value.some((item) => holdsOtherUser(item, ids));
  if (!isObject(value)) return false;
  return isOtherUser(value, ids) || Object.values(value).some((item) => holdsOtherUser(item, ids));
}

function parseEmbeddedJson(text: string): Json | undefined {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/** First pass: the handles, nicknames and profile strings carried by the user objects of `ids`. */
export function discoverIdentity(document: Json, ids: ReadonlySet<string>, found: DiscoveredIdentity): DiscoveredIdentity {
  const collectProfile = (value: Json) => {
    if (typeof value === 'string') {
      if (value.includes('/')) found.profileStrings.add(value);
    } else if (Array.isArray(value)) value.forEach(collectProfile);
    else if (isObject(value)) Object.values(value).forEach(collectProfile);
  };
  const visit = (value: Json): void => {
    if (typeof value === 'string') {
      const embedded = parseEmbeddedJson(value);
      if (embedded !== undefined) visit(embedded);
      return;
    }
    if (Array.isArray(value)) return value.forEach(visit);
    if (!isObject(value)) return;
    if (erasedIdOf(value, ids) !== undefined)
      for (const [key, item] of Object.entries(value)) {
        if (typeof item === 'string' && item !== '') {
          if (isHandleKey(key)) found.handles.add(item.replace(/^@/, ''));
          else if (isNicknameKey(key)) found.nicknames.add(item);
          else if (normalizedKey(key).includes('secuid')) found.profileStrings.add(item);
        }
        if (isProfileKey(key)) collectProfile(item);
      }
    Object.values(value).forEach(visit);
  };
  visit(document);
  return found;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const alternation = (texts: Iterable<string>) =>
  [...texts]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|');

interface TextRules {
  ids?: RegExp;
  handles?: RegExp;
  nicknames?: RegExp;
  profileStrings?: RegExp;
  handleByLowercase: Map<string, string>;
}

function textRules(people: ErasedPeople): TextRules {
  const ids = [...people.ids.keys()].filter((id) => id !== '');
  const handles = [...people.handles.keys()].filter((handle) => handle !== '');
  const nicknames = [...people.nicknames].filter((name) => [...name].length >= MIN_NICKNAME_IN_TEXT);
  const profileStrings = [...people.profileStrings].filter((text) => text !== '');
  return {
    ids: ids.length ? new RegExp(`(?<![0-9])(?:${alternation(ids)})(?![0-9])`, 'g') : undefined,
    handles: handles.length ? new RegExp(`(?<![A-Za-z0-9_.])(@?)(${alternation(handles)})(?![A-Za-z0-9_])`, 'gi') : undefined,
    nicknames: nicknames.length ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternation(nicknames)})(?![\\p{L}\\p{N}])`, 'gu') : undefined,
    profileStrings: profileStrings.length ? new RegExp(alternation(profileStrings), 'g') : undefined,
    handleByLowercase: new Map(handles.map((handle) => [handle.toLowerCase(), people.handles.get(handle)!])),
  };
}

/** Second pass: `document` with the people pseudonymized; the very same value when nothing changed. */
export function scrubDocument(document: Json, people: ErasedPeople): Json {
  const rules = textRules(people);

  const replaceInText = (text: string): string => {
    let result = text;
    if (rules.ids) result = result.replace(rules.ids, (id) => people.ids.get(id) ?? id);
    if (rules.profileStrings) result = result.replace(rules.profileStrings, REMOVED_TEXT);
    if (rules.handles)
      result = result.replace(rules.handles, (whole, at: string, handle: string) => {
        const pseudonym = rules.handleByLowercase.get(handle.toLowerCase());
        return pseudonym === undefined ? whole : `${at}${pseudonym}`;
      });
    if (rules.nicknames) result = result.replace(rules.nicknames, REMOVED_TEXT);
    return result;
  };

  const scrubText = (text: string): Json => {
    const exact = people.ids.get(text) ?? people.handles.get(text);
    if (exact !== undefined) return exact;
    if (text.startsWith('@') && people.handles.has(text.slice(1))) return `@${people.handles.get(text.slice(1))}`;
    if (people.nicknames.has(text) || people.profileStrings.has(text)) return null;
    const embedded = parseEmbeddedJson(text);
    // Only JSON that JSON.stringify wrote is rewritten whole: elsewhere a 64-bit number would lose digits.
    if (embedded !== undefined && JSON.stringify(embedded) === text) {
      const scrubbed = scrub(embedded);
      return scrubbed === embedded ? text : JSON.stringify(scrubbed);
    }
    return replaceInText(text);
  };

  const scrubArray = (array: Json[]): Json[] => {
    const items = array.map(scrub);
    return items.every((item, i) => item === array[i]) ? array : items;
  };

  const stub = (object: JsonObject): JsonObject => {
    const result: JsonObject = {};
    for (const [key, value] of Object.entries(object)) {
      const name = people.ids.get(key) ?? key;
      const id = idText(value);
      if (USER_ID_KEYS.has(normalizedKey(key)) && id !== undefined && people.ids.has(id)) put(result, name, people.ids.get(id)!);
      else if (isHandleKey(key) && typeof value === 'string') {
        const handle = value.replace(/^@/, '');
        const pseudonym = handle === '' ? '' : people.handles.get(handle);
        if (pseudonym !== undefined) put(result, name, value.startsWith('@') ? `@${pseudonym}` : pseudonym);
      } else if (value === null || typeof value === 'number' || typeof value === 'boolean') put(result, name, value);
      // Protobuf's 64-bit numbers arrive as decimal strings: a score or a rank, unless it is an erased id.
      else if (typeof value === 'string' && DECIMAL.test(value)) put(result, name, people.ids.get(value) ?? value);
      else if (typeof value === 'object' && holdsOtherUser(value, people.ids)) put(result, name, scrub(value));
    }
    return result;
  };

  /** Someone else's user object: only an exact erased id (a `toUserId`) and nested documents change. */
  const otherUser = (object: JsonObject): JsonObject => {
    let changed = false;
    const result: JsonObject = {};
    for (const [key, value] of Object.entries(object)) {
      const name = people.ids.get(key) ?? key;
      const scrubbed = typeof value === 'string' ? (people.ids.get(value) ?? value) : typeof value === 'object' ? scrub(value) : value;
      if (name !== key || scrubbed !== value) changed = true;
      put(result, name, scrubbed);
    }
    return changed ? result : object;
  };

  const authoredByErased = (object: JsonObject): boolean =>
    Object.entries(object).some(
      ([key, value]) => AUTHOR_KEYS.has(normalizedKey(key)) && isObject(value) && erasedIdOf(value, people.ids) !== undefined,
    );

  const scrubObject = (object: JsonObject): JsonObject => {
    if (erasedIdOf(object, people.ids) !== undefined) return stub(object);
    if (isOtherUser(object, people.ids)) return otherUser(object);
    const authored = people.removeContent && authoredByErased(object);
    let changed = false;
    const result: JsonObject = {};
    for (const [key, value] of Object.entries(object)) {
      const name = people.ids.get(key) ?? key;
      let scrubbed = scrub(value);
      if (authored && key === 'content' && typeof value === 'string') scrubbed = REMOVED_TEXT;
      if (authored && key === 'payload' && object.eventType === 'CHAT' && isObject(scrubbed) && typeof scrubbed.message === 'string')
        scrubbed = { ...scrubbed, message: REMOVED_TEXT };
      if (name !== key || scrubbed !== value) changed = true;
      put(result, name, scrubbed);
    }
    return changed ? result : object;
  };

  function scrub(value: Json): Json {
    if (typeof value === 'string') return scrubText(value);
    if (typeof value === 'number') return people.ids.get(String(value)) ?? value;
    if (Array.isArray(value)) return scrubArray(value);
    if (isObject(value)) return scrubObject(value);
    return value;
  }

  return scrub(document);
}
