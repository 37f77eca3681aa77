/**
 * The two rmap walks of migration (v6.8): try_to_migrate (mm/rmap.c: try_to_migrate →
 * rmap_walk_anon / rmap_walk_file → try_to_migrate_one; mm/huge_memory.c: set_pmd_migration_entry) replaces every
 * mapping of a locked anon folio by a migration entry, and remove_migration_ptes (mm/migrate.c:
 * remove_migration_ptes → remove_migration_pte; mm/huge_memory.c: remove_migration_pmd) replaces
 * the migration entries by mappings of the new folio (or of the old one when the migration failed).
 *
 * Both walk the VMAs of the folio's anon_vma under anon_vma_lock_read; try_to_migrate_one
 * brackets each VMA with mmu_notifier_invalidate_range_start/end (remove_migration_pte needs no
 * invalidation: the entries were not present). An anon-exclusive page that may be pinned
 * (folio_try_share_anon_rmap_pte/_pmd fails) stops the walk with its mapping restored: a pinned
 * page cannot migrate. A file (shmem) folio is walked through i_mmap under i_mmap_lock_read
 * (rmap_walk_file). Simplified: PTE-mapped file folios only; PG_anon_exclusive is per folio; no
 * young/soft-dirty/uffd-wp bits; the PTEs of one folio in one table are converted in one step
 * (page_vma_mapped_walk holds the PTL across them); no TLB batching (TTU_BATCH_FLUSH).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SWP_EXCLUSIVE,
  folio_pfn,
  is_migration_entry,
  is_pmd_migration_entry,
  mk_huge_pmd,
  mk_migration_pte,
  mk_pte,
  PG_anon_exclusive,
  PG_dirty,
  pfn_folio,
  pmd_is_table,
  pmd_pfn,
  pmd_table,
  pmd_trans_huge,
  pmd_type,
  pte_dirty,
  pte_pfn,
  pte_present,
  pte_write,
} from '../../src/kernel/defs.js';
import {
  folio_add_rmap,
  folio_clear_flag,
  folio_get,
  folio_maybe_dma_pinned,
  folio_put,
  folio_remove_rmap,
  folio_set_flag,
  folio_test,
  folio_test_anon,
  PageAnonExclusive,
} from '../../src/kernel/folio.js';
import { F_INDEX, F_MAPPING, F_ORDER, type Kernel, kern, type Mem, VMA_ATTACHED, VMA_IMMAP } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, set_pmd, set_pte_at } from '../../src/kernel/pgtable.js';
import type { Ctx } from '../../src/engine/ctx.js';
import { anon_vma_lock, vma_anon_vma } from '../uffd/common.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from './notifier.js';
import { mk_pmd_migration, PMD_MIGRATION_INVALID } from './migrate-entry.js';
import { type FolioId, NO_TABLE, NO_VMA, type VmaId } from '../../src/kernel/ids.js';

const nr_pages = (m: Mem, K: Kernel, f: number): number => 1 << m.get(K.fSlot(f, F_ORDER));

/** The rmap lock of a folio's mapping (`F_MAPPING`): anon_vma_lock_read or i_mmap_lock_read. */
export function rmapLock(m: Mem, K: Kernel, f: number): number {
  const mapping = m.get(K.fSlot(f, F_MAPPING)) - 1;
  return folio_test_anon(m, K, f) ? anon_vma_lock(K, mapping) : K.mapping(mapping).i_mmap_rwsem;
}

/**
 * rmap_walk_anon / rmap_walk_file: from cursor `l.j`, the next attached VMA mapping the folio
 * (sharing its anon_vma, or in the file's i_mmap over its index); sets l.vma, l.vpn, l.j. False when done.
 */
