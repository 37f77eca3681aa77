/**
 * Lock operations with kernel semantics: spinlocks disable preemption (atomic context), sleeping
 * locks check might_sleep, rwsem readers queue behind a waiting writer (so a recursive read can
 * deadlock), waiters sit in FIFO order.
 *
 * Release of a spinlock or mutex with waiters hands the lock to the first waiter (FIFO handoff):
 * the lock is owned by that waiter from the unlock on, and its blocked lock step completes the
 * acquisition when it next runs; nobody can barge in between. Queued spinlocks are FIFO
 * (kernel/locking/qspinlock.c: queued_spin_lock_slowpath: a locker that finds the lock word
 * non-zero queues behind the MCS tail, and the queue head takes the lock when owner and pending
 * are gone; v4.2 on). A mutex hands off in kernel/locking/mutex.c (v4.10 on, "locking/mutex: Add
 * lock handoff to avoid starvation"): __mutex_unlock_slowpath gives the owner field to the top
 * waiter (__mutex_handoff) when MUTEX_FLAG_HANDOFF is set, which the top waiter sets in
 * __mutex_lock_common after a wake-up in which it lost the race (__mutex_trylock_or_handoff in
 * current kernels). Simplification: the model hands off always, so the one steal the kernel allows
 * before the flag is set is not explored (a missed interleaving, never a false verdict of its own).
 * rwsem, folio lock and ww_mutex keep wake-all: every waiter is woken to race for the lock again.
 *
 * Read holds are per-thread counts (./space.ts: the `reader` region): a down_read or up_read writes
 * only its own thread's slots and reads the lock's owner and waiter count, so two readers of one
 * rwsem are independent for POR/DPOR unless a writer holds or waits for it (then the owner or the
 * waiter count, which readers read, is written by the writer's steps).
 */
import {
  heldEntry,
  heldLock,
  heldMode,
  L_OWNER,
  L_QUEUED,
  L_STAMP,
  LOCK_KIND_NAMES,
  LockKind,
  type LockWorld,
  lslot,
  MAX_HELD,
  READ,
  rslot,
  sleeps,
  T_ATOMIC,
  T_HELD,
  T_NHELD,
  T_RCU,
  T_STAMP,
  T_WAIT_LOCK,
  T_WAIT_MODE,
  T_WAIT_POS,
  tslot,
  WRITE,
} from './space.js';

const name = (w: LockWorld, lock: number): string => (w.locks[lock] as { name: string }).name;

/** The kernel call that takes a lock of this kind in this mode, for messages. */
export function opName(kind: LockKind, mode: number): string {
  if (kind === LockKind.Rwsem) return mode === READ ? 'down_read' : 'down_write';
  return `${LOCK_KIND_NAMES[kind]}${kind === LockKind.Folio ? '' : '_lock'}`.replace('spinlock_lock', 'spin_lock').replace('folio_lock', 'folio_lock');
}

/**
 * Would `tid` get `lock` in `mode` right now? A writer needs no owner and no read holds (the sum of
 * every thread's count); a reader also yields to a writer queued ahead of it (none when nobody waits).
 */
export function available(w: LockWorld, tid: number, lock: number, mode: number): boolean {
  if (w.get(lslot(w, lock, L_OWNER)) !== 0) return false;
  if (mode !== READ) return readHolds(w, lock) === 0;
  if (w.get(lslot(w, lock, L_QUEUED)) === 0) return true;
  const myPos = w.get(tslot(w, tid, T_WAIT_LOCK)) === lock + 1 ? w.get(tslot(w, tid, T_WAIT_POS)) : 1 << 30;
  for (let t = 0; t < w.nthreads; t++) {
    if (t === tid || w.get(tslot(w, t, T_WAIT_LOCK)) !== lock + 1) continue;
    if (w.get(tslot(w, t, T_WAIT_MODE)) !== READ && w.get(tslot(w, t, T_WAIT_POS)) < myPos) return false;
  }
  return true;
}

/** How many read holds `lock` has, over all threads. */
export function readHolds(w: LockWorld, lock: number): number {
  let n = 0;
  for (let t = 0; t < w.nthreads; t++) n += w.get(rslot(w, t, lock));
  return n;
}

/** Spinlocks and mutexes hand off to their first waiter on release (see the head comment). */
export function handsOff(kind: LockKind): boolean {
  return kind === LockKind.Spin || kind === LockKind.Mutex;
}

function take(w: LockWorld, tid: number, lock: number, mode: number, subclass: number): void {
  const def = w.locks[lock] as { kind: LockKind };
  if (mode === READ) w.set(rslot(w, tid, lock), w.get(rslot(w, tid, lock)) + 1);
  else w.set(lslot(w, lock, L_OWNER), tid + 1);
  own(w, tid, lock, mode, subclass, def.kind);
}

