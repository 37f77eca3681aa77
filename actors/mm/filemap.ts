/**
 * Page-cache faults of a filesystem file (world memfd kind `fs`) and fault-around (mm/filemap.c,
 * mm/memory.c, v6.12):
 *
 * - filemap_fault: i_size check; a cached folio is locked and rechecked (->mapping, uptodate, i_size
 *   under the folio lock); a miss takes the mapping's invalidate_lock *shared*
 *   (filemap_invalidate_lock_shared: "See comment in filemap_create_folio() why we need
 *   invalidate_lock") around __filemap_get_folio(FGP_CREAT) and the read, so a page cannot be
 *   instantiated from blocks a hole punch or truncate is freeing.
 * - do_read_fault → do_fault_around → ->map_pages = filemap_map_pages: under rcu and (from the
 *   first folio on) the PTL, map every cached, uptodate, unlocked folio of the fault-around window
 *   (next_uptodate_folio: folio_try_get, xas_reload, uptodate, folio_trylock, ->mapping, i_size),
 *   skipping PTEs that are not none. It takes neither invalidate_lock nor a blocking folio lock.
 *
 * shmem differs (shmem.ts): shmem_fault takes no invalidate_lock; it serialises with hole punch
 * through shmem_falloc (inode->i_private, shmem_falloc_wait) and the folio lock, and shmem punch
 * takes inode_lock only. Fault-around (filemap_map_pages) is shared by both and does not look at
 * shmem_falloc.
 *
 * Simplified: order-0 folios only (no filemap_map_pmd huge mapping, no large-folio ranges); no
 * readahead (the miss reads one folio: filemap_read_folio is one step that marks it uptodate, under
 * the folio lock); lock_folio_maybe_drop_mmap always waits (no VM_FAULT_RETRY); the fault-around
 * window is the faulting page's PTE table (fault_around_bytes = 4 pages at this scale, the
 * default 64K scaled down); mmap_miss accounting not modelled; a write fault to a shared fs
 * mapping has no ->page_mkwrite.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  ENOMEM,
  folio_pfn,
  mk_pte,
  PG_uptodate,
  pmd_none,
  pmd_table,
  pte_none,
  PTRS_PER_PTE,
  VM_FAULT_NOPAGE,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_UFFD_MINOR,
  VM_UFFD_WP,
} from '../../src/kernel/defs.js';
import { filemap_add_folio, filemap_get_folio, i_size } from '../../src/kernel/filemap.js';
import {
  folio_add_rmap,
  folio_alloc,
  folio_clear_flag,
  folio_get,
  folio_lock,
  folio_mapping,
  folio_put,
  folio_set_flag,
  folio_test_uptodate,
  folio_trylock,
  folio_try_get,
  folio_unlock,
} from '../../src/kernel/folio.js';
import { type Kernel, kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { __pte_alloc, pmd_index, pmdp_get, pte_offset_map_lock, pte_unmap_unlock, ptep_get, rcu_read_unlock, set_pte_at } from '../../src/kernel/pgtable.js';
import { filePteFlags, vm_flags } from './common.js';
import { type MemfdId, type MmId, NO_FOLIO, NO_MEMFD, NO_TABLE, type VmaId } from '../../src/kernel/ids.js';

/**
 * A model fault flag (no kernel bit): this fault runs with fault_around_bytes > PAGE_SIZE, so
 * do_read_fault calls do_fault_around (should_fault_around). The `read_fault_around` operation sets it.
 */
export const FAULT_FLAG_AROUND = 0x100000;

/** Planted bug: next_uptodate_folio without the folio->mapping recheck under the folio lock. */
export const BUG_SKIP_MAPPING_CHECK = 'bug_fault_around_skip_mapping_check';

/** uffd_disable_fault_around: uffd-wp and minor faults must see every missing PTE. */
export function uffd_disable_fault_around(flags: number): boolean {
  return (flags & (VM_UFFD_WP | VM_UFFD_MINOR)) !== 0;
}

/**
 * filemap_fault: args [mm, vma, vpn, flags]; returns a folio id (locked, referenced:
 * VM_FAULT_LOCKED) or -(vm_fault_t). `il` is 1 while invalidate_lock is held shared.
 */
