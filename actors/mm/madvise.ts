/**
 * madvise(MADV_DONTNEED) and munmap.
 *
 * madvise_dontneed_single_vma (mm/madvise.c): under mmap_lock read, zap_page_range_single, which
 * for hugetlb first takes the hugetlb VMA lock and i_mmap_rwsem for write (__hugetlb_zap_begin).
 * munmap (v6.12 mm/vma.c do_vmi_align_munmap / vms_complete_munmap_vmas): mmap_lock write,
 * vma_start_write, detach, mmap_write_downgrade, unmap_vmas (notifier-bracketed zap), free_pgtables
 * (unlink_file_vma under i_mmap_rwsem write, then the pmds cleared and the tables freed after an RCU
 * grace period; hugetlb: hugetlb_zap_begin/end around the zap). Simplified: the hugetlb locks are
 * taken outside the notifier bracket (zap_page_range_single's order, not unmap_vmas'), no VMA split
 * (whole VMAs only), no unlink_anon_vmas (no anon_vma
 * chains in the model: nothing walks anon rmap through an unmapped VMA), no hugetlb-specific
 * hugetlb_free_pgd_range, no mmu_gather batching (each table is freed as its pmd is cleared).
 *
 * MADV_DONTNEED since v6.14 passes zap_details.reclaim_pt (switch config_pt_reclaim: empty PTE
 * tables are freed, pt-reclaim.ts). Since v6.17 ("mm: use per_vma lock for MADV_DONTNEED",
 * a6fde7add78d; the switch madvise_dontneed_per_vma_lock, or the op field `vma_lock` for one call)
 * madvise_lock leaves MADVISE_VMA_READ_LOCK to madvise_walk_vmas → try_vma_read_lock:
 * lock_vma_under_rcu (vma_start_read refused while the VMA is write-locked or a writer waits; a
 * detached VMA → retry), then "Must span only a single VMA; uffd and remote processes are
 * unsupported" → vma_end_read and mmap_read_lock (lock_mode = MADVISE_MMAP_READ_LOCK); the zap then
 * runs under the VMA read lock alone. Simplified: the caller is the local process.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { EINVAL, ENOMEM, PTRS_PER_PTE, VM_LOCKED, VM_PFNMAP } from '../../src/kernel/defs.js';
import { kern, VMA_ATTACHED, VMA_IMMAP, VMA_WRITE_LOCKED } from '../../src/kernel/kernel.js';
import type { Ctx } from '../../src/engine/ctx.js';
import { userfaultfd_armed } from '../uffd/common.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_clear_table, pmd_index, pte_free_defer } from '../../src/kernel/pgtable.js';
import { pmd_table } from '../../src/kernel/defs.js';
import { downgradeWrite } from '../../src/locks/downgrade.js';
import { mmap_write_unlock, vm_flags, vma_attached, vma_end_write_all, vma_start_write } from './common.js';
import { CONFIG_PT_RECLAIM } from './pt-reclaim.js';
import { zap_page_range_single } from './zap.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

const FREE_BEFORE_UNLINK = 'bug_munmap_free_pgtables_before_unlink';
/** MADV_DONTNEED under the per-VMA lock (v6.17, a6fde7add78d "mm: use per_vma lock for MADV_DONTNEED"). */
export const DONTNEED_PER_VMA_LOCK = 'madvise_dontneed_per_vma_lock';

/**
 * madvise(MADV_DONTNEED): args [mm, vma, first page, pages, resched: the VMA page at which
 * need_resched() is seen in zap_pte_range, -1 for none, vl: try the VMA read lock first]; 0,
 * -EINVAL or -ENOMEM (unmapped). `vlocked` is 1 while the VMA read lock (not mmap_lock) is held.
 */
