/**
 * Today's UFFDIO_MOVE (switches uffd_move_v6_9 + uffd_move_recheck_dst_pmd; v6.8 is in
 * move-versions.test.ts) against both khugepaged paths: the anonymous collapse (mmap_lock write +
 * vma_start_write) and the file path (retract_page_tables without mmap_lock, collapse_pte_mapped_thp
 * under mmap_lock read). Safe; the hypothetical variants show what it relies on.
 */
import { describe, expect, it } from 'vitest';
import { EAGAIN, EINVAL, folio_pfn, pmd_is_table, pmd_none, pmd_table, pmd_trans_huge, pte_pfn, pte_present } from '../../src/kernel/defs.js';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';
import { at, directed, initialFolio, model, notes, outcomes, replay, rets } from './helpers.js';

const ANON = 'uffd-move-vs-khugepaged';
const FILE = 'uffd-move-vs-retract';

describe("today's UFFDIO_MOVE vs the anonymous collapse", () => {
  const m = model(ANON, 'current');
  const f0 = initialFolio(m, 'src', 0);
  const f1 = initialFolio(m, 'src', 1);

  it('DFS completes without a verdict', () => {
    const r = dfsOf(m);
    expect(r.complete).toBe(true);
    expect(r.findings).toEqual([]);
  });

  it('every interleaving moves the pages: one PTE at a time, or the collapsed pmd whole', () => {
    const o = outcomes(m, (w, K) => {
      const src = w.get(K.pmdSlot(0, 0));
      const dst = w.get(K.pmdSlot(0, 1));
      if (pmd_trans_huge(dst)) return `dst huge, src ${pmd_none(src) ? 'none' : 'not none'}`;
      const ptes = [0, 1, 2, 3].map((i) => (pmd_is_table(dst) ? w.get(K.pteSlot(pmd_table(dst), i)) : 0));
      const srcPtes = [0, 1, 2, 3].filter((i) => pmd_is_table(src) && pte_present(w.get(K.pteSlot(pmd_table(src), i))));
      return `dst ptes ${ptes.map((p) => (pte_present(p) ? pte_pfn(p) : '-')).join(',')}, src present ${srcPtes.join(',') || 'none'}`;
    });
    expect(o.verdicts.size).toBe(0);
    expect([...o.ends].sort()).toEqual(['dst huge, src none', `dst ptes ${folio_pfn(f0)},${folio_pfn(f1)},-,-, src present none`]);
  });

  it('collapsed first: move_pages_huge_pmd moves the huge pmd and its deposited table', () => {
    const r = directed(m, [['khugepaged', null], ['mover', null]]);
    expect(r.verdict).toBeNull();
    expect(at(r.events, 'mover', /move_pages_huge_pmd: huge folio \d+ moved from pmd 0 to pmd 1/)).toBeGreaterThan(at(r.events, 'khugepaged', /pmd 0 → huge folio/));
    expect(rets(r.events, 'userfaultfd_move')).toEqual([0]);
  });

  it("khugepaged's vma_start_write waits for the mover's per-VMA read lock (why the collapse cannot race the move)", () => {
    const r = directed(m, [
      ['mover', 'move_pages:loop'],
      ['khugepaged', null],
      ['mover', null],
    ]);
    expect(r.verdict).toBeNull();
    const blocked = r.events.findIndex((e) => e.k === 'lock' && e.t === 'khugepaged' && e.op === 'block' && e.lock === 'src.vm_lock');
    const released = r.events.findIndex((e) => e.k === 'lock' && e.t === 'mover' && e.op === 'release' && e.lock === 'src.vm_lock');
    expect(blocked).toBeGreaterThan(0);
    expect(released).toBeGreaterThan(blocked);
    // by then src is empty: the collapse gives up
    expect(notes(r.events).some((n) => /khugepaged: collapse_huge_page: isolation failed \(SCAN_EXCEED_NONE_PTE\)/.test(n))).toBe(true);
  });
});

describe("today's UFFDIO_MOVE vs a hypothetical anonymous collapse under mmap_lock read", () => {
  const m = model(ANON, 'khugepaged-mmap-read');

  it('the source side relies on khugepaged taking mmap_lock for write: DFS finds both failures, the witnesses replay', () => {
    const r = dfsOf(m);
    expect(r.findings.map((f) => f.verdict.code).sort()).toEqual(['bug', 'invariant']);
    for (const f of r.findings) expect(replay(m, encodeToken(f.choices)).verdict).toEqual(f.verdict);
    const inv = r.findings.find((f) => f.verdict.code === 'invariant');
    // is_pte_pages_stable rechecks only dst's pmd: the src PTE is still the same in the detached table
    expect(inv?.verdict.at).toBe('move_present_pte:clear');
    const bug = r.findings.find((f) => f.verdict.code === 'bug');
    expect(bug?.verdict.actor).toBe('khugepaged');
    const ev = replay(m, encodeToken(bug?.choices ?? [])).events;
    const cleared = at(ev, 'khugepaged', /table 0 detached, pmd none/);
    const refill = ev.findIndex((e, i) => i > cleared && e.k === 'call' && e.t === 'mover' && e.proc === '__pte_alloc' && e.args.pmd === 0);
    expect(refill).toBeGreaterThan(cleared);
  });
});

describe("today's UFFDIO_MOVE vs the file path (retract_page_tables, collapse_pte_mapped_thp)", () => {
  it("today's code refuses the shmem dst (-EINVAL) and DFS completes", () => {
    const m = model(FILE, 'current');
    const r = directed(m, [['mover', null]]);
    expect(rets(r.events, 'userfaultfd_move')).toEqual([EINVAL]);
    const d = dfsOf(m);
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });

  it('extended to file VMAs, DFS completes: the dst_pmdval recheck under the PTLs catches every retraction', () => {
    const m = model(FILE, 'file-vmas');
    const d = dfsOf(m);
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
    // the RFC's BUG_ON schedule: retract_page_tables rechecked dst, the mover maps the table, the
    // flush; the merged sanity check returns -EINVAL where the RFC had its BUG_ON (a spurious error)
    const r = directed(m, [
      ['khugepaged', 'retract_page_tables:flush'],
      ['mover', 'move_pages_pte:sanity_dst'],
      ['khugepaged', null],
      ['mover', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events).some((n) => /mover: move_pages_pte: dst pmd is none: -22/.test(n))).toBe(true);
    expect(rets(r.events, 'userfaultfd_move')).toEqual([EINVAL]);
    // where the table goes after the sanity checks, is_pte_pages_stable's pmd_same turns it into
    // -EAGAIN and a retry on a new table
    const later = directed(m, [
      ['khugepaged', 'retract_page_tables:flush'],
      ['mover', 'move_pages_pte:dst_lock'],
      ['khugepaged', null],
      ['mover', null],
    ]);
    expect(later.verdict).toBeNull();
    expect(rets(later.events, 'move_pages_pte')).toEqual([EAGAIN, 0]);
    expect(notes(later.events).some((n) => /is_pte_pages_stable: no \(dst pmd now none\): -EAGAIN/.test(n))).toBe(true);
    expect(rets(later.events, 'userfaultfd_move')).toEqual([0]);
  });
});