function nextVma(m: Mem, K: Kernel, f: number, l: { j: number; vma: VmaId; vpn: number }): boolean {
  const mapping = m.get(K.fSlot(f, F_MAPPING)) - 1;
  const index = m.get(K.fSlot(f, F_INDEX));
  const anon = folio_test_anon(m, K, f);
  const list = anon ? null : K.mapping(mapping).vmas;
  const n = anon ? K.vmas.length : (list as readonly VmaId[]).length;
  for (; l.j < n; l.j++) {
    const v = anon ? l.j : ((list as readonly VmaId[])[l.j] as number);
    const h = K.vmas[v];
    if (!h || m.get(K.vmaSlot(v, VMA_ATTACHED)) === 0) continue;
    if (anon ? vma_anon_vma(m, K, v) !== mapping : m.get(K.vmaSlot(v, VMA_IMMAP)) === 0) continue;
    const vpn = anon ? index : h.start + (index - h.pgoff); // vma_address
    if (vpn < h.start || vpn >= h.end) continue;
    l.vma = v as VmaId;
    l.vpn = vpn;
    l.j++;
    return true;
  }
  return false;
}

/** make_{writable,readable_exclusive,readable}_migration_entry + make_migration_entry_dirty bits. */
function migrationFlags(pteval: number, anonExclusive: boolean): number {
  return (pte_write(pteval) ? _PAGE_RW : anonExclusive ? _PAGE_SWP_EXCLUSIVE : 0) | (pte_dirty(pteval) ? _PAGE_DIRTY : 0);
}

/** folio_try_share_anon_rmap_pte/_pmd: fails (true) when the folio may be pinned; else clears PageAnonExclusive. */
function folio_try_share_anon_rmap(k: Ctx, K: Kernel, f: number): boolean {
  if (folio_maybe_dma_pinned(k.w, K, f)) return true;
  folio_clear_flag(k.w, K, f, PG_anon_exclusive);
  return false;
}

