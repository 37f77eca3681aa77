/**
 * Regressions as data: every catalogue variant (every file in scenarios/, found by listing the
 * folder) is explored as `mmsim explore` would, and must give exactly its expected verdicts, be
 * complete where it says so, match the DFS state and transition counts pinned in its file, and
 * every witness token must replay to its verdict.
 * The test only reads the pins; `npm run pin` writes them (and prints old -> new).
 */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildModel, variantNames } from '../../src/scenario/build.js';
import { replayToken } from '../../src/explore/replayer.js';
import { loadScenarioFile, parseScenario } from '../../src/scenario/load.js';
import { pinEdit, runVariant, scenarioOptions } from '../../src/scenario/regress.js';
import { catalogue } from './helpers.js';

const variants = catalogue.flatMap(({ name, path }) => variantNames(loadScenarioFile(path)).map((variant) => ({ file: name, path, variant })));

describe('the catalogue as regression data', () => {
  it('covers every variant of every file', () => {
    expect(variants.length).toBeGreaterThanOrEqual(catalogue.length);
  });

  it.each(variants)('$file / $variant: verdicts, completeness and pinned DFS counts', async ({ path, variant }) => {
    const sc = loadScenarioFile(path);
    const spec = sc.spec.variants[variant];
    const { result, dfs } = await runVariant(sc, variant);
    expect([...new Set(result.findings.map((f) => f.verdict))].sort()).toEqual([...(spec?.expect ?? [])].sort());
    if (spec?.complete) expect(result.complete, 'DFS must complete').toBe(true);
    expect(result.matchesExpectation).toBe(true);
    expect(spec?.dfs, 'no `dfs:` pinned for this variant: run `npm run pin` and review the numbers').toBeDefined();
    expect(dfs).toEqual(spec?.dfs);
    // Every witness (lockdep's edge origins aside) replays to its verdict, lassos included.
    const model = buildModel(sc, variant);
    for (const f of result.findings.filter((x) => x.by !== 'lockdep')) {
      const again = replayToken(model, f.token, scenarioOptions(sc).maxSteps);
      expect([again.verdict?.code, again.verdict?.message], f.token).toEqual([f.verdict, f.message]);
    }
  });
});

describe('pinning edits only the variant', () => {
  const counts = { states: 12, transitions: 34 };
  const base = `# a comment\nname: t\ndescription: >\n  folded text that is long enough to be re-folded by a printer that does not keep the source as it is\nlocks:\n  A: { kind: mutex }\nactors:\n  - name: T0\n    ops: [ { op: lock, lock: A }, { op: unlock, lock: A } ]\n`;

  it('adds dfs to a block map after its last key, keeping the rest byte for byte', () => {
    const text = `${base}variants:\n  default:\n    expect: []   # clean\n    complete: true\n  other:\n    expect: []\n`;
    const out = pinEdit(text, 't.yaml', 'default', counts);
    expect(out).toBe(text.replace('    complete: true\n', '    complete: true\n    dfs: { states: 12, transitions: 34 }\n'));
    expect(parseScenario(out, 't.yaml').spec.variants.default?.dfs).toEqual(counts);
  });

  it('adds dfs inside a flow map, and replaces an existing pin', () => {
    const text = `${base}variants:\n  default: { expect: [] }\n`;
    const once = pinEdit(text, 't.yaml', 'default', counts);
    expect(once).toBe(text.replace('{ expect: [] }', '{ expect: [], dfs: { states: 12, transitions: 34 } }'));
    const twice = pinEdit(once, 't.yaml', 'default', { states: 5, transitions: 6 });
    expect(parse(twice).variants.default.dfs).toEqual({ states: 5, transitions: 6 });
    expect(twice.replace('5, transitions: 6', '12, transitions: 34')).toBe(once);
  });

  it('a pin that is not two counts is a schema error', () => {
    expect(() => parseScenario(`${base}variants:\n  default: { expect: [], dfs: { states: -1, transitions: 2 } }\n`, 't.yaml')).toThrow(/dfs\.states/);
    expect(() => parseScenario(`${base}variants:\n  default: { expect: [], dfs: { states: 1 } }\n`, 't.yaml')).toThrow(/dfs\.transitions/);
  });
});
