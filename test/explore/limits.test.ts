/** Runs that always end: linear merging of state sets, bounded token decoding, caps named in the result. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, explore } from '../../src/explore/explore.js';
import { inlineRunner } from '../../src/explore/pool.js';
import { TokenMismatch } from '../../src/explore/replay.js';
import { replayToken } from '../../src/explore/replayer.js';
import { runTask } from '../../src/explore/task.js';
import { BadToken, decodeToken } from '../../src/explore/token.js';
import { FingerprintSet } from '../../src/explore/visited.js';
import { buildModel } from '../../src/scenario/build.js';
import { withParams } from '../../src/scenario/generate.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { catalogueModel, scenarioFile } from '../helpers.js';

const philosophers = (n: number, variant: string) => {
  const file = scenarioFile('philosophers-3');
  const model = buildModel(withParams(loadScenarioFile(file), { n }), variant);
  return { file, variant, params: { n }, model, expected: [], mustComplete: false };
};

describe('merging state sets', () => {
  it('adds another set in its slot order with a bounded number of probes per entry, at every size', () => {
    let seed = 7;
    const rnd = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (const n of [50_000, 200_000, 800_000]) {
      const src = new FingerprintSet();
      for (let i = 0; i < n; i++) src.add(rnd(), rnd());
      const into = new FingerprintSet();
      for (let i = 0; i < 1000; i++) into.add(rnd(), rnd());
      expect(into.addAll(src.entries())).toBe(src.size);
      expect(into.size).toBe(src.size + 1000);
      // Growing while inserting in slot order made this grow with n (131k inserts: 25 s); sized first, it stays flat.
      expect(into.mergeProbes / n).toBeLessThan(4);
      expect(into.addAll(src.entries())).toBe(0);
    }
  });

  it('a split DFS (several task sets merged by the coordinator) counts the same states as one search', async () => {
    const t = philosophers(5, 'ordered');
    const run = inlineRunner((task) => runTask(t.model, task));
    const one = await explore(t, { ...DEFAULTS, strategy: 'dfs' }, run);
    const split = await explore(t, { ...DEFAULTS, strategy: 'dfs', split: 3 }, run);
    expect(one.complete && split.complete).toBe(true);
    expect(one.stoppedBy).toBeNull();
    expect(split.distinctStates).toBe(one.distinctStates);
    expect(one.distinctStates).toBeGreaterThan(5000);
  });
});

describe('caps are named', () => {
  it('a DFS cut by maxStates says so, and a run budget caps the DFS leaves too', async () => {
    const t = philosophers(6, 'ordered');
    const run = inlineRunner((task) => runTask(t.model, task));
    const capped = await explore(t, { ...DEFAULTS, strategy: 'dfs', maxStates: 3000 }, run);
    expect(capped.complete).toBe(false);
    expect(capped.stoppedBy).toBe('max-states');
    const leaves = await explore(t, { ...DEFAULTS, strategy: 'dfs', maxStates: 100_000_000, dfsRuns: 50 }, run);
    expect(leaves.stoppedBy).toBe('budget');
    expect(leaves.runs).toBeLessThan(20_000);
  });

  it('a DFS stops cleanly at --max-memory and when the stop flag is set', async () => {
    const t = philosophers(6, 'ordered');
    const run = inlineRunner((task) => runTask(t.model, task));
    const mem = await explore(t, { ...DEFAULTS, strategy: 'dfs', maxMemory: 256 * 1024 }, run);
    expect(mem.stoppedBy).toBe('max-memory');
    expect(mem.memoryBytes).toBeLessThanOrEqual(2 * 256 * 1024);
    const stop = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(stop, 0, 1);
    const stopped = await explore(t, { ...DEFAULTS, strategy: 'portfolio', stop }, run);
    expect(stopped.stoppedBy).toBe('signal');
    expect(stopped.complete).toBe(false);
  });

  it('a task stops itself at its time limit and says so', async () => {
    const t = philosophers(8, 'ordered');
    const run = inlineRunner((task) => runTask(t.model, task));
    const r = await explore(t, { ...DEFAULTS, strategy: 'dfs', maxStates: 100_000_000, taskLimitMs: 300 }, run);
    expect(r.stoppedBy).toBe('task-limit');
    expect(r.complete).toBe(false);
    expect(r.distinctStates).toBeGreaterThan(0);
  });

  it('random runs count states up to the state cap, then say the count is a lower bound', async () => {
    const t = philosophers(5, 'default');
    const run = inlineRunner((task) => runTask(t.model, task));
    const r = await explore(t, { ...DEFAULTS, strategy: 'random', runs: 500, stateCap: 100 }, run);
    expect(r.statesCapped).toBe(true);
    expect(r.distinctStates).toBe(100);
  });
});

describe('replay tokens cannot hurt', () => {
  const bomb = `v1.${'0.5yc1s.'.repeat(20)}`;

  it('the 163-character token bomb is refused before it allocates', () => {
    expect(bomb.length).toBe(163);
    expect(() => decodeToken(bomb, 500)).toThrow(BadToken);
    expect(() => decodeToken(bomb)).toThrow(/more than 1000000 choices/);
    expect(() => decodeToken('v1.0.zzzzzzzzz.')).toThrow(BadToken);
    expect(decodeToken('v1.0.c.1', 13)).toHaveLength(13);
    expect(() => decodeToken('v1.0.c.1', 12)).toThrow(/more than 12 choices/);
  });

  it('10,000 fuzzed tokens replay or are refused as bad input (exit 0, 1 or 2), in bounded memory', () => {
    const model = catalogueModel('philosophers-3');
    const alphabet = [...'0123456789abcz.', 'y', '!', ' ', '\u0000', 'Z'];
    const token = fc.oneof(
      fc.array(fc.constantFrom(...alphabet), { maxLength: 60 }).map((cs) => `v1.${cs.join('')}`),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 2, max: 36 ** 6 })), { maxLength: 30 }).map((rs) => `v1.${rs.map(([c, n]) => `${c}.${n.toString(36)}.`).join('')}`),
      fc.string({ maxLength: 40 }),
    );
    const before = process.memoryUsage().rss;
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(token, (tk) => {
        let exit: number;
        try {
          const r = replayToken(model, tk, 200);
          exit = !r.consumed ? 2 : r.verdict ? 1 : 0;
        } catch (e) {
          if (!(e instanceof BadToken || e instanceof TokenMismatch)) throw e;
          exit = 2;
        }
        outcomes.set(String(exit), (outcomes.get(String(exit)) ?? 0) + 1);
        expect([0, 1, 2]).toContain(exit);
      }),
      { numRuns: 10_000, seed: 10 },
    );
    expect(outcomes.get('2')).toBeGreaterThan(100);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
  });
});
