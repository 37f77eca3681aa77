/**
 * UFFDIO_REMAP as posted in "[PATCH v2 2/3] userfaultfd: UFFDIO_REMAP uABI" (Andrea Arcangeli,
 * Suren Baghdasaryan, 23 Sep 2023; quoted in seed 001): userfaultfd_remap → remap_pages (the whole
 * call under mmap_read_lock) → remap_pages_pte (remap-rfc-pte.ts) / remap_pages_huge_pmd
 * (remap-rfc-huge.ts). This file: the ioctl and the remap_pages loop, which validates the areas,
 * moves a huge src pmd whole or splits it, and allocates missing PTE tables.
 *
 * Variant switch (registered in src/scenario/uffd-ops.ts; Jann's remap_pmd_recheck is read by
 * remap-rfc-pte.ts and remap-rfc-movers.ts):
 *   uffd_file_vmas     the FIXME "tmpfs should be added" done naively: validate_remap_areas accepts
 *                      a file-backed (shmem) VMA.
 * Simplified: one mm (dst_mm == src_mm).
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { EAGAIN, EEXIST, EINVAL, ESRCH, HPAGE_PMD_NR, pmd_none, pmd_trans_huge, VM_SHARED } from '../../src/kernel/defs.js';
import { kern, MM_MMAP_CHANGING, MM_USERS, VMA_ATTACHED } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get } from '../../src/kernel/pgtable.js';
import { split_huge_pmd } from '../khugepaged/split.js';
import { anon_vma_prepare } from '../mm/common.js';
import { wake_userfault } from '../mm/userfault.js';
import {
  covers_pmd,
  pmd_is_leafish,
  pmdText,
  UFFDIO_MODE_ALLOW_SRC_HOLES,
  UFFDIO_MODE_DONTWAKE,
  VM_ACCESS_FLAGS,
  VM_LOCKED,
  VM_UFFD_FLAGS,
  vma_is_anonymous,
  vmFlags,
} from './common.js';
import { pteAllocSteps } from './pte-alloc.js';
import { remap_pages_huge_pmd } from './remap-rfc-huge.js';
import { remap_pages_pte } from './remap-rfc-pte.js';
import { type MmId, NO_VMA } from '../../src/kernel/ids.js';

const FILE = 'uffd_file_vmas';

/** userfaultfd_remap: args [mm, dst vpn, src vpn, pages, mode]; 0, -EAGAIN (short remap) or -errno. */
export const uffdio_remap = kproc(
  'userfaultfd_remap',
  'fs/userfaultfd.c: userfaultfd_remap (RFC v2)',
  (a: { mm: MmId; dst: number; src: number; len: number; mode: number }) => ({ mm: a.mm, dst: a.dst, src: a.src, len: a.len, mode: a.mode, ret: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (k.w.get(K.mm(l.mm).base + MM_MMAP_CHANGING)) return k.ret(EAGAIN);
      if (l.mode & ~(UFFDIO_MODE_ALLOW_SRC_HOLES | UFFDIO_MODE_DONTWAKE)) return k.ret(EINVAL);
      if (k.w.get(K.mm(l.mm).base + MM_USERS) === 0) return k.ret(ESRCH); // mmget_not_zero
      return k.call(remap_pages, { mm: l.mm, ds: l.dst, ss: l.src, len: l.len, mode: l.mode }, 'done');
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
  (a: { mm: MmId; ds: number; ss: number; len: number; mode: number }) => ({ mm: a.mm, ds: a.ds, ss: a.ss, len: a.len, mode: a.mode, dvma: NO_VMA, svma: NO_VMA, da: 0, sa: 0, moved: 0, err: EINVAL, dval: 0, step: 0 }),
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
      return k.call(remap_pages_huge_pmd, { mm: l.mm, dvma: l.dvma, svma: l.svma, da: l.da, sa: l.sa, dval: l.dval }, 'huge_done');
    },
    thp_unlock_pte: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'pte_path' : ENDED),
    thp_unlock_split: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'split' : ENDED),
    split: (k, l) => k.call(split_huge_pmd, { mm: l.mm, vma: l.svma, address: l.sa }, 'loop'),
    huge_done: (k, l) => {
      l.err = k.rv;
      l.step = HPAGE_PMD_NR;
      return 'stepped';
    },
    ...pteAllocSteps('out'),
    pte: (k, l) => k.call(remap_pages_pte, { mm: l.mm, dvma: l.dvma, svma: l.svma, da: l.da, sa: l.sa, mode: l.mode }, 'pte_done'),
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
