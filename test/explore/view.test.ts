/**
 * `view:` (src/engine/state-key.ts, src/scenario/reduction.ts): a view of the whole state counts
 * exactly the states of no view; a coarser one merges states, still finds the planted bug with a
 * witness that replays; bad names are errors naming the path and what was expected; explore prints
 * the abstraction warning on stderr and in each JSON row.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { dfsOf } from '../helpers.js';
import { problemAt, problems } from '../scenario/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const base = `name: pin-punch-view
description: mm-pin-vs-punch with a view
world:
  memfds:
    guest: { kind: shmem, pages: 1, populated: [0] }
  mms:
    P:
      vmas:
        buf: { memfd: guest, shared: true, pages: 1, populated: [0] }
actors:
  - { name: cpu0, mm: P, ops: [ { op: pin_fast, vma: buf, page: 0, write: true }, { op: write, vma: buf, page: 0, value: 5 } ] }
  - { name: cpu1, mm: P, ops: [ { op: punch_hole, memfd: guest, page: 0 } ] }
variants:
  default: { expect: [], complete: true }
  skip-unmap: { switches: { bug_punch_skip_unmap: true }, expect: [invariant] }
explore: { strategy: dfs, maxSteps: 800 }
`;
const withView = (view: string) => `${base}view: ${view}\n`;
const build = (text: string, variant = 'default') => buildModel(parseScenario(text, 'view.yaml'), variant);
const codes = (r: ReturnType<typeof dfsOf>) => r.findings.map((f) => f.verdict.code).sort();

describe('view', () => {
  it('a view of every region and every stack counts exactly the states of no view', () => {
    const plain = dfsOf(build(base));
    const regions = [...new Set(build(base).layout.regions.map((r) => r.name))];
    const all = dfsOf(build(withView(`[${regions.join(', ')}, actors]`)));
    expect(plain.distinct).toBe(1176);
    expect({ states: all.distinct, complete: all.complete, codes: codes(all) }).toEqual({ states: 1176, complete: true, codes: [] });
  });

  it('a coarser view merges states; the planted bug is still found and its witness replays', () => {
    const coarse = withView('[pmd, pgtable, folio.refcount, folio.mapcount, folio.pincount, lock, thread, actors.pc]');
    const clean = dfsOf(build(coarse));
    expect(clean.distinct).toBe(836);
    expect(codes(clean)).toEqual([]);
    const m = build(coarse, 'skip-unmap');
    const r = dfsOf(m);
    expect(codes(r)).toEqual(['invariant']);
    const f = r.findings[0] as (typeof r.findings)[number];
    const rep = replayToken(m, encodeToken(f.choices), 800);
    expect(rep.verdict?.message).toBe(f.verdict.message);
  });

  it('resolves records, fields, locks and actors', () => {
    const m = build(withView('["pgtable[0].pte0", lock:P.mmap_lock, actor:cpu1, actor:cpu0.pc]'));
    // pte0, the lock record (owner, waiter count, stamp) and each of the two threads' read-hold counts of it.
    expect(m.reduction?.view?.slots.length).toBe(6);
    expect([...(m.reduction?.view?.threads ?? [])]).toEqual([1, 2]);
    expect(m.reduction?.warnings[0]).toMatch(/abstraction that may hide bugs/);
  });

  it('bad names are errors with the path and what is expected', () => {
    expect(problemAt(problems(withView('[folio, nosuch]')), 'view[1]').message).toMatch(/no region "nosuch" \(regions: .*folio/);
    expect(problemAt(problems(withView('[folio.nosuch]')), 'view[0]').message).toMatch(/region "folio" has no field "nosuch" \(fields: state, refcount/);
    expect(problemAt(problems(withView('["pgtable[99]"]')), 'view[0]').message).toMatch(/expected an index from 0 to/);
    expect(problemAt(problems(withView('[actor:cpu7]')), 'view[0]').message).toMatch(/no actor "cpu7" \(actors: cpu0, cpu1\)/);
    expect(problemAt(problems(withView('[lock:nope]')), 'view[0]').message).toMatch(/no lock "nope"/);
    const syntax = problemAt(problems(withView('["folio[x]"]')), 'view[0]');
    expect(syntax.message).toMatch(/expected a string \(a region/);
    expect(syntax.line).toBe(17);
    expect(problemAt(problems(withView('[]')), 'view').message).toMatch(/./);
  });

  it('explore warns on stderr and in each JSON row', () => {
    const file = join(root, 'test', 'explore', 'fixtures', 'pin-punch-view.yaml');
    const r = spawnSync(process.execPath, [join(root, 'bin', 'mmsim.js'), 'explore', file, '--json', '--variant', 'skip-unmap'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const row = JSON.parse(r.stdout.trim().split('\n')[0] as string);
    expect(row.warnings[0]).toMatch(/^view: .*abstraction that may hide bugs/);
    expect(r.stderr).toMatch(/warning: view: /);
  });
});
