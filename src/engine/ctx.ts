/**
 * What a step sees: the world and the running thread, with the kernel primitives a code path uses.
 * One Ctx per world, reused for every step (no allocation on the hot path).
 */
import { acquire, EDEADLK, mightSleep, rcuLock, rcuUnlock, release, tryAcquire, wwAcquire } from '../locks/lock.js';
import { MAILBOX, READ, T_RV, T_STAMP, T_WAIT_LOCK, THREAD_STRIDE, WRITE } from '../locks/space.js';
import { ENDED, JUMPED, type Proc } from './proc.js';
import { type Frame, newFrame, type ThreadState } from './threads.js';
import type { CallArgs } from './events.js';
import type { World } from './world.js';
import { deliverUntyped, receiptId } from './delivery.js';
import { Fences } from './fence.js';
import { Messaging } from './messaging.js';

/**
 * `S` is the running procedure's labels (a type only: one Ctx serves every step), so `k.call`
 * accepts only a label of the caller.
 */
export class Ctx<S extends string = string> {
  tid = -1;
  /** Typed messages between actors: send, recv, call, reply (./messaging.ts). */
  readonly msg: Messaging;
  /** DMA-fence-like objects: signal and wait (./fence.ts). */
  readonly fence: Fences;

  constructor(readonly w: World) {
    this.msg = new Messaging(this);
    this.fence = new Fences(this);
  }

  // --- locks (a false return means: the thread blocked or the run ended; return BLOCKED) ---
  spin_lock(lock: number, subclass = 0): boolean {
    return acquire(this.w, this.tid, lock, WRITE, subclass);
  }
  spin_unlock(lock: number): boolean {
    return release(this.w, this.tid, lock, WRITE);
  }
  spin_trylock(lock: number): boolean {
    return tryAcquire(this.w, this.tid, lock, WRITE);
  }
  mutex_lock(lock: number, subclass = 0): boolean {
    return acquire(this.w, this.tid, lock, WRITE, subclass);
  }
  mutex_unlock(lock: number): boolean {
    return release(this.w, this.tid, lock, WRITE);
  }
  mutex_trylock(lock: number): boolean {
    return tryAcquire(this.w, this.tid, lock, WRITE);
  }
  down_read(lock: number, subclass = 0): boolean {
    return acquire(this.w, this.tid, lock, READ, subclass);
  }
  down_write(lock: number, subclass = 0): boolean {
    return acquire(this.w, this.tid, lock, WRITE, subclass);
  }
  up_read(lock: number): boolean {
    return release(this.w, this.tid, lock, READ);
  }
  up_write(lock: number): boolean {
    return release(this.w, this.tid, lock, WRITE);
  }
  down_read_trylock(lock: number): boolean {
    return tryAcquire(this.w, this.tid, lock, READ);
  }
  down_write_trylock(lock: number): boolean {
    return tryAcquire(this.w, this.tid, lock, WRITE);
  }
  /** ww_mutex_lock: true, false (blocked), or -EDEADLK (wait-die: back off). */
  ww_mutex_lock(lock: number): boolean | number {
    return wwAcquire(this.w, this.tid, lock);
  }
  ww_acquire_init(stamp: number): void {
    this.w.set(this.w.threadBase + this.tid * THREAD_STRIDE + T_STAMP, stamp);
  }
  ww_acquire_fini(): void {
    this.w.set(this.w.threadBase + this.tid * THREAD_STRIDE + T_STAMP, 0);
  }
  rcu_read_lock(): void {
    rcuLock(this.w, this.tid);
  }
  rcu_read_unlock(): boolean {
    return rcuUnlock(this.w, this.tid);
  }
  /** might_sleep(): false (run ended with sleep-in-atomic) in atomic context. */
  might_sleep(what: string): boolean {
    return mightSleep(this.w, this.tid, what);
  }

