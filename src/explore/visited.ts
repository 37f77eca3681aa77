/**
 * A set of 64-bit fingerprints in one typed array (open addressing, 8 bytes a slot, load ≤ 3/4:
 * 10.7 to 21 bytes a state), with an optional 32-bit value per entry (sleep sets, for POR).
 */
export class FingerprintSet {
  private table: Uint32Array;
  private vals: Uint32Array | null;
  private mask: number;
  size = 0;

  constructor(capacityPow2 = 1 << 12, withValues = false) {
    this.table = new Uint32Array(capacityPow2 * 2);
    this.vals = withValues ? new Uint32Array(capacityPow2) : null;
    this.mask = capacityPow2 - 1;
  }

  /** Add (a, b); true if it was not there yet. */
  add(a: number, b: number): boolean {
    return this.put(a, b, 0) < 0;
  }

  /** Add (a, b) with value v: -1 if it was new, else the slot it already has (see value/setValue). */
  put(a: number, b: number, v: number): number {
    if (a === 0 && b === 0) b = 1;
    const t = this.table;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (;;) {
      const x = t[2 * i] as number;
      const y = t[2 * i + 1] as number;
      if (x === 0 && y === 0) break;
      if (x === a && y === b) return i;
      i = (i + 1) & this.mask;
    }
    t[2 * i] = a;
    t[2 * i + 1] = b;
    if (this.vals) this.vals[i] = v;
    if (++this.size * 4 > (this.mask + 1) * 3) this.grow();
    return -1;
  }

  value(slot: number): number {
    return (this.vals as Uint32Array)[slot] as number;
  }

  setValue(slot: number, v: number): void {
    (this.vals as Uint32Array)[slot] = v;
  }

  /** Bytes of table per stored fingerprint. */
  get bytesPerEntry(): number {
    return this.size ? (this.table.byteLength + (this.vals?.byteLength ?? 0)) / this.size : 0;
  }

  /** The fingerprints as a packed array (a0, b0, a1, b1, ...), for merging across workers. */
  entries(): Uint32Array {
    const out = new Uint32Array(this.size * 2);
    let j = 0;
    const t = this.table;
    for (let i = 0; i < t.length; i += 2) {
      if (t[i] !== 0 || t[i + 1] !== 0) {
        out[j++] = t[i] as number;
        out[j++] = t[i + 1] as number;
      }
    }
    return out;
  }

  private grow(): void {
    const old = this.table;
    const oldVals = this.vals;
    this.table = new Uint32Array(old.length * 2);
    this.vals = oldVals ? new Uint32Array(old.length) : null;
    this.mask = old.length - 1;
    this.size = 0;
    for (let i = 0; i < old.length; i += 2)
      if (old[i] !== 0 || old[i + 1] !== 0) this.put(old[i] as number, old[i + 1] as number, oldVals ? (oldVals[i >> 1] as number) : 0);
  }
}
