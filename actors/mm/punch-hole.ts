/**
 * fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) on a memfd, and the truncation machinery
 * it shares with ftruncate.
 *
 * shmem (mm/shmem.c shmem_fallocate): inode_lock; F_SEAL_WRITE|F_SEAL_FUTURE_WRITE → -EPERM;
 * publish shmem_falloc (faults in the hole wait); unmap_mapping_range (i_mmap_rwsem read, a
 * notifier-bracketed zap per VMA); shmem_truncate_range → shmem_undo_range (per folio: lock,
 * unmap again if mapped, filemap_remove_folio, unlock); clear shmem_falloc, wake the waiters.
 *
 * hugetlbfs (fs/hugetlbfs/inode.c hugetlbfs_punch_hole): inode_lock; seals; i_mmap_lock_write;
 * hugetlb_vmdelete_list (hugetlb VMA lock trylock, unmap_hugepage_range); i_mmap_unlock_write;
 * remove_inode_hugepages (per index: fault mutex, folio lock, re-unmap if mapped, remove).
 *
 * fs (a filesystem using invalidate_lock, as ext4_punch_hole / xfs_file_fallocate do): inode_lock;
 * filemap_invalidate_lock (exclusive: no filemap_fault can instantiate a folio in the range);
 * truncate_pagecache_range (mm/truncate.c: unmap_mapping_range, truncate_inode_pages_range);
 * the blocks are freed (checked here: the page cache of the range must still be empty, else a
 * fault read the freed blocks back); filemap_invalidate_unlock; inode_unlock. Switch
 * bug_fs_punch_no_invalidate_lock drops the invalidate_lock (a planted bug).
 *
 * Indices are in the mapping's pages (huge pages for hugetlb). Simplified: shmem_undo_range does one
 * pass with blocking folio locks (the kernel's first pass trylocks, the second one waits).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { EPERM, F_SEAL_FUTURE_WRITE, F_SEAL_WRITE } from '../../src/kernel/defs.js';
import { filemap_get_folio, filemap_remove_folio, memfd_seals } from '../../src/kernel/filemap.js';
import { folio_index, folio_lock, folio_mapped, folio_mapping, folio_put, folio_try_get, folio_unlock } from '../../src/kernel/folio.js';
import { type Kernel, kern, M_FALLOC_END, M_FALLOC_START, M_WAITQ, type Mem, VMA_IMMAP } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { wake_up_all } from '../../src/kernel/waitq.js';
import { zap_page_range_single } from './zap.js';
import { type MemfdId, NO_FOLIO } from '../../src/kernel/ids.js';

export const NO_INVALIDATE_LOCK = 'bug_fs_punch_no_invalidate_lock';

/** The next VMA (position in i_mmap from `from`) linked in i_mmap and overlapping [start, end); -1 if none. */
function nextMapping(m: Mem, K: Kernel, map: number, start: number, end: number, from: number): number {
  const list = K.mapping(map).vmas;
  for (let i = from; i < list.length; i++) {
    const v = K.vma(list[i] as number);
    if (m.get(K.vmaSlot(v.id, VMA_IMMAP)) === 0) continue;
    if (v.pgoff < end && start < v.pgoff + v.pages) return i;
  }
  return -1;
}

/**
 * unmap_mapping_range(mapping, start, len, even_cows) → unmap_mapping_pages: args [memfd, start
 * index, end index, even_cows]. i_mmap_lock_read, then for each VMA of the file that overlaps, a
 * notifier-bracketed zap of the overlapping pages. Also serves hugetlb_vmdelete_list's and
 * hugetlb_unmap_file_folio's walks when `write` = 1 (i_mmap_lock_write).
 */
