/** The one seam every run-based search goes through: choose one of the enabled threads. */
import type { World } from '../engine/world.js';

export interface Strategy {
  /** How it calls itself in results, e.g. `pct(d=3)`. */
  readonly name: string;
  /** Start run number `run` (strategies derive their per-run randomness from it). */
  beginRun(run: number): void;
  /** An index into enabled[0..n); called at every step, also when n is 1. */
  choose(enabled: Int32Array, n: number, w: World): number;
}
