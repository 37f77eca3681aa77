/**
 * Sleep sets and livelock (src/explore/dfs.ts): sleep sets with state caching keep every state but
 * not every cycle, so the default search restarts as plain DFS where a livelock's cycle may be
 * (rules (a) and (b) in its header) and then reports what plain DFS reports; loops that cannot be
 * one (a retry caused by another thread's progress, a spin another thread can end) keep it.
 */
import { describe, expect, it } from 'vitest';
import { ModelBuilder, type Model } from '../../src/engine/model.js';
import { proc } from '../../src/engine/proc.js';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { addSetOnce, addWaiter, catalogueModel, dfsOf } from '../helpers.js';

type K = { w: { set(i: number, v: number): void }; ret(v: number): number };

/**
 * T0 spins writing `value` over the 0 in cell 0 (0: a write that changes nothing, no progress; 1:
 * the first round changes the cell, the rest do not); T1 sets cell 1 once and exits.
 */
function spinAndExit(value: number): Model {
  const b = new ModelBuilder('spin-and-exit');
  const base = b.layout.region('cell', 2, ['v']);
  b.thread(
    'T0',
    proc('spin', 'test', () => ({}), {
      spin: (k: K) => {
        k.w.set(base, value);
        return 'spin';
      },
    } as never),
  );
  addSetOnce(b, 'T1', base + 1);
  return b.build();
}

/** T0 writes cell 0 once and exits; T1 sets cell 1 once and exits: no loop at all. */
function noLoop(): Model {
  const b = new ModelBuilder('no-loop');
  const base = b.layout.region('cell', 2, ['v']);
  for (let t = 0; t < 2; t++)
    b.thread(
      `T${t}`,
      proc(`set${t}`, 'test', () => ({}), {
        set: (k: K) => {
          k.w.set(base + t, 1);
          return 'end';
        },
        end: (k: K) => k.ret(0),
      } as never),
    );
  return b.build();
}

const codes = (r: { findings: { verdict: { code: string } }[] }) => r.findings.map((f) => f.verdict.code).sort();

describe('sleep sets and livelock', () => {
  it('a spin that writes 0 over 0 while another thread exits: the default search finds the livelock plain DFS finds, and says it fell back', () => {
    const m = spinAndExit(0);
    const plain = dfsOf(m, { por: false, maxSteps: 100 });
    const por = dfsOf(m, { maxSteps: 100 });
    expect(codes(plain)).toEqual(['livelock']);
    expect(codes(por)).toEqual(['livelock']);
    expect(por.fellBack).toEqual({ porSteps: expect.any(Number) });
    expect(por.complete && plain.complete).toBe(true);
    expect(por.distinct).toBe(plain.distinct);
    expect(por.steps).toBe(plain.steps + (por.fellBack?.porSteps ?? 0));
    const f = por.findings[0] as (typeof por.findings)[0];
    expect(f.cycle).toBeDefined();
    expect(f.verdict.message).toMatch(/^livelock: T0 can cycle forever .*T1 at exited/);
    const again = replayToken(m, encodeToken(f.choices, f.cycle), 100);
    expect([again.verdict?.code, again.verdict?.message]).toEqual(['livelock', f.verdict.message]);
  });

  it('the same spin writing 1: the first round changes the cell, later rounds do not; still a livelock, still found', () => {
    const m = spinAndExit(1);
    const plain = dfsOf(m, { por: false, maxSteps: 100 });
    const por = dfsOf(m, { maxSteps: 100 });
    expect(codes(plain)).toEqual(['livelock']);
    expect(codes(por)).toEqual(['livelock']);
    expect(por.fellBack).toBeDefined();
  });

  it('a waiter whose flag the other thread sets keeps sleep sets: its lone cycle is unfair (rule (b)), no livelock', () => {
    // T0 loads cell 0, checks it, pauses and loads again (addWaiter); T1 sets the cell and exits.
    const b = new ModelBuilder('waiter');
    const base = b.layout.region('cell', 1, ['v']);
    addWaiter(b, 'T0', base);
    addSetOnce(b, 'T1', base);
    const m = b.build();
    const plain = dfsOf(m, { por: false, maxSteps: 100 });
    const por = dfsOf(m, { maxSteps: 100 });
    expect(por.fellBack).toBeUndefined();
    expect([codes(plain), codes(por), por.distinct, por.complete]).toEqual([[], [], plain.distinct, true]);
    expect(por.steps).toBeLessThan(plain.steps);
  });

  it('a retry that runs again because another thread changed what it read keeps sleep sets (rule (a)): mm-pt-reclaim-vs-fault/fixed', () => {
    const m = catalogueModel('mm-pt-reclaim-vs-fault', 'fixed');
    const plain = dfsOf(m, { por: false });
    const por = dfsOf(m, {});
    expect(por.fellBack).toBeUndefined();
    expect([codes(por), por.distinct, por.complete]).toEqual([codes(plain), plain.distinct, plain.complete]);
    expect(por.steps).toBeLessThan(plain.steps);
  });

  it('no loop: sleep sets stay on (no fall-back) and save transitions', () => {
    const m = noLoop();
    const plain = dfsOf(m, { por: false });
    const por = dfsOf(m, {});
    expect(por.fellBack).toBeUndefined();
    expect(codes(por)).toEqual([]);
    expect(por.distinct).toBe(plain.distinct);
    expect(por.steps).toBeLessThan(plain.steps);
  });
});
