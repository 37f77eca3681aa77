/**
 * UFFDIO_REMAP as posted in "[PATCH v2 2/3] userfaultfd: UFFDIO_REMAP uABI" (Andrea Arcangeli,
 * Suren Baghdasaryan, 23 Sep 2023; quoted in seed 001): userfaultfd_remap → remap_pages (the whole
 * call under mmap_read_lock) → remap_pages_pte / remap_pages_huge_pmd. remap_pages_pte maps both
 * PTE tables with pte_offset_map_nolock, asserts the pmds with four BUG_ONs and never rechecks them
 * under the PTL: Jann Horn's point is that a khugepaged collapsing under mmap_lock *read* makes those
 * BUG_ONs reachable, and that PTEs can then be written into a detached table.
 *
 * Variant switches (registered in src/scenario/uffd-ops.ts):
 *   remap_pmd_recheck  Jann's fix: keep the pmd values the tables were mapped through, recheck them
 *                      under each PTL (pmd_same) and bail out with -EAGAIN; no BUG_ONs; a table
 *                      that vanished before mapping is -EAGAIN too (as merged later).
 *   uffd_file_vmas     the FIXME "tmpfs should be added" done naively: validate_remap_areas accepts
 *                      a file-backed (shmem) VMA.
 * Simplified: one mm (dst_mm == src_mm); the two pte_unmap calls before sleeping are one step;
 * migration_entry_wait returns at once (no migration actor); no swap device (swap PTEs move as is).
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  EAGAIN,
  EBUSY,
  EEXIST,
  EFAULT,
  EINVAL,
  ENOENT,
  ENOMEM,
  ESRCH,
  folio_pfn,
  HPAGE_PMD_NR,
  is_migration_entry,
  is_swap_pte,
  mk_huge_pmd,
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SWP_EXCLUSIVE,
  pfn_folio,
  pmd_none,
  pmd_pfn,
  pmd_table,
  pmd_trans_huge,
  pte_none,
  pte_present,
  VM_SHARED,
} from '../../src/kernel/defs.js';
import { folio_get, folio_lock, folio_mapcount, folio_put, folio_test_anon, folio_trylock, folio_unlock, PageAnonExclusive } from '../../src/kernel/folio.js';
import { kern, MM_MMAP_CHANGING, MM_USERS, VMA_ATTACHED } from '../../src/kernel/kernel.js';
import { arg, kproc } from '../../src/kernel/kproc.js';
import { __pte_alloc, pmd_index, pmdp_get, pte_index, pte_offset_map_ro_nolock, pte_unmap, ptep_get, ptep_get_and_clear, set_pmd, set_pte_at } from '../../src/kernel/pgtable.js';
import { pgtable_trans_huge_deposit, pgtable_trans_huge_withdraw } from '../khugepaged/common.js';
import { split_huge_pmd } from '../khugepaged/split.js';
import { anon_vma_prepare, vm_normal_folio } from '../mm/common.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { wake_userfault } from '../mm/userfault.js';
import {
  anon_vma_lock,
  covers_pmd,
  first_of,
  folio_get_anon_vma,
  folio_move_anon_rmap,
  folio_test_large,
  moved_pte,
  pmd_is_leafish,
  pmdText,
  pteText,
  second_of,
  UFFDIO_MODE_ALLOW_SRC_HOLES,
  UFFDIO_MODE_DONTWAKE,
  VM_ACCESS_FLAGS,
  VM_LOCKED,
  VM_UFFD_FLAGS,
  vma_is_anonymous,
  vmFlags,
} from './common.js';

const FIX = 'remap_pmd_recheck';
/** pte_offset_map_nolock (the 2023 name of pte_offset_map_ro_nolock): RCU + the pmd value mapped through, or 0. */
const pte_offset_map_nolock = pte_offset_map_ro_nolock;
const FILE = 'uffd_file_vmas';

