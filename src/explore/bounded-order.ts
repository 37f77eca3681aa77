/**
 * Preemption-bounded order: every enabled thread, but at most `bound` preemptions (switching
 * away from a thread that could go on) on a path. A state's key includes the preemptions used and
 * the last thread, since the same state reached with fewer preemptions has more left to explore.
 */
import type { FootprintRecorder } from '../engine/footprint.js';
import { mixIn } from '../engine/hash.js';
import { NO_SLEEP, type Node, type SearchOrder, SKIP_CUT, type SleepSet } from './order.js';

export class BoundedOrder implements SearchOrder {
  readonly name: string;
  readonly withValues = false;

  constructor(private readonly bound: number) {
    this.name = `bounded(p=${bound})`;
  }

  sleepMask(): number {
    return 0;
  }

  mark(): number {
    return 0;
  }

  key(k: Uint32Array, preemptions: number, last: number): void {
    k[0] = mixIn(k[0] as number, preemptions * 64 + last + 1) >>> 0;
    k[1] = mixIn(k[1] as number, preemptions * 131 + last + 7) >>> 0;
  }

  revisit(): number {
    return 0;
  }

  admit(top: Node, _i: number, tid: number): number {
    let pre = top.preemptions;
    if (top.last >= 0 && tid !== top.last && enabledAt(top, top.last)) pre++;
    return pre > this.bound ? SKIP_CUT : pre;
  }

  recorder(): FootprintRecorder | null {
    return null;
  }

  after(): SleepSet {
    return NO_SLEEP;
  }
}

/** Whether `tid` is among the node's enabled threads (the first n entries of its array). */
function enabledAt(top: Node, tid: number): boolean {
  for (let i = 0; i < top.n; i++) if (top.enabled[i] === tid) return true;
  return false;
}
