/**
 * downgrade_write (kernel/locking/rwsem.c): the writer becomes a reader without releasing the rwsem
 * (no other writer can get in between); the waiters are woken to race for it again, as release does.
 */
import { heldIndex } from './lock.js';
import { heldEntry, heldLock, heldSubclass, L_OWNER, L_READERS, type LockWorld, lslot, READ, T_HELD, T_WAIT_LOCK, tslot, WRITE } from './space.js';

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
  w.set(lslot(w, lock, L_READERS), w.get(lslot(w, lock, L_READERS)) + 1);
  w.lockEvent?.(tid, 'release', lock, WRITE);
  w.lockEvent?.(tid, 'acquire', lock, READ);
  for (let t = 0; t < w.nthreads; t++) if (w.get(tslot(w, t, T_WAIT_LOCK)) === lock + 1) w.wake(t);
  return true;
}
