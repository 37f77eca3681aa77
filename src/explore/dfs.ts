/**
 * Stateful depth-first search: every interleaving from a start state, pruned by a visited set of
 * 64-bit state fingerprints, optionally bounded in preemptions. Branching restores snapshots; the
 * path of choices to any state is its replay token.
 *
 * Partial-order reduction (on unless bounded): sleep sets with state caching (Godefroid 1996, ch. 5
 * and 6). A step's footprint is recorded as it runs; a thread whose next step commutes with the ones
 * taken since it was explored sleeps and is not tried again. Sleep sets skip transitions, never
 * states: every reachable state is still visited (and its invariants checked). A state met again
 * with a smaller sleep set is re-entered for the transitions it skipped the first time.
 */
import { checkStuck, enabled, step } from '../engine/exec.js';
import type { Verdict } from '../engine/events.js';
import { type Footprint, FootprintRecorder, independent } from '../engine/footprint.js';
import { mixIn } from '../engine/hash.js';
import { fingerprint, type Snapshot, type World } from '../engine/world.js';
import { FingerprintSet } from './visited.js';

export interface DfsOptions {
  readonly maxSteps: number;
  /** Stop after this many distinct states (the search is then incomplete). */
  readonly maxStates: number;
  /** Bound on preemptions (switching away from a thread that could go on), or Infinity. */
  readonly preemptions: number;
  /** Wall-clock deadline (ms since epoch), or Infinity. */
  readonly deadline: number;
  /** Partial-order reduction with sleep sets (default on; ignored when bounded). */
  readonly por?: boolean;
  /** Check the clock every this many states. */
  readonly clockEvery?: number;
  /** Leaves to reach at most, bytes the visited set may take, and a shared stop flag (checked with the clock). */
  readonly maxRuns?: number;
  readonly maxBytes?: number;
  readonly stop?: Int32Array;
}

export interface DfsResult {
  /** Leaves of the search tree: ends, verdicts and revisits. */
  runs: number;
  steps: number;
  distinct: number;
  complete: boolean;
  /** The first witness of each verdict code, in search order. */
  findings: { verdict: Verdict; choices: number[] }[];
  visited: FingerprintSet;
  /** What ended the search early, or null. */
  stoppedBy: 'signal' | 'max-memory' | 'budget' | 'max-states' | 'max-steps' | null;
}

/** Threads asleep at a node (a bit each) with the footprint of the step each would take, by thread. */
interface SleepSet {
  readonly mask: number;
  readonly fps: readonly (Footprint | undefined)[];
}

interface Node {
  snap: Snapshot;
  steps: number;
  depth: number;
  enabled: Int32Array;
  n: number;
  next: number;
  last: number;
  preemptions: number;
  /** POR: threads asleep on entry, threads explored from here, and (on a revisit) the only ones to try. */
  sleep: SleepSet;
  doneMask: number;
  doneFps: (Footprint | undefined)[] | null;
  only: number;
}

const NONE: SleepSet = { mask: 0, fps: [] };

/** The sleepers and explored siblings at `top` that commute with the step just taken (`mine`). */
function childSleep(top: Node, mine: Footprint, nthreads: number): SleepSet {
  const both = top.sleep.mask | top.doneMask;
  if (both === 0) return NONE;
  let mask = 0;
  let fps: (Footprint | undefined)[] | null = null;
  for (let u = 0; u < nthreads; u++) {
    if (((both >>> u) & 1) === 0) continue;
    const fp = ((top.sleep.mask >>> u) & 1 ? top.sleep.fps[u] : top.doneFps?.[u]) as Footprint;
    if (!independent(fp, mine)) continue;
    mask |= 1 << u;
    fps ??= new Array(nthreads);
    fps[u] = fp;
  }
  return mask === 0 ? NONE : { mask, fps: fps as (Footprint | undefined)[] };
}

/** A stop flag, the memory bound, the deadline or the leaf budget, checked every clockEvery states. */
function stopNow(opts: DfsOptions, res: DfsResult): DfsResult['stoppedBy'] {
  if (opts.stop && Atomics.load(opts.stop, 0) !== 0) return 'signal';
  if (res.visited.byteLength > (opts.maxBytes ?? Number.POSITIVE_INFINITY)) return 'max-memory';
  if (Date.now() > opts.deadline || res.runs >= (opts.maxRuns ?? Number.POSITIVE_INFINITY)) return 'budget';
  return null;
}

