/**
 * Partial-order reduction: sleep sets with state caching (Godefroid 1996, ch. 5 and 6). A step's
 * footprint is recorded as it runs; a thread whose next step commutes with the ones taken since it
 * was explored sleeps and is not tried again. Sleep sets skip transitions, never states: every
 * reachable state is still visited (and its invariants checked). A state met again with a smaller
 * sleep set is re-entered for the transitions it skipped the first time (the visited set keeps each
 * state's sleep set as its value).
 */
import { FootprintArena, FootprintRecorder } from '../engine/footprint.js';
import { NO_SLEEP, type Node, type SearchOrder, SKIP, type SleepSet, type VisitedSet } from './order.js';

/**
 * What the order keeps, in a stack-ordered arena (no allocation per step): per node, a table of the
 * footprint offsets of the threads explored from it (Node.done, one int a thread) and those
 * footprints; per child, its sleep set [mask, progress mask, footprint offset by thread...] (the
 * handle is its offset; offset 0 holds the empty set, NO_SLEEP). The progress mask names the
 * sleepers whose step made progress where it was explored (Node.doneProg; ./livelock.ts's rule):
 * a sleeper's step commutes with everything since, so it writes what it wrote there. A node's data lies between the mark it was
 * entered with and Node.mark, which moves up as it records; on every step from a node the arena is
 * cut back to that mark, dropping what the subtrees explored from it kept.
 */
export class PorOrder implements SearchOrder {
  readonly name = 'dfs+por';
  readonly withValues = true;
  private readonly rec: FootprintRecorder;
  private readonly fp: FootprintArena;

  /** `slots`: shared memory slots plus one mailbox pseudo-slot per thread. */
  constructor(
    private readonly nthreads: number,
    slots: number,
  ) {
    this.rec = new FootprintRecorder(slots);
    this.fp = new FootprintArena(slots);
    this.fp.a[NO_SLEEP] = 0;
    this.fp.a[NO_SLEEP + 1] = 0;
    this.fp.top = NO_SLEEP + 2;
  }

  sleepMask(s: SleepSet): number {
    return this.fp.a[s] as number;
  }

  /** The sleepers of `s` whose step makes progress. */
  sleepProgress(s: SleepSet): number {
    return this.fp.a[s + 1] as number;
  }

  /** Threads `m` of sleep set `s` (not NO_SLEEP) wake: they are tried from the node it belongs to. */
  wake(s: SleepSet, m: number): void {
    this.fp.a[s] = (this.fp.a[s] as number) & ~m;
  }

  mark(): number {
    return this.fp.top;
  }

  key(): void {}

  revisit(visited: VisitedSet, slot: number, sleep: SleepSet, cut: boolean): number {
    const mask = this.fp.a[sleep] as number;
    const skipped = visited.value(slot) & ~mask;
    if (skipped !== 0 && !cut) visited.setValue(slot, visited.value(slot) & mask);
    return skipped;
  }

  admit(top: Node, _i: number, tid: number): number {
    if ((top.only >= 0 && (top.only & (1 << tid)) === 0) || ((this.fp.a[top.sleep] as number) >>> tid) & 1) return SKIP;
    return top.preemptions;
  }

  /** Needed if a sleeper or an explored sibling may commute with the step, or a later sibling may. */
  recorder(top: Node, i: number): FootprintRecorder | null {
    return ((this.fp.a[top.sleep] as number) | top.doneMask) !== 0 || i < top.n - 1 ? this.rec : null;
  }

  after(top: Node, tid: number, rec: FootprintRecorder | null): SleepSet {
    const ar = this.fp;
    ar.top = top.mark;
    if (rec === null) return NO_SLEEP;
    if (top.done < 0) {
      ar.reserve(this.nthreads);
      top.done = ar.top;
      ar.top += this.nthreads;
    }
    const mine = ar.push(rec);
    ar.a[top.done + tid] = mine;
    top.mark = ar.top;
    const sleep = this.childSleep(top, mine);
    top.doneMask |= 1 << tid;
    return sleep;
  }

  /** The sleepers and explored siblings at `top` that commute with the step just taken (`mine`): a new sleep set at the arena's top. */
  private childSleep(top: Node, mine: number): SleepSet {
    const ar = this.fp;
    const asleep = ar.a[top.sleep] as number;
    const both = asleep | top.doneMask;
    if (both === 0) return NO_SLEEP;
    const prog = ((ar.a[top.sleep + 1] as number) & asleep) | (top.doneProg & ~asleep);
    let mask = 0;
    let at = NO_SLEEP;
    for (let u = 0; u < this.nthreads; u++) {
      if (((both >>> u) & 1) === 0) continue;
      const fp = ar.a[(asleep >>> u) & 1 ? top.sleep + 2 + u : top.done + u] as number;
      if (!ar.independent(fp, mine)) continue;
      if (at === NO_SLEEP) {
        ar.reserve(2 + this.nthreads);
        at = ar.top;
        ar.top += 2 + this.nthreads;
      }
      mask |= 1 << u;
      ar.a[at + 2 + u] = fp;
    }
    if (mask === 0) return NO_SLEEP;
    ar.a[at] = mask;
    ar.a[at + 1] = prog & mask;
    return at;
  }
}