/** userfaultfd_remap: args [mm, dst vpn, src vpn, pages, mode]; 0, -EAGAIN (short remap) or -errno. */
export const uffdio_remap = kproc(
  'userfaultfd_remap',
  'fs/userfaultfd.c: userfaultfd_remap (RFC v2)',
  (a) => ({ mm: arg(a, 0), dst: arg(a, 1), src: arg(a, 2), len: arg(a, 3), mode: arg(a, 4), ret: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (k.w.get(K.mm(l.mm).base + MM_MMAP_CHANGING)) return k.ret(EAGAIN);
      if (l.mode & ~(UFFDIO_MODE_ALLOW_SRC_HOLES | UFFDIO_MODE_DONTWAKE)) return k.ret(EINVAL);
      if (k.w.get(K.mm(l.mm).base + MM_USERS) === 0) return k.ret(ESRCH); // mmget_not_zero
      return k.call(remap_pages, [l.mm, l.dst, l.src, l.len, l.mode], 'done');
    },
    done: (k, l) => {
      l.ret = k.rv;
      k.note(() => `UFFDIO_REMAP: remap_pages returned ${l.ret}`);
      if (l.ret < 0) return k.ret(l.ret);
      k.BUG_ON(l.ret === 0, '!ret'); // len == 0 would wake all
      if (l.ret === 0) return ENDED;
      return l.mode & UFFDIO_MODE_DONTWAKE ? 'result' : 'wake';
    },
    wake: (k, l) => {
      wake_userfault(k, kern(k), l.mm);
      return 'result';
    },
    result: (k, l) => k.ret(l.ret === l.len ? 0 : EAGAIN),
  },
);

/** validate_remap_areas (RFC v2): 0 or -EINVAL; prepares dst's anon_vma in the caller's next step. */
function validate_remap_areas(k: Ctx, svma: number, dvma: number): number {
  const K = kern(k);
  const sf = vmFlags(k.w, K, svma);
  const df = vmFlags(k.w, K, dvma);
  if ((sf & VM_ACCESS_FLAGS) !== (df & VM_ACCESS_FLAGS)) return EINVAL;
  if ((sf & VM_LOCKED) !== (df & VM_LOCKED)) return EINVAL;
  if (!(df & VM_UFFD_FLAGS) && !(sf & VM_UFFD_FLAGS)) return EINVAL;
  // FIXME: only allow remapping across anonymous vmas, tmpfs should be added.
  if (!k.sw(FILE) && (!vma_is_anonymous(K, svma) || !vma_is_anonymous(K, dvma))) return EINVAL;
  return 0;
}

