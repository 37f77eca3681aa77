/** Strategy wrappers: the portfolio (members by run range) and the determinism check (each run twice). */
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/engine/model.js';
import { noLocals, proc } from '../../src/engine/proc.js';
import { World } from '../../src/engine/world.js';
import { DeterminismCheck, Nondeterminism } from '../../src/explore/determinism.js';
import { Pct } from '../../src/explore/pct.js';
import { Portfolio } from '../../src/explore/portfolio.js';
import { RandomWalk } from '../../src/explore/random.js';
import { runOnce } from '../../src/explore/run.js';
import type { Strategy } from '../../src/explore/strategy.js';
import { buildModel, variantNames } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { catalogueModel } from '../helpers.js';
import { catalogue } from '../scenario/helpers.js';

function runsOf(m: ReturnType<typeof catalogueModel>, s: Strategy, runs: number[]): string[] {
  const w = new World(m, null);
  const init = w.snapshot();
  return runs.map((r) => {
    runOnce(w, init, s, r, 300, new Int32Array(w.nthreads));
    return `${w.choices.join('')}:${w.verdict?.code ?? 'ok'}`;
  });
}

describe('Portfolio', () => {
  it('gives each member its range of runs, numbered from 0, exactly as the member alone would run them', () => {
    const m = catalogueModel('philosophers-3');
    const p = new Portfolio([[new Pct(5, 3, 3, 20), 10], [new RandomWalk(5), 10]]);
    expect(p.name).toBe('portfolio(pct(d=3),random)');
    expect(p.runs).toBe(20);
    expect(p.memberOf(12)).toEqual({ strategy: expect.any(RandomWalk), run: 2 });
    const all = runsOf(m, p, Array.from({ length: 20 }, (_, i) => i));
    const pct = runsOf(m, new Pct(5, 3, 3, 20), Array.from({ length: 10 }, (_, i) => i));
    const random = runsOf(m, new RandomWalk(5), Array.from({ length: 10 }, (_, i) => i));
    expect(all).toEqual([...pct, ...random]);
    expect(new Set(all).size).toBeGreaterThan(5);
  });
});

describe('DeterminismCheck', () => {
  it('every catalogue variant runs the same twice under random and PCT', () => {
    let checked = 0;
    for (const { path } of catalogue) {
      const sc = loadScenarioFile(path);
      for (const v of variantNames(sc)) {
        const m = buildModel(sc, v);
        const w = new World(m, null);
        const init = w.snapshot();
        for (const inner of [new RandomWalk(3), new Pct(3, 2, w.nthreads, 50)]) {
          const s = new DeterminismCheck(inner);
          for (const run of [0, 1, 2, 0, 1, 2]) {
            runOnce(w, init, s, run, 300, new Int32Array(w.nthreads));
            s.endRun(w);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('catches a step that reads ambient state (a counter outside the world)', () => {
    let calls = 0;
    const b = new ModelBuilder('ambient');
    const slot = b.layout.region('x', 1, ['value']);
    const p = proc('flaky', 'test', noLocals, {
      a: (k) => (k.w.set(slot, calls++), 'b'),
      b: (k) => k.ret(0),
    });
    b.thread('T0', p);
    b.thread('T1', p);
    const m = b.build();
    const w = new World(m, null);
    const init = w.snapshot();
    const s = new DeterminismCheck(new RandomWalk(1));
    runOnce(w, init, s, 0, 50, new Int32Array(2));
    s.endRun(w);
    expect(() => {
      runOnce(w, init, s, 0, 50, new Int32Array(2));
      s.endRun(w);
    }).toThrow(Nondeterminism);
  });
});
