/** The viewer's protocol data: each actor's machine (from the compiled table) and its state and mailbox per step, recorded only on request. */
import { describe, expect, it } from 'vitest';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { toHtml } from '../../src/trace/html.js';
import type { MachineView } from '../../src/trace/machines.js';
import { type StateSnapshot, stateRecorder } from '../../src/trace/state.js';
import { rpcModel } from '../protocol/rpc-model.js';
import { catalogueModel } from '../helpers.js';

/** Always the first enabled thread (more choices than any run here needs). */
const FIRST = encodeToken(new Array(40).fill(0));

const edges = (m: MachineView) => m.edges.map((e) => `${m.states[e.from]} --${e.ev}${e.guard ? ` [${e.guard}]` : ''}--> ${m.states[e.to]}`);

/** Replay `token` recording states; the snapshots rebuilt from the deltas, one per recorded step. */
function recorded(model: ReturnType<typeof rpcModel>, token: string) {
  const rec = stateRecorder();
  const r = replayToken(model, token, 200, undefined, rec.observe);
  let acc: StateSnapshot = {};
  const snaps = rec.states.map((s) => {
    acc = { ...acc };
    for (const [k, v] of Object.entries(s.d)) if (v === null) delete acc[k];
    else acc[k] = v;
    return acc;
  });
  return { r, rec, snaps };
}

/** The distinct successive values of one key over the run. */
const runs = (snaps: readonly StateSnapshot[], key: string) => snaps.map((s) => s[key] ?? '-').filter((v, i, all) => i === 0 || all[i - 1] !== v);

describe('protocol machines and states in the viewer snapshots', () => {
  it('rpc: both machines on the first delta, each state change and mailbox entry per step', () => {
    const { r, rec, snaps } = recorded(rpcModel(), FIRST);
    expect(r.verdict).toBeNull();
    const [client, server] = rec.states[0]?.machines ?? [];
    expect(client?.actor).toBe('client');
    expect(edges(client as MachineView)).toEqual(['idle --!Request--> waiting', 'waiting --?Reply [succeeded]--> idle', 'waiting --?Reply--> failed', 'failed --!Request--> waiting']);
    expect(server).toMatchObject({ actor: 'server', protocol: 'rpc-server', initial: 0, final: [] });
    expect(edges(server as MachineView)).toEqual(['idle --?Request--> serving', 'serving --!Reply--> idle']);
    expect(rec.states.slice(1).every((s) => s.machines === undefined)).toBe(true);
    expect(runs(snaps, 'protocol client')).toEqual(['idle', 'waiting', 'idle']);
    expect(runs(snaps, 'protocol server')).toEqual(['idle', 'serving', 'idle']);
    expect(runs(snaps, 'mailbox server')).toEqual(['-', 'Request(id=7, arg=3) from client', '-']);
    expect(runs(snaps, 'mailbox client')).toEqual(['-', 'Reply(id=7, status=0) from server', '-']);
    const html = toHtml(r.events, { scenario: 'rpc', variant: 'default', token: FIRST, verdict: null }, { states: rec.states });
    expect(html).toContain('<section id="machines">');
  });

  it('a model without protocols records no machine, no protocol state and draws no machine section', () => {
    const model = catalogueModel('abba');
    const rec = stateRecorder();
    const r = replayToken(model, FIRST, 100, undefined, rec.observe);
    expect(rec.states[0]?.machines).toBeUndefined();
    expect(rec.states.flatMap((s) => Object.keys(s.d)).filter((k) => /^(protocol|mailbox) /.test(k))).toEqual([]);
    expect(toHtml(r.events, { scenario: 'abba', variant: 'default', token: FIRST, verdict: r.verdict }, { states: rec.states })).not.toContain('id="machines"');
  });
});
