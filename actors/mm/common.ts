/** Small helpers shared by the MM code paths. */
import type { Ctx } from '../../src/engine/ctx.js';
import { _PAGE_DIRTY, _PAGE_RW, is_zero_pfn, pfn_folio, pte_pfn, pte_present, pte_special, VM_SHARED, VM_UFFD_MINOR, VM_UFFD_MISSING, VM_WRITE } from '../../src/kernel/defs.js';
import { type Kernel, type Mem, VMA_ANON_VMA, VMA_ATTACHED, VMA_FLAGS } from '../../src/kernel/kernel.js';
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
 * lock_vma_under_rcu / vma_start_read (mm/memory.c, include/linux/mm.h): the per-VMA read lock is
 * only ever trylocked (a writer or a detached VMA makes it fail; the caller falls back to
 * mmap_read_lock). True when the VMA is read-locked; vma_end_read = k.up_read(K.vma(vma).vma_lock).
 */
export function lock_vma_under_rcu(k: Ctx, K: Kernel, vma: number): boolean {
  if (!vma_attached(k.w, K, vma)) return false;
  return k.down_read_trylock(K.vma(vma).vma_lock);
}
