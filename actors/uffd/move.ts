/**
 * UFFDIO_MOVE (mm/userfaultfd.c and fs/userfaultfd.c; kernel-rules §3): userfaultfd_move →
 * move_pages, which locks the VMAs, then per pmd either moves a whole huge pmd
 * (move_pages_huge_pmd), splits it and retries, or moves one PTE (move_pages_pte, in move-pte.ts).
 * -EAGAIN from a step is retried in the kernel at the same address. Two versions:
 * - v6.8 (as merged, adef440691ba "userfaultfd: UFFDIO_MOVE uABI"): move_pages holds mmap_read_lock
 *   for the whole call (find_vma of both; validate_move_areas ends with anon_vma_prepare of dst);
 * - switch uffd_move_v6_9, the v6.9 changes: per-VMA read locks (uffd_move_lock, with the
 *   mmap_lock fallback: "userfaultfd: use per-vma locks in userfaultfd operations", Lokesh Gidra)
 *   and zero-page moves (move_zeropage_pte: "userfaultfd: handle zeropage moves by UFFDIO_MOVE",
 *   Suren Baghdasaryan), as today.
 * The dst_pmdval recheck is the other switch, uffd_move_recheck_dst_pmd (move-pte-movers.ts).
 *
 * Variant switch uffd_file_vmas (hypothetical, as for the RFC): validate_move_areas accepts
 * file-backed VMAs, to see whether each version's rechecks cover the file collapse paths. Simplified: one mm; no fatal signals; the userfaultfd ctx is the VMA's
 * registration (VM_UFFD_* flags).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  EAGAIN,
  EBUSY,
  EEXIST,
  EINVAL,
  ENOENT,
  ESRCH,
  HPAGE_PMD_NR,
  is_pmd_migration_entry,
  pfn_folio,
  pmd_none,
  pmd_pfn,
  pmd_trans_huge,
  VM_SHARED,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import { PageAnonExclusive } from '../../src/kernel/folio.js';
import { kern, MM_MMAP_CHANGING, MM_USERS, VMA_ATTACHED } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get } from '../../src/kernel/pgtable.js';
import { split_huge_pmd } from '../khugepaged/split.js';
import { anon_vma_prepare, lock_vma_under_rcu } from '../mm/common.js';
import { wake_userfault } from '../mm/userfault.js';
import {
  covers_pmd,
  pmd_is_leafish,
  pmdText,
  UFFDIO_MODE_ALLOW_SRC_HOLES,
  UFFDIO_MODE_DONTWAKE,
  VM_ACCESS_FLAGS,
  VM_LOCKED,
  VM_MOVE_INCOMPATIBLE,
  VM_UFFD_FLAGS,
  vma_anon_vma,
  vma_is_anonymous,
  vmFlags,
} from './common.js';
import { move_pages_huge_pmd } from './move-huge.js';
import { pteAllocSteps } from './pte-alloc.js';
import { move_pages_pte } from './move-pte.js';
import { type MmId, NO_VMA, type VmaId } from '../../src/kernel/ids.js';

const FILE = 'uffd_file_vmas';
const PER_VMA_LOCKS = 'uffd_move_v6_9'; // per-VMA locks since v6.9
const PMD_MIGRATION_FIX = 'uffd_move_pmd_migration_entry_fix'; // aba6faec0103, v6.17

/** userfaultfd_move: args [mm, dst vpn, src vpn, pages, mode]; 0, -EAGAIN (short move) or -errno. */
export const uffdio_move = kproc(
  'userfaultfd_move',
  'fs/userfaultfd.c: userfaultfd_move',
  (a: { mm: MmId; dst: number; src: number; len: number; mode: number }) => ({ mm: a.mm, dst: a.dst, src: a.src, len: a.len, mode: a.mode, ret: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (l.mode & ~(UFFDIO_MODE_ALLOW_SRC_HOLES | UFFDIO_MODE_DONTWAKE)) return k.ret(EINVAL);
      if (k.w.get(K.mm(l.mm).base + MM_USERS) === 0) return k.ret(ESRCH); // mmget_not_zero
      return k.call(move_pages, { mm: l.mm, da: l.dst, sa: l.src, len: l.len, mode: l.mode }, 'done');
    },
    done: (k, l) => {
      l.ret = k.rv;
      k.note(() => `UFFDIO_MOVE: move_pages returned ${l.ret}`);
      if (l.ret < 0) return k.ret(l.ret);
      return l.mode & UFFDIO_MODE_DONTWAKE ? 'result' : 'wake';
    },
    wake: (k, l) => {
      wake_userfault(k, kern(k), l.mm); // wake_userfault(ctx, &range) over the moved dst range
      return 'result';
    },
    result: (k, l) => k.ret(l.ret === l.len ? 0 : EAGAIN),
  },
);