export const madvise_dontneed = kproc(
  'madvise_dontneed',
  'mm/madvise.c: madvise_lock, madvise_dontneed_single_vma → mm/memory.c: zap_page_range_single',
  (a: { mm: MmId; vma: VmaId; page: number; pages: number; resched?: number; vl?: number }) => ({
    mm: a.mm,
    vma: a.vma,
    page: a.page,
    pages: a.pages,
    resched: a.resched ?? -1,
    ret: 0,
    vl: a.vl ?? 0,
    vlocked: 0,
  }),
  {
    lock: (k, l) => {
      if (!l.vl && !k.sw(DONTNEED_PER_VMA_LOCK)) return k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'check' : BLOCKED;
      // try_vma_read_lock → lock_vma_under_rcu: mas_walk
      if (!vma_attached(k.w, kern(k), l.vma)) return madv_fallback(k, 'no VMA');
      return 'vma_start_read';
    },
    vma_start_read: (k, l) => {
      const K = kern(k);
      if (k.w.get(K.vmaSlot(l.vma, VMA_WRITE_LOCKED))) return madv_fallback(k, 'vma_start_read: write-locked (vm_lock_seq == mm_lock_seq)');
      if (!k.down_read_trylock(K.vma(l.vma).vma_lock)) return madv_fallback(k, 'vma_start_read: a writer waits');
      // "Check if the VMA got isolated after we found it": retry the lookup
      if (!vma_attached(k.w, K, l.vma)) return k.up_read(K.vma(l.vma).vma_lock) ? 'lock' : ENDED;
      // "Must span only a single VMA; uffd and remote processes are unsupported"
      if (l.page + l.pages > K.vma(l.vma).pages) return k.up_read(K.vma(l.vma).vma_lock) ? madv_fallback(k, 'the range spans past the VMA') : ENDED;
      if (userfaultfd_armed(k.w, K, l.vma)) return k.up_read(K.vma(l.vma).vma_lock) ? madv_fallback(k, 'userfaultfd_armed') : ENDED;
      l.vlocked = 1;
      k.note(() => `madvise: MADV_DONTNEED under the VMA read lock of ${K.vma(l.vma).name}`);
      return 'check';
    },
    // take_mmap_read_lock: mmap_read_lock(mm); lock_mode = MADVISE_MMAP_READ_LOCK
    mmap_fallback: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      // madvise_walk_vmas: an unmapped range → -ENOMEM
      if (!vma_attached(k.w, K, l.vma)) {
        l.ret = ENOMEM;
        return 'unlock';
      }
      // madvise_dontneed_free_valid_vma: VM_PFNMAP | VM_LOCKED → -EINVAL
      if (vm_flags(k.w, K, l.vma) & (VM_PFNMAP | VM_LOCKED)) {
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
      // madvise_dontneed_single_vma: struct zap_details details = { .reclaim_pt = true, .even_cows = true }
      const K = kern(k);
      const end = Math.min(l.page + l.pages, K.vma(l.vma).pages);
      const reclaim = k.sw(CONFIG_PT_RECLAIM) && K.vma(l.vma).hugetlb_vma_lock < 0 ? 1 : 0;
      const resched = l.resched >= 0 ? K.vpn(l.vma, l.resched) : -1;
      return k.call(zap_page_range_single, { mm: l.mm, vma: l.vma, start: K.vpn(l.vma, l.page), end: K.vpn(l.vma, end), even_cows: 1, reclaim, resched }, 'zapped');
    },
    zapped: (k, l) => (kern(k).vma(l.vma).hugetlb_vma_lock >= 0 ? 'i_mmap_unlock' : 'unlock'),
    i_mmap_unlock: (k, l) => {
      const K = kern(k);
      return k.up_write(K.mapping(K.vma(l.vma).memfd).i_mmap_rwsem) ? 'hugetlb_vma_unlock' : ENDED;
    },
    hugetlb_vma_unlock: (k, l) => (k.up_write(kern(k).vma(l.vma).hugetlb_vma_lock) ? 'unlock' : ENDED),
    // madvise_unlock: vma_end_read under MADVISE_VMA_READ_LOCK, or mmap_read_unlock
    unlock: (k, l) => (k.up_read(l.vlocked ? kern(k).vma(l.vma).vma_lock : kern(k).mm(l.mm).mmap_lock) ? k.ret(l.ret) : ENDED),
  },
);

/** try_vma_read_lock's take_mmap_read_lock: a note, then mmap_read_lock. */
function madv_fallback(k: Ctx, why: string): 'mmap_fallback' {
  k.note(() => `madvise: try_vma_read_lock: ${why}, mmap_read_lock`);
  return 'mmap_fallback';
}

/**
 * munmap of a whole VMA: args [mm, vma]; 0 (also when already unmapped: do_vmi_munmap finds no VMA). v6.12 mm/vma.c:
 * do_vmi_align_munmap (vms_gather_munmap_vmas: vma_start_write; vma_iter_clear_gfp: gone from the
 * tree) → vms_complete_munmap_vmas: mmap_write_downgrade, vms_clear_ptes (unmap_vmas, then
 * mm/memory.c free_pgtables, which hides the VMA from rmap, unlink_file_vma under i_mmap_rwsem
 * write, *before* free_pgd_range frees its page tables), remove_vma, mmap_read_unlock. Switch
 * bug_munmap_free_pgtables_before_unlink: the tables are freed before unlink_file_vma (a planted
 * bug: retract_page_tables, which finds the VMA through i_mmap, can free the same table again).
 */
