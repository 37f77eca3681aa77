/**
 * Readers of one rwsem commute (src/locks/space.ts: read holds are per-thread counts): DPOR and the
 * sleep-set POR explore one order of readers that touch nothing else, while every order a writer
 * makes observable is still explored, and rwsem deadlocks (a recursive read behind a queued writer,
 * an ABBA between an rwsem and a mutex) are still found with witnesses that replay.
 */
import { describe, expect, it } from 'vitest';
import { ModelBuilder, type Model } from '../../src/engine/model.js';
import { BLOCKED, proc } from '../../src/engine/proc.js';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { LockKind } from '../../src/locks/space.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { catalogueModel, dfsOf } from '../helpers.js';

/** `n` threads, each down_read(sem); up_read(sem) and nothing else. */
function readers(n: number): Model {
  const actors = Array.from({ length: n }, (_, i) => `  - name: R${i}\n    ops:\n      - { op: down_read, lock: sem }\n      - { op: up_read, lock: sem }\n`).join('');
  return buildModel(parseScenario(`name: readers\ndescription: readers only\nlocks:\n  sem: { kind: rwsem }\nactors:\n${actors}variants:\n  default: { expect: [] }\n`, 'readers.yaml'), 'default');
}

const codes = (r: ReturnType<typeof dfsOf>) => [...new Set(r.findings.map((f) => f.verdict.code))].sort();

type K = {
  w: { get(i: number): number; set(i: number, v: number): void };
  down_read(l: number): boolean;
  up_read(l: number): boolean;
  down_write(l: number): boolean;
  up_write(l: number): boolean;
  ret(v: number): number;
};

/**
 * A writer sets `ver` to 2 then to 1 under down_write (2 is the torn, in-between value); each of two
 * readers copies `ver` into its own cell under down_read. The invariant fires when the readers' cells
 * (each 0 until its reader ran) read `outcome` once both are done, or when a reader saw the torn 2.
 */
function versioned(outcome: readonly [number, number] | null): Model {
  const b = new ModelBuilder('versioned');
  const sem = b.lock('sem', LockKind.Rwsem);
  const base = b.layout.region('cell', 1, ['ver']);
  const seen = b.layout.region('seen', 2, ['v', 'done']);
  b.thread(
    'W',
    proc('writer', 'test', () => ({}), {
      lock: (k: K) => (k.down_write(sem) ? 'torn' : BLOCKED),
      torn: (k: K) => {
        k.w.set(base, 2);
        return 'set';
      },
      set: (k: K) => {
        k.w.set(base, 1);
        return 'unlock';
      },
      unlock: (k: K) => (k.up_write(sem) ? 'end' : BLOCKED),
      end: (k: K) => k.ret(0),
    } as never),
  );
  for (let r = 0; r < 2; r++)
    b.thread(
      `R${r}`,
      proc(`reader${r}`, 'test', () => ({}), {
        lock: (k: K) => (k.down_read(sem) ? 'copy' : BLOCKED),
        copy: (k: K) => {
          k.w.set(seen + 2 * r, k.w.get(base));
          k.w.set(seen + 2 * r + 1, 1);
          return 'unlock';
        },
        unlock: (k: K) => (k.up_read(sem) ? 'end' : BLOCKED),
        end: (k: K) => k.ret(0),
      } as never),
    );
  b.invariants.push((w) => {
    const a = w.get(seen);
    const c = w.get(seen + 2);
    if (a === 2 || c === 2) return 'a reader saw the writer half-way';
    if (outcome && w.get(seen + 1) === 1 && w.get(seen + 3) === 1 && a === outcome[0] && c === outcome[1]) return `outcome ${a}${c}`;
    return null;
  });
  return b.build();
}

