/** The world's shared memory: one Int32Array whose 64-bit Zobrist fingerprint is kept current on every write. */
import { zob0, zob1 } from './hash.js';
import type { AccessRecorder } from './visibility.js';
import type { Layout } from './layout.js';

export class Memory {
  mem: Int32Array;
  h0 = 0;
  h1 = 0;
  /** While set (during a step: ./visibility.ts, and the POR footprint), every access is reported. */
  rec: AccessRecorder | null = null;
  /** While set (a depth-first search), every change is logged as (slot, old value) so it can be undone. */
  private undo: Int32Array | null = null;
  private undoLen = 0;

  constructor(readonly layout: Layout) {
    this.mem = Int32Array.from(layout.init);
    for (let i = 0; i < this.mem.length; i++) {
      this.h0 ^= zob0(i, this.mem[i] as number);
      this.h1 ^= zob1(i, this.mem[i] as number);
    }
  }

  get(i: number): number {
    if (this.rec !== null) this.rec.read(i);
    return this.mem[i] as number;
  }

  /** Write one slot and keep the fingerprint current. */
  set(i: number, v: number): void {
    if (this.rec !== null) this.rec.write(i);
    const o = this.mem[i] as number;
    if (o === v) return;
    if (this.undo !== null) this.logUndo(i, o);
    this.mem[i] = v;
    this.h0 ^= zob0(i, o) ^ zob0(i, v);
    this.h1 ^= zob1(i, o) ^ zob1(i, v);
  }

  add(i: number, d: number): number {
    const v = (this.mem[i] as number) + d;
    this.set(i, v);
    return v;
  }

  /** Start logging changes (snapshots then record a log position instead of copying memory). */
  startUndo(): void {
    this.undo = new Int32Array(4096);
    this.undoLen = 0;
  }

  stopUndo(): void {
    this.undo = null;
    this.undoLen = 0;
  }

  /** The log position to come back to, or -1 when not logging. */
  get undoPos(): number {
    return this.undo === null ? -1 : this.undoLen;
  }

  /** Undo every change logged after `pos` (the fingerprint lanes are restored by the caller). */
  undoTo(pos: number): void {
    const u = this.undo as Int32Array;
    let n = this.undoLen;
    while (n > pos) {
      const o = u[--n] as number;
      this.mem[u[--n] as number] = o;
    }
    this.undoLen = n;
  }

  /** The union of `masks` over the slots changed after log position `pos` (still in the log). */
  changedMask(pos: number, masks: Int32Array): number {
    const u = this.undo as Int32Array;
    let m = 0;
    for (let i = pos; i < this.undoLen; i += 2) m |= masks[u[i] as number] as number;
    return m;
  }

  /** Whether a change logged after position `pos` (still in the log) hit a slot below `limit`. */
  changedBelow(pos: number, limit: number): boolean {
    const u = this.undo as Int32Array;
    for (let i = pos; i < this.undoLen; i += 2) if ((u[i] as number) < limit) return true;
    return false;
  }

  private logUndo(i: number, o: number): void {
    let u = this.undo as Int32Array;
    if (this.undoLen + 2 > u.length) {
      const bigger = new Int32Array(u.length * 2);
      bigger.set(u);
      this.undo = u = bigger;
    }
    u[this.undoLen++] = i;
    u[this.undoLen++] = o;
  }
}
