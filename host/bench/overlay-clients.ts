/**
 * Overlay WebSocket clients for the latency benchmark, in a process of their own (as browsers
 * are): connects to the given URLs, resumes as a fresh client, and prints for every message
 * frame that names an event `<eventId> <epoch ms received>`; prints `ready` once all are open.
 *
 *   node --import tsx overlay-clients.ts <ws url>…
 */
import WebSocket from 'ws';

const now = () => performance.timeOrigin + performance.now();
let pending: string[] = [];
const flush = () => {
  if (pending.length === 0) return;
  process.stdout.write(`${pending.join('\n')}\n`);
  pending = [];
};
setInterval(flush, 50);

const sockets = process.argv.slice(2).map((url) => {
  const socket = new WebSocket(url);
  socket.on('message', (data) => {
    const received = now();
    const frame = JSON.parse(String(data)) as { type: string; eventId?: string };
    if (frame.type === 'hello') socket.send(JSON.stringify({ type: 'resume', epoch: null, last: {} }));
    else if (frame.type === 'message' && frame.eventId) pending.push(`${frame.eventId} ${received.toFixed(3)}`);
  });
  socket.on('error', (error) => process.stderr.write(`${url}: ${error.message}\n`));
  return new Promise<void>((resolve) => socket.once('open', () => resolve()));
});
await Promise.all(sockets);
process.stdout.write('ready\n');
process.stdin.on('end', () => {
  flush();
  process.exit(0);
});
process.stdin.resume();
