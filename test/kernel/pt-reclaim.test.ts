/**
 * Page-table reclaim (actors/mm/pt-reclaim.ts, zap.ts): MADV_DONTNEED freeing the PTE table it
 * empties (fast path try_get_and_clear_pmd, slow path try_to_free_pte), and the two real bugs
 * through it: "mm: pgtable: fix incorrect reclaim of non-empty PTE pages" (Fixes: 6375e95f381e)
 * and "mm: fix the race between collapse and PT_RECLAIM under per-vma lock" (Fixes: a6fde7add78d).
 */
import { describe, expect, it } from 'vitest';
import { pmd_is_table, pmd_table } from '../../src/kernel/defs.js';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';
import { at, directed, model, notes, replay, rets } from '../uffd/helpers.js';

const lockOps = (events: readonly { k: string }[], t: string): string[] =>
  events.flatMap((e) => {
    const l = e as { k: string; t?: string; op?: string; lock?: string };
    return l.k === 'lock' && l.t === t ? [`${l.op} ${l.lock}`] : [];
  });

describe('MADV_DONTNEED with CONFIG_PT_RECLAIM', () => {
  const NAME = 'mm-pt-reclaim-vs-fault';

  it('v6.14-rc1 alone: need_resched at page 2, retry, then the fast path clears the pmd under a trylocked pmd lock and frees the table', () => {
    const r = directed(model(NAME, 'v6.14-rc1'), [['cpu1', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'madvise_dontneed')).toEqual([0]);
    const n = notes(r.events);
    const resched = n.indexOf('cpu1: zap_pte_range: need_resched() at vpn 2: drop the PTL, cond_resched, retry');
    const cleared = n.indexOf('cpu1: zap_pte_range: try_get_and_clear_pmd cleared pmd 0 (table 0)');
    expect(resched).toBeGreaterThan(0);
    expect(cleared).toBeGreaterThan(resched);
    expect(n.indexOf('cpu1: free_pte: empty PTE table 0 freed (pte_free_tlb, RCU-deferred)')).toBeGreaterThan(cleared);
    const locks = lockOps(r.events, 'cpu1');
    expect(locks.filter((x) => x === 'acquire ptl[0]').length).toBe(2); // the retry relocks
    // try_get_and_clear_pmd: the pmd lock taken (spin_trylock) and released inside the PTL
    const relock = locks.lastIndexOf('acquire ptl[0]');
    expect(locks.slice(relock + 1, relock + 4)).toEqual(['acquire P.page_table_lock', 'release P.page_table_lock', 'release ptl[0]']);
  });

  it('fixed alone: the PTL was dropped, so the slow path try_to_free_pte takes the pmd lock, the PTL nested, rechecks and frees', () => {
    const r = directed(model(NAME, 'fixed'), [['cpu1', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'try_to_free_pte')).toEqual([1]);
    expect(notes(r.events).some((x) => x.includes('try_get_and_clear_pmd'))).toBe(false);
    const locks = lockOps(r.events, 'cpu1');
    const pml = locks.lastIndexOf('acquire P.page_table_lock');
    expect(pml).toBeGreaterThan(0);
    expect(locks.lastIndexOf('acquire ptl[0]')).toBeGreaterThan(pml);
    expect(notes(r.events)).toContain('cpu1: free_pte: empty PTE table 0 freed (pte_free_tlb, RCU-deferred)');
  });

  it('a fault after the reclaim finds pmd_none and allocates a new table (__pte_alloc)', () => {
    const r = directed(model(NAME, 'fixed'), [
      ['cpu1', null],
      ['cpu0', null],
    ]);
    expect(r.verdict).toBeNull();
    const v = r.w.get(r.K.pmdSlot(0, 0));
    expect(pmd_is_table(v)).toBe(true);
    expect(r.events.some((e) => e.k === 'call' && e.t === 'cpu0' && e.proc === '__pte_alloc')).toBe(true);
    expect(pmd_table(v)).toBeGreaterThanOrEqual(0);
  });

  /** cpu1 zaps pages 0 and 1, sees need_resched, drops the PTL; cpu0 refills page 0; cpu1 retries. */
  const race = [
    ['cpu1', 'zap_page_range:retry'],
    ['cpu0', null],
    ['cpu1', null],
  ] as const;

  it('v6.14-rc1: the refilled table is freed by the fast path after the retry', () => {
    const r = directed(model(NAME, 'v6.14-rc1'), race);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toBe('free_pte: PTE table 0 reclaimed with PTE 0 still set (a non-empty PTE page freed by PT reclaim)');
    const resched = at(r.events, 'cpu1', /need_resched\(\) at vpn 2/);
    const refill = r.events.findIndex((e) => e.k === 'ret' && e.t === 'cpu0' && e.proc === 'do_anonymous_page');
    const cleared = at(r.events, 'cpu1', /try_get_and_clear_pmd cleared pmd 0/);
    expect(refill).toBeGreaterThan(resched);
    expect(cleared).toBeGreaterThan(refill);
  });

  it('fixed: the same schedule rechecks in try_to_free_pte and keeps the table with page 0 mapped', () => {
    const r = directed(model(NAME, 'fixed'), race);
    expect(r.verdict).toBeNull();
    expect(notes(r.events)).toContain('cpu1: try_to_free_pte: PTE 0 of table 0 is set, table kept');
    expect(rets(r.events, 'try_to_free_pte')).toEqual([0]);
    expect(pmd_table(r.w.get(r.K.pmdSlot(0, 0)))).toBe(0);
  });

  it('v6.14-rc1: DFS finds the invariant; its witness replays to the same verdict', () => {
    const m = model(NAME, 'v6.14-rc1');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['invariant']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    const r = replay(m, encodeToken(f.choices));
    expect(r.verdict).toEqual(f.verdict);
    expect(notes(r.events).some((x) => x.includes('need_resched() at vpn 2'))).toBe(true);
  });

  it('fixed and no-pt-reclaim: DFS completes without a verdict', () => {
    for (const v of ['fixed', 'no-pt-reclaim']) {
      const d = dfsOf(model(NAME, v));
      expect(d.complete).toBe(true);
      expect(d.findings).toEqual([]);
    }
  });
});

describe('khugepaged collapse vs PT reclaim under the per-VMA lock', () => {
  const NAME = 'mm-collapse-vs-pt-reclaim';
  /** khugepaged (mmap_write_lock) has checked the pmd; MADV_DONTNEED runs under the VMA read lock. */
  const race = [
    ['khugepaged', 'collapse_huge_page:vma_start_write'],
    ['cpu', null],
    ['khugepaged', null],
  ] as const;

  it('v6.17-rc1: the table freed between check_pmd_still_valid and vma_start_write; the failure path populates the pmd from a none pmd', () => {
    const r = directed(model(NAME, 'v6.17-rc1'), race);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toBe('collapse_huge_page: pmd_populate of pmd 0 with pmd_pgtable of a none pmd (a bogus page table)');
    const cpu = lockOps(r.events, 'cpu');
    expect(cpu).toContain('acquire buf.vm_lock');
    expect(cpu.some((x) => x.includes('mmap_lock'))).toBe(false);
    const freed = at(r.events, 'cpu', /free_pte: empty PTE table 0 freed/);
    const flush = at(r.events, 'khugepaged', /pmdp_collapse_flush pmd 0: none detached|pmdp_collapse_flush pmd 0/);
    expect(freed).toBeGreaterThan(0);
    expect(flush).toBeGreaterThan(freed);
    expect(notes(r.events)).toContain('khugepaged: collapse_huge_page: pte_offset_map_lock(&_pmd) failed: _pmd is none (SCAN_PMD_NULL)');
  });

  it('fixed: vma_start_write first; MADV_DONTNEED is refused the VMA lock, waits on mmap_lock and zaps the huge pmd', () => {
    const r = directed(model(NAME, 'fixed'), [
      ['khugepaged', 'collapse_huge_page:check_pmd'],
      ['cpu', 'madvise_dontneed:mmap_fallback'],
      ['khugepaged', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events)).toContain('cpu: madvise: try_vma_read_lock: vma_start_read: write-locked (vm_lock_seq == mm_lock_seq), mmap_read_lock');
    expect(notes(r.events)).toContain('khugepaged: collapse_huge_page: SCAN_SUCCEED');
    expect(at(r.events, 'cpu', /zap_huge_pmd: pmd 0 THP folio \d+ unmapped/)).toBeGreaterThan(0);
  });

  it('v6.17-rc1: DFS finds the invariant and the witness replays; v6.16 and fixed complete clean', () => {
    const m = model(NAME, 'v6.17-rc1');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['invariant']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    expect(replay(m, encodeToken(f.choices)).verdict).toEqual(f.verdict);
    for (const v of ['v6.16', 'fixed']) {
      const c = dfsOf(model(NAME, v));
      expect(c.complete).toBe(true);
      expect(c.findings).toEqual([]);
    }
  });
});

describe('who must recheck the pmd: UFFDIO_MOVE and GUP-fast against PT reclaim', () => {
  const MOVE = 'mm-uffd-move-vs-pt-reclaim';
  /** mover has mapped and checked the dst table without its PTL; cpu empties and reclaims it. */
  const race = [
    ['mover', 'move_pages_pte:present'],
    ['cpu', null],
    ['mover', null],
  ] as const;

  it('pte_same only: the moved PTE is written into the reclaimed (RCU-deferred) dst table', () => {
    const r = directed(model(MOVE, 'pte-same-only'), race);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toMatch(/^write of PTE 0 into rcu-deferred page table \d+ \(set_pte_at into a detached table\)$/);
    expect(at(r.events, 'cpu', /free_pte: empty PTE table \d+ freed/)).toBeGreaterThan(0);
  });

  it('v6.14: the dst_pmdval recheck fails, -EAGAIN, and the retried move lands in a new table', () => {
    const r = directed(model(MOVE, 'v6.14'), race);
    expect(r.verdict).toBeNull();
    const freed = at(r.events, 'cpu', /free_pte: empty PTE table \d+ freed/);
    const again = r.events.findIndex((e, i) => i > freed && e.k === 'ret' && e.t === 'mover' && e.proc === 'move_pages_pte' && e.rv === -11);
    expect(freed).toBeGreaterThan(0);
    expect(again).toBeGreaterThan(freed);
    expect(rets(r.events, 'userfaultfd_move')).toEqual([0]);
  });

  it('DFS: pte-same-only finds the invariant (and v6.13\'s sanity WARN), its witness replays; v6.14 completes clean', () => {
    const m = model(MOVE, 'pte-same-only');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code).sort()).toEqual(['invariant', 'warn']);
    for (const f of d.findings) expect(replay(m, encodeToken(f.choices)).verdict).toEqual(f.verdict);
    const c = dfsOf(model(MOVE, 'v6.14'));
    expect(c.complete).toBe(true);
    expect(c.findings).toEqual([]);
  });

  it('GUP-fast: the pmd recheck after the pin sees the reclaimed table and backs off; DFS clean', () => {
    const GUP = 'mm-gup-fast-vs-pt-reclaim';
    const r = directed(model(GUP, 'pt-reclaim'), [
      ['gup', 'pin_user_pages_fast:recheck'],
      ['cpu', null],
      ['gup', null],
    ]);
    expect(r.verdict).toBeNull();
    const freed = at(r.events, 'cpu', /zap_pte_range: try_get_and_clear_pmd cleared pmd 0/);
    expect(freed).toBeGreaterThan(0);
    // the table stays RCU-deferred while gup is inside its lockless walk
    expect(r.events.some((e) => e.k === 'call' && e.t === 'gup' && e.proc === 'pin_user_pages')).toBe(true);
    const d = dfsOf(model(GUP, 'pt-reclaim'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});

describe('who must recheck the pmd: retract_page_tables against PT reclaim', () => {
  const NAME = 'mm-retract-vs-pt-reclaim';
  /** retract found buf's pmd a table and stops before the pmd lock; MADV_DONTNEED reclaims it. */
  const race = [
    ['khugepaged', 'retract_page_tables:pml'],
    ['cpu', null],
    ['khugepaged', null],
  ] as const;

  it('v6.13 text: under the pmd lock the pmd is none, and retract would lock and free pmd_pgtable of it', () => {
    const r = directed(model(NAME, 'no-recheck'), race);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toBe('retract_page_tables: pte_lockptr of none pmd 0 under the pmd lock (v6.13: no recheck; its table was freed meanwhile)');
    expect(at(r.events, 'cpu', /free_pte: empty PTE table 0 freed/)).toBeGreaterThan(0);
  });

  it('v6.14: check_pmd_state under the pmd lock sees pmd_none and skips the VMA', () => {
    const r = directed(model(NAME, 'v6.14'), race);
    expect(r.verdict).toBeNull();
    expect(notes(r.events).some((x) => x.includes('retracted'))).toBe(false);
  });

  it('DFS: no-recheck finds the invariant and its witness replays; v6.14 completes clean', () => {
    const m = model(NAME, 'no-recheck');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['invariant']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    expect(replay(m, encodeToken(f.choices)).verdict).toEqual(f.verdict);
    const c = dfsOf(model(NAME, 'v6.14'));
    expect(c.complete).toBe(true);
    expect(c.findings).toEqual([]);
  });
});