export const filemap_fault = kproc(
  'filemap_fault',
  'mm/filemap.c: filemap_fault',
  (a: { mm: MmId; vma: VmaId; vpn: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, flags: a.flags, map: NO_MEMFD, index: 0, f: NO_FOLIO, il: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      l.map = K.vma(l.vma).memfd;
      l.index = K.linear_page_index(l.vma, l.vpn);
      // max_idx = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE); if (unlikely(index >= max_idx)) return VM_FAULT_SIGBUS;
      if (l.index >= i_size(k.w, K, l.map)) return k.ret(-VM_FAULT_SIGBUS);
      // folio = filemap_get_folio(mapping, index)
      l.f = filemap_get_folio(k.w, K, l.map, l.index);
      if (l.f >= 0 && !folio_try_get(k.w, K, l.f)) l.f = NO_FOLIO;
      return l.f >= 0 ? 'lock' : 'retry_find';
    },
    // retry_find: if (!mapping_locked) { filemap_invalidate_lock_shared(mapping); mapping_locked = true; }
    retry_find: (k, l) => {
      if (l.il) return 'create';
      if (!k.down_read(kern(k).mapping(l.map).invalidate_lock)) return BLOCKED;
      l.il = 1;
      return 'create';
    },
    create: (k, l) => {
      // __filemap_get_folio(mapping, index, FGP_CREAT|FGP_FOR_MMAP): find, or filemap_create a
      // locked, !uptodate folio in the page cache (filemap_add_folio)
      const K = kern(k);
      l.f = filemap_get_folio(k.w, K, l.map, l.index);
      if (l.f >= 0) return folio_try_get(k.w, K, l.f) ? 'lock' : 'create';
      l.f = folio_alloc(k.w, K, 0);
      if (l.f < 0) return 'oom';
      folio_trylock(k, K, l.f); // __folio_set_locked on a fresh folio
      filemap_add_folio(k.w, K, l.map, l.index, l.f);
      folio_clear_flag(k.w, K, l.f, PG_uptodate);
      folio_get(k.w, K, l.f); // the cache's reference plus ours
      k.note(() => `filemap_fault: index ${l.index} of ${K.mapping(l.map).name} ← new folio ${l.f} (under invalidate_lock)`);
      return 'read';
    },
    // page_not_uptodate / filemap_read_folio: the read completes with the folio uptodate (and locked here)
    read: (k, l) => {
      folio_set_flag(k.w, kern(k), l.f, PG_uptodate);
      return 'check';
    },
    oom: (k, l) => (k.up_read(kern(k).mapping(l.map).invalidate_lock) ? k.ret(-VM_FAULT_OOM) : ENDED),
    lock: (k, l) => (folio_lock(k, kern(k), l.f) ? 'check' : BLOCKED), // lock_folio_maybe_drop_mmap
    check: (k, l) => {
      const K = kern(k);
      // Did it get truncated?
      if (folio_mapping(k.w, K, l.f) !== l.map + 1) {
        k.note(() => `filemap_fault: folio ${l.f} was truncated, retry_find`);
        return 'truncated';
      }
      if (!folio_test_uptodate(k.w, K, l.f)) return 'truncated'; // (!mapping_locked) goto retry_find
      return l.il ? 'unlock_shared' : 'size';
    },
    truncated: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'put_retry' : ENDED),
    put_retry: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'retry_find';
    },
    unlock_shared: (k, l) => {
      if (!k.up_read(kern(k).mapping(l.map).invalidate_lock)) return ENDED;
      l.il = 0;
      return 'size';
    },
    size: (k, l) => {
      // We must recheck i_size under page lock.
      if (l.index < i_size(k.w, kern(k), l.map)) return k.ret(l.f);
      return 'sigbus';
    },
    sigbus: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'sigbus_put' : ENDED),
    sigbus_put: (k, l) => {
      folio_put(k, kern(k), l.f);
      return k.ret(-VM_FAULT_SIGBUS);
    },
  },
);

/**
 * do_fault_around → filemap_map_pages(vmf, start_pgoff, end_pgoff): args [mm, vma, vpn]; returns
 * VM_FAULT_NOPAGE when the faulting page got mapped, 0 otherwise, VM_FAULT_OOM. `i` walks the
 * window's pages; `f` is the folio next_uptodate_folio holds (referenced, then locked); `t` the PTE
 * table once the PTL is held.
 */
