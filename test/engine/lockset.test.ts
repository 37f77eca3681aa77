/**
 * The lockset reduction on planted models (src/engine/lockset.ts, src/explore/lockset-rounds.ts):
 * protected accesses run on, a lockless access makes its slot racy and forces another round, and
 * the race it would otherwise hide is found and replays under the default semantics.
 */
import { describe, expect, it } from 'vitest';
import { step } from '../../src/engine/exec.js';
import { Lockset } from '../../src/engine/lockset.js';
import { ModelBuilder } from '../../src/engine/model.js';
import { proc } from '../../src/engine/proc.js';
import type { Ctx } from '../../src/engine/ctx.js';
import { World } from '../../src/engine/world.js';
import { dfs } from '../../src/explore/dfs.js';
import { locksetSearch } from '../../src/explore/lockset-rounds.js';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { LockKind } from '../../src/locks/space.js';

type L = Record<string, number>;

/**
 * T0 increments x under mutex A in two steps (read, then write), then checks that x is 2 once T1
 * is done; T1 increments x in one step, under A when `locked`, else without any lock (a lost
 * update: T0 reads 0, T1 writes 1, T0 writes 1).
 */
function model(locked: boolean, planted = false) {
  const b = new ModelBuilder(locked ? 'locked' : 'lockless');
  const x = b.layout.region('obj', 1, ['x', 'done']);
  const done = x + 1;
  const A = b.lock('A', LockKind.Mutex);
  b.thread(
    'T0',
    proc('inc2', 'test', () => ({ t: 0 }), {
      lock: (k: Ctx) => (k.mutex_lock(A) ? 'read' : -1),
      read: (k: Ctx, l: L) => ((l.t = k.w.get(x)), 'write'),
      write: (k: Ctx, l: L) => (k.w.set(x, (l.t as number) + 1), 'unlock'),
      unlock: (k: Ctx) => (k.mutex_unlock(A), 'check'),
      check: (k: Ctx) => (k.BUG_ON(k.w.get(done) === 1 && (planted || k.w.get(x) !== 2), planted ? 'T1 done first' : 'lost update') ? -3 : k.ret(0)),
    }),
  );
  b.thread(
    'T1',
    proc('inc1', 'test', () => ({}), {
      lock: (k: Ctx) => (!locked || k.mutex_lock(A) ? 'inc' : -1),
      inc: (k: Ctx) => (k.w.set(x, k.w.get(x) + 1), 'unlock'),
      unlock: (k: Ctx) => (locked && k.mutex_unlock(A), 'done'),
      done: (k: Ctx) => (k.w.set(done, 1), k.ret(0)),
    }),
  );
  return b.build();
}

const opts = { maxSteps: 200, maxStates: 10_000, preemptions: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY };
const codes = (r: { findings: { verdict: { code: string } }[] }) => r.findings.map((f) => f.verdict.code);

describe('the lockset reduction', () => {
  it('runs accesses under a lock that protects them on to the next point', () => {
    const m = model(true);
    const plain = new World(m, null);
    step(plain, 0); // mutex_lock
    step(plain, 0);
    expect(plain.where(0)).toBe('inc2:write');
    const reduced = new World(m, null);
    reduced.lockset = new Lockset(m);
    reduced.lockset.beginRound();
    step(reduced, 0);
    step(reduced, 0); // read and write of x under A, then the unlock: one transition
    expect(reduced.where(0)).toBe('inc2:check');
    expect(reduced.steps).toBe(plain.steps + 2);
  });

  it('a lockless access makes the slot racy: the round that hid the lost update is run again and finds it', () => {
    const m = model(false);
    expect(codes(dfs(new World(m, null), opts))).toEqual(['bug']);
    const rounds: string[][] = [];
    const r = locksetSearch(new World(m, null), opts, dfs, 0, (x) => rounds.push(codes(x)));
    // Unseeded, the first round takes x as protected (T1's step runs unseen): no lost update there.
    expect(rounds[0]).toEqual([]);
    expect(r.rounds).toBe(2);
    expect(codes(r)).toEqual(['bug']);
    expect(r.complete).toBe(true);
    expect(r.racyReads).toBeGreaterThan(0);
    // The witness is a token of the default semantics: it replays with no lockset at all.
    const f = r.findings[0] as (typeof r.findings)[0];
    const again = replayToken(m, encodeToken(f.choices), opts.maxSteps);
    expect([again.verdict?.code, again.verdict?.message]).toEqual(['bug', f.verdict.message]);
  });

  it('a witness through a merged critical section replays under the default semantics', () => {
    const m = model(true, true);
    const r = locksetSearch(new World(m, null), opts, dfs);
    expect(codes(r)).toEqual(['bug']);
    const f = r.findings[0] as (typeof r.findings)[0];
    // T0 takes A, then its read, write and unlock run as one transition while T1 is enabled: the
    // choice is recorded once per default transition, three times.
    expect(f.choices.slice(0, 4)).toEqual([0, 0, 0, 0]);
    const again = replayToken(m, encodeToken(f.choices), opts.maxSteps);
    expect([again.verdict?.code, again.verdict?.message, again.consumed]).toEqual(['bug', f.verdict.message, true]);
  });

  it('seeded random runs see the race first: one round suffices', () => {
    const r = locksetSearch(new World(model(false), null), opts, dfs);
    expect([r.rounds, codes(r)]).toEqual([1, ['bug']]);
  });

  it('with T1 under the lock too: clean, complete, fewer states than without the reduction', () => {
    const m = model(true);
    const plain = dfs(new World(m, null), opts);
    const r = locksetSearch(new World(m, null), opts, dfs);
    expect([codes(plain), plain.complete, codes(r), r.complete]).toEqual([[], true, [], true]);
    expect(r.distinct).toBeLessThan(plain.distinct);
  });
});

