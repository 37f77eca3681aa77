/**
 * Partial-order reduction: sleep sets with state caching (Godefroid 1996, ch. 5 and 6). A step's
 * footprint is recorded as it runs; a thread whose next step commutes with the ones taken since it
 * was explored sleeps and is not tried again. Sleep sets skip transitions, never states: every
 * reachable state is still visited (and its invariants checked). A state met again with a smaller
 * sleep set is re-entered for the transitions it skipped the first time (the visited set keeps each
 * state's sleep set as its value).
 */
import { type Footprint, FootprintRecorder, independent } from '../engine/footprint.js';
import { NO_SLEEP, type Node, type SearchOrder, SKIP, type SleepSet, type VisitedSet } from './order.js';

export class PorOrder implements SearchOrder {
  readonly name = 'dfs+por';
  readonly withValues = true;
  private readonly rec: FootprintRecorder;

  /** `slots`: shared memory slots plus one mailbox pseudo-slot per thread. */
  constructor(
    private readonly nthreads: number,
    slots: number,
  ) {
    this.rec = new FootprintRecorder(slots);
  }

  key(): void {}

  revisit(visited: VisitedSet, slot: number, sleep: SleepSet, cut: boolean): number {
    const skipped = visited.value(slot) & ~sleep.mask;
    if (skipped !== 0 && !cut) visited.setValue(slot, visited.value(slot) & sleep.mask);
    return skipped;
  }

  admit(top: Node, _i: number, tid: number): number {
    if ((top.only >= 0 && (top.only & (1 << tid)) === 0) || (top.sleep.mask >>> tid) & 1) return SKIP;
    return top.preemptions;
  }

  /** Needed if a sleeper or an explored sibling may commute with the step, or a later sibling may. */
  recorder(top: Node, i: number): FootprintRecorder | null {
    return (top.sleep.mask | top.doneMask) !== 0 || i < top.n - 1 ? this.rec : null;
  }

  after(top: Node, tid: number, rec: FootprintRecorder | null): SleepSet {
    if (rec === null) return NO_SLEEP;
    const mine = rec.take();
    const sleep = childSleep(top, mine, this.nthreads);
    top.doneMask |= 1 << tid;
    (top.doneFps ??= new Array(this.nthreads))[tid] = mine;
    return sleep;
  }
}

/** The sleepers and explored siblings at `top` that commute with the step just taken (`mine`). */
function childSleep(top: Node, mine: Footprint, nthreads: number): SleepSet {
  const both = top.sleep.mask | top.doneMask;
  if (both === 0) return NO_SLEEP;
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
  return mask === 0 ? NO_SLEEP : { mask, fps: fps as (Footprint | undefined)[] };
}