export const do_fault_around = kproc(
  'do_fault_around',
  'mm/memory.c: do_fault_around → mm/filemap.c: filemap_map_pages, next_uptodate_folio, filemap_map_order0_folio',
  (a: { mm: MmId; vma: VmaId; vpn: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, map: NO_MEMFD, i: 0, end: 0, f: NO_FOLIO, t: NO_TABLE, ret: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      const v = K.vma(l.vma);
      l.map = v.memfd;
      l.i = Math.max(v.start, l.vpn - (l.vpn % PTRS_PER_PTE)); // from_pte
      l.end = Math.min(v.end, l.vpn - (l.vpn % PTRS_PER_PTE) + PTRS_PER_PTE); // to_pte + 1
      // if (pmd_none(*vmf->pmd)) vmf->prealloc_pte = pte_alloc_one(): installed by filemap_map_pmd's pmd_install
      if (pmd_none(pmdp_get(k.w, K, l.mm, pmd_index(l.vpn)))) return k.call(__pte_alloc, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'alloced');
      return 'rcu';
    },
    alloced: (k) => (k.rv === ENOMEM ? k.ret(VM_FAULT_OOM) : 'rcu'),
    rcu: (k) => {
      k.rcu_read_lock();
      return 'next';
    },
    // next_uptodate_folio, lookup half: xas_next_entry, folio_try_get, xas_reload
    next: (k, l) => {
      const K = kern(k);
      while (l.i < l.end) {
        const index = K.linear_page_index(l.vma, l.i);
        const f = filemap_get_folio(k.w, K, l.map, index);
        if (f >= 0 && folio_try_get(k.w, K, f)) {
          l.f = f;
          return 'trylock';
        }
        l.i++;
      }
      return l.t >= 0 ? 'unlock_ptl' : 'out';
    },
    // next_uptodate_folio, under the reference: uptodate, folio_trylock, then ->mapping, uptodate and
    // i_size rechecked under the folio lock
    trylock: (k, l) => {
      const K = kern(k);
      const index = K.linear_page_index(l.vma, l.i);
      if (!folio_test_uptodate(k.w, K, l.f) || !folio_trylock(k, K, l.f)) return 'skip';
      const mapped = folio_mapping(k.w, K, l.f) === l.map + 1 || k.sw(BUG_SKIP_MAPPING_CHECK);
      if (!mapped || !folio_test_uptodate(k.w, K, l.f) || index >= i_size(k.w, K, l.map)) {
        k.note(() => `next_uptodate_folio: folio ${l.f} at index ${index} was truncated, skipped`);
        return 'unlock_skip';
      }
      return l.t >= 0 ? 'map_one' : 'ptl';
    },
    unlock_skip: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'skip' : ENDED),
    skip: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      l.i++;
      return 'next';
    },
    // the first folio found: vmf->pte = pte_offset_map_lock(); NULL → unlock, put, out
    ptl: (k, l) => k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'locked'),
    locked: (k, l) => {
      if (k.rv === 0) return 'nopte';
      l.t = pmd_table(k.rv);
      // file_end = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE) - 1; if (end_pgoff > file_end) end_pgoff = file_end;
      const K = kern(k);
      const v = K.vma(l.vma);
      l.end = Math.min(l.end, v.start + i_size(k.w, K, l.map) - v.pgoff);
      return 'map_one';
    },
    nopte: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'nopte_put' : ENDED),
    nopte_put: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'out';
    },
    map_one: (k, l) => {
      // filemap_map_order0_folio: if (!pte_none(ptep_get(vmf->pte))) return; set_pte_range; folio_ref_inc
      const K = kern(k);
      const i = l.i % PTRS_PER_PTE;
      if (pte_none(ptep_get(k, K, l.t, i))) {
        if (l.i === l.vpn) l.ret = VM_FAULT_NOPAGE;
        folio_add_rmap(k.w, K, l.f);
        folio_get(k.w, K, l.f);
        set_pte_at(k, K, l.t, i, mk_pte(folio_pfn(l.f), filePteFlags(vm_flags(k.w, K, l.vma), false)));
        k.note(() => `filemap_map_pages: vpn ${l.i} → folio ${l.f} (fault-around)`);
      }
      return 'unlock_folio';
    },
    unlock_folio: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'skip' : ENDED),
    unlock_ptl: (k, l) => {
      if (!pte_unmap_unlock(k, kern(k), l.t)) return ENDED;
      l.t = NO_TABLE;
      return 'out';
    },
    // filemap_map_pages' rcu_read_unlock
    out: (k, l) => (rcu_read_unlock(k, kern(k)) ? k.ret(l.ret) : ENDED),
  },
);

/** Whether a file VMA's ->fault is filemap_fault (an `fs` file) rather than shmem_fault. */
export const isFsMapping = (K: Kernel, map: MemfdId): boolean => map >= 0 && K.mapping(map).fs;
