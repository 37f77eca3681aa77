/**
 * Which labels are scheduling points (src/engine/visibility.ts): exact step counts per transition
 * on planted procedures, and when invariants are re-checked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { scheduling, step } from '../../src/engine/exec.js';
import { ModelBuilder } from '../../src/engine/model.js';
import { noLocals, proc } from '../../src/engine/proc.js';
import { World } from '../../src/engine/world.js';
import { LockKind } from '../../src/locks/space.js';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { addSetOnce, dfsOf } from '../helpers.js';

/** A one-thread world running `entry`, with one kernel slot `slot` and one mutex `lock`. */
function world(build: (slot: number, lock: number) => Parameters<typeof proc>[3], invariant?: (w: World, slot: number, lock: number) => string | null) {
  const b = new ModelBuilder('planted');
  const slot = b.layout.region('counter', 1, ['value']);
  const lock = b.lock('A', LockKind.Mutex);
  b.thread('T0', proc('p', 'test', () => ({ x: 0 }), build(slot, lock)));
  const m = b.build();
  if (invariant) m.invariants.push((w) => invariant(w, slot, m.lockBase));
  return new World(m, null);
}

afterEach(() => {
  scheduling.runOn = true;
  scheduling.lazyInvariants = true;
});

describe('scheduling points', () => {
  const straight = (slot: number) => ({
    a: (_k: unknown, l: Record<string, number>) => ((l.x = 1), 'b'),
    b: (_k: unknown, l: Record<string, number>) => ((l.x = (l.x as number) + 1), 'c'),
    c: (k: { w: World }) => (k.w.add(slot, 1), 'd'),
    d: (k: { ret: (v: number) => number }) => k.ret(0),
  });

  it('local labels run on into the next visible one: one transition, three steps', () => {
    const w = world((slot) => straight(slot));
    step(w, 0);
    expect([w.steps, w.where(0)]).toEqual([3, 'p:d']);
  });

  it('with run-on off every label is a point', () => {
    scheduling.runOn = false;
    const w = world((slot) => straight(slot));
    step(w, 0);
    expect([w.steps, w.where(0)]).toEqual([1, 'p:b']);
  });

  it('a jump back and a progress label stay points', () => {
    const spin = world(() => ({ spin: () => 'spin' }));
    step(spin, 0);
    expect(spin.steps).toBe(1);
    const progress = world(() => ({ a: () => 'progress_b', progress_b: () => 'c', c: (k) => k.ret(0) }));
    step(progress, 0);
    expect([progress.steps, progress.where(0)]).toEqual([1, 'p:progress_b']);
  });

  it('a lock operation is visible; a call and its callee\'s local labels are not', () => {
    const w = world((_slot, lock) => ({ a: (k) => (k.mutex_lock(lock) ? 'b' : -1), b: (k) => (k.mutex_unlock(lock), 'c'), c: (k) => k.ret(0) }));
    step(w, 0);
    expect([w.steps, w.where(0)]).toEqual([1, 'p:b']);
    const q = proc('q', 'test', noLocals, { q0: () => 'q1', q1: (k) => k.ret(7) });
    let counter = -1;
    const c = world((slot) => {
      counter = slot;
      return { a: (k) => k.call(q, {}, 'b'), b: (k) => (k.w.set(slot, k.rv), 'c'), c: (k) => k.ret(0) };
    });
    step(c, 0);
    // call, q0, q1 (ret writes the private rv slot), b reads rv and writes the counter: one transition
    expect([c.steps, c.where(0), c.get(counter)]).toEqual([4, 'p:c', 7]);
  });
});

describe('invariants are re-checked only after kernel writes', () => {
  const prog = (slot: number, lock: number) => ({
    a: (k: { mutex_lock: (l: number) => boolean }) => (k.mutex_lock(lock) ? 'b' : -1),
    b: (k: { mutex_unlock: (l: number) => boolean }) => (k.mutex_unlock(lock), 'c'),
    c: (k: { w: World }) => (k.w.add(slot, 1), 'd'),
    d: (k: { ret: (v: number) => number }) => k.ret(0),
  });

  it('the first transition and kernel writes check; lock-only transitions do not', () => {
    let calls = 0;
    const w = world(prog, (x, slot) => (calls++, x.get(slot) > 5 ? 'too big' : null));
    for (let i = 0; i < 4; i++) step(w, 0);
    // a (first transition), c (writes the counter), d (the exit writes no kernel object) -> a and c
    expect(calls).toBe(2);
  });

  it('an invariant that reads a lock record turns the shortcut off for its model', () => {
    let calls = 0;
    const w = world(prog, (x, slot, lockBase) => (calls++, x.get(slot) + x.get(lockBase) > 5 ? 'too big' : null));
    for (let i = 0; i < 4; i++) step(w, 0);
    expect(calls).toBe(4);
  });
});

describe('in a depth-first search only the invariants that read a changed slot run', () => {
  /** T0 sets b, T1 sets a; `seesA` reads a; `implies` reads a, and b only while a is set. */
  function model(calls: { seesA: number; implies: number }) {
    const b = new ModelBuilder('two-cells');
    const cells = b.layout.region('cells', 1, ['a', 'b']);
    addSetOnce(b, 'T0', cells + 1);
    addSetOnce(b, 'T1', cells);
    const m = b.build();
    m.invariants.push((w) => (calls.seesA++, w.get(cells) > 1 ? 'a > 1' : null));
    m.invariants.push((w) => (calls.implies++, w.get(cells) === 1 && w.get(cells + 1) === 1 ? 'a and b both set' : null));
    return m;
  }

  it('a slot read only under a condition is watched from the first read on: the violation is found in both orders', () => {
    const calls = { seesA: 0, implies: 0 };
    const m = model(calls);
    const d = dfsOf(m, { por: false });
    expect(d.findings.map((f) => f.verdict.message)).toEqual(['a and b both set']);
    const f = d.findings[0] as (typeof d.findings)[0];
    const again = replayToken(m, encodeToken(f.choices), 100);
    expect([again.verdict?.code, again.verdict?.message]).toEqual(['invariant', 'a and b both set']);
    // Either order ends in the violation: T1 then T0 (b changes after `implies` read it), T0 then T1.
    for (const order of [[1, 0], [0, 1]]) {
      const w = new World(m, null);
      w.startUndo();
      for (const t of order) step(w, t);
      expect(w.verdict?.message).toBe('a and b both set');
    }
  });

  it('an invariant is not run after a transition that changed none of the slots it read', () => {
    const calls = { seesA: 0, implies: 0 };
    const w = new World(model(calls), null);
    w.startUndo();
    step(w, 0); // the first transition: every invariant runs (b set; a read, 0)
    step(w, 1); // a changes: both run, and `implies` fails
    expect(calls).toEqual({ seesA: 2, implies: 2 });
    const quiet = { seesA: 0, implies: 0 };
    const v = new World(model(quiet), null);
    v.startUndo();
    step(v, 1); // first: both run (a set; `implies` now reads b too)
    step(v, 0); // b changes: only `implies` read it
    expect(quiet).toEqual({ seesA: 1, implies: 2 });
    expect(v.verdict?.message).toBe('a and b both set');
  });
});
