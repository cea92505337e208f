#!/usr/bin/env -S node --no-node-snapshot
// The ttlp command: runs the TypeScript sources through tsx's loader (nothing to build first).
// Plugin sandboxes (isolated-vm) need Node's --no-node-snapshot; when the command was started
// without it (`node host/bin/ttlp.js`, a shim that drops shebang flags), it runs itself again with it.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

if (!process.execArgv.includes('--no-node-snapshot')) {
  const child = spawn(process.execPath, ['--no-node-snapshot', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // Ctrl+C reaches the child from the terminal; signals sent to this process alone are passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  // Killed by a signal: the shell convention, 128 + its number.
  child.on('exit', (code, signal) => process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv);
}
