/** 32-bit mixing for Zobrist-style fingerprints: two independent lanes make a 64-bit fingerprint. */

/** murmur3 fmix32 of a 32-bit integer. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Lane-0 key of value v at slot i. `| 0` wraps the sum as fmix32's first step would anyway (same
 * keys); without it V8 deoptimised zob0, Memory.set and the Memory constructor the first time the
 * sum left 32 bits (--trace-deopt: "overflow", once per isolate).
 */
export function zob0(i: number, v: number): number {
  return fmix32(Math.imul(i, 0x9e3779b1) ^ fmix32((v + 0x6a09e667) | 0));
}

/** Lane-1 key of value v at slot i. */
export function zob1(i: number, v: number): number {
  return fmix32(Math.imul(i ^ 0x5bd1e995, 0x27d4eb2f) + fmix32(v ^ 0x3c6ef372));
}

/** Fold one integer into a running (non-commutative) hash. */
export function mixIn(h: number, v: number): number {
  return fmix32(Math.imul(h ^ v, 0x01000193) + 0x7f4a7c15);
}