/** remap_pages: args [mm, dst vpn, src vpn, pages, mode]; pages moved, or -errno if none. */
export const remap_pages = kproc(
  'remap_pages',
  'mm/userfaultfd.c: remap_pages (RFC v2)',
  (a) => ({ mm: arg(a, 0), ds: arg(a, 1), ss: arg(a, 2), len: arg(a, 3), mode: arg(a, 4), dvma: -1, svma: -1, da: 0, sa: 0, moved: 0, err: EINVAL, dval: 0, step: 0 }),
  {
    lock: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'find' : BLOCKED),
    find: (k, l) => {
      const K = kern(k);
      const m = k.w;
      l.svma = K.find_vma(l.mm, l.ss);
      l.dvma = K.find_vma(l.mm, l.ds);
      const ok = (v: number, start: number) =>
        v >= 0 && m.get(K.vmaSlot(v, VMA_ATTACHED)) !== 0 && !(vmFlags(m, K, v) & VM_SHARED) && start + l.len <= K.vma(v).end;
      if (!ok(l.svma, l.ss) || !ok(l.dvma, l.ds)) return 'out';
      l.err = validate_remap_areas(k, l.svma, l.dvma);
      if (l.err) {
        k.note(() => `validate_remap_areas: ${l.err} (${vma_is_anonymous(K, l.dvma) ? 'anonymous' : 'file-backed'} dst)`);
        return 'out';
      }
      return 'prepare';
    },
    prepare: (k, l) => {
      anon_vma_prepare(k, kern(k), l.dvma); // if (unlikely(anon_vma_prepare(dst_vma))) return -ENOMEM;
      l.da = l.ds;
      l.sa = l.ss;
      return 'loop';
    },
    loop: (k, l) => {
      const K = kern(k);
      if (l.sa >= l.ss + l.len) return 'out';
      l.dval = pmdp_get(k.w, K, l.mm, pmd_index(l.da)); // dst_pmdval = pmdp_get_lockless(dst_pmd)
      if (pmd_trans_huge(l.dval)) {
        l.err = EEXIST;
        return 'out';
      }
      return 'thp';
    },
    // pmd_trans_huge_lock(src_pmd, src_vma): only is_swap_pmd / trans_huge pmds take the lock
    thp: (k, l) => (pmd_is_leafish(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.sa))) ? 'thp_lock' : 'pte_path'),
    thp_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'thp_check' : BLOCKED),
    thp_check: (k, l) => {
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.sa));
      // if (ptl && !pmd_trans_huge(*src_pmd)) { spin_unlock(ptl); ptl = NULL; }
      if (!pmd_trans_huge(v)) return 'thp_unlock_pte';
      if (!covers_pmd(l.da, l.sa, l.ss + l.len) || !pmd_none(l.dval)) {
        k.note(() => `remap_pages: src pmd is ${pmdText(v)}, move does not cover it: split_huge_pmd`);
        return 'thp_unlock_split';
      }
      return k.call(remap_pages_huge_pmd, [l.mm, l.dvma, l.svma, l.da, l.sa, l.dval], 'huge_done');
    },
    thp_unlock_pte: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'pte_path' : ENDED),
    thp_unlock_split: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'split' : ENDED),
    split: (k, l) => k.call(split_huge_pmd, [l.mm, l.svma, l.sa], 'loop'),
    huge_done: (k, l) => {
      l.err = k.rv;
      l.step = HPAGE_PMD_NR;
      return 'stepped';
    },
    pte_path: (k, l) => {
      const K = kern(k);
      if (pmd_none(pmdp_get(k.w, K, l.mm, pmd_index(l.sa)))) {
        if (!(l.mode & UFFDIO_MODE_ALLOW_SRC_HOLES)) {
          l.err = ENOENT;
          return 'out';
        }
        return k.call(__pte_alloc, [l.mm, pmd_index(l.sa)], 'src_alloced');
      }
      return 'dst_alloc';
    },
    src_alloced: (k, l) => {
      if (k.rv < 0) {
        l.err = ENOMEM;
        return 'out';
      }
      return 'dst_alloc';
    },
    dst_alloc: (k, l) => {
      // pte_alloc(dst_mm, dst_pmd): only when the pmd is none
      if (pmd_none(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.da)))) return k.call(__pte_alloc, [l.mm, pmd_index(l.da)], 'dst_alloced');
      return 'pte';
    },
    dst_alloced: (k, l) => {
      if (k.rv < 0) {
        l.err = ENOMEM;
        return 'out';
      }
      return 'pte';
    },
    pte: (k, l) => k.call(remap_pages_pte, [l.mm, l.dvma, l.svma, l.da, l.sa, l.mode], 'pte_done'),
    pte_done: (k, l) => {
      l.err = k.rv;
      l.step = 1;
      return 'stepped';
    },
    stepped: (_k, l) => {
      if (!l.err) {
        l.da += l.step;
        l.sa += l.step;
        l.moved += l.step;
      }
      if (l.err && l.err !== EAGAIN) return 'out';
      return 'loop';
    },
    out: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(l.moved ? l.moved : l.err) : ENDED),
  },
);

/**
 * remap_pages_pte (RFC v2, the code quoted in seed 001): args [mm, dst vma, src vma, dst vpn,
 * src vpn, mode]; 0 or -errno. Entered with mmap_lock held for read.
 */
