/**
 * Anonymous THP faults, v6.10–v6.12 mm/memory.c and mm/huge_memory.c: __handle_mm_fault sends a
 * fault on a none pmd of a VMA that may map a PMD-sized THP (thp_vma_allowable_order: here
 * VM_HUGEPAGE, the sysfs "madvise" mode) to create_huge_pmd → do_huge_pmd_anonymous_page. A read
 * fault maps the huge zero page (set_huge_zero_folio, with a page table deposited for a later
 * split); a write fault allocates a THP (__do_huge_pmd_anonymous_page). Both recheck pmd_none under
 * the pmd lock and deliver a MISSING userfault instead of mapping. VM_FAULT_FALLBACK (no THP folio)
 * sends the fault on to the PTE level.
 *
 * Simplified: the huge zero folio always exists (mm_get_huge_zero_folio never fails); no memcg
 * charge, no check_stable_address_space (no OOM reaper), no deferred-split queue; the THP's
 * contents are zero (clear_huge_page folded into the allocation). Since v6.13 ("mm: allocate THP
 * on hugezeropage wp-fault", 1ced09e0331f) a write to the huge zero pmd allocates a THP; this model
 * follows v6.12 and earlier (split, then PTE-level fault: huge-fault.ts).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  FAULT_FLAG_WRITE,
  folio_pfn,
  HPAGE_PMD_NR,
  HPAGE_PMD_ORDER,
  HUGE_ZERO_PMD,
  mk_huge_pmd,
  pmd_none,
  VM_FAULT_FALLBACK,
  VM_FAULT_OOM,
  VM_HUGEPAGE,
  VM_SHARED,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import { folio_add_new_anon_rmap, folio_alloc, folio_put } from '../../src/kernel/folio.js';
import { type Kernel, kern, type Mem } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_alloc_one, pte_free, set_pmd } from '../../src/kernel/pgtable.js';
import { pgtable_trans_huge_deposit } from '../khugepaged/common.js';
import { fault_anon_vma_prepare, userfaultfd_missing, vm_flags } from './common.js';
import { handle_userfault } from './userfault.js';
import { type MmId, type VmaId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';

/**
 * thp_vma_allowable_order(vma, vm_flags, TVA_IN_PF | TVA_ENFORCE_SYSFS, PMD_ORDER) for an
 * anonymous VMA in "madvise" mode, with thp_vma_suitable_order: VM_HUGEPAGE, private anonymous,
 * and the whole pmd range of `vpn` inside the VMA.
 */
export function thp_vma_allowable(m: Mem, K: Kernel, vma: number, vpn: number): boolean {
  const h = K.vma(vma);
  if (h.memfd >= 0 || h.hugetlb_vma_lock >= 0) return false;
  if ((vm_flags(m, K, vma) & (VM_HUGEPAGE | VM_SHARED)) !== VM_HUGEPAGE) return false;
  const haddr = vpn - (vpn % HPAGE_PMD_NR);
  return haddr >= h.start && haddr + HPAGE_PMD_NR <= h.end;
}

