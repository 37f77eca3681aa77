/** Messages between actors: a send and its receipt are separate scheduled steps; waiting for one can deadlock. */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';

const model = (t0: string, t1: string) =>
  buildModel(
    parseScenario(
      `name: ping\ndescription: t\nactors:\n  - name: T0\n    ops: [${t0}]\n  - name: T1\n    ops: [${t1}]\nvariants:\n  default: { expect: [] }\n`,
      'ping.yaml',
    ),
    'default',
  );

describe('messages', () => {
  it('ping-pong completes in every interleaving, and delivery happens in the receiver\'s own step', () => {
    const m = model('{ op: send, to: T1, msg: 7 }, { op: recv }', '{ op: recv }, { op: send, to: T0, msg: 8 }');
    const r = dfsOf(m);
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
    // T1 runs first and sleeps in recv; then T0 sends: the message waits until T1 is scheduled again.
    const t = replayToken(m, encodeToken([1, 1, 0, 0, 0]), 100);
    const seq = t.events.flatMap((e) => (e.k === 'send' ? [`${e.i} ${e.t} send ${e.msg[0]}`] : e.k === 'recv' ? [`${e.i} ${e.t} recv ${e.msg[0]}`] : []));
    expect(seq[0]).toMatch(/^1 T0 send 7$/);
    expect(seq[1]).toMatch(/T1 recv 7$/);
    expect(Number(seq[1]?.split(' ')[0])).toBeGreaterThan(1);
  });

  it('two actors that both wait for a message first deadlock', () => {
    const r = dfsOf(model('{ op: recv }, { op: send, to: T1, msg: 1 }', '{ op: recv }, { op: send, to: T0, msg: 2 }'));
    expect(r.findings.map((f) => f.verdict.code)).toEqual(['deadlock']);
    expect(r.findings[0]?.verdict.message).toMatch(/T0 waits for a message/);
  });
});