/** try_to_migrate(folio): args [folio] (locked); 1 when every mapping became a migration entry. */
export const try_to_migrate = kproc(
  'try_to_migrate',
  'mm/rmap.c: try_to_migrate → rmap_walk_anon / rmap_walk_file → try_to_migrate_one',
  (a: { f: FolioId }) => ({ f: a.f, rmap: 0, j: 0, vma: NO_VMA, vpn: 0, nr: 1, t: NO_TABLE, ok: 1, split: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      l.rmap = rmapLock(k.w, K, l.f);
      l.nr = nr_pages(k.w, K, l.f);
      return 'lock';
    },
    lock: (k, l) => (k.down_read(l.rmap) ? 'vma' : BLOCKED), // anon_vma_lock_read / i_mmap_lock_read
    vma: (k, l) => {
      if (!l.ok || !nextVma(k.w, kern(k), l.f, l)) return 'unlock';
      // mmu_notifier_range_init(MMU_NOTIFY_CLEAR, ..., address, address + folio_size(folio))
      return k.call(mmu_notifier_invalidate_range_start, { mm: kern(k).vma(l.vma).mm, start: l.vpn, end: l.vpn + l.nr }, 'walk');
    },
    walk: (k, l) => {
      const K = kern(k);
      const mm = K.vma(l.vma).mm;
      // page_vma_mapped_walk: a huge pmd is checked under the pmd lock, a table under the PTL
      if (pmd_trans_huge(pmdp_get(k.w, K, mm, pmd_index(l.vpn)))) return 'pmd_lock';
      return 'pte_walk';
    },
    pte_walk: (k, l) => k.call(pte_offset_map_lock, { mm: kern(k).vma(l.vma).mm, pmd: pmd_index(l.vpn) }, 'ptes'),
    pmd_lock: (k, l) => (k.spin_lock(kern(k).mm(kern(k).vma(l.vma).mm).page_table_lock) ? 'pmd_set' : BLOCKED),
    pmd_set: (k, l) => {
      // set_pmd_migration_entry: pmdp_invalidate, folio_try_share_anon_rmap_pmd, the entry, rmap, put
      const K = kern(k);
      const mm = K.vma(l.vma).mm;
      const v = pmdp_get(k.w, K, mm, pmd_index(l.vpn));
      l.split = pmd_is_table(v) ? 1 : 0; // THP pmd was split under us: handle on pte level
      if (!pmd_trans_huge(v) || pfn_folio(pmd_pfn(v)) !== l.f) return 'pmd_unlock';
      const excl = PageAnonExclusive(k.w, K, l.f);
      if (excl && folio_try_share_anon_rmap(k, K, l.f)) {
        l.ok = 0; // -EBUSY: the pmd is restored (set_pmd_at(pmdval))
        k.note(() => `set_pmd_migration_entry: folio ${l.f} may be pinned: not migrated`);
        return 'pmd_unlock';
      }
      if (pte_dirty(v)) folio_set_flag(k.w, K, l.f, PG_dirty);
      set_pmd(k.w, K, mm, pmd_index(l.vpn), mk_pmd_migration(pmd_pfn(v), migrationFlags(v, excl)));
      folio_remove_rmap(k, K, l.f);
      folio_put(k, K, l.f);
      k.note(() => `set_pmd_migration_entry: pmd ${pmd_index(l.vpn)} of folio ${l.f} → migration entry`);
      return 'pmd_unlock';
    },
    pmd_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).mm(kern(k).vma(l.vma).mm).page_table_lock)) return ENDED;
      return l.split ? 'pte_walk' : 'notify_end';
    },
    ptes: (k, l) => {
      if (k.rv === 0) return 'notify_end'; // not mapped here
      const K = kern(k);
      l.t = pmd_table(k.rv);
      // PageAnonExclusive is per folio here: shared once, before the first PTE is converted
      const excl = PageAnonExclusive(k.w, K, l.f);
      for (let i = 0; i < l.nr; i++) {
        const idx = pte_index(l.vpn + i);
        const pteval = ptep_get(k, K, l.t, idx);
        if (!pte_present(pteval) || pfn_folio(pte_pfn(pteval)) !== l.f) continue;
        // ptep_clear_flush, then folio_try_share_anon_rmap_pte for an exclusive page
        if (excl && PageAnonExclusive(k.w, K, l.f) && folio_try_share_anon_rmap(k, K, l.f)) {
          l.ok = 0; // set_pte_at(pteval): restored; ret = false
          k.note(() => `try_to_migrate_one: folio ${l.f} may be pinned: not migrated`);
          break;
        }
        if (pte_dirty(pteval)) folio_set_flag(k.w, K, l.f, PG_dirty);
        set_pte_at(k, K, l.t, idx, mk_migration_pte(pte_pfn(pteval), migrationFlags(pteval, excl)));
        folio_remove_rmap(k, K, l.f);
        folio_put(k, K, l.f);
        k.note(() => `try_to_migrate_one: vpn ${l.vpn + i} of folio ${l.f} → migration entry`);
      }
      return 'pte_unlock';
    },
    pte_unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'notify_end' : ENDED),
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: kern(k).vma(l.vma).mm, start: l.vpn, end: l.vpn + l.nr }, 'vma'),
    unlock: (k, l) => (k.up_read(l.rmap) ? k.ret(l.ok) : ENDED),
  },
);

/** The present mapping remove_migration_pte/_pmd builds from a migration entry (pte flag bits). */
function restoredFlags(m: Mem, K: Kernel, entry: number, dst: number): number {
  return (entry & _PAGE_RW ? _PAGE_RW : 0) | (entry & _PAGE_DIRTY && folio_test(m, K, dst, PG_dirty) ? _PAGE_DIRTY : 0);
}

/** rmap add of a restored mapping: RMAP_EXCLUSIVE unless the entry was a readable (shared) one. */
function addRestoredRmap(m: Mem, K: Kernel, entry: number, dst: number): void {
  folio_get(m, K, dst);
  folio_add_rmap(m, K, dst);
  if (folio_test_anon(m, K, dst) && entry & (_PAGE_RW | _PAGE_SWP_EXCLUSIVE)) folio_set_flag(m, K, dst, PG_anon_exclusive);
}