export const unmap_mapping_range = kproc(
  'unmap_mapping_range',
  'mm/memory.c: unmap_mapping_range → unmap_mapping_pages → unmap_mapping_range_tree',
  (a: { map: MemfdId; start: number; end: number; even_cows: number; write: number }) => ({ map: a.map, start: a.start, end: a.end, even_cows: a.even_cows, write: a.write, i: 0 }),
  {
    lock: (k, l) => {
      const lock = kern(k).mapping(l.map).i_mmap_rwsem;
      return (l.write ? k.down_write(lock) : k.down_read(lock)) ? 'vma' : BLOCKED;
    },
    vma: (k, l) => {
      const K = kern(k);
      const i = nextMapping(k.w, K, l.map, l.start, l.end, l.i);
      if (i < 0) return 'unlock';
      l.i = i + 1;
      const v = K.vma(K.mapping(l.map).vmas[i] as number);
      const s = Math.max(l.start, v.pgoff) - v.pgoff;
      const e = Math.min(l.end, v.pgoff + v.pages) - v.pgoff;
      return k.call(zap_page_range_single, { mm: v.mm, vma: v.id, start: K.vpn(v.id, s), end: K.vpn(v.id, e), even_cows: l.even_cows }, 'vma');
    },
    unlock: (k, l) => {
      const lock = kern(k).mapping(l.map).i_mmap_rwsem;
      return (l.write ? k.up_write(lock) : k.up_read(lock)) ? k.ret(0) : ENDED;
    },
  },
);

/**
 * shmem_undo_range / remove_inode_hugepages: args [memfd, start index, end index]. Each cached
 * folio in the range is locked (hugetlb: under its fault mutex), unmapped again if a fault mapped it
 * meanwhile, removed from the page cache, unlocked and released.
 */
export const truncate_range = kproc(
  'truncate_range',
  'mm/shmem.c: shmem_undo_range → mm/truncate.c: truncate_inode_folio; fs/hugetlbfs/inode.c: remove_inode_hugepages',
  (a: { map: MemfdId; index: number; end: number }) => ({ map: a.map, index: a.index, end: a.end, f: NO_FOLIO }),
  {
    lookup: (k, l) => {
      const K = kern(k);
      if (l.index >= l.end) return k.ret(0);
      // find_lock_entries / filemap_get_folios: a referenced folio
      l.f = filemap_get_folio(k.w, K, l.map, l.index);
      if (l.f >= 0 && !folio_try_get(k.w, K, l.f)) l.f = NO_FOLIO;
      if (l.f < 0) return 'next';
      if (k.sw('bug_truncate_under_i_mmap')) return 'bug_i_mmap_lock';
      return K.mapping(l.map).hugetlb ? 'fault_mutex' : 'lock';
    },
    bug_i_mmap_lock: (k, l) => (k.down_read(kern(k).mapping(l.map).i_mmap_rwsem) ? 'lock' : BLOCKED), // variant
    fault_mutex: (k, l) => (k.mutex_lock(kern(k).mapping(l.map).fault_mutex[l.index] as number) ? 'lock' : BLOCKED),
    lock: (k, l) => (folio_lock(k, kern(k), l.f) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      // truncate_inode_folio: if (folio->mapping != mapping) return -EIO (someone else truncated it)
      if (folio_mapping(k.w, K, l.f) !== l.map + 1 || folio_index(k.w, K, l.f) !== l.index) return 'unlock';
      if (!folio_mapped(k.w, K, l.f) || k.sw('bug_punch_skip_unmap')) return 'remove';
      // truncate_cleanup_folio → unmap_mapping_folio (hugetlb: hugetlb_unmap_file_folio, i_mmap write)
      return k.call(unmap_mapping_range, { map: l.map, start: l.index, end: l.index + 1, even_cows: 0, write: K.mapping(l.map).hugetlb ? 1 : 0 }, 'remove');
    },
    remove: (k, l) => {
      const K = kern(k);
      k.note(() => `filemap_remove_folio: folio ${l.f} leaves ${K.mapping(l.map).name} index ${l.index}`);
      filemap_remove_folio(k, K, l.map, l.f);
      return 'unlock';
    },
    unlock: (k, l) => {
      if (!folio_unlock(k, kern(k), l.f)) return ENDED;
      if (k.sw('bug_truncate_under_i_mmap')) return 'bug_i_mmap_unlock';
      return kern(k).mapping(l.map).hugetlb ? 'mutex_unlock' : 'put';
    },
    bug_i_mmap_unlock: (k, l) => (k.up_read(kern(k).mapping(l.map).i_mmap_rwsem) ? 'put' : ENDED),
    mutex_unlock: (k, l) => (k.mutex_unlock(kern(k).mapping(l.map).fault_mutex[l.index] as number) ? 'put' : ENDED),
    put: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'next';
    },
    next: (_k, l) => {
      l.index++;
      return 'lookup';
    },
  },
);

