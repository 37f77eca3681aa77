/**
 * The world: all state of one execution as plain data. Shared kernel and lock state lives in one
 * Int32Array whose 64-bit Zobrist fingerprint is kept up to date on every write; each thread adds
 * its call stack (procedure, label, locals) and mailbox, hashed when a fingerprint is asked for.
 */
import { fmix32, mixIn, zob0, zob1 } from './hash.js';
import type { Layout } from './layout.js';
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
}

/** A fresh frame owned by `owner`. */
export function newFrame(proc: Proc, l: Locals, owner: ThreadState | null): Frame {
  return { proc, pc: 0, l, owner, ha: 0, hb: 0, hashed: false };
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
  hashed: boolean;
}

export interface Snapshot {
  readonly mem: Int32Array;
  readonly h0: number;
  readonly h1: number;
  readonly threads: ThreadState[];
}

/** A shallow copy: the frames are shared until a step changes its top frame. */
export function cloneThread(t: ThreadState): ThreadState {
  return { frames: t.frames.slice(), inbox: t.inbox.slice(), ha: 0, hb: 0, hashed: false };
}

export class Memory {
  mem: Int32Array;
  h0 = 0;
  h1 = 0;

  constructor(readonly layout: Layout) {
    this.mem = Int32Array.from(layout.init);
    for (let i = 0; i < this.mem.length; i++) {
      this.h0 ^= zob0(i, this.mem[i] as number);
      this.h1 ^= zob1(i, this.mem[i] as number);
    }
  }

  get(i: number): number {
    return this.mem[i] as number;
  }

  /** Write one slot and keep the fingerprint current. */
  set(i: number, v: number): void {
    const o = this.mem[i] as number;
    if (o === v) return;
    this.mem[i] = v;
    this.h0 ^= zob0(i, o) ^ zob0(i, v);
    this.h1 ^= zob1(i, o) ^ zob1(i, v);
  }

  add(i: number, d: number): number {
    const v = (this.mem[i] as number) + d;
    this.set(i, v);
    return v;
  }
}

let laneA = 0;
let laneB = 0;

/** Cache a frame's two fingerprint lanes on it. */
function hashFrame(f: Frame): void {
  let a = mixIn(f.proc.id, f.pc);
  let b = mixIn(f.proc.id + 7, f.pc + 13);
  const l = f.l;
  for (const k in l) {
    const v = l[k] as number;
    a = mixIn(a, v);
    b = mixIn(b, v ^ 0x51ed27);
  }
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

/** The 64-bit fingerprint of memory plus threads, as two unsigned 32-bit lanes. */
export function fingerprint(m: Memory, threads: readonly ThreadState[], out: Uint32Array): void {
  let a = m.h0;
  let b = m.h1;
  for (let i = 0; i < threads.length; i++) {
    const t = threads[i] as ThreadState;
    if (!t.hashed) {
      hashThread(t, fmix32(i + 1));
      t.ha = laneA;
      t.hb = laneB;
      t.hashed = true;
    }
    a ^= fmix32(t.ha + i);
    b ^= fmix32(t.hb ^ i);
  }
  out[0] = a >>> 0;
  out[1] = b >>> 0;
}

import { LIFECYCLE, NUM_EVENTS, RUNNABLE, EV_BLOCK, EV_WAKE } from '../../machines/lifecycle.js';
import { heldLock, heldMode, heldSubclass, type LockWorld, T_HELD, T_NHELD, T_STATUS, THREAD_STRIDE } from '../locks/space.js';
import type { LockGraph } from '../locks/lockdep.js';
import type { Model } from './model.js';
import type { TraceEvent, Verdict, VerdictCode } from './events.js';
import { Ctx } from './ctx.js';
import { Subject } from 'rxjs';
import { MAILBOX, T_WAIT_LOCK } from '../locks/space.js';

/** A message between actors: it travels on the world's RxJS bus into the receiver's mailbox. */
export interface Message {
  readonly from: number;
  readonly to: number;
  readonly type: number;
  readonly a: number;
  readonly b: number;
}

/** One execution's state plus the hooks the scheduler and the checks need. */
export class World extends Memory implements LockWorld {
  threads: ThreadState[];
  /** owned[t]: threads[t] belongs to this world alone (not shared with a snapshot) and may be mutated. */
  private owned: Uint8Array;
  verdict: Verdict | null = null;
  steps = 0;
  /** Scheduling choices of this run so far (the replay token's content). */
  readonly choices: number[] = [];
  /** The running thread, -1 between steps, and the procedure and label of the step it runs. */
  cur = -1;
  curProc: Frame['proc'] | null = null;
  curPc = 0;
  emit: ((e: TraceEvent) => void) | null = null;
  lockEvent: ((tid: number, what: string, lock: number, mode: number) => void) | null = null;
  readonly ctx: Ctx;
  /** Messages in flight; the scheduler, not RxJS, decides when the receiver takes one (a recv step). */
  readonly bus = new Subject<Message>();
  readonly lockBase: number;
  readonly threadBase: number;
  readonly nthreads: number;

  constructor(
    readonly model: Model,
    readonly lockdep: LockGraph | null,
  ) {
    super(model.layout);
    this.lockBase = model.lockBase;
    this.threadBase = model.threadBase;
    this.nthreads = model.threads.length;
    this.threads = model.threads.map((d) => {
      const t: ThreadState = { frames: [], inbox: [], ha: 0, hb: 0, hashed: false };
      t.frames.push(newFrame(d.entry, d.entry.init(d.args), t));
      return t;
    });
    this.owned = new Uint8Array(this.threads.length).fill(1);
    this.ctx = new Ctx(this);
    this.bus.subscribe((m) => this.deliver(m));
  }

  /** Put a message in its receiver's mailbox and wake the receiver if it waits for one. */
  private deliver(m: Message): void {
    this.mutable(m.to).inbox.push(m.from, m.type, m.a, m.b);
    this.emit?.({ k: 'send', i: this.steps, t: this.threadName(m.from), to: this.threadName(m.to), msg: [m.type, m.a, m.b] });
    const slot = this.threadBase + m.to * THREAD_STRIDE + T_WAIT_LOCK;
    if (this.get(slot) === MAILBOX) {
      this.set(slot, 0);
      this.wake(m.to);
    }
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
          g?.violation({ from: fromCls, to: toCls, message, thread: this.threadName(tid), where: this.where(tid), heldWhere: heldName, step: this.steps, choices: this.choices.slice() });
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
      });
    }
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
      f = { proc: f.proc, pc: f.pc, l: { ...f.l }, owner: t, ha: 0, hb: 0, hashed: false };
      fs[fs.length - 1] = f;
    }
    f.hashed = false;
    return f;
  }

  /** Save everything needed to come back to this state (threads are shared, copy-on-write). */
  snapshot(): Snapshot {
    this.owned.fill(0);
    return { mem: this.mem.slice(), h0: this.h0, h1: this.h1, threads: this.threads.slice() };
  }

  restore(s: Snapshot): void {
    this.mem.set(s.mem);
    this.h0 = s.h0;
    this.h1 = s.h1;
    this.threads = s.threads.slice();
    this.owned.fill(0);
    this.verdict = null;
  }
}
