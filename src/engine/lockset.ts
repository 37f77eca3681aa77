/**
 * The lockset reduction of scheduling points (opt-in: `--reduce lockset`, `explore: { reduce:
 * lockset }`, `scheduling.lockset`). Beyond ./visibility.ts's rule, an access to a kernel object
 * slot is run on like a local step when a lock the thread holds protects the slot: Stoller,
 * "Model-checking multi-threaded distributed Java programs" (STTT 4(1), 2002), as in Java
 * PathFinder, with the mover argument of Flanagan and Qadeer, "Transactions for software model
 * checking" (SoftMC 2003). A protected access is a both-mover: no other thread can touch the slot
 * in a conflicting way while the lock is held, and the release that would let one in is itself a
 * scheduling point, so the access commutes with every step other threads take before the thread's
 * next point. A transition stays `invisible* visible`, with the protected accesses among the
 * invisible steps.
 *
 * Protection, per kernel slot x, with Eraser's locksets (Savage et al., TOCS 1997) and the rwsem
 * rule: P(x) is the set of locks every write of x held for write, Q(x) the set every read of x held
 * in either mode, both intersected at every access. A read of x by t is unseen when t holds a lock
 * of P(x) (in either mode: no write can come between); a write when t holds one of P(x) and Q(x)
 * for write (no access at all can). Two pseudo-locks widen this as Eraser's states do: one per
 * thread, always held by it alone (a slot only t writes may be read by t unseen; one only t touches,
 * written), and `none`, held by every thread for reads only (a slot nobody writes needs no lock).
 *
 * The locksets are not known beforehand; they are checked in the reduced state space itself
 * (Stoller's theorem: if no access breaks the discipline there, none does in the full space). The
 * search runs in rounds. P and Q are seeded by a few seeded random runs under the full semantics
 * (every kernel access a point); a round decides with P, Q and the watched set as they were when it
 * began (so each round is one fixed reduction), records per slot the bit each unseen access relied
 * on, and keeps learning P and Q from every access. A round at whose end a relied-on bit has left P
 * (or Q) broke its assumption: the search runs again, deciding with the smaller sets; each such round
 * removes a bit, so the rounds end. Only the last round's result counts: every unseen access in it is
 * protected by a lock every conflicting access of the explored space held, which is the soundness
 * argument. Seeds and DFS order are fixed, so the rounds and results are deterministic.
 *
 * Decisions:
 * - Lock acquire/release, trylock, reads of lock state (is_locked, contended), RCU, wait queues,
 *   mailboxes and fences touch lock, thread, actor or fence records, never kernel slots: they stay
 *   points. RCU is no lock here (a reader under rcu_read_lock races with writers by design).
 * - Atomics (refcounts, bit ops) need no special case: touched without a common lock, their slot
 *   loses every bit like any other.
 * - Invariants read kernel slots at visited states; states inside critical sections are no longer
 *   visited. A slot an invariant reads is *watched*: a write of it stays a point (a read changes
 *   nothing an invariant sees, so it may still be unseen). Every skipped state then differs from the
 *   state its transition started at only in slots no invariant reads, and a state of the full space
 *   with threads inside critical sections differs from a reduced one (each thread's pending unseen
 *   steps moved past the end) only in such slots: the invariants give the same verdict. A round in
 *   which an invariant read a slot the round wrote unseen is broken too.
 * - POR/DPOR footprints still record every access (the probe passes each on); only where a
 *   transition ends changes. Loop targets and progress labels stay points (./exec.ts).
 * - Witnesses replay under the default semantics: a reduced transition is a run of default
 *   transitions of the same thread, and the enabled set cannot change in between (waking or
 *   blocking writes thread records, which are points), so its choice is recorded once per default
 *   transition it spans (./exec.ts: locksetStep). `mmsim replay` needs no locksets.
 * - Only a DFS (or DPOR) from the initial state uses it (../explore/lockset-rounds.ts); random/PCT
 *   runs, a split DFS and the parts of a parallel DFS run the default semantics.
 */
import { heldLock, heldMode, T_HELD, T_NHELD, WRITE } from '../locks/space.js';
import type { Model } from './model.js';

