import { describe, expect, it } from 'vitest';
import { compileScript, type ScriptOp } from '../actors/script.js';
import { ModelBuilder } from '../src/engine/model.js';
import { World } from '../src/engine/world.js';
import { LockKind } from '../src/locks/space.js';
import { LockGraph } from '../src/locks/lockdep.js';
import { dfs } from '../src/explore/dfs.js';

describe('smoke', () => {
  it('abba deadlocks under DFS', () => {
    const b = new ModelBuilder('abba');
    const A = b.lock('A', LockKind.Mutex);
    const B = b.lock('B', LockKind.Mutex);
    const kinds = b.locks.map((l) => l.kind);
    const t = (x: number, y: number): ScriptOp[] => [
      { op: 'lock', lock: x },
      { op: 'lock', lock: y },
      { op: 'unlock', lock: y },
      { op: 'unlock', lock: x },
    ];
    b.thread('T0', compileScript('T0', t(A, B), kinds));
    b.thread('T1', compileScript('T1', t(B, A), kinds));
    const g = new LockGraph();
    const w = new World(b.build(), g);
    const r = dfs(w, { maxSteps: 100, maxStates: 1e6, preemptions: Infinity, deadline: Infinity });
    expect(r.complete).toBe(true);
    expect(r.findings.map((f) => f.verdict.code)).toEqual(['deadlock']);
    expect(g.cycles().length).toBe(1);
    console.log(r.distinct, r.runs, r.findings[0]?.verdict.message, r.findings[0]?.choices);
  });
});
