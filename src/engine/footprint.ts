/**
 * Step footprints for partial-order reduction: the shared slots one step read and wrote (memory
 * slots, plus one pseudo-slot per thread mailbox). Two steps are independent when neither writes
 * what the other reads or writes; then both orders reach the same state.
 */

export interface Footprint {
  readonly reads: Int32Array;
  readonly writes: Int32Array;
}

/**
 * Records the footprint of the step being executed, without duplicates and without allocation: the
 * slots read are r[0..nr), the slots written w[0..nw) (read them, never write them, from outside).
 */
export class FootprintRecorder {
  private readonly seenR: Int32Array;
  private readonly seenW: Int32Array;
  readonly r: Int32Array;
  readonly w: Int32Array;
  nr = 0;
  nw = 0;
  private stamp = 0;

  constructor(slots: number) {
    this.seenR = new Int32Array(slots);
    this.seenW = new Int32Array(slots);
    this.r = new Int32Array(slots);
    this.w = new Int32Array(slots);
  }

  begin(): void {
    this.stamp++;
    this.nr = 0;
    this.nw = 0;
  }

  read(i: number): void {
    if (this.seenR[i] === this.stamp) return;
    this.seenR[i] = this.stamp;
    this.r[this.nr++] = i;
  }

  write(i: number): void {
    if (this.seenW[i] === this.stamp) return;
    this.seenW[i] = this.stamp;
    this.w[this.nw++] = i;
  }

  /** The footprint recorded since begin(). */
  take(): Footprint {
    return { reads: this.r.slice(0, this.nr), writes: this.w.slice(0, this.nw) };
  }
}

/** True when the two steps commute: no write of one meets a read or write of the other. */
export function independent(a: Footprint, b: Footprint): boolean {
  return !meets(a.writes, b.reads) && !meets(a.writes, b.writes) && !meets(b.writes, a.reads);
}

function meets(xs: Int32Array, ys: Int32Array): boolean {
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    for (let j = 0; j < ys.length; j++) if (ys[j] === x) return true;
  }
  return false;
}
