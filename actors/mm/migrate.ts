/**
 * Migration of one folio, anonymous or shmem (mm/migrate.c, v6.8): a folio isolated as compaction or NUMA
 * balancing isolates it (isolate_migratepages_block: folio_try_get, the racy "pinned anon page"
 * pre-check, folio_isolate_lru), then migrate_pages → migrate_pages_batch (MIGRATE_ASYNC:
 * NR_MAX_MIGRATE_PAGES_RETRY = 10 passes; MIGRATE_SYNC: migrate_pages_sync, first a MIGRATE_ASYNC
 * batch of NR_MAX_MIGRATE_ASYNC_RETRY = 3 passes, then a MIGRATE_SYNC one of
 * NR_MAX_MIGRATE_SYNC_RETRY = 7).
 *
 * Unmap passes (migrate_folio_unmap): refcount 1 means the folio was freed under us; allocate dst;
 * folio_trylock(src) (MIGRATE_ASYNC gives up, the others folio_lock); folio_trylock(dst);
 * try_to_migrate; a folio still mapped (pinned) is undone (remove_migration_ptes(src, src), unlock,
 * free dst) and retried. Move passes (migrate_folio_move → move_to_new_folio → migrate_folio →
 * folio_migrate_mapping): an anon folio without mapping must have exactly the isolation reference
 * (folio_ref_count != expected_count → -EAGAIN, retried with the migration entries in place), a
 * page-cache folio the isolation and cache references (folio_ref_freeze, the i_pages slot replaced); then
 * folio_migrate_copy, remove_migration_ptes(src, dst), unlock and put dst, unlock src and drop the
 * isolation reference (the old folio is freed). After the last move pass, migrate_pages_batch's
 * cleanup undoes the folio (migrate_folio_undo_src/_dst) and it is put back.
 *
 * Simplified: one folio per call (no batch of several folios, no split of large folios:
 * try_split_folio; no hugetlb, no swap cache, no file THPs), the folio is named by the page it maps
 * at the op's address or, for a shmem VMA, the page-cache folio there (a PFN walker's choice); the
 * freeze, the i_pages store and the unfreeze are one step under an implicit xa_lock; anon_vmas are never freed (no folio_get_anon_vma reference), returns 0 or the number
 * of folios not migrated (1), or -errno.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { EBUSY, ENOENT, ENOMEM, PG_anon, PG_dirty, PG_uptodate, pfn_folio, pmd_is_table, pmd_pfn, pmd_table, pmd_trans_huge } from '../../src/kernel/defs.js';
import {
  folio_alloc,
  folio_data,
  folio_get,
  folio_mapcount,
  folio_mapped,
  folio_put,
  folio_ref_count,
  folio_test_anon,
  folio_trylock,
  folio_try_get,
  folio_lock,
  folio_unlock,
  folio_write_data,
} from '../../src/kernel/folio.js';
import { F_FLAGS, F_INDEX, F_MAPPING, F_ORDER, F_REF, kern } from '../../src/kernel/kernel.js';
import { filemap_get_folio } from '../../src/kernel/filemap.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index } from '../../src/kernel/pgtable.js';
import { vm_normal_folio } from './common.js';
import { remove_migration_ptes, try_to_migrate } from './migrate-rmap.js';
import { type FolioId, type MmId, NO_FOLIO, type VmaId } from '../../src/kernel/ids.js';

export const MIGRATE_ASYNC = 0;
export const MIGRATE_SYNC = 1;
const NR_MAX_MIGRATE_PAGES_RETRY = 10;
const NR_MAX_MIGRATE_ASYNC_RETRY = 3;
const NR_MAX_MIGRATE_SYNC_RETRY = NR_MAX_MIGRATE_PAGES_RETRY - NR_MAX_MIGRATE_ASYNC_RETRY;

/** migrate_pages of the folio mapped at a VMA page: args [mm, vma, page, mode]; 0, 1 (not migrated) or -errno. */
export const migrate_pages = kproc(
  'migrate_pages',
  'mm/migrate.c: migrate_pages → migrate_pages_batch → migrate_folio_unmap / migrate_folio_move',
  (a: { mm: MmId; vma: VmaId; page: number; mode: number }) => ({
    mm: a.mm,
    vma: a.vma,
    page: a.page,
    sync: a.mode,
    round: 0,
    mode: MIGRATE_ASYNC,
    nr_pass: 0,
    pass: 0,
    moving: 0,
    f: NO_FOLIO,
    dst: NO_FOLIO,
    locked: 0,
    dst_locked: 0,
    mapped: 0,
  }),
  {
    isolate: (k, l) => {
      const K = kern(k);
      const vpn = K.vpn(l.vma, l.page);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(vpn));
      const memfd = K.vma(l.vma).memfd;
      let f = pmd_trans_huge(v) ? pfn_folio(pmd_pfn(v)) : pmd_is_table(v) ? vm_normal_folio(k.w.get(K.pteSlot(pmd_table(v), pte_index(vpn)))) : -1;
      if (f < 0 && memfd >= 0) f = filemap_get_folio(k.w, K, memfd, K.linear_page_index(l.vma, vpn)); // a cached page not mapped
      if (f < 0 || !folio_try_get(k.w, K, f)) {
        k.note(() => `migrate_pages: no folio at vpn ${vpn}`);
        return k.ret(ENOENT);
      }
      l.f = f as FolioId;
      // isolate_migratepages_block: "Migration will fail if an anonymous page is pinned in memory"
      if (folio_test_anon(k.w, K, f) && folio_ref_count(k.w, K, f) - 1 > folio_mapcount(k.w, K, f)) {
        k.note(() => `isolate_migratepages_block: folio ${f} has extra references (pinned?): not isolated`);
        folio_put(k, K, f);
        return k.ret(EBUSY);
      }
      k.note(() => `migrate_pages: folio ${f} isolated`);
      return 'batch';
    },
    batch: (_k, l) => {
      // migrate_pages: MIGRATE_ASYNC → one batch; else migrate_pages_sync: async batch, then sync
      l.mode = l.sync && l.round > 0 ? MIGRATE_SYNC : MIGRATE_ASYNC;
      l.nr_pass = !l.sync ? NR_MAX_MIGRATE_PAGES_RETRY : l.round === 0 ? NR_MAX_MIGRATE_ASYNC_RETRY : NR_MAX_MIGRATE_SYNC_RETRY;
      l.pass = 0;
      l.moving = 0;
      return 'unmap';
    },
    unmap: (k, l) => {
      const K = kern(k);
      if (folio_ref_count(k.w, K, l.f) === 1) return 'freed'; // Folio was freed from under us
      l.dst = folio_alloc(k.w, K, k.w.get(K.fSlot(l.f, F_ORDER))); // get_new_folio
      if (l.dst < 0) {
        folio_put(k, K, l.f);
        return k.ret(ENOMEM);
      }
      return 'trylock';
    },
    trylock: (k, l) => {
      if (folio_trylock(k, kern(k), l.f)) return 'locked';
      return l.mode === MIGRATE_ASYNC ? 'undo' : 'lock';
    },
    lock: (k, l) => (folio_lock(k, kern(k), l.f) ? 'locked' : BLOCKED),
    locked: (k, l) => {
      const K = kern(k);
      l.locked = 1;
      if (!folio_trylock(k, K, l.dst)) return 'undo';
      l.dst_locked = 1;
      if (!folio_mapped(k.w, K, l.f)) return 'unmapped';
      l.mapped = 1; // page_was_mapped
      return k.call(try_to_migrate, { f: l.f }, 'unmapped');
    },
    unmapped: (k, l) => {
      if (folio_mapped(k.w, kern(k), l.f)) return 'undo'; // still mapped: -EAGAIN
      l.moving = 1; // MIGRATEPAGE_UNMAP: on to the move passes
      l.pass = 0;
      return 'move';
    },
    move: (k, l) => {
      const K = kern(k);
      const m = k.w;
      // folio_migrate_mapping: anon without mapping, if (folio_ref_count(folio) != expected_count)
      // return -EAGAIN; a page-cache folio is frozen at the isolation + cache references under
      // the xa_lock (folio_ref_freeze fails → -EAGAIN), replaced in i_pages by dst (which takes the
      // cache reference) and unfrozen to expected_count - nr (one step here)
      // folio_mapping: NULL for anon and for a truncated page-cache folio (then as anon: 1)
      const file = !folio_test_anon(m, K, l.f) && m.get(K.fSlot(l.f, F_MAPPING)) !== 0;
      const expected = file ? 2 : 1;
      if (folio_ref_count(m, K, l.f) !== expected) {
        k.note(() => `folio_migrate_mapping: folio ${l.f} refcount ${folio_ref_count(m, K, l.f)} != ${expected}: -EAGAIN`);
        return ++l.pass < l.nr_pass ? 'move' : 'undo';
      }
      const index = m.get(K.fSlot(l.f, F_INDEX));
      m.set(K.fSlot(l.dst, F_MAPPING), m.get(K.fSlot(l.f, F_MAPPING)));
      m.set(K.fSlot(l.dst, F_INDEX), index);
      if (file) {
        m.set(K.pcSlot(m.get(K.fSlot(l.f, F_MAPPING)) - 1, index), l.dst + 1); // xas_store(&xas, newfolio)
        folio_get(m, K, l.dst); // folio_ref_add(newfolio, nr): the cache reference
        m.set(K.fSlot(l.f, F_REF), expected - 1); // folio_ref_unfreeze(folio, expected_count - nr)
      }
      // folio_migrate_copy: folio_copy + folio_migrate_flags
      m.set(K.fSlot(l.dst, F_FLAGS), m.get(K.fSlot(l.dst, F_FLAGS)) | (m.get(K.fSlot(l.f, F_FLAGS)) & (PG_anon | PG_uptodate | PG_dirty)));
      folio_write_data(m, K, l.dst, folio_data(m, K, l.f));
      // move_to_new_folio: "For pagecache folios, src->mapping must be cleared before src is freed"
      if (file) m.set(K.fSlot(l.f, F_MAPPING), 0);
      k.note(() => `migrate_folio: folio ${l.f} copied to folio ${l.dst}`);
      if (!l.mapped) return 'done_dst';
      return k.call(remove_migration_ptes, { src: l.f, dst: l.dst }, 'done_dst');
    },
    done_dst: (k, l) => {
      const K = kern(k);
      if (!folio_unlock(k, K, l.dst)) return ENDED;
      folio_put(k, K, l.dst); // the allocation's reference; the mappings hold theirs
      l.dst = NO_FOLIO;
      return 'done_src';
    },
    done_src: (k, l) => {
      const K = kern(k);
      if (!folio_unlock(k, K, l.f)) return ENDED;
      k.note(() => `migrate_pages: folio ${l.f} migrated`);
      folio_put(k, K, l.f); // migrate_folio_done: the isolation reference; the old folio is freed
      return k.ret(0);
    },
    freed: (k, l) => {
      folio_put(k, kern(k), l.f);
      return k.ret(0);
    },
    // migrate_folio_undo_src: remove_migration_ptes(src, src) if it was mapped, unlock
    undo: (k, l) => {
      if (!l.mapped) return 'undo_unlock';
      return k.call(remove_migration_ptes, { src: l.f, dst: l.f }, 'undo_unlock');
    },
    undo_unlock: (k, l) => {
      l.mapped = 0;
      if (!l.locked) return 'undo_dst';
      l.locked = 0;
      return folio_unlock(k, kern(k), l.f) ? 'undo_dst' : ENDED;
    },
    // migrate_folio_undo_dst: unlock and free the new folio
    undo_dst: (k, l) => {
      const K = kern(k);
      if (l.dst_locked && !folio_unlock(k, K, l.dst)) return ENDED;
      l.dst_locked = 0;
      folio_put(k, K, l.dst);
      l.dst = NO_FOLIO;
      if (!l.moving && ++l.pass < l.nr_pass) return 'unmap';
      return 'batch_failed';
    },
    batch_failed: (k, l) => {
      if (l.sync && l.round === 0) {
        l.round = 1;
        return 'batch';
      }
      k.note(() => `migrate_pages: folio ${l.f} not migrated: put back`);
      folio_put(k, kern(k), l.f); // putback_movable_pages
      return k.ret(1);
    },
  },
);
