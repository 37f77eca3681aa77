/**
 * A visited set in a SharedArrayBuffer that several workers fill at once (the parallel exhaustive
 * search, ./parallel-dfs.ts): open addressing, 8 bytes a slot, a fixed capacity sized from the
 * state cap (load ≤ 3/4), no values (the parallel search uses the plain order).
 *
 * Lock-free insertion: a slot is claimed by a compare-and-swap of its first word from 0 to `a`,
 * then published by storing `b`; a reader that finds `a` but not yet `b` waits for it. Keys are
 * normalised so that neither word is 0 (a 0 word folds into a fixed value: two keys then share a
 * slot with probability about 2^-63 per pair, below the 64-bit fingerprint's own collision risk).
 * The set overflows past the search's state cap (it is sized so that the cap is at most 3/4 of
 * its slots): `put` then raises the overflow flag and the halt flag so every worker stops.
 */
import type { VisitedSet } from './order.js';

/** Header words: entries, overflow flag, the most entries allowed (the search's state cap). */
const H_COUNT = 0;
const H_OVERFLOW = 1;
const H_CAP = 2;
const HEADER = 3;
/** The most slots a shared set is given (256 MiB of table). */
const MAX_SLOTS = 1 << 25;

/** Slots for `states` entries at a load of at most 3/4 (at most MAX_SLOTS). */
function slotsFor(states: number): number {
  let slots = 1 << 12;
  while (slots < MAX_SLOTS && slots * 3 < states * 4) slots *= 2;
  return slots;
}

/** Bytes of a shared set made for `states` entries. */
export function sharedBytes(states: number): number {
  return (HEADER + 2 * slotsFor(states)) * 4;
}

export class SharedVisitedSet implements VisitedSet {
  private readonly head: Int32Array;
  private readonly t: Int32Array;
  private readonly mask: number;
  private readonly limit: number;
  /** The slot of the key the last put found or added. */
  lastSlot = -1;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly halt: Int32Array | null,
  ) {
    this.head = new Int32Array(buffer, 0, HEADER);
    this.t = new Int32Array(buffer, HEADER * 4);
    const slots = this.t.length >> 1;
    this.mask = slots - 1;
    this.limit = Math.min((slots >> 2) * 3, this.head[H_CAP] as number);
  }

  /** A set that overflows past `states` entries (or when 3/4 of MAX_SLOTS are taken). */
  static create(states: number): SharedVisitedSet {
    const buffer = new SharedArrayBuffer(sharedBytes(states));
    new Int32Array(buffer, 0, HEADER)[H_CAP] = Math.min(states, 2 ** 31 - 1);
    return new SharedVisitedSet(buffer, null);
  }

  /** The same set in another worker; a full set raises `halt`. */
  static attach(buffer: SharedArrayBuffer, halt: Int32Array | null): SharedVisitedSet {
    return new SharedVisitedSet(buffer, halt);
  }

  /** Add (a, b): -1 if it was new (its slot in lastSlot), else the slot it already has. */
  put(a0: number, b0: number, _v: number): number {
    const a = a0 | 0 || 0x2545f491;
    const b = b0 | 0 || 1;
    const t = this.t;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (;;) {
      let x = Atomics.load(t, 2 * i);
      if (x === 0) {
        x = Atomics.compareExchange(t, 2 * i, 0, a);
        if (x === 0) {
          Atomics.store(t, 2 * i + 1, b);
          this.lastSlot = i;
          if (Atomics.add(this.head, H_COUNT, 1) + 1 > this.limit) this.overflow();
          return -1;
        }
      }
      if (x === a) {
        let y = Atomics.load(t, 2 * i + 1);
        while (y === 0) y = Atomics.load(t, 2 * i + 1); // published in a moment by the claimer
        if (y === b) {
          this.lastSlot = i;
          return i;
        }
      }
      i = (i + 1) & this.mask;
    }
  }

  private overflow(): void {
    Atomics.store(this.head, H_OVERFLOW, 1);
    if (this.halt) Atomics.store(this.halt, 0, 1);
  }

  value(): number {
    return 0;
  }

  setValue(): void {}

  get size(): number {
    return Atomics.load(this.head, H_COUNT);
  }

  /** The set filled up (the search stopped at the state cap). */
  get overflowed(): boolean {
    return Atomics.load(this.head, H_OVERFLOW) !== 0;
  }

  /** Slots in the table (edge logs name states by slot). */
  get slots(): number {
    return this.mask + 1;
  }

  get bytesPerEntry(): number {
    const n = this.size;
    return n ? this.buffer.byteLength / n : 0;
  }

  get byteLength(): number {
    return this.buffer.byteLength;
  }

  entries(): Uint32Array {
    const out = new Uint32Array(this.size * 2);
    const t = this.t;
    let j = 0;
    for (let i = 0; i < t.length && j < out.length; i += 2) {
      if (t[i] !== 0) {
        out[j++] = (t[i] as number) >>> 0;
        out[j++] = (t[i + 1] as number) >>> 0;
      }
    }
    return out;
  }
}
