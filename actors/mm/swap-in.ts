/**
 * do_swap_page (mm/memory.c, v6.8), called by handle_mm_fault (fault.ts) for a swap PTE with the
 * mmap_lock held for read: swap_cache_get_folio; on a miss, the SWP_SYNCHRONOUS_IO path that skips
 * the swap cache when __swap_count(entry) == 1 (a fresh folio read straight from the device), or
 * swapin_readahead → __read_swap_cache_async (swapcache_prepare, -EEXIST → wait and loop,
 * add_to_swap_cache, swap_read_folio); folio_lock; the folio_test_swapcache / folio->swap recheck;
 * pte_offset_map_lock and the pte_same recheck (→ out_nomap); then swap_free, folio_free_swap when
 * should_try_to_free_swap, the anon rmap (__folio_set_anon for a folio new to anon, else the
 * VM_BUG_ONs of __page_check_anon_rmap) and set_pte_at.
 *
 * Switch swap_fix_race_skipping_swapcache ("mm/swap: fix race when skipping swapcache", 13ddaf26be32,
 * v6.8-rc6; Fixes: 0bcac06f27d7): the skip path first pins the entry with swapcache_prepare; on
 * -EEXIST it sleeps one tick (schedule_timeout_uninterruptible(1)) and returns to refault; the pin
 * is dropped with swapcache_clear after the PTL is released. Off: v6.7, no pin.
 *
 * Checked here: the folio mapped for a swap entry holds what the entry stands for (its swap-cache
 * folio's data, else the device's): an `invariant` verdict otherwise (swapped-out data lost).
 *
 * Simplified: folio_lock_or_retry is folio_lock (the mmap_lock is kept while sleeping); the swap
 * cache lookup and the __swap_count read are one step, as are __read_swap_cache_async's
 * swapcache_prepare, add_to_swap_cache and the (synchronous) read; pte_unmap_same is a no-op
 * (x86-64); no KSM copy (CONFIG_KSM=n), no readahead window, no hwpoison, no memcg; a write fault
 * on a page that cannot be mapped writable returns and refaults into do_wp_page.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SWP_EXCLUSIVE,
  EEXIST,
  FAULT_FLAG_WRITE,
  folio_pfn,
  mk_pte,
  PG_anon,
  PG_anon_exclusive,
  PG_uptodate,
  pmd_table,
  VM_FAULT_OOM,
  VM_LOCKED,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import {
  folio_add_new_anon_rmap,
  folio_add_rmap,
  folio_alloc,
  folio_clear_flag,
  folio_data,
  folio_lock,
  folio_put,
  folio_ref_count,
  folio_set_flag,
  folio_test_anon,
  folio_unlock,
  folio_write_data,
  PageAnonExclusive,
} from '../../src/kernel/folio.js';
import { F_INDEX, F_MAPPING, kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, set_pte_at } from '../../src/kernel/pgtable.js';
import {
  __swap_count,
  add_to_swap_cache,
  folio_free_swap,
  folio_swap,
  folio_test_swapcache,
  swap_cache_get_folio,
  swap_data,
  swap_entry_content,
  swap_free,
  swapcache_clear,
  swapcache_prepare,
  swapOf,
  swp_offset,
  vm_swap_full,
} from '../../src/kernel/swap.js';
import { anon_vma_prepare, vm_flags } from './common.js';
import { type FolioId, type MmId, NO_FOLIO, NO_TABLE, type VmaId } from '../../src/kernel/ids.js';

export const FIX_SKIP_SWAPCACHE = 'swap_fix_race_skipping_swapcache';

/** do_swap_page: args [mm, vma, vpn, orig pte, flags]; returns vm_fault_t (0: done or refault). */
export const do_swap_page = kproc(
  'do_swap_page',
  'mm/memory.c: do_swap_page',
  (a: { mm: MmId; vma: VmaId; vpn: number; orig: number; flags: number }) => ({
    mm: a.mm,
    vma: a.vma,
    vpn: a.vpn,
    orig: a.orig,
    flags: a.flags,
    entry: swp_offset(a.orig),
    f: NO_FOLIO,
    swapcache: NO_FOLIO,
    clear: 0,
    t: NO_TABLE,
    ret: 0,
  }),
  {
    lookup: (k, l) => {
      const K = kern(k);
      const S = swapOf(k);
      l.f = swap_cache_get_folio(k.w, K, S, l.entry);
      if (l.f >= 0) {
        l.swapcache = l.f;
        k.note(() => `do_swap_page: slot ${l.entry} hit in the swap cache: folio ${l.f}`);
        return 'lock';
      }
      if (S.synchronous && __swap_count(k.w, S, l.entry) === 1) return k.sw(FIX_SKIP_SWAPCACHE) ? 'pin' : 'skip_swapcache';
      return 'readahead';
    },
    // 13ddaf26be32: prevent parallel swapin from proceeding with the cache flag
    pin: (k, l) => {
      if (swapcache_prepare(k.w, swapOf(k), l.entry)) {
        k.note(() => `do_swap_page: swapcache_prepare(slot ${l.entry}) failed: schedule_timeout_uninterruptible(1), refault`);
        return k.ret(0);
      }
      l.clear = 1;
      return 'skip_swapcache';
    },
    // skip swapcache: vma_alloc_folio, __folio_set_locked, swap_read_folio(synchronous) unlocks it
    skip_swapcache: (k, l) => {
      const K = kern(k);
      const S = swapOf(k);
      l.f = folio_alloc(k.w, K, 0);
      if (l.f < 0) return 'nofolio';
      folio_write_data(k.w, K, l.f, swap_data(k.w, S, l.entry));
      folio_set_flag(k.w, K, l.f, PG_uptodate);
      k.note(() => `do_swap_page: SWP_SYNCHRONOUS_IO, skip swapcache: folio ${l.f} read from slot ${l.entry} (${folio_data(k.w, K, l.f)})`);
      return 'lock';
    },
    // swapin_readahead → read_swap_cache_async → __read_swap_cache_async (mm/swap_state.c)
    readahead: (k, l) => {
      const K = kern(k);
      const S = swapOf(k);
      l.f = swap_cache_get_folio(k.w, K, S, l.entry);
      if (l.f >= 0) {
        l.swapcache = l.f;
        return 'lock';
      }
      if (__swap_count(k.w, S, l.entry) === 0) return 'nofolio'; // skip read ahead for unused swap slot
      const f = folio_alloc(k.w, K, 0);
      if (f < 0) return 'nofolio';
      const err = swapcache_prepare(k.w, S, l.entry);
      if (err) {
        folio_put(k, K, f);
        if (err !== EEXIST) return 'nofolio';
        k.note(() => `__read_swap_cache_async: swapcache_prepare(slot ${l.entry}) = -EEXIST: schedule_timeout_uninterruptible(1), loop`);
        return 'readahead';
      }
      add_to_swap_cache(k.w, K, S, f, l.entry);
      folio_write_data(k.w, K, f, swap_data(k.w, S, l.entry)); // swap_read_folio
      folio_set_flag(k.w, K, f, PG_uptodate);
      l.f = f;
      l.swapcache = f;
      k.note(() => `__read_swap_cache_async: folio ${f} added to the swap cache at slot ${l.entry} and read`);
      return 'lock';
    },
    // back out if somebody else faulted in this pte while we released the pte lock
    nofolio: (k, l) => k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'nofolio_locked'),
    nofolio_locked: (k, l) => {
      if (k.rv === 0) return 'out';
      l.t = pmd_table(k.rv);
      if (ptep_get(k, kern(k), l.t, pte_index(l.vpn)) === l.orig) l.ret = VM_FAULT_OOM;
      return 'unlock';
    },
    // folio_lock_or_retry (simplified: folio_lock), then "make sure folio_free_swap() or swapoff
    // did not release the swapcache from under us"
    lock: (k, l) => {
      const K = kern(k);
      if (!folio_lock(k, K, l.f)) return BLOCKED;
      if (l.swapcache >= 0 && (!folio_test_swapcache(k.w, K, l.f) || folio_swap(k.w, swapOf(k), l.f) !== l.entry)) {
        k.note(() => `do_swap_page: folio ${l.f} left the swap cache of slot ${l.entry}: out_page`);
        return 'out_page';
      }
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'locked');
    },
    locked: (k, l) => {
      if (k.rv === 0) return 'out_page';
      const K = kern(k);
      const S = swapOf(k);
      const m = k.w;
      l.t = pmd_table(k.rv);
      const i = pte_index(l.vpn);
      if (ptep_get(k, K, l.t, i) !== l.orig) {
        k.note(() => `do_swap_page: !pte_same at vpn ${l.vpn}: out_nomap`);
        return 'out_nomap';
      }
      const want = swap_entry_content(m, K, S, l.entry);
      if (folio_data(m, K, l.f) !== want)
        return k.violated(`do_swap_page: folio ${l.f} mapped at vpn ${l.vpn} for swap slot ${l.entry} holds ${folio_data(m, K, l.f)}, but the entry holds ${want} (swapped-out data lost)`);
      // fresh page not exposed to the swapcache: certainly exclusive
      const exclusive = (l.orig & _PAGE_SWP_EXCLUSIVE) !== 0 || l.f !== l.swapcache;
      swap_free(k, S, l.entry);
      // should_try_to_free_swap
      const write = (l.flags & FAULT_FLAG_WRITE) !== 0;
      if (folio_test_swapcache(m, K, l.f) && (vm_swap_full(m, S) || vm_flags(m, K, l.vma) & VM_LOCKED || (write && folio_ref_count(m, K, l.f) === 2))) folio_free_swap(k, K, S, l.f);
      let flags = 0;
      const excl = exclusive || folio_ref_count(m, K, l.f) === 1;
      if (excl && vm_flags(m, K, l.vma) & VM_WRITE) {
        flags = _PAGE_RW | (write ? _PAGE_DIRTY : 0);
        if (write) l.flags &= ~FAULT_FLAG_WRITE;
      }
      if (!folio_test_anon(m, K, l.f)) {
        folio_add_new_anon_rmap(m, K, l.f, anon_vma_prepare(k, K, l.vma), l.vpn); // __folio_set_anon
        if (!excl) folio_clear_flag(m, K, l.f, PG_anon_exclusive);
      } else {
        // __page_check_anon_rmap (mm/rmap.c)
        const av = m.get(K.fSlot(l.f, F_MAPPING)) - 1;
        const vav = anon_vma_prepare(k, K, l.vma);
        if (k.BUG_ON(av !== vav, `folio_anon_vma(folio)->root != vma->anon_vma->root (__page_check_anon_rmap: folio ${l.f}'s anon_vma ${av}, vma ${K.vma(l.vma).name}'s ${vav})`)) return ENDED;
        const idx = m.get(K.fSlot(l.f, F_INDEX));
        if (k.BUG_ON(idx !== l.vpn, `page_pgoff(folio, page) != linear_page_index(vma, address) (__page_check_anon_rmap: folio ${l.f} index ${idx}, address ${l.vpn})`)) return ENDED;
        folio_add_rmap(m, K, l.f);
        if (excl) folio_set_flag(m, K, l.f, PG_anon | PG_anon_exclusive);
      }
      if (k.BUG_ON(flags & _PAGE_RW ? !PageAnonExclusive(m, K, l.f) : false, '!folio_test_anon(folio) || (pte_write(pte) && !PageAnonExclusive(page))')) return ENDED;
      set_pte_at(k, K, l.t, i, mk_pte(folio_pfn(l.f), flags));
      k.note(() => `do_swap_page: vpn ${l.vpn} → folio ${l.f} (${folio_data(m, K, l.f)}); swap_free(slot ${l.entry})`);
      return 'unlock_folio';
    },
    unlock_folio: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'unlock' : ENDED),
    unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'out' : ENDED),
    // clear the swap cache pin for direct swapin after PTL unlock
    out: (k, l) => {
      if (l.clear) swapcache_clear(k.w, swapOf(k), l.entry);
      return k.ret(l.ret);
    },
    out_nomap: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'out_page' : ENDED),
    out_page: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'out_release' : ENDED),
    out_release: (k, l) => {
      folio_put(k, kern(k), l.f as FolioId);
      if (l.clear) swapcache_clear(k.w, swapOf(k), l.entry);
      return k.ret(l.ret);
    },
  },
);