/**
 * Per-slot locksets of one search (all its rounds) and which accesses the current round relied on.
 * A lockset is a bit set over the model's locks, one pseudo-lock per thread (held by that thread
 * alone, always: Eraser's exclusive state) and one pseudo-lock `none` every thread holds for reads
 * only (a slot nobody writes needs no lock to be read).
 */
export class Lockset {
  /** Slots past the kernel objects are never reduced. */
  readonly kernelEnd: number;
  private readonly words: number;
  /** P(x): the locks every write of x so far held for write; Q(x): those every read held (either mode). All ones at first. */
  private readonly p: Int32Array;
  private readonly q: Int32Array;
  /** P and Q as the round began: the round decides with these, so its reduction is one fixed rule. */
  private readonly pr: Int32Array;
  private readonly qr: Int32Array;
  /** The bit each invisible read (write) of this round relied on, per slot: it must still be in P (P and Q) at the end. */
  private readonly ur: Int32Array;
  private readonly uw: Int32Array;
  /** Slots an invariant read (every write is a point), now and as the round began. */
  readonly watched: Uint8Array;
  private readonly wr: Uint8Array;
  /** Under the full semantics (seeding): every kernel access is a point, the locksets still learn. */
  observing = false;
  private readonly thread0: number;
  private readonly none: number;
  private readonly hw: Int32Array;
  private readonly ha: Int32Array;
  /** The running step's reliances (index into ur/uw, bit, write?), kept only if the transition runs on past the step. */
  private pendAt = new Int32Array(64);
  private pendBit = new Int32Array(64);
  private pendW = new Uint8Array(64);
  private npend = 0;

  constructor(model: Model) {
    this.kernelEnd = model.lockBase;
    this.thread0 = model.locks.length;
    this.none = this.thread0 + model.threads.length;
    this.words = (this.none + 32) >> 5;
    const n = this.kernelEnd * this.words;
    this.p = new Int32Array(n).fill(-1);
    this.q = new Int32Array(n).fill(-1);
    this.pr = new Int32Array(n);
    this.qr = new Int32Array(n);
    this.ur = new Int32Array(n);
    this.uw = new Int32Array(n);
    this.watched = new Uint8Array(this.kernelEnd);
    this.wr = new Uint8Array(this.kernelEnd);
    this.hw = new Int32Array(this.words);
    this.ha = new Int32Array(this.words);
  }

  /** A new round decides with what the locksets say now; nothing relied on yet. */
  beginRound(): void {
    this.pr.set(this.p);
    this.qr.set(this.q);
    this.wr.set(this.watched);
    this.ur.fill(0);
    this.uw.fill(0);
  }

  /**
   * Whether the round broke an assumption it relied on: a bit an invisible read relied on left P, one
   * an invisible write relied on left P or Q, or an invariant read a slot the round wrote unseen. The
   * next round then decides with smaller locksets or more watched slots, so the rounds end.
   */
  broken(): boolean {
    for (let i = 0, at = 0; i < this.kernelEnd; i++) {
      for (let k = 0; k < this.words; k++, at++) {
        const r = this.ur[at] as number;
        const w = this.uw[at] as number;
        if ((r & ~(this.p[at] as number)) !== 0 || (w & ~((this.p[at] as number) & (this.q[at] as number))) !== 0) return true;
        if (w !== 0 && this.watched[i] === 1) return true;
      }
    }
    return false;
  }

