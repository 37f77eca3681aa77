/**
 * The PTE movers of UFFDIO_MOVE (mm/userfaultfd.c, v6.8 and today's), called by move_pages_pte
 * (move-pte.ts) with both tables mapped: move_present_pte, move_swap_pte and move_zeropage_pte,
 * each under double_pt_lock after the stability recheck (v6.8: pte_same on both; with switch
 * uffd_move_recheck_dst_pmd, today's is_pte_pages_stable: + pmd_same on dst). A folio
 * pinned before ptep_clear_flush is -EBUSY; one pinned between the check and the clear (GUP-fast
 * takes no PTL) is caught by the recheck after the clear, which puts the PTE back.
 *
 * Variant switch move_no_pin_recheck: remove that post-clear recheck (a planted regression).
 * Simplified: get_swap_device always succeeds.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { _PAGE_SPECIAL, EAGAIN, EBUSY, mk_pte, ZERO_PFN } from '../../src/kernel/defs.js';
import { folio_maybe_dma_pinned, PageAnonExclusive } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, ptep_get, ptep_get_and_clear, set_pte_at } from '../../src/kernel/pgtable.js';
import { first_of, folio_move_anon_rmap, folio_test_large, moved_pte, pmdText, second_of } from './common.js';
import type { FolioId, MmId, TableId, VmaId } from '../../src/kernel/ids.js';
import { folio_swap, folio_test_swapcache, SWAP_HAS_CACHE, swap_map, swapOf, swp_offset } from '../../src/kernel/swap.js';

const NO_PIN_RECHECK = 'move_no_pin_recheck';
const SWAPCACHE_RACE = 'uffd_move_swapcache_race';
export const RECHECK_DST_PMD = 'uffd_move_recheck_dst_pmd';

/** The double_pt_lock / double_pt_unlock / is_pte_pages_stable steps shared by the three movers. */
const dptl = {
  lock1: (k: Ctx, l: { dt: number; st: number }) => (k.spin_lock(first_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? 'lock2' : BLOCKED),
  lock2: (k: Ctx, l: { dt: number; st: number }) => (l.dt === l.st || k.spin_lock(second_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st)), 1) ? 'stable' : BLOCKED),
  unlock1: (k: Ctx, l: { dt: number; st: number }) => (k.spin_unlock(first_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? 'unlock2' : ENDED),
  unlock2: (k: Ctx, l: { dt: number; st: number; err: number }) =>
    l.dt === l.st || k.spin_unlock(second_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? k.ret(l.err) : ENDED,
};

/**
 * The recheck under both PTLs. v6.8: pte_same(src) && pte_same(dst) only. With
 * uffd_move_recheck_dst_pmd ("mm: userfaultfd: recheck dst_pmd entry in move_pages_pte()", Qi Zheng,
 * posted Nov 2024 with the PT-reclaim series, v6.14): also pmd_same(dst_pmdval, *dst_pmd), the
 * check today's code keeps in is_pte_pages_stable.
 */
function is_pte_pages_stable(k: Ctx, l: { mm: number; da: number; sa: number; dt: number; st: number; odst: number; osrc: number; dval: number }): boolean {
  const K = kern(k);
  const ptes = ptep_get(k, K, l.st, pte_index(l.sa)) === l.osrc && ptep_get(k, K, l.dt, pte_index(l.da)) === l.odst;
  const ok = ptes && (!k.sw(RECHECK_DST_PMD) || pmdp_get(k.w, K, l.mm, pmd_index(l.da)) === l.dval);
  if (!ok) k.note(() => `${k.sw(RECHECK_DST_PMD) ? 'is_pte_pages_stable' : 'pte_same'}: no (dst pmd now ${pmdText(pmdp_get(k.w, K, l.mm, pmd_index(l.da)))}): -EAGAIN`);
  return ok;
}

/**
 * move_present_pte: args [mm, dst vma, src vma, dst vpn, src vpn, dst table, src table, orig dst,
 * orig src, dst pmdval, folio]; 0, -EAGAIN or -EBUSY. Folio and anon_vma locked by the caller.
 */
export const move_present_pte = kproc(
  'move_present_pte',
  'mm/userfaultfd.c: move_present_pte',
  (a: { mm: MmId; dvma: VmaId; svma: VmaId; da: number; sa: number; dt: TableId; st: TableId; odst: number; osrc: number; dval: number; f: FolioId }) => ({ mm: a.mm, dvma: a.dvma, svma: a.svma, da: a.da, sa: a.sa, dt: a.dt, st: a.st, odst: a.odst, osrc: a.osrc, dval: a.dval, f: a.f, err: 0, old: 0 }),
  {
    ...dptl,
    stable: (k, l) => {
      if (!is_pte_pages_stable(k, l)) {
        l.err = EAGAIN;
        return 'unlock1';
      }
      return 'busy';
    },
    busy: (k, l) => {
      const K = kern(k);
      const m = k.w;
      if (folio_test_large(m, K, l.f) || folio_maybe_dma_pinned(m, K, l.f) || !PageAnonExclusive(m, K, l.f)) {
        l.err = EBUSY;
        k.note(() => `move_present_pte: folio ${l.f} ${folio_maybe_dma_pinned(m, K, l.f) ? 'is pinned' : 'not movable'}: -EBUSY`);
        return 'unlock1';
      }
      return 'clear';
    },
    clear: (k, l) => {
      l.old = ptep_get_and_clear(k, kern(k), l.st, pte_index(l.sa)); // ptep_clear_flush(src_vma, src_addr, src_pte)
      k.note(() => `move_present_pte: src PTE cleared (folio ${l.f} unpinned when checked)`);
      return k.sw(NO_PIN_RECHECK) ? 'rmap' : 'recheck';
    },
    // Folio got pinned from under us. Put it back and fail the move.
    recheck: (k, l) => {
      const K = kern(k);
      if (!folio_maybe_dma_pinned(k.w, K, l.f)) return 'rmap';
      set_pte_at(k, K, l.st, pte_index(l.sa), l.old);
      l.err = EBUSY;
      k.note(() => `move_present_pte: folio ${l.f} got pinned after the check: src PTE restored, -EBUSY`);
      return 'unlock1';
    },
    rmap: (k, l) => {
      folio_move_anon_rmap(k.w, kern(k), l.f, l.dvma, l.da); // + src_folio->index = linear_page_index(dst_vma, dst_addr)
      return 'set';
    },
    set: (k, l) => {
      set_pte_at(k, kern(k), l.dt, pte_index(l.da), moved_pte(l.f));
      k.note(() => `move_present_pte: folio ${l.f} now mapped at dst vpn ${l.da}`);
      return 'unlock1';
    },
  },
);

/**
 * move_swap_pte: args [mm, dst vma, dst vpn, src vpn, dst table, src table, orig dst, orig src, dst
 * pmdval, swap-cache folio or -1 (locked by the caller)]. With uffd_move_swapcache (c50f8e6053b0) a
 * swap-cache folio's anon rmap and index follow the PTE to dst. With uffd_move_swapcache_race
 * ("mm: userfaultfd: fix race of userfaultfd_move and swap cache", 0ea148a79919, v6.16; Fixes:
 * adef440691ba): first -EAGAIN if the folio left the swap cache or now caches another entry, and
 * when no folio was found, -EAGAIN if SWAP_HAS_CACHE is set under the PTLs (a folio swapped in and
 * out again with the same entry while the lookup was stale).
 */
export const move_swap_pte = kproc(
  'move_swap_pte',
  'mm/userfaultfd.c: move_swap_pte',
  (a: { mm: MmId; dvma: VmaId; da: number; sa: number; dt: TableId; st: TableId; odst: number; osrc: number; dval: number; f: FolioId }) => ({ mm: a.mm, dvma: a.dvma, da: a.da, sa: a.sa, dt: a.dt, st: a.st, odst: a.odst, osrc: a.osrc, dval: a.dval, f: a.f, err: 0 }),
  {
    // check if the folio still belongs to the target swap entry after acquiring the lock
    check: (k, l) => {
      if (l.f < 0 || !k.sw(SWAPCACHE_RACE)) return 'lock1';
      const K = kern(k);
      if (folio_test_swapcache(k.w, K, l.f) && folio_swap(k.w, swapOf(k), l.f) === swp_offset(l.osrc)) return 'lock1';
      k.note(() => `move_swap_pte: folio ${l.f} is no longer the swap-cache folio of slot ${swp_offset(l.osrc)}: -EAGAIN`);
      return k.ret(EAGAIN);
    },
    ...dptl,
    stable: (k, l) => {
      if (!is_pte_pages_stable(k, l)) {
        l.err = EAGAIN;
        return 'unlock1';
      }
      const K = kern(k);
      if (l.f >= 0) {
        // the src_folio resides in the swapcache: update its index and mapping to dst_vma
        folio_move_anon_rmap(k.w, K, l.f, l.dvma, l.da);
      } else if (k.sw(SWAPCACHE_RACE) && swap_map(k.w, swapOf(k), swp_offset(l.osrc)) & SWAP_HAS_CACHE) {
        k.note(() => `move_swap_pte: slot ${swp_offset(l.osrc)} has SWAP_HAS_CACHE under the PTLs: -EAGAIN`);
        l.err = EAGAIN;
        return 'unlock1';
      }
      set_pte_at(k, K, l.dt, pte_index(l.da), ptep_get_and_clear(k, K, l.st, pte_index(l.sa)));
      k.note(() => `move_swap_pte: swap entry (slot ${swp_offset(l.osrc)}) moved to dst vpn ${l.da}${l.f >= 0 ? ` with swap-cache folio ${l.f}` : ''}`);
      return 'unlock1';
    },
  },
);

/** move_zeropage_pte: args [mm, dst vpn, src vpn, dst table, src table, orig dst, orig src, dst pmdval]. */
export const move_zeropage_pte = kproc(
  'move_zeropage_pte',
  'mm/userfaultfd.c: move_zeropage_pte',
  (a: { mm: MmId; da: number; sa: number; dt: TableId; st: TableId; odst: number; osrc: number; dval: number }) => ({ mm: a.mm, da: a.da, sa: a.sa, dt: a.dt, st: a.st, odst: a.odst, osrc: a.osrc, dval: a.dval, err: 0 }),
  {
    ...dptl,
    stable: (k, l) => {
      if (!is_pte_pages_stable(k, l)) {
        l.err = EAGAIN;
        return 'unlock1';
      }
      ptep_get_and_clear(k, kern(k), l.st, pte_index(l.sa)); // ptep_clear_flush
      return 'set';
    },
    set: (k, l) => {
      set_pte_at(k, kern(k), l.dt, pte_index(l.da), mk_pte(ZERO_PFN, _PAGE_SPECIAL));
      return 'unlock1';
    },
  },
);
