import type { ChatMessage } from './chat-message.ts';

/**
 * The host refuses an overlay state larger than its overlay limit (64 KiB by default; the SDK does
 * not tell a plugin its value), and one chat message with emotes can take several KiB.
 */
export const STATE_MAX_BYTES = 64 * 1024;

/** `{"messages":[]}`: what the state adds around its messages. */
const STATE_WRAPPER_BYTES = 15;

/** The newest chat messages: at most `maxMessages`, and no more than fit into `maxBytes` as state JSON. */
export class ChatFeed {
  private readonly entries: Array<{ message: ChatMessage; bytes: number }> = [];
  private messageBytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number = STATE_MAX_BYTES,
  ) {}

  add(message: ChatMessage): void {
    const bytes = utf8Length(JSON.stringify(message));
    this.entries.push({ message, bytes });
    this.messageBytes += bytes;
    while (this.entries.length > this.maxMessages || this.stateBytes() > this.maxBytes) this.messageBytes -= this.entries.shift()!.bytes;
  }

  get messages(): ChatMessage[] {
    return this.entries.map((entry) => entry.message);
  }

  /** Size of `{"messages":[…]}`: the messages, the commas between them and the wrapper. */
  private stateBytes(): number {
    return STATE_WRAPPER_BYTES + this.messageBytes + Math.max(0, this.entries.length - 1);
  }
}

/** Bytes of `text` in UTF-8 (the isolate has no TextEncoder or Buffer). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}
