/**
 * Dynamic partial-order reduction (src/explore/dpor.ts): on every catalogue variant it finds the
 * same verdict codes as plain DFS and completes alike, and its witnesses replay; on small models
 * built here it skips interleavings of independent steps, keeps those an invariant can tell apart,
 * handles a cycle of states that makes progress itself (cycle proviso), and falls back to plain
 * DFS where a livelock may be.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelBuilder, type Model } from '../../src/engine/model.js';
import { proc } from '../../src/engine/proc.js';
import type { DporResult } from '../../src/explore/dpor.js';
import { replayToken } from '../../src/explore/replayer.js';
import { runTask, type Task } from '../../src/explore/task.js';
import { encodeToken } from '../../src/explore/token.js';
import { buildModel } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { addCounter, addSetOnce, addSpinner, addWaiter, catalogueModel, dfsOf } from '../helpers.js';

const dir = join(import.meta.dirname, '..', '..', 'scenarios');

/** Two threads; each writes its own slot `writes` times (1, 2, ...), then, if `reset`, sets it back to 0. */
function writers(writes: number, opts: { reset?: boolean; invariant?: boolean } = {}): Model {
  const b = new ModelBuilder('writers');
  const base = b.layout.region('cell', 2, ['v']);
  for (let t = 0; t < 2; t++) addCounter(b, `T${t}`, `writer${t}`, base + t, writes, opts.reset);
  if (opts.invariant) b.invariants.push((w) => (w.get(base) === writes && w.get(base + 1) === writes ? 'both cells full at once' : null));
  return b.build();
}

/**
 * A cycle of states that makes progress: T0 sets cell 0 to 1 and back to 0, forever (each round
 * writes a kernel object, so no livelock); T1 sets cell 1 once. With `invariant`, both cells at 1
 * at once is a violation, reachable only by interleaving T1's write inside a round of T0's.
 */
function flipper(opts: { invariant?: boolean } = {}): Model {
  const b = new ModelBuilder('flipper');
  const base = b.layout.region('cell', 2, ['v']);
  type K = { w: { set(i: number, v: number): void }; ret(v: number): number };
  b.thread(
    'T0',
    proc('flip', 'test', () => ({}), {
      up: (k: K) => {
        k.w.set(base, 1);
        return 'down';
      },
      down: (k: K) => {
        k.w.set(base, 0);
        return 'up';
      },
    } as never),
  );
  addSetOnce(b, 'T1', base + 1);
  if (opts.invariant) b.invariants.push((w) => (w.get(base) === 1 && w.get(base + 1) === 1 ? 'both cells set at once' : null));
  return b.build();
}

/** One thread spins writing 0 over the 0 in a cell: a write, but no change, so no progress. */
function stutter(): Model {
  const b = new ModelBuilder('stutter');
  const base = b.layout.region('cell', 1, ['v']);
  type K = { w: { set(i: number, v: number): void } };
  b.thread(
    'T0',
    proc('spin', 'test', () => ({}), {
      spin: (k: K) => {
        k.w.set(base, 0);
        return 'spin';
      },
    } as never),
  );
  return b.build();
}

/**
 * Two threads, each counting its own cell (a record of a region of its own, so the invariants'
 * read sets, closed over records, stay apart) up to `writes`. `invariants` are built on the two
 * cells' slots; a leading no-op invariant puts them in groups other than 0.
 */
function counters(writes: number, invariants: ((a: number, b: number) => (w: { get(i: number): number }) => string | null)[]): Model {
  const b = new ModelBuilder('counters');
  const cells = [b.layout.region('a', 1, ['v']), b.layout.region('b', 1, ['v'])];
  for (let t = 0; t < 2; t++) addCounter(b, `T${t}`, `count${t}`, cells[t] as number, writes);
  b.invariants.push(() => null);
  for (const f of invariants) b.invariants.push(f(cells[0] as number, cells[1] as number) as never);
  return b.build();
}

/**
 * An invariant whose read set grows late: thread 0 sets cell c once; threads 1 and 2 count cells a
 * and b up to `n`. The invariant reads a and b always, and c only on the rare state a = n, b = 0
 * (thread 1 ran n times before thread 2 once), where c still 0 is a violation: c's write must come
 * after all of thread 1's, which only the invariant orders.
 */