  // --- calls: a synchronous callee runs in this thread, under its locks and context ---
  /** Call `p`; when it returns, this frame resumes at `next` and `k.rv` holds the result. */
  call<A extends object>(p: Proc<A>, args: NoInfer<A>, next: S): typeof JUMPED {
    const w = this.w;
    const t = w.threads[this.tid] as ThreadState;
    const frames = t.frames;
    const top = frames[frames.length - 1] as Frame;
    const pc = top.proc.index.get(next);
    if (pc === undefined) throw new Error(`${top.proc.name}: no label ${next}`);
    if (Array.isArray(args)) positional(p.name);
    top.pc = pc;
    frames.push(newFrame(p as unknown as Proc, p.init(args), t));
    w.emit?.({ k: 'call', i: w.steps, t: w.threadName(this.tid), proc: p.name, args: args as CallArgs });
    return JUMPED;
  }
  /** Return `v` to the caller (or exit the thread from its entry procedure). */
  ret(v: number): typeof JUMPED {
    const w = this.w;
    const frames = w.threads[this.tid]?.frames as { proc: Proc }[];
    const f = frames.pop() as { proc: Proc };
    w.set(w.threadBase + this.tid * THREAD_STRIDE + T_RV, v);
    w.emit?.({ k: 'ret', i: w.steps, t: w.threadName(this.tid), proc: f.proc.name, rv: v });
    return JUMPED;
  }
  /** The value the last callee returned. */
  get rv(): number {
    return this.w.get(this.w.threadBase + this.tid * THREAD_STRIDE + T_RV);
  }

  // --- messages: a send and its receipt are separate steps ---
  /** An untyped message (kernel wait-queue wake-ups); it waits in `to`'s inbox until `to` runs a recv step. */
  send(to: number, type: number, a = 0, b = 0): void {
    deliverUntyped(this.w, this.tid, to, type, a, b);
  }
  /** Take the oldest message into l.from/l.type/l.a/l.b; false (blocked) if the mailbox is empty. */
  recv(l: Record<string, number>): boolean {
    const w = this.w;
    const inbox = w.threads[this.tid]?.inbox as number[];
    w.rec?.write(w.mem.length + this.tid);
    if (inbox.length === 0) {
      if (!this.might_sleep('wait for message')) return false;
      w.set(w.threadBase + this.tid * THREAD_STRIDE + T_WAIT_LOCK, MAILBOX);
      w.block(this.tid);
      this.note(() => 'sleeps: mailbox empty');
      return false;
    }
    l.from = inbox.shift() as number;
    l.type = inbox.shift() as number;
    l.a = inbox.shift() as number;
    l.b = inbox.shift() as number;
    if (w.emit) w.emit({ k: 'recv', i: w.steps, t: w.threadName(this.tid), msg: [l.type, l.a, l.b], id: receiptId(w, this.tid), from: w.threadName(l.from) });
    return true;
  }

  // --- checks ---
  /** BUG_ON(cond): ends the run with a `bug` verdict when cond holds. */
  BUG_ON(cond: boolean, what: string): boolean {
    if (cond) {
      this.w.fail('bug', `kernel BUG at ${this.w.where(this.tid)}: BUG_ON(${what})`);
      this.w.oops(this.tid);
    }
    return cond;
  }
  /** WARN_ON(cond): ends the run with a `warn` verdict when cond holds. */
  WARN_ON(cond: boolean, what: string): boolean {
    if (cond) this.w.fail('warn', `WARNING at ${this.w.where(this.tid)}: WARN_ON(${what})`);
    return cond;
  }
  /** An invariant of the model broken by this step. */
  violated(what: string): typeof ENDED {
    this.w.fail('invariant', what);
    return ENDED;
  }
  /** A note on the trace (free text; only built when someone listens). */
  note(text: () => string): void {
    const w = this.w;
    if (w.emit) w.emit({ k: 'note', i: w.steps, t: w.threadName(this.tid), text: text() });
  }
  /** A variant switch of the model. */
  sw(name: string): boolean {
    return this.w.model.switches[name] === true;
  }
}

export { EDEADLK };

/** Untyped callers (tests are not type-checked) still fail loudly on old-style positional arguments. */
export function positional(name: string): never {
  throw new Error(`${name}: called with positional arguments (an array); pass its named argument record`);
}
