/**
 * Migration of an anonymous folio (actors/mm/migrate.ts): try_to_migrate to migration entries, a
 * fault meeting one waits in migration_entry_wait until the folio is unlocked and then sees the new
 * folio; the scenario's DFS is complete and clean.
 */
import { describe, expect, it } from 'vitest';
import { folio_pfn, is_migration_entry, pte_pfn } from '../../src/kernel/defs.js';
import { dfsOf, expectProven } from '../helpers.js';
import { at, directed, model, notes, rets } from '../uffd/helpers.js';

describe('a store meets a migration entry', () => {
  const m = model('mm-migrate-fault', 'default');

  it('faults, waits in migration_entry_wait until the folio is unlocked, retries and stores into the new folio', () => {
    const r = directed(m, [
      ['kcompactd', 'migrate_pages:move'],
      ['cpu', null],
      ['kcompactd', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    expect(n).toContain('kcompactd: try_to_migrate_one: vpn 0 of folio 0 → migration entry');
    expect(n).toContain('cpu: migration_entry_wait: vpn 0 is a migration entry of folio 0: wait for its unlock');
    const blocked = r.events.findIndex((e) => e.k === 'lock' && e.t === 'cpu' && e.op === 'block');
    expect(blocked).toBeGreaterThan(0);
    expect(at(r.events, 'kcompactd', /remove_migration_pte: vpn 0 → folio 1/)).toBeGreaterThan(blocked);
    expect(n).toContain('cpu: store 7 to vpn 0: folio 1');
    expect(n).toContain('cpu: check_read: vpn 0 holds 7 as expected');
    expect(rets(r.events, 'migrate_pages')).toEqual([0]);
    expect(n).toContain('kcompactd: folio 0 freed');
  });

  it('a store before the unmap is copied to the new folio', () => {
    const r = directed(m, [
      ['cpu', 'check_read:access'],
      ['kcompactd', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    expect(n).toContain('cpu: store 7 to vpn 0: folio 0');
    expect(n).toContain('kcompactd: migrate_folio: folio 0 copied to folio 1');
    expect(n).toContain('cpu: check_read: vpn 0 holds 7 as expected');
    const K = r.K;
    const t = r.w.get(K.pmdSlot(0, 0)) >>> 8;
    const pte = r.w.get(K.pteSlot(t, 0));
    expect(is_migration_entry(pte)).toBe(false);
    expect(pte_pfn(pte)).toBe(folio_pfn(1));
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('a pinned page does not migrate; GUP waits on a migration entry', () => {
  const m = model('mm-migrate-pin', 'default');

  it('a pin taken after isolation makes try_to_migrate_one restore the PTE; every pass fails and the folio is put back', () => {
    const r = directed(m, [
      ['migrator', 'migrate_pages:batch'],
      ['pinner', 'cpu_access:walk'],
      ['migrator', null],
      ['pinner', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    expect(n).toContain('pinner: pinned folio 0 (pincount 1)');
    expect(n).toContain('migrator: try_to_migrate_one: folio 0 may be pinned: not migrated');
    expect(n).toContain('migrator: migrate_pages: folio 0 not migrated: put back');
    expect(rets(r.events, 'migrate_pages')).toEqual([1]);
    expect(rets(r.events, 'try_to_migrate').length).toBe(10); // 3 MIGRATE_ASYNC + 7 MIGRATE_SYNC passes
    expect(n).toContain('pinner: check_read: vpn 0 holds 5 as expected');
  });

  it('pin_user_pages meets the migration entry: follow_page_pte fails, the fault waits in migration_entry_wait, the retry pins the new folio', () => {
    const r = directed(m, [
      ['migrator', 'migrate_pages:move'],
      ['pinner', null],
      ['migrator', null],
      ['pinner', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    expect(n).toContain('pinner: migration_entry_wait: vpn 0 is a migration entry of folio 0: wait for its unlock');
    expect(at(r.events, 'pinner', /pinned folio 1/)).toBeGreaterThan(at(r.events, 'migrator', /migrate_pages: folio 0 migrated/));
    expect(rets(r.events, 'migrate_pages')).toEqual([0]);
    expect(rets(r.events, 'pin_user_pages')).toEqual([1]);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('UFFDIO_MOVE meets a migration entry', () => {
  const m = model('mm-migrate-uffd-move', 'default');

  it('move_pages_pte waits in migration_entry_wait, returns -EAGAIN, and the retry moves the new folio', () => {
    const r = directed(m, [
      ['mover', 'userfaultfd_move:start'],
      ['migrator', 'migrate_pages:move'],
      ['mover', null],
      ['migrator', null],
      ['mover', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    expect(n).toContain('mover: migration_entry_wait: vpn 0 is a migration entry of folio 0: wait for its unlock');
    expect(n).toContain('mover: move_pages_pte: src PTE was a migration entry: migration_entry_wait, then -EAGAIN: -11');
    expect(rets(r.events, 'move_pages_pte')).toEqual([-11, 0]);
    expect(n).toContain('mover: check_read: vpn 4 holds 3 as expected');
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe("khugepaged's scan meets a migration entry", () => {
  const m = model('mm-migrate-vs-khugepaged', 'default');

  it('hpage_collapse_scan_pmd stops at the migration entry (SCAN_PTE_NON_PRESENT), the migration completes', () => {
    const r = directed(m, [
      ['migrator', 'migrate_pages:move'],
      ['khugepaged', null],
      ['migrator', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    expect(n).toContain('khugepaged: khugepaged: SCAN_PTE_NON_PRESENT');
    expect(rets(r.events, 'migrate_pages')).toEqual([0]);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('a shmem folio migrates through i_mmap and the page cache', () => {
  const m = model('mm-migrate-shmem', 'default');

  it('try_to_migrate under i_mmap_rwsem, the page cache slot moves to the new folio, the load waits on the entry and reads the new folio', () => {
    const r = directed(m, [
      ['cpu', 'check_read:access'],
      ['kcompactd', 'migrate_pages:move'],
      ['cpu', null],
      ['kcompactd', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    const rmap = r.events.findIndex((e) => e.k === 'lock' && e.t === 'kcompactd' && e.op === 'acquire' && e.lock === 'shm.i_mmap_rwsem');
    expect(rmap).toBeGreaterThan(0);
    expect(n).toContain('kcompactd: try_to_migrate_one: vpn 0 of folio 0 → migration entry');
    expect(n).toContain('cpu: migration_entry_wait: vpn 0 is a migration entry of folio 0: wait for its unlock');
    expect(n).toContain('cpu: load 4 from vpn 0: folio 1');
    expect(n).toContain('cpu: check_read: vpn 0 holds 4 as expected');
    expect(n).toContain('kcompactd: folio 0 freed');
    expect(r.w.get(r.K.pcSlot(0, 0))).toBe(2); // i_pages[0] = folio 1
  });

  it('a hole punch clears the migration entry, then waits for the folio lock; its reference fails folio_migrate_mapping, and the punched folio is freed', () => {
    const p = model('mm-migrate-shmem-vs-punch', 'default');
    const r = directed(p, [
      ['kcompactd', 'migrate_pages:move'],
      ['qemu', null],
      ['kcompactd', null],
      ['qemu', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    expect(n).toContain('qemu: zap_nonpresent_ptes: vpn 0 migration entry cleared');
    expect(n).toContain('kcompactd: folio_migrate_mapping: folio 0 refcount 3 != 2: -EAGAIN');
    expect(n).toContain('kcompactd: migrate_pages: folio 0 not migrated: put back');
    expect(rets(r.events, 'migrate_pages')).toEqual([1]);
    expect(n.filter((x) => x === 'kcompactd: folio 0 freed' || x === 'qemu: folio 0 freed').length).toBe(1);
    expect(r.w.get(r.K.pcSlot(0, 0))).toBe(0); // the hole
  });

  it('DFS completes without a verdict, also against a hole punch', () => {
    for (const name of ['mm-migrate-shmem', 'mm-migrate-shmem-vs-punch']) {
      const d = dfsOf(model(name, 'default'));
      expect(d.complete).toBe(true);
      expect(d.findings).toEqual([]);
    }
  }, 60_000);
});
