/** Request/reply and fences between two TypeScript actors: clean in every interleaving; an early reply is a `protocol` verdict. */
import { describe, expect, it } from 'vitest';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';
import { protocol, vocabulary } from '../../machines/protocol.js';
import { rpcServer } from '../../machines/rpc.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { OOPS, RUNNABLE, WAITING_REPLY } from '../../machines/lifecycle.js';
import { enabled, step } from '../../src/engine/exec.js';
import { World } from '../../src/engine/world.js';
import { ModelBuilder } from '../../src/engine/model.js';
import { ENDED as END, noLocals, proc } from '../../src/engine/proc.js';
import { rpcModel } from './rpc-model.js';

describe('rpc between actors', () => {
  it('completes clean in every interleaving', () => {
    const r = dfsOf(rpcModel());
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
  });

  it('a reply before any request is a protocol verdict naming the actor, its state and the message', () => {
    const r = dfsOf(rpcModel(true));
    expect(r.findings.map((f) => f.verdict.code)).toEqual(['protocol']);
    const f = r.findings[0];
    expect(f?.verdict.message).toBe('server (rpc-server) in state idle may not send Reply');
    const t = replayToken(rpcModel(true), encodeToken(f?.choices ?? []), 100);
    expect(t.verdict?.code).toBe('protocol');
  });

  it('call blocks the caller in waitingReply (REQUEST) until the callee answers (REPLY); the reply is in world memory', () => {
    const w = new World(rpcModel(), null);
    const buf = new Int32Array(2);
    step(w, 0); // client: call -> waitingReply
    expect(w.status(0)).toBe(WAITING_REPLY);
    expect(Array.from(buf.subarray(0, enabled(w, buf)))).toEqual([1]);
    const h = [w.h0, w.h1];
    step(w, 1); // server: recv Request
    step(w, 1); // server: reply -> client runnable again
    expect(w.status(0)).toBe(RUNNABLE);
    expect([w.h0, w.h1]).not.toEqual(h);
    step(w, 0); // client: recv Reply
    expect(w.ctx.msg.state()).toBe('idle');
  });

  it('a BUG_ON ends its actor in the lifecycle oops state', () => {
    const b = new ModelBuilder('oops');
    b.thread('T', proc('T', 'test', noLocals, { a: (k) => (k.BUG_ON(true, 'always') ? END : 'a') }));
    const w = new World(b.build(), null);
    step(w, 0);
    expect(w.verdict?.code).toBe('bug');
    expect(w.status(0)).toBe(OOPS);
  });

  it('messages and protocol state are world memory: a DFS undo brings back the exact memory and fingerprint', () => {
    const w = new World(rpcModel(), null);
    w.startUndo();
    const s0 = w.snapshot();
    const mem0 = w.mem.slice();
    const h0 = [w.h0, w.h1];
    step(w, 0); // Request in the server's mailbox, client protocol state waiting
    expect(w.mem).not.toEqual(mem0);
    w.restore(s0);
    expect(w.mem).toEqual(mem0);
    expect([w.h0, w.h1]).toEqual(h0);
  });

  it('a callee that never answers leaves the caller waiting: a deadlock naming the awaited reply', () => {
    const text = `name: p\ndescription: t\nactors:\n  - name: A\n    protocol: rpc-client\n    ops: [{ op: call, to: B, msg: Request, fields: { id: 1, arg: 0 } }]\n  - name: B\n    protocol: rpc-server\n    ops: [{ op: recv }]\nvariants:\n  default: { expect: [deadlock] }\n`;
    const r = dfsOf(buildModel(parseScenario(text, 'p.yaml'), 'default'));
    expect(r.findings.map((f) => f.verdict.code)).toEqual(['deadlock']);
    expect(r.findings[0]?.verdict.message).toMatch(/A waits for a reply from B at A:op0\.reply/);
  });

  it('every delivery is published on the world bus to whoever subscribes, with the ids the trace uses', () => {
    const w = new World(rpcModel(), null);
    const seen: string[] = [];
    const sub = w.bus.subscribe((d) => seen.push(`${d.id} ${d.from}->${d.to} ${d.name} ${JSON.stringify(d.fields)}`));
    for (const t of [0, 1, 1, 0]) step(w, t);
    sub.unsubscribe();
    expect(seen).toEqual(['1.0 client->server Request {"id":7,"arg":3}', '0.0 server->client Reply {"id":7,"status":0}']);
  });

  it('a bounded mailbox: a send to a full one is a protocol verdict; so is a send to an actor of another vocabulary', () => {
    const v = vocabulary('ping', { Ping: ['n'] });
    const pinger = protocol('pinger', v, { initial: 'a', states: { a: { on: { '!Ping': 'a' } } } });
    const sink = protocol('sink', v, { initial: 'a', states: { a: { on: { '?Ping': 'a' } } } });
    const model = (to: number, cap: number) => {
      const b = new ModelBuilder('ping');
      b.mailboxCap = cap;
      const send = proc('A', 'test', noLocals, { s: (k) => (k.msg.send<typeof v.messages>(to, { type: 'Ping', n: 1 }) ? 's' : END) });
      b.protocol(b.thread('A', send), pinger);
      b.protocol(b.thread('B', proc('B', 'test', noLocals, { x: (k) => k.ret(0) })), sink);
      b.protocol(b.thread('C', proc('C', 'test', noLocals, { x: (k) => k.ret(0) })), rpcServer);
      return b.build();
    };
    const run = (to: number, cap: number) => {
      const w = new World(model(to, cap), null);
      for (let i = 0; i < 3 && !w.verdict; i++) step(w, 0);
      return w.verdict?.message;
    };
    expect(run(1, 2)).toBe("B's mailbox is full (2 messages) when A sends Ping");
    expect(run(2, 2)).toBe('C does not speak ping; A sends it Ping');
  });
});
