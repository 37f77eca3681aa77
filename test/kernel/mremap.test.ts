/**
 * mremap's move_page_tables (actors/mm/mremap.ts): move_normal_pmd under mmap_write_lock, the rmap
 * locks and the pmd lock; the PTE fallback; and "mm/mremap: fix move_normal_pmd/retract_page_tables
 * race" (6fa1066fc5d0, Fixes: 1d65b771bc08) on both sides of the fix.
 */
import { describe, expect, it } from 'vitest';
import { pmd_is_table, pmd_none } from '../../src/kernel/defs.js';
import { encodeToken } from '../../src/explore/token.js';
import { pmd_index } from '../../src/kernel/pgtable.js';
import { dfsOf, expectProven } from '../helpers.js';
import { at, directed, model, notes, replay, rets } from '../uffd/helpers.js';

describe('mremap of a shmem mapping', () => {
  const m = model('mm-mremap-move', 'v6.11');

  it('moves the whole table with move_normal_pmd under i_mmap_rwsem (write) and the pmd lock; the load after the move gets SIGSEGV', () => {
    const r = directed(m, [
      ['mover', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mremap_move')).toEqual([0]);
    const mover = r.events.flatMap((e) => (e.k === 'lock' && e.t === 'mover' ? [`${e.op} ${e.lock}`] : []));
    const rmap = mover.indexOf('acquire shm.i_mmap_rwsem');
    const pml = mover.indexOf('acquire P.page_table_lock');
    expect(mover[0]).toBe('acquire P.mmap_lock');
    expect(rmap).toBeGreaterThan(0);
    expect(pml).toBeGreaterThan(rmap);
    expect(notes(r.events)).toContain('mover: move_normal_pmd: table 0 moved from pmd 0 to pmd 1; flush_tlb_range');
    const K = r.K;
    expect(pmd_none(r.w.get(K.pmdSlot(0, 0)))).toBe(true);
    expect(pmd_is_table(r.w.get(K.pmdSlot(0, pmd_index(K.vma(1).start))))).toBe(true);
    expect(notes(r.events)).toContain('cpu: SIGSEGV at vpn 1');
  });

  it("the punch's rmap walk waits for the mover's rmap locks, then zaps page 0 in the new VMA", () => {
    const r = directed(m, [
      ['mover', 'mremap_move:pml'],
      ['puncher', null],
      ['mover', null],
      ['puncher', null],
    ]);
    expect(r.verdict).toBeNull();
    const blocked = r.events.findIndex((e) => e.k === 'lock' && e.t === 'puncher' && e.op === 'block' && e.lock === 'shm.i_mmap_rwsem');
    expect(blocked).toBeGreaterThan(0);
    expect(at(r.events, 'mover', /move_normal_pmd: table 0 moved/)).toBeGreaterThan(blocked);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('the PTE path (no CONFIG_HAVE_MOVE_PMD) vs retract_page_tables', () => {
  const m = model('mm-mremap-ptes-vs-retract', 'v6.11');

  it('move_ptes takes the rmap locks, the old PTL, then the new PTL nested', () => {
    const r = directed(m, [['mover', null]]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events)).toContain('mover: move_ptes: PTEs of table 0 moved to table 1; flush_tlb_range');
    const locks = r.events.flatMap((e) => (e.k === 'lock' && e.t === 'mover' && e.op === 'acquire' ? [e.lock] : []));
    const rmap = locks.lastIndexOf('shm.i_mmap_rwsem', locks.indexOf('ptl[0]'));
    expect(rmap).toBeGreaterThan(0);
    expect(locks.indexOf('ptl[1]')).toBeGreaterThan(locks.indexOf('ptl[0]'));
  });

  it('a table retracted after the pmd_none check: pte_offset_map_lock fails, -EAGAIN, `goto again` (no get_old_pmd) reaches the PTE path\'s pmd_none check', () => {
    const r = directed(m, [
      ['mover', 'mremap_move:pt_rmap'],
      ['collapser', null],
      ['mover', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mremap_move')).toEqual([0]);
    const retracted = at(r.events, 'collapser', /retract_page_tables: old pmd 0 table 0 retracted/);
    const eagain = at(r.events, 'mover', /move_ptes: old table gone \(pte_offset_map_lock failed\), -EAGAIN/);
    expect(retracted).toBeGreaterThan(0);
    expect(eagain).toBeGreaterThan(retracted);
    expect(at(r.events, 'mover', /move_page_tables: old pmd 0 is none, nothing to move/)).toBeGreaterThan(eagain);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('move_normal_pmd vs retract_page_tables (6fa1066fc5d0, Fixes: 1d65b771bc08)', () => {
  const NAME = 'mm-mremap-vs-retract';
  /** mover reads the old pmd (a table) and stops before take_rmap_locks; collapser retracts the table. */
  const race = [
    ['mover', 'mremap_move:rmap_lock'],
    ['collapser', null],
    ['mover', null],
  ] as const;

  it('v6.11: DFS finds the bogus pmd; its witness replays to the same verdict', () => {
    const m = model(NAME, 'v6.11');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['invariant']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    expect(replay(m, encodeToken(f.choices)).verdict).toEqual(f.verdict);
  });

  it('v6.11: the pmd read before take_rmap_locks is cleared by retract_page_tables; pmd_populate uses the none pmd', () => {
    const r = directed(model(NAME, 'v6.11'), race);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toBe('move_normal_pmd: pmd_populate of pmd 1 with pmd_pgtable of a none pmd (a bogus page table: physical page 0 on x86)');
    const read = at(r.events, 'mover', /move_page_tables: old pmd 0 is table 0 → move_pgt_entry\(NORMAL_PMD\)/);
    const retracted = at(r.events, 'collapser', /retract_page_tables: old pmd 0 table 0 retracted/);
    const populated = at(r.events, 'mover', /move_normal_pmd: old pmd 0 read as none/);
    expect(read).toBeGreaterThan(0);
    expect(retracted).toBeGreaterThan(read);
    expect(populated).toBeGreaterThan(retracted);
  });

  it('v6.12: the same schedule rechecks under the locks, falls back, and finds pmd_none: nothing moved', () => {
    const r = directed(model(NAME, 'v6.12'), race);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mremap_move')).toEqual([0]);
    expect(notes(r.events)).toContain('mover: move_normal_pmd: old pmd 0 is none under the locks (racing with collapse), fall back');
  });

  it('v6.12: DFS completes without a verdict', () => {
    const d = dfsOf(model(NAME, 'v6.12'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});
