/**
 * Branded ids of kernel objects: plain numbers at run time (indices into their subsystem's region
 * or handle table), distinct types to the compiler, so a VMA id cannot be passed where an mm id is
 * expected. Make one from a number only where it is created (a builder, a decoder): `n as VmaId`.
 */
import type { Id, LockId } from '../locks/ids.js';

export type { Id, LockId, ThreadId } from '../locks/ids.js';

export type MmId = Id<'mm'>;
export type VmaId = Id<'vma'>;
/** A PTE table in the page-table pool. */
export type TableId = Id<'pgtable'>;
export type FolioId = Id<'folio'>;
/** A memfd and its address_space (one mapping per memfd). */
export type MemfdId = Id<'memfd'>;
/** An HMM mirror (mmu_interval_notifier plus device page table). */
export type MirrorId = Id<'mirror'>;

export const NO_MM = -1 as MmId;
export const NO_LOCK = -1 as LockId;
/** "No such object" for locals that hold an id only part of the time. */
export const NO_TABLE = -1 as TableId;
export const NO_FOLIO = -1 as FolioId;
export const NO_VMA = -1 as VmaId;
export const NO_MIRROR = -1 as MirrorId;
export const NO_MEMFD = -1 as MemfdId;