export const remap_pages_pte = kproc(
  'remap_pages_pte',
  'mm/userfaultfd.c: remap_pages_pte (RFC v2)',
  (a) => ({
    mm: arg(a, 0),
    dvma: arg(a, 1),
    svma: arg(a, 2),
    da: arg(a, 3),
    sa: arg(a, 4),
    mode: arg(a, 5),
    dval: 0,
    sval: 0,
    dt: -1,
    st: -1,
    mapped: 0,
    odst: 0,
    osrc: 0,
    f: -1,
    av: -1,
    avlocked: 0,
    err: 0,
  }),
  {
    notify: (k, l) => k.call(mmu_notifier_invalidate_range_start, [l.mm, l.sa, l.sa + 1], 'retry'),
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
      k.call(remap_anon_pte, [l.mm, l.dvma, l.svma, l.da, l.sa, l.dt, l.st, l.odst, l.osrc, l.f, l.dval, l.sval], 'result'),
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
      return k.call(remap_swap_pte, [l.mm, l.da, l.sa, l.dt, l.st, l.odst, l.osrc, l.dval, l.sval], 'result');
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
      l.f = -1;
      return 'out_unmap';
    },
    out_unmap: (k, l) => {
      unmapBoth(k, l);
      return 'out_notify';
    },
    out_notify: (k, l) => k.call(mmu_notifier_invalidate_range_end, [l.mm, l.sa, l.sa + 1], 'done'),
    done: (k, l) => {
      k.note(() => `remap_pages_pte(dst ${l.da}, src ${l.sa}) = ${l.err}`);
      return k.ret(l.err);
    },
  },
);

/** BUG_ON(<pred>(*pmd)) as one step: the verdict, or undefined to go on. */
function bugOn(k: Ctx, mm: number, vpn: number, what: string, pred: (v: number) => boolean): number | undefined {
  const v = pmdp_get(k.w, kern(k), mm, pmd_index(vpn));
  k.note(() => `BUG_ON(${what}): pmd ${pmd_index(vpn)} is ${pmdText(v)}`);
  return k.BUG_ON(pred(v), what) ? ENDED : undefined;
}

/** Jann's fix: the pmd changed since the table was mapped → -EAGAIN after unlocking. */
function stale(k: Ctx, l: { err: number }, which: string, next: string): string {
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

/**
 * remap_anon_pte (RFC v2): args [mm, dst vma, src vma, dst vpn, src vpn, dst table, src table,
 * orig dst pte, orig src pte, folio, dst pmdval, src pmdval]; 0 or -EAGAIN. Folio and anon_vma
 * locked by the caller.
 */
export const remap_anon_pte = kproc(
  'remap_anon_pte',
  'mm/userfaultfd.c: remap_anon_pte (RFC v2)',
  (a) => ({
    mm: arg(a, 0),
    dvma: arg(a, 1),
    svma: arg(a, 2),
    da: arg(a, 3),
    sa: arg(a, 4),
    dt: arg(a, 5),
    st: arg(a, 6),
    odst: arg(a, 7),
    osrc: arg(a, 8),
    f: arg(a, 9),
    dval: arg(a, 10),
    sval: arg(a, 11),
    err: 0,
  }),
  {
    // double_pt_lock(dst_ptl, src_ptl): lock in address order
    lock1: (k, l) => {
      const K = kern(k);
      return k.spin_lock(first_of(K.ptlOf(l.dt), K.ptlOf(l.st))) ? 'lock2' : BLOCKED;
    },
    lock2: (k, l) => {
      const K = kern(k);
      if (l.dt === l.st) return 'check';
      return k.spin_lock(second_of(K.ptlOf(l.dt), K.ptlOf(l.st)), 1) ? 'check' : BLOCKED;
    },
    check: (k, l) => {
      const K = kern(k);
      const m = k.w;
      if (k.sw(FIX) && (pmdp_get(m, K, l.mm, pmd_index(l.da)) !== l.dval || pmdp_get(m, K, l.mm, pmd_index(l.sa)) !== l.sval)) {
        l.err = EAGAIN;
        k.note(() => 'remap_anon_pte: pmd changed under us (pmd_same failed under both PTLs): -EAGAIN');
        return 'unlock1';
      }
      if (ptep_get(k, K, l.st, pte_index(l.sa)) !== l.osrc || ptep_get(k, K, l.dt, pte_index(l.da)) !== l.odst || folio_test_large(m, K, l.f) || folio_mapcount(m, K, l.f) !== 1) {
        l.err = EAGAIN;
        return 'unlock1';
      }
      if (k.BUG_ON(!folio_test_anon(m, K, l.f), '!folio_test_anon(src_folio)')) return ENDED;
      folio_move_anon_rmap(m, K, l.f, l.dvma, l.da); // WRITE_ONCE(src_folio->mapping / ->index)
      return 'clear';
    },
    clear: (k, l) => {
      ptep_get_and_clear(k, kern(k), l.st, pte_index(l.sa)); // ptep_clear_flush(src_vma, src_addr, src_pte)
      return 'set';
    },
    set: (k, l) => {
      const K = kern(k);
      k.note(() => `remap_anon_pte: set_pte_at(dst vpn ${l.da}) in table ${l.dt}, dst pmd now ${pmdText(pmdp_get(k.w, K, l.mm, pmd_index(l.da)))}`);
      set_pte_at(k, K, l.dt, pte_index(l.da), moved_pte(l.f));
      return 'unlock1';
    },
    unlock1: (k, l) => (k.spin_unlock(first_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? 'unlock2' : ENDED),
    unlock2: (k, l) => {
      if (l.dt !== l.st && !k.spin_unlock(second_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st)))) return ENDED;
      return k.ret(l.err);
    },
  },
);

