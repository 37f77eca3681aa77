/**
 * Livelock: a reachable cycle of states that a fair scheduler can follow forever while no thread
 * makes progress. The DFS finds candidates as back edges to a state still on its stack; this file
 * decides whether such a cycle is a livelock and words the verdict (replay words it the same way).
 *
 * Fairness is weak fairness: a cycle is fair when every thread enabled in all of its states takes
 * a step in it (a thread that is blocked somewhere on the cycle need not run). Progress, as Spin's
 * progress labels: a step at a label whose name starts with `progress`, or a step that changes a
 * kernel object (a memory slot below the lock records). Lock and unlock, trylock failures, waits,
 * wake-ups, messages and a thread's own locals are not progress; a thread that exits makes progress,
 * but an exit cannot lie on a cycle (a done thread stays done).
 */
import { enabled, step } from '../engine/exec.js';
import { fingerprint, type ThreadState, World } from '../engine/world.js';
import type { Node } from './order.js';

import { isProgressLabel } from '../engine/visibility.js';

export { isProgressLabel };

/** The label a thread's next step runs at, in the given thread states. */
export function stepLabel(threads: readonly ThreadState[], tid: number): string {
  const fs = (threads[tid] as ThreadState).frames;
  const f = fs[fs.length - 1];
  return f ? (f.proc.labels[f.pc] as string) : '';
}

/**
 * The cycle stack[from..] followed by the step just taken back to stack[from]'s state: the index
 * of the node the witness's loop starts at (its first branch point, or `from`), or -1 when the cycle
 * is unfair or makes progress.
 */
export function livelockAt(w: World, stack: readonly Node[], from: number): number {
  if (!quietLoop(w, stack, from, masks)) return -1;
  if (((masks[0] as number) & ~(masks[1] as number)) !== 0) return -1;
  let start = from;
  while (start < stack.length && (stack[start] as Node).n < 2) start++;
  return start < stack.length ? start : from;
}

const masks = new Int32Array(2);

/**
 * Whether the cycle stack[from..] followed by the step just taken back to stack[from]'s state makes
 * no progress; if so, out[0] is the threads enabled in all of its states and out[1] those that step.
 */
export function quietLoop(w: World, stack: readonly Node[], from: number, out: Int32Array): boolean {
  let always = -1;
  let stepped = 0;
  for (let x = from; x < stack.length; x++) {
    const node = stack[x] as Node;
    let here = 0;
    for (let i = 0; i < node.n; i++) here |= 1 << (node.enabled[i] as number);
    always &= here;
    const tid = node.enabled[node.next - 1] as number;
    stepped |= 1 << tid;
    if (isProgressLabel(stepLabel(node.snap.threads, tid))) return false;
  }
  if (w.changedBelow((stack[from] as Node).snap.undoPos, w.lockBase)) return false;
  out[0] = always;
  out[1] = stepped;
  return true;
}

/** The verdict's text: who cycles, where each thread stands when the loop starts, and its length. */
export function livelockMessage(w: World, threads: readonly ThreadState[], stepped: number, steps: number): string {
  const who: string[] = [];
  const where: string[] = [];
  for (let t = 0; t < w.nthreads; t++) {
    if ((stepped >>> t) & 1) who.push(w.threadName(t));
    const fs = (threads[t] as ThreadState).frames;
    const f = fs[fs.length - 1];
    where.push(`${w.threadName(t)} at ${f ? `${f.proc.name}:${f.proc.labels[f.pc]}` : 'exited'}`);
  }
  return `livelock: ${who.join(', ')} can cycle forever under a fair scheduler without progress (a loop of ${steps} steps back to the same state): ${where.join('; ')}`;
}

/** Whether thread `tid`'s step from the thread states `before` (memory undo log at `undoPos` then) made progress. */
export function madeProgress(w: World, before: readonly ThreadState[], tid: number, undoPos: number): boolean {
  return w.changedBelow(undoPos, w.lockBase) || isProgressLabel(stepLabel(before, tid));
}

/**
 * Each thread's own states (hash lanes a, b of its ThreadState, pairs) at the states of the path
 * that led to `w` in its first `steps` steps (a task's prefix: w.choices at branch points),
 * replayed on a fresh world.
 */
export function ownStatesBefore(w: World, steps: number): number[][] {
  const out: number[][] = Array.from({ length: w.nthreads }, () => []);
  if (steps === 0) return out;
  const v = new World(w.model, null);
  const buf = new Int32Array(v.nthreads);
  const key = new Uint32Array(2);
  let c = 0;
  const note = () => {
    fingerprint(v, v.threads, key);
    for (let t = 0; t < v.nthreads; t++) out[t]?.push((v.threads[t] as ThreadState).ha | 0, (v.threads[t] as ThreadState).hb | 0);
  };
  note();
  while (v.steps < steps) {
    const n = enabled(v, buf);
    if (n === 0 || v.verdict) break;
    step(v, buf[n > 1 ? (w.choices[c++] as number) : 0] as number);
    note();
  }
  return out;
}
