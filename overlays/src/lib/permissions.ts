/** A plugin permission string (`events:<TYPE>`, `overlay:<channel>`, `http:<url glob>`, `kv`) in plain words. */
export function describePermission(permission: string): string {
  if (permission === 'kv') return 'store its own data';
  const colon = permission.indexOf(':');
  if (colon < 0) return permission;
  const kind = permission.slice(0, colon);
  const value = permission.slice(colon + 1);
  if (kind === 'events') return value === '*' ? 'receive all events' : `receive ${value} events`;
  if (kind === 'overlay') return `show things on overlay channel ${value}`;
  if (kind === 'http') return `make web requests to ${value}`;
  return permission;
}
