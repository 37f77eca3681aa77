/**
 * collapse_pte_mapped_thp (mm/khugepaged.c, 2023: "with mmap_read_lock()"): with mmap_lock held only
 * for read and the huge page-cache folio locked, check that every PTE of the pmd maps that folio,
 * clear them, retract the table under pmd lock + PTL (pmd_same recheck) and, when asked
 * (MADV_COLLAPSE), map the folio with a huge pmd (set_huge_pmd → do_set_pmd). For a uffd-armed
 * private VMA the pmd lock is taken first: "userfaultfd's mfill_atomic_pte() on a private VMA
 * inserts a valid as-if-COWed PTE without even looking up page cache" ("mm/khugepaged: fix
 * collapse_pte_mapped_thp() versus uffd", a98460494b16, v6.5; Fixes: 1043173eb5eb). Switch
 * `before_fix_collapse_pte_mapped_thp_vs_uffd` runs the code before it (v6.5-rc1..rc6): the ptl is
 * dropped after step 2 for every VMA and "Huge page lock is still held, so page table must remain
 * empty" takes pml, then ptl, in step 4 — a UFFDIO_COPY in between puts an anonymous PTE into the
 * table that is then retracted. The pmd_same rechecks after pte_offset_map_rw_nolock and in step 4
 * are v6.13's; the pre-fix pte_offset_map_lock retried instead (no difference here: the folio lock
 * keeps other collapsers, the only other pmd changers, out).
 *
 * Simplified: the PTE check is "maps this folio" (the fault model maps large page-cache folios by
 * their first page); the clearing loop under the PTL is one step.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { _PAGE_DIRTY, _PAGE_RW, folio_pfn, HPAGE_PMD_NR, HPAGE_PMD_ORDER, mk_huge_pmd, pfn_folio, pmd_none, pmd_table, pte_none, pte_pfn, pte_present, VM_SHARED } from '../../src/kernel/defs.js';
import { filemap_get_folio } from '../../src/kernel/filemap.js';
import { folio_add_rmap, folio_get, folio_lock, folio_put, folio_remove_rmap, folio_unlock } from '../../src/kernel/folio.js';
import { F_REF, kern, VMA_ATTACHED } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_clear_table, pmd_index, pmdp_get, pte_free_defer, pte_offset_map_lock, pte_offset_map_rw_nolock, pte_unmap_unlock, set_pmd } from '../../src/kernel/pgtable.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { folio_order, pmdText, userfaultfd_armed, userfaultfd_wp, vmFlags } from '../uffd/common.js';
import { check_pmd_state } from './anon.js';
import { SCAN_FAIL, SCAN_PAGE_COMPOUND, SCAN_PAGE_NULL, SCAN_PMD_MAPPED, SCAN_PMD_NONE, SCAN_PMD_NULL, SCAN_PTE_NON_PRESENT, SCAN_PTE_UFFD_WP, SCAN_SUCCEED, SCAN_VMA_CHECK } from './common.js';
import { type MmId, NO_FOLIO, NO_TABLE, NO_VMA } from '../../src/kernel/ids.js';

/** Selects the code before "mm/khugepaged: fix collapse_pte_mapped_thp() versus uffd" (a98460494b16). */
const BEFORE_UFFD_FIX = 'before_fix_collapse_pte_mapped_thp_vs_uffd';

/** The PTEs of table t that do not map folio f: -1 if all do (or are none), else a SCAN_* code. */
function checkPtes(k: Ctx, t: number, f: number): number {
  const K = kern(k);
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = k.w.get(K.pteSlot(t, i));
    if (pte_none(pte)) continue;
    if (!pte_present(pte)) return SCAN_PTE_NON_PRESENT; // page swapped out, abort
    if (pfn_folio(pte_pfn(pte)) !== f) return SCAN_FAIL; // uprobe, debugger or MAP_PRIVATE COW: not a subpage
  }
  return -1;
}

