/**
 * remap_pages_pte of UFFDIO_REMAP RFC v2 (the code quoted in seed 001; the ioctl and the
 * remap_pages loop are in remap-rfc.ts): maps both PTE tables with pte_offset_map_nolock, asserts
 * the pmds with four BUG_ONs and never rechecks them under the PTL: Jann Horn's point is that a
 * khugepaged collapsing under mmap_lock *read* makes those BUG_ONs reachable, and that PTEs can
 * then be written into a detached table. Then: the dst PTE under its PTL (-EEXIST), the src PTE
 * (-ENOENT or a hole), the folio pinned and locked and its anon_vma locked (trylock, else drop the
 * maps, sleep and retry), and the move in remap_anon_pte / remap_swap_pte (remap-rfc-movers.ts).
 *
 * Variant switch (registered in src/scenario/uffd-ops.ts):
 *   remap_pmd_recheck  Jann's fix: keep the pmd values the tables were mapped through, recheck them
 *                      under each PTL (pmd_same) and bail out with -EAGAIN; no BUG_ONs; a table
 *                      that vanished before mapping is -EAGAIN too (as UFFDIO_MOVE does since v6.8).
 * Simplified: one mm (dst_mm == src_mm); the two pte_unmap calls before sleeping are one step;
 * migration_entry_wait returns at once (no migration actor).
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  EAGAIN,
  EBUSY,
  EEXIST,
  EFAULT,
  ENOENT,
  is_migration_entry,
  is_swap_pte,
  pmd_none,
  pmd_table,
  pmd_trans_huge,
  pte_none,
  pte_present,
} from '../../src/kernel/defs.js';
import { folio_get, folio_lock, folio_mapcount, folio_put, folio_test_anon, folio_trylock, folio_unlock } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, pte_offset_map_ro_nolock, pte_unmap, ptep_get } from '../../src/kernel/pgtable.js';
import { vm_normal_folio } from '../mm/common.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { anon_vma_lock, folio_get_anon_vma, folio_test_large, pmdText, UFFDIO_MODE_ALLOW_SRC_HOLES } from './common.js';
import { remap_anon_pte, remap_swap_pte } from './remap-rfc-movers.js';
import { type MmId, type VmaId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';

const FIX = 'remap_pmd_recheck';
/** pte_offset_map_nolock (the 2023 name of pte_offset_map_ro_nolock): RCU + the pmd value mapped through, or 0. */
const pte_offset_map_nolock = pte_offset_map_ro_nolock;

/**
 * remap_pages_pte (RFC v2, the code quoted in seed 001): args [mm, dst vma, src vma, dst vpn,
 * src vpn, mode]; 0 or -errno. Entered with mmap_lock held for read.
 */
