/**
 * Run verdicts that lockdep and might_sleep report, printed as the kernel prints them
 * (kernel/sched/core.c: __might_resched; kernel/locking/lockdep.c: print_unlock_imbalance_bug,
 * lockdep_sys_exit, lockdep_print_held_locks). The held
 * locks come from the witness's trace: the acquire and release events of the failing actor.
 */
import type { TraceEvent, Verdict } from '../engine/events.js';
import { banner } from '../locks/splat.js';

interface Held {
  readonly lock: string;
  readonly mode: 'r' | 'w';
  readonly at: string;
}

/** The locks `actor` holds at the end of `events`, outermost first, each with where it was taken. */
export function heldAtEnd(events: readonly TraceEvent[], actor: string): Held[] {
  const held: Held[] = [];
  let at = '';
  for (const e of events) {
    if (e.k === 'step' && e.t === actor) at = e.at;
    if (e.k !== 'lock' || e.t !== actor) continue;
    if (e.op === 'acquire') held.push({ lock: e.lock, mode: e.mode, at });
    else if (e.op === 'release') {
      for (let i = held.length - 1; i >= 0; i--) {
        const h = held[i] as Held;
        if (h.lock === e.lock && h.mode === e.mode) {
          held.splice(i, 1);
          break;
        }
      }
    }
  }
  return held;
}

function heldLines(actor: string, held: readonly Held[]): string[] {
  if (!held.length) return [`no locks held by ${actor}.`];
  return [
    `${held.length} lock${held.length === 1 ? '' : 's'} held by ${actor}:`,
    ...held.map((h, i) => ` #${i}: (${h.lock}){${h.mode === 'r' ? 'read' : 'write'}}, at: ${h.at}`),
  ];
}

/** "BUG: sleeping function called from invalid context" with in_atomic, RCU depth and held locks. */
function sleepSplat(v: Verdict, held: readonly Held[], actor: string): string[] {
  const what = /context: (.*?) with /.exec(v.message)?.[1] ?? v.message;
  const rcu = Number(/depth (\d+)/.exec(v.message)?.[1] ?? 0);
  const atomic = /spinlock held/.test(v.message) ? 1 : 0;
  return [
    '',
    `BUG: sleeping function called from invalid context at ${v.at ?? '?'}`,
    `in_atomic(): ${atomic}, irqs_disabled(): 0, non_block: 0, name: ${actor}`,
    `preempt_count: ${atomic}, expected: 0`,
    `RCU nest depth: ${rcu}, expected: 0`,
    `the sleeping call: ${what}`,
    ...heldLines(actor, held),
  ];
}

/** lockdep's lock-misuse reports: unlock imbalance, locks held at exit, too many held locks. */
function misuseSplat(v: Verdict, held: readonly Held[], actor: string): string[] {
  const unlock = /^unlock of (\S+)/.exec(v.message)?.[1] ?? (/^rcu_read_unlock without/.test(v.message) ? 'rcu_read_lock' : null);
  if (unlock !== null)
    return [
      ...banner('WARNING: bad unlock balance detected!'),
      `${actor} is trying to release lock (${unlock}) at:`,
      `  ${v.at ?? '?'}`,
      'but there are no more locks to release!',
      '',
      'other info that might help us debug this:',
      ...heldLines(actor, held),
    ];
  if (/ exits (holding|inside)/.test(v.message))
    return [
      ...banner('WARNING: lock held when returning to user space!'),
      `${actor} is leaving the kernel with locks still held!`,
      ...(/inside rcu_read_lock/.test(v.message) ? ['(inside an rcu_read_lock section)'] : []),
      ...heldLines(actor, held),
    ];
  return [...banner('BUG: MAX_LOCK_DEPTH too low!'), v.message, ...heldLines(actor, held)];
}

/** The kernel-format splat of a sleep-in-atomic or lock-misuse verdict, or null for other kinds. */
export function verdictSplat(v: Verdict, events: readonly TraceEvent[]): string | null {
  if (v.code !== 'sleep-in-atomic' && v.code !== 'lock-misuse') return null;
  const actor = v.actor ?? '?';
  const held = heldAtEnd(events, actor);
  return (v.code === 'sleep-in-atomic' ? sleepSplat(v, held, actor) : misuseSplat(v, held, actor)).join('\n');
}