/**
 * remap_swap_pte (RFC v2): args [mm, dst vpn, src vpn, dst table, src table, orig dst, orig src,
 * dst pmdval, src pmdval]; 0, -EBUSY or -EAGAIN.
 */
export const remap_swap_pte = kproc(
  'remap_swap_pte',
  'mm/userfaultfd.c: remap_swap_pte (RFC v2)',
  (a) => ({ mm: arg(a, 0), da: arg(a, 1), sa: arg(a, 2), dt: arg(a, 3), st: arg(a, 4), odst: arg(a, 5), osrc: arg(a, 6), dval: arg(a, 7), sval: arg(a, 8), err: 0 }),
  {
    start: (k, l) => (l.osrc & _PAGE_SWP_EXCLUSIVE ? 'lock1' : k.ret(EBUSY)), // !pte_swp_exclusive
    lock1: (k, l) => (k.spin_lock(first_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? 'lock2' : BLOCKED),
    lock2: (k, l) => (l.dt === l.st || k.spin_lock(second_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st)), 1) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      const m = k.w;
      const pmdMoved = k.sw(FIX) && (pmdp_get(m, K, l.mm, pmd_index(l.da)) !== l.dval || pmdp_get(m, K, l.mm, pmd_index(l.sa)) !== l.sval);
      if (pmdMoved || ptep_get(k, K, l.st, pte_index(l.sa)) !== l.osrc || ptep_get(k, K, l.dt, pte_index(l.da)) !== l.odst) {
        l.err = EAGAIN;
        return 'unlock1';
      }
      return 'move';
    },
    move: (k, l) => {
      const K = kern(k);
      const e = ptep_get_and_clear(k, K, l.st, pte_index(l.sa));
      set_pte_at(k, K, l.dt, pte_index(l.da), e);
      k.note(() => `remap_swap_pte: ${pteText(e)} moved to dst vpn ${l.da}`);
      return 'unlock1';
    },
    unlock1: (k, l) => (k.spin_unlock(first_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? 'unlock2' : ENDED),
    unlock2: (k, l) => (l.dt === l.st || k.spin_unlock(second_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? k.ret(l.err) : ENDED),
  },
);

/**
 * remap_pages_huge_pmd (RFC v2, mm/huge_memory.c): args [mm, dst vma, src vma, dst vpn, src vpn,
 * dst pmdval]; entered holding the src pmd lock, returns with it released. 0, -EBUSY or -EAGAIN.
 */
export const remap_pages_huge_pmd = kproc(
  'remap_pages_huge_pmd',
  'mm/huge_memory.c: remap_pages_huge_pmd (RFC v2)',
  (a) => ({ mm: arg(a, 0), dvma: arg(a, 1), svma: arg(a, 2), da: arg(a, 3), sa: arg(a, 4), dval: arg(a, 5), sval: 0, f: -1, av: -1, err: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      l.sval = pmdp_get(k.w, K, l.mm, pmd_index(l.sa));
      if (k.BUG_ON(!pmd_trans_huge(l.sval), '!pmd_trans_huge(src_pmdval)') || k.BUG_ON(!pmd_none(l.dval), '!pmd_none(dst_pmdval)')) return ENDED;
      l.f = pfn_folio(pmd_pfn(l.sval));
      if (!PageAnonExclusive(k.w, K, l.f)) {
        l.err = EBUSY;
        l.f = -1;
        return 'unlock_src';
      }
      folio_get(k.w, K, l.f);
      return 'unlock_src';
    },
    unlock_src: (k, l) => {
      if (!k.spin_unlock(kern(k).mm(l.mm).page_table_lock)) return ENDED;
      if (l.err) return k.ret(l.err);
      // dst_mm == src_mm: no dst_pgtable preallocation
      return k.call(mmu_notifier_invalidate_range_start, [l.mm, l.sa, l.sa + HPAGE_PMD_NR], 'flock');
    },
    flock: (k, l) => (folio_lock(k, kern(k), l.f) ? 'av' : BLOCKED), // block all concurrent rmap walks
    av: (k, l) => {
      const K = kern(k);
      l.av = folio_get_anon_vma(k.w, K, l.f, folio_mapcount(k.w, K, l.f));
      if (l.av < 0) {
        l.err = EAGAIN;
        return 'unlock_folio';
      }
      return 'av_lock';
    },
    av_lock: (k, l) => (k.down_write(anon_vma_lock(kern(k), l.av)) ? 'ptl' : BLOCKED),
    // double_pt_lock(src_ptl, dst_ptl): both are mm->page_table_lock here (one lock)
    ptl: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      const m = k.w;
      if (pmdp_get(m, K, l.mm, pmd_index(l.sa)) !== l.sval || pmdp_get(m, K, l.mm, pmd_index(l.da)) !== l.dval || folio_mapcount(m, K, l.f) !== 1) {
        l.err = EAGAIN;
        return 'ptl_unlock';
      }
      folio_move_anon_rmap(m, K, l.f, l.dvma, l.da); // WRITE_ONCE(src_folio->mapping / ->index)
      return 'clear';
    },
    clear: (k, l) => {
      set_pmd(k.w, kern(k), l.mm, pmd_index(l.sa), 0); // pmdp_huge_clear_flush
      return 'set';
    },
    set: (k, l) => {
      const K = kern(k);
      set_pmd(k.w, K, l.mm, pmd_index(l.da), mk_huge_pmd(folio_pfn(l.f), _PAGE_RW | _PAGE_DIRTY));
      // pgtable_trans_huge_withdraw(src) + pgtable_trans_huge_deposit(dst)
      const t = pgtable_trans_huge_withdraw(k, l.mm, pmd_index(l.sa));
      if (t >= 0) pgtable_trans_huge_deposit(k, l.mm, pmd_index(l.da), t);
      k.note(() => `remap_pages_huge_pmd: huge pmd moved from pmd ${pmd_index(l.sa)} to pmd ${pmd_index(l.da)}`);
      return 'ptl_unlock';
    },
    ptl_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'av_unlock' : ENDED),
    av_unlock: (k, l) => (k.up_write(anon_vma_lock(kern(k), l.av)) ? 'unlock_folio' : ENDED),
    unlock_folio: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'notify_end' : ENDED),
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, [l.mm, l.sa, l.sa + HPAGE_PMD_NR], 'put'),
    put: (k, l) => {
      folio_put(k, kern(k), l.f);
      return k.ret(l.err);
    },
  },
);