export const remap_pages_pte = kproc(
  'remap_pages_pte',
  'mm/userfaultfd.c: remap_pages_pte (RFC v2)',
  (a: { mm: MmId; dvma: VmaId; svma: VmaId; da: number; sa: number; mode: number }) => ({
    mm: a.mm,
    dvma: a.dvma,
    svma: a.svma,
    da: a.da,
    sa: a.sa,
    mode: a.mode,
    dval: 0,
    sval: 0,
    dt: NO_TABLE,
    st: NO_TABLE,
    mapped: 0,
    odst: 0,
    osrc: 0,
    f: NO_FOLIO,
    av: -1,
    avlocked: 0,
    err: 0,
  }),
  {
    notify: (k, l) => k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.sa, end: l.sa + 1 }, 'retry'),
    retry: (k, l) => {
      const K = kern(k);
      // dst_pte = pte_offset_map_nolock(dst_mm, dst_pmd, dst_addr, &dst_ptl)
      l.dval = pte_offset_map_nolock(k, K, l.mm, pmd_index(l.da));
      if (!l.dval) {
        l.err = k.sw(FIX) ? EAGAIN : EFAULT; // "If an huge pmd materialized from under us fail"
        k.note(() => `remap_pages_pte: dst pmd ${pmdText(pmdp_get(k.w, K, l.mm, pmd_index(l.da)))}: no table, ${l.err}`);
        return 'out';
      }
      l.dt = pmd_table(l.dval);
      l.mapped = 1;
      k.note(() => `pte_offset_map_nolock(dst): pmd ${pmd_index(l.da)} → table ${l.dt}`);
      return 'map_src';
    },
    map_src: (k, l) => {
      const K = kern(k);
      l.sval = pte_offset_map_nolock(k, K, l.mm, pmd_index(l.sa));
      if (!l.sval) {
        l.err = k.sw(FIX) ? EAGAIN : EFAULT;
        k.note(() => `remap_pages_pte: src pmd ${pmdText(pmdp_get(k.w, K, l.mm, pmd_index(l.sa)))}: no table, ${l.err}`);
        return 'out';
      }
      l.st = pmd_table(l.sval);
      l.mapped = 3;
      k.note(() => `pte_offset_map_nolock(src): pmd ${pmd_index(l.sa)} → table ${l.st}`);
      return k.sw(FIX) ? 'dst_lock' : 'bug_dst_none';
    },
    // The four BUG_ONs, each one lockless load of a pmd.
    bug_dst_none: (k, l) => bugOn(k, l.mm, l.da, 'pmd_none(*dst_pmd)', pmd_none) ?? 'bug_src_none',
    bug_src_none: (k, l) => bugOn(k, l.mm, l.sa, 'pmd_none(*src_pmd)', pmd_none) ?? 'bug_dst_huge',
    bug_dst_huge: (k, l) => bugOn(k, l.mm, l.da, 'pmd_trans_huge(*dst_pmd)', pmd_trans_huge) ?? 'bug_src_huge',
    bug_src_huge: (k, l) => bugOn(k, l.mm, l.sa, 'pmd_trans_huge(*src_pmd)', pmd_trans_huge) ?? 'dst_lock',
    dst_lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.dt)) ? 'dst_read' : BLOCKED),
    dst_read: (k, l) => {
      const K = kern(k);
      if (k.sw(FIX) && pmdp_get(k.w, K, l.mm, pmd_index(l.da)) !== l.dval) return stale(k, l, 'dst', 'dst_unlock');
      l.odst = ptep_get(k, K, l.dt, pte_index(l.da));
      return 'dst_unlock';
    },
    dst_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).ptlOf(l.dt))) return ENDED;
      if (l.err) return 'out';
      if (!pte_none(l.odst)) {
        l.err = EEXIST;
        return 'out';
      }
      return 'src_lock';
    },
    src_lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.st)) ? 'src_read' : BLOCKED),
    src_read: (k, l) => {
      const K = kern(k);
      if (k.sw(FIX) && pmdp_get(k.w, K, l.mm, pmd_index(l.sa)) !== l.sval) return stale(k, l, 'src', 'src_unlock');
      l.osrc = ptep_get(k, K, l.st, pte_index(l.sa));
      return 'src_unlock';
    },
    src_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).ptlOf(l.st))) return ENDED;
      if (l.err) return 'out';
      if (pte_none(l.osrc)) {
        l.err = l.mode & UFFDIO_MODE_ALLOW_SRC_HOLES ? 0 : ENOENT;
        return 'out';
      }
      if (!pte_present(l.osrc)) return 'swap';
      return l.f < 0 ? 'pin_lock' : 'anon';
    },
    // Pin the page while holding the lock to be sure the page isn't freed under us
    pin_lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.st)) ? 'pin' : BLOCKED),
    pin: (k, l) => {
      const K = kern(k);
      const m = k.w;
      if (k.sw(FIX) && pmdp_get(m, K, l.mm, pmd_index(l.sa)) !== l.sval) return stale(k, l, 'src', 'pin_unlock');
      if (ptep_get(k, K, l.st, pte_index(l.sa)) !== l.osrc) {
        l.err = EAGAIN;
        return 'pin_unlock';
      }
      const f = vm_normal_folio(l.osrc);
      // !folio || !folio_test_anon || folio_test_large || folio_estimated_sharers != 1
      if (f < 0 || !folio_test_anon(m, K, f) || folio_test_large(m, K, f) || folio_mapcount(m, K, f) !== 1) {
        l.err = EBUSY;
        k.note(() => `remap_pages_pte: src folio ${f} not movable (${f >= 0 && folio_test_large(m, K, f) ? 'large' : 'not an exclusive small anon folio'}): -EBUSY`);
        return 'pin_unlock';
      }
      folio_get(m, K, f);
      l.f = f;
      return 'pin_unlock';
    },
    pin_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).ptlOf(l.st))) return ENDED;
      return l.err ? 'out' : 'trylock';
    },
    // block all concurrent rmap walks
    trylock: (k, l) => (folio_trylock(k, kern(k), l.f) ? 'anon' : 'unmap_for_folio'),
    unmap_for_folio: (k, l) => {
      unmapBoth(k, l);
      return 'folio_lock';
    },
    folio_lock: (k, l) => (folio_lock(k, kern(k), l.f) ? 'retry' : BLOCKED), // now we can block and wait
    anon: (k, l) => {
      if (l.av >= 0) return 'remap';
      const K = kern(k);
      // folio_referenced walks the anon_vma chain without the folio lock: serialize with the anon_vma lock
      l.av = folio_get_anon_vma(k.w, K, l.f, folio_mapcount(k.w, K, l.f));
      if (l.av < 0) {
        l.err = EAGAIN; // page was unmapped from under us
        return 'out';
      }
      return 'av_trylock';
    },
    av_trylock: (k, l) => {
      if (k.down_write_trylock(anon_vma_lock(kern(k), l.av))) {
        l.avlocked = 1;
        return 'remap';
      }
      return 'unmap_for_av';
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
    remap: (k, l) =>
      k.call(remap_anon_pte, { mm: l.mm, dvma: l.dvma, svma: l.svma, da: l.da, sa: l.sa, dt: l.dt, st: l.st, odst: l.odst, osrc: l.osrc, f: l.f, dval: l.dval, sval: l.sval }, 'result'),
    swap: (k, l) => {
      if (is_migration_entry(l.osrc)) {
        unmapBoth(k, l);
        k.note(() => 'remap_pages_pte: migration entry, migration_entry_wait (returns at once here): -EAGAIN');
        l.err = EAGAIN;
        return 'out';
      }
      if (!is_swap_pte(l.osrc)) {
        l.err = EFAULT; // non_swap_entry other than migration
        return 'out';
      }
      return k.call(remap_swap_pte, { mm: l.mm, da: l.da, sa: l.sa, dt: l.dt, st: l.st, odst: l.odst, osrc: l.osrc, dval: l.dval, sval: l.sval }, 'result');
    },
    result: (k, l) => {
      l.err = k.rv;
      return 'out';
    },
    out: (k, l) => {
      if (!l.avlocked) return 'out_folio';
      l.avlocked = 0;
      return k.up_write(anon_vma_lock(kern(k), l.av)) ? 'out_folio' : ENDED;
    },
    out_folio: (k, l) => (l.f < 0 || folio_unlock(k, kern(k), l.f) ? 'out_put' : ENDED),
    out_put: (k, l) => {
      if (l.f >= 0) folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'out_unmap';
    },
    out_unmap: (k, l) => {
      unmapBoth(k, l);
      return 'out_notify';
    },
    out_notify: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.sa, end: l.sa + 1 }, 'done'),
    done: (k, l) => {
      k.note(() => `remap_pages_pte(dst ${l.da}, src ${l.sa}) = ${l.err}`);
      return k.ret(l.err);
    },
  },
);

/** BUG_ON(<pred>(*pmd)) as one step: the verdict, or undefined to go on. */
function bugOn(k: Ctx, mm: number, vpn: number, what: string, pred: (v: number) => boolean): typeof ENDED | undefined {
  const v = pmdp_get(k.w, kern(k), mm, pmd_index(vpn));
  k.note(() => `BUG_ON(${what}): pmd ${pmd_index(vpn)} is ${pmdText(v)}`);
  return k.BUG_ON(pred(v), what) ? ENDED : undefined;
}

/** Jann's fix: the pmd changed since the table was mapped → -EAGAIN after unlocking. */
function stale<S extends string>(k: Ctx<S>, l: { err: number }, which: string, next: S): S {
  l.err = EAGAIN;
  k.note(() => `remap_pages_pte: ${which} pmd changed under us (pmd_same failed under the PTL): -EAGAIN`);
  return next;
}

/** pte_unmap(src_pte); pte_unmap(dst_pte) for whichever are mapped (one step). */
function unmapBoth(k: Ctx, l: { mapped: number }): void {
  const K = kern(k);
  if (l.mapped & 2) pte_unmap(k, K);
  if (l.mapped & 1) pte_unmap(k, K);
  l.mapped = 0;
}
