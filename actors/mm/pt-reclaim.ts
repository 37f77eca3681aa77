/**
 * Page-table reclaim (CONFIG_PT_RECLAIM, v6.14: "mm: pgtable: reclaim empty PTE page in
 * madvise(MADV_DONTNEED)", 6375e95f381e, Qi Zheng): mm/pt_reclaim.c try_get_and_clear_pmd,
 * free_pte, try_to_free_pte, called from zap_pte_range (zap.ts) when MADV_DONTNEED (zap_details
 * .reclaim_pt) zaps a whole PTE table. With PT_RECLAIM the table is freed through mmu_gather's
 * RCU table freeing (MMU_GATHER_RCU_TABLE_FREE is selected): pte_free_defer here.
 *
 * Who must recheck the pmd because of it: every lockless walker (pte_offset_map* under RCU, then
 * pmd_same under the PTL: pte_offset_map_lock retries, NULL makes faults return and retry, GUP
 * fall back, mfill_atomic and move_pages_pte return -EAGAIN), and anyone who read the pmd earlier
 * under a lock that no longer excludes MADV_DONTNEED (khugepaged's check_pmd_still_valid once
 * MADV_DONTNEED runs under a per-VMA lock: anon-collapse.ts).
 *
 * Simplified: the mmu_gather batch is flushed per PTE (zap.ts), so free_pte frees the table at
 * once (RCU-deferred) instead of at tlb_finish_mmu; the pmd lock is mm->page_table_lock.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { pmd_table, pte_none, PTRS_PER_PTE } from '../../src/kernel/defs.js';
import { type Kernel, kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_clear_table, pte_free_defer, pte_offset_map_rw_nolock, pte_unmap, pte_unmap_unlock, ptep_get } from '../../src/kernel/pgtable.js';
import { type MmId, NO_TABLE } from '../../src/kernel/ids.js';

/** The world switch: MADV_DONTNEED reclaims the PTE tables it empties (CONFIG_PT_RECLAIM, v6.14+). */
export const CONFIG_PT_RECLAIM = 'config_pt_reclaim';
/**
 * The fix "mm: pgtable: fix incorrect reclaim of non-empty PTE pages" (Qi Zheng, Feb 2025, v6.14-rc;
 * Fixes: 6375e95f381e): direct_reclaim starts true and is cleared when the PTL was dropped midway
 * (need_resched / force_break), so the retried table goes through try_to_free_pte's recheck.
 */
export const PT_RECLAIM_FIX = 'pt_reclaim_fix_incorrect_reclaim';

/**
 * try_get_and_clear_pmd(mm, pmd, &pmdval), called under the PTE lock: spin_trylock(pml) (the pmd
 * lock nests outside the PTL, so only a trylock here), pmdval = *pmd, pmd_clear, unlock. One step:
 * the pmd lock is held only inside it. Returns the old pmd value, 0 if the trylock failed.
 */
export function try_get_and_clear_pmd(k: Ctx, K: Kernel, mm: number, pmd: number): number {
  const pml = K.mm(mm).page_table_lock;
  if (!k.spin_trylock(pml)) return 0;
  const v = pmd_clear_table(k.w, K, mm, pmd);
  k.spin_unlock(pml);
  return v;
}

/**
 * free_pte → pte_free_tlb (RCU-deferred with MMU_GATHER_RCU_TABLE_FREE): a PTE table leaves the
 * page-table pool. A table freed while one of its PTEs is not none is the bug the 2025 fix closed
 * ("a non-empty PTE page to be reclaimed and eventually cause the system to crash"): a verdict.
 */
export function free_pte(k: Ctx, K: Kernel, t: number): void {
  for (let i = 0; i < PTRS_PER_PTE; i++) {
    const pte = k.w.get(K.pteSlot(t, i));
    if (!pte_none(pte)) {
      k.violated(`free_pte: PTE table ${t} reclaimed with PTE ${i} still set (a non-empty PTE page freed by PT reclaim)`);
      return;
    }
  }
  k.note(() => `free_pte: empty PTE table ${t} freed (pte_free_tlb, RCU-deferred)`);
  pte_free_defer(k, K, t);
}

/**
 * try_to_free_pte(mm, pmd, addr, tlb): args [mm, pmd index]; 1 if the table was freed. The slow
 * path: pmd_lock, pte_offset_map_rw_nolock, the PTL nested, every PTE rechecked none, pmd_clear.
 */
export const try_to_free_pte = kproc(
  'try_to_free_pte',
  'mm/pt_reclaim.c: try_to_free_pte',
  (a: { mm: MmId; pmd: number }) => ({ mm: a.mm, pmd: a.pmd, t: NO_TABLE }),
  {
    pml: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'map' : BLOCKED),
    map: (k, l) => {
      const v = pte_offset_map_rw_nolock(k, kern(k), l.mm, l.pmd);
      if (v === 0) return 'out_pml';
      l.t = pmd_table(v);
      return 'ptl';
    },
    ptl: (k, l) => (k.spin_lock(kern(k).ptlOf(l.t), 1) ? 'check' : BLOCKED), // spin_lock_nested(ptl, SINGLE_DEPTH_NESTING)
    check: (k, l) => {
      const K = kern(k);
      for (let i = 0; i < PTRS_PER_PTE; i++) {
        if (!pte_none(ptep_get(k, K, l.t, i))) {
          k.note(() => `try_to_free_pte: PTE ${i} of table ${l.t} is set, table kept`);
          return 'out_ptl';
        }
      }
      if (!pte_unmap(k, K)) return ENDED;
      pmd_clear_table(k.w, K, l.mm, l.pmd);
      return 'unlock_ptl';
    },
    unlock_ptl: (k, l) => (k.spin_unlock(kern(k).ptlOf(l.t)) ? 'unlock_pml' : ENDED),
    unlock_pml: (k, l) => {
      if (!k.spin_unlock(kern(k).mm(l.mm).page_table_lock)) return ENDED;
      free_pte(k, kern(k), l.t);
      return k.ret(1);
    },
    out_ptl: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'out_pml' : ENDED),
    out_pml: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? k.ret(0) : ENDED),
  },
);
