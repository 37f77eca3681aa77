/**
 * Stateful depth-first search: every interleaving from a start state, pruned by a visited set of
 * 64-bit state fingerprints, optionally bounded in preemptions. Branching restores snapshots; the
 * path of choices to any state is its replay token.
 */
import { checkStuck, enabled, step } from '../engine/exec.js';
import type { Verdict } from '../engine/events.js';
import { fingerprint, type Snapshot, type World } from '../engine/world.js';
import { mixIn } from '../engine/hash.js';
import { FingerprintSet } from './visited.js';

export interface DfsOptions {
  readonly maxSteps: number;
  /** Stop after this many distinct states (the search is then incomplete). */
  readonly maxStates: number;
  /** Bound on preemptions (switching away from a thread that could go on), or Infinity. */
  readonly preemptions: number;
  /** Wall-clock deadline (ms since epoch), or Infinity. */
  readonly deadline: number;
  /** Check the clock every this many states. */
  readonly clockEvery?: number;
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
}

export function dfs(w: World, opts: DfsOptions): DfsResult {
  const visited = new FingerprintSet();
  const res: DfsResult = { runs: 0, steps: 0, distinct: 0, complete: true, findings: [], visited };
  const seen = new Set<string>();
  const fp = new Uint32Array(2);
  const buf = new Int32Array(w.nthreads);
  const bounded = Number.isFinite(opts.preemptions);
  const clockEvery = opts.clockEvery ?? 4096;

  const finding = () => {
    const v = w.verdict as Verdict;
    res.runs++;
    if (!seen.has(v.code)) {
      seen.add(v.code);
      res.findings.push({ verdict: v, choices: w.choices.slice() });
    }
  };

  const expand = (last: number, preemptions: number): Node | null => {
    fingerprint(w, w.threads, fp);
    let a = fp[0] as number;
    let b = fp[1] as number;
    if (bounded) {
      a = mixIn(a, preemptions * 64 + last + 1) >>> 0;
      b = mixIn(b, preemptions * 131 + last + 7) >>> 0;
    }
    if (!visited.add(a, b)) {
      res.runs++;
      return null;
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
      res.runs++;
      return null;
    }
    return { snap: w.snapshot(), steps: w.steps, depth: w.choices.length, enabled: buf.slice(0, n), n, next: 0, last, preemptions };
  };

  const root = expand(-1, 0);
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
    step(w, tid);
    res.steps++;
    if (w.verdict) {
      finding();
      continue;
    }
    const child = expand(tid, pre);
    if (w.verdict) continue;
    if (child) {
      stack.push(child);
      at = child;
    }
    if ((res.distinct & (clockEvery - 1)) === 0 && Date.now() > opts.deadline) {
      res.complete = false;
      break;
    }
  }
  return res;
}