  /**
   * Thread `tid` (its record at `base` of `mem`) accesses kernel slot `i`; true when the access need
   * not be a scheduling point. A read may be unseen when the thread holds a lock of P(i) (no write
   * can come between it and the thread's next point); a write when it holds one of P(i) and Q(i)
   * for write and no invariant reads i (no access at all can come between). The lowest such bit is
   * the one relied on. Then P or Q learns the access.
   */
  access(mem: Int32Array, base: number, tid: number, i: number, write: boolean): boolean {
    this.heldBy(mem, base, tid);
    const at = i * this.words;
    let inv = false;
    if (write) {
      if (!this.observing && this.wr[i] === 0) {
        for (let k = 0; k < this.words && !inv; k++) {
          const b = (this.hw[k] as number) & (this.pr[at + k] as number) & (this.qr[at + k] as number);
          if (b !== 0) {
            this.rely(at + k, b & -b, 1);
            inv = true;
          }
        }
      }
      for (let k = 0; k < this.words; k++) this.p[at + k] = (this.p[at + k] as number) & (this.hw[k] as number);
      return inv;
    }
    if (!this.observing) {
      for (let k = 0; k < this.words && !inv; k++) {
        const b = (this.ha[k] as number) & (this.pr[at + k] as number);
        if (b !== 0) {
          this.rely(at + k, b & -b, 0);
          inv = true;
        }
      }
    }
    for (let k = 0; k < this.words; k++) this.q[at + k] = (this.q[at + k] as number) & (this.ha[k] as number);
    return inv;
  }

  private rely(at: number, bit: number, write: number): void {
    if (this.npend === this.pendAt.length) {
      const n = this.npend * 2;
      const a = new Int32Array(n);
      a.set(this.pendAt);
      this.pendAt = a;
      const b = new Int32Array(n);
      b.set(this.pendBit);
      this.pendBit = b;
      const c = new Uint8Array(n);
      c.set(this.pendW);
      this.pendW = c;
    }
    this.pendAt[this.npend] = at;
    this.pendBit[this.npend] = bit;
    this.pendW[this.npend++] = write;
  }

  /**
   * The transition runs on past the step just run: its unseen accesses must be movers, so what they
   * relied on is kept. The last step of a transition needs no such justification (the state after
   * it is visited, and the step itself is atomic in every semantics): its reliances are dropped.
   */
  commit(): void {
    for (let j = 0; j < this.npend; j++) {
      const at = this.pendAt[j] as number;
      const u = this.pendW[j] === 1 ? this.uw : this.ur;
      u[at] = (u[at] as number) | (this.pendBit[j] as number);
    }
    this.npend = 0;
  }

  /** The step just run ends its transition: drop its reliances. */
  discard(): void {
    this.npend = 0;
  }

  /** hw: the locks `tid` holds for write and its own pseudo-lock; ha: every lock it holds, its own and `none`. */
  private heldBy(mem: Int32Array, base: number, tid: number): void {
    const hw = this.hw;
    const ha = this.ha;
    hw.fill(0);
    ha.fill(0);
    const n = mem[base + T_NHELD] as number;
    for (let j = 0; j < n; j++) {
      const e = mem[base + T_HELD + j] as number;
      const l = heldLock(e);
      ha[l >> 5] = (ha[l >> 5] as number) | (1 << (l & 31));
      if (heldMode(e) === WRITE) hw[l >> 5] = (hw[l >> 5] as number) | (1 << (l & 31));
    }
    const me = this.thread0 + tid;
    hw[me >> 5] = (hw[me >> 5] as number) | (1 << (me & 31));
    ha[me >> 5] = (ha[me >> 5] as number) | (1 << (me & 31));
    ha[this.none >> 5] = (ha[this.none >> 5] as number) | (1 << (this.none & 31));
  }

  /** An invariant read kernel slot `i`: writes of it are points from the next round on. */
  watch(i: number): void {
    if (i < this.kernelEnd) this.watched[i] = 1;
  }

  /** Slots every write (P ∩ Q empty: racy) or every read (P empty) of which is a point, and the watched ones. */
  counts(): { racyWrites: number; racyReads: number; watched: number } {
    let racyWrites = 0;
    let racyReads = 0;
    let watched = 0;
    for (let i = 0; i < this.kernelEnd; i++) {
      let pq = 0;
      let p = 0;
      for (let k = 0; k < this.words; k++) {
        p |= this.p[i * this.words + k] as number;
        pq |= (this.p[i * this.words + k] as number) & (this.q[i * this.words + k] as number);
      }
      if (pq === 0) racyWrites++;
      if (p === 0) racyReads++;
      watched += this.watched[i] as number;
    }
    return { racyWrites, racyReads, watched };
  }
}
