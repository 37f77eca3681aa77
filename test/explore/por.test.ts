/**
 * Partial-order reduction (sleep sets) skips transitions, never states: on every catalogue variant
 * DFS with and without it visits exactly the same number of distinct states, completes alike and
 * finds the same verdict codes, while taking fewer steps.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FootprintArena, FootprintRecorder } from '../../src/engine/footprint.js';
import { buildModel } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { dfsOf } from '../helpers.js';

const dir = join(import.meta.dirname, '..', '..', 'scenarios');

describe('partial-order reduction', () => {
  it('footprints commute only when neither writes what the other touches', () => {
    const arena = new FootprintArena(64);
    const rec = new FootprintRecorder(64);
    const fp = (reads: number[], writes: number[]) => {
      rec.begin();
      for (const r of reads) rec.read(r);
      for (const x of writes) rec.write(x);
      return arena.push(rec);
    };
    const independent = (a: number, b: number) => arena.independent(a, b) && arena.independent(b, a);
    expect(independent(fp([1, 2], [3]), fp([1, 4], [5]))).toBe(true); // shared reads only
    expect(independent(fp([1], [3]), fp([3], []))).toBe(false); // write-read
    expect(independent(fp([], [3]), fp([], [3]))).toBe(false); // write-write
    expect(independent(fp([7], []), fp([], [7]))).toBe(false); // read-write
    expect(independent(fp([1, 1, 2], [2, 2]), fp([3], [4]))).toBe(true); // duplicates recorded once
    // 64 slots share 64 summary bits by a hash: pairs whose bits meet are still compared slot by slot.
    const writes = Array.from({ length: 64 }, (_, i) => fp([], [i]));
    for (let i = 0; i < 64; i++) for (let j = 0; j < 64; j++) expect(independent(writes[i] as number, writes[j] as number)).toBe(i !== j);
    // Random footprints against the definition.
    let seed = 7;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const sets = Array.from({ length: 120 }, () => [Array.from({ length: rnd(12) }, () => rnd(64)), Array.from({ length: rnd(6) }, () => rnd(64))] as const);
    const offs = sets.map(([r, w]) => fp(r, w));
    const meet = (xs: readonly number[], ys: readonly number[]) => xs.some((x) => ys.includes(x));
    for (let i = 0; i < sets.length; i++)
      for (let j = 0; j < sets.length; j++) {
        const [ri, wi] = sets[i] as readonly [number[], number[]];
        const [rj, wj] = sets[j] as readonly [number[], number[]];
        const want = !meet(wi, rj) && !meet(wi, wj) && !meet(wj, ri);
        expect(arena.independent(offs[i] as number, offs[j] as number), `${i}/${j}`).toBe(want);
      }
  });

  it('every catalogue variant: same states, completeness and verdicts with and without sleep sets; fewer steps unless it fell back to plain DFS', () => {
    let saved = 0;
    let total = 0;
    let fellBack = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
      const sc = loadScenarioFile(join(dir, f));
      for (const v of Object.keys(sc.spec.variants)) {
        const m = buildModel(sc, v);
        const off = dfsOf(m, { por: false });
        const on = dfsOf(m, { por: true });
        const codes = (r: typeof on) => r.findings.map((x) => x.verdict.code).sort();
        expect({ states: on.distinct, complete: on.complete, codes: codes(on) }, `${f}/${v}`).toEqual({
          states: off.distinct,
          complete: off.complete,
          codes: codes(off),
        });
        // Where a livelock may be, the search ran again as plain DFS: plain's result, plus the steps before.
        if (on.fellBack) {
          expect(on.steps, `${f}/${v}`).toBe(off.steps + on.fellBack.porSteps);
          expect(on.findings, `${f}/${v}`).toEqual(off.findings.map((x) => ({ ...x, atMs: expect.any(Number) })));
          fellBack++;
        } else expect(on.steps).toBeLessThanOrEqual(off.steps);
        saved += off.steps - on.steps;
        total += off.steps;
      }
    }
    expect(saved / total).toBeGreaterThan(0.2);
    expect(fellBack).toBeLessThan(30);
  });
});
