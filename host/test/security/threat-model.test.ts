/**
 * docs/threat-model.md stays true to the code: every test it names as a proof exists in the file
 * it names, and every repository path it mentions exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/captures.ts';

const doc = readFileSync(path.join(repoRoot, 'docs/threat-model.md'), 'utf8');

/** `file.test.ts` — *test name* */
const proofs = [...doc.matchAll(/`([\w./-]+\.test\.ts)` — \*([^*]+)\*/g)].map((match) => ({ file: match[1]!, name: match[2]! }));

describe('the threat model', () => {
  it('names tests that exist, in the files it names', () => {
    expect(proofs.length).toBeGreaterThan(60);
    const missing = proofs.filter(({ file, name }) => {
      const source = path.join(repoRoot, file);
      return !existsSync(source) || !readFileSync(source, 'utf8').includes(name);
    });
    expect(missing).toEqual([]);
  });

  it('mentions only repository paths that exist', () => {
    const paths = [...doc.matchAll(/`((?:host|sdk|plugins|overlays|docs|drizzle)\/[\w./-]+)`/g)].map((match) => match[1]!);
    expect(paths.filter((mentioned) => !existsSync(path.join(repoRoot, mentioned)))).toEqual([]);
  });

  it('gives every threat a status', () => {
    const sections = doc.split(/\n### /).slice(1);
    expect(sections.length).toBeGreaterThan(20);
    for (const section of sections) expect(section, section.split('\n')[0]).toMatch(/\*\*Status\*\*: /);
  });
});
