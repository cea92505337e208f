/**
 * The code that runs first in every plugin isolate: it builds the `PluginContext` the plugin sees
 * out of two host functions, and gives the host its four entry points. Nothing here is trusted by
 * the host — the plugin can overwrite any of it — every check happens host-side.
 *
 * Host functions (installed as `__ttlp_call` and `__ttlp_request` before this runs, removed by it,
 * as are the shared `__ttlp_progress` buffer and `__ttlp_call_max_chars`):
 * - `call(op, argsJson)` → `{"result":…}` or `{"error":"…"}`, synchronous: overlay, log, timers, run ends;
 * - `request(id, op, argsJson)`, answered later through `__ttlp.settle(id, outcomeJson)`: kv, http.
 * The context reaches them only through `ops`, one stub per operation of `SANDBOX_OPS`. Arguments
 * longer than `callMaxChars` as JSON do not cross: the host is only told their length (`oversize`),
 * so that a plugin's giant string is never copied out of its isolate.
 *
 * Entry points (`__ttlp`): `setup(runId, configJson, pluginId)`, `dispatch(firstRunId, eventsJson,
 * sliceMs)`, `fire(runId, timerId)`, `settle(requestId, outcomeJson)`. Setup and fire return
 * `true` when everything the run started has finished without error (the common case, kept cheap),
 * `{"done":true,"error":…}` when it finished with one, else `{"done":false}` and report the end
 * later through the `done` operation (`{run, error?}`).
 *
 * `dispatch` takes a JSON array of events, one run each (run ids `firstRunId`, `firstRunId + 1`, …),
 * and stops early: after an event whose run did not end cleanly at once (so the host waits for it
 * before the next event is handled), or once it has run `sliceMs` — so that a CPU overrun can be
 * pinned on one event. It returns how many events it handled when each of them ended cleanly, else
 * `{"count":n,"state":…}` with the state of the last one. While it runs, `progress` (an Int32Array
 * over memory shared with the host, which survives the isolate) holds the index of the event being
 * handled and the milliseconds the entry had run before it started.
 */
import { SANDBOX_OPS } from './ops.ts';

/** `name: (args) => call("name", args)` (or `request`) for every operation of the table. */
const OP_STUBS = Object.entries(SANDBOX_OPS)
  .map(([name, op]) => `${name}: (args) => ${op.answer}(${JSON.stringify(name)}, args)`)
  .join(',\n    ');

