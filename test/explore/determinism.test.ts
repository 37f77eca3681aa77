/** Same scenario, strategy, seed and budget: same findings, tokens and counts, on one worker or two. */
import { afterAll, describe, expect, it } from 'vitest';
import { makeRunner } from '../../src/cli/session.js';
import { modelFor } from '../../src/cli/worker.js';
import { DEFAULTS, explore, type ExploreOptions, type StrategyName } from '../../src/explore/explore.js';
import { scenarioFile } from '../helpers.js';
import { World, fingerprint } from '../../src/engine/world.js';
import { buildModel } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';

const pool = makeRunner(2);
afterAll(() => pool.close());
const inline = makeRunner(1);

async function run(name: string, variant: string, strategy: StrategyName, runner = inline) {
  const file = scenarioFile(name);
  const o: ExploreOptions = { ...DEFAULTS, strategy, runs: 600, chunk: 100, seed: 11 };
  const r = await explore({ file, variant, model: modelFor(file, variant), expected: ['deadlock', 'potential-deadlock'], mustComplete: false }, o, runner.run);
  return { findings: r.findings, runs: r.runs, steps: r.steps, states: r.distinctStates, complete: r.complete };
}

describe('determinism', () => {
  for (const strategy of ['dfs', 'random', 'pct', 'portfolio'] as const) {
    it(`${strategy}: one worker and two workers agree exactly on philosophers-3`, async () => {
      const one = await run('philosophers-3', 'default', strategy);
      const two = await run('philosophers-3', 'default', strategy, pool);
      expect(two).toEqual(one);
      expect(one.findings.map((f) => f.verdict)).toContain('deadlock');
      expect(await run('philosophers-3', 'default', strategy)).toEqual(one);
    }, 60_000);
  }

  it('fingerprints do not depend on the order procedures were registered in (workers build models afresh)', () => {
    const file = scenarioFile('philosophers-3');
    const a = new World(buildModel(loadScenarioFile(file), 'ordered'), null);
    buildModel(loadScenarioFile(scenarioFile('abba')), 'default'); // registers more procedures in between
    const b = new World(buildModel(loadScenarioFile(file), 'ordered'), null);
    expect(a.model.threads[0]?.entry.id).not.toBe(b.model.threads[0]?.entry.id);
    const [fa, fb] = [new Uint32Array(2), new Uint32Array(2)];
    fingerprint(a, a.threads, fa);
    fingerprint(b, b.threads, fb);
    expect([...fa]).toEqual([...fb]);
  });

  it('generated scenarios with --param n: one and two workers count the same states', async () => {
    const file = scenarioFile('philosophers-3');
    const params = { n: 4 };
    const t = { file, variant: 'ordered', params, model: modelFor(file, 'ordered', params), expected: [], mustComplete: true };
    const one = await explore(t, { ...DEFAULTS, strategy: 'dfs' }, inline.run);
    const two = await explore(t, { ...DEFAULTS, strategy: 'dfs' }, pool.run);
    expect(one.distinctStates).toBe(1974);
    expect(two.distinctStates).toBe(1974);
    expect(two.complete && one.matchesExpectation).toBe(true);
  });

  it('a split DFS counts exactly the states of an unsplit one', async () => {
    const file = scenarioFile('philosophers-3');
    const model = modelFor(file, 'ordered');
    const t = { file, variant: 'ordered', model, expected: [], mustComplete: true };
    const split0 = await explore(t, { ...DEFAULTS, strategy: 'dfs', split: 0 }, inline.run);
    const split3 = await explore(t, { ...DEFAULTS, strategy: 'dfs', split: 3 }, inline.run);
    expect(split3.distinctStates).toBe(split0.distinctStates);
    expect(split0.complete && split3.complete).toBe(true);
    expect(split0.matchesExpectation).toBe(true);
  });
});
