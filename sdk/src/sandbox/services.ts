/** What the host (or the test harness) provides a plugin's sandbox, and what a run of the plugin is. */
import type { Json } from '../plugin.ts';
import type { Grants } from './permissions.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the plugin's current run is about, for the services (the actions log names the event). */
export interface RunInfo {
  kind: 'setup' | 'event' | 'timer';
  eventId?: string;
}

export interface HttpCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the host (or the test harness) does for a plugin once its permissions were checked. */
export interface SandboxServices {
  overlay(channel: string, data: Json, kind: 'message' | 'state', run: RunInfo): void;
  log(level: LogLevel, message: string, fields: Record<string, Json> | undefined, run: RunInfo): void;
  kvGet(key: string, run: RunInfo): Promise<Json | undefined>;
  kvSet(key: string, value: Json, run: RunInfo): Promise<void>;
  kvDelete(key: string, run: RunInfo): Promise<void>;
  fetch(call: HttpCall, grants: Grants, run: RunInfo): Promise<HttpAnswer>;
}
