/**
 * The switches of page-table reclaim (actors/mm/pt-reclaim.ts, zap.ts, madvise.ts) and of the
 * khugepaged order it raced with (actors/khugepaged/anon-collapse.ts).
 */
import { DONTNEED_PER_VMA_LOCK } from '../../actors/mm/madvise.js';
import { CONFIG_PT_RECLAIM, PT_RECLAIM_FIX } from '../../actors/mm/pt-reclaim.js';
import { COLLAPSE_CHECK_PMD_FIRST } from '../../actors/khugepaged/anon-collapse.js';
import { NO_PMD_RECHECK } from '../../actors/khugepaged/retract.js';
import { registerSwitch } from './ops.js';

registerSwitch(
  CONFIG_PT_RECLAIM,
  'CONFIG_PT_RECLAIM (v6.14+): MADV_DONTNEED frees the PTE tables it empties (zap_pte_range: try_get_and_clear_pmd, else try_to_free_pte; pte_free_tlb RCU-deferred)',
);
registerSwitch(
  PT_RECLAIM_FIX,
  'zap_pte_range rechecks every PTE (try_to_free_pte) when the PTL was dropped midway ("mm: pgtable: fix incorrect reclaim of non-empty PTE pages", Feb 2025, Fixes: 6375e95f381e); off: v6.14-rc1, the fast path clears the pmd after a retry',
);
registerSwitch(DONTNEED_PER_VMA_LOCK, 'MADV_DONTNEED under lock_vma_under_rcu, mmap_read_lock as fallback (v6.17: a6fde7add78d "mm: use per_vma lock for MADV_DONTNEED")');
registerSwitch(
  COLLAPSE_CHECK_PMD_FIRST,
  'collapse_huge_page calls check_pmd_still_valid before vma_start_write (v6.5..v6.17-rc1); off: after it, as "mm: fix the race between collapse and PT_RECLAIM under per-vma lock" (Aug 2025, Fixes: a6fde7add78d) ordered them',
);
registerSwitch(
  NO_PMD_RECHECK,
  'retract_page_tables without the check_pmd_state recheck under the pmd lock (v6.5..v6.13; "mm: khugepaged: recheck pmd state in retract_page_tables()", v6.14, came with PT reclaim)',
);
