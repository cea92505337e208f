import { describe, expect, it } from 'vitest';
import { Grants, urlGlobPattern } from './permissions.ts';

const matches = (glob: string, url: string) => urlGlobPattern(glob)!.test(new URL(url).href);

describe('URL globs', () => {
  it.each([
    ['https://**', 'https://hooks.example.com/a/b?c=1', true],
    ['https://**', 'http://hooks.example.com/', false],
    ['https://**', 'https://hooks.example.com:8443/', false],
    ['https://*.example.com/**', 'https://api.example.com/v1/x', true],
    ['https://*.example.com/**', 'https://a.b.example.com/v1/x', false],
    ['https://**.example.com/**', 'https://a.b.example.com/v1/x', true],
    ['https://**.example.com/**', 'https://evil.com/x.example.com/y', false],
    ['https://api.example.com/v1/*', 'https://api.example.com/v1/items', true],
    ['https://api.example.com/v1/*', 'https://api.example.com/v1/items/2', false],
    ['https://api.example.com', 'https://api.example.com/', true],
    ['https://api.example.com', 'https://api.example.com/x', false],
    ['https://api.example.com/**', 'https://api.example.com.evil.net/', false],
    ['http://192.168.1.5:8123/api/**', 'http://192.168.1.5:8123/api/states', true],
  ])('%s against %s: %s', (glob, url, expected) => {
    expect(matches(glob, url)).toBe(expected);
  });

  it('gives exact origins only for globs without a wildcard in the host', () => {
    const grants = new Grants(['http:https://**', 'http:http://192.168.1.5:8123/api/**', 'http:https://*.example.com/**']);
    expect([...grants.exactOrigins()]).toEqual(['http://192.168.1.5:8123']);
  });
});
