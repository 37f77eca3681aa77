/**
 * memfd: each memfd's address_space (i_size, seals, the shmem_falloc range and waitqueue, the page
 * cache) with its inode and mapping locks and, for hugetlb, the fault mutex table.
 */
import type { ModelBuilder } from '../../engine/model.js';
import { defineRegion } from '../../engine/region.js';
import { LockKind } from '../../locks/space.js';
import { MAX_PC } from '../defs.js';
import type { MemfdDesc } from '../desc.js';
import { type LockId, type MemfdId, NO_LOCK, type VmaId } from '../ids.js';

export const MAPPING = defineRegion('mapping', 'the address_space of each memfd', {
  live: '1 once the memfd exists (memfd_create)',
  size: "i_size in the mapping's pages (huge pages for hugetlb)",
  seals: 'F_SEAL_* bits',
  nrpages: 'folios in the page cache',
  falloc_start: 'shmem_falloc: a punch in progress over [start, end) when end > start',
  falloc_end: 'shmem_falloc: end of the punched range',
  waitq: 'shmem_falloc_waitq: bitmask of sleeping threads',
  pc: ['page cache: folio id + 1 per index, 0 when empty', MAX_PC],
});

export interface MappingH {
  readonly id: MemfdId;
  readonly name: string;
  readonly hugetlb: boolean;
  /** A filesystem file using invalidate_lock (filemap_fault), not shmem (actors/mm/filemap.ts). */
  readonly fs: boolean;
  readonly base: number;
  readonly i_rwsem: LockId;
  readonly invalidate_lock: LockId;
  readonly i_mmap_rwsem: LockId;
  readonly i_pages: LockId; // xa_lock
  /** hugetlb_fault_mutex_table[hash(mapping, idx)]: one per index here. */
  readonly fault_mutex: LockId[];
  /** i_mmap: the VMAs that map it (attached ones are live). */
  readonly vmas: VmaId[];
}

/** The memfds of a model. */
export class Memfds {
  base = 0;
  readonly mappings: MappingH[] = [];
  readonly names = new Map<string, MemfdId>();

  reserve(b: ModelBuilder, n: number): void {
    this.base = b.layout.add(MAPPING, n);
  }

  /** Declare each memfd's locks and handle. */
  declare(b: ModelBuilder, memfds: readonly MemfdDesc[]): void {
    memfds.forEach((m, i) => {
      const id = i as MemfdId;
      if (m.pages > MAX_PC) throw new Error(`memfd ${m.name}: at most ${MAX_PC} pages`);
      const h: MappingH = {
        id,
        name: m.name,
        hugetlb: m.kind === 'hugetlb',
        fs: m.kind === 'fs',
        base: this.base + id * MAPPING.stride,
        i_rwsem: b.lock(`${m.name}.i_rwsem`, LockKind.Rwsem, 'i_rwsem'),
        invalidate_lock: b.lock(`${m.name}.invalidate_lock`, LockKind.Rwsem, 'invalidate_lock'),
        i_mmap_rwsem: b.lock(`${m.name}.i_mmap_rwsem`, LockKind.Rwsem, 'i_mmap_rwsem'),
        i_pages: b.lock(`${m.name}.i_pages`, LockKind.Spin, 'i_pages'),
        fault_mutex: m.kind === 'hugetlb' ? Array.from({ length: MAX_PC }, (_, i) => (i < m.pages ? b.lock(`hugetlb_fault_mutex[${m.name}:${i}]`, LockKind.Mutex, 'hugetlb_fault_mutex') : NO_LOCK)) : [],
        vmas: [],
      };
      this.mappings.push(h);
      this.names.set(m.name, id);
    });
  }

  slot(m: number, f: number): number {
    return this.base + m * MAPPING.stride + f;
  }

  mapping(id: number): MappingH {
    return this.mappings[id] as MappingH;
  }
}
