import { getInitialSnapshot, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { EVENTS, LIFECYCLE, lifecycleMachine, NUM_EVENTS, STATUS, type Status } from '../../machines/lifecycle.js';
import { Prng } from '../../src/explore/prng.js';

describe('thread lifecycle', () => {
  it('the compiled table agrees with the xstate interpreter on 500 random event sequences', () => {
    const rng = new Prng(42);
    let checked = 0;
    for (let seq = 0; seq < 500; seq++) {
      let snap = getInitialSnapshot(lifecycleMachine);
      let status = 0;
      for (let i = 0; i < 12; i++) {
        const ev = rng.below(EVENTS.length);
        const [next] = transition(lifecycleMachine, snap, { type: EVENTS[ev] as (typeof EVENTS)[number] });
        const viaTable = LIFECYCLE[status * NUM_EVENTS + ev] as number;
        const viaXstate = STATUS.indexOf(next.value as Status);
        expect(viaTable < 0 ? status : viaTable).toBe(viaXstate);
        snap = next;
        status = viaXstate;
        checked++;
      }
    }
    expect(checked).toBe(6_000);
  });

  it('blocked threads only wake, finished threads take no event', () => {
    const row = (s: string) => Array.from(LIFECYCLE.slice(STATUS.indexOf(s as Status) * NUM_EVENTS, (STATUS.indexOf(s as Status) + 1) * NUM_EVENTS));
    expect(row('blocked').filter((x) => x >= 0).map((x) => STATUS[x])).toEqual(['runnable', 'oops']);
    expect(row('done').every((x) => x < 0)).toBe(true);
  });
});
