/**
 * Unmapping (mm/memory.c, mm/hugetlb.c): unmap_page_range → zap_pte_range clears PTEs under the
 * PTL (taken through pte_offset_map_lock), removes the rmap and drops the mapping's reference;
 * zap_page_range_single brackets it with mmu_notifier_invalidate_range_start/end.
 * __unmap_hugepage_range does the same for huge pmds under the huge PTL (the pmd lock), and so
 * does zap_huge_pmd for a THP pmd (freeing an anonymous one's deposited table); a THP pmd of an
 * anonymous VMA only partly in the range is split first (zap_pmd_range → __split_huge_pmd).
 * Simplified: the mmu_gather batch is flushed per PTE (the folio reference is dropped right after
 * its PTE is cleared, still under the PTL, instead of after tlb_finish_mmu).
 *
 * Page-table reclaim (v6.14, pt-reclaim.ts): with `reclaim` (zap_details.reclaim_pt, MADV_DONTNEED
 * under config_pt_reclaim) a zap_pte_range over a whole table frees it once empty: the fast path
 * try_get_and_clear_pmd under the PTL, else try_to_free_pte's recheck. need_resched() is a
 * scenario parameter (`resched`: the vpn at which it is seen true once, the PTL dropped, cond_resched,
 * `goto retry`); force_break (a full mmu_gather batch) is not modelled. The two sides of "mm:
 * pgtable: fix incorrect reclaim of non-empty PTE pages" are the switch pt_reclaim_fix_incorrect_reclaim.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { is_huge_zero_pmd, pmd_is_table, pmd_none, pmd_pfn, pmd_table, pmd_trans_huge, pfn_folio, PTRS_PER_PTE } from '../../src/kernel/defs.js';
import { folio_put, folio_remove_rmap, folio_set_flag, folio_test_anon } from '../../src/kernel/folio.js';
import { PG_dirty } from '../../src/kernel/defs.js';
import { pte_dirty } from '../../src/kernel/defs.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_free, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, ptep_get_and_clear, set_pmd } from '../../src/kernel/pgtable.js';
import { pgtable_trans_huge_withdraw } from '../khugepaged/common.js';
import { split_huge_pmd } from '../khugepaged/split.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from './notifier.js';
import { vm_normal_folio } from './common.js';
import { free_pte, PT_RECLAIM_FIX, try_get_and_clear_pmd, try_to_free_pte } from './pt-reclaim.js';
import { type MmId, type VmaId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';

/**
 * zap_huge_pmd's work under the pmd lock (mm/huge_memory.c, v6.10–v6.12), after
 * pmdp_huge_get_and_clear_full: the huge zero pmd and an anonymous THP free their deposited table
 * (zap_deposited_table: pgtable_trans_huge_withdraw + pte_free); a file THP has none on x86
 * (arch_needs_pgtable_deposit). A missing deposit is a verdict (the fault or collapse leaked it).
 */
function zap_huge_pmd_locked(k: Ctx, mm: number, vma: number, pmd: number, v: number, f: number): void {
  const K = kern(k);
  if (!is_huge_zero_pmd(v) && !(f >= 0 && folio_test_anon(k.w, K, f))) {
    k.note(() => `zap_huge_pmd: pmd ${pmd} unmapped file THP folio ${f}`);
    return;
  }
  const t = pgtable_trans_huge_withdraw(k, mm, pmd);
  if (t < 0) {
    k.violated(`zap_huge_pmd: anonymous huge pmd ${pmd} of ${K.vma(vma).name} has no deposited page table to free`);
    return;
  }
  pte_free(k.w, K, t);
  k.note(() => `zap_huge_pmd: pmd ${pmd} ${is_huge_zero_pmd(v) ? 'huge zero page' : `THP folio ${f}`} unmapped, deposited table ${t} freed`);
}

/**
 * unmap_page_range over [start, end) of a VMA: args [mm, vma, start vpn, end vpn, even_cows, and
 * optionally reclaim (zap_details.reclaim_pt) and resched (need_resched() seen at that vpn)].
 * With even_cows = 0 (unmap_mapping_range of a file), anon COW folios in private mappings stay
 * (zap_details / should_zap_folio). Locals of zap_pte_range: `start`/`tend` its range in the
 * current table, `can` can_reclaim_pt, `direct` direct_reclaim, `pmdval` what the fast path cleared.
 */
