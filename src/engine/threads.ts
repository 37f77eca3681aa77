/**
 * Thread state as data: call stacks of labelled-step frames and mailboxes, shared copy-on-write
 * between a world and its snapshots, with fingerprint lanes cached per frame and per thread.
 */
import { fmix32, mixIn } from './hash.js';
import { localsChanged } from './locals.js';
import type { Memory } from './memory.js';
import type { Locals, Proc } from './proc.js';

/**
 * One procedure activation. Frames are shared between thread states (copy-on-write): only the
 * thread state in `owner` may change one, and only while it is the top frame. Its fingerprint lanes
 * are cached while `hashed` holds.
 */
export interface Frame {
  proc: Proc;
  pc: number;
  l: Locals;
  owner: ThreadState | null;
  ha: number;
  hb: number;
  hashed: boolean;
  /**
   * While `pfx` holds: the lanes of the stack from its bottom up to this frame, as its thread's
   * fingerprint hashes it (the frames below one never change while it exists: only a top frame does).
   */
  pa: number;
  pb: number;
  pfx: boolean;
}

/** A fresh frame owned by `owner`. */
export function newFrame(proc: Proc, l: Locals, owner: ThreadState | null): Frame {
  return { proc, pc: 0, l, owner, ha: 0, hb: 0, hashed: false, pa: 0, pb: 0, pfx: false };
}

/**
 * A thread's call stack and mailbox. Snapshots share these objects, so a shared one is never
 * mutated: the world clones a thread (World.mutable) before its first change after a snapshot,
 * and the step clones the top frame it changes (World.topFrame); caller frames stay shared.
 * The fingerprint lanes are cached on the object while `hashed` holds.
 */
export interface ThreadState {
  frames: Frame[];
  /** Pending messages, four integers each: from, type, a, b. */
  inbox: number[];
  ha: number;
  hb: number;
  /** What the thread, at its index in the world, adds to the fingerprint (from ha, hb; cached with them). */
  ka: number;
  kb: number;
  hashed: boolean;
}

/** A shallow copy: the frames are shared until a step changes its top frame. */
export function cloneThread(t: ThreadState): ThreadState {
  return { frames: t.frames.slice(), inbox: t.inbox.length === 0 ? [] : t.inbox.slice(), ha: 0, hb: 0, ka: 0, kb: 0, hashed: false };
}

let laneA = 0;
let laneB = 0;

/** Cache a frame's two fingerprint lanes on it. */
function hashFrame(f: Frame): void {
  let a = mixIn(f.proc.key, f.pc);
  let b = mixIn(f.proc.key + 7, f.pc + 13);
  const l = f.l;
  const keys = f.proc.locals?.keys;
  let j = 0;
  for (const k in l) {
    if (keys !== undefined && keys[j++] !== k) localsChanged(f.proc, l);
    const v = l[k] as number;
    a = mixIn(a, v);
    b = mixIn(b, v ^ 0x51ed27);
  }
  if (keys !== undefined && j !== keys.length) localsChanged(f.proc, l);
  f.ha = a;
  f.hb = b;
  f.hashed = true;
}

/** Hash one thread's stack and mailbox into two lanes (results in laneA/laneB, no allocation). */
function hashThread(t: ThreadState, seed: number): void {
  let a = seed;
  let b = seed ^ 0x2545f491;
  const fs = t.frames;
  for (let i = 0; i < fs.length; i++) {
    const f = fs[i] as Frame;
    if (!f.hashed) hashFrame(f);
    a = mixIn(a, f.ha);
    b = mixIn(b, f.hb);
  }
  for (const v of t.inbox) {
    a = mixIn(a, v);
    b = mixIn(b, v + 101);
  }
  laneA = a;
  laneB = b;
}

/** One thread's two lanes hashed from `seed` (uncached): the state keys of ./state-key.ts. */
export function threadLanes(t: ThreadState, seed: number, out: Uint32Array): void {
  hashThread(t, seed);
  out[0] = laneA;
  out[1] = laneB;
}

/**
 * Cache the lanes of thread state `t` at index i of a world (hashThread from the fingerprint's seed,
 * resuming from the highest frame whose stack lanes are cached), and what they add to its fingerprint.
 */
export function hashThreadAt(t: ThreadState, i: number): void {
  let a = fmix32(i + 1);
  let b = a ^ 0x2545f491;
  const fs = t.frames;
  let d = fs.length - 1;
  while (d >= 0 && !(fs[d] as Frame).pfx) d--;
  if (d >= 0) {
    a = (fs[d] as Frame).pa;
    b = (fs[d] as Frame).pb;
  }
  for (d++; d < fs.length; d++) {
    const f = fs[d] as Frame;
    if (!f.hashed) hashFrame(f);
    a = mixIn(a, f.ha);
    b = mixIn(b, f.hb);
    f.pa = a;
    f.pb = b;
    f.pfx = true;
  }
  for (const v of t.inbox) {
    a = mixIn(a, v);
    b = mixIn(b, v + 101);
  }
  t.ha = a;
  t.hb = b;
  t.ka = fmix32(a + i);
  t.kb = fmix32(b ^ i);
  t.hashed = true;
}

/** The 64-bit fingerprint of memory plus threads, as two unsigned 32-bit lanes. */
export function fingerprint(m: Memory, threads: readonly ThreadState[], out: Uint32Array): void {
  let a = m.h0;
  let b = m.h1;
  for (let i = 0; i < threads.length; i++) {
    const t = threads[i] as ThreadState;
    if (!t.hashed) hashThreadAt(t, i);
    a ^= t.ka;
    b ^= t.kb;
  }
  out[0] = a >>> 0;
  out[1] = b >>> 0;
}
