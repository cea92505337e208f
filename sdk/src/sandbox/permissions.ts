/**
 * Granted permissions, checked host-side in the functions that serve a plugin's calls.
 * Grants are the strings of `requestedPermissions`: `events:<TYPE>`, `overlay:<channel>`,
 * `http:<url glob>`, `kv`.
 */
import type { EventType } from '../contract/constants.ts';

export class Grants {
  private readonly events = new Set<string>();
  private readonly channels = new Set<string>();
  private readonly urls: Array<{ glob: string; pattern: RegExp; exactOrigin: string | undefined }> = [];
  readonly kv: boolean;

  constructor(readonly granted: readonly string[]) {
    for (const grant of granted) {
      const [kind, ...rest] = grant.split(':');
      const value = rest.join(':');
      if (kind === 'events') this.events.add(value);
      else if (kind === 'overlay') this.channels.add(value);
      else if (kind === 'http') {
        const pattern = urlGlobPattern(value);
        if (pattern) this.urls.push({ glob: value, pattern, exactOrigin: exactOrigin(value) });
      }
    }
    this.kv = granted.includes('kv');
  }

  receives(eventType: EventType | string): boolean {
    return this.events.has('*') || this.events.has(eventType);
  }

  writes(channel: string): boolean {
    return this.channels.has(channel);
  }

  /** The grant that allows fetching `url`, if any. */
  fetchGrant(url: URL): { glob: string; exactOrigin: string | undefined } | undefined {
    return this.urls.find((entry) => entry.pattern.test(url.href));
  }

  /** Origins granted without wildcards: the only ones that may be private addresses. */
  exactOrigins(): Set<string> {
    return new Set(this.urls.flatMap((entry) => (entry.exactOrigin ? [entry.exactOrigin] : [])));
  }
}

const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/**
 * `https://*.example.com/hooks/**`: in the host, `*` is one label and `**` any number of them;
 * in the path, `*` stays within a segment and `**` matches anything. A glob without a path allows
 * the origin's root only, unless its host ends in `**` (`https://**` is every https URL on the
 * default port).
 */
export function urlGlobPattern(glob: string): RegExp | undefined {
  const match = /^(https?):\/\/([^/?#]+)(.*)$/i.exec(glob);
  if (!match) return undefined;
  const [, scheme, host, rest] = match as unknown as [string, string, string, string];
  const hostPattern = host
    .toLowerCase()
    .split('**')
    .map((part) => part.split('*').map(escape).join('[a-z0-9-]*'))
    .join('[a-z0-9.-]*');
  const path = rest === '' ? (host.endsWith('**') ? '/**' : '/') : rest;
  const pathPattern = path
    .split('**')
    .map((part) => part.split('*').map(escape).join('[^/?#]*'))
    .join('.*');
  return new RegExp(`^${scheme.toLowerCase()}://${hostPattern}${pathPattern}$`);
}

function exactOrigin(glob: string): string | undefined {
  const match = /^(https?:\/\/[^/?#*]+)(?:[/?#].*)?$/i.exec(glob);
  if (!match) return undefined;
  try {
    return new URL(match[1]!).origin;
  } catch {
    return undefined;
  }
}
