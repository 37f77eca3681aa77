/** The world's shared memory: one Int32Array whose 64-bit Zobrist fingerprint is kept current on every write. */
import { zob0, zob1 } from './hash.js';
import type { FootprintRecorder } from './footprint.js';
import type { Layout } from './layout.js';

export class Memory {
  mem: Int32Array;
  h0 = 0;
  h1 = 0;
  /** While set (partial-order reduction), every access of the running step is recorded. */
  rec: FootprintRecorder | null = null;

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
    this.mem[i] = v;
    this.h0 ^= zob0(i, o) ^ zob0(i, v);
    this.h1 ^= zob1(i, o) ^ zob1(i, v);
  }

  add(i: number, d: number): number {
    const v = (this.mem[i] as number) + d;
    this.set(i, v);
    return v;
  }
}
