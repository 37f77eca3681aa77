/** Request/reply and fences between two TypeScript actors: clean in every interleaving; an early reply is a `protocol` verdict. */
import { describe, expect, it } from 'vitest';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';
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
});
