/**
 * The search order of a depth-first search: which enabled threads the driver (./dfs.ts) tries
 * from a node, what it adds to a state's key, and what a state met again still needs. One order
 * per file: plain (every thread, here), preemption-bounded (./bounded-order.ts), partial-order
 * reduction with sleep sets (./por-order.ts).
 */
import type { FootprintRecorder } from '../engine/footprint.js';
import type { Snapshot } from '../engine/world.js';

/**
 * Threads asleep at a node, each with the footprint of the step it would take: a handle only the
 * order that made it reads (SearchOrder.sleepMask gives the threads as a bitmask).
 */
export type SleepSet = number;

/** No thread asleep, in every order. */
export const NO_SLEEP: SleepSet = 0;

/** A state on the search stack. */
export interface Node {
  snap: Snapshot;
  steps: number;
  depth: number;
  /** The state's key in the visited set (for finding cycles on the stack). */
  ka: number;
  kb: number;
  /** The enabled threads are enabled[0..n) (the array may be longer: nodes are reused). */
  enabled: Int32Array;
  n: number;
  next: number;
  last: number;
  preemptions: number;
  /** POR: threads asleep on entry, threads explored from here (those whose step made progress), and (on a revisit) the only ones to try. */
  sleep: SleepSet;
  doneMask: number;
  doneProg: number;
  /** The order's record of the steps explored from here (-1: none yet), and where its own data ends (SearchOrder.mark). */
  done: number;
  mark: number;
  only: number;
  /** The state's slot in the visited set (logged as an edge end by the parallel search). */
  slot: number;
}

/** The visited set a search is given: 64-bit keys, each with a 32-bit value. */
export interface VisitedSet {
  /** Add (a, b) with value v: -1 if it was new, else the slot it already has. */
  put(a: number, b: number, v: number): number;
  /** The slot the last put found or added (sets that the parallel search shares keep it). */
  readonly lastSlot?: number;
  value(slot: number): number;
  setValue(slot: number, v: number): void;
  readonly size: number;
  /** Bytes of table per stored key. */
  readonly bytesPerEntry: number;
  /** Bytes the set holds (checked against --max-memory). */
  readonly byteLength: number;
  /** The keys as a packed array (a0, b0, a1, b1, ...). */
  entries(): Uint32Array;
}

/** Skip this child; SKIP_CUT also makes the search incomplete (a bound cut it). */
export const SKIP = -1;
export const SKIP_CUT = -2;

export interface SearchOrder {
  readonly name: string;
  /** The visited set keeps a value per state (POR's sleep sets). */
  readonly withValues: boolean;
  /** The threads of a sleep set this order made, as a bitmask. */
  sleepMask(s: SleepSet): number;
  /** Where a node entered now starts the order's data (what it keeps per node lives above it while the node is on the stack). */
  mark(): number;
  /** Mix path context into the state key `k` (in place); most orders add nothing. */
  key(k: Uint32Array, preemptions: number, last: number): void;
  /**
   * A state met again (its visited slot, the sleep set it is reached with): the threads that
   * still need trying from it as a bitmask, or 0 when nothing does. `cut`: the step bound stops
   * the search here anyway.
   */
  revisit(visited: VisitedSet, slot: number, sleep: SleepSet, cut: boolean): number;
  /** Whether to step enabled[i] (thread `tid`) from `top`: the child's preemption count, or SKIP / SKIP_CUT. */
  admit(top: Node, i: number, tid: number): number;
  /** The recorder for this step's footprint, or null when nothing will use it. */
  recorder(top: Node, i: number): FootprintRecorder | null;
  /** After thread `tid` stepped from `top` (footprint recorded by `rec`, if any): the child's sleep set. */
  after(top: Node, tid: number, rec: FootprintRecorder | null): SleepSet;
}

/** Every enabled thread from every state; a state met again is not entered twice. */
export class PlainOrder implements SearchOrder {
  readonly name = 'dfs';
  readonly withValues = false;

  sleepMask(): number {
    return 0;
  }

  mark(): number {
    return 0;
  }

  key(): void {}

  revisit(): number {
    return 0;
  }

  admit(top: Node): number {
    return top.preemptions;
  }

  recorder(): FootprintRecorder | null {
    return null;
  }

  after(): SleepSet {
    return NO_SLEEP;
  }
}