describe('readers of one rwsem under DPOR and POR', () => {
  it.each([2, 3, 4])('%i readers touching nothing else: DPOR explores exactly one order; POR keeps every state with fewer transitions', (n) => {
    const m = readers(n);
    const plain = dfsOf(m, { por: false });
    const dpor = dfsOf(m, { dpor: true });
    const por = dfsOf(m);
    // One order: each reader's transitions (down_read, up_read, exit) once, so 3n transitions and 3n + 1 states.
    expect({ states: dpor.distinct, transitions: dpor.steps, complete: dpor.complete, codes: codes(dpor) }).toEqual({ states: 3 * n + 1, transitions: 3 * n, complete: true, codes: [] });
    // Every state of the product of n three-step threads: 4^n; plain DFS takes every edge (3n 4^(n-1) of them).
    expect({ states: plain.distinct, transitions: plain.steps }).toEqual({ states: 4 ** n, transitions: 3 * n * 4 ** (n - 1) });
    // Sleep sets skip transitions, never states: with every pair independent each state is entered once.
    expect({ states: por.distinct, transitions: por.steps }).toEqual({ states: 4 ** n, transitions: 4 ** n - 1 });
  });

  it('a writer and two readers: every outcome the writer makes observable is reached, never a torn read', () => {
    const clean = versioned(null);
    for (const opts of [{ por: false }, {}, { dpor: true }]) {
      const r = dfsOf(clean, opts);
      expect({ complete: r.complete, codes: codes(r) }).toEqual({ complete: true, codes: [] });
    }
    for (const outcome of [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ] as const) {
      const m = versioned(outcome);
      const r = dfsOf(m, { dpor: true });
      expect(codes(r)).toEqual(['invariant']);
      const f = r.findings[0] as (typeof r.findings)[number];
      expect(f.verdict.message).toBe(`outcome ${outcome[0]}${outcome[1]}`);
      expect(replayToken(m, encodeToken(f.choices), 100).verdict?.message).toBe(f.verdict.message);
    }
  });

  it('a recursive read behind a queued writer deadlocks under DPOR too, with a third reader around', () => {
    const plainModel = catalogueModel('rwsem-read-recursion');
    const r = dfsOf(plainModel, { dpor: true });
    expect(codes(r)).toEqual(['deadlock']);
    const text = `name: rwsem-recursion-3\ndescription: A reads twice, W writes, R reads once\nlocks:\n  sem: { kind: rwsem }\nactors:\n  - name: A\n    ops:\n      - { op: down_read, lock: sem }\n      - { op: down_read, lock: sem, nested: 1 }\n      - { op: up_read, lock: sem }\n      - { op: up_read, lock: sem }\n  - name: W\n    ops:\n      - { op: down_write, lock: sem }\n      - { op: up_write, lock: sem }\n  - name: R\n    ops:\n      - { op: down_read, lock: sem }\n      - { op: up_read, lock: sem }\nvariants:\n  default: { expect: [deadlock] }\n`;
    const m = buildModel(parseScenario(text, 'recursion.yaml'), 'default');
    const plain = dfsOf(m, { por: false });
    const dpor = dfsOf(m, { dpor: true });
    expect(codes(plain)).toEqual(['deadlock']);
    expect(codes(dpor)).toEqual(['deadlock']);
    const f = dpor.findings[0] as (typeof dpor.findings)[number];
    const rep = replayToken(m, encodeToken(f.choices), 100);
    expect(rep.verdict?.code).toBe('deadlock');
    expect(rep.verdict?.message).toMatch(/A waits for sem for read \(blocked by W queued ahead\)/);
  });

  it('ABBA between an rwsem read side and a mutex: the deadlock is found by DPOR and replays', () => {
    const text = `name: rwsem-abba\ndescription: A reads sem then takes m; B takes m then writes sem; C only reads sem\nlocks:\n  sem: { kind: rwsem }\n  m: { kind: mutex }\nactors:\n  - name: A\n    ops:\n      - { op: down_read, lock: sem }\n      - { op: lock, lock: m }\n      - { op: unlock, lock: m }\n      - { op: up_read, lock: sem }\n  - name: B\n    ops:\n      - { op: lock, lock: m }\n      - { op: down_write, lock: sem }\n      - { op: up_write, lock: sem }\n      - { op: unlock, lock: m }\n  - name: C\n    ops:\n      - { op: down_read, lock: sem }\n      - { op: up_read, lock: sem }\nvariants:\n  default: { expect: [deadlock] }\n`;
    const m = buildModel(parseScenario(text, 'abba.yaml'), 'default');
    const plain = dfsOf(m, { por: false });
    const dpor = dfsOf(m, { dpor: true });
    expect(codes(plain)).toContain('deadlock');
    expect(codes(dpor)).toEqual(codes(plain));
    expect(dpor.steps).toBeLessThan(plain.steps);
    const f = dpor.findings.find((x) => x.verdict.code === 'deadlock') as (typeof dpor.findings)[number];
    const rep = replayToken(m, encodeToken(f.choices), 100);
    expect(rep.verdict?.code).toBe('deadlock');
    expect(rep.verdict?.message).toMatch(/deadlock: /);
  });
});
