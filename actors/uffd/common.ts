/**
 * Helpers shared by the UFFDIO_REMAP (RFC v2) and UFFDIO_MOVE (v6.8 as merged, and today's code) models: mode bits,
 * VMA and folio predicates, anon rmap moves, and the text of trace notes.
 *
 * Scale (src/kernel/defs.ts): a PTE table holds 4 entries, so a "huge" pmd covers 4 pages and a
 * VMA of 4 pages is exactly one pmd. Addresses are virtual page numbers (vpn).
 */
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  folio_pfn,
  HPAGE_PMD_NR,
  is_migration_entry,
  is_pmd_migration_entry,
  is_swap_pte,
  mk_pte,
  PG_anon,
  pmd_is_table,
  pmd_none,
  pmd_pfn,
  pmd_table,
  pmd_trans_huge,
  pte_none,
  pte_pfn,
  pte_present,
  VM_HUGETLB,
  VM_IO,
  VM_LOCKED,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_READ,
  VM_UFFD_MINOR,
  VM_UFFD_MISSING,
  VM_UFFD_WP,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import { F_FLAGS, F_INDEX, F_MAPPING, F_ORDER, type Kernel, type Mem, VMA_ANON_VMA, VMA_FLAGS } from '../../src/kernel/kernel.js';

/** uffdio_move.mode / uffdio_remap.mode bits (include/uapi/linux/userfaultfd.h). */
export const UFFDIO_MODE_DONTWAKE = 1 << 0;
export const UFFDIO_MODE_ALLOW_SRC_HOLES = 1 << 1;

/** VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC; no VM_EXEC in this model). */
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE;
/** __VM_UFFD_FLAGS: stands in for vma->vm_userfaultfd_ctx.ctx (one userfaultfd per process here). */
export const VM_UFFD_FLAGS = VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR;
/** vma_move_compatible: flags whose content cannot be moved (VM_SHADOW_STACK not modelled). */
export const VM_MOVE_INCOMPATIBLE = VM_PFNMAP | VM_IO | VM_HUGETLB | VM_MIXEDMAP;
export { VM_LOCKED };

export const vmFlags = (m: Mem, K: Kernel, vma: number): number => m.get(K.vmaSlot(vma, VMA_FLAGS));
/** vma_is_anonymous: no vm_ops (no backing file). */
export const vma_is_anonymous = (K: Kernel, vma: number): boolean => K.vma(vma).memfd < 0;
/** The vma's anon_vma id, or -1 (one anon_vma per VMA in this model: its id is the VMA's). */
export const vma_anon_vma = (m: Mem, K: Kernel, vma: number): number => m.get(K.vmaSlot(vma, VMA_ANON_VMA)) - 1;
/** userfaultfd_armed: registered in MISSING or WP mode (include/linux/userfaultfd_k.h). */
export const userfaultfd_armed = (m: Mem, K: Kernel, vma: number): boolean => (vmFlags(m, K, vma) & (VM_UFFD_MISSING | VM_UFFD_WP)) !== 0;
export const userfaultfd_wp = (m: Mem, K: Kernel, vma: number): boolean => (vmFlags(m, K, vma) & VM_UFFD_WP) !== 0;

export const folio_test_large = (m: Mem, K: Kernel, f: number): boolean => m.get(K.fSlot(f, F_ORDER)) > 0;
export const folio_order = (m: Mem, K: Kernel, f: number): number => m.get(K.fSlot(f, F_ORDER));
/** The anon_vma lock (anon_vma->root->rwsem) of an anon_vma id (that VMA's anon_vma lock). */
export const anon_vma_lock = (K: Kernel, anonVma: number): number => K.vma(anonVma).anon_vma_lock;

/**
 * folio_get_anon_vma: the folio's anon_vma, or -1 when the folio is not anon or no longer mapped
 * ("page was unmapped from under us"). Simplified: no anon_vma refcount (anon_vmas are never freed here).
 */
export function folio_get_anon_vma(m: Mem, K: Kernel, f: number, mapcount: number): number {
  const flags = m.get(K.fSlot(f, F_FLAGS));
  const mapping = m.get(K.fSlot(f, F_MAPPING));
  if (!(flags & PG_anon) || mapping === 0 || mapcount === 0) return -1;
  return mapping - 1;
}

/** folio_move_anon_rmap + folio->index = linear_page_index(dst_vma, dst_addr). */
export function folio_move_anon_rmap(m: Mem, K: Kernel, f: number, dstVma: number, dstVpn: number): void {
  m.set(K.fSlot(f, F_MAPPING), vma_anon_vma(m, K, dstVma) + 1);
  m.set(K.fSlot(f, F_INDEX), dstVpn);
}

/** The PTE a moved anon folio gets at dst: folio_mk_pte + pte_mkwrite(pte_mkdirty) (follows mremap). */
export const moved_pte = (f: number): number => mk_pte(folio_pfn(f), _PAGE_RW | _PAGE_DIRTY);

/** Lock order of double_pt_lock: by lock address (lock id here). */
export const first_of = (a: number, b: number): number => Math.min(a, b);
export const second_of = (a: number, b: number): number => Math.max(a, b);

/** is_swap_pmd / pmd_trans_huge: what pmd_trans_huge_lock locks for. */
export const pmd_is_leafish = (v: number): boolean => pmd_trans_huge(v) || is_pmd_migration_entry(v);

/** Whether [vpn, vpn + pages) is aligned and covers a whole pmd (move_splits_huge_pmd negated). */
export const covers_pmd = (dstVpn: number, srcVpn: number, srcEnd: number): boolean =>
  dstVpn % HPAGE_PMD_NR === 0 && srcVpn % HPAGE_PMD_NR === 0 && srcEnd - srcVpn >= HPAGE_PMD_NR;

/** Human-readable pmd value for trace notes. */
export function pmdText(v: number): string {
  if (pmd_none(v)) return 'none';
  if (pmd_is_table(v)) return `table ${pmd_table(v)}`;
  if (pmd_trans_huge(v)) return `huge (pfn ${pmd_pfn(v)})`;
  return 'migration entry';
}

/** Human-readable PTE value for trace notes. */
export function pteText(p: number): string {
  if (pte_none(p)) return 'none';
  if (pte_present(p)) return `present (pfn ${pte_pfn(p)})`;
  if (is_migration_entry(p)) return 'migration entry';
  if (is_swap_pte(p)) return 'swap entry';
  return 'marker';
}
