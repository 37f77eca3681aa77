/**
 * try_to_unmap of a locked anonymous folio (mm/rmap.c, v6.8): rmap_walk_anon under the anon_vma
 * lock (read), and for the VMA that maps it try_to_unmap_one's anon branch inside an mmu-notifier
 * bracket: under the PTL, ptep_clear_flush, swap_duplicate of the folio's swap entry, the
 * folio_try_share_anon_rmap_pte check (a maybe-pinned exclusive page cannot be unmapped: the PTE
 * is restored and the walk aborts), then the swap PTE (pte_swp_mkexclusive if the page was
 * exclusive), folio_remove_rmap_pte and the mapping's reference.
 *
 * Simplified: one anon_vma per VMA and one mapping per anon folio (no fork sharing), so the walk
 * visits one VMA at the folio's index (anon index = vpn here); small folios only; the PTE work
 * under the PTL is one step.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { _PAGE_SWP_EXCLUSIVE, mk_swap_pte, PG_anon_exclusive, PG_dirty, pfn_folio, pmd_table, pte_dirty, pte_pfn, pte_present } from '../../src/kernel/defs.js';
import { folio_clear_flag, folio_maybe_dma_pinned, folio_put, folio_remove_rmap, folio_set_flag, folio_test_anon, PageAnonExclusive } from '../../src/kernel/folio.js';
import { F_INDEX, F_MAPPING, kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, ptep_get_and_clear, set_pte_at } from '../../src/kernel/pgtable.js';
import { folio_swap, swap_duplicate, swap_free, swapOf } from '../../src/kernel/swap.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from './notifier.js';
import { type FolioId, type MmId, NO_TABLE } from '../../src/kernel/ids.js';

/** try_to_unmap(folio, TTU_BATCH_FLUSH) of a locked anon swap-cache folio: args [folio]; returns 0. */
export const try_to_unmap_anon = kproc(
  'try_to_unmap',
  'mm/rmap.c: try_to_unmap → rmap_walk_anon → try_to_unmap_one',
  (a: { f: FolioId }) => ({ f: a.f, av: -1, mm: 0 as MmId, vpn: 0, t: NO_TABLE, hit: 0 }),
  {
    // folio_lock_anon_vma_read: the folio's anon_vma (folio->mapping), read-locked
    anon_lock: (k, l) => {
      const K = kern(k);
      if (!folio_test_anon(k.w, K, l.f)) return k.ret(0);
      l.av = k.w.get(K.fSlot(l.f, F_MAPPING)) - 1;
      return k.down_read(K.vma(l.av).anon_vma_lock) ? 'vma' : BLOCKED;
    },
    // anon_vma_interval_tree_foreach: the VMA of this anon_vma, at vma_address(folio)
    vma: (k, l) => {
      const K = kern(k);
      const v = K.vma(l.av);
      l.vpn = k.w.get(K.fSlot(l.f, F_INDEX));
      if (l.vpn < v.start || l.vpn >= v.end) return 'anon_unlock';
      l.mm = v.mm;
      // try_to_unmap_one: mmu_notifier_range_init(MMU_NOTIFY_CLEAR, ...)
      return k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.vpn, end: l.vpn + 1 }, 'walk');
    },
    walk: (k, l) => k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'locked'), // page_vma_mapped_walk
    locked: (k, l) => {
      if (k.rv === 0) return 'notify_end';
      const K = kern(k);
      const S = swapOf(k);
      const m = k.w;
      l.t = pmd_table(k.rv);
      const i = pte_index(l.vpn);
      const pte = ptep_get(k, K, l.t, i);
      if (!pte_present(pte) || pfn_folio(pte_pfn(pte)) !== l.f) return 'ptl_unlock';
      const s = folio_swap(m, S, l.f); // page_swap_entry(subpage)
      const exclusive = PageAnonExclusive(m, K, l.f);
      const pteval = ptep_get_and_clear(k, K, l.t, i); // ptep_clear_flush
      if (pte_dirty(pteval)) folio_set_flag(m, K, l.f, PG_dirty);
      if (!swap_duplicate(m, S, s)) {
        set_pte_at(k, K, l.t, i, pteval);
        k.note(() => `try_to_unmap_one: swap_duplicate(slot ${s}) failed: PTE restored`);
        return 'ptl_unlock';
      }
      // folio_try_share_anon_rmap_pte: fails for a maybe-pinned exclusive page (GUP may write to it)
      if (exclusive && folio_maybe_dma_pinned(m, K, l.f)) {
        swap_free(k, S, s);
        set_pte_at(k, K, l.t, i, pteval);
        k.note(() => `try_to_unmap_one: folio ${l.f} is pinned (folio_try_share_anon_rmap_pte failed): PTE restored, walk aborted`);
        return 'ptl_unlock';
      }
      folio_clear_flag(m, K, l.f, PG_anon_exclusive);
      set_pte_at(k, K, l.t, i, mk_swap_pte(s, exclusive ? _PAGE_SWP_EXCLUSIVE : 0));
      folio_remove_rmap(k, K, l.f);
      l.hit = 1;
      k.note(() => `try_to_unmap_one: vpn ${l.vpn} now swap entry (slot ${s}${exclusive ? ', exclusive' : ''}); folio ${l.f} unmapped`);
      return 'ptl_unlock';
    },
    ptl_unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'put' : ENDED),
    put: (k, l) => {
      if (l.hit) folio_put(k, kern(k), l.f);
      l.hit = 0;
      return 'notify_end';
    },
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.vpn, end: l.vpn + 1 }, 'anon_unlock'),
    anon_unlock: (k, l) => (k.up_read(kern(k).vma(l.av).anon_vma_lock) ? k.ret(0) : ENDED),
  },
);
