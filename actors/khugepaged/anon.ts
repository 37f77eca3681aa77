/**
 * khugepaged's anonymous collapse (mm/khugepaged.c), the scan: khugepaged_scan_mm_slot →
 * hpage_collapse_scan_pmd (under mmap_read_lock, PTEs scanned under the PTL) → collapse_huge_page
 * (anon-collapse.ts), which drops mmap_lock and collapses the pmd.
 *
 * Simplified: one pass over one pmd; no swap-in, no LRU (every folio counts as on the LRU and young);
 * PTE-mapped large folios are not collapsed again (SCAN_PAGE_COMPOUND); the scan loop under the PTL
 * is one step.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { ENDED } from '../../src/engine/proc.js';
import { HPAGE_PMD_NR, is_zero_pfn, pmd_table, pte_none, pte_pfn, pte_present, _PAGE_UFFD_WP } from '../../src/kernel/defs.js';
import { folio_mapcount, folio_ref_count, folio_test_anon, folio_test_locked } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_offset_map_lock, pte_unmap_unlock } from '../../src/kernel/pgtable.js';
import { vm_normal_folio } from '../mm/common.js';
import { folio_test_large, userfaultfd_armed } from '../uffd/common.js';
import { collapse_huge_page } from './anon-collapse.js';
import {
  MAX_PTES_NONE,
  MAX_PTES_SHARED,
  MMAP_UNLOCKED,
  SCAN_ANY_PROCESS,
  SCAN_EXCEED_NONE_PTE,
  SCAN_EXCEED_SHARED_PTE,
  SCAN_FAIL,
  SCAN_LACK_REFERENCED_PAGE,
  SCAN_PAGE_ANON,
  SCAN_PAGE_COMPOUND,
  SCAN_PAGE_COUNT,
  SCAN_PAGE_LOCK,
  SCAN_PAGE_NULL,
  SCAN_PMD_NULL,
  SCAN_PTE_NON_PRESENT,
  SCAN_PTE_UFFD_WP,
  SCAN_SUCCEED,
  scanName,
} from './common.js';
import { check_pmd_state, revalidate } from './revalidate.js';
import { type MmId, type VmaId, NO_TABLE } from '../../src/kernel/ids.js';

/** Re-exported for the file paths (file.ts, pte-mapped.ts). */
export { check_pmd_state } from './revalidate.js';

/**
 * khugepaged_scan_mm_slot for one anonymous pmd: args [mm, vma, haddr]; returns the scan result.
 * mmap_read_trylock (khugepaged gives up this pass when a writer holds mmap_lock).
 */
export const khugepaged_scan_anon = kproc(
  'khugepaged_scan_mm_slot',
  'mm/khugepaged.c: khugepaged_scan_mm_slot (anonymous VMA)',
  (a: { mm: MmId; vma: VmaId; haddr: number }) => ({ mm: a.mm, vma: a.vma, haddr: a.haddr, r: 0 }),
  {
    trylock: (k, l) => {
      if (k.down_read_trylock(kern(k).mm(l.mm).mmap_lock)) return 'scan';
      k.note(() => 'khugepaged: mmap_read_trylock failed, pass skipped');
      return k.ret(SCAN_ANY_PROCESS);
    },
    scan: (k, l) => {
      const r = revalidate(k, l.mm, l.vma); // hugepage_vma_check / thp_vma_allowable_order
      if (r !== SCAN_SUCCEED) {
        l.r = r;
        return 'unlock';
      }
      return k.call(hpage_collapse_scan_pmd, { mm: l.mm, vma: l.vma, haddr: l.haddr }, 'scanned');
    },
    scanned: (k, l) => {
      l.r = k.rv & ~MMAP_UNLOCKED;
      k.note(() => `khugepaged: ${scanName(l.r)}`);
      return k.rv & MMAP_UNLOCKED ? k.ret(l.r) : 'unlock';
    },
    unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(l.r) : ENDED),
  },
);

/** hpage_collapse_scan_pmd: args [mm, vma, haddr]; result | MMAP_UNLOCKED if collapse_huge_page ran. */
export const hpage_collapse_scan_pmd = kproc(
  'hpage_collapse_scan_pmd',
  'mm/khugepaged.c: hpage_collapse_scan_pmd',
  (a: { mm: MmId; vma: VmaId; haddr: number }) => ({ mm: a.mm, vma: a.vma, haddr: a.haddr, t: NO_TABLE, r: SCAN_FAIL }),
  {
    find: (k, l) => {
      const r = check_pmd_state(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.haddr))); // find_pmd_or_thp_or_none
      if (r !== SCAN_SUCCEED) return k.ret(r);
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.haddr) }, 'scan');
    },
    scan: (k, l) => {
      if (k.rv === 0) return k.ret(SCAN_PMD_NULL);
      l.t = pmd_table(k.rv);
      l.r = scanPtes(k, l.vma, l.t);
      return 'unlock';
    },
    unlock: (k, l) => {
      if (!pte_unmap_unlock(k, kern(k), l.t)) return ENDED;
      if (l.r !== SCAN_SUCCEED) return k.ret(l.r);
      return k.call(collapse_huge_page, { mm: l.mm, vma: l.vma, haddr: l.haddr }, 'collapsed');
    },
    collapsed: (k) => k.ret(k.rv | MMAP_UNLOCKED), // collapse_huge_page returns with mmap_lock released
  },
);

/** The PTE checks of hpage_collapse_scan_pmd (made under the PTL). */
function scanPtes(k: Ctx, vma: number, t: number): number {
  const K = kern(k);
  const m = k.w;
  let none = 0;
  let shared = 0;
  let referenced = 0;
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = m.get(K.pteSlot(t, i));
    if (pte_none(pte) || (pte_present(pte) && is_zero_pfn(pte_pfn(pte)))) {
      none++;
      // any none PTE in a uffd-armed VMA fails: collapsing would swallow a MISSING fault
      if (userfaultfd_armed(m, K, vma) || none > MAX_PTES_NONE) return SCAN_EXCEED_NONE_PTE;
      continue;
    }
    if (!pte_present(pte)) return SCAN_PTE_NON_PRESENT; // swap entries: no swap-in modelled
    if (pte & _PAGE_UFFD_WP) return SCAN_PTE_UFFD_WP;
    const f = vm_normal_folio(pte);
    if (f < 0) return SCAN_PAGE_NULL;
    if (!folio_test_anon(m, K, f)) return SCAN_PAGE_ANON;
    if (folio_test_large(m, K, f)) return SCAN_PAGE_COMPOUND;
    if (folio_mapcount(m, K, f) > 1 && ++shared > MAX_PTES_SHARED) return SCAN_EXCEED_SHARED_PTE;
    if (folio_test_locked(k, K, f)) return SCAN_PAGE_LOCK;
    if (folio_ref_count(m, K, f) !== folio_mapcount(m, K, f)) return SCAN_PAGE_COUNT; // GUP or other pins
    referenced++;
  }
  return referenced ? SCAN_SUCCEED : SCAN_LACK_REFERENCED_PAGE;
}