/** remove_migration_ptes(src, dst, false): args [src, dst]; migration entries of src → mappings of dst. */
export const remove_migration_ptes = kproc(
  'remove_migration_ptes',
  'mm/migrate.c: remove_migration_ptes → rmap_walk → remove_migration_pte (mm/huge_memory.c: remove_migration_pmd)',
  (a: { src: FolioId; dst: FolioId }) => ({ src: a.src, dst: a.dst, rmap: 0, j: 0, vma: NO_VMA, vpn: 0, nr: 1, t: NO_TABLE, split: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      l.rmap = rmapLock(k.w, K, l.dst); // rmap_walk(dst): dst->mapping is src's
      l.nr = nr_pages(k.w, K, l.src);
      return 'lock';
    },
    lock: (k, l) => (k.down_read(l.rmap) ? 'vma' : BLOCKED),
    vma: (k, l) => {
      const K = kern(k);
      if (!nextVma(k.w, K, l.dst, l)) return 'unlock';
      // page_vma_mapped_walk(PVMW_MIGRATION): what looks like a leaf is checked under the pmd lock
      const pmdv = pmdp_get(k.w, K, K.vma(l.vma).mm, pmd_index(l.vpn));
      if (is_pmd_migration_entry(pmdv) || pmd_type(pmdv) === PMD_MIGRATION_INVALID) return 'pmd_lock';
      return pmd_is_table(pmdv) ? 'pte_walk' : 'vma';
    },
    pte_walk: (k, l) => k.call(pte_offset_map_lock, { mm: kern(k).vma(l.vma).mm, pmd: pmd_index(l.vpn) }, 'ptes'),
    pmd_lock: (k, l) => (k.spin_lock(kern(k).mm(kern(k).vma(l.vma).mm).page_table_lock) ? 'pmd_restore' : BLOCKED),
    pmd_restore: (k, l) => {
      const K = kern(k);
      const mm = K.vma(l.vma).mm;
      const v = pmdp_get(k.w, K, mm, pmd_index(l.vpn));
      l.split = pmd_is_table(v) ? 1 : 0; // THP pmd was split under us: handle on pte level
      if (is_pmd_migration_entry(v) && pfn_folio(pmd_pfn(v)) === l.src) {
        addRestoredRmap(k.w, K, v, l.dst);
        set_pmd(k.w, K, mm, pmd_index(l.vpn), mk_huge_pmd(folio_pfn(l.dst), restoredFlags(k.w, K, v, l.dst)));
        k.note(() => `remove_migration_pmd: pmd ${pmd_index(l.vpn)} → folio ${l.dst}`);
      }
      return 'pmd_unlock';
    },
    pmd_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).mm(kern(k).vma(l.vma).mm).page_table_lock)) return ENDED;
      return l.split ? 'pte_walk' : 'vma';
    },
    ptes: (k, l) => {
      if (k.rv === 0) return 'vma';
      const K = kern(k);
      l.t = pmd_table(k.rv);
      for (let i = 0; i < l.nr; i++) {
        const idx = pte_index(l.vpn + i);
        const entry = ptep_get(k, K, l.t, idx);
        if (!is_migration_entry(entry) || pfn_folio(pte_pfn(entry)) !== l.src) continue;
        addRestoredRmap(k.w, K, entry, l.dst);
        set_pte_at(k, K, l.t, idx, mk_pte(folio_pfn(l.dst) + i, restoredFlags(k.w, K, entry, l.dst)));
        k.note(() => `remove_migration_pte: vpn ${l.vpn + i} → folio ${l.dst}`);
      }
      return 'pte_unlock';
    },
    pte_unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'vma' : ENDED),
    unlock: (k, l) => (k.up_read(l.rmap) ? k.ret(0) : ENDED),
  },
);
