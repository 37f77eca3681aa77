/**
 * The real bugs reproduced through migration entries (docs/real-bugs.md): UFFDIO_MOVE reading the
 * folio of a pmd migration entry (aba6faec0103) and __split_huge_pmd_locked's pmdp_invalidate of
 * a migration pmd seen by GUP-fast (3a5a8d343e1c). Each pre-fix DFS witness replays to the same
 * verdict; the fixed side is clean and complete, and a directed schedule goes through its path.
 */
import { describe, expect, it } from 'vitest';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';
import { at, directed, model, notes, replay, rets } from '../uffd/helpers.js';

describe('userfaultfd: fix a crash in UFFDIO_MOVE when PMD is a migration entry (aba6faec0103)', () => {
  const NAME = 'uffd-move-vs-thp-migration';

  it('v6.16: DFS finds pmd_folio of the migration entry; its witness replays: set_pmd_migration_entry, then move_pages reads the folio', () => {
    const m = model(NAME, 'v6.16');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['invariant']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    const r = replay(m, encodeToken(f.choices));
    expect(r.verdict).toEqual(f.verdict);
    expect(r.verdict?.message).toMatch(/^move_pages: pmd_folio\(\*src_pmd\) of a pmd migration entry \(pmd 0\)/);
    const entry = at(r.events, 'migrator', /set_pmd_migration_entry: pmd 0 of folio \d+ → migration entry/);
    const verdict = r.events.findIndex((e) => e.k === 'verdict');
    expect(entry).toBeGreaterThan(0);
    expect(verdict).toBeGreaterThan(entry);
    // the mover holds the src pmd lock (pmd_trans_huge_lock) when it reads the entry
    const held = r.events.slice(0, verdict).filter((e) => e.k === 'lock' && e.t === 'mover' && e.lock === 'P.page_table_lock');
    expect(held.at(-1)?.k === 'lock' && held.at(-1)?.op).toBe('acquire');
  });

  it('fixed: the migration pmd is split into PTE migration entries, move_pages_pte waits in migration_entry_wait, -EAGAIN, then -EBUSY on the new large folio', () => {
    const m = model(NAME, 'fixed');
    const r = directed(m, [
      ['migrator', 'migrate_pages:move'],
      ['mover', null],
      ['migrator', null],
      ['mover', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    expect(n).toContain('mover: move_pages: src pmd is a migration entry, the move does not cover it: split_huge_pmd');
    expect(n.some((x) => /^mover: split_huge_pmd: migration pmd 0 → table \d+ with 4 PTE migration entries$/.test(x))).toBe(true);
    expect(n.some((x) => /^mover: migration_entry_wait: vpn 1 is a migration entry of folio \d+: wait for its unlock$/.test(x))).toBe(true);
    expect(n.some((x) => /^migrator: remove_migration_pte: vpn 1 → folio \d+$/.test(x))).toBe(true);
    expect(rets(r.events, 'move_pages_pte')).toEqual([-11, -16]);
    expect(rets(r.events, 'migrate_pages')).toEqual([0]);
  });

  it('fixed: DFS completes without a verdict', () => {
    const d = dfsOf(model(NAME, 'fixed'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});

describe('mm: fix race between __split_huge_pmd_locked() and GUP-fast (3a5a8d343e1c)', () => {
  const NAME = 'mm-split-migration-pmd-vs-gup-fast';

  it('v6.9: the DFS witness replays: GUP-fast reads the invalidated migration pmd between pmdp_invalidate and pmd_populate', () => {
    const m = model(NAME, 'v6.9');
    const d = dfsOf(m, { maxStates: 30_000 }); // the first witness comes early; the rest of the search is not needed
    const f = d.findings.find((x) => x.verdict.code === 'invariant');
    if (!f) throw new Error('no finding');
    const r = replay(m, encodeToken(f.choices));
    expect(r.verdict).toEqual(f.verdict);
    expect(r.verdict?.message).toMatch(/^gup_fast_pmd_leaf: pmd 0 is a pmd_mkinvalid'd migration entry that looks present/);
    const entry = at(r.events, 'migrator', /set_pmd_migration_entry: pmd 0 of folio \d+ → migration entry/);
    const inval = at(r.events, 'zapper', /__split_huge_pmd_locked: pmdp_invalidate of migration pmd 0/);
    const verdict = r.events.findIndex((e) => e.k === 'verdict');
    expect(entry).toBeGreaterThan(0);
    expect(inval).toBeGreaterThan(entry);
    expect(verdict).toBeGreaterThan(inval);
    expect(at(r.events, 'zapper', /split_huge_pmd: migration pmd 0 → table/)).toBe(-1); // not populated yet
  });

  it('fixed: GUP-fast sees PTE migration entries, falls back to the slow path, waits in migration_entry_wait and pins the new folio', () => {
    const m = model(NAME, 'fixed');
    const r = directed(m, [
      ['migrator', 'migrate_pages:move'],
      ['zapper', null],
      ['pinner', null],
      ['migrator', null],
      ['pinner', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    expect(n.some((x) => /^zapper: split_huge_pmd: migration pmd 0 → table \d+ with 4 PTE migration entries$/.test(x))).toBe(true);
    expect(n).toContain('zapper: zap_nonpresent_ptes: vpn 1 migration entry cleared');
    const restored = n.filter((x) => /^migrator: remove_migration_pte: vpn \d → folio \d+$/.test(x)).map((x) => Number(x.split('vpn ')[1]?.[0]));
    expect(restored).toEqual([0, 2, 3]); // the zapped page stays unmapped
    expect(n).toContain('pinner: gup_fast: vpn 0 not pinnable locklessly');
    expect(n.some((x) => /^pinner: migration_entry_wait: vpn 0 is a migration entry of folio \d+: wait for its unlock$/.test(x))).toBe(true);
    expect(rets(r.events, 'migrate_pages')).toEqual([0]);
    expect(rets(r.events, 'pin_user_pages_fast')).toEqual([1]);
  });

  it('fixed: DFS completes without a verdict', { timeout: 120_000 }, () => {
    const d = dfsOf(model(NAME, 'fixed'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});
