/**
 * `symmetric:` (src/engine/state-key.ts, src/scenario/reduction.ts): two interchangeable pinners
 * against a hole punch, and three faulting readers against MADV_DONTNEED. Exact state counts with and without the reduction, the same verdicts and
 * completeness, the planted bug still found, and its witness (a concrete schedule) replayed with
 * the same verdict on the reduced and on the plain model.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { step } from '../../src/engine/exec.js';
import { stateKeyOf } from '../../src/engine/state-key.js';
import { fingerprint, World } from '../../src/engine/world.js';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { dfsOf } from '../helpers.js';
import { problemAt, problems } from '../scenario/helpers.js';

const FILE = join(import.meta.dirname, 'fixtures', 'pin-punch-symmetric.yaml');
const text = readFileSync(FILE, 'utf8');
const plainText = text.replace(/^symmetric:.*$/m, '');
const model = (t: string, variant: string) => buildModel(parseScenario(t, FILE), variant);
const codes = (r: ReturnType<typeof dfsOf>) => r.findings.map((f) => f.verdict.code).sort();

describe('symmetry of identical actors', () => {
  it('a state and the state with the two pinners renamed have one key; the fingerprints differ', () => {
    const m = model(text, 'default');
    const key = stateKeyOf(m);
    const at = (tid: number) => {
      const w = new World(m, null);
      step(w, tid);
      step(w, tid);
      const k = new Uint32Array(2);
      const f = new Uint32Array(2);
      key(w, k);
      fingerprint(w, w.threads, f);
      return { key: [...k], fp: [...f] };
    };
    const a = at(0);
    const b = at(1);
    expect(a.key).toEqual(b.key);
    expect(a.fp).not.toEqual(b.fp);
    // Without a permutation (the initial state) the key is the fingerprint.
    const w = new World(m, null);
    const k = new Uint32Array(2);
    const f = new Uint32Array(2);
    key(w, k);
    fingerprint(w, w.threads, f);
    expect([...k]).toEqual([...f]);
  });

  it('halves the states with the same verdicts and completeness (exact counts)', () => {
    const plain = dfsOf(model(plainText, 'default'));
    const sym = dfsOf(model(text, 'default'));
    expect({ states: plain.distinct, complete: plain.complete, codes: codes(plain) }).toEqual({ states: 132415, complete: true, codes: [] });
    expect({ states: sym.distinct, complete: sym.complete, codes: codes(sym) }).toEqual({ states: 66687, complete: true, codes: [] });
    expect(plain.distinct / sym.distinct).toBeGreaterThan(1.98);
  });

  it('three identical faulting readers against MADV_DONTNEED: 5.4x fewer states, same verdicts', () => {
    const file = join(import.meta.dirname, 'fixtures', 'readers-symmetric.yaml');
    const t = readFileSync(file, 'utf8');
    const plain = dfsOf(buildModel(parseScenario(t.replace(/^symmetric:.*$/m, ''), file), 'default'));
    const sym = dfsOf(buildModel(parseScenario(t, file), 'default'));
    expect({ states: plain.distinct, complete: plain.complete, codes: codes(plain) }).toEqual({ states: 116737, complete: true, codes: [] });
    expect({ states: sym.distinct, complete: sym.complete, codes: codes(sym) }).toEqual({ states: 21736, complete: true, codes: [] });
  });

  it('the planted bug is still found, and its witness replays on the reduced and the plain model', () => {
    const plain = dfsOf(model(plainText, 'skip-unmap'));
    const m = model(text, 'skip-unmap');
    const sym = dfsOf(m);
    expect(codes(plain)).toEqual(['invariant']);
    expect(codes(sym)).toEqual(['invariant']);
    expect(sym.distinct).toBeLessThan(plain.distinct);
    for (const f of sym.findings) {
      const token = encodeToken(f.choices);
      const traces = [m, model(plainText, 'skip-unmap')].map((on) => {
        const r = replayToken(on, token, 800);
        expect(r.verdict?.code).toBe(f.verdict.code);
        expect(r.verdict?.message).toBe(f.verdict.message);
        expect(r.consumed).toBe(true);
        return JSON.stringify(r.events);
      });
      expect(traces[0]).toBe(traces[1]);
    }
  });

  it('`auto` finds the same group', () => {
    const m = model(text.replace(/^symmetric:.*$/m, 'symmetric: auto'), 'default');
    expect(m.reduction?.groups).toEqual([[0, 1]]);
  });

  it('refuses actors that differ, unknown names, and worlds where renaming is not known to be sound', () => {
    const differ = problems(text.replace(/^symmetric:.*$/m, 'symmetric: [cpu0, vmm]'), 'sym.yaml');
    expect(problemAt(differ, 'symmetric').message).toMatch(/"cpu0" and "vmm" do not run the same operations/);
    expect(problemAt(differ, 'symmetric').line).toBeGreaterThan(0);
    expect(problemAt(problems(text.replace(/^symmetric:.*$/m, 'symmetric: [cpu0, cpu9]')), 'symmetric[1]').message).toMatch(/no actor "cpu9"/);
    expect(problemAt(problems(text.replace(/^symmetric:.*$/m, 'symmetric: [cpu0]')), 'symmetric').message).toMatch(/./);
    const both = problems(text.replace(/^symmetric:.*$/m, 'symmetric: [cpu0, cpu1]\nview: [folio]'));
    expect(problemAt(both, 'symmetric').message).toMatch(/not allowed together with `view`/);
    const ww = `name: ww\ndescription: d\nlocks:\n  A: { kind: ww_mutex }\nactors:\n  - { name: a, ops: [ { op: lock, lock: A }, { op: unlock, lock: A } ] }\n  - { name: b, ops: [ { op: lock, lock: A }, { op: unlock, lock: A } ] }\nvariants:\n  default: { expect: [] }\nsymmetric: [a, b]\n`;
    expect(problemAt(problems(ww), 'symmetric').message).toMatch(/ww_mutex/);
  });
});
