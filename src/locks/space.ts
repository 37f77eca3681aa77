/**
 * Where lock state lives in the world's memory: one record per lock (owner, waiter count, ww stamp),
 * one per thread (lifecycle status, what it waits on, atomic depth, RCU depth, held locks) and, per
 * thread, one read-hold count per lock (the `reader` region).
 *
 * Read holds are counted per (thread, lock), not in one shared count, so that two readers' down_read
 * and up_read touch disjoint slots: each writes only its own count and reads only the lock's owner
 * and waiter count, which readers never write. The footprint relation (src/engine/footprint.ts) then
 * finds them independent, as they are in the kernel while no writer is involved, and POR/DPOR stop
 * exploring their orders. A writer reads every thread's count of its lock (rwsem_write_trylock sees
 * the one shared count that is their sum). Likewise a waiter count per lock lets a reader or an
 * unlocker skip the scan of every thread's wait slots when nobody waits on that lock, so blocking on
 * one lock does not make a thread dependent with every operation on another. Both are functions of
 * the thread records (the read holds in T_HELD, the T_WAIT_LOCK slots), so they add no distinct state.
 */
export const enum LockKind {
  Spin = 0,
  Mutex = 1,
  Rwsem = 2,
  Folio = 3,
  WwMutex = 4,
}

export const LOCK_KIND_NAMES = ['spinlock', 'mutex', 'rwsem', 'folio_lock', 'ww_mutex'] as const;

/** Whether acquiring a lock of this kind may sleep (a might_sleep point). */
export function sleeps(kind: LockKind): boolean {
  return kind !== LockKind.Spin;
}

export interface LockDef {
  readonly name: string;
  readonly kind: LockKind;
  /** Lock class (lockdep key), an index into the class table. */
  readonly cls: number;
}

export const LOCK_FIELDS = ['owner', 'queued', 'stamp'] as const;
export const L_OWNER = 0; // tid + 1 of the exclusive holder, 0 if none
export const L_QUEUED = 1; // threads whose T_WAIT_LOCK names this lock (queued, or granted by a handoff)
export const L_STAMP = 2; // ww_mutex: acquire-context stamp of the holder
export const LOCK_STRIDE = LOCK_FIELDS.length;

export const MAX_HELD = 12;
export const THREAD_FIELDS = [
  'status',
  'waitLock',
  'waitMode',
  'waitPos',
  'atomic',
  'rcu',
  'nheld',
  'rv',
  'stamp',
  ...Array.from({ length: MAX_HELD }, (_, i) => `held${i}`),
] as const;
export const T_STATUS = 0;
export const T_WAIT_LOCK = 1; // lock id + 1 while queued on a lock; MAILBOX while waiting for a message
export const T_WAIT_MODE = 2;
export const T_WAIT_POS = 3; // 1-based position in that lock's FIFO
export const T_ATOMIC = 4; // spinlocks held (preemption disabled)
export const T_RCU = 5; // rcu_read_lock depth
export const T_NHELD = 6;
export const T_RV = 7; // return value of the last procedure that returned
export const T_STAMP = 8; // ww_acquire_ctx stamp, 0 when none
export const T_HELD = 9;
export const THREAD_STRIDE = THREAD_FIELDS.length;
export const MAILBOX = -1;

/** Acquisition modes. */
export const WRITE = 0;
export const READ = 1;

/** A held-lock entry packs the lock, its lockdep subclass (spin_lock_nested) and the mode. */
export const heldEntry = (lock: number, subclass: number, mode: number): number => (lock << 4) | (subclass << 2) | mode;
export const heldLock = (e: number): number => e >> 4;
export const heldSubclass = (e: number): number => (e >> 2) & 3;
export const heldMode = (e: number): number => e & 3;

/** What the lock layer needs from a world. */
export interface LockWorld {
  get(i: number): number;
  set(i: number, v: number): void;
  readonly lockBase: number;
  readonly threadBase: number;
  /** First slot of the read-hold counts: thread t's count of lock l at readerBase + t * locks.length + l. */
  readonly readerBase: number;
  readonly nthreads: number;
  readonly locks: readonly LockDef[];
  /** Move a thread to blocked / back to runnable (through the lifecycle machine). */
  block(tid: number): void;
  wake(tid: number): void;
  /** End the run with a verdict. */
  fail(code: string, message: string): void;
  /** The actor's name for messages. */
  threadName(tid: number): string;
  /** Lock-order bookkeeping for a blocking acquisition (lockdep). */
  dependency(tid: number, lock: number, subclass: number, mode: number): void;
  /** Trace hook; absent when nobody listens. */
  readonly lockEvent: ((tid: number, what: string, lock: number, mode: number) => void) | null;
}

export const tslot = (w: LockWorld, tid: number, f: number): number => w.threadBase + tid * THREAD_STRIDE + f;
export const lslot = (w: LockWorld, lock: number, f: number): number => w.lockBase + lock * LOCK_STRIDE + f;
/** Thread `tid`'s read-hold count of `lock`. */
export const rslot = (w: LockWorld, tid: number, lock: number): number => w.readerBase + tid * w.locks.length + lock;
