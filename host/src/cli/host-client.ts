/**
 * The running host's HTTP API as a `ttlp` command on the same machine calls it, with the access
 * the host published (api/local-access.ts): JSON in and out, the host's local token as bearer,
 * and the API's errors as command errors carrying its own message.
 */
import type { ApiErrorBody } from '@ttlp/sdk/host-contract';
import type { LocalAccess } from '../api/local-access.ts';
import { errorSummary } from '../error-summary.ts';
import { CommandError, EXIT_FAILURE, EXIT_USAGE } from './errors.ts';

/** Nothing listens at the host's URL any more: it stopped (or crashed) and its access file outlived it. */
export class HostGone extends Error {
  constructor(access: LocalAccess) {
    super(`no host answers at ${access.url}`);
    this.name = 'HostGone';
  }
}

/** True when the connection was refused: nothing was sent, so doing the work elsewhere is safe. */
function refused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } }).cause;
  return cause?.code === 'ECONNREFUSED' || (cause?.errors ?? []).some((inner) => inner.code === 'ECONNREFUSED');
}

export class HostClient {
  constructor(readonly access: LocalAccess) {}

  /** Where the commands go, for messages: `the running host (pid N, http://…)`. */
  get name(): string {
    return `the running host (pid ${this.access.pid}, ${this.access.url})`;
  }

  get<T>(route: string): Promise<T> {
    return this.request('GET', route);
  }

  post<T>(route: string, body: unknown = {}): Promise<T> {
    return this.request('POST', route, body);
  }

  put<T>(route: string, body: unknown): Promise<T> {
    return this.request('PUT', route, body);
  }

  private async request<T>(method: string, route: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(route, this.access.url), {
        method,
        headers: { authorization: `Bearer ${this.access.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (refused(error)) throw new HostGone(this.access);
      throw new CommandError(`${this.name} did not answer: ${errorSummary(error)}`);
    }
    const text = await response.text();
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new CommandError(`${this.name} answered ${method} ${route} with HTTP ${response.status} and no JSON`);
    }
    if (response.ok) return answer as T;
    throw this.failure(response.status, answer as Partial<ApiErrorBody>);
  }

  /** An error answer as the command error the same failure on the store gives. */
  private failure(status: number, error: Partial<ApiErrorBody>): CommandError {
    const problems = error.problems?.length ? `\n  - ${error.problems.join('\n  - ')}` : '';
    const message = `${error.message ?? `HTTP ${status}`}${problems}`;
    if (status === 401 || status === 403) return new CommandError(`${this.name} refused this command (${message}); restart it, or stop it and run the command again`);
    if (status >= 500) return new CommandError(`${this.name} failed: ${message}`, EXIT_FAILURE);
    return new CommandError(message, EXIT_USAGE);
  }
}
