/**
 * Which steps are scheduling points (DESIGN principle 2). A step is *visible* when its footprint
 * touches state another thread can observe or change; an invisible step is not a scheduling point:
 * the thread runs on into its next step within the same transition (loom, Shuttle and Spin's
 * `atomic` do the same). A transition is therefore `invisible* visible`: exactly one visible
 * operation plus the thread's local work before it.
 *
 * The rule, per access of the running thread t (t is runnable while it steps):
 * - a read is invisible when it reads t's own thread record: while t is runnable no other thread
 *   writes it (wake-ups, lock hand-offs and wait-queue shifts only touch blocked threads);
 * - a write is invisible when it writes t's rv, ww stamp or atomic depth: no other thread's step, no
 *   invariant and not the scheduler read those (status, wait queue, RCU depth and held locks are
 *   read by others: writing them is visible);
 * - every other access (kernel objects, lock records, other threads' records, mailboxes: the
 *   pseudo-slots past memory) is visible. Frame locals are not in memory, so never recorded.
 * An invisible step thus commutes with every step of every other thread and is always enabled
 * (it cannot block, blocking writes t's status), so running it at once loses no interleaving, no
 * deadlock (t is runnable at every skipped state) and no invariant violation (the skipped states
 * differ from the one before only in t's locals and private slots, which invariants do not read).
 * Two labels stay scheduling points whatever they touch: the target of a jump back (every loop
 * keeps one, so a local spin is a cycle of states) and a progress label (livelock detection reads
 * the label each transition starts at).
 */
import type { FootprintRecorder } from './footprint.js';
import type { Lockset } from './lockset.js';
import { T_ATOMIC, T_RV, T_STAMP, THREAD_STRIDE } from '../locks/space.js';

/** What Memory reports every access of the running step to. */
export interface AccessRecorder {
  read(i: number): void;
  write(i: number): void;
}

/** Watches one step's accesses for a visible one, passing each on to the POR recorder if any. */
export class VisibilityProbe implements AccessRecorder {
  /** First slot of the running thread's record. */
  base = 0;
  visible = false;
  outer: FootprintRecorder | null = null;

  /** First slot past the kernel objects (the lock records start there), and whether the transition wrote below it. */
  kernelEnd = 0;
  kernelWrite = false;

  read(i: number): void {
    if ((i - this.base) >>> 0 >= THREAD_STRIDE) this.visible = true;
    if (this.outer !== null) this.outer.read(i);
  }

  write(i: number): void {
    if (i < this.kernelEnd) this.kernelWrite = true;
    const d = i - this.base;
    if (d !== T_RV && d !== T_STAMP && d !== T_ATOMIC) this.visible = true;
    if (this.outer !== null) this.outer.write(i);
  }
}

/**
 * The probe of the lockset reduction (./lockset.ts): `plain` says whether the step is visible under
 * the rule above (it ends a transition of the default semantics), `visible` whether it ends one here:
 * only when it touched something other than its own thread record and kernel slots the lockset lets
 * it touch unseen.
 */
export class LocksetProbe implements AccessRecorder {
  base = 0;
  tid = 0;
  visible = false;
  plain = false;
  outer: FootprintRecorder | null = null;
  kernelEnd = 0;
  kernelWrite = false;
  mem: Int32Array = new Int32Array(0);
  ls: Lockset | null = null;

  read(i: number): void {
    if ((i - this.base) >>> 0 >= THREAD_STRIDE) {
      this.plain = true;
      if (i >= this.kernelEnd || !(this.ls as Lockset).access(this.mem, this.base, this.tid, i, false)) this.visible = true;
    }
    if (this.outer !== null) this.outer.read(i);
  }

  write(i: number): void {
    const d = i - this.base;
    if (i < this.kernelEnd) {
      this.kernelWrite = true;
      this.plain = true;
      if (!(this.ls as Lockset).access(this.mem, this.base, this.tid, i, true)) this.visible = true;
    } else if (d !== T_RV && d !== T_STAMP && d !== T_ATOMIC) {
      this.plain = true;
      this.visible = true;
    }
    if (this.outer !== null) this.outer.write(i);
  }
}

/** Local steps run on into the next one at most this many times in a row (a local loop still yields). */
export const RUN_ON_LIMIT = 256;

/** Whether a step at label `label` is progress (Spin's convention; see src/explore/livelock.ts). */
export const isProgressLabel = (label: string): boolean => label.charCodeAt(0) === 112 && label.startsWith('progress');

/**
 * The slots the invariants have read, for DPOR (src/explore/dpor.ts), which makes two steps that
 * write slots one invariant reads dependent: `slots[i]` has bit `g` set when an invariant of group
 * `g` (invariant number modulo 32) read slot i (null: nobody watches); `bit` is the group bit of the
 * invariant running now (set by src/engine/exec.ts before each one); `grown` counts the bits set.
 */
export const invariantReads: { slots: Int32Array | null; bit: number; grown: number } = { slots: null, bit: 1, grown: 0 };

/**
 * Watches the invariants' reads. Invariants are re-checked only after a transition that wrote a
 * kernel object: one that wrote only lock records, thread records, locals or mailboxes leaves every
 * slot an invariant read unchanged, so its verdict too (it read the same values at the state before,
 * where it held, or at an ancestor with the same kernel objects). That holds while every read of
 * every invariant so far was of a kernel object; the first that was not turns the shortcut off for
 * that model for good. The first transition of a run always checks (the initial state is not).
 *
 * Finer, where the undo log names the slots a transition changed (a depth-first search): only the
 * invariants that ever read one of them run, whatever kind of slot they read. `groups[i]` has bit g
 * set once an invariant of group g (invariant number modulo 32) read slot i. Why it is enough: an
 * invariant is a function of the memory slots it reads (the assumption above too), so it reads the
 * same slots, in the same order, with the same result as at the last state of the path where it ran
 * (it held there, or the path would have ended) as long as none of them changed since; they were
 * marked when read then and marks are never cleared, so every change since was checked against them.
 */
export class InvariantGuard implements AccessRecorder {
  kernelEnd: number;
  kernelOnly: boolean;
  /** Per memory slot, the groups of the invariants that have read it (sized on the first check). */
  groups: Int32Array | null;
  /** Under the lockset reduction: the slots the invariants read are watched (./lockset.ts). */
  lockset: Lockset | null;

  /**
   * Fields set here, not where declared: V8 takes a field written once for a constant, and the
   * first model whose invariant read a non-kernel slot (kernelOnly false) deoptimised step() and
   * checkInvariants() mid-catalogue (measured with --trace-deopt; see bench/jit.ts).
   */
  constructor() {
    this.kernelEnd = 0;
    this.kernelOnly = true;
    this.groups = null;
    this.lockset = null;
  }

  read(i: number): void {
    if (i >= this.kernelEnd) this.kernelOnly = false;
    const g = this.groups as Int32Array;
    g[i] = (g[i] as number) | invariantReads.bit;
    const s = invariantReads.slots;
    if (s !== null) {
      const o = s[i] as number;
      if ((o & invariantReads.bit) === 0) {
        s[i] = o | invariantReads.bit;
        invariantReads.grown++;
      }
    }
    if (this.lockset !== null) this.lockset.watch(i);
  }

  write(): void {
    this.kernelOnly = false;
  }
}
