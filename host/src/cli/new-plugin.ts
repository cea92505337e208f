/**
 * `ttlp plugin new <id>`: a plugin folder that installs, type-checks and passes its own test as
 * generated, inside this installation or anywhere else: manifest, entry, a harness test, the vitest
 * setting the sandbox needs and a strict tsconfig.
 *
 * `@ttlp/sdk` is not on npm. The plugin depends on the SDK of the installation that created it
 * through a `file:` link, so the SDK's own dependencies (isolated-vm's native build, esbuild) are
 * the ones already installed here; vitest, TypeScript and Node's types come from npm.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGIN_ID_PATTERN } from '@ttlp/sdk/manifest';
import { CommandError, EXIT_USAGE } from './errors.ts';

/** The ttlp installation this command belongs to. */
export const INSTALLATION_ROOT = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)));
/** Its SDK folder, which the plugins it creates link to. */
export const SDK_DIR = path.join(INSTALLATION_ROOT, 'sdk');

/** What a plugin's test needs from npm besides the SDK. */
const TEST_TOOLS = ['@types/node', 'typescript', 'vitest'] as const;
/** The DOM a widget's test runs in (vitest's `happy-dom` environment). */
const WIDGET_TEST_DOM = { 'happy-dom': '^21.0.4' } as const;

export interface ScaffoldOptions {
  /** Adds a widget: its manifest entry, `src/widget.ts`, the message type both share and a widget test. */
  widget?: boolean;
}

/**
 * The installation's own compiler settings: the plugin type-checks the SDK's TypeScript sources
 * along with its own files, and they are written to pass exactly these.
 */
export const PLUGIN_TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    noFallthroughCasesInSwitch: true,
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    resolveJsonModule: true,
    isolatedModules: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  },
  include: ['src', 'test', 'vitest.config.ts'],
};

/** The versions of the test tools this installation tests with, from its package.json. */
function testToolVersions(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(path.join(INSTALLATION_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  return Object.fromEntries(
    TEST_TOOLS.map((name) => {
      const version = manifest.devDependencies?.[name];
      if (!version) throw new Error(`${INSTALLATION_ROOT}/package.json names no version of ${name}`);
      return [name, version];
    }),
  );
}

const displayNameOf = (id: string) => id.split('-').map((word) => word[0]!.toUpperCase() + word.slice(1)).join(' ');

/** A path as one shell word. */
const shellWord = (text: string) => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`);

/** The plugin: it thanks each new follower; with a widget, in the message type the widget reads. */
function pluginSource(widget: boolean): string {
  return `import { definePlugin } from '@ttlp/sdk';
${widget ? "import type { MainMessage } from './messages.ts';\n" : ''}
interface Config {
  message: string;
}

export default definePlugin<Config>({
  setup(ctx) {
    ctx.on('FOLLOW', async (event) => {
      const name = event.user.displayName ?? event.user.uniqueId;
      const followers = ((await ctx.kv.get<number>('followers')) ?? 0) + 1;
      await ctx.kv.set('followers', followers);
      await ctx.overlay.send('main', { text: ctx.config.message.replace('{name}', name), followers }${widget ? ' satisfies MainMessage' : ''});
    });
  },
});
`;
}

function files(id: string, { widget = false }: ScaffoldOptions): Record<string, string> {
  const manifest = {
    name: `ttlp-plugin-${id}`,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { test: 'tsc && vitest run' },
    devDependencies: { '@ttlp/sdk': `file:${SDK_DIR}`, ...testToolVersions(), ...(widget ? WIDGET_TEST_DOM : {}) },
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
      ...(widget ? { widgets: [WIDGET_MANIFEST(id)] } : {}),
    },
  };
  const tsconfig = widget ? { ...PLUGIN_TSCONFIG, compilerOptions: { ...PLUGIN_TSCONFIG.compilerOptions, lib: ['ES2023', 'DOM', 'DOM.Iterable'] } } : PLUGIN_TSCONFIG;
  return {
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    '.gitignore': 'node_modules/\n',
    ...(widget ? widgetFiles(id) : {}),
    'src/index.ts': pluginSource(widget),
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
manifest (permissions, overlay channels, settings schema). \`npm install\`, then \`npm test\`
type-checks it and runs its tests. \`@ttlp/sdk\` is linked from the ttlp installation that created
this folder (${SDK_DIR}). The plugin guide (docs/plugin-guide.md in the tiktok-live-platform
repository) explains the SDK and how to enable the plugin.
`,
    // Last: the manifest makes the folder a plugin, so a host watching PLUGINS_DIR sees it complete.
    'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
  };
}

