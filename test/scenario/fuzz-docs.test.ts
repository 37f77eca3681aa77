import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario } from '../../src/scenario/load.js';
import { corruptedBytes, docs, mutate, mutation, outcome, serialise } from './fuzz-helpers.js';

// With fuzz-text.test.ts, 10,000 documents: here 4,000 mutated documents and 1,000 files of bytes.
const RUNS = { mutated: 4000, bytes: 1000 };
const stats = { ok: 0, rejected: 0 };
const dir = mkdtempSync(join(tmpdir(), 'mmsim-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the loader never crashes: mutated documents and bytes', () => {
  it('mutated catalogue documents (wrong types, missing and extra keys, huge numbers, deep nesting), as YAML or JSON', () => {
    fc.assert(
      fc.property(fc.nat(docs.length - 1), fc.array(mutation, { minLength: 0, maxLength: 3 }), fc.nat(2), (i, ms, style) => {
        // One in three as YAML (block style), the rest as JSON, which the YAML reader parses faster.
        const text = serialise(mutate(docs[i], ms), style !== 0);
        outcome(stats, () => parseScenario(text, 'mutated.yaml'), true);
      }),
      { numRuns: RUNS.mutated },
    );
  });

  it('random bytes and corrupted catalogue files (non-UTF-8, binary) through loadScenarioFile', () => {
    const file = join(dir, 'f.yaml');
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), corruptedBytes), (b) => {
        writeFileSync(file, b);
        outcome(stats, () => loadScenarioFile(file));
      }),
      { numRuns: RUNS.bytes },
    );
  });

  it('a mutation of an empty list sets its first item, never a property such as length', () => {
    const set = { kind: 'set', at: 0, key: 'length', value: 'x' } as const;
    expect(mutate({ actors: [] }, [{ ...set, at: 2 }])).toEqual({ actors: ['x'] });
    expect(mutate([], [{ ...set, at: 1 }])).toEqual(['x']);
  });

  it('accepted some documents and rejected many', () => {
    expect(stats.ok + stats.rejected).toBe(RUNS.mutated + RUNS.bytes);
    expect(stats.ok).toBeGreaterThan(100);
    expect(stats.rejected).toBeGreaterThan(1000);
  });
});