/** Pack two VMA ids into uffd_move_lock's return value (non-negative), or an errno. */
const pack = (dvma: number, svma: number): number => dvma * 256 + svma;

/**
 * uffd_move_lock (CONFIG_PER_VMA_LOCK): args [mm, dst vpn, src vpn]; pack(dst vma, src vma) with
 * both VMAs read-locked, or -errno with none locked.
 */
export const uffd_move_lock = kproc(
  'uffd_move_lock',
  'mm/userfaultfd.c: uffd_move_lock (uffd_lock_vma, lock_vma_under_rcu, mmap_lock fallback)',
  (a: { mm: MmId; dst: number; src: number }) => ({ mm: a.mm, dst: a.dst, src: a.src, dvma: NO_VMA, svma: NO_VMA }),
  {
    // uffd_lock_vma(mm, dst_start): lock_vma_under_rcu, refused if the VMA has no anon_vma yet
    dst_rcu: (k, l) => {
      const K = kern(k);
      l.dvma = K.find_vma(l.mm, l.dst);
      if (l.dvma < 0) return 'dst_mmap';
      return lock_vma_under_rcu(k, K, l.dvma) ? 'dst_anon' : 'dst_mmap';
    },
    dst_anon: (k, l) => {
      const K = kern(k);
      if (vmFlags(k.w, K, l.dvma) & VM_SHARED || vma_anon_vma(k.w, K, l.dvma) >= 0) return 'src';
      return k.up_read(K.vma(l.dvma).vma_lock) ? 'dst_mmap' : ENDED; // vma_end_read: prepare it under mmap_lock
    },
    dst_mmap: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'dst_find' : BLOCKED),
    dst_find: (k, l) => {
      const K = kern(k);
      l.dvma = K.find_vma(l.mm, l.dst); // find_vma_and_prepare_anon
      if (l.dvma < 0 || !k.w.get(K.vmaSlot(l.dvma, VMA_ATTACHED))) return 'dst_fail';
      anon_vma_prepare(k, K, l.dvma);
      return 'dst_locked';
    },
    dst_locked: (k, l) => (k.down_read(kern(k).vma(l.dvma).vma_lock) ? 'dst_unlock_mmap' : BLOCKED), // vma_start_read_locked
    dst_unlock_mmap: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'src' : ENDED),
    dst_fail: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(ENOENT) : ENDED),
    // Skip finding src_vma if src_start is in dst_vma (also: never lock the same VMA twice)
    src: (k, l) => {
      const K = kern(k);
      const d = K.vma(l.dvma);
      if (l.src >= d.start && l.src < d.end) return k.ret(pack(l.dvma, l.dvma));
      // lock_vma_under_rcu(src), never uffd_lock_vma: its mmap_lock fallback while holding dst's VMA
      // lock deadlocks against mmap_write_lock + vma_start_write(src) + vma_start_write(dst)
      l.svma = K.find_vma(l.mm, l.src);
      if (l.svma >= 0 && lock_vma_under_rcu(k, K, l.svma)) return k.ret(pack(l.dvma, l.svma));
      return 'undo';
    },
    // Undo any locking and retry in mmap_lock critical section
    undo: (k, l) => (k.up_read(kern(k).vma(l.dvma).vma_lock) ? 'mmap' : ENDED),
    mmap: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'find' : BLOCKED),
    find: (k, l) => {
      const K = kern(k);
      // find_vmas_mm_locked
      l.dvma = K.find_vma(l.mm, l.dst);
      l.svma = K.find_vma(l.mm, l.src);
      if (l.dvma < 0 || l.svma < 0 || !k.w.get(K.vmaSlot(l.dvma, VMA_ATTACHED)) || !k.w.get(K.vmaSlot(l.svma, VMA_ATTACHED))) return 'fail';
      anon_vma_prepare(k, K, l.dvma);
      return 'lock_dst';
    },
    lock_dst: (k, l) => (k.down_read(kern(k).vma(l.dvma).vma_lock) ? 'lock_src' : BLOCKED),
    lock_src: (k, l) => {
      if (l.dvma === l.svma) return 'unlock_mmap';
      return k.down_read(kern(k).vma(l.svma).vma_lock, 1) ? 'unlock_mmap' : BLOCKED; // SINGLE_DEPTH_NESTING
    },
    unlock_mmap: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(pack(l.dvma, l.svma)) : ENDED),
    fail: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(ENOENT) : ENDED),
  },
);