/** collapse_pte_mapped_thp(mm, addr, install_pmd): args [mm, haddr, install]; mmap_lock held for read. */
export const collapse_pte_mapped_thp = kproc(
  'collapse_pte_mapped_thp',
  'mm/khugepaged.c: collapse_pte_mapped_thp',
  (a: { mm: MmId; haddr: number; install: number }) => ({ mm: a.mm, haddr: a.haddr, install: a.install, vma: NO_VMA, f: NO_FOLIO, t: NO_TABLE, pgt: 0, pml: 0, ptl: 0, nr: 0, r: SCAN_FAIL, notified: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      const m = k.w;
      l.vma = K.find_vma(l.mm, l.haddr); // vma_lookup
      if (l.vma < 0 || !m.get(K.vmaSlot(l.vma, VMA_ATTACHED)) || K.vma(l.vma).memfd < 0 || K.vma(l.vma).end < l.haddr + HPAGE_PMD_NR) return k.ret(SCAN_VMA_CHECK);
      if (check_pmd_state(pmdp_get(m, K, l.mm, pmd_index(l.haddr))) === SCAN_PMD_MAPPED) return k.ret(SCAN_PMD_MAPPED); // already PMD-mapped
      if (userfaultfd_wp(m, K, l.vma)) return k.ret(SCAN_PTE_UFFD_WP); // keep the table for PTE markers
      // filemap_lock_folio(mapping, linear_page_index(vma, haddr))
      l.f = filemap_get_folio(m, K, K.vma(l.vma).memfd, K.linear_page_index(l.vma, l.haddr));
      if (l.f < 0) return k.ret(SCAN_PAGE_NULL);
      folio_get(m, K, l.f);
      return 'lock_folio';
    },
    lock_folio: (k, l) => (folio_lock(k, kern(k), l.f) ? 'order' : BLOCKED),
    order: (k, l) => {
      const K = kern(k);
      if (folio_order(k.w, K, l.f) !== HPAGE_PMD_ORDER) return drop(l, SCAN_PAGE_COMPOUND);
      const r = check_pmd_state(pmdp_get(k.w, K, l.mm, pmd_index(l.haddr)));
      if (r === SCAN_PMD_NONE || r === SCAN_PMD_NULL) return 'maybe_install'; // all PTEs and the pmd already gone
      if (r !== SCAN_SUCCEED) return drop(l, r);
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.haddr) }, 'step1');
    },
    // step 1: check all mapped PTEs are to the right huge page
    step1: (k, l) => {
      if (k.rv === 0) return drop(l, SCAN_FAIL); // mmap_lock + page lock should prevent this
      l.t = pmd_table(k.rv);
      const r = checkPtes(k, l.t, l.f);
      if (r >= 0) {
        l.r = r;
        return 'abort_unlock1';
      }
      return 'unlock1';
    },
    abort_unlock1: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'drop_folio' : ENDED),
    unlock1: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'notify' : ENDED),
    notify: (k, l) => {
      l.notified = 1;
      return k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.haddr, end: l.haddr + HPAGE_PMD_NR }, 'uffd_pml');
    },
    uffd_pml: (k, l) => {
      const K = kern(k);
      if (!userfaultfd_armed(k.w, K, l.vma) || vmFlags(k.w, K, l.vma) & VM_SHARED) return 'map2';
      if (k.sw(BEFORE_UFFD_FIX)) return 'map2'; // 1043173eb5eb: the ptl is dropped after step 2, the pml taken only in step 4
      if (!k.spin_lock(K.mm(l.mm).page_table_lock)) return BLOCKED;
      l.pml = 1;
      return 'map2';
    },
    map2: (k, l) => {
      const K = kern(k);
      l.pgt = pte_offset_map_rw_nolock(k, K, l.mm, pmd_index(l.haddr));
      if (!l.pgt) {
        l.r = SCAN_FAIL;
        return 'abort';
      }
      l.t = pmd_table(l.pgt);
      return 'lock2';
    },
    lock2: (k, l) => {
      if (!k.spin_lock(kern(k).ptlOf(l.t), l.pml ? 1 : 0)) return BLOCKED; // spin_lock / spin_lock_nested under pml
      l.ptl = 1;
      return 'same2';
    },
    same2: (k, l) => {
      const K = kern(k);
      if (pmdp_get(k.w, K, l.mm, pmd_index(l.haddr)) !== l.pgt) return abort(l, SCAN_FAIL);
      // step 2: clear page table and adjust rmap (PTEs of other pages abort)
      const r = checkPtes(k, l.t, l.f);
      if (r >= 0) return abort(l, r);
      for (let i = 0; i < HPAGE_PMD_NR; i++) {
        const pte = k.w.get(K.pteSlot(l.t, i));
        if (pte_none(pte)) continue;
        k.w.set(K.pteSlot(l.t, i), 0); // clear_ptes
        folio_remove_rmap(k, K, l.f);
        l.nr++;
      }
      k.note(() => `collapse_pte_mapped_thp: ${l.nr} PTE(s) of folio ${l.f} cleared in table ${l.t}`);
      return l.pml ? 'refs' : 'unlock_ptl2';
    },
    unlock_ptl2: (k, l) => {
      if (!k.spin_unlock(kern(k).ptlOf(l.t))) return ENDED;
      l.ptl = 0;
      return 'refs';
    },
    refs: (k, l) => {
      // step 3: set proper refcount (folio_ref_sub(folio, nr_mapped_ptes))
      const K = kern(k);
      k.w.set(K.fSlot(l.f, F_REF), k.w.get(K.fSlot(l.f, F_REF)) - l.nr);
      l.nr = 0;
      return l.pml ? 'flush' : 'pml4';
    },
    // step 4: remove empty page table
    pml4: (k, l) => {
      if (!k.spin_lock(kern(k).mm(l.mm).page_table_lock)) return BLOCKED;
      l.pml = 1;
      return 'ptl4';
    },
    ptl4: (k, l) => {
      if (!k.spin_lock(kern(k).ptlOf(l.t), 1)) return BLOCKED;
      l.ptl = 1;
      return 'same4';
    },
    same4: (k, l) => (pmdp_get(k.w, kern(k), l.mm, pmd_index(l.haddr)) === l.pgt ? 'flush' : abort(l, SCAN_FAIL)),
    flush: (k, l) => {
      const K = kern(k);
      const old = pmd_clear_table(k.w, K, l.mm, pmd_index(l.haddr)); // pmdp_collapse_flush
      k.note(() => `collapse_pte_mapped_thp: pmd ${pmd_index(l.haddr)} ${pmdText(old)} retracted under mmap_lock read`);
      return 'unlock_all';
    },
    unlock_all: (k, l) => {
      if (!pte_unmap_unlock(k, kern(k), l.t)) return ENDED;
      l.ptl = 0;
      return 'unlock_pml';
    },
    unlock_pml: (k, l) => {
      if (!k.spin_unlock(kern(k).mm(l.mm).page_table_lock)) return ENDED;
      l.pml = 0;
      return 'notify_end';
    },
    notify_end: (k, l) => {
      l.notified = 0;
      return k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.haddr, end: l.haddr + HPAGE_PMD_NR }, 'free');
    },
    free: (k, l) => {
      pte_free_defer(k, kern(k), l.t);
      return 'maybe_install';
    },
    // step 5: install pmd entry (set_huge_pmd → do_set_pmd)
    maybe_install: (k, l) => {
      if (!l.install) return drop(l, SCAN_SUCCEED);
      return k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'install' : BLOCKED;
    },
    install: (k, l) => {
      const K = kern(k);
      const pmd = pmd_index(l.haddr);
      l.r = SCAN_FAIL;
      if (pmd_none(pmdp_get(k.w, K, l.mm, pmd))) {
        // do_set_pmd: folio_add_file_rmap_pmd + set_pmd_at (private mappings map the cache read-only)
        const w = (vmFlags(k.w, K, l.vma) & VM_SHARED) !== 0 ? _PAGE_RW | _PAGE_DIRTY : 0;
        folio_add_rmap(k.w, K, l.f);
        folio_get(k.w, K, l.f);
        set_pmd(k.w, K, l.mm, pmd, mk_huge_pmd(folio_pfn(l.f), w));
        l.r = SCAN_SUCCEED;
        k.note(() => `collapse_pte_mapped_thp: pmd ${pmd} → huge page-cache folio ${l.f} (under mmap_lock read)`);
      }
      return 'install_unlock';
    },
    install_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'drop_folio' : ENDED),
    abort: (k, l) => {
      // abort / unlock: release what is held, then the notifier
      const K = kern(k);
      if (l.ptl) {
        l.ptl = 0;
        return pte_unmap_unlock(k, K, l.t) ? 'abort' : ENDED;
      }
      if (l.pml) {
        l.pml = 0;
        return k.spin_unlock(K.mm(l.mm).page_table_lock) ? 'abort' : ENDED;
      }
      if (l.nr) {
        k.w.set(K.fSlot(l.f, F_REF), k.w.get(K.fSlot(l.f, F_REF)) - l.nr);
        l.nr = 0;
      }
      if (l.notified) {
        l.notified = 0;
        return k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.haddr, end: l.haddr + HPAGE_PMD_NR }, 'drop_folio');
      }
      return 'drop_folio';
    },
    drop_folio: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'put' : ENDED),
    put: (k, l) => {
      folio_put(k, kern(k), l.f);
      return k.ret(l.r);
    },
  },
);

function drop(l: { r: number }, r: number): 'drop_folio' {
  l.r = r;
  return 'drop_folio';
}
function abort(l: { r: number }, r: number): 'abort' {
  l.r = r;
  return 'abort';
}
