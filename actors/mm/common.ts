/** Small helpers shared by the MM code paths. */
import type { Ctx } from '../../src/engine/ctx.js';
import { _PAGE_DIRTY, _PAGE_RW, FAULT_FLAG_VMA_LOCK, is_zero_pfn, pfn_folio, pte_pfn, pte_present, pte_special, VM_SHARED, VM_UFFD_MINOR, VM_UFFD_MISSING, VM_WRITE } from '../../src/kernel/defs.js';
import { type Kernel, type Mem, VMA_ANON_VMA, VMA_ATTACHED, VMA_FLAGS, VMA_WRITE_LOCKED } from '../../src/kernel/kernel.js';
import { type FolioId, NO_FOLIO } from '../../src/kernel/ids.js';

export const vm_flags = (m: Mem, K: Kernel, vma: number): number => m.get(K.vmaSlot(vma, VMA_FLAGS));
export const vma_attached = (m: Mem, K: Kernel, vma: number): boolean => m.get(K.vmaSlot(vma, VMA_ATTACHED)) !== 0;
export const userfaultfd_missing = (m: Mem, K: Kernel, vma: number): boolean => (vm_flags(m, K, vma) & VM_UFFD_MISSING) !== 0;
export const userfaultfd_minor = (m: Mem, K: Kernel, vma: number): boolean => (vm_flags(m, K, vma) & VM_UFFD_MINOR) !== 0;

/**
 * anon_vma_prepare / vmf_anon_prepare. Simplified: one anon_vma per VMA, attached in one step
 * (the kernel's __anon_vma_prepare takes anon_vma_lock_write and mm->page_table_lock around it).
 */
export function anon_vma_prepare(k: Ctx, K: Kernel, vma: number): number {
  const s = K.vmaSlot(vma, VMA_ANON_VMA);
  if (k.w.get(s) === 0) k.w.set(s, vma + 1);
  return k.w.get(s) - 1;
}

/**
 * anon_vma_prepare in a fault handler: with FAULT_FLAG_VMA_LOCK (the fault holds only the VMA read
 * lock) and no anon_vma yet, __anon_vma_prepare would run find_mergeable_anon_vma, which "uses
 * adjacent vmas which are not locked" (v6.4 lock_vma_under_rcu refuses such VMAs for that reason;
 * today's __anon_vma_prepare asserts mmap_assert_locked and vmf_anon_prepare returns
 * VM_FAULT_RETRY): an `invariant` verdict. False: the run ended.
 */
export function fault_anon_vma_prepare(k: Ctx, K: Kernel, vma: number, flags: number): boolean {
  if (flags & FAULT_FLAG_VMA_LOCK && k.w.get(K.vmaSlot(vma, VMA_ANON_VMA)) === 0) {
    k.violated(`__anon_vma_prepare of VMA ${K.vma(vma).name} under the VMA lock without mmap_lock (find_mergeable_anon_vma reads unlocked neighbouring VMAs)`);
    return false;
  }
  anon_vma_prepare(k, K, vma);
  return true;
}

/**
 * The protection bits a file PTE gets (vma->vm_page_prot + maybe_mkwrite): shared writable
 * mappings without write-notify (shmem, hugetlbfs) map writable even on read faults; a write fault
 * also sets dirty. Private file mappings map the page cache read-only.
 */
export function filePteFlags(flags: number, write: boolean): number {
  if ((flags & (VM_SHARED | VM_WRITE)) !== (VM_SHARED | VM_WRITE)) return 0;
  return _PAGE_RW | (write ? _PAGE_DIRTY : 0);
}

/** vm_normal_folio: the folio a present PTE maps, or -1 (zero page, special/PFNMAP). */
export function vm_normal_folio(pte: number): FolioId {
  if (!pte_present(pte) || pte_special(pte) || is_zero_pfn(pte_pfn(pte))) return NO_FOLIO;
  return pfn_folio(pte_pfn(pte));
}

/**
 * lock_vma_under_rcu / vma_start_read (v6.8–v6.14 include/linux/mm.h, mm/memory.c): the per-VMA
 * read lock is only ever trylocked, and refused while the VMA is write-locked (vm_lock_seq ==
 * mm_lock_seq) or detached; the caller falls back to mmap_read_lock. True when the VMA is
 * read-locked; vma_end_read = k.up_read(K.vma(vma).vma_lock).
 */
export function lock_vma_under_rcu(k: Ctx, K: Kernel, vma: number): boolean {
  if (!vma_attached(k.w, K, vma) || k.w.get(K.vmaSlot(vma, VMA_WRITE_LOCKED))) return false;
  return k.down_read_trylock(K.vma(vma).vma_lock);
}

/**
 * vma_start_write (v6.8–v6.14 include/linux/mm.h): under mmap_write_lock, down_write(&vm_lock->lock)
 * (waits for the VMA's readers), vm_lock_seq = mm_lock_seq, up_write. The rwsem is held only inside
 * this step (what lockdep sees); the VMA stays write-locked for vma_start_read until
 * vma_end_write_all. False: the thread blocked (return BLOCKED).
 */
export function vma_start_write(k: Ctx, K: Kernel, vma: number): boolean {
  const s = K.vmaSlot(vma, VMA_WRITE_LOCKED);
  if (k.w.get(s)) return true; // __is_vma_write_locked
  if (!k.down_write(K.vma(vma).vma_lock)) return false;
  k.w.set(s, 1);
  return k.up_write(K.vma(vma).vma_lock);
}

/** vma_end_write_all (mmap_write_unlock, mmap_write_downgrade): mm_lock_seq++ unlocks every VMA of the mm. */
export function vma_end_write_all(k: Ctx, K: Kernel, mm: number): void {
  for (const vma of K.mm(mm).vmas) {
    const s = K.vmaSlot(vma, VMA_WRITE_LOCKED);
    if (k.w.get(s)) k.w.set(s, 0);
  }
}

/** mmap_write_unlock: vma_end_write_all, then up_write(&mm->mmap_lock). */
export function mmap_write_unlock(k: Ctx, K: Kernel, mm: number): boolean {
  vma_end_write_all(k, K, mm);
  return k.up_write(K.mm(mm).mmap_lock);
}