export const munmap = kproc(
  'munmap',
  'mm/vma.c: do_vmi_align_munmap → vms_complete_munmap_vmas (mmap_write_downgrade, unmap_vmas, free_pgtables)',
  (a: { mm: MmId; vma: VmaId }) => ({ mm: a.mm, vma: a.vma, pmd: 0, ret: 0 }),
  {
    lock: (k, l) => (k.down_write(kern(k).mm(l.mm).mmap_lock) ? 'vma_start_write' : BLOCKED),
    vma_start_write: (k, l) => {
      const K = kern(k);
      // do_vmi_munmap: no VMA in the range → mmap_write_unlock, return 0
      if (!vma_attached(k.w, K, l.vma)) return mmap_write_unlock(k, K, l.mm) ? k.ret(0) : ENDED;
      return vma_start_write(k, K, l.vma) ? 'detach' : BLOCKED;
    },
    detach: (k, l) => {
      k.w.set(kern(k).vmaSlot(l.vma, VMA_ATTACHED), 0); // vma_iter_clear_gfp: gone from the mm's tree
      return 'downgrade';
    },
    downgrade: (k, l) => {
      // mmap_write_downgrade: vma_end_write_all + downgrade_write ("We can free page tables without
      // write-locking mmap_lock because VMAs were isolated before we downgraded mmap_lock")
      const K = kern(k);
      vma_end_write_all(k, K, l.mm);
      return downgradeWrite(k.w, k.tid, K.mm(l.mm).mmap_lock) ? 'unmap' : ENDED;
    },
    // unmap_vmas; for hugetlb, hugetlb_zap_begin (hugetlb VMA lock and i_mmap_rwsem for write)
    unmap: (k, l) => (kern(k).vma(l.vma).hugetlb_vma_lock >= 0 ? 'hugetlb_vma_lock' : 'zap'),
    hugetlb_vma_lock: (k, l) => (k.down_write(kern(k).vma(l.vma).hugetlb_vma_lock) ? 'hugetlb_i_mmap_lock' : BLOCKED),
    hugetlb_i_mmap_lock: (k, l) => {
      const K = kern(k);
      return k.down_write(K.mapping(K.vma(l.vma).memfd).i_mmap_rwsem) ? 'zap' : BLOCKED;
    },
    zap: (k, l) => {
      const v = kern(k).vma(l.vma);
      return k.call(zap_page_range_single, { mm: l.mm, vma: l.vma, start: v.start, end: v.end, even_cows: 1 }, 'zapped');
    },
    zapped: (k, l) => (kern(k).vma(l.vma).hugetlb_vma_lock >= 0 ? 'hugetlb_i_mmap_unlock' : 'free_pgtables'),
    // hugetlb_zap_end
    hugetlb_i_mmap_unlock: (k, l) => {
      const K = kern(k);
      return k.up_write(K.mapping(K.vma(l.vma).memfd).i_mmap_rwsem) ? 'hugetlb_vma_unlock' : ENDED;
    },
    hugetlb_vma_unlock: (k, l) => (k.up_write(kern(k).vma(l.vma).hugetlb_vma_lock) ? 'free_pgtables' : ENDED),
    // free_pgtables: "Hide vma from rmap and truncate_pagecache before freeing pgtables"
    free_pgtables: (k, l) => {
      if (k.sw(FREE_BEFORE_UNLINK)) return 'free_pgd_range';
      return kern(k).vma(l.vma).memfd >= 0 ? 'i_mmap_lock' : 'free_pgd_range';
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
      if (!k.up_write(K.mapping(K.vma(l.vma).memfd).i_mmap_rwsem)) return ENDED;
      return k.sw(FREE_BEFORE_UNLINK) ? 'unlock' : 'free_pgd_range';
    },
    free_pgd_range: (k, l) => {
      // clear each pmd of the VMA and free its table (pte_free_tlb → tlb_remove_table: RCU-deferred)
      const K = kern(k);
      const v = K.vma(l.vma);
      const pmd = pmd_index(v.start) + l.pmd;
      if (pmd * PTRS_PER_PTE >= v.end) return k.sw(FREE_BEFORE_UNLINK) && v.memfd >= 0 ? 'i_mmap_lock' : 'unlock';
      l.pmd++;
      const old = pmd_clear_table(k.w, K, l.mm, pmd);
      if (old) pte_free_defer(k, K, pmd_table(old));
      return 'free_pgd_range';
    },
    // remove_vma, then mmap_read_unlock (the lock was downgraded)
    unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(l.ret) : ENDED),
  },
);
