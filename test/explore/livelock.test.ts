/**
 * Livelock as a fair non-progress cycle found by DFS, with a lasso witness that replays; FIFO
 * handoff on release, which keeps retry loops such as trylock-backoff from looking like livelocks.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { replayToken } from '../../src/explore/replayer.js';
import { decodeLasso, encodeToken } from '../../src/explore/token.js';
import { toJson } from '../../src/trace/json.js';
import { ModelBuilder } from '../../src/engine/model.js';
import { addSpinner, catalogueModel, dfsOf } from '../helpers.js';
import { readFileSync } from 'node:fs';
import { scenarioFile } from '../helpers.js';

const lockOps = (events: readonly { k: string }[]) =>
  events.flatMap((e) => (e.k === 'lock' ? [`${(e as { t: string }).t} ${(e as { op: string }).op} ${(e as { lock: string }).lock}`] : []));

describe('livelock', () => {
  it('trylock-livelock: DFS finds a fair cycle without progress; its lasso replays to the same verdict and a byte-identical trace', () => {
    const m = catalogueModel('trylock-livelock');
    const r = dfsOf(m, { maxSteps: 200 });
    expect(r.complete).toBe(true);
    expect(r.findings.map((f) => f.verdict.code)).toEqual(['livelock']);
    const f = r.findings[0];
    expect(f?.cycle).toBeDefined();
    expect(f?.verdict.message).toMatch(/^livelock: T0, T1 can cycle forever under a fair scheduler without progress/);
    const token = encodeToken(f?.choices ?? [], f?.cycle);
    expect(token).toMatch(/^v2\.[0-9a-z.]*-[0-9a-z.]+$/);
    expect(decodeLasso(token)).toEqual({ choices: f?.choices, cycle: f?.cycle });
    const a = replayToken(m, token, 200);
    const b = replayToken(m, token, 200);
    expect(a.verdict?.code).toBe('livelock');
    expect(a.verdict).toEqual(f?.verdict);
    const meta = { scenario: 'trylock-livelock', variant: 'default', token, verdict: a.verdict };
    expect(toJson(a.events, meta)).toBe(toJson(b.events, { ...meta, verdict: b.verdict }));
    // The trace shows both trylocks failing, both backing off, and the loop closing.
    const ops = lockOps(a.events);
    expect(ops).toEqual(expect.arrayContaining(['T0 trylock-failed B', 'T1 trylock-failed A', 'T0 release A', 'T1 release B']));
    expect(ops).not.toContain('T0 acquire B');
    expect(a.events.some((e) => e.k === 'note' && /the loop repeats/.test(e.text))).toBe(true);
    expect(a.steps).toBeLessThan(40);
  });

  it('a progress label on the retry path makes the same loop progress: no livelock', () => {
    const text = readFileSync(scenarioFile('trylock-livelock'), 'utf8').replaceAll('retry', 'progress_retry');
    const r = dfsOf(buildModel(parseScenario(text, 'progress.yaml'), 'default'), { maxSteps: 200 });
    expect(r.complete).toBe(true);
    expect(r.findings).toEqual([]);
  });

  it('a single thread spinning forever is a livelock with an empty loop, and replays', () => {
    const text = `name: spin\ndescription: d\nactors:\n  - name: T0\n    ops:\n      - { op: goto, to: spin, label: spin }\nvariants:\n  default: { expect: [livelock] }\n`;
    const m = buildModel(parseScenario(text, 'spin.yaml'), 'default');
    const f = dfsOf(m, { maxSteps: 100 }).findings[0];
    expect(f?.verdict.code).toBe('livelock');
    const token = encodeToken(f?.choices ?? [], f?.cycle);
    expect(token).toBe('v2.-');
    const a = replayToken(m, token, 100);
    expect(a.verdict).toEqual(f?.verdict);
    expect(a.steps).toBe(1);
  });

  it('two threads each spinning on a flag nobody sets: two unfair one-state loops, joined a fair one (a livelock); the lasso replays', () => {
    // Each spin step leaves the state as it was, so every cycle the DFS closes is one thread's
    // self-loop, unfair to the other; run one after the other they are the livelock.
    const b = new ModelBuilder('two-spinners');
    const base = b.layout.region('cell', 2, ['v']);
    for (let t = 0; t < 2; t++) addSpinner(b, `T${t}`, base + t);
    const m = b.build();
    for (const opts of [{ por: false }, {}, { dpor: true }]) {
      const r = dfsOf(m, { ...opts, maxSteps: 100 });
      expect(r.findings.map((f) => f.verdict.code), JSON.stringify(opts)).toEqual(['livelock']);
      const f = r.findings[0] as (typeof r.findings)[0];
      expect(f.verdict.message).toBe('livelock: T0, T1 can cycle forever under a fair scheduler without progress (a loop of 2 steps back to the same state): T0 at spin_T0:spin; T1 at spin_T1:spin');
      expect([f.choices, f.cycle]).toEqual([[0, 1], 0]);
      expect(replayToken(m, encodeToken(f.choices, f.cycle), 100).verdict?.message).toBe(f.verdict.message);
    }
  });

  it('trylock-backoff is complete and clean: T1 looping while T0 could run is unfair, and handoff ends the fair loop', () => {
    const r = dfsOf(catalogueModel('trylock-backoff'), { maxSteps: 200 });
    expect(r.complete).toBe(true);
    expect(r.findings).toEqual([]);
  });

  it('a v1 token still decodes and replays as before', () => {
    expect(decodeLasso('v1.0.c.1')).toEqual({ choices: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] });
    expect(() => decodeLasso('v2.01')).toThrow(/"-" between the prefix and the loop/);
  });
});

describe('FIFO handoff on release', () => {
  const text = (kind: string) =>
    `name: handoff\ndescription: d\nlocks:\n  A: { kind: ${kind} }\nactors:\n  - name: T0\n    ops:\n      - { op: lock, lock: A }\n      - { op: unlock, lock: A }\n      - { op: lock, lock: A }\n      - { op: unlock, lock: A }\n  - name: T1\n    ops:\n      - { op: lock, lock: A }\n      - { op: unlock, lock: A }\nvariants:\n  default: { expect: [] }\n`;

  for (const kind of ['mutex', 'spinlock']) {
    it(`${kind}: the unlocker cannot take the lock back ahead of the waiter it woke`, () => {
      const m = buildModel(parseScenario(text(kind), 'handoff.yaml'), 'default');
      // T0 takes A, T1 blocks on it, T0 unlocks (handing A to T1) and tries again: it must wait.
      const t = replayToken(m, encodeToken([0, 1, 0, 0, 0, 0, 0, 0]), 100);
      expect(t.verdict).toBeNull();
      expect(lockOps(t.events).slice(0, 6)).toEqual(['T0 acquire A', 'T1 block A', 'T0 release A', 'T0 block A', 'T1 acquire A', 'T1 release A']);
    });
  }

  it('rwsem keeps wake-all: the releaser may take it again first', () => {
    const m = buildModel(parseScenario(text('rwsem').replaceAll('op: lock', 'op: down_write').replaceAll('op: unlock', 'op: up_write'), 'h.yaml'), 'default');
    const t = replayToken(m, encodeToken([0, 1, 0, 0, 0, 0, 0, 0]), 100);
    expect(lockOps(t.events).slice(0, 4)).toEqual(['T0 acquire A', 'T1 block A', 'T0 release A', 'T0 acquire A']);
  });
});
