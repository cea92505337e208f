/** A plugin's quotas (the limits the host runs it within) in plain words, one line each. */
import type { PluginQuotas } from '@ttlp/sdk/host-contract';

/** Whole MB or KB where they are whole, else bytes. */
function size(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes.toLocaleString()} bytes`;
}

export function describeQuotas(quotas: PluginQuotas): string[] {
  const count = (value: number) => value.toLocaleString();
  return [
    `Up to ${count(quotas.memoryMb)} MB of memory`,
    `${count(quotas.cpuMsPerSecond)} ms of CPU time per second`,
    `${count(quotas.overlayPerRun)} overlay messages per event, ${count(quotas.overlayPerSecond)} per second`,
    `${count(quotas.kvKeys)} stored keys, ${size(quotas.kvBytes)} in all`,
    `${count(quotas.logLinesPerSecond)} log lines (${size(quotas.logBytesPerSecond)}) per second`,
    `${count(quotas.httpPerMinute)} web requests per minute`,
    `${count(quotas.timers)} timers at once`,
  ];
}
