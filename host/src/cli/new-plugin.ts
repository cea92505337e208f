/**
 * `ttlp plugin new <id>`: a plugin folder that builds, runs and passes its own test as generated:
 * manifest, entry, a harness test and the vitest setting the sandbox needs.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PLUGIN_ID_PATTERN } from '@ttlp/sdk/manifest';
import { CommandError, EXIT_USAGE } from './errors.ts';

const displayNameOf = (id: string) => id.split('-').map((word) => word[0]!.toUpperCase() + word.slice(1)).join(' ');

function files(id: string): Record<string, string> {
  const manifest = {
    name: `ttlp-plugin-${id}`,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { test: 'vitest run' },
    devDependencies: { '@ttlp/sdk': '^0.1.0', vitest: '^4.1.12' },
    ttlp: {
      id,
      displayName: displayNameOf(id),
      version: '0.1.0',
      description: 'Thanks every new follower on screen.',
      entry: 'src/index.ts',
      permissions: { events: ['FOLLOW'], kv: true },
      overlayChannels: ['main'],
      config: {
        type: 'object',
        properties: { message: { type: 'string', default: 'Thanks for the follow, {name}!', maxLength: 200 } },
        additionalProperties: false,
      },
    },
  };
  return {
    'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'src/index.ts': `import { definePlugin } from '@ttlp/sdk';

interface Config {
  message: string;
}

export default definePlugin<Config>({
  setup(ctx) {
    ctx.on('FOLLOW', async (event) => {
      const name = event.user.displayName ?? event.user.uniqueId;
      const followers = ((await ctx.kv.get<number>('followers')) ?? 0) + 1;
      await ctx.kv.set('followers', followers);
      await ctx.overlay.send('main', { text: ctx.config.message.replace('{name}', name), followers });
    });
  },
});
`,
    [`test/${id}.test.ts`]: `import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestHost, makeEvent } from '@ttlp/sdk/testing';

const plugin = fileURLToPath(new URL('..', import.meta.url));
const follow = (displayName: string) =>
  makeEvent('FOLLOW', { displayType: 'pm_mt_msg_viewer_follow' }, { user: { displayName } });

describe('${id}', () => {
  it('thanks each new follower and counts them', async () => {
    const host = await createTestHost({ plugin, config: { message: 'Welcome, {name}!' } });
    await host.send(follow('Ada'), follow('Linus'));
    expect(host.messages('main')).toEqual([
      { text: 'Welcome, Ada!', followers: 1 },
      { text: 'Welcome, Linus!', followers: 2 },
    ]);
    expect(host.kv.get('followers')).toBe(2);
    expect(host.faults).toEqual([]);
    await host.close();
  });
});
`,
    'vitest.config.ts': `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    // The plugin runs in an isolated-vm isolate, which needs this flag on Node 20+.
    execArgv: ['--no-node-snapshot'],
  },
});
`,
    'README.md': `# ${displayNameOf(id)}

A tiktok-live-platform plugin. \`src/index.ts\` is the entry; \`package.json\` → \`"ttlp"\` is its
manifest (permissions, overlay channels, settings schema). Test it with \`npm test\`; enable it with
\`ttlp plugin enable ${id} --grant-all\`. The plugin guide (docs/plugin-guide.md in the
tiktok-live-platform repository) explains the SDK.
`,
  };
}

/** Writes the scaffold; returns the folder. Refuses an invalid id or an existing folder. */
export function scaffoldPlugin(id: string, parent: string): string {
  if (!new RegExp(PLUGIN_ID_PATTERN).test(id))
    throw new CommandError(`"${id}" is not a plugin id: use 3-64 lower-case letters, digits and dashes, starting with a letter`, EXIT_USAGE);
  const dir = path.resolve(parent, id);
  if (existsSync(dir)) throw new CommandError(`${dir} already exists`, EXIT_USAGE);
  for (const [name, text] of Object.entries(files(id))) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