export const zap_page_range = kproc(
  'zap_page_range',
  'mm/memory.c: unmap_page_range → zap_pmd_range → zap_pte_range; mm/hugetlb.c: __unmap_hugepage_range',
  (a: { mm: MmId; vma: VmaId; vpn: number; end: number; even_cows: number; reclaim?: number; resched?: number }) => ({
    mm: a.mm,
    vma: a.vma,
    vpn: a.vpn,
    end: a.end,
    even_cows: a.even_cows,
    reclaim: a.reclaim ?? 0,
    resched: a.resched ?? -1,
    t: NO_TABLE,
    f: NO_FOLIO,
    huge: 0,
    start: 0,
    tend: 0,
    can: 0,
    direct: 0,
    pmdval: 0,
  }),
  {
    pmd: (k, l) => {
      if (l.vpn >= l.end) return k.ret(0);
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      if (pmd_trans_huge(v)) {
        // zap_pmd_range: a THP range not covered whole is split first (__split_huge_pmd), then zapped by PTEs
        const h = K.vma(l.vma);
        const partial = l.vpn % PTRS_PER_PTE !== 0 || l.end < l.vpn + PTRS_PER_PTE;
        if (partial && h.memfd < 0 && h.hugetlb_vma_lock < 0) return k.call(split_huge_pmd, { mm: l.mm, vma: l.vma, address: l.vpn }, 'pmd');
        return 'huge_lock';
      }
      if (pmd_none(v) || !pmd_is_table(v)) return 'next_pmd';
      // zap_pte_range: can_reclaim_pt = reclaim_pt_is_enabled(start, end, details) (a whole table);
      // direct_reclaim = false (v6.14-rc1) / true (the fix)
      l.start = l.vpn;
      l.tend = Math.min(l.end, (pmd_index(l.vpn) + 1) * PTRS_PER_PTE);
      l.can = l.reclaim && l.tend - l.start >= PTRS_PER_PTE ? 1 : 0;
      l.direct = k.sw(PT_RECLAIM_FIX) ? 1 : 0;
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'locked');
    },
    // retry: the PTL was dropped midway (need_resched); map and lock the table again
    retry: (k, l) => k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'relocked'),
    relocked: (k, l) => {
      if (k.rv === 0) return endPteRange(l); // if (!pte) return addr: zap_pmd_range looks at the pmd again
      l.t = pmd_table(k.rv);
      return 'pte';
    },
    next_pmd: (_k, l) => {
      l.vpn = (pmd_index(l.vpn) + 1) * PTRS_PER_PTE;
      return 'pmd';
    },
    locked: (k, l) => {
      if (k.rv === 0) return endPteRange(l); // the table went away: look at the pmd again
      l.t = pmd_table(k.rv);
      return 'pte';
    },
    pte: (k, l) => {
      const K = kern(k);
      if (l.vpn === l.resched) {
        // if (need_resched()) { direct_reclaim = false (the fix); break; }
        l.resched = -1;
        if (k.sw(PT_RECLAIM_FIX)) l.direct = 0;
        k.note(() => `zap_pte_range: need_resched() at vpn ${l.vpn}: drop the PTL, cond_resched, retry`);
        return 'unlock';
      }
      const f = vm_normal_folio(ptep_get(k, K, l.t, pte_index(l.vpn)));
      if (f >= 0 && !l.even_cows && folio_test_anon(k.w, K, f) && K.vma(l.vma).memfd >= 0) {
        l.can = 0; // any_skipped
        return 'next_pte';
      } // keep COWed pages
      const old = ptep_get_and_clear(k, K, l.t, pte_index(l.vpn));
      l.f = vm_normal_folio(old);
      if (l.f < 0) return 'next_pte';
      if (pte_dirty(old)) folio_set_flag(k.w, K, l.f, PG_dirty);
      k.note(() => `zap_pte_range: vpn ${l.vpn} unmapped folio ${l.f}`);
      return 'rmap';
    },
    rmap: (k, l) => {
      folio_remove_rmap(k, kern(k), l.f);
      return 'put';
    },
    put: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'next_pte';
    },
    next_pte: (k, l) => {
      l.vpn++;
      if (l.vpn < l.end && pte_index(l.vpn) !== 0) return 'pte';
      return l.can && (l.direct || !k.sw(PT_RECLAIM_FIX)) ? 'fast' : 'unlock';
    },
    // Fast path: if (can_reclaim_pt [&& direct_reclaim] && addr == end) direct_reclaim = try_get_and_clear_pmd()
    fast: (k, l) => {
      const K = kern(k);
      l.pmdval = try_get_and_clear_pmd(k, K, l.mm, pmd_index(l.start));
      l.direct = l.pmdval ? 1 : 0;
      k.note(() => (l.direct ? `zap_pte_range: try_get_and_clear_pmd cleared pmd ${pmd_index(l.start)} (table ${l.t})` : 'zap_pte_range: pmd lock busy, slow path'));
      return 'unlock';
    },
    unlock: (k, l) => {
      if (!pte_unmap_unlock(k, kern(k), l.t)) return ENDED;
      if (l.vpn < l.tend) return 'retry'; // if (addr != end) { cond_resched(); goto retry; }
      l.t = NO_TABLE;
      if (!l.can) return endPteRange(l);
      const pmd = pmd_index(l.start);
      const direct = l.direct;
      if (direct) free_pte(k, kern(k), pmd_table(l.pmdval));
      endPteRange(l);
      return direct ? 'pmd' : k.call(try_to_free_pte, { mm: l.mm, pmd }, 'pmd');
    },
    // huge pmd (hugetlb): huge_pte_lock, huge_ptep_get_and_clear, hugetlb_remove_rmap, put
    huge_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'huge_clear' : BLOCKED),
    huge_clear: (k, l) => {
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      l.f = NO_FOLIO;
      if (pmd_trans_huge(v)) {
        set_pmd(k.w, K, l.mm, pmd_index(l.vpn), 0);
        l.f = is_huge_zero_pmd(v) ? NO_FOLIO : pfn_folio(pmd_pfn(v));
        if (K.vma(l.vma).hugetlb_vma_lock >= 0) k.note(() => `__unmap_hugepage_range: vpn ${l.vpn} unmapped hugetlb folio ${l.f}`);
        else zap_huge_pmd_locked(k, l.mm, l.vma, pmd_index(l.vpn), v, l.f);
      }
      return 'huge_rmap';
    },
    huge_rmap: (k, l) => {
      if (l.f >= 0) folio_remove_rmap(k, kern(k), l.f);
      return 'huge_unlock';
    },
    huge_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'huge_put' : ENDED),
    huge_put: (k, l) => {
      if (l.f >= 0) folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'next_pmd';
    },
  },
);