/** Writes the scaffold; returns the folder. Refuses an invalid id or an existing folder. */
export function scaffoldPlugin(id: string, parent: string, options: ScaffoldOptions = {}): string {
  if (!new RegExp(PLUGIN_ID_PATTERN).test(id))
    throw new CommandError(`"${id}" is not a plugin id: use 3-64 lower-case letters, digits and dashes, starting with a letter`, EXIT_USAGE);
  const dir = path.resolve(parent, id);
  if (existsSync(dir)) throw new CommandError(`${dir} already exists`, EXIT_USAGE);
  for (const [name, text] of Object.entries(files(id, options))) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/**
 * What `ttlp plugin new` prints: the commands that test the new plugin and run it in the host. A
 * plugin outside the host's plugins folder (`pluginsDir`) is named with `--plugins-dir`.
 */
export function nextSteps(id: string, dir: string, pluginsDir: string): string {
  const parent = path.dirname(dir);
  const pluginsDirOption = parent === path.resolve(pluginsDir) ? '' : ` --plugins-dir ${shellWord(parent)}`;
  return [
    `created ${dir}`,
    'test it:',
    `  cd ${shellWord(dir)}`,
    `  npm install    # vitest and TypeScript from npm; @ttlp/sdk linked from ${SDK_DIR}`,
    '  npm test       # type-checks, then runs the tests',
    `run it in the host, from ${INSTALLATION_ROOT}:`,
    `  npx ttlp plugin enable ${id} --grant-all${pluginsDirOption}`,
    `  npx ttlp start${pluginsDirOption}`,
  ].join('\n');
}

// ---- the widget of `--widget` -------------------------------------------------------------------

const WIDGET_MANIFEST = (id: string) => ({
  id: 'main',
  displayName: displayNameOf(id),
  entry: 'src/widget.ts',
  channels: ['main'],
  size: { width: 1920, height: 1080 },
  options: {
    type: 'object',
    properties: {
      color: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$', default: '#ffffff' },
      fontSize: { type: 'integer', minimum: 12, maximum: 160, default: 56 },
      showMs: { type: 'integer', minimum: 500, maximum: 60000, default: 5000 },
    },
  },
});


function widgetFiles(id: string): Record<string, string> {
  return {
    'src/messages.ts': `/** What the plugin sends on its \`main\` channel, and what its widget shows. */
export interface MainMessage {
  text: string;
  followers: number;
}
`,
    'src/widget.ts': `import { openWidget } from '@ttlp/sdk/widget';
import type { MainMessage } from './messages.ts';

interface Options {
  color: string;
  fontSize: number;
  showMs: number;
}

/** Each message as a banner at the bottom of the scene, for \`showMs\`; a newer one replaces it. */
const widget = openWidget<{ main: MainMessage }, Options>();
const style = document.createElement('style');
style.textContent = \`
  .banner { position: absolute; left: 50%; bottom: 12%; transform: translateX(-50%); padding: 0.4em 1em;
    border-radius: 0.5em; background: #000a; font: 700 \${widget.options.fontSize}px system-ui, sans-serif;
    color: \${widget.options.color}; white-space: nowrap; transition: opacity 300ms; }
  .banner.gone { opacity: 0; }
\`;
document.head.append(style);

let hide: ReturnType<typeof setTimeout> | undefined;
widget.onMessage('main', (message) => {
  const banner = document.createElement('div');
  banner.className = 'banner';
  banner.textContent = message.text;
  widget.root.replaceChildren(banner);
  clearTimeout(hide);
  hide = setTimeout(() => banner.classList.add('gone'), widget.options.showMs);
});
`,
    'test/widget.test.ts': `// @vitest-environment happy-dom
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { createTestHost, makeEvent } from '@ttlp/sdk/testing';
import { openWidgetPage } from '@ttlp/sdk/widget/testing';

// (Not with \`new URL\`: in a DOM environment that is the DOM's URL, which has no file paths.)
const plugin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

it('shows what the plugin sends, in the options of its URL', async () => {
  // What the plugin sends for two follows, recorded by the test host…
  const host = await createTestHost({ plugin });
  await host.send(
    makeEvent('FOLLOW', { displayType: 'pm_mt_msg_viewer_follow' }, { user: { displayName: 'Ada' } }),
    makeEvent('FOLLOW', { displayType: 'pm_mt_msg_viewer_follow' }, { user: { displayName: 'Linus' } }),
  );
  await host.close();

  // …played to the widget on a page like the one the host serves.
  const page = await openWidgetPage({ pluginId: '${id}', options: { color: '#ffd400', fontSize: 40, showMs: 5000 } });
  await import('../src/widget.ts');
  await page.connected();
  for (const message of host.messages('main')) await page.send('main', message);

  const banner = document.querySelector<HTMLElement>('.banner');
  expect(banner?.textContent).toBe('Thanks for the follow, Linus!');
  expect(document.querySelectorAll('.banner')).toHaveLength(1);
  page.close();
});
`,
  };
}
