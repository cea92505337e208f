/** The code blocks of docs/plugin-guide.md, as the tests that run the guide's examples read them. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './captures.ts';

export function readGuide(): string {
  return readFileSync(path.join(repoRoot, 'docs/plugin-guide.md'), 'utf8');
}

/** The code block that follows "`file`:" in the guide (the first one after `from`, when given). */
export function blockAfter(guide: string, file: string, from = ''): string {
  const start = guide.indexOf(`\`${file}\`:`, guide.indexOf(from));
  if (start < 0) throw new Error(`the guide does not name ${file}${from ? ` after "${from}"` : ''}`);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(guide.slice(start));
  if (!match) throw new Error(`no code block after ${file}`);
  return match[1]!;
}

/** The first JSON block after `heading`: a fragment like `"widgets": [...]`, read as the object it would be a member of. */
export function jsonFragmentAfter(guide: string, heading: string): Record<string, unknown> {
  const match = /```json\n([\s\S]*?)```/.exec(guide.slice(guide.indexOf(heading)));
  if (!match) throw new Error(`no JSON block after "${heading}"`);
  return JSON.parse(`{${match[1]!}}`) as Record<string, unknown>;
}

/**
 * The guide's top-chatter plugin with its widget, written into `dir` as the guide prints it: its
 * manifest with the widget declared, the plugin, the shared state type and the widget.
 */
export function writeGuideWidgetPlugin(dir: string, guide = readGuide()): void {
  const packageJson = JSON.parse(blockAfter(guide, 'package.json')) as { ttlp: Record<string, unknown> };
  Object.assign(packageJson.ttlp, jsonFragmentAfter(guide, '## 7. Show it on stream'));
  const files: Record<string, string> = {
    'package.json': JSON.stringify(packageJson, null, 2),
    'src/index.ts': blockAfter(guide, 'src/index.ts'),
    'src/state.ts': blockAfter(guide, 'src/state.ts'),
    'src/widget.ts': blockAfter(guide, 'src/widget.ts'),
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}