function lateRead(n: number): Model {
  const b = new ModelBuilder('late-read');
  const c = b.layout.region('c', 1, ['v']);
  const cells = [b.layout.region('a', 1, ['v']), b.layout.region('b', 1, ['v'])];
  addSetOnce(b, 'T0', c);
  for (let t = 0; t < 2; t++) addCounter(b, `T${t + 1}`, `count${t}`, cells[t] as number, n);
  const [a0, b0] = cells as [number, number];
  b.invariants.push((w) => (w.get(a0) === n && w.get(b0) === 0 && w.get(c) === 0 ? 'c set late' : null));
  return b.build();
}

/**
 * Threads T0, T1, ... from a shape such as 'W0 S1': W waits for a cell (addWaiter), P spins on it
 * (addSpinner), S sets it once and exits (addSetOnce); the digit is the cell.
 */
function spinShape(shape: string): Model {
  const b = new ModelBuilder('spin-shape');
  const base = b.layout.region('cell', 3, ['v']);
  const add = { W: addWaiter, P: addSpinner, S: addSetOnce };
  for (const [t, x] of shape.split(' ').entries()) add[x[0] as keyof typeof add](b, `T${t}`, base + Number(x[1]));
  return b.build();
}

/** T0 waits for cell 0; T1 sets it (`setter`: no livelock) or waits for cell 1, which nobody sets (a livelock of both). */
const waiters = (setter: boolean): Model => spinShape(setter ? 'W0 S0' : 'W0 W1');

const codes = (r: { findings: { verdict: { code: string } }[] }) => [...new Set(r.findings.map((f) => f.verdict.code))].sort();