/** The holder's side of an acquisition: atomic context, the held-lock entry, leaving the queue. */
function own(w: LockWorld, tid: number, lock: number, mode: number, subclass: number, kind: LockKind): void {
  if (kind === LockKind.WwMutex) w.set(lslot(w, lock, L_STAMP), w.get(tslot(w, tid, T_STAMP)));
  if (kind === LockKind.Spin) w.set(tslot(w, tid, T_ATOMIC), w.get(tslot(w, tid, T_ATOMIC)) + 1);
  const n = w.get(tslot(w, tid, T_NHELD));
  if (n >= MAX_HELD) {
    w.fail('lock-misuse', `${w.threadName(tid)} holds more than ${MAX_HELD} locks (taking ${name(w, lock)})`);
    return;
  }
  w.set(tslot(w, tid, T_HELD + n), heldEntry(lock, subclass, mode));
  w.set(tslot(w, tid, T_NHELD), n + 1);
  dequeue(w, tid);
  w.lockEvent?.(tid, 'acquire', lock, mode);
}

function enqueue(w: LockWorld, tid: number, lock: number, mode: number): void {
  if (w.get(tslot(w, tid, T_WAIT_LOCK)) !== lock + 1) {
    const queued = w.get(lslot(w, lock, L_QUEUED));
    let n = 0;
    if (queued !== 0) for (let t = 0; t < w.nthreads; t++) if (w.get(tslot(w, t, T_WAIT_LOCK)) === lock + 1 && w.get(tslot(w, t, T_WAIT_POS)) > 0) n++;
    w.set(tslot(w, tid, T_WAIT_LOCK), lock + 1);
    w.set(tslot(w, tid, T_WAIT_MODE), mode);
    w.set(tslot(w, tid, T_WAIT_POS), n + 1);
    w.set(lslot(w, lock, L_QUEUED), queued + 1);
  }
  w.block(tid);
  w.lockEvent?.(tid, 'block', lock, mode);
}

function dequeue(w: LockWorld, tid: number): void {
  const wl = w.get(tslot(w, tid, T_WAIT_LOCK));
  if (wl <= 0) return;
  const pos = w.get(tslot(w, tid, T_WAIT_POS));
  if (pos > 0) shiftQueue(w, wl, pos);
  w.set(lslot(w, wl - 1, L_QUEUED), w.get(lslot(w, wl - 1, L_QUEUED)) - 1);
  w.set(tslot(w, tid, T_WAIT_LOCK), 0);
  w.set(tslot(w, tid, T_WAIT_MODE), 0);
  w.set(tslot(w, tid, T_WAIT_POS), 0);
}

/** Waiters behind position `pos` in queue `wl` (lock id + 1) move up one. */
function shiftQueue(w: LockWorld, wl: number, pos: number): void {
  for (let t = 0; t < w.nthreads; t++) {
    if (w.get(tslot(w, t, T_WAIT_LOCK)) === wl && w.get(tslot(w, t, T_WAIT_POS)) > pos)
      w.set(tslot(w, t, T_WAIT_POS), w.get(tslot(w, t, T_WAIT_POS)) - 1);
  }
}

/** might_sleep(): sleeping with a spinlock held or inside an RCU read-side section ends the run. */
export function mightSleep(w: LockWorld, tid: number, what: string): boolean {
  const atomic = w.get(tslot(w, tid, T_ATOMIC));
  const rcu = w.get(tslot(w, tid, T_RCU));
  if (atomic === 0 && rcu === 0) return true;
  const held = heldNames(w, tid).join(', ');
  w.fail(
    'sleep-in-atomic',
    `BUG: sleeping function called from invalid context: ${what} with ${atomic ? `spinlock held (${held})` : `rcu_read_lock held (depth ${rcu})`}`,
  );
  return false;
}

/**
 * Blocking acquire (spin_lock, mutex_lock, down_read/down_write, folio_lock). Returns false when the
 * thread blocked or the run ended; the step must then return BLOCKED (or ENDED) with no other effect.
 */
export function acquire(w: LockWorld, tid: number, lock: number, mode = WRITE, subclass = 0): boolean {
  const def = w.locks[lock] as { kind: LockKind };
  const queued = w.get(tslot(w, tid, T_WAIT_LOCK)) === lock + 1;
  if (queued && w.get(tslot(w, tid, T_WAIT_POS)) === 0) {
    // Handed off by the release (T_WAIT_POS 0: granted): the lock is already ours.
    own(w, tid, lock, mode, subclass, def.kind);
    return true;
  }
  if (sleeps(def.kind) && !mightSleep(w, tid, `${opName(def.kind, mode)}(${name(w, lock)})`)) return false;
  if (!queued) w.dependency(tid, lock, subclass, mode);
  if (available(w, tid, lock, mode)) {
    take(w, tid, lock, mode, subclass);
    return true;
  }
  enqueue(w, tid, lock, mode);
  return false;
}

