/**
 * Unmapping (mm/memory.c, mm/hugetlb.c): unmap_page_range → zap_pte_range clears PTEs under the
 * PTL (taken through pte_offset_map_lock), removes the rmap and drops the mapping's reference;
 * zap_page_range_single brackets it with mmu_notifier_invalidate_range_start/end.
 * __unmap_hugepage_range does the same for huge pmds under the huge PTL (the pmd lock).
 * A PTE migration entry is cleared (zap_nonpresent_ptes: no rmap, no reference to drop); a THP or
 * pmd migration entry zapped in part is split first (zap_pmd_range → __split_huge_pmd).
 * Simplified: the mmu_gather batch is flushed per PTE (the folio reference is dropped right after
 * its PTE is cleared, still under the PTL, instead of after tlb_finish_mmu).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { HPAGE_PMD_NR, is_migration_entry, is_pmd_migration_entry, pmd_is_table, pmd_none, pmd_pfn, pmd_table, pmd_trans_huge, pfn_folio, PTRS_PER_PTE } from '../../src/kernel/defs.js';
import { split_huge_pmd } from '../khugepaged/split.js';
import { folio_put, folio_remove_rmap, folio_set_flag, folio_test_anon } from '../../src/kernel/folio.js';
import { PG_dirty } from '../../src/kernel/defs.js';
import { pte_dirty } from '../../src/kernel/defs.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, ptep_get_and_clear, set_pmd } from '../../src/kernel/pgtable.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from './notifier.js';
import { vm_normal_folio } from './common.js';
import { type MmId, type VmaId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';

/**
 * unmap_page_range over [start, end) of a VMA: args [mm, vma, start vpn, end vpn, even_cows].
 * With even_cows = 0 (unmap_mapping_range of a file), anon COW folios in private mappings stay
 * (zap_details / should_zap_folio).
 */
export const zap_page_range = kproc(
  'zap_page_range',
  'mm/memory.c: unmap_page_range → zap_pmd_range → zap_pte_range; mm/hugetlb.c: __unmap_hugepage_range',
  (a: { mm: MmId; vma: VmaId; vpn: number; end: number; even_cows: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, end: a.end, even_cows: a.even_cows, t: NO_TABLE, f: NO_FOLIO, huge: 0 }),
  {
    pmd: (k, l) => {
      if (l.vpn >= l.end) return k.ret(0);
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      // zap_pmd_range: a THP or pmd migration entry not zapped whole is split first (__split_huge_pmd)
      const partial = l.vpn % HPAGE_PMD_NR !== 0 || l.end - l.vpn < HPAGE_PMD_NR;
      if ((pmd_trans_huge(v) || is_pmd_migration_entry(v)) && K.vma(l.vma).hugetlb_vma_lock < 0 && partial)
        return k.call(split_huge_pmd, { mm: l.mm, vma: l.vma, address: l.vpn }, 'pmd');
      if (pmd_trans_huge(v)) return 'huge_lock';
      if (pmd_none(v) || !pmd_is_table(v)) return 'next_pmd';
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'locked');
    },
    next_pmd: (_k, l) => {
      l.vpn = (pmd_index(l.vpn) + 1) * PTRS_PER_PTE;
      return 'pmd';
    },
    locked: (k, l) => {
      if (k.rv === 0) return 'pmd'; // the table went away: look at the pmd again
      l.t = pmd_table(k.rv);
      return 'pte';
    },
    pte: (k, l) => {
      const K = kern(k);
      const f = vm_normal_folio(ptep_get(k, K, l.t, pte_index(l.vpn)));
      if (f >= 0 && !l.even_cows && folio_test_anon(k.w, K, f) && K.vma(l.vma).memfd >= 0) return 'next_pte'; // keep COWed pages
      const old = ptep_get_and_clear(k, K, l.t, pte_index(l.vpn));
      if (is_migration_entry(old)) k.note(() => `zap_nonpresent_ptes: vpn ${l.vpn} migration entry cleared`);
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
    next_pte: (_k, l) => {
      l.vpn++;
      if (l.vpn < l.end && pte_index(l.vpn) !== 0) return 'pte';
      return 'unlock';
    },
    unlock: (k, l) => {
      if (!pte_unmap_unlock(k, kern(k), l.t)) return ENDED;
      l.t = NO_TABLE;
      return 'pmd';
    },
    // huge pmd (hugetlb): huge_pte_lock, huge_ptep_get_and_clear, hugetlb_remove_rmap, put
    huge_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'huge_clear' : BLOCKED),
    huge_clear: (k, l) => {
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      l.f = NO_FOLIO;
      if (pmd_trans_huge(v)) {
        set_pmd(k.w, K, l.mm, pmd_index(l.vpn), 0);
        l.f = pfn_folio(pmd_pfn(v));
        k.note(() => `__unmap_hugepage_range: vpn ${l.vpn} unmapped hugetlb folio ${l.f}`);
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

/**
 * zap_page_range_single / unmap_hugepage_range: the notifier-bracketed unmap of [start, end) in
 * one VMA. Args [mm, vma, start vpn, end vpn, even_cows].
 */
export const zap_page_range_single = kproc(
  'zap_page_range_single',
  'mm/memory.c: zap_page_range_single (mm/hugetlb.c: unmap_hugepage_range)',
  (a: { mm: MmId; vma: VmaId; start: number; end: number; even_cows: number }) => ({ mm: a.mm, vma: a.vma, start: a.start, end: a.end, even_cows: a.even_cows }),
  {
    start: (k, l) => k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.start, end: l.end }, 'zap'),
    zap: (k, l) => k.call(zap_page_range, { mm: l.mm, vma: l.vma, vpn: l.start, end: l.end, even_cows: l.even_cows }, 'end'),
    end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.start, end: l.end }, 'done'),
    done: (k) => k.ret(0),
  },
);
