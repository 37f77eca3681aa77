/**
 * Wait queues (wait_event / wake_up_all). A wait queue is a memory slot holding a bitmask of the
 * threads sleeping on it; a sleeper blocks on its own mailbox and the waker sends it MSG_WAKE.
 *
 *   check: (k, l) => { if (cond) return 'done'; prepare_to_wait(k, slot); return 'sleep'; }
 *   sleep: (k, l) => (k.recv(l) ? 'check' : BLOCKED),      // locals need from, type, a, b
 *
 * The condition test and prepare_to_wait are one step, and a waker clears the mask as it sends,
 * so each sleep consumes exactly one message (no lost or stale wake-ups). A thread that is never
 * woken ends in a `deadlock` verdict ("waits for a message").
 */
import type { Ctx } from '../engine/ctx.js';
import { MSG_WAKE } from './defs.js';

/** prepare_to_wait: join the queue (the next step sleeps in k.recv). */
export function prepare_to_wait(k: Ctx, slot: number): void {
  if (!k.might_sleep('wait_event')) return;
  k.w.set(slot, k.w.get(slot) | (1 << k.tid));
}

/** wake_up_all: wake every sleeper and empty the queue. */
export function wake_up_all(k: Ctx, slot: number): void {
  const mask = k.w.get(slot);
  if (mask === 0) return;
  k.w.set(slot, 0);
  for (let t = 0; t < k.w.nthreads; t++) if (mask & (1 << t)) k.send(t, MSG_WAKE);
}

/** Locals a sleeping procedure needs for k.recv. */
export const WAIT_LOCALS = { from: 0, type: 0, a: 0, b: 0 } as const;
