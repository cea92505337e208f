/** A process a test started ends with that test, even one that timed out: nothing of it runs into the next test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { endWithTest } from './ttlp-process.ts';

describe('endWithTest', () => {
  let child: ChildProcess | undefined;

  // Never finishes, so it times out however busy the machine is.
  it.fails('a test that times out while its process runs…', { timeout: 500 }, async () => {
    child = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)'], { stdio: 'ignore' });
    endWithTest(child);
    await new Promise(() => undefined);
  });

  it('…has had that process killed, and seen it exit, before the next test starts', () => {
    expect(child?.signalCode).toBe('SIGKILL');
  });

  it('leaves a process that exited by itself as it was', async () => {
    const done = spawn(process.execPath, ['-e', 'process.exitCode = 3'], { stdio: 'ignore' });
    endWithTest(done);
    await new Promise((resolve) => done.once('close', resolve));
    expect(done.exitCode).toBe(3);
  });
});
