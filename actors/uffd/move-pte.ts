/**
 * UFFDIO_MOVE of one PTE (mm/userfaultfd.c): move_pages_pte maps both tables (v6.8:
 * pte_offset_map_nolock; v6.13: pte_offset_map_rw_nolock with a dummy pmdval; with switch
 * uffd_move_recheck_dst_pmd, v6.14: keeping dst_pmdval for the movers' pmd_same recheck; the
 * mapping itself is the same operation in the model), turns a vanished table into -EAGAIN and the pmd
 * sanity checks into -EINVAL, reads both PTEs under their PTLs, gets and locks the source folio and
 * its anon_vma (dropping the maps to sleep), and hands the PTE to move_present_pte, move_swap_pte
 * or move_zeropage_pte (move-pte-movers.ts).
 *
 * With switch uffd_move_swapcache ("mm: fix kernel BUG when userfaultfd_move encounters swapcache",
 * c50f8e6053b0, v6.14; Fixes: adef440691ba) a swap source PTE is looked up in the swap cache: a
 * cached folio is locked (trylock, else drop the maps, folio_lock, retry) and handed to
 * move_swap_pte, which moves its anon rmap and index with the PTE; off (v6.8..v6.13) the swap PTE
 * alone is moved.
 *
 * Simplified: split_folio is not modelled (a large source folio fails the move with -EBUSY).
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  _PAGE_SWP_EXCLUSIVE,
  EAGAIN,
  EBUSY,
  EEXIST,
  EFAULT,
  EINVAL,
  ENOENT,
  is_migration_entry,
  is_swap_pte,
  is_zero_pfn,
  pmd_none,
  pmd_table,
  pmd_trans_huge,
  pte_none,
  pte_pfn,
  pte_present,
} from '../../src/kernel/defs.js';
import { folio_get, folio_lock, folio_mapcount, folio_put, folio_test_anon, folio_trylock, folio_unlock, PageAnonExclusive } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, pte_offset_map_rw_nolock, pte_unmap, ptep_get } from '../../src/kernel/pgtable.js';
import { vm_normal_folio } from '../mm/common.js';
import { migration_entry_wait } from '../mm/migrate-entry.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { anon_vma_lock, folio_get_anon_vma, folio_test_large, pmdText, pteText, UFFDIO_MODE_ALLOW_SRC_HOLES } from './common.js';
import { move_present_pte, move_swap_pte, move_zeropage_pte, RECHECK_DST_PMD } from './move-pte-movers.js';
import { type MmId, type VmaId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';
import { swap_cache_get_folio, swapOf, swp_offset } from '../../src/kernel/swap.js';

const V6_9 = 'uffd_move_v6_9';
const SWAPCACHE = 'uffd_move_swapcache';

/** move_pages_pte: args [mm, dst vma, src vma, dst vpn, src vpn, mode]; 0 or -errno. */
export const move_pages_pte = kproc(
  'move_pages_pte',
  'mm/userfaultfd.c: move_pages_pte',
  (a: { mm: MmId; dvma: VmaId; svma: VmaId; da: number; sa: number; mode: number }) => ({
    mm: a.mm,
    dvma: a.dvma,
    svma: a.svma,
    da: a.da,
    sa: a.sa,
    mode: a.mode,
    dval: 0,
    dt: NO_TABLE,
    st: NO_TABLE,
    mapped: 0,
    odst: 0,
    osrc: 0,
    f: NO_FOLIO,
    fpte: 0,
    locked: 0,
    av: -1,
    avlocked: 0,
    err: 0,
  }),
  {
    notify: (k, l) => k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.sa, end: l.sa + 1 }, 'retry'),
    retry: (k, l) => {
      const K = kern(k);
      // v6.8: dst_pte = pte_offset_map_nolock(mm, dst_pmd, dst_addr, &dst_ptl); today's code:
      // pte_offset_map_rw_nolock(mm, dst_pmd, dst_addr, &dst_pmdval, &dst_ptl)
      l.dval = pte_offset_map_rw_nolock(k, K, l.mm, pmd_index(l.da));
      if (!l.dval) return fail(k, l, EAGAIN, 'out', 'dst table gone (a huge pmd materialized)');
      l.dt = pmd_table(l.dval);
      l.mapped = 1;
      return 'map_src';
    },
    map_src: (k, l) => {
      const K = kern(k);
      const v = pte_offset_map_rw_nolock(k, K, l.mm, pmd_index(l.sa)); // &dummy_pmdval: pte_same suffices for src
      if (!v) return fail(k, l, EAGAIN, 'out', 'src table gone');
      l.st = pmd_table(v);
      l.mapped = 3;
      k.note(() => `move_pages_pte: dst table ${l.dt}${k.sw(RECHECK_DST_PMD) ? ' (dst_pmdval kept)' : ''}, src table ${l.st}`);
      return 'sanity_dst';
    },
    // Sanity checks before the operation: -EINVAL. v6.8..v6.13 wrap each in WARN_ON_ONCE; the
    // v6.14 commit of uffd_move_recheck_dst_pmd drops them ("can also be expected to be triggered")
    sanity_dst: (k, l) => {
      const v = pmdp_get(k.w, kern(k), l.mm, pmd_index(l.da));
      const bad = pmd_none(v) || pmd_trans_huge(v);
      if (!k.sw(RECHECK_DST_PMD) && k.WARN_ON(bad, pmd_none(v) ? 'pmd_none(*dst_pmd)' : 'pmd_trans_huge(*dst_pmd)')) return ENDED;
      return bad ? fail(k, l, EINVAL, 'out', `dst pmd is ${pmdText(v)}`) : 'sanity_src';
    },
    sanity_src: (k, l) => {
      const v = pmdp_get(k.w, kern(k), l.mm, pmd_index(l.sa));
      const bad = pmd_none(v) || pmd_trans_huge(v);
      if (!k.sw(RECHECK_DST_PMD) && k.WARN_ON(bad, pmd_none(v) ? 'pmd_none(*src_pmd)' : 'pmd_trans_huge(*src_pmd)')) return ENDED;
      return bad ? fail(k, l, EINVAL, 'out', `src pmd is ${pmdText(v)}`) : 'dst_lock';
    },
    dst_lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.dt)) ? 'dst_read' : BLOCKED),
    dst_read: (k, l) => {
      l.odst = ptep_get(k, kern(k), l.dt, pte_index(l.da));
      return 'dst_unlock';
    },
    dst_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).ptlOf(l.dt))) return ENDED;
      return pte_none(l.odst) ? 'src_lock' : fail(k, l, EEXIST, 'out', `dst PTE is ${pteText(l.odst)}`);
    },
    src_lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.st)) ? 'src_read' : BLOCKED),
    src_read: (k, l) => {
      l.osrc = ptep_get(k, kern(k), l.st, pte_index(l.sa));
      return 'src_unlock';
    },
    src_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).ptlOf(l.st))) return ENDED;
      if (pte_none(l.osrc)) {
        l.err = l.mode & UFFDIO_MODE_ALLOW_SRC_HOLES ? 0 : ENOENT; // nothing to do to move a hole
        return 'out';
      }
      // If PTE changed after we locked the folio then start over
      if (l.f >= 0 && l.fpte !== l.osrc) return fail(k, l, EAGAIN, 'out', 'src PTE changed while we slept on the folio lock');
      if (!pte_present(l.osrc)) return 'swap';
      // move_zeropage_pte since v6.9 ("userfaultfd: handle zeropage moves by UFFDIO_MOVE"); in v6.8
      // the zero page has no normal folio: -EBUSY below
      if (is_zero_pfn(pte_pfn(l.osrc)) && k.sw(V6_9)) return 'zeropage';
      return l.f < 0 ? 'pin_lock' : 'large';
    },
    zeropage: (k, l) => k.call(move_zeropage_pte, { mm: l.mm, da: l.da, sa: l.sa, dt: l.dt, st: l.st, odst: l.odst, osrc: l.osrc, dval: l.dval }, 'result'),
    // Pin the page while holding the lock to be sure the page isn't freed under us
    pin_lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.st)) ? 'pin' : BLOCKED),
    pin: (k, l) => {
      const K = kern(k);
      const m = k.w;
      if (ptep_get(k, K, l.st, pte_index(l.sa)) !== l.osrc) return fail(k, l, EAGAIN, 'pin_unlock', 'src PTE changed');
      const f = vm_normal_folio(l.osrc);
      if (f < 0 || !PageAnonExclusive(m, K, f)) return fail(k, l, EBUSY, 'pin_unlock', `src folio ${f} not anon-exclusive`);
      l.locked = folio_trylock(k, K, f) ? 1 : 0;
      // no waiting for a large folio's lock with a raised refcount (split_folio would fail: livelock)
      if (!l.locked && folio_test_large(m, K, f)) return fail(k, l, EAGAIN, 'pin_unlock', `large folio ${f} locked by someone else`);
      folio_get(m, K, f);
      l.f = f;
      l.fpte = l.osrc;
      return 'pin_unlock';
    },
    pin_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).ptlOf(l.st))) return ENDED;
      if (l.err) return 'out';
      if (!l.locked) return 'unmap_for_folio';
      return k.WARN_ON(!folio_test_anon(k.w, kern(k), l.f), '!folio_test_anon(src_folio)') ? ENDED : 'large';
    },
    unmap_for_folio: (k, l) => {
      unmapBoth(k, l);
      return 'folio_lock';
    },
    folio_lock: (k, l) => {
      if (!folio_lock(k, kern(k), l.f)) return BLOCKED; // now we can block and wait
      l.locked = 1;
      return 'retry';
    },
    // at this point we have src_folio locked
    large: (k, l) => {
      if (!folio_test_large(k.w, kern(k), l.f)) return 'anon';
      unmapBoth(k, l); // split_folio() can block
      return fail(k, l, EBUSY, 'out', `src folio ${l.f} is large: split_folio (not modelled) fails`);
    },
    anon: (k, l) => {
      if (l.av >= 0) return 'present';
      const K = kern(k);
      // folio_referenced walks the anon_vma chain without the folio lock: the anon_vma lock serializes
      l.av = folio_get_anon_vma(k.w, K, l.f, folio_mapcount(k.w, K, l.f));
      if (l.av < 0) return fail(k, l, EAGAIN, 'out', 'folio unmapped from under us');
      return 'av_trylock';
    },
    av_trylock: (k, l) => {
      if (!k.down_write_trylock(anon_vma_lock(kern(k), l.av))) return 'unmap_for_av';
      l.avlocked = 1;
      return 'present';
    },
    unmap_for_av: (k, l) => {
      unmapBoth(k, l);
      return 'av_lock';
    },
    av_lock: (k, l) => {
      if (!k.down_write(anon_vma_lock(kern(k), l.av))) return BLOCKED;
      l.avlocked = 1;
      return 'retry';
    },
    present: (k, l) => k.call(move_present_pte, { mm: l.mm, dvma: l.dvma, svma: l.svma, da: l.da, sa: l.sa, dt: l.dt, st: l.st, odst: l.odst, osrc: l.osrc, dval: l.dval, f: l.f }, 'result'),
    swap: (k, l) => {
      if (is_migration_entry(l.osrc)) {
        unmapBoth(k, l);
        return k.call(migration_entry_wait, { mm: l.mm, vpn: l.sa }, 'migration_waited');
      }
      if (!is_swap_pte(l.osrc)) return fail(k, l, EFAULT, 'out', `src PTE is ${pteText(l.osrc)}`);
      if (!(l.osrc & _PAGE_SWP_EXCLUSIVE)) return fail(k, l, EBUSY, 'out', 'swap entry not exclusive');
      // c50f8e6053b0: verify the existence of the swapcache (get_swap_device succeeds here)
      if (k.sw(SWAPCACHE) && l.f < 0) return 'swapcache';
      return 'move_swap';
    },
    migration_waited: (k, l) => fail(k, l, EAGAIN, 'out', 'src PTE was a migration entry: migration_entry_wait, then -EAGAIN'),
    swapcache: (k, l) => {
      const K = kern(k);
      const f = swap_cache_get_folio(k.w, K, swapOf(k), swp_offset(l.osrc)); // filemap_get_folio(swap_address_space(entry), ...)
      if (f < 0) return 'move_swap';
      if (folio_test_large(k.w, K, f)) {
        folio_put(k, K, f);
        return fail(k, l, EBUSY, 'out', `swap-cache folio ${f} is large`);
      }
      l.f = f;
      l.fpte = l.osrc;
      l.locked = folio_trylock(k, K, f) ? 1 : 0;
      k.note(() => `move_pages_pte: swap entry (slot ${swp_offset(l.osrc)}) has folio ${f} in the swap cache${l.locked ? '' : ': trylock failed, sleep on the folio lock and retry'}`);
      return l.locked ? 'move_swap' : 'unmap_for_folio';
    },
    move_swap: (k, l) =>
      k.call(move_swap_pte, { mm: l.mm, dvma: l.dvma, da: l.da, sa: l.sa, dt: l.dt, st: l.st, odst: l.odst, osrc: l.osrc, dval: l.dval, f: l.f }, 'result'),
    result: (k, l) => {
      l.err = k.rv;
      return 'out';
    },
    out: (k, l) => {
      if (!l.avlocked) return 'out_folio';
      l.avlocked = 0;
      return k.up_write(anon_vma_lock(kern(k), l.av)) ? 'out_folio' : ENDED;
    },
    out_folio: (k, l) => {
      if (l.f < 0) return 'out_unmap';
      return l.locked && !folio_unlock(k, kern(k), l.f) ? ENDED : 'out_put';
    },
    out_put: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'out_unmap';
    },
    out_unmap: (k, l) => {
      unmapBoth(k, l);
      return 'out_notify';
    },
    out_notify: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.sa, end: l.sa + 1 }, 'done'),
    done: (k, l) => {
      k.note(() => `move_pages_pte(dst ${l.da}, src ${l.sa}) = ${l.err}`);
      return k.ret(l.err);
    },
  },
);

function fail<S extends string>(k: Ctx<S>, l: { err: number }, err: number, next: S, why: string): S {
  l.err = err;
  k.note(() => `move_pages_pte: ${why}: ${err}`);
  return next;
}

/** pte_unmap(src_pte); pte_unmap(dst_pte) for whichever are mapped (one step). */
function unmapBoth(k: Ctx, l: { mapped: number }): void {
  const K = kern(k);
  if (l.mapped & 2) pte_unmap(k, K);
  if (l.mapped & 1) pte_unmap(k, K);
  l.mapped = 0;
}
