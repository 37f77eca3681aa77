/**
 * The world: all state of one execution as plain data (shared memory in ./memory.ts, thread stacks
 * in ./threads.ts) plus the hooks the scheduler and the checks need.
 */
import { Memory } from './memory.js';
import { cloneThread, type Frame, newFrame, type ThreadState } from './threads.js';
import { LIFECYCLE, NUM_EVENTS, RUNNABLE, EV_BLOCK, EV_WAKE, EV_OOPS, DONE, OOPS } from '../../machines/lifecycle.js';
import { heldLock, heldMode, heldSubclass, type LockWorld, T_HELD, T_NHELD, T_STATUS, THREAD_STRIDE } from '../locks/space.js';
import type { HeldClass, LockGraph } from '../locks/lockdep.js';
import type { Model } from './model.js';
import type { TraceEvent, Verdict, VerdictCode } from './events.js';
import { Ctx } from './ctx.js';
import { initOf } from './proc.js';
import { localsCopy } from './locals.js';
import { Subject } from 'rxjs';
import type { Delivery } from './delivery.js';
import type { Lockset } from './lockset.js';
import { A_MSGS, E_FIELDS } from './mailbox-layout.js';
import { READ } from '../locks/space.js';


/** A state to come back to: a copy of memory, or (in a depth-first search) a position in the undo log. */
export interface Snapshot {
  readonly mem: Int32Array | null;
  readonly undoPos: number;
  readonly h0: number;
  readonly h1: number;
  readonly threads: ThreadState[];
}

/** A snapshot whose storage is reused (World.snapshotInto). */
export type MutableSnapshot = { -readonly [K in keyof Snapshot]: Snapshot[K] };

/** One execution's state plus the hooks the scheduler and the checks need. */
export class World extends Memory implements LockWorld {
  threads: ThreadState[];
  /** owned[t]: threads[t] belongs to this world alone (not shared with a snapshot) and may be mutated. */
  private owned: Uint8Array;
  verdict: Verdict | null = null;
  steps = 0;
  /**
   * Steps that jumped back (to the same or an earlier label, or a call whose caller resumes there).
   * Without them no state can repeat: each other step moves a frame forward or blocks before any
   * effect (../explore/parallel-dfs.ts relies on this to rule out cycles).
   */
  backJumps = 0;
  /** Scheduling choices of this run so far (the replay token's content). */
  readonly choices: number[] = [];
  /** The running thread, -1 between steps, and the procedure and label of the step it runs. */
  cur = -1;
  curProc: Frame['proc'] | null = null;
  curPc = 0;
  emit: ((e: TraceEvent) => void) | null = null;
  /** The lockset reduction's state while a search uses it (./lockset.ts), else null. */
  lockset: Lockset | null = null;
  lockEvent: ((tid: number, what: string, lock: number, mode: number) => void) | null = null;
  readonly ctx: Ctx;
  /** Every delivery, published when someone subscribes (exporters, the viewer); delivery itself is ./delivery.ts. */
  readonly bus = new Subject<Delivery>();
  /** Trace-only pairing counters: messages sent to / taken by each thread this run (not world state). */
  readonly sentTo: Int32Array;
  readonly takenBy: Int32Array;
  /** Slots per actor record and per mailbox entry (see ./mailbox-layout.ts). */
  readonly entryStride: number;
  readonly actorStride: number;
  readonly lockBase: number;
  readonly threadBase: number;
  readonly readerBase: number;
  readonly nthreads: number;

  constructor(
    readonly model: Model,
    readonly lockdep: LockGraph | null,
  ) {
    super(model.layout);
    this.lockBase = model.lockBase;
    this.threadBase = model.threadBase;
    this.readerBase = model.readerBase;
    this.nthreads = model.threads.length;
    this.threads = model.threads.map((d) => {
      const t: ThreadState = { frames: [], inbox: [], ha: 0, hb: 0, ka: 0, kb: 0, hashed: false };
      t.frames.push(newFrame(d.entry, initOf(d.entry, d.args), t));
      return t;
    });
    this.owned = new Uint8Array(this.threads.length).fill(1);
    this.sentTo = new Int32Array(this.nthreads);
    this.takenBy = new Int32Array(this.nthreads);
    this.entryStride = E_FIELDS + model.mailboxWidth;
    this.actorStride = A_MSGS + model.mailboxCap * this.entryStride;
    this.ctx = new Ctx(this);
  }

