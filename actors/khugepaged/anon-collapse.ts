/**
 * collapse_huge_page (mm/khugepaged.c), called by hpage_collapse_scan_pmd (anon.ts) with mmap_lock
 * held for read: drop mmap_lock, allocate, mmap_write_lock, revalidate, vma_start_write,
 * anon_vma_lock_write, pmd_lock, pmdp_collapse_flush, isolate the old folios under the old table's
 * PTL (on the stack copy of the pmd), copy, install the huge pmd with the old table deposited. Its
 * comment: "UFFDIO_MOVE is prevented to race as well thanks to the mmap_lock".
 *
 * Variant switch khugepaged_anon_mmap_read — the rework Jann Horn anticipates in seed 001: the
 * collapse keeps mmap_lock for *read* (no mmap_write_lock, no vma_start_write) and, as the file paths
 * do (retract_page_tables, collapse_pte_mapped_thp), takes the old table's PTL nested in the pmd lock
 * around pmdp_collapse_flush, so that "holders of the mmap lock in read mode can only synchronize
 * against this by taking the right page table spinlock and rechecking the pmd value".
 *
 * Switch collapse_check_pmd_before_vma_start_write — the order of v6.5..v6.17-rc1:
 * check_pmd_still_valid, then vma_start_write. Safe while every PT_RECLAIM caller held mmap_lock;
 * once MADV_DONTNEED ran under a per-VMA lock (v6.17-rc1, a6fde7add78d) it could free the table in
 * between ("mm: fix the race between collapse and PT_RECLAIM under per-vma lock", Barry Song,
 * Aug 2025, moved vma_start_write first: this model's default). pmdp_collapse_flush then returns a
 * none pmd, pte_offset_map_lock(&_pmd) NULL (SCAN_PMD_NULL), and the failure path re-populates the
 * pmd with pmd_pgtable(_pmd) of that none pmd: a verdict here.
 *
 * Simplified: no swap-in, no LRU (every folio counts as on the LRU and young); PTE-mapped large
 * folios are not collapsed again (SCAN_PAGE_COMPOUND); the folio data word is not copied (the huge
 * folio starts with data 0).
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  folio_pfn,
  HPAGE_PMD_NR,
  HPAGE_PMD_ORDER,
  is_zero_pfn,
  mk_huge_pmd,
  pmd_is_table,
  pmd_none,
  pmd_table,
  pte_none,
  pte_pfn,
  pte_present,
  _PAGE_UFFD_WP,
} from '../../src/kernel/defs.js';
import {
  folio_add_new_anon_rmap,
  folio_alloc,
  folio_mapcount,
  folio_put,
  folio_ref_count,
  folio_remove_rmap,
  folio_trylock,
  folio_unlock,
} from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_clear_table, pmd_index, pmd_populate, pmdp_get, rcu_read_unlock, set_pmd } from '../../src/kernel/pgtable.js';
import { mmap_write_unlock, vm_normal_folio, vma_start_write } from '../mm/common.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { folio_test_large, pmdText, userfaultfd_armed } from '../uffd/common.js';
import {
  MAX_PTES_NONE,
  pgtable_trans_huge_deposit,
  SCAN_ALLOC_HUGE_PAGE_FAIL,
  SCAN_EXCEED_NONE_PTE,
  SCAN_EXCEED_SHARED_PTE,
  SCAN_FAIL,
  SCAN_LACK_REFERENCED_PAGE,
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
import { type MmId, type VmaId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';

const READ_REWORK = 'khugepaged_anon_mmap_read';
/** The pre-fix order (v6.5..v6.17-rc1): check_pmd_still_valid before vma_start_write. */
export const COLLAPSE_CHECK_PMD_FIRST = 'collapse_check_pmd_before_vma_start_write';
/** collapse_huge_page: args [mm, vma, haddr]; entered with mmap_lock read held, returns with it released. */
export const collapse_huge_page = kproc(
  'collapse_huge_page',
  'mm/khugepaged.c: collapse_huge_page',
  (a: { mm: MmId; vma: VmaId; haddr: number }) => ({ mm: a.mm, vma: a.vma, haddr: a.haddr, f: NO_FOLIO, t: NO_TABLE, old: 0, r: SCAN_FAIL, i: 0, iso: 0, none: 0, write: 0, cur: -1 }),
  {
    unlock_read: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'alloc' : ENDED),
    alloc: (k, l) => {
      l.f = folio_alloc(k.w, kern(k), HPAGE_PMD_ORDER); // alloc_charge_folio
      if (l.f < 0) {
        l.r = SCAN_ALLOC_HUGE_PAGE_FAIL;
        return 'out_nolock';
      }
      return 'relock';
    },
    relock: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'reval' : BLOCKED),
    reval: (k, l) => {
      l.r = revalidate(k, l.mm, l.vma);
      if (l.r === SCAN_SUCCEED) l.r = check_pmd_state(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.haddr)));
      if (l.r !== SCAN_SUCCEED) return 'out_read';
      if (k.sw(READ_REWORK)) {
        k.note(() => 'collapse_huge_page: collapsing under mmap_lock held for read (khugepaged_anon_mmap_read)');
        return 'check_pmd';
      }
      return 'unlock_read2';
    },
    // "Prevent all access to pagetables with the exception of gup_fast ... UFFDIO_MOVE is prevented
    // to race as well thanks to the mmap_lock."
    unlock_read2: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'lock_write' : ENDED),
    lock_write: (k, l) => {
      if (!k.down_write(kern(k).mm(l.mm).mmap_lock)) return BLOCKED;
      l.write = 1;
      return 'reval_write';
    },
    reval_write: (k, l) => {
      l.r = revalidate(k, l.mm, l.vma);
      if (l.r !== SCAN_SUCCEED) return 'out';
      return k.sw(COLLAPSE_CHECK_PMD_FIRST) ? 'check_pmd_first' : 'vma_start_write';
    },
    // v6.5..v6.17-rc1: /* check if the pmd is still valid */ before vma_start_write(vma)
    check_pmd_first: (k, l) => {
      l.r = check_pmd_state(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.haddr))); // check_pmd_still_valid
      return l.r === SCAN_SUCCEED ? 'vma_start_write' : 'out';
    },
    vma_start_write: (k, l) => {
      if (!vma_start_write(k, kern(k), l.vma)) return BLOCKED; // write-locked until mmap_write_unlock
      return k.sw(COLLAPSE_CHECK_PMD_FIRST) ? 'anon_vma_lock' : 'check_pmd';
    },
    check_pmd: (k, l) => {
      l.r = check_pmd_state(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.haddr))); // check_pmd_still_valid
      return l.r === SCAN_SUCCEED ? 'anon_vma_lock' : 'out';
    },
    anon_vma_lock: (k, l) => (k.down_write(kern(k).vma(l.vma).anon_vma_lock) ? 'notify' : BLOCKED),
    notify: (k, l) => k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.haddr, end: l.haddr + HPAGE_PMD_NR }, 'pmd_lock'),
    pmd_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? (k.sw(READ_REWORK) ? 'ptl_lock' : 'flush') : BLOCKED),
    ptl_lock: (k, l) => {
      const v = pmdp_get(k.w, kern(k), l.mm, pmd_index(l.haddr));
      if (!pmd_is_table(v)) return 'flush'; // nothing to lock: the flush below finds no table
      l.cur = pmd_table(v);
      return k.spin_lock(kern(k).ptlOf(l.cur), 1) ? 'flush' : BLOCKED;
    },
    flush: (k, l) => {
      const K = kern(k);
      // _pmd = pmdp_collapse_flush(vma, address, pmd): the pmd is cleared, the table detached
      l.old = pmd_clear_table(k.w, K, l.mm, pmd_index(l.haddr));
      l.t = l.old ? pmd_table(l.old) : NO_TABLE;
      k.note(() => `collapse_huge_page: pmdp_collapse_flush pmd ${pmd_index(l.haddr)}: ${pmdText(l.old)} detached, pmd none`);
      return l.cur >= 0 ? 'ptl_unlock' : 'pmd_unlock';
    },
    ptl_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).ptlOf(l.cur))) return ENDED;
      l.cur = -1;
      return 'pmd_unlock';
    },
    pmd_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'notify_end' : ENDED),
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.haddr, end: l.haddr + HPAGE_PMD_NR }, 'map_old'),
    // pte_offset_map_lock(mm, &_pmd, ...) on the stack copy: the detached table, under its own PTL
    map_old: (k, l) => {
      if (l.t < 0) {
        // pte == NULL: result = SCAN_PMD_NULL, and the failure path below restores "the" table
        l.r = SCAN_PMD_NULL;
        k.note(() => `collapse_huge_page: pte_offset_map_lock(&_pmd) failed: _pmd is none (${scanName(l.r)})`);
        return 'fail_pmd_lock';
      }
      k.rcu_read_lock();
      return 'lock_old';
    },
    lock_old: (k, l) => (k.spin_lock(kern(k).ptlOf(l.t)) ? 'isolate' : BLOCKED),
    isolate: (k, l) => {
      // __collapse_huge_page_isolate, one PTE a step (each folio_trylock is visible)
      const K = kern(k);
      const m = k.w;
      if (l.i >= HPAGE_PMD_NR) {
        l.r = l.iso ? SCAN_SUCCEED : SCAN_LACK_REFERENCED_PAGE;
        return l.r === SCAN_SUCCEED ? 'iso_unlock' : 'release';
      }
      const pte = m.get(K.pteSlot(l.t, l.i));
      const i = l.i++;
      if (pte_none(pte) || (pte_present(pte) && is_zero_pfn(pte_pfn(pte)))) {
        if (userfaultfd_armed(m, K, l.vma) || ++l.none > MAX_PTES_NONE) return failIso(k, l, SCAN_EXCEED_NONE_PTE);
        return 'isolate';
      }
      if (!pte_present(pte)) return failIso(k, l, SCAN_PTE_NON_PRESENT);
      if (pte & _PAGE_UFFD_WP) return failIso(k, l, SCAN_PTE_UFFD_WP);
      const f = vm_normal_folio(pte);
      if (f < 0) return failIso(k, l, SCAN_PAGE_NULL);
      if (folio_test_large(m, K, f)) return failIso(k, l, SCAN_PAGE_COMPOUND);
      if (folio_mapcount(m, K, f) > 1) return failIso(k, l, SCAN_EXCEED_SHARED_PTE);
      if (!folio_trylock(k, K, f)) return failIso(k, l, SCAN_PAGE_LOCK);
      if (folio_ref_count(m, K, f) !== folio_mapcount(m, K, f)) {
        folio_unlock(k, K, f);
        return failIso(k, l, SCAN_PAGE_COUNT);
      }
      l.iso |= 1 << i; // folio_isolate_lru: the folio stays locked until the copy is done
      return 'isolate';
    },
    // release_pte_pages on failure, still under the PTL: unlock what was isolated
    release: (k, l) => {
      const i = lowestBit(l.iso);
      if (i < 0) return 'iso_unlock';
      l.iso &= ~(1 << i);
      return folio_unlock(k, kern(k), oldFolio(k, l.t, i)) ? 'release' : ENDED;
    },
    iso_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).ptlOf(l.t))) return ENDED;
      if (l.r === SCAN_SUCCEED) return 'av_unlock';
      k.note(() => `collapse_huge_page: isolation failed (${scanName(l.r)}), restoring the pmd`);
      return rcu_read_unlock(k, kern(k)) ? 'fail_pmd_lock' : ENDED; // pte_unmap
    },
    fail_pmd_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'fail_populate' : BLOCKED),
    fail_populate: (k, l) => {
      const K = kern(k);
      if (k.BUG_ON(!pmd_none(pmdp_get(k.w, K, l.mm, pmd_index(l.haddr))), '!pmd_none(*pmd)')) return ENDED;
      // pmd_populate(mm, pmd, pmd_pgtable(_pmd))
      if (l.t < 0) return k.violated(`collapse_huge_page: pmd_populate of pmd ${pmd_index(l.haddr)} with pmd_pgtable of a none pmd (a bogus page table)`);
      pmd_populate(k.w, K, l.mm, pmd_index(l.haddr), l.t);
      return 'fail_pmd_unlock';
    },
    fail_pmd_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'av_unlock_fail' : ENDED),
    av_unlock_fail: (k, l) => (k.up_write(kern(k).vma(l.vma).anon_vma_lock) ? 'out' : ENDED),
    // All pages are isolated and locked so anon_vma rmap can't run anymore.
    av_unlock: (k, l) => {
      l.i = 0;
      return k.up_write(kern(k).vma(l.vma).anon_vma_lock) ? 'copy' : ENDED;
    },
    // __collapse_huge_page_copy → _copy_succeeded: per isolated folio release_pte_folio (unlock),
    // clear the old PTE and its rmap under the PTL ("ptl mostly unnecessary"), drop the mapping's ref
    copy: (k, l) => {
      const i = lowestBit(l.iso);
      if (i < 0) return 'unmap_old';
      l.i = i;
      l.cur = oldFolio(k, l.t, i);
      return folio_unlock(k, kern(k), l.cur) ? 'copy_lock' : ENDED;
    },
    copy_lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.t)) ? 'copy_clear' : BLOCKED),
    copy_clear: (k, l) => {
      const K = kern(k);
      k.w.set(K.pteSlot(l.t, l.i), 0); // clear_ptes in the table khugepaged itself detached
      folio_remove_rmap(k, K, l.cur);
      return 'copy_unlock';
    },
    copy_unlock: (k, l) => (k.spin_unlock(kern(k).ptlOf(l.t)) ? 'copy_put' : ENDED),
    copy_put: (k, l) => {
      folio_put(k, kern(k), l.cur);
      l.iso &= ~(1 << l.i);
      l.cur = -1;
      return 'copy';
    },
    unmap_old: (k) => (rcu_read_unlock(k, kern(k)) ? 'install_lock' : ENDED), // pte_unmap(pte)
    install_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'install' : BLOCKED),
    install: (k, l) => {
      const K = kern(k);
      const pmd = pmd_index(l.haddr);
      if (k.BUG_ON(!pmd_none(pmdp_get(k.w, K, l.mm, pmd)), '!pmd_none(*pmd)')) return ENDED;
      pgtable_trans_huge_deposit(k, l.mm, pmd, l.t);
      // map_anon_folio_pmd_nopf: the allocation's reference becomes the pmd mapping's
      folio_add_new_anon_rmap(k.w, K, l.f, l.vma, l.haddr);
      set_pmd(k.w, K, l.mm, pmd, mk_huge_pmd(folio_pfn(l.f), _PAGE_RW | _PAGE_DIRTY));
      k.note(() => `collapse_huge_page: pmd ${pmd} → huge folio ${l.f} (table ${l.t} deposited)`);
      l.f = NO_FOLIO;
      l.r = SCAN_SUCCEED;
      return 'install_unlock';
    },
    install_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'out' : ENDED),
    // out_up_write: mmap_write_unlock (vma_end_write_all ends the VMA write lock)
    out: (k, l) => {
      if (l.write === 1) return mmap_write_unlock(k, kern(k), l.mm) ? 'out_nolock' : ENDED;
      return 'out_read';
    },
    out_read: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'out_nolock' : ENDED),
    out_nolock: (k, l) => {
      if (l.f >= 0) folio_put(k, kern(k), l.f);
      k.note(() => `collapse_huge_page: ${scanName(l.r)}`);
      return k.ret(l.r);
    },
  },
);

function failIso(_k: Ctx, l: { r: number }, r: number): 'release' {
  l.r = r;
  return 'release';
}

const lowestBit = (mask: number): number => (mask ? 31 - Math.clz32(mask & -mask) : -1);

/** The folio an isolated old PTE maps (the PTE is stable: the table is detached and ours). */
function oldFolio(k: Ctx, t: number, i: number): number {
  return vm_normal_folio(k.w.get(kern(k).pteSlot(t, i)));
}
