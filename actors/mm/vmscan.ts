/**
 * Reclaim of one anonymous folio to swap (mm/vmscan.c: shrink_folio_list, v6.8), as kswapd or
 * direct reclaim runs it on a folio taken off the LRU: folio_trylock; add_to_swap (a slot with
 * SWAP_HAS_CACHE, the folio joins the swap cache, folio_mark_dirty); try_to_unmap (swap.ts); a
 * folio still mapped (pinned) is kept; pageout → swap_writepage; __remove_mapping, whose
 * refcount freeze (the isolation's reference + the swap cache's) fails while anyone else holds a
 * reference; then the folio is unlocked and freed. A kept folio that is still in the swap cache
 * gives up its slot with folio_free_swap when swap is more than half full (activate_locked).
 *
 * Simplified: the reclaimer picks the folio mapped at a given page (the LRU order is not
 * modelled): isolate_lru_folios is a lockless PTE read plus folio_try_get; writeback is
 * synchronous and done under the folio lock (no PG_writeback window); no workingset shadows,
 * no memcg, no large folios, no dirty/referenced heuristics (folio_check_references).
 */
import { ENDED } from '../../src/engine/proc.js';
import { PG_dirty, pmd_is_table, pmd_table } from '../../src/kernel/defs.js';
import { folio_mapped, folio_put, folio_ref_count, folio_set_flag, folio_test, folio_test_anon, folio_trylock, folio_try_get, folio_unlock } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index } from '../../src/kernel/pgtable.js';
import {
  add_to_swap_cache,
  delete_from_swap_cache,
  folio_alloc_swap,
  folio_free_swap,
  folio_swap,
  folio_test_swapcache,
  swap_writepage,
  swapOf,
  vm_swap_full,
} from '../../src/kernel/swap.js';
import { vm_normal_folio } from './common.js';
import { try_to_unmap_anon } from './swap.js';
import { type MmId, NO_FOLIO, type VmaId } from '../../src/kernel/ids.js';

/** shrink_folio_list of the folio mapped at a VMA page: args [mm, vma, page]; 1 if it was freed, else 0. */
export const shrink_folio = kproc(
  'shrink_folio_list',
  'mm/vmscan.c: shrink_folio_list',
  (a: { mm: MmId; vma: VmaId; page: number }) => ({ mm: a.mm, vma: a.vma, page: a.page, f: NO_FOLIO, freed: 0 }),
  {
    // isolate_lru_folios: the folio (mapped at the page) comes off the LRU with a reference
    isolate: (k, l) => {
      const K = kern(k);
      const vpn = K.vpn(l.vma, l.page);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(vpn));
      const f = pmd_is_table(v) ? vm_normal_folio(k.w.get(K.pteSlot(pmd_table(v), pte_index(vpn)))) : NO_FOLIO;
      if (f < 0 || !folio_test_anon(k.w, K, f) || !folio_try_get(k.w, K, f)) {
        k.note(() => `shrink_folio_list: no anon folio mapped at vpn ${vpn}`);
        return k.ret(0);
      }
      l.f = f;
      return 'trylock';
    },
    trylock: (k, l) => (folio_trylock(k, kern(k), l.f) ? 'add_to_swap' : 'putback'),
    // add_to_swap: folio_alloc_swap + add_to_swap_cache + folio_mark_dirty (mm/swap_state.c)
    add_to_swap: (k, l) => {
      const K = kern(k);
      const S = swapOf(k);
      if (folio_test_swapcache(k.w, K, l.f)) return 'unmap';
      const s = folio_alloc_swap(k.w, S);
      if (s < 0) {
        k.note(() => 'add_to_swap: no free swap slot: activate_locked_split');
        return 'keep_locked';
      }
      add_to_swap_cache(k.w, K, S, l.f, s);
      folio_set_flag(k.w, K, l.f, PG_dirty);
      k.note(() => `add_to_swap: folio ${l.f} in the swap cache at slot ${s}`);
      return 'unmap';
    },
    unmap: (k, l) => (folio_mapped(k.w, kern(k), l.f) ? k.call(try_to_unmap_anon, { f: l.f }, 'unmapped') : 'pageout'),
    unmapped: (k, l) => {
      if (!folio_mapped(k.w, kern(k), l.f)) return 'pageout';
      k.note(() => `shrink_folio_list: folio ${l.f} still mapped after try_to_unmap: activate_locked`);
      return 'activate_locked';
    },
    // pageout → swap_writepage (synchronous here)
    pageout: (k, l) => {
      const K = kern(k);
      if (folio_test(k.w, K, l.f, PG_dirty)) {
        swap_writepage(k.w, K, swapOf(k), l.f);
        k.note(() => `pageout: folio ${l.f} written to swap slot ${folio_swap(k.w, swapOf(k), l.f)}`);
      }
      return 'remove_mapping';
    },
    // __remove_mapping: folio_ref_freeze(folio, 1 + nr) under the xa_lock, then __delete_from_swap_cache + put_swap_folio
    remove_mapping: (k, l) => {
      const K = kern(k);
      const r = folio_ref_count(k.w, K, l.f);
      if (r !== 2 || folio_test(k.w, K, l.f, PG_dirty)) {
        k.note(() => `__remove_mapping: folio ${l.f} refcount ${r} (expected 2)${folio_test(k.w, K, l.f, PG_dirty) ? ', dirty' : ''}: cannot_free, keep_locked`);
        return 'keep_locked';
      }
      const s = folio_swap(k.w, swapOf(k), l.f);
      delete_from_swap_cache(k, K, swapOf(k), l.f);
      l.freed = 1;
      k.note(() => `__remove_mapping: folio ${l.f} removed from the swap cache (slot ${s}); freed`);
      return 'keep_locked';
    },
    activate_locked: (k, l) => {
      const K = kern(k);
      // folio_test_swapcache && mem_cgroup_swap_full: give the slot back
      if (folio_test_swapcache(k.w, K, l.f) && vm_swap_full(k.w, swapOf(k)) && folio_free_swap(k, K, swapOf(k), l.f))
        k.note(() => `activate_locked: folio_free_swap(folio ${l.f})`);
      return 'keep_locked';
    },
    keep_locked: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'putback' : ENDED),
    // putback_lru_folio / free_unref_folios: the isolation's reference
    putback: (k, l) => {
      folio_put(k, kern(k), l.f);
      return k.ret(l.freed);
    },
  },
);
