/**
 * downgrade_write (kernel/locking/rwsem.c): the writer becomes a reader without releasing the rwsem
 * (no other writer can get in between); the waiters are woken to race for it again, as release does.
 */
import { heldIndex, wakeWaiters } from './lock.js';
import { heldEntry, heldLock, heldSubclass, L_OWNER, type LockWorld, lslot, READ, rslot, T_HELD, tslot, WRITE } from './space.js';

/** downgrade_write(lock) by `tid`; false (a `lock-misuse` verdict) if it does not hold it for write. */
export function downgradeWrite(w: LockWorld, tid: number, lock: number): boolean {
  const i = heldIndex(w, tid, lock, WRITE);
  if (i < 0) {
    w.fail('lock-misuse', `downgrade_write of ${(w.locks[lock] as { name: string }).name} not held for write by thread ${tid}`);
    return false;
  }
  const e = w.get(tslot(w, tid, T_HELD + i));
  w.set(tslot(w, tid, T_HELD + i), heldEntry(heldLock(e), heldSubclass(e), READ));
  w.set(lslot(w, lock, L_OWNER), 0);
  w.set(rslot(w, tid, lock), w.get(rslot(w, tid, lock)) + 1);
  w.lockEvent?.(tid, 'release', lock, WRITE);
  w.lockEvent?.(tid, 'acquire', lock, READ);
  wakeWaiters(w, lock);
  return true;
}
