import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadToken, decodeLasso, decodeToken, encodeToken } from '../../src/explore/token.js';

describe('replay tokens', () => {
  it('round-trip any list of choices', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1200 }), { maxLength: 200 }), (cs) => {
      expect(decodeToken(encodeToken(cs))).toEqual(cs);
    }));
  });

  it('round-trip any lasso (prefix, then the loop) as a v2 token', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1200 }), { maxLength: 100 }), fc.array(fc.integer({ min: 0, max: 1200 }), { maxLength: 100 }), (pre, loop) => {
      const token = encodeToken([...pre, ...loop], pre.length);
      expect(token.startsWith('v2.')).toBe(true);
      expect(decodeLasso(token)).toEqual({ choices: [...pre, ...loop], cycle: pre.length });
    }));
    expect(encodeToken([0, 1, 1, 1, 1, 2], 2)).toBe('v2.01-1112');
  });

  it('are versioned printable strings', () => {
    expect(encodeToken([0, 1, 35, 2])).toBe('v1.01z0z2');
    expect(encodeToken([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])).toBe('v1.0.c.1');
    expect(() => decodeToken('v1..5.')).toThrow(BadToken);
    expect(() => decodeToken('01')).toThrow(BadToken);
    expect(() => decodeToken('v1.0!')).toThrow(/"!" at position 1/);
  });
});

import { shrink } from '../../src/explore/shrink.js';
import { RandomWalk } from '../../src/explore/random.js';
import { runOnce } from '../../src/explore/run.js';
import { replayToken } from '../../src/explore/replayer.js';
import { World } from '../../src/engine/world.js';
import { catalogueModel } from '../helpers.js';

describe('shrinking', () => {
  it('random deadlock witnesses of philosophers-3 shrink to a short token that replays to the same verdict', () => {
    const m = catalogueModel('philosophers-3');
    const w = new World(m, null);
    const init = w.snapshot();
    const s = new RandomWalk(3);
    let shrunk = 0;
    for (let run = 0; run < 400 && shrunk < 5; run++) {
      runOnce(w, init, s, run, 200, new Int32Array(3));
      if (w.verdict?.code !== 'deadlock') continue;
      const long = w.choices.slice();
      const short = shrink(m, long, (v) => v.code === 'deadlock', 200);
      expect(short.length).toBeLessThanOrEqual(long.length);
      expect(replayToken(m, encodeToken(short), 200).verdict?.code).toBe('deadlock');
      shrunk++;
    }
    expect(shrunk).toBe(5);
  });
});

import { inlineRunner } from '../../src/explore/pool.js';
import { runTask } from '../../src/explore/task.js';
import { DEFAULTS, explore } from '../../src/explore/explore.js';
import { decodeToken as decode } from '../../src/explore/token.js';
import { dfsOf, scenarioFile } from '../helpers.js';

describe('DFS witnesses are shrunk too', () => {
  it('the UFFDIO_MOVE pin race: the explored token is no longer than the raw DFS path and fires at the same step', async () => {
    const file = scenarioFile('uffd-move-vs-gup');
    const m = catalogueModel('uffd-move-vs-gup', 'no-pin-recheck');
    const raw = dfsOf(m).findings.find((f) => f.verdict.code === 'invariant');
    const r = await explore(
      { file, variant: 'no-pin-recheck', model: m, expected: ['invariant'], mustComplete: false },
      { ...DEFAULTS, strategy: 'dfs' },
      inlineRunner((t) => runTask(m, t)),
    );
    const f = r.findings.find((x) => x.verdict === 'invariant');
    expect(f && raw).toBeTruthy();
    const shrunk = decode(f?.token ?? '');
    expect(shrunk.length).toBeLessThanOrEqual(raw?.choices.length ?? 0);
    const again = replayToken(m, f?.token ?? '', 500);
    expect(again.verdict?.code).toBe('invariant');
    expect(again.verdict?.at).toBe(raw?.verdict.at);
  });
});