export function dfs(w: World, opts: DfsOptions): DfsResult {
  const bounded = Number.isFinite(opts.preemptions);
  const por = opts.por !== false && !bounded && w.nthreads <= 31;
  const visited = new FingerprintSet(1 << 12, por);
  const res: DfsResult = { runs: 0, steps: 0, distinct: 0, complete: true, findings: [], visited, stoppedBy: null };
  const seen = new Set<string>();
  const fp = new Uint32Array(2);
  const buf = new Int32Array(w.nthreads);
  const clockEvery = opts.clockEvery ?? 4096;
  const recorder = por ? new FootprintRecorder(w.mem.length + w.nthreads) : null;

  const finding = () => {
    const v = w.verdict as Verdict;
    res.runs++;
    if (!seen.has(v.code)) {
      seen.add(v.code);
      res.findings.push({ verdict: v, choices: w.choices.slice() });
    }
  };

  const node = (n: number, last: number, preemptions: number, sleep: SleepSet, only: number): Node => ({
    snap: w.snapshot(),
    steps: w.steps,
    depth: w.choices.length,
    enabled: buf.slice(0, n),
    n,
    next: 0,
    last,
    preemptions,
    sleep,
    doneMask: 0,
    doneFps: null,
    only,
  });

  /** The node for the state just reached, or null if there is nothing (more) to explore from it. */
  const expand = (last: number, preemptions: number, sleep: SleepSet): Node | null => {
    fingerprint(w, w.threads, fp);
    let a = fp[0] as number;
    let b = fp[1] as number;
    if (bounded) {
      a = mixIn(a, preemptions * 64 + last + 1) >>> 0;
      b = mixIn(b, preemptions * 131 + last + 7) >>> 0;
    }
    const mask = sleep.mask;
    const slot = visited.put(a, b, mask);
    if (slot >= 0) {
      const skipped = por ? visited.value(slot) & ~mask : 0;
      if (skipped !== 0 && w.steps >= opts.maxSteps) {
        res.complete = false;
        res.stoppedBy ??= 'max-steps';
      }
      if (skipped === 0 || w.steps >= opts.maxSteps) {
        res.runs++;
        return null;
      }
      visited.setValue(slot, visited.value(slot) & mask);
      return node(enabled(w, buf), last, preemptions, sleep, skipped);
    }
    res.distinct++;
    const n = enabled(w, buf);
    if (n === 0) {
      checkStuck(w);
      if (w.verdict) finding();
      else res.runs++;
      return null;
    }
    if (w.steps >= opts.maxSteps || res.distinct > opts.maxStates) {
      res.complete = false;
      res.stoppedBy = res.distinct > opts.maxStates ? 'max-states' : (res.stoppedBy ?? 'max-steps');
      res.runs++;
      return null;
    }
    return node(n, last, preemptions, sleep, -1);
  };

  // Backtracking follows the stack, so snapshots are undo-log positions rather than memory copies.
  w.startUndo();
  try {
    const root = expand(-1, 0, NONE);
    if (w.verdict) return res;
    const stack: Node[] = root ? [root] : [];
    let at: Node | null = root;
    while (stack.length) {
      const top = stack[stack.length - 1] as Node;
      if (top.next >= top.n) {
        stack.pop();
        continue;
      }
      const i = top.next++;
      const tid = top.enabled[i] as number;
      if (por && ((top.only >= 0 && (top.only & (1 << tid)) === 0) || (top.sleep.mask >>> tid) & 1)) continue;
      let pre = top.preemptions;
      if (top.last >= 0 && tid !== top.last && top.enabled.includes(top.last)) pre++;
      if (pre > opts.preemptions) {
        res.complete = false;
        continue;
      }
      if (at !== top) {
        w.restore(top.snap);
        w.steps = top.steps;
        w.choices.length = top.depth;
      }
      at = null;
      if (top.n > 1) w.choices.push(i);
      // The step's footprint is needed if a sleeper or an explored sibling may commute with it, or a later sibling may.
      const rec = recorder !== null && ((top.sleep.mask | top.doneMask) !== 0 || i < top.n - 1) ? recorder : null;
      rec?.begin();
      w.rec = rec;
      step(w, tid);
      w.rec = null;
      res.steps++;
      let sleep = NONE;
      if (rec) {
        const mine = rec.take();
        sleep = childSleep(top, mine, w.nthreads);
        top.doneMask |= 1 << tid;
        (top.doneFps ??= new Array(w.nthreads))[tid] = mine;
      }
      if (w.verdict) {
        finding();
        continue;
      }
      const child = expand(tid, pre, sleep);
      if (w.verdict) continue;
      if (child) {
        stack.push(child);
        at = child;
      }
      if ((res.distinct & (clockEvery - 1)) === 0) {
        const why = stopNow(opts, res);
        if (why) {
          res.complete = false;
          res.stoppedBy = why;
          break;
        }
      }
    }
  } finally {
    w.stopUndo();
  }
  return res;
}
