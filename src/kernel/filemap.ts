/**
 * address_space of a memfd (shmem or hugetlbfs): the page cache (index → folio, holding one
 * reference), i_mmap (the VMAs mapping it), i_size and seals. Lookups and stores are one visible
 * operation each; the i_pages xa_lock is folded into the store (simplified: no separate xa_lock step).
 */
import type { Ctx } from '../engine/ctx.js';
import { PG_uptodate, VM_SHARED, VM_WRITE } from './defs.js';
import { folio_mapped, folio_put } from './folio.js';
import { F_INDEX, F_MAPPING, F_FLAGS, type Kernel, M_LIVE, M_NRPAGES, M_SEALS, M_SIZE, type Mem, VMA_ATTACHED, VMA_FLAGS } from './kernel.js';
import type { FolioId } from './ids.js';

/** filemap_get_entry / xa_load: the cached folio at index, or -1. */
export function filemap_get_folio(m: Mem, K: Kernel, map: number, index: number): FolioId {
  return (m.get(K.pcSlot(map, index)) - 1) as FolioId;
}

/** filemap_add_folio / shmem_add_to_page_cache: the cache takes over the caller's extra reference. */
export function filemap_add_folio(m: Mem, K: Kernel, map: number, index: number, f: number): void {
  m.set(K.pcSlot(map, index), f + 1);
  m.set(K.fSlot(f, F_MAPPING), map + 1);
  m.set(K.fSlot(f, F_INDEX), index);
  m.set(K.fSlot(f, F_FLAGS), m.get(K.fSlot(f, F_FLAGS)) | PG_uptodate);
  m.set(K.mapSlot(map, M_NRPAGES), m.get(K.mapSlot(map, M_NRPAGES)) + 1);
}

/**
 * filemap_remove_folio (folio locked) → filemap_unaccount_folio, then the cache's reference dropped
 * (folio_put_refs in truncate_inode_folio / delete_from_page_cache). A folio still mapped when it
 * leaves the cache is the kernel's "BUG: Bad page cache ... still mapped when deleted": a verdict.
 */
export function filemap_remove_folio(k: Ctx, K: Kernel, map: number, f: number): void {
  const m = k.w;
  if (folio_mapped(m, K, f)) {
    k.violated(`BUG: Bad page cache in process ${k.w.threadName(k.tid)}: folio ${f} still mapped when deleted (filemap_unaccount_folio)`);
    return;
  }
  const index = m.get(K.fSlot(f, F_INDEX));
  m.set(K.pcSlot(map, index), 0);
  m.set(K.fSlot(f, F_MAPPING), 0);
  m.set(K.mapSlot(map, M_NRPAGES), m.get(K.mapSlot(map, M_NRPAGES)) - 1);
  folio_put(k, K, f);
}

export const i_size = (m: Mem, K: Kernel, map: number): number => m.get(K.mapSlot(map, M_SIZE));
export const memfd_seals = (m: Mem, K: Kernel, map: number): number => m.get(K.mapSlot(map, M_SEALS));
export const memfd_live = (m: Mem, K: Kernel, map: number): boolean => m.get(K.mapSlot(map, M_LIVE)) !== 0;

/** mapping_writably_mapped (i_mmap_writable > 0): an attached VM_SHARED|VM_WRITE VMA maps it. */
export function mapping_writably_mapped(m: Mem, K: Kernel, map: number): boolean {
  for (const v of K.mapping(map).vmas) {
    if (m.get(K.vmaSlot(v, VMA_ATTACHED)) === 0) continue;
    const fl = m.get(K.vmaSlot(v, VMA_FLAGS));
    if ((fl & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE)) return true;
  }
  return false;
}
