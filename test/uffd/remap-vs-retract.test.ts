/**
 * Seed 001 on the file path: UFFDIO_REMAP RFC v2 extended to a (private) shmem dst against
 * collapse_file → retract_page_tables (i_mmap_rwsem only, no mmap_lock) and collapse_pte_mapped_thp
 * (mmap_lock read). Directed schedules give the BUG_ON and the write into a retracted table; the
 * same schedules with Jann's fix retry on a fresh table.
 */
import { describe, expect, it } from 'vitest';
import { EAGAIN, EINVAL, folio_pfn, pmd_is_table, pmd_table, pte_pfn, pte_present } from '../../src/kernel/defs.js';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';
import { at, directed, exploreWith, initialFolio, model, notes, replay, rets } from './helpers.js';

const NAME = 'uffd-remap-vs-retract';
const DST_PMD = 1;

/** The retract schedule: retract_page_tables has rechecked dst (no anon_vma yet) and is about to flush. */
const retractRecheckedThenMover = (moverUntil: string) =>
  [
    ['khugepaged', 'retract_page_tables:flush'],
    ['mover', moverUntil],
    ['khugepaged', null],
    ['mover', null],
  ] as const;

describe('RFC v2 as posted: a file-backed dst is refused', () => {
  it('-EINVAL from validate_remap_areas; DFS completes without a verdict', () => {
    const m = model(NAME, 'rfc-v2');
    const r = directed(m, [['mover', null]]);
    expect(rets(r.events, 'userfaultfd_remap')).toEqual([EINVAL]);
    expect(notes(r.events).some((n) => /validate_remap_areas: -22 \(file-backed dst\)/.test(n))).toBe(true);
    const d = dfsOf(m);
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});

describe('RFC v2 extended to file-backed VMAs', () => {
  const m = model(NAME, 'file-vmas');

  it('DFS finds the BUG_ON and the PTE written into a retracted table; the witnesses replay exactly', () => {
    const r = dfsOf(m);
    expect(r.findings.map((f) => f.verdict.code).sort()).toEqual(['bug', 'invariant']);
    for (const f of r.findings) expect(replay(m, encodeToken(f.choices)).verdict).toEqual(f.verdict);
  });

  it('retract_page_tables (no mmap_lock) removes the table between pte_offset_map_nolock and BUG_ON(pmd_none(*dst_pmd))', () => {
    const r = directed(m, retractRecheckedThenMover('remap_pages_pte:bug_dst_none'));
    expect(r.verdict?.message).toBe('kernel BUG at remap_pages_pte:bug_dst_none: BUG_ON(pmd_none(*dst_pmd))');
    const ev = r.events;
    const mapped = at(ev, 'mover', /pte_offset_map_nolock\(dst\): pmd 1 → table 1/);
    const retracted = at(ev, 'khugepaged', /retract_page_tables: dst pmd 1 table 1 retracted, pmd none \(no mmap_lock held\)/);
    const bug = at(ev, 'mover', /BUG_ON\(pmd_none\(\*dst_pmd\)\): pmd 1 is none/);
    expect(mapped).toBeGreaterThan(0);
    expect(retracted).toBeGreaterThan(mapped);
    expect(bug).toBeGreaterThan(retracted);
    // the mover held mmap_lock for read all along: retract_page_tables does not take it
    const mmapHeld = ev.filter((e) => e.k === 'lock' && e.t === 'khugepaged' && e.lock === 'P.mmap_lock' && e.i < bug);
    expect(mmapHeld.every((e) => e.k === 'lock' && e.mode === 'r')).toBe(true);
  });

  it('past the BUG_ONs, remap_anon_pte writes the PTE into the retracted table', () => {
    const r = directed(m, retractRecheckedThenMover('remap_pages_pte:dst_lock'));
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toBe('write of PTE 0 into rcu-deferred page table 1 (set_pte_at into a detached table)');
    expect(r.verdict?.at).toBe('remap_anon_pte:set');
    expect(at(r.events, 'mover', /set_pte_at\(dst vpn 4\) in table 1, dst pmd now none/)).toBeGreaterThan(at(r.events, 'khugepaged', /table 1 retracted/));
  });

  it('collapse_pte_mapped_thp under mmap_lock read does the same when retract_page_tables skipped dst (it has an anon_vma)', () => {
    const r = directed(m, [
      ['mover', 'remap_pages_pte:dst_lock'],
      ['khugepaged', null],
      ['mover', null],
    ]);
    expect(r.verdict?.code).toBe('invariant');
    const ev = r.events;
    expect(at(ev, 'khugepaged', /retract_page_tables: dst has an anon_vma, skipped/)).toBeGreaterThan(0);
    expect(at(ev, 'khugepaged', /collapse_pte_mapped_thp: pmd 1 table 1 retracted under mmap_lock read/)).toBeGreaterThan(0);
    expect(r.verdict?.at).toBe('remap_anon_pte:set');
  });

  for (const strategy of ['random', 'pct'] as const) {
    it(`${strategy} finds the race (the BUG_ON window is a few steps wide, the detached write is wider)`, async () => {
      const r = await exploreWith(NAME, 'file-vmas', strategy, 3000);
      const found = r.findings.map((f) => f.verdict);
      expect(found).toContain('invariant');
      expect(found.every((v) => v === 'bug' || v === 'invariant')).toBe(true);
    });
  }
});

describe("RFC v2 extended to file-backed VMAs, with Jann's fix", () => {
  const m = model(NAME, 'file-vmas-fixed');

  it('DFS completes without a verdict', () => {
    const r = dfsOf(m);
    expect(r.complete).toBe(true);
    expect(r.findings).toEqual([]);
  });

  it('both retraction schedules end in -EAGAIN and a retry on a freshly allocated table', () => {
    const viaRetract = retractRecheckedThenMover('remap_pages_pte:dst_lock');
    const viaPteMappedThp = [
      ['mover', 'remap_pages_pte:dst_lock'],
      ['khugepaged', null],
      ['mover', null],
    ] as const;
    for (const legs of [viaRetract, viaPteMappedThp]) {
      const r = directed(m, legs);
      expect(r.verdict).toBeNull();
      expect(rets(r.events, 'remap_pages_pte')).toEqual([EAGAIN, 0]);
      expect(rets(r.events, 'userfaultfd_remap')).toEqual([0]);
      expect(notes(r.events).some((n) => /mover: remap_pages_pte: dst pmd changed under us/.test(n))).toBe(true);
      // the retry found dst's pmd none and allocated a table (the retracted one, freed after the
      // grace period, may come back from the pool with the same id)
      const again = at(r.events, 'mover', /^remap_pages_pte:retry$/);
      const alloc = r.events.findIndex((e, i) => i > again && e.k === 'call' && e.t === 'mover' && e.proc === '__pte_alloc');
      expect(alloc).toBeGreaterThan(again);
      const v = r.w.get(r.K.pmdSlot(0, DST_PMD));
      expect(pmd_is_table(v)).toBe(true);
      const pte = r.w.get(r.K.pteSlot(pmd_table(v), 0));
      expect(pte_present(pte) && pte_pfn(pte)).toBe(folio_pfn(initialFolio(m, 'src', 0)));
    }
  });
});
