import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { outcome, scenarioShaped, serialise, textEdit, texts } from './fuzz-helpers.js';

// With fuzz-docs.test.ts, 10,000 documents: here 2,500 arbitrary documents and 2,500 edited texts.
const RUNS = { arbitrary: 2500, edited: 2500 };
const stats = { ok: 0, rejected: 0 };

describe('the loader never crashes: arbitrary documents and edited text', () => {
  it('arbitrary JSON and scenario-shaped documents', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 2 }), scenarioShaped), fc.boolean(), (doc, json) => {
        const text = serialise(doc, json);
        outcome(stats, () => parseScenario(text, 'arbitrary.json'), true);
      }),
      { numRuns: RUNS.arbitrary },
    );
  });

  it('random edits of catalogue text (YAML syntax, control characters, lone surrogates)', () => {
    fc.assert(
      fc.property(fc.nat(texts.length - 1), fc.array(textEdit, { minLength: 1, maxLength: 4 }), (i, edits) => {
        let text = texts[i] ?? '';
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.ins + text.slice(at + e.del);
        }
        outcome(stats, () => parseScenario(text, 'edited.yaml'));
      }),
      { numRuns: RUNS.edited },
    );
  });

  it('accepted some documents and rejected many', () => {
    expect(stats.ok + stats.rejected).toBe(RUNS.arbitrary + RUNS.edited);
    expect(stats.ok).toBeGreaterThan(20);
    expect(stats.rejected).toBeGreaterThan(1000);
  });
});
