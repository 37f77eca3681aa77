/** rcu_read_lock / rcu_read_unlock: no lock, but an atomic context for might_sleep. */
import { type LockWorld, T_RCU, tslot } from './space.js';

export function rcuLock(w: LockWorld, tid: number): void {
  w.set(tslot(w, tid, T_RCU), w.get(tslot(w, tid, T_RCU)) + 1);
}

export function rcuUnlock(w: LockWorld, tid: number): boolean {
  const d = w.get(tslot(w, tid, T_RCU));
  if (d <= 0) {
    w.fail('lock-misuse', `rcu_read_unlock without rcu_read_lock in ${w.threadName(tid)}`);
    return false;
  }
  w.set(tslot(w, tid, T_RCU), d - 1);
  return true;
}
