/** Request/reply and fences between two TypeScript actors: clean in every interleaving; an early reply is a `protocol` verdict. */
import { describe, expect, it } from 'vitest';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';
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
});
