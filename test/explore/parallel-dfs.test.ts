/**
 * The parallel exhaustive search: its shared visited set and cycle check, and on every catalogue
 * variant the same verdicts, witnesses, completeness and distinct states as one worker's DFS.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { makeRunner } from '../../src/cli/session.js';
import { modelFor } from '../../src/cli/worker.js';
import { explore, type ExploreOptions } from '../../src/explore/explore.js';
import { SharedVisitedSet } from '../../src/explore/shared-visited.js';
import { hasCycle } from '../../src/explore/state-graph.js';
import { variantNames } from '../../src/scenario/build.js';
import { catalogueFiles } from '../../src/scenario/catalogue.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { scenarioOptions } from '../../src/scenario/regress.js';

describe('SharedVisitedSet', () => {
  it('adds a key once, finds it in another view of the buffer, and keeps zero words apart from absence', () => {
    const set = SharedVisitedSet.create(100);
    const other = SharedVisitedSet.attach(set.buffer, null);
    expect(set.put(7, 9, 0)).toBe(-1);
    const slot = set.lastSlot;
    expect(other.put(7, 9, 0)).toBe(slot);
    expect(set.put(0, 0, 0)).toBe(-1);
    expect(set.put(0, 5, 0)).toBe(-1);
    expect(other.put(0, 5, 0)).toBeGreaterThanOrEqual(0);
    expect(set.size).toBe(3);
    expect(set.entries().length).toBe(6);
  });

  it('overflows past the state cap and raises the halt flag', () => {
    const set = SharedVisitedSet.create(10);
    const halt = new Int32Array(new SharedArrayBuffer(4));
    const view = SharedVisitedSet.attach(set.buffer, halt);
    for (let i = 1; i <= 10; i++) view.put(i, i * 3, 0);
    expect(view.overflowed).toBe(false);
    view.put(11, 33, 0);
    expect(view.overflowed).toBe(true);
    expect(halt[0]).toBe(1);
  });
});

describe('hasCycle', () => {
  it('finds a cycle split across two logs and none in a DAG', () => {
    expect(hasCycle([Int32Array.of(0, 1, 1, 2), Int32Array.of(2, 3, 0, 3)], 4)).toBe(false);
    expect(hasCycle([Int32Array.of(0, 1, 1, 2), Int32Array.of(2, 1)], 4)).toBe(true);
    expect(hasCycle([Int32Array.of(3, 3)], 4)).toBe(true);
  });
});

const pool = makeRunner(2, { pool: true });
const inline = makeRunner(1);
afterAll(() => pool.close());

describe('parallel DFS on the catalogue (two pool workers, no probe) agrees with one worker', () => {
  const outcomes = new Map<string, number>();
  for (const file of catalogueFiles()) {
    const sc = loadScenarioFile(file);
    for (const variant of variantNames(sc)) {
      it(`${sc.spec.name}/${variant}`, async () => {
        const o: ExploreOptions = { ...scenarioOptions(sc), strategy: 'dfs' };
        const target = { file, variant, model: modelFor(file, variant), expected: [], mustComplete: false };
        const one = await explore(target, o, inline.run);
        const two = await explore(target, { ...o, workers: 2, probeStates: 0, parallelDfs: true }, pool.run);
        const key = (r: typeof one) => ({ findings: r.findings, complete: r.complete, states: r.distinctStates, stoppedBy: r.stoppedBy });
        expect(key(two)).toEqual(key(one));
        const how = two.parallel?.startsWith('left') ? 'sequential' : (two.parallel ?? 'none');
        outcomes.set(how, (outcomes.get(how) ?? 0) + 1);
      }, 120_000);
    }
  }
  it('settles some variants in parallel and leaves the ones with findings to the sequential search', () => {
    expect(outcomes.get('settled') ?? 0).toBeGreaterThan(10);
    expect(outcomes.get('sequential') ?? 0).toBeGreaterThan(10);
  });
});