  get locks() {
    return this.model.locks;
  }

  status(tid: number): number {
    return this.get(this.threadBase + tid * THREAD_STRIDE + T_STATUS);
  }

  /** Drive a thread's lifecycle machine (compiled from machines/lifecycle.ts). */
  transition(tid: number, ev: number): void {
    const slot = this.threadBase + tid * THREAD_STRIDE + T_STATUS;
    const next = LIFECYCLE[this.get(slot) * NUM_EVENTS + ev] as number;
    if (next < 0) throw new Error(`lifecycle: thread ${tid} in status ${this.get(slot)} cannot take event ${ev}`);
    this.set(slot, next);
  }

  block(tid: number): void {
    this.transition(tid, EV_BLOCK);
  }

  wake(tid: number): void {
    if (this.status(tid) !== RUNNABLE) this.transition(tid, EV_WAKE);
  }

  /** The thread ends in an oops (a BUG_ON fired in its step). */
  oops(tid: number): void {
    const s = this.status(tid);
    if (s !== DONE && s !== OOPS) this.transition(tid, EV_OOPS);
  }

  fail(code: VerdictCode, message: string): void {
    if (this.verdict) return;
    const t = this.cur >= 0 ? this.threadName(this.cur) : undefined;
    const at = this.curProc ? `${this.curProc.name}:${this.curProc.labels[this.curPc]}` : undefined;
    this.verdict = { code, message, actor: t, at, step: this.steps };
    this.emit?.({ k: 'verdict', i: this.steps, code, message, t, at });
  }

  threadName(tid: number): string {
    return (this.model.threads[tid] as { name: string }).name;
  }

  /** `proc:label` of a thread's current step. */
  where(tid: number): string {
    const fs = (this.threads[tid] as ThreadState).frames;
    const f = fs[fs.length - 1];
    return f ? `${f.proc.name}:${f.proc.labels[f.pc]}` : 'exited';
  }

  /**
   * lockdep: record class edges from every held lock to the one being taken, and check each pair
   * against the model's lock-hierarchy oracle (model.orderRule): a broken rule ends the run with a
   * `potential-deadlock` verdict and is kept in the lock graph's rule violations.
   */
  dependency(tid: number, lock: number, subclass: number, mode: number): void {
    const g = this.lockdep;
    const rule = this.model.orderRule;
    if (!g && !rule) return;
    const toCls = (this.model.locks[lock] as { cls: number }).cls;
    const to = toCls * 4 + subclass;
    const base = this.threadBase + tid * THREAD_STRIDE;
    const n = this.get(base + T_NHELD);
    for (let i = 0; i < n; i++) {
      const e = this.get(base + T_HELD + i);
      const fromCls = (this.model.locks[heldLock(e)] as { cls: number }).cls;
      if (rule) {
        const broken = rule(fromCls, toCls, heldMode(e), mode);
        if (broken) {
          const heldName = this.model.locks[heldLock(e)]?.name ?? '';
          const message = `${broken}\n  ${this.threadName(tid)} takes ${this.model.locks[lock]?.name} at ${this.where(tid)} while holding ${heldName}`;
          g?.violation({ from: fromCls, to: toCls, message, thread: this.threadName(tid), where: this.where(tid), heldWhere: heldName, step: this.steps, choices: this.choices.slice(), mode: mode === READ ? 'r' : 'w', held: this.heldClasses(tid) });
          this.fail('potential-deadlock', message);
        }
      }
      if (!g) continue;
      const from = fromCls * 4 + heldSubclass(e);
      if (g.has(from, to)) continue;
      g.record(from, to, {
        thread: this.threadName(tid),
        where: this.where(tid),
        heldWhere: this.model.locks[heldLock(e)]?.name ?? '',
        step: this.steps,
        choices: this.choices.slice(),
        mode: mode === READ ? 'r' : 'w',
        held: this.heldClasses(tid),
        stack: (this.threads[tid] as ThreadState).frames.map((f) => `${f.proc.name}:${f.proc.labels[f.pc]}`),
      });
    }
  }

