/**
 * The lifecycle every simulated actor goes through, defined as an xstate v5 machine and compiled
 * into a transition table: the scheduler's hot path reads the table, and a test proves the table
 * equal to xstate's own interpreter on random event sequences.
 */
import { createMachine, getInitialSnapshot, transition } from 'xstate';

export const STATUS = ['runnable', 'blocked', 'waitingReply', 'done', 'oops'] as const;
export const EVENTS = ['BLOCK', 'WAKE', 'REQUEST', 'REPLY', 'EXIT', 'OOPS'] as const;
export type Status = (typeof STATUS)[number];
export type LifeEvent = (typeof EVENTS)[number];

export const RUNNABLE = 0;
export const BLOCKED = 1;
export const WAITING_REPLY = 2;
export const DONE = 3;
export const OOPS = 4;

export const EV_BLOCK = 0;
export const EV_WAKE = 1;
export const EV_REQUEST = 2;
export const EV_REPLY = 3;
export const EV_EXIT = 4;
export const EV_OOPS = 5;

/** runnable ⇄ blocked (lock or message wait), runnable ⇄ waitingReply (a call to another actor), then done or oops. */
export const lifecycleMachine = createMachine({
  id: 'thread',
  initial: 'runnable',
  states: {
    runnable: {
      on: { BLOCK: 'blocked', REQUEST: 'waitingReply', EXIT: 'done', OOPS: 'oops' },
    },
    blocked: { on: { WAKE: 'runnable', OOPS: 'oops' } },
    waitingReply: { on: { REPLY: 'runnable', OOPS: 'oops' } },
    done: { type: 'final' },
    oops: { type: 'final' },
  },
});

/** table[status * EVENTS.length + event] = next status, or -1 where the machine ignores the event. */
export function compileLifecycle(): Int8Array {
  const table = new Int8Array(STATUS.length * EVENTS.length).fill(-1);
  const initial = getInitialSnapshot(lifecycleMachine);
  for (let s = 0; s < STATUS.length; s++) {
    const from = lifecycleMachine.resolveState({ ...initial, value: STATUS[s] as Status });
    for (let e = 0; e < EVENTS.length; e++) {
      const [to] = transition(lifecycleMachine, from, { type: EVENTS[e] as LifeEvent });
      const next = STATUS.indexOf(to.value as Status);
      if (next !== s) table[s * EVENTS.length + e] = next;
    }
  }
  return table;
}

/** The compiled table, built once per process from the xstate definition. */
export const LIFECYCLE: Int8Array = compileLifecycle();
export const NUM_EVENTS = EVENTS.length;