/** Trylock: never blocks, adds no lock-order dependency (as lockdep treats trylocks). */
export function tryAcquire(w: LockWorld, tid: number, lock: number, mode = WRITE): boolean {
  if (!available(w, tid, lock, mode)) {
    w.lockEvent?.(tid, 'trylock-failed', lock, mode);
    return false;
  }
  take(w, tid, lock, mode, 0);
  return true;
}

/** Index of the held entry for this lock and mode, or -1. */
export function heldIndex(w: LockWorld, tid: number, lock: number, mode: number): number {
  const n = w.get(tslot(w, tid, T_NHELD));
  for (let i = n - 1; i >= 0; i--) {
    const e = w.get(tslot(w, tid, T_HELD + i));
    if (heldLock(e) === lock && heldMode(e) === mode) return i;
  }
  return -1;
}

/** Release; an unlock of a lock this thread does not hold is a `lock-misuse` verdict. */
export function release(w: LockWorld, tid: number, lock: number, mode = WRITE): boolean {
  const i = heldIndex(w, tid, lock, mode);
  if (i < 0) {
    w.fail('lock-misuse', `unlock of ${name(w, lock)} (${mode === READ ? 'read' : 'write'}) not held by ${w.threadName(tid)}`);
    return false;
  }
  const n = w.get(tslot(w, tid, T_NHELD));
  for (let j = i; j < n - 1; j++) w.set(tslot(w, tid, T_HELD + j), w.get(tslot(w, tid, T_HELD + j + 1)));
  w.set(tslot(w, tid, T_HELD + n - 1), 0);
  w.set(tslot(w, tid, T_NHELD), n - 1);
  const def = w.locks[lock] as { kind: LockKind };
  if (mode === READ) w.set(rslot(w, tid, lock), w.get(rslot(w, tid, lock)) - 1);
  else w.set(lslot(w, lock, L_OWNER), 0);
  if (def.kind === LockKind.WwMutex) w.set(lslot(w, lock, L_STAMP), 0);
  if (def.kind === LockKind.Spin) w.set(tslot(w, tid, T_ATOMIC), w.get(tslot(w, tid, T_ATOMIC)) - 1);
  w.lockEvent?.(tid, 'release', lock, mode);
  if (handsOff(def.kind)) handOff(w, lock);
  else wakeWaiters(w, lock);
  return true;
}

/** Wake every thread queued on `lock` (wake-all: they race for it again); none when nobody waits. */
export function wakeWaiters(w: LockWorld, lock: number): void {
  if (w.get(lslot(w, lock, L_QUEUED)) === 0) return;
  for (let t = 0; t < w.nthreads; t++) if (w.get(tslot(w, t, T_WAIT_LOCK)) === lock + 1) w.wake(t);
}

/**
 * FIFO handoff: the first waiter owns the lock from now on (T_WAIT_POS 0 marks it granted until
 * its lock step runs again and completes the acquisition); the other waiters move up and sleep on.
 */
function handOff(w: LockWorld, lock: number): void {
  if (w.get(lslot(w, lock, L_QUEUED)) === 0) return;
  for (let t = 0; t < w.nthreads; t++) {
    if (w.get(tslot(w, t, T_WAIT_LOCK)) !== lock + 1 || w.get(tslot(w, t, T_WAIT_POS)) !== 1) continue;
    w.set(lslot(w, lock, L_OWNER), t + 1);
    w.set(tslot(w, t, T_WAIT_POS), 0);
    shiftQueue(w, lock + 1, 1);
    w.wake(t);
    return;
  }
}

/**
 * ww_mutex_lock with wait-die: a younger context (larger stamp) that finds the lock held by an
 * older one gets -EDEADLK and must back off; an older one waits.
 */
export const EDEADLK = -35;
export function wwAcquire(w: LockWorld, tid: number, lock: number): boolean | typeof EDEADLK {
  const owner = w.get(lslot(w, lock, L_OWNER));
  const mine = w.get(tslot(w, tid, T_STAMP));
  if (owner !== 0 && owner !== tid + 1 && mine !== 0) {
    const theirs = w.get(lslot(w, lock, L_STAMP));
    if (theirs !== 0 && theirs < mine) {
      w.lockEvent?.(tid, 'edeadlk', lock, WRITE);
      return EDEADLK;
    }
  }
  return acquire(w, tid, lock, WRITE);
}

/** Names of the locks a thread holds, outermost first. */
export function heldNames(w: LockWorld, tid: number): string[] {
  const n = w.get(tslot(w, tid, T_NHELD));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = w.get(tslot(w, tid, T_HELD + i));
    out.push(`${name(w, heldLock(e))}${heldMode(e) === READ ? ' (read)' : ''}`);
  }
  return out;
}

export { rcuLock, rcuUnlock } from './rcu.js';
