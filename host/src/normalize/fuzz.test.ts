/**
 * Property: whatever happens to a real envelope, the normalizer answers with a
 * contract-valid event or a typed rejection, and never throws.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { validateUnifiedEvent } from '@ttlp/sdk/contract';
import { captureEnvelopes, captureFiles } from '../../test/support/captures.ts';
import { NORMALIZE_REJECTION_CODES } from './rejection.ts';
import { normalize } from './normalize.ts';

type Json = unknown;
type Path = Array<string | number>;

/** Every path into a JSON value, the root included. */
function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, i) => pathsOf(item, [...prefix, i], out));
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) pathsOf(item, [...prefix, key], out);
  return out;
}

type Mutation =
  | { kind: 'delete' }
  | { kind: 'replace'; value: unknown }
  | { kind: 'swapType' }
  | { kind: 'huge'; size: number }
  | { kind: 'nest'; depth: number };

function mutated(value: Json, mutation: Mutation): unknown {
  switch (mutation.kind) {
    case 'replace':
      return mutation.value;
    case 'swapType':
      if (typeof value === 'string') return /^-?\d+$/.test(value) ? Number(value) : value.length;
      if (typeof value === 'number') return String(value);
      if (typeof value === 'boolean') return value ? 1 : '';
      if (Array.isArray(value)) return Object.fromEntries(value.map((item, i) => [i, item]));
      if (value && typeof value === 'object') return Object.values(value);
      return {};
    case 'huge':
      return 'é'.repeat(mutation.size);
    case 'nest': {
      let nested: unknown = value;
      for (let i = 0; i < mutation.depth; i++) nested = { nested };
      return nested;
    }
    case 'delete':
      return undefined;
  }
}

function apply(root: Json, path: Path, mutation: Mutation): unknown {
  if (path.length === 0) return mutated(root, mutation);
  const copy: Json = structuredClone(root);
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  const next = mutated(parent[last], mutation);
  if (mutation.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = next;
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'delete' as const }) },
  { weight: 4, arbitrary: fc.anything({ maxDepth: 3 }).map((value) => ({ kind: 'replace' as const, value })) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(null, '', '0', '-1', 0, -1, 1e308, Number.NaN, '99999999999999999999999', true, [], {})
      .map((value) => ({ kind: 'replace' as const, value })),
  },
  { weight: 4, arbitrary: fc.constant({ kind: 'swapType' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 2_000_000 }).map((size) => ({ kind: 'huge' as const, size })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 1000 }).map((depth) => ({ kind: 'nest' as const, depth })) },
);

// A spread of real envelopes: every message type of every capture, a few of each.
const samples = captureFiles().flatMap((file) => {
  const perType = new Map<string, number>();
  return captureEnvelopes(file)
    .map((decoded) => decoded.envelope)
    .filter((envelope) => {
      const seen = perType.get(envelope.type) ?? 0;
      perType.set(envelope.type, seen + 1);
      return seen < 3;
    });
});
const samplePaths = samples.map((envelope) => pathsOf(envelope));

describe('normalizer fuzzing', () => {
  it('has a broad sample of real envelopes', () => {
    expect(new Set(samples.map((s) => s.type)).size).toBeGreaterThanOrEqual(20);
  });

  it('answers every mutation of a real envelope with a valid event or a typed rejection', () => {
    const codes = new Set<string>();
    fc.assert(
      fc.property(
        fc.nat({ max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 4 }),
        (sampleIndex, mutations) => {
          let envelope: unknown = samples[sampleIndex];
          for (const [pick, change] of mutations) {
            const paths = pathsOf(envelope);
            envelope = apply(envelope, paths[pick % paths.length]!, change);
          }
          const result = normalize(envelope);
          if (result.ok) {
            const checked = validateUnifiedEvent(result.event);
            if (!checked.ok) throw new Error(`invalid event: ${checked.errors.join('; ')}`);
          } else {
            expect(NORMALIZE_REJECTION_CODES).toContain(result.rejection.code);
            expect(result.rejection.code).not.toBe('NORMALIZE_INTERNAL');
            expect(result.rejection.message.length).toBeGreaterThan(0);
            codes.add(result.rejection.code);
          }
        },
      ),
      { numRuns: 4000, seed: Number(process.env.FUZZ_SEED ?? 20261125) },
    );
    // The mutations reach past the envelope check into the message fields.
    expect(codes).toContain('NORMALIZE_BAD_ENVELOPE');
    expect(codes).toContain('NORMALIZE_BAD_FIELD');
  });

  it('never fails internally on a single change inside the message data', () => {
    const outcomes = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.nat({ max: samples.length - 1 }), fc.nat(), mutation, (sampleIndex, pick, change) => {
        const dataPaths = samplePaths[sampleIndex]!.filter((path) => path[0] === 'data' && path.length > 1);
        if (dataPaths.length === 0) return;
        const result = normalize(apply(samples[sampleIndex], dataPaths[pick % dataPaths.length]!, change));
        if (result.ok) outcomes.ok += 1;
        else {
          expect(result.rejection.code).not.toBe('NORMALIZE_INTERNAL');
          outcomes.rejected += 1;
        }
      }),
      { numRuns: 3000, seed: Number(process.env.FUZZ_SEED ?? 20261125) },
    );
    expect(outcomes.ok + outcomes.rejected).toBeGreaterThan(2500);
  });
});
