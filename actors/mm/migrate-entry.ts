/**
 * Migration entries (include/linux/swapops.h) and the waits of those who meet one (mm/migrate.c,
 * v6.8): migration_entry_wait (the PTE is rechecked under the PTL, then the waiter sleeps until
 * the folio is unlocked: migration_entry_wait_on_locked) and pmd_migration_entry_wait (the same
 * under the pmd lock). The caller retries its fault or operation afterwards.
 *
 * Encodings: a PTE migration entry is `mk_migration_pte(pfn, flags)` with `_PAGE_RW` for a
 * writable entry (make_writable_migration_entry), `_PAGE_SWP_EXCLUSIVE` for a readable exclusive
 * one (anon), `_PAGE_DIRTY` for a dirty one; a pmd migration entry is `mk_pmd_migration` with the
 * same bits. Simplified: migration_entry_wait_on_locked (folio_wait_bit_common on PG_locked, which
 * does not take the lock) is modelled as folio_lock + folio_unlock: the waiter sleeps in the
 * folio lock's queue and is woken by the migrator's folio_unlock, then holds the lock for one step.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { L_OWNER, lslot } from '../../src/locks/space.js';
import { is_migration_entry, is_pmd_migration_entry, PMD_MIGRATION, pfn_folio, pmd_pfn, pmd_table, pte_pfn } from '../../src/kernel/defs.js';
import { folio_lock, folio_unlock } from '../../src/kernel/folio.js';
import { type Kernel, kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get } from '../../src/kernel/pgtable.js';
import type { Ctx } from '../../src/engine/ctx.js';
import type { World } from '../../src/engine/world.js';
import { type FolioId, type MmId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';

/** swp_entry_to_pmd(make_*_migration_entry(pfn)): a pmd migration entry with the PTE flag bits. */
export const mk_pmd_migration = (pfn: number, flags = 0): number => (pfn << 8) | PMD_MIGRATION | flags;

/**
 * pmd_mkinvalid of a pmd migration entry on arm64 (PMD_PRESENT_INVALID set): pmd_present() and
 * pmd_leaf() are true for it, and pmd_page() reads the swap entry's bits as a pfn. Only
 * __split_huge_pmd_locked before 3a5a8d343e1c writes it (actors/khugepaged/split.ts).
 */
export const PMD_MIGRATION_INVALID = 5;
export const pmd_mkinvalid_migration = (v: number): number => (v & ~7) | PMD_MIGRATION_INVALID;

/** Whether a folio's lock is held (PG_locked), read from world data. */
export const folioLocked = (w: World, K: Kernel, f: number): boolean => w.get(lslot(w, K.folioLock[f] as number, L_OWNER)) !== 0;

/**
 * pfn_swap_entry_folio of a migration entry: include/linux/swapops.h BUG_ON(is_migration_entry(entry)
 * && !folio_test_locked(folio)): migration entries exist only while the migrator holds the folio lock.
 */
export function migration_entry_folio(k: Ctx, K: Kernel, pfn: number): number {
  const f = pfn_folio(pfn);
  if (k.BUG_ON(!folioLocked(k.w, K, f), `is_migration_entry(entry) && !folio_test_locked(folio ${f})`)) return -1;
  return f;
}

/** migration_entry_wait(mm, pmd, address): args [mm, vpn]; returns 0 (the caller retries). */
export const migration_entry_wait = kproc(
  'migration_entry_wait',
  'mm/migrate.c: migration_entry_wait → mm/filemap.c: migration_entry_wait_on_locked',
  (a: { mm: MmId; vpn: number }) => ({ mm: a.mm, vpn: a.vpn, t: NO_TABLE, f: NO_FOLIO }),
  {
    map: (k, l) => k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'locked'),
    locked: (k, l) => {
      if (k.rv === 0) return k.ret(0); // !ptep: the table went away
      const K = kern(k);
      l.t = pmd_table(k.rv);
      const pte = ptep_get(k, K, l.t, pte_index(l.vpn));
      if (!is_migration_entry(pte)) return 'unlock'; // !is_swap_pte / !is_migration_entry: goto out
      const f = migration_entry_folio(k, K, pte_pfn(pte));
      if (f < 0) return ENDED;
      l.f = f as FolioId;
      k.note(() => `migration_entry_wait: vpn ${l.vpn} is a migration entry of folio ${f}: wait for its unlock`);
      return 'unlock';
    },
    // migration_entry_wait_on_locked: queued on the folio's PG_locked waitqueue, then spin_unlock(ptl)
    unlock: (k, l) => {
      if (!pte_unmap_unlock(k, kern(k), l.t)) return ENDED;
      return l.f < 0 ? k.ret(0) : 'wait';
    },
    wait: (k, l) => (folio_lock(k, kern(k), l.f) ? 'woken' : BLOCKED),
    woken: (k, l) => (folio_unlock(k, kern(k), l.f) ? k.ret(0) : ENDED),
  },
);

/** pmd_migration_entry_wait(mm, pmd): args [mm, vpn]; returns 0 (the caller retries). */
export const pmd_migration_entry_wait = kproc(
  'pmd_migration_entry_wait',
  'mm/migrate.c: pmd_migration_entry_wait → mm/filemap.c: migration_entry_wait_on_locked',
  (a: { mm: MmId; vpn: number }) => ({ mm: a.mm, vpn: a.vpn, f: NO_FOLIO }),
  {
    lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      if (!is_pmd_migration_entry(v)) return 'unlock';
      const f = migration_entry_folio(k, K, pmd_pfn(v));
      if (f < 0) return ENDED;
      l.f = f as FolioId;
      k.note(() => `pmd_migration_entry_wait: pmd ${pmd_index(l.vpn)} is a migration entry of folio ${f}: wait for its unlock`);
      return 'unlock';
    },
    unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).mm(l.mm).page_table_lock)) return ENDED;
      return l.f < 0 ? k.ret(0) : 'wait';
    },
    wait: (k, l) => (folio_lock(k, kern(k), l.f) ? 'woken' : BLOCKED),
    woken: (k, l) => (folio_unlock(k, kern(k), l.f) ? k.ret(0) : ENDED),
  },
);
