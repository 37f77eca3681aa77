/**
 * retract_page_tables (mm/khugepaged.c; kernel-rules §4), called by collapse_file (file.ts) once the
 * huge folio is in the page cache: it holds ONLY i_mmap_rwsem for read (Hugh Dickins 2023,
 * "retract_page_tables() without mmap or vma lock") and removes the now empty PTE tables of every
 * VMA mapping the range under pmd lock + PTL. The check_pmd_state recheck under the pmd lock is
 * v6.14's ("mm: khugepaged: recheck pmd state in retract_page_tables()", Qi Zheng, PT-reclaim
 * series); v6.5..v6.13 take pte_lockptr of the pmd read before the lock without rechecking it, a
 * difference no race of those kernels reaches (every pmd clearer in them excludes or is this
 * function). PT reclaim (v6.14) is such a clearer, which is why the recheck came with it: switch
 * retract_no_pmd_recheck keeps the v6.13 text (pte_lockptr, pmdp_collapse_flush and pte_free_defer
 * of whatever *pmd is under the pmd lock; a none pmd there is a verdict).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { HPAGE_PMD_NR, pmd_is_table, pmd_table } from '../../src/kernel/defs.js';
import { kern, MM_USERS } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_clear_table, pmd_index, pmdp_get, pte_free_defer } from '../../src/kernel/pgtable.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { pmdText, userfaultfd_wp, vma_anon_vma } from '../uffd/common.js';
import { check_pmd_state } from './anon.js';
import { immapVmas, SCAN_SUCCEED } from './common.js';
import { type MemfdId, type MmId, type VmaId, NO_TABLE, NO_VMA } from '../../src/kernel/ids.js';

/** v6.5..v6.13: no check_pmd_state under the pmd lock ("mm: khugepaged: recheck pmd state in retract_page_tables()", v6.14). */
export const NO_PMD_RECHECK = 'retract_no_pmd_recheck';

/**
 * retract_page_tables(mapping, pgoff): args [mapping, pgoff]. Holds only i_mmap_rwsem for read:
 * "since the mmap_lock is not held, it is still possible for a racing userfaultfd_ioctl() to have
 * inserted ptes or markers" — so anon_vma and userfaultfd_wp are rechecked under the PTL.
 */
export const retract_page_tables = kproc(
  'retract_page_tables',
  'mm/khugepaged.c: retract_page_tables',
  (a: { map: MemfdId; pgoff: number }) => ({ map: a.map, pgoff: a.pgoff, j: 0, vma: NO_VMA, mm: 0 as MmId, addr: 0, t: NO_TABLE, ok: 0 }),
  {
    lock: (k, l) => (k.down_read(kern(k).mapping(l.map).i_mmap_rwsem) ? 'vma' : BLOCKED), // i_mmap_lock_read
    vma: (k, l) => {
      const K = kern(k);
      const m = k.w;
      const vmas = immapVmas(k, l.map);
      while (l.j < vmas.length) {
        const v = vmas[l.j++] as VmaId;
        const h = K.vma(v);
        // READ_ONCE(vma->anon_vma): MAP_PRIVATE mappings that got written to are skipped
        if (vma_anon_vma(m, K, v) >= 0) {
          k.note(() => `retract_page_tables: ${h.name} has an anon_vma, skipped`);
          continue;
        }
        const addr = h.start + (l.pgoff - h.pgoff);
        if (l.pgoff < h.pgoff || addr % HPAGE_PMD_NR !== 0 || h.end < addr + HPAGE_PMD_NR) continue;
        if (check_pmd_state(pmdp_get(m, K, h.mm, pmd_index(addr))) !== SCAN_SUCCEED) continue; // find_pmd_or_thp_or_none
        if (m.get(K.mm(h.mm).base + MM_USERS) === 0) continue; // hpage_collapse_test_exit
        if (userfaultfd_wp(m, K, v)) continue; // PTE markers may be installed
        l.vma = v;
        l.mm = h.mm;
        l.addr = addr;
        l.ok = 0;
        return k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.addr, end: l.addr + HPAGE_PMD_NR }, 'pml');
      }
      return 'unlock';
    },
    pml: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'state' : BLOCKED),
    state: (k, l) => {
      // the huge folio is still locked: faults block, so only the pmd *state* needs rechecking
      const v = pmdp_get(k.w, kern(k), l.mm, pmd_index(l.addr));
      if (k.sw(NO_PMD_RECHECK) && !pmd_is_table(v))
        return k.violated(`retract_page_tables: pte_lockptr of ${pmdText(v)} pmd ${pmd_index(l.addr)} under the pmd lock (v6.13: no recheck; its table was freed meanwhile)`);
      if (check_pmd_state(v) !== SCAN_SUCCEED) return 'drop_pml';
      l.t = pmd_table(v); // ptl = pte_lockptr(mm, pmd)
      return 'ptl';
    },
    ptl: (k, l) => (k.spin_lock(kern(k).ptlOf(l.t), 1) ? 'recheck' : BLOCKED), // spin_lock_nested(ptl, SINGLE_DEPTH_NESTING)
    // "it is still possible for a racing userfaultfd_ioctl() to have inserted ptes or markers. Now
    // that we hold ptlock, repeating the anon_vma check protects from one category"
    recheck: (k, l) => {
      const K = kern(k);
      if (vma_anon_vma(k.w, K, l.vma) < 0 && !userfaultfd_wp(k.w, K, l.vma)) return 'flush';
      k.note(() => `retract_page_tables: ${K.vma(l.vma).name} got an anon_vma or uffd-wp meanwhile, kept`);
      return 'ptl_unlock';
    },
    flush: (k, l) => {
      const K = kern(k);
      const old = pmd_clear_table(k.w, K, l.mm, pmd_index(l.addr)); // pmdp_collapse_flush
      l.ok = 1;
      k.note(() => `retract_page_tables: ${K.vma(l.vma).name} pmd ${pmd_index(l.addr)} ${pmdText(old)} retracted, pmd none (no mmap_lock held)`);
      return 'ptl_unlock';
    },
    ptl_unlock: (k, l) => (k.spin_unlock(kern(k).ptlOf(l.t)) ? 'drop_pml' : ENDED),
    drop_pml: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'notify_end' : ENDED),
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.addr, end: l.addr + HPAGE_PMD_NR }, 'free'),
    free: (k, l) => {
      if (l.ok) pte_free_defer(k, kern(k), l.t);
      l.ok = 0;
      return 'vma';
    },
    unlock: (k, l) => (k.up_read(kern(k).mapping(l.map).i_mmap_rwsem) ? k.ret(0) : ENDED),
  },
);
