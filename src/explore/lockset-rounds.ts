/**
 * The rounds of the lockset reduction (../engine/lockset.ts states the rule and why it is sound):
 * seed the racy and watched sets from a few seeded random runs under the full semantics, then search
 * with them; while a round saw a slot become racy or watched that it had assumed protected, search
 * again with the larger sets. The last round saw none: its result is the answer.
 */
import { Lockset } from '../engine/lockset.js';
import { World } from '../engine/world.js';
import type { DfsOptions, DfsResult } from './dfs.js';
import { Pct } from './pct.js';
import { RandomWalk } from './random.js';
import { runOnce } from './run.js';

/**
 * Seeded runs under the full semantics that seed the locksets (as ./dpor.ts seeds its invariant
 * slots): half random walks, half PCT of depth 2 (whole threads in a random order, with one change
 * point, reach orders a random walk rarely does, such as one thread's whole operation before
 * another's). A lockless access they miss costs a whole extra round of the search: with 64 random
 * walks the scaled remap-vs-khugepaged proof (bench/faulting.ts) needed two rounds at every N, with
 * these one up to N = 3.
 */
export const SEED_RUNS = 256;

/** A search's result under the reduction: the last round's states and findings, runs and steps of all rounds. */
export type LocksetResult = DfsResult & {
  rounds: number;
  /** Transitions of each round. */
  roundSteps: number[];
  /** Kernel slots whose writes (reads) are all points, and those an invariant reads, at the end. */
  racyWrites: number;
  racyReads: number;
  watched: number;
};

/** Search from `w`'s state with the lockset reduction; `search` is the DFS (or DPOR) to run each round. */
export function locksetSearch(
  w: World,
  opts: DfsOptions,
  search: (w: World, o: DfsOptions) => DfsResult,
  seedRuns = SEED_RUNS,
  onRound?: (r: DfsResult) => void,
): LocksetResult {
  const ls = new Lockset(w.model);
  seed(ls, w, opts.maxSteps, seedRuns);
  const start = w.snapshot();
  const steps0 = w.steps;
  const depth0 = w.choices.length;
  const roundSteps: number[] = [];
  let runs = 0;
  for (;;) {
    ls.beginRound();
    w.lockset = ls;
    let r: DfsResult;
    try {
      r = search(w, opts);
    } finally {
      w.lockset = null;
    }
    roundSteps.push(r.steps);
    onRound?.(r);
    const broken = ls.broken();
    const over = r.stoppedBy === 'signal' || r.stoppedBy === 'budget' || r.stoppedBy === 'max-memory';
    if (!broken || over) {
      // A round cut short after it broke its assumption proves nothing: it is incomplete.
      if (broken) r.complete = false;
      // Work is counted over every round; states and findings are the last round's.
      const steps = roundSteps.reduce((a, b) => a + b, 0);
      return { ...r, runs: runs + r.runs, steps, rounds: roundSteps.length, roundSteps, ...ls.counts() };
    }
    runs += r.runs;
    w.restore(start);
    w.steps = steps0;
    w.choices.length = depth0;
  }
}

/** Seeded random and PCT runs on a world of its own, every kernel access a point, the locksets learning. */
function seed(ls: Lockset, w: World, maxSteps: number, runs: number): void {
  const v = new World(w.model, null);
  const initial = v.snapshot();
  const buf = new Int32Array(v.nthreads);
  const walk = new RandomWalk(0x10c5e7);
  ls.observing = true;
  v.lockset = ls;
  try {
    let k = 8;
    for (let run = 0; run < runs >> 1; run++) {
      runOnce(v, initial, walk, run, maxSteps, buf);
      k = Math.max(k, v.steps);
    }
    const pct = new Pct(0x10c5e7, 2, v.nthreads, k);
    for (let run = runs >> 1; run < runs; run++) runOnce(v, initial, pct, run, maxSteps, buf);
  } finally {
    v.lockset = null;
    ls.observing = false;
  }
}