/** fallocate(PUNCH_HOLE): args [memfd, start index, pages]; 0 or -EPERM. */
export const punch_hole = kproc(
  'punch_hole',
  'mm/shmem.c: shmem_fallocate(FALLOC_FL_PUNCH_HOLE); fs/hugetlbfs/inode.c: hugetlbfs_punch_hole',
  (a: { map: MemfdId; start: number; len: number }) => ({ map: a.map, start: a.start, end: a.start + a.len, ret: 0 }),
  {
    inode_lock: (k, l) => (k.down_write(kern(k).mapping(l.map).i_rwsem) ? 'seals' : BLOCKED),
    seals: (k, l) => {
      const K = kern(k);
      if (memfd_seals(k.w, K, l.map) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
        l.ret = EPERM;
        return 'inode_unlock';
      }
      if (K.mapping(l.map).hugetlb) return k.call(unmap_mapping_range, { map: l.map, start: l.start, end: l.end, even_cows: 1, write: 1 }, 'remove'); // hugetlb_vmdelete_list
      if (K.mapping(l.map).fs) return k.sw(NO_INVALIDATE_LOCK) ? 'unmap' : 'invalidate_lock';
      // inode->i_private = &shmem_falloc (under i_lock)
      k.w.set(K.mapSlot(l.map, M_FALLOC_START), l.start);
      k.w.set(K.mapSlot(l.map, M_FALLOC_END), l.end);
      return 'unmap';
    },
    // filemap_invalidate_lock(mapping)
    invalidate_lock: (k, l) => (k.down_write(kern(k).mapping(l.map).invalidate_lock) ? 'unmap' : BLOCKED),
    unmap: (k, l) => {
      if (k.sw('bug_punch_skip_unmap')) return 'remove'; // variant: the folios leave the cache still mapped
      return k.call(unmap_mapping_range, { map: l.map, start: l.start, end: l.end, even_cows: 0, write: 0 }, 'remove');
    },
    remove: (k, l) => k.call(truncate_range, { map: l.map, index: l.start, end: l.end }, 'unpublish'),
    unpublish: (k, l) => {
      const K = kern(k);
      if (K.mapping(l.map).hugetlb) return 'inode_unlock';
      if (K.mapping(l.map).fs) return 'free_blocks';
      k.w.set(K.mapSlot(l.map, M_FALLOC_START), 0);
      k.w.set(K.mapSlot(l.map, M_FALLOC_END), 0);
      return 'wake';
    },
    // the filesystem frees the range's blocks (ext4_ext_remove_space): nothing may have read them back
    free_blocks: (k, l) => {
      const K = kern(k);
      for (let i = l.start; i < l.end; i++) {
        const f = filemap_get_folio(k.w, K, l.map, i);
        if (f >= 0) return k.violated(`punch_hole: ${K.mapping(l.map).name} index ${i} was read into the page cache (folio ${f}) while its blocks were being freed (stale data)`);
      }
      return k.sw(NO_INVALIDATE_LOCK) ? 'inode_unlock' : 'invalidate_unlock';
    },
    invalidate_unlock: (k, l) => (k.up_write(kern(k).mapping(l.map).invalidate_lock) ? 'inode_unlock' : ENDED),
    wake: (k, l) => {
      wake_up_all(k, kern(k).mapSlot(l.map, M_WAITQ));
      return 'inode_unlock';
    },
    inode_unlock: (k, l) => (k.up_write(kern(k).mapping(l.map).i_rwsem) ? k.ret(l.ret) : ENDED),
  },
);
