/** The built-in lock scenarios: each verdict found from the model, each witness replayed and its trace checked. */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { LockGraph } from '../../src/locks/lockdep.js';
import { World } from '../../src/engine/world.js';
import { Pct } from '../../src/explore/pct.js';
import { Replay } from '../../src/explore/replay.js';
import { replayToken } from '../../src/explore/replayer.js';
import { runOnce } from '../../src/explore/run.js';
import { encodeToken } from '../../src/explore/token.js';
import { toJson } from '../../src/trace/json.js';
import { catalogueModel, dfsOf } from '../helpers.js';

/** Independent count of philosophers' reachable states (pc, status, queue position per thread, 0 once handed the fork; fork owners). */
function philosopherStates(n: number, ordered: boolean): number {
  // Per philosopher: pc 0..4 (4 = exit step), 5 = exited; status 0 runnable, 1 blocked; wait = fork+1 or 0; pos.
  type P = [pc: number, blocked: number, wait: number, pos: number];
  const forks = (i: number): [number, number] => {
    const a = i;
    const b = (i + 1) % n;
    return ordered && i === n - 1 ? [b, a] : [a, b];
  };
  const key = (ps: P[], own: number[]) => JSON.stringify([ps, own]);
  const start: [P[], number[]] = [Array.from({ length: n }, () => [0, 0, 0, 0] as P), new Array(n).fill(-1)];
  const seen = new Set([key(...start)]);
  const queue = [start];
  while (queue.length) {
    const [ps, own] = queue.shift() as [P[], number[]];
    for (let i = 0; i < n; i++) {
      const [pc, blocked] = ps[i] as P;
      if (blocked || pc === 5) continue;
      const q = ps.map((p) => [...p] as P);
      const o = [...own];
      const me = q[i] as P;
      const [f1, f2] = forks(i);
      if (pc === 0 || pc === 1) {
        const f = pc === 0 ? f1 : f2;
        if (me[2] === f + 1 && me[3] === 0) {
          // Handed the fork on release (FIFO handoff): the blocked lock step completes.
          me[2] = 0;
          me[0]++;
        } else if (o[f] === -1) {
          o[f] = i;
          if (me[2]) {
            for (const p of q) if (p[2] === f + 1 && p[3] > me[3]) p[3]--;
            me[2] = 0;
            me[3] = 0;
          }
          me[0]++;
        } else {
          if (me[2] !== f + 1) {
            me[2] = f + 1;
            me[3] = 1 + q.filter((p) => p !== me && p[2] === f + 1 && p[3] > 0).length;
          }
          me[1] = 1;
        }
      } else if (pc === 2 || pc === 3) {
        const f = pc === 2 ? f2 : f1;
        o[f] = -1;
        // FIFO handoff: the first waiter owns the fork now and is woken; the others move up.
        const first = q.findIndex((p) => p[2] === f + 1 && p[3] === 1);
        if (first >= 0) {
          o[f] = first;
          for (const p of q) if (p[2] === f + 1) p[3]--;
          (q[first] as P)[1] = 0;
        }
        me[0]++;
      } else me[0] = 5;
      const k = key(q, o);
      if (!seen.has(k)) {
        seen.add(k);
        queue.push([q, o]);
      }
    }
  }
  return seen.size;
}

