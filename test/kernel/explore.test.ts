/**
 * Exhaustive exploration of the MM scenarios: DFS over two CPU threads completes and finds no
 * verdict in the unmodified kernel paths; each buggy variant's verdict is found, and its witness
 * replays to the same verdict with the trace that explains it.
 */
import { describe, expect, it } from 'vitest';
import { explore, indexOfNote, model, replay } from './mm-helpers.js';

const CLEAN = [
  'mm-shmem-read-hole',
  'mm-pin-punch-write',
  'mm-pin-vs-punch',
  'mm-hmm-vs-punch',
  'mm-gup-fast-pfnmap',
  'mm-anon-vs-dontneed',
  'mm-shmem-fault-vs-punch',
  'mm-hugetlb-fault-vs-punch',
  'mm-munmap-vs-fault',
  'mm-memfd-seals',
];

describe('DFS over the unmodified kernel paths', () => {
  for (const name of CLEAN) {
    it(`${name}: complete, no verdict`, () => {
      const r = explore(name);
      expect(r.findings.map((f) => `${f.verdict.code}: ${f.verdict.message}`)).toEqual([]);
      expect(r.complete).toBe(true);
      expect(r.distinct).toBeGreaterThan(10);
      expect(r.graph.violations).toEqual([]);
    });
  }
});

/** The first finding of a variant, replayed; returns its trace. */
function witness(name: string, variant: string, code: string) {
  const r = explore(name, variant);
  expect(r.complete).toBe(true);
  const f = r.findings.find((x) => x.verdict.code === code);
  expect(f, `${name}/${variant} finds ${code}`).toBeDefined();
  const f0 = f as NonNullable<typeof f>;
  const t = replay(model(name, variant), f0.choices);
  expect(t.consumed).toBe(true);
  expect(t.w.verdict?.code).toBe(code);
  expect(t.w.verdict?.message).toBe(f0.verdict.message);
  expect(t.events.at(-1)).toMatchObject({ k: 'verdict', code, message: f0.verdict.message });
  return { r, f: f0, ...t };
}

describe('verdicts in the buggy variants, with replayed witnesses', () => {
  it('a punch that forgets to unmap removes a mapped folio from the page cache', () => {
    const { f, events } = witness('mm-pin-vs-punch', 'skip-unmap', 'invariant');
    expect(f.verdict.message).toMatch(/folio 0 still mapped when deleted \(filemap_unaccount_folio\)/);
    expect(f.verdict.at).toBe('truncate_range:remove');
    expect(indexOfNote(events, /filemap_remove_folio: folio 0 leaves guest index 0/)).toBeGreaterThanOrEqual(0);
    expect(indexOfNote(events, /zap_pte_range/)).toBe(-1); // nothing was unmapped
  });

  it('an HMM driver that skips mmu_interval_read_retry programs a device PTE to a page the CPU no longer maps', () => {
    const { f, events } = witness('mm-hmm-vs-punch', 'no-read-retry', 'invariant');
    expect(f.verdict.message).toBe('device PTE 0 of mirror gpu maps pfn 4 but the CPU maps nothing at vpn 0 (missed mmu-notifier invalidation)');
    // the mirror read the pfn, the punch invalidated (clearing nothing new) and unmapped, then the
    // driver programmed the stale pfn: the verdict comes at that step, before the folio is freed
    const walked = events.findIndex((e) => e.k === 'ret' && e.proc === 'hmm_range_fault' && e.rv === 0);
    const inv = indexOfNote(events, /gpu: invalidate \[0, 1\) seq 3/);
    const programmed = indexOfNote(events, /device PTEs programmed \(seq 1\)/);
    expect(walked).toBeGreaterThanOrEqual(0);
    expect(inv).toBeGreaterThan(walked);
    expect(programmed).toBeGreaterThan(inv);
    expect(indexOfNote(events, /folio 0 freed/)).toBe(-1);
  });

  it('folio_lock inside i_mmap_rwsem is a potential deadlock citing mm/rmap.c', () => {
    const { r, f, events } = witness('mm-shmem-fault-vs-punch', 'truncate-under-i-mmap', 'potential-deadlock');
    expect(f.verdict.message).toMatch(/^lock order violation: folio_lock taken while holding i_mmap_rwsem; folio_lock \(4 in mm\/rmap\.c "Lock ordering in mm"\)/);
    expect(f.verdict.message).toMatch(/cpu1 takes folio\[0\] at truncate_range:lock while holding guest\.i_mmap_rwsem/);
    expect(f.verdict.at).toBe('truncate_range:lock');
    expect(r.graph.violations.map((v) => v.message)).toContain(f.verdict.message);
    const took = events.findIndex((e) => e.k === 'step' && e.t === 'cpu1' && e.at === 'truncate_range:bug_i_mmap_lock');
    expect(took).toBeGreaterThanOrEqual(0);
  });
});
