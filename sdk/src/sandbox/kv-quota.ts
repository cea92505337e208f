/**
 * A plugin's kv quota: how many keys it has and how many bytes their values take, against
 * `kvKeys` and `kvBytes`. Kept by whoever stores the plugin's kv (the host's kv cache, the test
 * host), which counts what is stored when it opens and then every change; a change that would
 * take the plugin over a quota is refused with `QuotaExceeded`, and changes that free room
 * (deletes, smaller values) are always taken.
 */
import type { Json } from '../plugin.ts';
import type { SandboxLimits } from './budgets.ts';
import { QuotaExceeded } from './faults.ts';

export class KvUsage {
  private total = 0;

  /** `sizes`: the bytes of each key's value as stored now (see `storedJsonBytes`). */
  constructor(
    private readonly limits: Pick<SandboxLimits, 'kvKeys' | 'kvBytes'>,
    private readonly sizes: Map<string, number> = new Map(),
  ) {
    for (const bytes of sizes.values()) this.total += bytes;
  }

  get keys(): number {
    return this.sizes.size;
  }

  get bytes(): number {
    return this.total;
  }

  /** Counts setting `key` to `value` (`undefined`: deleting it); throws `QuotaExceeded`, counting nothing, when it does not fit. */
  change(key: string, value: Json | undefined): void {
    const before = this.sizes.get(key);
    if (value === undefined) {
      if (before === undefined) return;
      this.sizes.delete(key);
      this.total -= before;
      return;
    }
    const bytes = storedJsonBytes(value);
    if (before === undefined && this.sizes.size >= this.limits.kvKeys) throw new QuotaExceeded(`more than ${this.limits.kvKeys} kv keys`);
    const total = this.total - (before ?? 0) + bytes;
    if (total > this.limits.kvBytes && bytes > (before ?? 0)) throw new QuotaExceeded(`more than ${this.limits.kvBytes} bytes in kv`);
    this.sizes.set(key, bytes);
    this.total = total;
  }
}

/**
 * The bytes of `value` as PostgreSQL writes a stored jsonb value (`octet_length(value::text)`),
 * so that what is counted as it is set agrees with what is counted from the store: JSON with a
 * space after every `:` and `,`, and numbers in plain decimals. Iterative: any depth is safe.
 */
export function storedJsonBytes(value: Json): number {
  let bytes = 0;
  const pending: Json[] = [value];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (Array.isArray(item)) {
      bytes += 2 + separators(item.length);
      for (const element of item) pending.push(element);
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item);
      bytes += 2 + separators(entries.length);
      for (const [key, child] of entries) {
        bytes += Buffer.byteLength(JSON.stringify(key)) + 2;
        pending.push(child);
      }
    } else if (typeof item === 'number') bytes += numberBytes(item);
    else bytes += Buffer.byteLength(JSON.stringify(item));
  }
  return bytes;
}

/** `", "` between the items of an array or object. */
function separators(items: number): number {
  return items > 1 ? 2 * (items - 1) : 0;
}

/**
 * A number as jsonb's numeric writes it: as JSON writes it, but where JSON has an exponent
 * (`1e-7`, `1.5e+21`) in plain decimals (`0.0000001`, `1500000000000000000000`).
 */
function numberBytes(value: number): number {
  const text = JSON.stringify(value);
  const exponent = /^(-?)\d(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!exponent) return text.length;
  const [, sign, fraction = '', power] = exponent;
  const shift = Number(power);
  const integerDigits = Math.max(1, 1 + shift);
  const decimals = Math.max(0, fraction.length - shift);
  return sign!.length + integerDigits + (decimals > 0 ? 1 + decimals : 0);
}
