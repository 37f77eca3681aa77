/**
 * The catalogue's message-passing scenario: DFS finds the early reply (a `protocol` verdict) with a
 * witness whose replay is checked step by step, and proves the fixed variant clean; plus the YAML
 * checks of protocols, messages and fences, and `mmsim machines`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { ScenarioError } from '../../src/scenario/issues.js';
import { parseScenario } from '../../src/scenario/load.js';
import { toText } from '../../src/trace/text.js';
import { protocolMermaid } from '../../machines/draw.js';
import type { Protocol } from '../../machines/protocol.js';
import { scenarioProtocols } from '../../src/scenario/protocols.js';
import { buildModel } from '../../src/scenario/build.js';
import { catalogueModel, dfsOf } from '../helpers.js';

describe('actors-rpc-fence', () => {
  it('default: DFS finds a Reply sent in state idle; the witness replays to the same verdict, step by step', () => {
    const r = dfsOf(catalogueModel('actors-rpc-fence', 'default'));
    expect(r.findings.map((f) => f.verdict.code)).toEqual(['protocol']);
    const f = r.findings[0] as (typeof r.findings)[number];
    expect(f.verdict).toMatchObject({ actor: 'server', at: 'server:answer', message: 'server (rpc-server) in state idle may not send Reply' });
    const token = encodeToken(f.choices);
    const t = replayToken(catalogueModel('actors-rpc-fence', 'default'), token, 100);
    expect(t.consumed).toBe(true);
    expect(t.verdict).toEqual(f.verdict);
    // The server polls an empty mailbox before the client's request is sent, and answers anyway.
    const trace = t.events.map((e) => (e.k === 'step' ? `${e.t} ${e.at}` : e.k === 'send' ? `send ${e.t}->${e.to} ${e.name} ${e.id}` : e.k === 'verdict' ? `verdict ${e.code}` : e.k));
    expect(trace).toEqual(['server server:poll', 'client client:op0', 'send client->server Request 1.0', 'server server:empty', 'server server:op5', 'server server:answer', 'verdict protocol']);
    expect(replayToken(catalogueModel('actors-rpc-fence', 'default'), token, 100).events).toEqual(t.events);
  });

  it('fixed: DFS completes clean; a schedule shows call, reply with matching delivery ids, and the fence', () => {
    const r = dfsOf(catalogueModel('actors-rpc-fence', 'fixed'));
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.distinct).toBe(19);
    const t = replayToken(catalogueModel('actors-rpc-fence', 'fixed'), encodeToken(Array(11).fill(0)), 100);
    expect(t.verdict).toBeNull();
    const msgs = t.events.flatMap((e) => (e.k === 'send' || e.k === 'recv' ? [`${e.k} ${e.t} ${e.name}(${JSON.stringify(e.fields)}) ${e.id}`] : e.k === 'fence' ? [`fence ${e.t} ${e.op} ${e.fence}`] : []));
    expect(msgs).toEqual([
      'send client Request({"id":1,"arg":7}) 1.0',
      'recv server Request({"id":1,"arg":7}) 1.0',
      'send server Reply({"id":1,"status":0}) 0.0',
      'recv client Reply({"id":1,"status":0}) 0.0',
      'fence client wait done',
      'fence server signal done',
      'fence client waited done',
    ]);
    expect(toText(t.events)).toMatch(/reply client Reply\(id=1, status=0\)/);
  });
});

const yaml = (actors: string, extra = '') =>
  `name: p\ndescription: t\n${extra}actors:\n${actors}variants:\n  default: { expect: [] }\n`;
const problems = (text: string): string[] => {
  try {
    parseScenario(text, 'p.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
};

describe('scenario protocols', () => {
  it('a scenario declares messages and protocols; a receive its machine forbids is a protocol verdict', () => {
    const text = yaml(
      '  - name: A\n    protocol: pinger\n    ops: [{ op: send, to: B, msg: Ping, fields: { n: 1 } }, { op: send, to: B, msg: Ping, fields: { n: 2 } }]\n  - name: B\n    protocol: ponger\n    ops: [{ op: recv }, { op: recv }]\n',
      'messages: { Ping: [n] }\nprotocols:\n  pinger: { initial: a, states: { a: { on: { "!Ping": a } } } }\n  ponger: { initial: w, states: { w: { on: { "?Ping": got } }, got: { final: true } } }\n',
    ).replace('expect: []', 'expect: [protocol]');
    const r = dfsOf(buildModel(parseScenario(text, 'p.yaml'), 'default'));
    expect(r.findings.map((f) => f.verdict.message)).toEqual(['B (ponger) in state got may not receive Ping from A']);
  });

  it('guards in a scenario protocol: `when` compares the message fields; a failing guard with no fallback forbids the event', () => {
    const text = (status: number) =>
      yaml(
        `  - name: A\n    protocol: asker\n    ops: [{ op: call, to: B, msg: Q, fields: {} }]\n  - name: B\n    protocol: teller\n    ops: [{ op: recv }, { op: reply, msg: R, fields: { status: ${status} } }]\n`,
        'messages: { Q: [], R: [status] }\nprotocols:\n  asker: { initial: a, states: { a: { on: { "!Q": w } }, w: { on: { "?R": [ { target: ok, when: { status: 0 } } ] } }, ok: { final: true } } }\n  teller: { initial: i, states: { i: { on: { "?Q": s } }, s: { on: { "!R": i } } } }\n',
      ).replace('expect: []', `expect: [${status ? 'protocol' : ''}]`);
    expect(dfsOf(buildModel(parseScenario(text(0), 'p.yaml'), 'default')).findings).toEqual([]);
    expect(dfsOf(buildModel(parseScenario(text(2), 'p.yaml'), 'default')).findings.map((f) => f.verdict.message)).toEqual(['A (asker) in state w may not receive R from B']);
    expect(protocolMermaid(scenarioProtocols(parseScenario(text(0), 'p.yaml').spec).get('asker') as Protocol)).toContain('s1 --> s2: ?R [status=0]');
    expect(problems(text(0).replace('when: { status: 0 }', 'when: { stat: 0 }'))).toEqual(['protocols.asker.states.w.on.?R[0].when.stat: R has no field stat (its fields: status)']);
  });

  it('names a bad fence, message, field and protocol with their paths', () => {
    const client = (ops: string) => `  - name: A\n    protocol: rpc-client\n    ops: [${ops}]\n`;
    expect(problems(yaml(client('{ op: fence_wait, fence: nope }'), 'fences: [done]\n'))).toEqual(['actors[0].ops[0].fence: no fence named "nope" (known: done)']);
    expect(problems(yaml(client('{ op: call, to: A, msg: Requets, fields: { id: 1, arg: 0 } }')))).toEqual(['actors[0].ops[0]: no message "Requets" in rpc (known: Request, Reply)']);
    expect(problems(yaml(client('{ op: send, to: A, msg: Request, fields: { id: 1 } }')))).toEqual(['actors[0].ops[0]: Request needs field arg']);
    expect(problems(yaml('  - name: A\n    protocol: nosuch\n    ops: [{ op: recv }]\n'))).toEqual(['actors[0].protocol: no protocol named "nosuch" (known: rpc-client, rpc-server, virtio-gpu-guest, virtio-gpu-vmm, udmabuf, dma-buf-importer)']);
    expect(problems(yaml(client('{ op: recv }'), 'protocols:\n  x: { initial: a, states: { a: {} } }\n'))).toEqual(['messages: missing: protocols need the messages they exchange']);
  });
});

describe('mmsim schema', () => {
  it('lists the messaging operations and the protocol sections', () => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'dist/src/cli/main.js'), 'schema'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const op of ['send', 'recv', 'call', 'reply', 'fence_signal', 'fence_wait', 'branch']) expect(r.stdout).toContain(`"const": "${op}"`);
    const props = (JSON.parse(r.stdout) as { properties?: Record<string, unknown> }).properties ?? {};
    for (const k of ['messages', 'protocols', 'fences', 'switches']) expect(Object.keys(props)).toContain(k);
  });
});

describe('mmsim machines', () => {
  const root = join(import.meta.dirname, '..', '..');
  it('prints each actor\'s protocol as a Mermaid stateDiagram-v2 and as xstate JSON', () => {
    const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'machines', 'actors-rpc-fence', '--json'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const items = JSON.parse(r.stdout) as { actor: string; protocol: string; mermaid: string; xstate: { id: string; initial: string } }[];
    expect(items.map((i) => `${i.actor}:${i.protocol}`)).toEqual(['client:rpc-client', 'server:rpc-server']);
    expect(items[1]?.mermaid).toBe('stateDiagram-v2\n  direction LR\n  state "idle" as s0\n  state "serving" as s1\n  [*] --> s0\n  s0 --> s1: ?Request\n  s1 --> s0: !Reply\n');
    expect(items[0]?.xstate).toMatchObject({ id: 'rpc-client', initial: 'idle' });
    const builtins = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'machines'], { cwd: root, encoding: 'utf8' });
    expect(builtins.stdout).toMatch(/^## protocol rpc-client \(messages: rpc\)\n```mermaid\nstateDiagram-v2\n/);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const i of items) expect(readme).toContain(`%% ${i.actor}: protocol ${i.protocol}\n${i.mermaid}`);
  });
});
