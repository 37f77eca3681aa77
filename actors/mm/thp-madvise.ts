/**
 * madvise(MADV_HUGEPAGE) and madvise(MADV_COLLAPSE), v6.10–v6.12 mm/madvise.c and mm/khugepaged.c.
 *
 * MADV_HUGEPAGE: madvise_need_mmap_write → mmap_write_lock; madvise_behavior → hugepage_madvise
 * (VM_HUGEPAGE set, VM_NOHUGEPAGE cleared, khugepaged_enter_vma); madvise_update_vma →
 * vma_start_write + vm_flags_reset. From then on anonymous faults may map THPs (thp-fault.ts).
 *
 * MADV_COLLAPSE: under mmap_read_lock (madvise_need_mmap_write is 0 for it), madvise_collapse
 * collapses synchronously in the calling thread, reusing khugepaged's paths: an anonymous VMA
 * through hpage_collapse_scan_pmd → collapse_huge_page (which drops mmap_lock and takes it for
 * write), a shmem VMA through hpage_collapse_scan_file → collapse_file → collapse_pte_mapped_thp
 * with install_pmd (khugepaged_scan_file, after mmap_read_unlock); out_maybelock takes mmap_lock
 * again for the caller; the result maps to an errno by madvise_collapse_errno.
 *
 * Simplified: one pmd per call (the pmd of `page`); the collapse_control is khugepaged's
 * (max_ptes_none and the referenced check apply; MADV_COLLAPSE has no such limits); no
 * lru_add_drain_all; VM_NOHUGEPAGE is not modelled.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { EAGAIN, EBUSY, EINVAL, ENOMEM, HPAGE_PMD_NR, VM_HUGEPAGE, VM_SHARED } from '../../src/kernel/defs.js';
import { kern, VMA_FLAGS } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { hpage_collapse_scan_pmd } from '../khugepaged/anon.js';
import {
  MMAP_UNLOCKED,
  SCAN_ALLOC_HUGE_PAGE_FAIL,
  SCAN_EXCEED_NONE_PTE,
  SCAN_PAGE_COUNT,
  SCAN_PAGE_FILLED,
  SCAN_PAGE_LOCK,
  SCAN_PMD_MAPPED,
  SCAN_SUCCEED,
  scanName,
} from '../khugepaged/common.js';
import { khugepaged_scan_file } from '../khugepaged/file.js';
import { mmap_write_unlock, vm_flags, vma_attached, vma_start_write } from './common.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

/** madvise(MADV_HUGEPAGE) over a VMA: args [mm, vma]; 0 or -ENOMEM (unmapped). */
export const madvise_hugepage = kproc(
  'madvise_hugepage',
  'mm/madvise.c: madvise_behavior → mm/khugepaged.c: hugepage_madvise; madvise_update_vma',
  (a: { mm: MmId; vma: VmaId }) => ({ mm: a.mm, vma: a.vma }),
  {
    lock: (k, l) => (k.down_write(kern(k).mm(l.mm).mmap_lock) ? 'vma_start_write' : BLOCKED),
    vma_start_write: (k, l) => {
      const K = kern(k);
      if (!vma_attached(k.w, K, l.vma)) return mmap_write_unlock(k, K, l.mm) ? k.ret(ENOMEM) : ENDED;
      return vma_start_write(k, K, l.vma) ? 'set' : BLOCKED;
    },
    set: (k, l) => {
      const K = kern(k);
      k.w.set(K.vmaSlot(l.vma, VMA_FLAGS), vm_flags(k.w, K, l.vma) | VM_HUGEPAGE); // vm_flags_reset
      k.note(() => `hugepage_madvise: ${K.vma(l.vma).name} VM_HUGEPAGE`);
      return mmap_write_unlock(k, K, l.mm) ? k.ret(0) : ENDED;
    },
  },
);

/** madvise_collapse_errno: the errno MADV_COLLAPSE reports for a failed scan result. */
export function madvise_collapse_errno(r: number): number {
  if (r === SCAN_ALLOC_HUGE_PAGE_FAIL) return ENOMEM;
  if (r === SCAN_EXCEED_NONE_PTE) return EBUSY; // (and SCAN_CGROUP_CHARGE_FAIL)
  if (r === SCAN_PAGE_COUNT || r === SCAN_PAGE_LOCK || r === SCAN_PAGE_FILLED) return EAGAIN; // "trying again might succeed"
  return EINVAL;
}

/** madvise(MADV_COLLAPSE) of the pmd holding `vpn`: args [mm, vma, vpn]; 0 or -errno. */
export const madvise_collapse = kproc(
  'madvise_collapse',
  'mm/madvise.c: madvise_vma_behavior → mm/khugepaged.c: madvise_collapse',
  (a: { mm: MmId; vma: VmaId; vpn: number }) => ({ mm: a.mm, vma: a.vma, haddr: a.vpn - (a.vpn % HPAGE_PMD_NR), r: 0 }),
  {
    lock: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      const h = K.vma(l.vma);
      // thp_vma_allowable_order(vma, vm_flags, 0, PMD_ORDER): private anon or shmem, the whole pmd in the VMA
      const shmem = h.memfd >= 0 && !K.mapping(h.memfd).hugetlb;
      const anon = h.memfd < 0 && !(vm_flags(k.w, K, l.vma) & VM_SHARED);
      if (!vma_attached(k.w, K, l.vma) || !(anon || shmem) || l.haddr < h.start || l.haddr + HPAGE_PMD_NR > h.end) {
        l.r = -1;
        return 'unlock';
      }
      if (anon) return k.call(hpage_collapse_scan_pmd, { mm: l.mm, vma: l.vma, haddr: l.haddr }, 'anon_done');
      return 'file_unlock';
    },
    anon_done: (k, l) => {
      l.r = k.rv & ~MMAP_UNLOCKED;
      k.note(() => `madvise_collapse: ${scanName(l.r)}`);
      return k.rv & MMAP_UNLOCKED ? 'relock' : 'unlock';
    },
    // "IS_ENABLED(CONFIG_SHMEM) && vma->vm_file": mmap_read_unlock, hpage_collapse_scan_file
    file_unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'file_scan' : ENDED),
    file_scan: (k, l) => k.call(khugepaged_scan_file, { mm: l.mm, vma: l.vma, haddr: l.haddr, install: 1 }, 'file_done'),
    file_done: (k, l) => {
      l.r = k.rv;
      k.note(() => `madvise_collapse: ${scanName(l.r)}`);
      return 'relock';
    },
    // out_maybelock: "Caller expects us to hold mmap_lock on return"
    relock: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'unlock' : BLOCKED),
    unlock: (k, l) => {
      if (!k.up_read(kern(k).mm(l.mm).mmap_lock)) return ENDED;
      if (l.r < 0) return k.ret(EINVAL);
      return k.ret(l.r === SCAN_SUCCEED || l.r === SCAN_PMD_MAPPED ? 0 : madvise_collapse_errno(l.r));
    },
  },
);