/** do_huge_pmd_anonymous_page(vmf): args [mm, vma, vpn, fault flags]; vm_fault_t (VM_FAULT_FALLBACK: map PTEs). */
export const do_huge_pmd_anonymous_page = kproc(
  'do_huge_pmd_anonymous_page',
  'mm/huge_memory.c: do_huge_pmd_anonymous_page / __do_huge_pmd_anonymous_page',
  (a: { mm: MmId; vma: VmaId; vpn: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, flags: a.flags, haddr: a.vpn - (a.vpn % HPAGE_PMD_NR), t: NO_TABLE, f: NO_FOLIO }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (!fault_anon_vma_prepare(k, K, l.vma, l.flags)) return ENDED; // vmf_anon_prepare
      if (!(l.flags & FAULT_FLAG_WRITE)) {
        // "pgtable = pte_alloc_one(vma->vm_mm)"; zero_folio = mm_get_huge_zero_folio(vma->vm_mm)
        l.t = pte_alloc_one(k, K, l.mm, pmd_index(l.haddr));
        return l.t < 0 ? k.ret(VM_FAULT_OOM) : 'zero_lock';
      }
      // __do_huge_pmd_anonymous_page: vma_alloc_folio(HPAGE_PMD_ORDER), then pte_alloc_one
      l.f = folio_alloc(k.w, K, HPAGE_PMD_ORDER);
      if (l.f < 0) {
        k.note(() => 'do_huge_pmd_anonymous_page: no THP folio, VM_FAULT_FALLBACK');
        return k.ret(VM_FAULT_FALLBACK);
      }
      l.t = pte_alloc_one(k, K, l.mm, pmd_index(l.haddr));
      if (l.t < 0) {
        folio_put(k, K, l.f);
        return k.ret(VM_FAULT_OOM);
      }
      return 'thp_lock';
    },
    zero_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'zero_check' : BLOCKED), // vmf->ptl = pmd_lock
    zero_check: (k, l) => {
      const K = kern(k);
      const pmd = pmd_index(l.haddr);
      if (!pmd_none(pmdp_get(k.w, K, l.mm, pmd))) return 'unlock_free';
      if (userfaultfd_missing(k.w, K, l.vma)) return 'uffd_unlock';
      // set_huge_zero_folio: pgtable_trans_huge_deposit + set_pmd_at(pmd_mkhuge(zero))
      pgtable_trans_huge_deposit(k, l.mm, pmd, l.t);
      set_pmd(k.w, K, l.mm, pmd, HUGE_ZERO_PMD);
      k.note(() => `do_huge_pmd_anonymous_page: pmd ${pmd} → huge zero page (table ${l.t} deposited)`);
      l.t = NO_TABLE;
      return 'unlock_ret';
    },
    thp_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'thp_check' : BLOCKED),
    thp_check: (k, l) => {
      const K = kern(k);
      const pmd = pmd_index(l.haddr);
      if (!pmd_none(pmdp_get(k.w, K, l.mm, pmd))) return 'unlock_free'; // unlock_release
      if (userfaultfd_missing(k.w, K, l.vma)) return 'uffd_unlock'; // "Deliver the page fault to userland"
      // mk_huge_pmd + maybe_pmd_mkwrite(pmd_mkdirty); folio_add_new_anon_rmap; deposit; set_pmd_at
      const w = vm_flags(k.w, K, l.vma) & VM_WRITE ? _PAGE_RW | _PAGE_DIRTY : _PAGE_DIRTY;
      folio_add_new_anon_rmap(k.w, K, l.f, l.vma, l.haddr);
      pgtable_trans_huge_deposit(k, l.mm, pmd, l.t);
      set_pmd(k.w, K, l.mm, pmd, mk_huge_pmd(folio_pfn(l.f), w));
      k.note(() => `__do_huge_pmd_anonymous_page: pmd ${pmd} → THP folio ${l.f} (table ${l.t} deposited)`);
      l.f = NO_FOLIO;
      l.t = NO_TABLE;
      return 'unlock_ret';
    },
    unlock_ret: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? k.ret(0) : ENDED),
    // the pmd is no longer none: spin_unlock, pte_free, folio_put; the fault is retried
    unlock_free: (k, l) => {
      const K = kern(k);
      if (!k.spin_unlock(K.mm(l.mm).page_table_lock)) return ENDED;
      pte_free(k.w, K, l.t);
      if (l.f >= 0) folio_put(k, K, l.f);
      return k.ret(0);
    },
    uffd_unlock: (k, l) => {
      const K = kern(k);
      if (!k.spin_unlock(K.mm(l.mm).page_table_lock)) return ENDED;
      pte_free(k.w, K, l.t);
      if (l.f >= 0) folio_put(k, K, l.f);
      l.f = NO_FOLIO;
      return k.call(handle_userfault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags }, 'uffd_done');
    },
    uffd_done: (k) => k.ret(k.rv),
  },
);