  /** The locks `tid` holds, outermost first, as lockdep lists them (only when a new edge is recorded). */
  private heldClasses(tid: number): HeldClass[] {
    const base = this.threadBase + tid * THREAD_STRIDE;
    const out: HeldClass[] = [];
    for (let i = 0; i < this.get(base + T_NHELD); i++) {
      const e = this.get(base + T_HELD + i);
      const l = this.model.locks[heldLock(e)] as { cls: number; name: string };
      out.push({ key: l.cls * 4 + heldSubclass(e), mode: heldMode(e) === READ ? 'r' : 'w', name: l.name });
    }
    return out;
  }

  /** Thread `tid`'s state, cloned first if a snapshot shares it; marked for rehashing. */
  mutable(tid: number): ThreadState {
    let t = this.threads[tid] as ThreadState;
    if (this.owned[tid] === 0) {
      t = cloneThread(t);
      this.threads[tid] = t;
      this.owned[tid] = 1;
    }
    t.hashed = false;
    return t;
  }

  /** The top frame of `tid` (already mutable), cloned first if another thread state owns it. */
  topFrame(t: ThreadState): Frame {
    const fs = t.frames;
    let f = fs[fs.length - 1] as Frame;
    if (f.owner !== t) {
      f = { proc: f.proc, pc: f.pc, l: (f.proc.locals ?? localsCopy(f.proc, f.l)).copy(f.l), owner: t, ha: 0, hb: 0, hashed: false, pa: 0, pb: 0, pfx: false };
      fs[fs.length - 1] = f;
    }
    f.hashed = false;
    f.pfx = false;
    return f;
  }

  /** Save everything needed to come back to this state (threads are shared, copy-on-write). */
  snapshot(): Snapshot {
    this.owned.fill(0);
    const pos = this.undoPos;
    return { mem: pos < 0 ? this.mem.slice() : null, undoPos: pos, h0: this.h0, h1: this.h1, threads: this.threads.slice() };
  }

  /**
   * snapshot() into `s`, reusing its arrays (a depth-first search keeps one per stack depth);
   * `s` must not be shared with anyone that still needs the state it held.
   */
  snapshotInto(s: MutableSnapshot): void {
    this.disown();
    const pos = this.undoPos;
    if (pos < 0) {
      if (s.mem === null || s.mem.length !== this.mem.length) s.mem = this.mem.slice();
      else s.mem.set(this.mem);
    } else s.mem = null;
    s.undoPos = pos;
    s.h0 = this.h0;
    s.h1 = this.h1;
    const ts = this.threads;
    if (s.threads.length !== ts.length) s.threads.length = ts.length;
    for (let i = 0; i < ts.length; i++) s.threads[i] = ts[i] as ThreadState;
  }

  /** Every thread state is shared with a snapshot now (a loop: a fill call costs more for a few threads). */
  private disown(): void {
    const o = this.owned;
    for (let i = 0; i < o.length; i++) o[i] = 0;
  }

  restore(s: Snapshot): void {
    if (s.mem) this.mem.set(s.mem);
    else this.undoTo(s.undoPos);
    this.h0 = s.h0;
    this.h1 = s.h1;
    // The world's array is its own (snapshots hold copies): refill it rather than allocate.
    const ts = this.threads;
    for (let i = 0; i < ts.length; i++) ts[i] = s.threads[i] as ThreadState;
    this.disown();
    this.verdict = null;
    if (this.emit !== null) {
      this.sentTo.fill(0);
      this.takenBy.fill(0);
    }
  }
}

export { cloneThread, fingerprint, type Frame, newFrame, type ThreadState } from './threads.js';
export { Memory } from './memory.js';
