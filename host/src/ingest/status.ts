/**
 * What the settings page and `/health` show about each followed stream's ingest. `offline`:
 * the user is not live, the provider checks again from time to time; `disconnected`: the
 * connection failed or dropped and the provider is waiting to try again.
 */
export type IngestState = 'connecting' | 'connected' | 'offline' | 'disconnected' | 'stopped';

export interface IngestStatus {
  /** Provider name: `demo`, `direct`, `euler`, `capture`. */
  name: string;
  state: IngestState;
  /** The TikTok user followed, when there is one. */
  user: string | null;
  streamId: string | null;
  sessionId: string | null;
  /** Connections made after the first. */
  reconnects: number;
  /** The last error, in words. */
  lastError: string | null;
}

/** The statuses of one host's providers; a provider updates its own entry. */
export class IngestBoard {
  private readonly entries: IngestStatus[] = [];

  add(initial: Pick<IngestStatus, 'name' | 'user'> & Partial<IngestStatus>): IngestStatus {
    const entry: IngestStatus = { state: 'connecting', streamId: null, sessionId: null, reconnects: 0, lastError: null, ...initial };
    this.entries.push(entry);
    return entry;
  }

  list(): IngestStatus[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  /** The session test events join: the first connected stream's, if any. */
  current(): { streamId: string; sessionId: string } | undefined {
    const live = this.entries.find((entry) => entry.state === 'connected' && entry.streamId && entry.sessionId);
    return live ? { streamId: live.streamId!, sessionId: live.sessionId! } : undefined;
  }
}
