/**
 * Step footprints for partial-order reduction: the shared slots one step read and wrote (memory
 * slots, plus one pseudo-slot per thread mailbox). Two steps are independent when neither writes
 * what the other reads or writes; then both orders reach the same state.
 */

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

  /** Whether slot i was written since begin(). */
  wrote(i: number): boolean {
    return this.seenW[i] === this.stamp;
  }

  write(i: number): void {
    if (this.seenW[i] === this.stamp) return;
    this.seenW[i] = this.stamp;
    this.w[this.nw++] = i;
  }

  }

/**
 * Footprints and the data that refers to them, kept in one Int32Array used as a stack: a search
 * pushes records as it goes deeper and drops everything above a mark when it comes back, so a step
 * allocates nothing. A footprint record is [#reads, #writes, written bits (2 words), touched bits
 * (2 words), reads..., writes...], named by its offset; the bits (one of 64 per slot, by a hash) let
 * most independent pairs be told apart without comparing slots.
 */
export class FootprintArena {
  /** Replaced as it grows (reserve); set in the constructor, like Search's fields in ../explore/dfs.ts. */
  a: Int32Array;
  top = 0;
  /** Per slot, the last exact comparison that marked it touched / written by one side. */
  private readonly touched: Int32Array;
  private readonly written: Int32Array;
  private stamp = 0;

  /** `slots`: how many slots footprints name (memory slots plus mailbox pseudo-slots). */
  constructor(slots: number) {
    this.a = new Int32Array(1 << 12);
    this.touched = new Int32Array(slots);
    this.written = new Int32Array(slots);
  }

  /** Room for n more ints at the top (the array may be replaced: read `a` after this). */
  reserve(n: number): void {
    if (this.top + n <= this.a.length) return;
    let len = this.a.length * 2;
    while (this.top + n > len) len *= 2;
    const bigger = new Int32Array(len);
    bigger.set(this.a);
    this.a = bigger;
  }

  /** Copy the footprint `rec` recorded since begin() to the top; returns its offset. */
  push(rec: FootprintRecorder): number {
    const nr = rec.nr;
    const nw = rec.nw;
    this.reserve(FP_HEAD + nr + nw);
    const a = this.a;
    const at = this.top;
    let r0 = 0;
    let r1 = 0;
    let w0 = 0;
    let w1 = 0;
    for (let i = 0; i < nr; i++) {
      const slot = rec.r[i] as number;
      a[at + FP_HEAD + i] = slot;
      const h = Math.imul(slot, 0x9e3779b1);
      if (h & 1) r1 |= 1 << (h >>> 27);
      else r0 |= 1 << (h >>> 27);
    }
    for (let i = 0; i < nw; i++) {
      const slot = rec.w[i] as number;
      a[at + FP_HEAD + nr + i] = slot;
      const h = Math.imul(slot, 0x9e3779b1);
      if (h & 1) w1 |= 1 << (h >>> 27);
      else w0 |= 1 << (h >>> 27);
    }
    a[at] = nr;
    a[at + 1] = nw;
    a[at + 2] = w0;
    a[at + 3] = w1;
    a[at + 4] = r0 | w0;
    a[at + 5] = r1 | w1;
    this.top = at + FP_HEAD + nr + nw;
    return at;
  }

  /** True when the footprints at offsets x and y commute: no write of one meets a read or write of the other. */
  independent(x: number, y: number): boolean {
    const a = this.a;
    if (
      ((a[x + 2] as number) & (a[y + 4] as number)) === 0 &&
      ((a[x + 3] as number) & (a[y + 5] as number)) === 0 &&
      ((a[y + 2] as number) & (a[x + 4] as number)) === 0 &&
      ((a[y + 3] as number) & (a[x + 5] as number)) === 0
    )
      return true;
    const xr = x + FP_HEAD;
    const xw = xr + (a[x] as number);
    const xe = xw + (a[x + 1] as number);
    const yr = y + FP_HEAD;
    const yw = yr + (a[y] as number);
    const ye = yw + (a[y + 1] as number);
    // Mark y's slots, then look x's up: linear in the sizes.
    const st = ++this.stamp;
    const touched = this.touched;
    const written = this.written;
    for (let i = yr; i < ye; i++) touched[a[i] as number] = st;
    for (let i = yw; i < ye; i++) written[a[i] as number] = st;
    for (let i = xw; i < xe; i++) if (touched[a[i] as number] === st) return false;
    for (let i = xr; i < xw; i++) if (written[a[i] as number] === st) return false;
    return true;
  }
}

/** Ints before a footprint's slots. */
const FP_HEAD = 6;