export const PRELUDE = String.raw`
(function (host) {
  'use strict';
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const now = Date.now;
  const progress = new Int32Array(host.progress);
  const PromiseCtor = Promise;
  const ErrorCtor = Error;
  const describe = (error) => {
    try {
      const text = error && typeof error === 'object' && typeof error.stack === 'string' ? error.stack : String(error);
      return text.slice(0, 2000);
    } catch (_) {
      return 'an unprintable error';
    }
  };
  const argsJson = (op, args) => {
    const text = stringify(args);
    if (text.length <= host.callMaxChars) return text;
    throw new ErrorCtor(parse(host.call('oversize', stringify({ op, chars: text.length }))).error);
  };
  const call = (op, args) => {
    const outcome = parse(host.call(op, argsJson(op, args)));
    if (outcome.error !== undefined) throw new ErrorCtor(outcome.error);
    return outcome.result;
  };
  const attempt = (send) => {
    try {
      send();
      return PromiseCtor.resolve();
    } catch (error) {
      return PromiseCtor.reject(error);
    }
  };
  const pending = new Map();
  let nextRequest = 1;
  const request = (op, args) =>
    new PromiseCtor((resolve, reject) => {
      const text = argsJson(op, args);
      const id = nextRequest++;
      pending.set(id, { resolve, reject, op });
      host.request(id, op, text);
    });
  const ops = {
    ${OP_STUBS},
  };

  const handlers = new Map();
  const timers = new Map();
  let plugin;

  const response = (raw) => ({
    status: raw.status,
    ok: raw.status >= 200 && raw.status < 300,
    headers: raw.headers,
    body: raw.body,
    json() {
      return parse(raw.body);
    },
  });
  const logAt = (level) => (message, fields) => ops.log({ level, message: String(message), fields: fields === undefined ? undefined : fields });
  const addTimer = (callback, ms, repeat) => {
    if (typeof callback !== 'function') throw new TypeError('a timer needs a function');
    const id = ops.timer({ ms: Number(ms) || 0, repeat });
    timers.set(id, { callback, repeat });
    return id;
  };
  const clearTimer = (id) => {
    if (timers.delete(id)) ops.clearTimer({ id });
  };

  const context = (config, pluginId) => ({
    pluginId,
    config,
    on(eventType, handler) {
      if (typeof handler !== 'function') throw new TypeError('on(eventType, handler) needs a function');
      const list = handlers.get(eventType) || [];
      list.push(handler);
      handlers.set(eventType, list);
      ops.subscribe({ eventType });
    },
    overlay: {
      send: (channel, data) => attempt(() => ops.overlay({ channel, data, kind: 'message' })),
      setState: (channel, state) => attempt(() => ops.overlay({ channel, data: state, kind: 'state' })),
    },
    kv: {
      get: (key) => ops.kvGet({ key }),
      set: (key, value) => ops.kvSet({ key, value }),
      delete: (key) => ops.kvDelete({ key }),
    },
    http: {
      fetch: (url, init) => ops.httpFetch({ url: String(url), init: init || {} }).then(response),
    },
    log: { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') },
    setTimeout: (callback, ms) => addTimer(callback, ms, false),
    setInterval: (callback, ms) => addTimer(callback, ms, true),
    clearTimeout: clearTimer,
    clearInterval: clearTimer,
  });

  const deepFreeze = (value) => {
    if (value && typeof value === 'object') {
      for (const key of Object.keys(value)) deepFreeze(value[key]);
      Object.freeze(value);
    }
    return value;
  };

  /** Runs the functions of one run; answers whether all of them already finished. */
  const settleRun = (runId, work) => {
    const promises = [];
    let firstError;
    for (const fn of work) {
      try {
        const result = fn();
        if (result && typeof result.then === 'function') promises.push(result);
      } catch (error) {
        if (firstError === undefined) firstError = describe(error);
      }
    }
    if (promises.length === 0) return firstError === undefined ? true : stringify({ done: true, error: firstError });
    PromiseCtor.all(promises).then(
      () => ops.done({ run: runId, error: firstError }),
      (error) => ops.done({ run: runId, error: firstError === undefined ? describe(error) : firstError }),
    );
    return stringify({ done: false });
  };

  globalThis.__ttlp = {
    setup(runId, configJson, pluginId) {
      const module = globalThis.__ttlp_plugin_module;
      plugin = module && (module.default || module);
      if (!plugin || typeof plugin.setup !== 'function')
        return stringify({ done: true, error: 'the entry must default-export definePlugin({ setup(ctx) { … } })' });
      const ctx = context(deepFreeze(parse(configJson)), pluginId);
      return settleRun(runId, [() => plugin.setup(ctx)]);
    },
    dispatch(firstRunId, eventsJson, sliceMs) {
      const events = parse(eventsJson);
      const started = now();
      for (let i = 0; i < events.length; i += 1) {
        const elapsed = now() - started;
        if (i > 0 && elapsed >= sliceMs) return i;
        progress[0] = i;
        progress[1] = elapsed;
        const event = events[i];
        const list = (handlers.get(event.eventType) || []).concat(handlers.get('*') || []);
        const state = settleRun(firstRunId + i, list.map((handler) => () => handler(event)));
        if (state !== true) return stringify({ count: i + 1, state: parse(state) });
      }
      return events.length;
    },
    fire(runId, timerId) {
      const timer = timers.get(timerId);
      if (!timer) return true;
      if (!timer.repeat) timers.delete(timerId);
      return settleRun(runId, [timer.callback]);
    },
    settle(requestId, outcomeJson) {
      const request = pending.get(requestId);
      if (!request) return;
      pending.delete(requestId);
      const outcome = parse(outcomeJson);
      if (outcome.error !== undefined) request.reject(new ErrorCtor(outcome.error));
      else request.resolve(outcome.result);
    },
  };
})({
  call: globalThis.__ttlp_call,
  request: globalThis.__ttlp_request,
  progress: globalThis.__ttlp_progress,
  callMaxChars: globalThis.__ttlp_call_max_chars,
});
delete globalThis.__ttlp_call;
delete globalThis.__ttlp_request;
delete globalThis.__ttlp_progress;
delete globalThis.__ttlp_call_max_chars;
`;