/** zap_pte_range returns: its locals are dead until the next table (so they add no states). */
function endPteRange(l: { start: number; tend: number; can: number; direct: number; pmdval: number }): 'pmd' {
  l.start = 0;
  l.tend = 0;
  l.can = 0;
  l.direct = 0;
  l.pmdval = 0;
  return 'pmd';
}

/**
 * zap_page_range_single / unmap_hugepage_range: the notifier-bracketed unmap of [start, end) in
 * one VMA. Args [mm, vma, start vpn, end vpn, even_cows, optionally reclaim and resched as above].
 */
export const zap_page_range_single = kproc(
  'zap_page_range_single',
  'mm/memory.c: zap_page_range_single (mm/hugetlb.c: unmap_hugepage_range)',
  (a: { mm: MmId; vma: VmaId; start: number; end: number; even_cows: number; reclaim?: number; resched?: number }) => ({
    mm: a.mm,
    vma: a.vma,
    start: a.start,
    end: a.end,
    even_cows: a.even_cows,
    reclaim: a.reclaim ?? 0,
    resched: a.resched ?? -1,
  }),
  {
    start: (k, l) => k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.start, end: l.end }, 'zap'),
    zap: (k, l) => k.call(zap_page_range, { mm: l.mm, vma: l.vma, vpn: l.start, end: l.end, even_cows: l.even_cows, reclaim: l.reclaim, resched: l.resched }, 'end'),
    end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.start, end: l.end }, 'done'),
    done: (k) => k.ret(0),
  },
);
