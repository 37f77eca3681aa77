/** A planted bug for each verdict kind: each must fire, from the model, and replay to the same verdict. */
import { describe, expect, it } from 'vitest';
import { compileScript, type ScriptOp } from '../../actors/script.js';
import { ModelBuilder, type Model } from '../../src/engine/model.js';
import { BLOCKED, ENDED, noLocals, proc } from '../../src/engine/proc.js';
import { LockKind } from '../../src/locks/space.js';
import { RandomWalk } from '../../src/explore/random.js';
import { runOnce } from '../../src/explore/run.js';
import { World } from '../../src/engine/world.js';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';

function scripts(locks: [string, LockKind][], threads: ScriptOp[][], extra?: (b: ModelBuilder) => void): Model {
  const b = new ModelBuilder('planted');
  for (const [n, k] of locks) b.lock(n, k);
  extra?.(b);
  threads.forEach((ops, i) => {
    b.thread(`T${i}`, compileScript(`T${i}`, ops, b.locks.map((l) => l.kind)));
  });
  return b.build();
}

function expectFound(m: Model, code: string) {
  const r = dfsOf(m);
  const f = r.findings.find((x) => x.verdict.code === code);
  expect(f, `expected ${code}, found ${r.findings.map((x) => x.verdict.code)}`).toBeDefined();
  const again = replayToken(m, encodeToken(f?.choices ?? []), 1000);
  expect(again.verdict?.code).toBe(code);
  expect(again.verdict?.message).toBe(f?.verdict.message);
  return f?.verdict.message ?? '';
}

describe('planted bugs, one per verdict kind', () => {
  it('lock-misuse: unlock of a lock not held', () => {
    expect(expectFound(scripts([['A', LockKind.Mutex]], [[{ op: 'unlock', lock: 0 }]]), 'lock-misuse')).toMatch(/unlock of A .*not held/);
  });

  it('lock-misuse: a thread exits holding a lock', () => {
    expect(expectFound(scripts([['A', LockKind.Spin]], [[{ op: 'lock', lock: 0 }]]), 'lock-misuse')).toMatch(/T0 exits holding A/);
  });

  it('lock-misuse: rcu_read_unlock without rcu_read_lock', () => {
    expectFound(scripts([], [[{ op: 'rcu_read_unlock' }]]), 'lock-misuse');
  });

  it('sleep-in-atomic: mutex under rcu_read_lock', () => {
    const m = scripts([['M', LockKind.Mutex]], [[{ op: 'rcu_read_lock' }, { op: 'lock', lock: 0 }, { op: 'unlock', lock: 0 }, { op: 'rcu_read_unlock' }]]);
    expect(expectFound(m, 'sleep-in-atomic')).toMatch(/rcu_read_lock held/);
  });

  it('deadlock: recursive mutex_lock is a self-deadlock', () => {
    const m = scripts([['A', LockKind.Mutex]], [[{ op: 'lock', lock: 0 }, { op: 'lock', lock: 0 }]]);
    expect(expectFound(m, 'deadlock')).toMatch(/T0 -> T0/);
  });

  it('bug and warn: BUG_ON / WARN_ON in a code path', () => {
    for (const [code, check] of [['bug', 'BUG_ON'], ['warn', 'WARN_ON']] as const) {
      const p = proc(`planted_${code}`, 'test', noLocals, {
        check: (k) => (k[check](true, 'planted') ? ENDED : 'out'),
        out: (k) => k.ret(0),
      });
      const b = new ModelBuilder('planted');
      b.thread('T0', p);
      expect(expectFound(b.build(), code)).toMatch(new RegExp(`${check}\\(planted\\)`));
    }
  });

  it('invariant: a registered global invariant', () => {
    const b = new ModelBuilder('planted');
    const slot = b.layout.region('counter', 1, ['value']);
    b.invariants.push((w) => (w.get(slot) > 1 ? `counter is ${w.get(slot)}` : null));
    const inc = proc('inc', 'test', noLocals, { inc: (k) => (k.w.add(slot, 1), 'out'), out: (k) => k.ret(0) });
    b.thread('T0', inc);
    b.thread('T1', inc);
    expect(expectFound(b.build(), 'invariant')).toBe('counter is 2');
  });

  it('livelock: a run that exceeds its step bound', () => {
    const m = scripts([], [[{ op: 'goto', to: 'spin', label: 'spin' }]]);
    const w = new World(m, null);
    runOnce(w, w.snapshot(), new RandomWalk(1), 0, 50, new Int32Array(1));
    expect(w.verdict?.code).toBe('livelock');
    expect(w.verdict?.message).toMatch(/no end after 50 steps.*T0 at T0:spin/);
  });

  it('a blocked waiter wakes when the lock is released and finishes (no false deadlock)', () => {
    const m = scripts([['A', LockKind.Mutex]], [
      [{ op: 'lock', lock: 0 }, { op: 'unlock', lock: 0 }],
      [{ op: 'lock', lock: 0 }, { op: 'unlock', lock: 0 }],
    ]);
    const r = dfsOf(m);
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
  });

  it('ww_mutex wait-die: the younger context gets -EDEADLK, backs off, and both finish', () => {
    const ww = (first: number, second: number, stamp: number): ScriptOp[] => [
      { op: 'ww_acquire_init', stamp, label: 'start' },
      { op: 'ww_lock', lock: first, else: 'backoff' },
      { op: 'ww_lock', lock: second, else: 'backoff2' },
      { op: 'unlock', lock: second },
      { op: 'unlock', lock: first },
      { op: 'ww_acquire_fini' },
      { op: 'goto', to: 'end' },
      { op: 'unlock', lock: first, label: 'backoff2' },
      { op: 'ww_acquire_fini', label: 'backoff' },
      { op: 'goto', to: 'start' },
      { op: 'might_sleep', label: 'end' },
    ];
    const m = scripts([['X', LockKind.WwMutex], ['Y', LockKind.WwMutex]], [ww(0, 1, 1), ww(1, 0, 2)]);
    const r = dfsOf(m);
    expect(r.findings.filter((f) => f.verdict.code === 'deadlock')).toEqual([]);
    expect(r.complete).toBe(true);
    // Without the back-off (plain mutexes) the same orders deadlock.
    const plain = scripts([['X', LockKind.Mutex], ['Y', LockKind.Mutex]], [
      [{ op: 'lock', lock: 0 }, { op: 'lock', lock: 1 }, { op: 'unlock', lock: 1 }, { op: 'unlock', lock: 0 }],
      [{ op: 'lock', lock: 1 }, { op: 'lock', lock: 0 }, { op: 'unlock', lock: 0 }, { op: 'unlock', lock: 1 }],
    ]);
    expect(dfsOf(plain).findings.map((f) => f.verdict.code)).toContain('deadlock');
  });

  it('a blocking step re-runs after the wake-up and does not double-acquire', () => {
    const p = proc('waiter', 'test', noLocals, {
      take: (k) => (k.mutex_lock(0) ? 'drop' : BLOCKED),
      drop: (k) => (k.mutex_unlock(0) ? 'out' : ENDED),
      out: (k) => k.ret(0),
    });
    const b = new ModelBuilder('planted');
    b.lock('A', LockKind.Mutex);
    b.thread('T0', p);
    b.thread('T1', p);
    const r = dfsOf(b.build());
    expect(r.findings).toEqual([]);
  });
});