describe('DPOR', () => {
  it('explores one interleaving of two threads that touch nothing in common', () => {
    const m = writers(3);
    const plain = dfsOf(m, { por: false });
    const d = dfsOf(m, { dpor: true }) as ReturnType<typeof dfsOf> & DporResult;
    expect(plain.distinct).toBe(25); // the 5 x 5 grid of both threads' progress (3 writes and the exit each)
    expect(d.distinct).toBe(9); // one path through it
    expect(d.steps).toBe(8);
    expect(d.complete && plain.complete).toBe(true);
    expect(d.dpor).toEqual({ rounds: 1, fellBack: null, dporSteps: 8 });
  });

  it('keeps the interleavings an invariant tells apart: writes of slots it reads are dependent', () => {
    const m = writers(2, { reset: true, invariant: true });
    const plain = dfsOf(m, { por: false });
    const d = dfsOf(m, { dpor: true });
    expect(codes(plain)).toEqual(['invariant']);
    expect(codes(d)).toEqual(['invariant']);
    const f = d.findings[0] as (typeof d.findings)[0];
    expect(replayToken(m, encodeToken(f.choices), 100).verdict?.code).toBe('invariant');
  });

  it('two writes one invariant reads: both orders are explored (the violation is only in the order not tried first)', () => {
    // T0 (tried first) and T1 each write their own cell once; the invariant fails on the state where
    // T1 wrote and T0 has not: only the order T1, T0 passes through it. No memory is shared, so only
    // the invariant makes the writes dependent.
    const m = counters(1, [(a, b) => (w) => (w.get(a) === 0 && w.get(b) === 1 ? 'T1 wrote first' : null)]);
    const plain = dfsOf(m, { por: false });
    const d = dfsOf(m, { dpor: true }) as ReturnType<typeof dfsOf> & DporResult;
    expect(codes(plain)).toEqual(['invariant']);
    expect(codes(d)).toEqual(['invariant']);
    expect(d.dpor).toMatchObject({ rounds: 1, fellBack: null });
    const f = d.findings[0] as (typeof d.findings)[0];
    const again = replayToken(m, encodeToken(f.choices), 100);
    expect([again.verdict?.code, again.verdict?.message]).toEqual(['invariant', 'T1 wrote first']);
    expect(f.choices).toEqual([1]); // T1 (index 1 among the enabled) first
  });

  it('writes read by different invariants commute: one interleaving, and a violation on it is found', () => {
    // Each invariant reads one cell: T0's writes and T1's are independent, as with no invariant.
    const apart = counters(3, [(a) => (w) => (w.get(a) > 3 ? 'a' : null), (_a, b) => (w) => (w.get(b) > 3 ? 'b' : null)]);
    const d = dfsOf(apart, { dpor: true }) as ReturnType<typeof dfsOf> & DporResult;
    expect([d.distinct, d.steps, d.complete]).toEqual([9, 8, true]); // one path through the 5 x 5 grid
    // One invariant reading both cells makes them dependent: more of the grid is explored.
    const joint = counters(3, [(a, b) => (w) => (w.get(a) > 3 || w.get(b) > 3 ? 'ab' : null)]);
    const j = dfsOf(joint, { dpor: true });
    expect(j.steps).toBeGreaterThan(8);
    // A violation seen by one of the two invariants: found on the one interleaving, and replayed.
    const bad = counters(3, [(a) => (w) => (w.get(a) > 3 ? 'a' : null), (_a, b) => (w) => (w.get(b) === 2 ? 'b at 2' : null)]);
    const plain = dfsOf(bad, { por: false });
    const v = dfsOf(bad, { dpor: true });
    expect(codes(plain)).toEqual(['invariant']);
    expect(codes(v)).toEqual(['invariant']);
    expect(v.steps).toBeLessThan(plain.steps);
    const f = v.findings[0] as (typeof v.findings)[0];
    const again = replayToken(bad, encodeToken(f.choices), 100);
    expect([again.verdict?.code, again.verdict?.message]).toEqual(['invariant', 'b at 2']);
  });

  it('an invariant that reads a new slot mid-search, written unmarked before by another thread: the round is redone, the violation found', () => {
    // The seeding runs miss the state a = n, b = 0; the first round runs T0's write of c first
    // (unmarked: nobody read c yet), then meets that state with c = 1: the invariant reads c, and a
    // write of it by T0 went unmarked while T1 wrote the invariant's slots, so the round stops and
    // the next, with c read, orders T0's write against T1's and reaches c = 0 there.
    const m = lateRead(10);
    const plain = dfsOf(m, { por: false, maxSteps: 100 });
    const d = dfsOf(m, { dpor: true, maxSteps: 100 }) as ReturnType<typeof dfsOf> & DporResult;
    expect(codes(plain)).toEqual(['invariant']);
    expect(codes(d)).toEqual(['invariant']);
    expect(d.dpor.rounds).toBe(2);
    expect(d.complete).toBe(true);
    const f = d.findings[0] as (typeof d.findings)[0];
    const again = replayToken(m, encodeToken(f.choices), 100);
    expect([again.verdict?.code, again.verdict?.message]).toEqual(['invariant', 'c set late']);
  });

  it('falls back to plain DFS when a thread loops back to a state of its own without progress: livelock is still found', () => {
    const m = catalogueModel('trylock-livelock');
    const d = dfsOf(m, { dpor: true, maxSteps: 100 }) as ReturnType<typeof dfsOf> & DporResult;
    expect(d.dpor.fellBack).toBe('loop');
    // The fall-back is plain DFS itself (not the sleep-set DFS, which would start again as plain DFS).
    const plain = dfsOf(m, { por: false, maxSteps: 100 });
    expect(d.fellBack).toBeUndefined();
    expect([d.distinct, d.steps]).toEqual([plain.distinct, d.dpor.dporSteps + plain.steps]);
    expect(codes(d)).toContain('livelock');
    const f = d.findings.find((x) => x.verdict.code === 'livelock');
    expect(f?.cycle).toBeDefined();
    expect(replayToken(m, encodeToken(f?.choices ?? [], f?.cycle), 100).verdict?.code).toBe('livelock');
  });

  it('a loop whose write leaves the value as it was is no progress: falls back and finds the livelock', () => {
    const m = stutter();
    const plain = dfsOf(m, { por: false, maxSteps: 100 });
    const d = dfsOf(m, { dpor: true, maxSteps: 100 }) as ReturnType<typeof dfsOf> & DporResult;
    expect(codes(plain)).toEqual(['livelock']);
    expect(d.dpor.fellBack).toBe('loop');
    expect(codes(d)).toEqual(['livelock']);
    const f = d.findings[0] as (typeof d.findings)[0];
    expect(replayToken(m, encodeToken(f.choices, f.cycle), 100).verdict?.code).toBe('livelock');
  });

  it('a thread spinning while another could run keeps DPOR: the cycle of states it closes alone is unfair, no livelock', () => {
    const m = waiters(true);
    const plain = dfsOf(m, { por: false, maxSteps: 100 });
    const d = dfsOf(m, { dpor: true, maxSteps: 100 }) as ReturnType<typeof dfsOf> & DporResult;
    expect(d.dpor.fellBack).toBeNull();
    expect([plain.complete, codes(plain), d.complete, codes(d)]).toEqual([true, [], true, []]);
    expect(d.distinct).toBeLessThan(plain.distinct);
  });

  it('two threads spinning on flags nobody sets: the cycle DPOR closes has the other thread asleep, so it falls back and finds the livelock', () => {
    const m = waiters(false);
    const plain = dfsOf(m, { por: false, maxSteps: 100 });
    expect(codes(plain)).toEqual(['livelock']);
    const d = dfsOf(m, { dpor: true, maxSteps: 100 }) as ReturnType<typeof dfsOf> & DporResult;
    expect(d.dpor.fellBack).toBe('loop');
    expect(codes(d)).toEqual(['livelock']);
    const f = d.findings[0] as (typeof d.findings)[0];
    expect(f.verdict.message).toMatch(/^livelock: T0, T1 can cycle forever/);
    expect(replayToken(m, encodeToken(f.choices, f.cycle), 100).verdict?.message).toBe(f.verdict.message);
  });

  it('waiters, spinners and setters in every order: the sleep-set DFS and DPOR give the livelock verdicts of plain DFS (loops sleep sets would hide)', () => {
    // A waiter whose flag is never set livelocks once the other threads are done; with W0 S1 the
    // waiter's loop, explored first, sleeps in the setter's subtree, and only rule (c) wakes it.
    const shapes: [string, string[]][] = [
      ['W0 S0', []],
      ['S0 W0', []],
      ['P0 S0', []],
      ['W0 S1', ['livelock']],
      ['S1 W0', ['livelock']],
      ['P0 S1', ['livelock']],
      ['S1 P0', ['livelock']],
      ['W0 S1 W2', ['livelock']],
      ['S1 W0 S2', ['livelock']],
      ['W0 P1 S1', ['livelock']],
      ['W0 P0 S0', []],
      ['W0 S0 W1 S2', ['livelock']],
      ['P0 P1', ['livelock']],
    ];
    for (const [shape, want] of shapes) {
      const m = spinShape(shape);
      const plain = dfsOf(m, { por: false, maxSteps: 100 });
      const sleep = dfsOf(m, { maxSteps: 100 });
      const d = dfsOf(m, { dpor: true, maxSteps: 100 }) as ReturnType<typeof dfsOf> & DporResult;
      expect([codes(plain), codes(sleep), codes(d)], shape).toEqual([want, want, want]);
      for (const f of [...sleep.findings, ...d.findings]) expect(replayToken(m, encodeToken(f.choices, f.cycle), 100).verdict?.message, shape).toBe(f.verdict.message);
    }
  });

  it('a retry that runs again because another thread changed what it read keeps DPOR: mm-pt-reclaim-vs-fault/fixed (fell back before)', () => {
    // cpu0's pte_offset_map_lock finds the pmd changed under it (pt_reclaim freed the table), unlocks
    // and retries: its own state repeats, but another thread's event in between made progress.
    const m = catalogueModel('mm-pt-reclaim-vs-fault', 'fixed');
    const plain = dfsOf(m, { por: false });
    const d = dfsOf(m, { dpor: true }) as ReturnType<typeof dfsOf> & DporResult;
    expect(d.dpor.fellBack).toBeNull();
    expect({ complete: d.complete, codes: codes(d) }).toEqual({ complete: plain.complete, codes: codes(plain) });
    expect(d.steps).toBeLessThan(plain.steps);
  });

  it('a cycle of states with progress keeps DPOR (cycle proviso), with the verdicts of plain DFS', () => {
    for (const invariant of [false, true]) {
      const m = flipper({ invariant });
      const plain = dfsOf(m, { por: false, maxSteps: 100 });
      const d = dfsOf(m, { dpor: true, maxSteps: 100 }) as ReturnType<typeof dfsOf> & DporResult;
      expect(d.dpor.fellBack).toBeNull();
      expect({ complete: d.complete, codes: codes(d) }).toEqual({ complete: plain.complete, codes: codes(plain) });
      expect(codes(d)).toEqual(invariant ? ['invariant'] : []);
      if (!invariant) {
        expect(plain.distinct).toBe(6); // T0 at up/down x T1 at set/end/exited
        // T0 up, T0 down meets the start on the stack: T1 is added where T0's write of cell 0 is
        // last (down; up's write is shadowed by it), and runs from there with T0 asleep: T1's steps
        // commute with T0's, so the states with T0 at up and T1 moved on are not needed.
        expect(d.distinct).toBe(4);
        expect(d.steps).toBe(4);
      }
      for (const f of d.findings) expect(replayToken(m, encodeToken(f.choices), 100).verdict?.code).toBe(f.verdict.code);
    }
  });

  it('a retry loop that writes a kernel object keeps DPOR: mm-pt-reclaim-vs-fault/v6.14-rc1 (fell back before)', () => {
    const sc = loadScenarioFile(join(dir, 'mm-pt-reclaim-vs-fault.yaml'));
    const m = buildModel(sc, 'v6.14-rc1');
    const maxSteps = sc.spec.explore?.maxSteps ?? 2000;
    const plain = dfsOf(m, { por: false, maxSteps });
    const d = dfsOf(m, { dpor: true, maxSteps }) as ReturnType<typeof dfsOf> & DporResult;
    expect(d.dpor.fellBack).toBeNull();
    expect(codes(d)).toEqual(['invariant']);
    expect(d.complete && plain.complete).toBe(true);
    expect(d.steps * 2).toBeLessThan(plain.steps);
    const f = d.findings[0] as (typeof d.findings)[0];
    expect(replayToken(m, encodeToken(f.choices), maxSteps).verdict?.code).toBe('invariant');
  });

  it('a task whose forced path already reaches the verdict keeps it (one thread: udmabuf-mmap-gup/vm-insert-page)', () => {
    // A one-thread model has no branch point: the task's prefix replay runs it to its verdict, and the
    // search starts there. DPOR restores its start state (clearing w.verdict): the verdict must survive.
    const m = catalogueModel('udmabuf-mmap-gup', 'vm-insert-page');
    const task: Task = {
      file: 'udmabuf-mmap-gup.yaml', variant: 'vm-insert-page', params: {}, kind: 'dfs', seed: 1, prefix: [], runStart: 0, runCount: 0,
      maxSteps: 2000, maxStates: 1_000_000, depth: 3, k: 0, preemptions: 0, deadline: Number.POSITIVE_INFINITY, coverage: false, por: true,
    };
    for (const dpor of [false, true]) {
      const r = runTask(m, { ...task, dpor });
      expect(r.findings.map((f) => f.verdict.code), `dpor ${dpor}`).toEqual(['invariant']);
      expect([r.steps, r.complete]).toEqual([0, true]);
    }
  });

  it('every catalogue variant: the verdict codes and completeness of plain DFS; witnesses replay; fewer states', () => {
    let dfsStates = 0;
    let dporStates = 0;
    let dfsSteps = 0;
    let dporSteps = 0;
    const fellBack: string[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
      const sc = loadScenarioFile(join(dir, f));
      const maxSteps = sc.spec.explore?.maxSteps ?? 2000;
      for (const v of Object.keys(sc.spec.variants)) {
        const m = buildModel(sc, v);
        const plain = dfsOf(m, { por: false, maxSteps });
        const d = dfsOf(m, { dpor: true, maxSteps }) as ReturnType<typeof dfsOf> & DporResult;
        expect({ complete: d.complete, codes: codes(d) }, `${f}/${v}`).toEqual({ complete: plain.complete, codes: codes(plain) });
        for (const x of d.findings) {
          const again = replayToken(m, encodeToken(x.choices, x.cycle), maxSteps);
          expect([again.verdict?.code, again.verdict?.message], `${f}/${v} ${x.verdict.code}`).toEqual([x.verdict.code, x.verdict.message]);
        }
        if (d.dpor.fellBack) fellBack.push(`${f.replace('.yaml', '')}/${v}`);
        dfsStates += plain.distinct;
        dporStates += d.distinct;
        dfsSteps += plain.steps;
        dporSteps += d.steps;
      }
    }
    expect(dporStates).toBeLessThan(dfsStates);
    // Where DPOR gives up for a possible livelock (src/explore/dpor.ts, "livelocks"): the two
    // livelock models, and three whose retry loops DPOR cannot yet tell from one.
    expect(fellBack).toEqual([
      'mm-swap-skip-swapcache-race/v6.8',
      'trylock-backoff/default',
      'trylock-livelock/default',
      'uffd-move-vs-thp-migration/v6.16',
      'uffd-move-vs-thp-migration/fixed',
    ]);
    process.stdout.write(`DPOR vs plain DFS over the catalogue: states ${dfsStates} -> ${dporStates}, transitions ${dfsSteps} -> ${dporSteps}\n`);
  }, 600_000); // two exhaustive searches of every variant: minutes on a loaded 2-core machine
});