describe('abba', () => {
  const m = catalogueModel('abba');

  it('DFS finds the deadlock and its witness replays to the same cycle', () => {
    const r = dfsOf(m);
    const f = r.findings.find((x) => x.verdict.code === 'deadlock');
    expect(f?.verdict.message).toMatch(/deadlock: T0 -> T1 -> T0/);
    const token = encodeToken(f?.choices ?? []);
    const a = replayToken(m, token, 100);
    const b = replayToken(m, token, 100);
    expect(a.verdict?.code).toBe('deadlock');
    const meta = { scenario: 'abba', variant: 'default', token, verdict: a.verdict };
    expect(toJson(a.events, meta)).toBe(toJson(b.events, { ...meta, verdict: b.verdict }));
    // The trace shows each thread holding one lock and blocking on the other.
    const locks = a.events.filter((e) => e.k === 'lock').map((e) => e.k === 'lock' && `${e.t} ${e.op} ${e.lock}`);
    expect(locks).toEqual(expect.arrayContaining(['T0 acquire A', 'T1 acquire B', 'T0 block B', 'T1 block A']));
    expect(locks).not.toContain('T0 acquire B');
  });

  it('PCT (d=2) finds the deadlock within its probability bound', () => {
    // Bug depth 2 (one ordering constraint beyond the start), n = 2 threads, k ≈ 10 steps:
    // p ≥ 1/(n·k) = 1/20 per run, so 200 runs miss it with probability ≤ (19/20)^200 < 4e-5.
    const w = new World(m, null);
    const init = w.snapshot();
    const pct = new Pct(7, 2, 2, 10);
    let foundAt = -1;
    for (let run = 0; run < 200 && foundAt < 0; run++) {
      runOnce(w, init, pct, run, 100, new Int32Array(2));
      if (w.verdict?.code === 'deadlock') foundAt = run;
    }
    expect(foundAt).toBeGreaterThanOrEqual(0);
  });

  it('lockdep reports the cycle from runs that did not deadlock', () => {
    const graph = new LockGraph();
    const w = new World(m, graph);
    const init = w.snapshot();
    for (const serial of [[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]) {
      runOnce(w, init, new Replay(serial), 0, 100, new Int32Array(2));
      expect(w.verdict).toBeNull();
    }
    const cycles = graph.cycles();
    expect(cycles).toHaveLength(1);
    expect(m.classes[(cycles[0]?.added.from ?? 0) >> 2]).toBe('B');
    expect(m.classes[(cycles[0]?.added.to ?? 0) >> 2]).toBe('A');
  });
});

describe('philosophers', () => {
  for (const n of [3, 4]) {
    it(`${n} philosophers deadlock; the ordered variant is proven deadlock-free with the exact state count`, () => {
      const bad = dfsOf(catalogueModelN(n, 'default'));
      expect(bad.findings.map((f) => f.verdict.code)).toEqual(['deadlock']);
      expect(bad.graph.cycles().length).toBe(1);
      const good = dfsOf(catalogueModelN(n, 'ordered'));
      expect(good.findings).toEqual([]);
      expect(good.complete).toBe(true);
      expect(good.distinct).toBe(philosopherStates(n, true));
      expect(bad.distinct).toBe(philosopherStates(n, false));
    });
  }
});

describe('rwsem, spin-then-mutex, trylock-backoff', () => {
  it('rwsem read recursion behind a queued writer deadlocks', () => {
    const m = catalogueModel('rwsem-read-recursion');
    const r = dfsOf(m);
    expect(r.findings.map((f) => f.verdict.code)).toEqual(['deadlock']);
    expect(r.findings[0]?.verdict.message).toMatch(/A -> W -> A/);
    const t = replayToken(m, encodeToken(r.findings[0]?.choices ?? []), 100);
    const ops = t.events.flatMap((e) => (e.k === 'lock' ? [`${e.t} ${e.op} ${e.mode}`] : []));
    expect(ops).toEqual(['A acquire r', 'W block w', 'A block r']);
  });

  it('spin-then-mutex sleeps in atomic context even uncontended', () => {
    const r = dfsOf(catalogueModel('spin-then-mutex'));
    expect(r.findings.map((f) => f.verdict.code)).toEqual(['sleep-in-atomic']);
    expect(r.findings[0]?.verdict.message).toMatch(/mutex_lock\(mutex\) with spinlock held \(lock\)/);
  });

  it('trylock-backoff has no deadlock and no lock-order cycle, and DFS completes', () => {
    const r = dfsOf(catalogueModel('trylock-backoff'));
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.graph.cycles()).toEqual([]);
    expect(r.distinct).toBeGreaterThan(20);
  });
});

function catalogueModelN(n: number, variant: string) {
  const text = `name: philosophers-${n}\ndescription: test\ngenerate: { kind: philosophers, n: ${n} }\nvariants:\n  default: { expect: [deadlock] }\n  ordered: { switches: { ordered: true }, expect: [] }\n`;
  return buildModel(parseScenario(text, `philosophers-${n}.yaml`), variant);
}
