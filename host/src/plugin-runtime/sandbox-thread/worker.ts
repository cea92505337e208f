/**
 * A plugin's worker thread: it owns the plugin's isolate, so the plugin's code never runs on the
 * thread that serves the API, the overlay hub and the pipeline. A plugin that burns its CPU budget
 * blocks this thread only. What the plugin asks of the host goes back as messages (see
 * `messages.ts`): overlay messages and log lines without an answer, kv and http as requests the
 * host answers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Json } from '@ttlp/sdk';
import { PluginSandbox, type Fault, type HttpAnswer, type RunInfo, type SandboxServices } from '@ttlp/sdk/sandbox';
import type { FromWorker, PluginOutput, ServiceAnswer, ServiceRequest, ToWorker, WorkerStart } from './messages.ts';

if (!parentPort) throw new Error('the sandbox worker runs in a worker thread');
const port = parentPort;

/**
 * The plugin's output, sent in one message per turn of this thread's event loop rather than one
 * per call: a handler that sends a few overlay messages costs one post. Flushed before every
 * answer to a command, so the host has all of a batch's output when it hears the batch is done.
 */
class Outbox {
  private items: PluginOutput[] = [];
  private scheduled = false;

  push(item: PluginOutput): void {
    this.items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    send({ type: 'output', items });
  }
}

const outbox = new Outbox();
const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
let nextRequest = 0;
/** The dispatch in hand and whether the host asked it to stop. */
let dispatching: { id: number; stop: boolean } | undefined;

function send(message: FromWorker): void {
  port.postMessage(message);
}

function request(request: ServiceRequest, run: RunInfo): Promise<unknown> {
  const id = ++nextRequest;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    outbox.push({ type: 'request', id, request, run });
  });
}

function settle(id: number, answer: ServiceAnswer): void {
  const waiting = pending.get(id);
  if (!waiting) return;
  pending.delete(id);
  if ('result' in answer) return waiting.resolve(answer.result);
  // The error's name crosses too: the sandbox tells a quota refusal from a failure by it.
  const error = new Error(answer.error.message);
  error.name = answer.error.name;
  waiting.reject(error);
}

const services: SandboxServices = {
  overlay: (channel, data, kind, run) => outbox.push({ type: 'overlay', channel, data, kind, run }),
  log: (level, message, fields, run) => outbox.push({ type: 'log', level, message, fields, run }),
  kvGet: (key, run) => request({ service: 'kvGet', key }, run) as Promise<Json | undefined>,
  kvSet: async (key, value, run) => void (await request({ service: 'kvSet', key, value }, run)),
  kvDelete: async (key, run) => void (await request({ service: 'kvDelete', key }, run)),
  fetch: (call, _grants, run) => request({ service: 'fetch', call }, run) as Promise<HttpAnswer>,
};

const start = workerData as WorkerStart;
// The plugin's setup may await kv or http: their answers are heard before the commands are.
const answerDuringStart = (message: ToWorker) => message.type === 'answer' && settle(message.id, message.answer);
port.on('message', answerDuringStart);
const sandbox = await PluginSandbox.start({
  ...start,
  services,
  onFault: (fault: Fault) => outbox.push({ type: 'fault', fault }),
  onDisabled: (reason) => outbox.push({ type: 'disabled', reason }),
});
port.off('message', answerDuringStart);
outbox.flush();
send({ type: 'started', subscribed: sandbox.subscribed, disabled: sandbox.disabled });

/** Answers command `id` after the output it caused. */
function done(id: number, faults: Fault[] = []): void {
  outbox.flush();
  send({ type: 'done', id, faults, subscribed: sandbox.subscribed, disabled: sandbox.disabled });
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'answer':
      return settle(message.id, message.answer);
    case 'stop-dispatch':
      if (dispatching?.id === message.id) dispatching.stop = true;
      return;
    case 'dispatch': {
      const current = { id: message.id, stop: false };
      dispatching = current;
      const faults = await sandbox.dispatchMany(message.events, message.jsons, () => current.stop);
      if (dispatching === current) dispatching = undefined;
      return done(message.id, faults);
    }
    case 'reload':
      await sandbox.reload(message.bundle, message.config);
      return done(message.id);
    case 'fault':
      sandbox.noteFault({ kind: message.kind, message: message.message }, message.run);
      return done(message.id);
    case 'close':
      await sandbox.close();
      for (const waiting of pending.values()) waiting.reject(new Error('the plugin stopped'));
      pending.clear();
      done(message.id);
      port.close();
      return;
  }
}

port.on('message', (message: ToWorker) => {
  handle(message).catch((error: unknown) => send({ type: 'crashed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});
