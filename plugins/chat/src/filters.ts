import type { EventUser } from '@ttlp/sdk';

export interface ChatFilterSettings {
  ignoreCommands: boolean;
  commandPrefix: string;
  minFollowRole: 0 | 1 | 2;
  blockedWords: readonly string[];
}

/** Whether a chat message from `user` with `text` belongs in the chat box. */
export function chatFilter(settings: ChatFilterSettings): (user: EventUser, text: string) => boolean {
  const hasBlockedWord = blockedWordMatcher(settings.blockedWords);
  return (user, text) => {
    if (settings.ignoreCommands && text.trimStart().startsWith(settings.commandPrefix)) return false;
    // A missing followRole means 0, not following.
    if ((user.followRole ?? 0) < settings.minFollowRole) return false;
    return !hasBlockedWord(text);
  };
}

// Letters, marks and digits of any script: `\b` only knows ASCII and would split "żółw" or match inside it.
const WORD_CHAR = '[\\p{L}\\p{M}\\p{N}_]';

/**
 * Tests a text for any of `words` as a whole word (or phrase), ignoring case. The words are matched
 * literally: regular expression characters in them are escaped.
 */
export function blockedWordMatcher(words: readonly string[]): (text: string) => boolean {
  const literals = words.map((word) => word.trim()).filter((word) => word !== '');
  if (literals.length === 0) return () => false;
  const alternatives = literals.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const pattern = new RegExp(`(?<!${WORD_CHAR})(?:${alternatives})(?!${WORD_CHAR})`, 'iu');
  return (text) => pattern.test(text);
}
