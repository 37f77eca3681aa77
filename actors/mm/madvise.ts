/**
 * madvise(MADV_DONTNEED) and munmap.
 *
 * madvise_dontneed_single_vma (mm/madvise.c): under mmap_lock read, zap_page_range_single, which
 * for hugetlb first takes the hugetlb VMA lock and i_mmap_rwsem for write (__hugetlb_zap_begin).
 * munmap (mm/vma.c do_vmi_align_munmap / vms_complete_munmap_vmas): mmap_lock write, vma_start_write,
 * detach, unmap_vmas (notifier-bracketed zap), free_pgtables (pmds cleared, tables freed after an
 * RCU grace period; unlink_file_vma under i_mmap_rwsem write).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { EINVAL, PTRS_PER_PTE, VM_LOCKED, VM_PFNMAP } from '../../src/kernel/defs.js';
import { kern, VMA_ATTACHED, VMA_IMMAP } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_clear_table, pmd_index, pte_free_defer } from '../../src/kernel/pgtable.js';
import { pmd_table } from '../../src/kernel/defs.js';
import { vm_flags, vma_attached } from './common.js';
import { zap_page_range_single } from './zap.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

/** madvise(MADV_DONTNEED): args [mm, vma, first page, pages]; 0 or -EINVAL. */
export const madvise_dontneed = kproc(
  'madvise_dontneed',
  'mm/madvise.c: madvise_dontneed_single_vma → mm/memory.c: zap_page_range_single',
  (a: { mm: MmId; vma: VmaId; page: number; pages: number }) => ({ mm: a.mm, vma: a.vma, page: a.page, pages: a.pages, ret: 0 }),
  {
    lock: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      // madvise_dontneed_free_valid_vma: VM_PFNMAP | VM_LOCKED → -EINVAL
      if (!vma_attached(k.w, K, l.vma) || vm_flags(k.w, K, l.vma) & (VM_PFNMAP | VM_LOCKED)) {
        l.ret = EINVAL;
        return 'unlock';
      }
      return K.vma(l.vma).hugetlb_vma_lock >= 0 ? 'hugetlb_vma_lock' : 'zap';
    },
    hugetlb_vma_lock: (k, l) => (k.down_write(kern(k).vma(l.vma).hugetlb_vma_lock) ? 'i_mmap_lock' : BLOCKED),
    i_mmap_lock: (k, l) => {
      const K = kern(k);
      return k.down_write(K.mapping(K.vma(l.vma).memfd).i_mmap_rwsem) ? 'zap' : BLOCKED;
    },
    zap: (k, l) => {
      const K = kern(k);
      const end = Math.min(l.page + l.pages, K.vma(l.vma).pages);
      return k.call(zap_page_range_single, { mm: l.mm, vma: l.vma, start: K.vpn(l.vma, l.page), end: K.vpn(l.vma, end), even_cows: 1 }, 'zapped');
    },
    zapped: (k, l) => (kern(k).vma(l.vma).hugetlb_vma_lock >= 0 ? 'i_mmap_unlock' : 'unlock'),
    i_mmap_unlock: (k, l) => {
      const K = kern(k);
      return k.up_write(K.mapping(K.vma(l.vma).memfd).i_mmap_rwsem) ? 'hugetlb_vma_unlock' : ENDED;
    },
    hugetlb_vma_unlock: (k, l) => (k.up_write(kern(k).vma(l.vma).hugetlb_vma_lock) ? 'unlock' : ENDED),
    unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(l.ret) : ENDED),
  },
);

/** munmap of a whole VMA: args [mm, vma]; 0 (or -EINVAL if already unmapped). */
export const munmap = kproc(
  'munmap',
  'mm/vma.c: do_vmi_align_munmap → vms_complete_munmap_vmas (unmap_vmas, free_pgtables)',
  (a: { mm: MmId; vma: VmaId }) => ({ mm: a.mm, vma: a.vma, pmd: 0, ret: 0 }),
  {
    lock: (k, l) => (k.down_write(kern(k).mm(l.mm).mmap_lock) ? 'vma_start_write' : BLOCKED),
    vma_start_write: (k, l) => {
      if (!vma_attached(k.w, kern(k), l.vma)) {
        l.ret = EINVAL;
        return 'unlock';
      }
      return k.down_write(kern(k).vma(l.vma).vma_lock) ? 'detach' : BLOCKED;
    },
    detach: (k, l) => {
      k.w.set(kern(k).vmaSlot(l.vma, VMA_ATTACHED), 0); // vma_iter_clear: gone from the mm's tree
      return 'unmap';
    },
    unmap: (k, l) => {
      const v = kern(k).vma(l.vma);
      return k.call(zap_page_range_single, { mm: l.mm, vma: l.vma, start: v.start, end: v.end, even_cows: 1 }, 'free_pgtables');
    },
    free_pgtables: (k, l) => {
      // free_pgd_range: clear each pmd of the VMA and free its table (tlb_remove_table: RCU-deferred)
      const K = kern(k);
      const v = K.vma(l.vma);
      const pmd = pmd_index(v.start) + l.pmd;
      if (pmd * PTRS_PER_PTE >= v.end) return v.memfd >= 0 ? 'i_mmap_lock' : 'vma_end_write';
      l.pmd++;
      const old = pmd_clear_table(k.w, K, l.mm, pmd);
      if (old) pte_free_defer(k, K, pmd_table(old));
      return 'free_pgtables';
    },
    i_mmap_lock: (k, l) => {
      const K = kern(k);
      return k.down_write(K.mapping(K.vma(l.vma).memfd).i_mmap_rwsem) ? 'unlink' : BLOCKED;
    },
    unlink: (k, l) => {
      k.w.set(kern(k).vmaSlot(l.vma, VMA_IMMAP), 0); // unlink_file_vma
      return 'i_mmap_unlock';
    },
    i_mmap_unlock: (k, l) => {
      const K = kern(k);
      return k.up_write(K.mapping(K.vma(l.vma).memfd).i_mmap_rwsem) ? 'vma_end_write' : ENDED;
    },
    vma_end_write: (k, l) => (k.up_write(kern(k).vma(l.vma).vma_lock) ? 'unlock' : ENDED),
    unlock: (k, l) => (k.up_write(kern(k).mm(l.mm).mmap_lock) ? k.ret(l.ret) : ENDED),
  },
);
