/**
 * A set of 64-bit fingerprints in one typed array (open addressing, 8 bytes a slot, load ≤ 3/4:
 * 10.7 to 21 bytes a state), with an optional 32-bit value per entry (sleep sets, for POR).
 * `addAll(packed, limit)` stops at `limit` entries (a bounded count: a lower bound then).
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

  /** Bytes held by the table (and the values lane). */
  get byteLength(): number {
    return this.table.byteLength + (this.vals?.byteLength ?? 0);
  }

  /**
   * Add packed fingerprints (a0, b0, a1, b1, ...), e.g. another set's entries(); returns how many
   * were new. The table is sized for all of them first, so entries in another table's slot order
   * keep that table's short probe runs (growing on the way made them pile into long clusters):
   * time linear in their number.
   */
  addAll(packed: Uint32Array, limit = Number.POSITIVE_INFINITY): number {
    this.reserve(Math.min(limit, this.size + (packed.length >> 1)));
    const before = this.size;
    const t = this.table;
    let probes = 0;
    for (let j = 0; j + 1 < packed.length && this.size < limit; j += 2) {
      const a = packed[j] as number;
      const b = a === 0 && packed[j + 1] === 0 ? 1 : (packed[j + 1] as number);
      let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
      for (; t[2 * i] !== 0 || t[2 * i + 1] !== 0; i = (i + 1) & this.mask, probes++) if (t[2 * i] === a && t[2 * i + 1] === b) break;
      if (t[2 * i] === a && t[2 * i + 1] === b) continue;
      t[2 * i] = a;
      t[2 * i + 1] = b;
      this.size++;
    }
    this.mergeProbes = probes;
    return this.size - before;
  }

  /** Slots looked at past the home slot in the last addAll (linear merging keeps it a small multiple of the entries). */
  mergeProbes = 0;

  /** The longest run of occupied slots (a lookup probes at most this many): a measure of clustering. */
  longestRun(): number {
    const t = this.table;
    let best = 0;
    let run = 0;
    for (let i = 0; i < t.length; i += 2) {
      run = t[i] !== 0 || t[i + 1] !== 0 ? run + 1 : 0;
      if (run > best) best = run;
    }
    return best;
  }

  /** Grow once so that `n` entries fit without further growth. */
  reserve(n: number): void {
    let cap = this.mask + 1;
    while (n * 4 > cap * 3) cap *= 2;
    if (cap !== this.mask + 1) this.rehash(cap);
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
    this.rehash((this.mask + 1) * 2);
  }

  private rehash(cap: number): void {
    const old = this.table;
    const oldVals = this.vals;
    this.table = new Uint32Array(cap * 2);
    this.vals = oldVals ? new Uint32Array(cap) : null;
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < old.length; i += 2)
      if (old[i] !== 0 || old[i + 1] !== 0) this.put(old[i] as number, old[i + 1] as number, oldVals ? (oldVals[i >> 1] as number) : 0);
  }
}