/** validate_move_areas: 0 or -EINVAL. */
function validate_move_areas(k: Parameters<typeof kern>[0], svma: number, dvma: number): number {
  const K = kern(k);
  const sf = vmFlags(k.w, K, svma);
  const df = vmFlags(k.w, K, dvma);
  if ((sf & VM_ACCESS_FLAGS) !== (df & VM_ACCESS_FLAGS)) return EINVAL; // same access and protection
  if ((sf & VM_LOCKED) !== (df & VM_LOCKED)) return EINVAL;
  if (!(sf & VM_WRITE)) return EINVAL; // only between writable VMAs
  if (sf & VM_MOVE_INCOMPATIBLE || df & VM_MOVE_INCOMPATIBLE) return EINVAL; // vma_move_compatible
  if (!(df & VM_UFFD_FLAGS)) return EINVAL; // dst registered in this userfaultfd
  if (!k.sw(FILE) && (!vma_is_anonymous(K, svma) || !vma_is_anonymous(K, dvma))) return EINVAL;
  return 0;
}

/** move_pages: args [mm, dst vpn, src vpn, pages, mode]; pages moved, or -errno if none. */
export const move_pages = kproc(
  'move_pages',
  'mm/userfaultfd.c: move_pages',
  (a: { mm: MmId; da: number; sa: number; len: number; mode: number }) => ({ mm: a.mm, ds: a.da, ss: a.sa, len: a.len, mode: a.mode, dvma: NO_VMA, svma: NO_VMA, da: a.da, sa: a.sa, moved: 0, err: EINVAL, dval: 0, step: 0 }),
  {
    lock: (k, l) => {
      if (!k.sw(PER_VMA_LOCKS)) return k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'find_vmas' : BLOCKED; // v6.8: mmap_read_lock(mm)
      return k.call(uffd_move_lock, { mm: l.mm, dst: l.ds, src: l.ss }, 'locked');
    },
    find_vmas: (k, l) => {
      // v6.8: dst_vma = find_vma(mm, dst_start) ... src_vma = find_vma(mm, src_start); -EINVAL if
      // either is missing (validate_move_areas prepares dst's anon_vma once the checks pass)
      const K = kern(k);
      l.dvma = K.find_vma(l.mm, l.ds);
      l.svma = K.find_vma(l.mm, l.ss);
      if (l.dvma < 0 || l.svma < 0 || !k.w.get(K.vmaSlot(l.dvma, VMA_ATTACHED)) || !k.w.get(K.vmaSlot(l.svma, VMA_ATTACHED))) return 'unlock';
      return 'map_changing';
    },
    locked: (k, l) => {
      if (k.rv < 0) {
        l.err = k.rv;
        return 'out';
      }
      l.dvma = (k.rv >> 8) as VmaId;
      l.svma = (k.rv & 255) as VmaId;
      return 'map_changing';
    },
    // Re-check after taking map_changing_lock (ctx->map_changing_lock: not modelled as a lock; no
    // non-cooperative events here, so mmap_changing is only read)
    map_changing: (k, l) => {
      const K = kern(k);
      if (k.w.get(K.mm(l.mm).base + MM_MMAP_CHANGING)) {
        l.err = EAGAIN;
        return 'unlock';
      }
      const m = k.w;
      l.err = EINVAL;
      if (vmFlags(m, K, l.svma) & VM_SHARED || l.ss + l.len > K.vma(l.svma).end) return 'unlock';
      if (vmFlags(m, K, l.dvma) & VM_SHARED || l.ds + l.len > K.vma(l.dvma).end) return 'unlock';
      l.err = validate_move_areas(k, l.svma, l.dvma);
      if (l.err) {
        k.note(() => `validate_move_areas: ${l.err} (${vma_is_anonymous(K, l.dvma) ? 'anonymous' : 'file-backed'} dst)`);
        return 'unlock';
      }
      // v6.8 validate_move_areas, last: "Ensure the dst_vma has a anon_vma" (today: uffd_lock_vma did it)
      if (!k.sw(PER_VMA_LOCKS)) anon_vma_prepare(k, K, l.dvma);
      return 'loop';
    },
    loop: (k, l) => {
      const K = kern(k);
      if (l.sa >= l.ss + l.len) return 'unlock';
      // mm_find_pmd / mm_alloc_pmd: the pmds always exist here
      l.dval = pmdp_get(k.w, K, l.mm, pmd_index(l.da)); // dst_pmdval = pmdp_get_lockless(dst_pmd)
      if (pmd_trans_huge(l.dval)) {
        l.err = EEXIST; // be strict: don't override a THP at dst
        return 'unlock';
      }
      return 'thp';
    },
    thp: (k, l) => (pmd_is_leafish(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.sa))) ? 'thp_lock' : 'pte_path'),
    thp_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'thp_check' : BLOCKED),
    thp_check: (k, l) => {
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.sa));
      if (!pmd_is_leafish(v)) return 'thp_unlock_pte'; // __pmd_trans_huge_lock: changed under us
      if (!covers_pmd(l.da, l.sa, l.ss + l.len) || !pmd_none(l.dval)) {
        // Check if we can move the pmd without splitting it. Before "userfaultfd: fix a crash in
        // UFFDIO_MOVE when PMD is a migration entry" the folio is taken from *src_pmd even when it
        // is a migration entry (pmd_folio of a swap pmd: a bogus struct folio); since, only if
        // pmd_present, and a migration entry goes on to split_huge_pmd
        if (is_pmd_migration_entry(v)) {
          if (!k.sw(PMD_MIGRATION_FIX))
            return k.violated(`move_pages: pmd_folio(*src_pmd) of a pmd migration entry (pmd ${pmd_index(l.sa)}): the swap entry is read as a pfn, PageAnonExclusive of a bogus folio`);
          k.note(() => `move_pages: src pmd is a migration entry, the move does not cover it: split_huge_pmd`);
          return 'thp_unlock_split';
        }
        const f = pmd_trans_huge(v) ? pfn_folio(pmd_pfn(v)) : -1;
        if (f < 0 || !PageAnonExclusive(k.w, K, f)) {
          l.err = EBUSY;
          return 'thp_unlock_out';
        }
        k.note(() => `move_pages: src pmd is ${pmdText(v)}, the move does not cover it: split_huge_pmd`);
        return 'thp_unlock_split';
      }
      return k.call(move_pages_huge_pmd, { mm: l.mm, dvma: l.dvma, svma: l.svma, da: l.da, sa: l.sa, dval: l.dval }, 'huge_done');
    },
    thp_unlock_pte: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'pte_path' : ENDED),
    thp_unlock_out: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'unlock' : ENDED),
    thp_unlock_split: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'split' : ENDED),
    split: (k, l) => k.call(split_huge_pmd, { mm: l.mm, vma: l.svma, address: l.sa }, 'loop'), // the folio will be split by move_pages_pte()
    huge_done: (k, l) => {
      l.err = k.rv;
      l.step = HPAGE_PMD_NR;
      return 'stepped';
    },
    ...pteAllocSteps('unlock'),
    pte: (k, l) => k.call(move_pages_pte, { mm: l.mm, dvma: l.dvma, svma: l.svma, da: l.da, sa: l.sa, mode: l.mode }, 'pte_done'),
    pte_done: (k, l) => {
      l.err = k.rv;
      l.step = 1;
      return 'stepped';
    },
    stepped: (_k, l) => {
      if (l.err) return l.err === EAGAIN ? 'loop' : 'unlock';
      l.da += l.step;
      l.sa += l.step;
      l.moved += l.step;
      return 'loop';
    },
    // out_unlock: up_read(&ctx->map_changing_lock); uffd_move_unlock(dst_vma, src_vma) (v6.8: mmap_read_unlock)
    unlock: (k, l) => {
      if (!k.sw(PER_VMA_LOCKS)) return k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'out' : ENDED;
      return k.up_read(kern(k).vma(l.svma).vma_lock) ? 'unlock_dst' : ENDED;
    },
    unlock_dst: (k, l) => (l.svma === l.dvma || k.up_read(kern(k).vma(l.dvma).vma_lock) ? 'out' : ENDED),
    out: (k, l) => k.ret(l.moved ? l.moved : l.err),
  },
);
