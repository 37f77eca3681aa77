/** Each protocol's compiled table agrees with xstate's own interpreter on random event sequences (guards included). */
import { getInitialSnapshot, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { type Protocol, protocol, step, vocabulary } from '../../machines/protocol.js';
import { rpcClient, rpcServer } from '../../machines/rpc.js';
import { Prng } from '../../src/explore/prng.js';

const v = vocabulary('t', { Open: ['mode'], Data: ['n', 'last'], Close: [] });
/** Guards with fall-through candidates, a targetless (self) transition and a final state. */
const guarded = protocol(
  'guarded',
  v,
  {
    initial: 'closed',
    states: {
      closed: { on: { '!Open': [{ target: 'reading', guard: 'ro' }, { target: 'writing' }] } },
      reading: { on: { '?Data': [{ target: 'closing', guard: 'last' }, { guard: 'small' }], '!Close': 'done' } },
      writing: { on: { '!Data': { target: 'writing', guard: 'small' }, '!Close': 'done' } },
      closing: { on: { '!Close': 'done' } },
      done: { type: 'final' },
    },
  },
  { ro: (m) => m.mode === 0, last: (m) => m.last === 1, small: (m) => (m.n as number) < 2 },
);

function agree(p: Protocol, seed: number, sequences: number, length: number): number {
  const rng = new Prng(seed);
  let checked = 0;
  for (let s = 0; s < sequences; s++) {
    let snap = getInitialSnapshot(p.machine);
    let state = p.initial;
    for (let i = 0; i < length; i++) {
      const ev = rng.below(p.events.length);
      const code = ev >> 1;
      const m: Record<string, number | string> = { type: p.events[ev] as string };
      for (const f of p.vocab.fields[code] as readonly string[]) m[f] = rng.below(3);
      const viaTable = step(p, state, ev, m as Record<string, number>);
      const allowed = snap.can(m as { type: string });
      expect([p.name, p.states[state], m, viaTable >= 0]).toEqual([p.name, p.states[state], m, allowed]);
      if (allowed) {
        const [next] = transition(p.machine, snap, m as { type: string });
        expect(p.states[viaTable]).toBe(next.value);
        snap = next;
        state = viaTable;
      }
      checked++;
    }
  }
  return checked;
}

describe('protocol tables', () => {
  it('agree with the xstate interpreter on 400 random sequences of 16 events each', () => {
    for (const p of [rpcClient, rpcServer, guarded]) expect(agree(p, 7, 400, 16)).toBe(6_400);
  });

  it('compile guards in order: the first passing candidate wins, a failing last guard forbids the event', () => {
    const ev = (n: string) => guarded.events.indexOf(n);
    const reading = guarded.states.indexOf('reading');
    const writing = guarded.states.indexOf('writing');
    expect(guarded.states[step(guarded, 0, ev('!Open'), { mode: 0 })]).toBe('reading');
    expect(guarded.states[step(guarded, 0, ev('!Open'), { mode: 1 })]).toBe('writing');
    expect(guarded.states[step(guarded, reading, ev('?Data'), { n: 5, last: 1 })]).toBe('closing');
    expect(step(guarded, reading, ev('?Data'), { n: 1, last: 0 })).toBe(reading);
    expect(step(guarded, reading, ev('?Data'), { n: 5, last: 0 })).toBe(-1);
    expect(step(guarded, writing, ev('!Data'), { n: 5, last: 0 })).toBe(-1);
  });

  it('rejects a machine whose events are not the vocabulary\'s messages', () => {
    expect(() => protocol('bad', v, { initial: 'a', states: { a: { on: { Open: 'a' } } } })).toThrow(/not a message of vocabulary t/);
  });
});
