/**
 * The checks khugepaged repeats after every lock it drops (mm/khugepaged.c): check_pmd_state (as
 * find_pmd_or_thp_or_none and check_pmd_still_valid use it) and hugepage_vma_revalidate for an
 * anonymous collapse.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { HPAGE_PMD_NR, pmd_is_table, pmd_none, pmd_trans_huge, VM_SHARED } from '../../src/kernel/defs.js';
import { kern, MM_USERS, VMA_ATTACHED } from '../../src/kernel/kernel.js';
import { vma_anon_vma, vma_is_anonymous, vmFlags } from '../uffd/common.js';
import { SCAN_ANY_PROCESS, SCAN_PAGE_ANON, SCAN_PMD_MAPPED, SCAN_PMD_NONE, SCAN_SUCCEED, SCAN_VMA_CHECK } from './common.js';

/** check_pmd_state: what a pmd holds, as a scan result. */
export function check_pmd_state(v: number): number {
  if (pmd_none(v)) return SCAN_PMD_NONE;
  if (pmd_trans_huge(v)) return SCAN_PMD_MAPPED;
  if (!pmd_is_table(v)) return SCAN_PMD_MAPPED; // migration entry
  return SCAN_SUCCEED;
}

/** hugepage_vma_revalidate(expect_anon): the VMA still suits an anonymous collapse. */
export function revalidate(k: Ctx, mm: number, vma: number): number {
  const K = kern(k);
  const m = k.w;
  if (m.get(K.mm(mm).base + MM_USERS) === 0) return SCAN_ANY_PROCESS;
  if (m.get(K.vmaSlot(vma, VMA_ATTACHED)) === 0) return SCAN_VMA_CHECK;
  if (K.vma(vma).end - K.vma(vma).start < HPAGE_PMD_NR || vmFlags(m, K, vma) & VM_SHARED) return SCAN_VMA_CHECK;
  if (!vma_is_anonymous(K, vma) || vma_anon_vma(m, K, vma) < 0) return SCAN_PAGE_ANON;
  return SCAN_SUCCEED;
}
