/**
 * The kernel objects of one model: static handles (names, ranges, lock ids, memory bases) plus
 * the memory layout of their mutable state. A step finds them with `kern(k)`. Each subsystem is a
 * module in sys/ that declares its region(s) from one field list (offsets, slot names and the JSON
 * trace schema are generated from it); the field constants below are read from those lists.
 *
 *   mm        users, mmu-notifier sequence (subscriptions->invalidate_seq), waitq, pmds
 *   vma       vm_flags, attached, anon_vma
 *   pgtable   pool of PTE tables: state, owner (mm, pmd), RCU grace-period mask, PTRS_PER_PTE ptes
 *   folio     pool: state, refcount, mapcount, pincount, flags, order, mapping, index, data
 *   mapping   address_space of a memfd: live, i_size, seals, nrpages, shmem_falloc range, page cache
 *   mirror    an HMM mirror: mmu_interval_notifier seq + a device page table under a driver lock
 *   pins      per thread: the folios it holds FOLL_PIN pins on
 */
import type { Ctx } from '../engine/ctx.js';
import { type ModelBuilder, Subsystem } from '../engine/model.js';
import { MAX_PINS } from './defs.js';
import type { LockId, MemfdId, MmId, VmaId } from './ids.js';
import { FOLIO, type Folios } from './sys/folio.js';
import { MAPPING, type MappingH, type Memfds } from './sys/memfd.js';
import { MIRROR, type MirrorH, type Notifiers } from './sys/notifier.js';
import { MM, type MmH, type Mms, VMA, type VmaH } from './sys/mm.js';
import { type PageTables, PGTABLE } from './sys/pgtable.js';

/** Anything with int32 slots: a World at run time, the initial layout at build time. */
export interface Mem {
  get(i: number): number;
  set(i: number, v: number): void;
}

export const MM_FIELDS = MM.names;
export const MM_USERS = MM.off.users;
export const MM_INV_SEQ = MM.off.inv_seq;
export const MM_ACTIVE_INV = MM.off.active_inv;
export const MM_WAITQ = MM.off.waitq;
export const MM_MMAP_CHANGING = MM.off.mmap_changing;
export const MM_UFFD_WQ = MM.off.uffd_wq;
export const MM_UFFD_FAULT = MM.off.uffd_fault;

export const VMA_FIELDS = VMA.names;
export const VMA_FLAGS = VMA.off.flags;
export const VMA_ATTACHED = VMA.off.attached;
export const VMA_ANON_VMA = VMA.off.anon_vma;
export const VMA_IMMAP = VMA.off.immap;
export const VMA_WRITE_LOCKED = VMA.off.write_locked;

export const PT_FIELDS = PGTABLE.names;
export const PT_STATE = PGTABLE.off.state;
export const PT_OWNER = PGTABLE.off.owner;
export const PT_GP = PGTABLE.off.gp;
export const PT_PTE = PGTABLE.off.pte;

export const FOLIO_FIELDS = FOLIO.names;
export const F_STATE = FOLIO.off.state;
export const F_REF = FOLIO.off.refcount;
export const F_MAPCOUNT = FOLIO.off.mapcount;
export const F_PINCOUNT = FOLIO.off.pincount;
export const F_FLAGS = FOLIO.off.flags;
export const F_ORDER = FOLIO.off.order;
export const F_MAPPING = FOLIO.off.mapping;
export const F_INDEX = FOLIO.off.index;
export const F_DATA = FOLIO.off.data;

export const MAP_FIELDS = MAPPING.names;
export const M_LIVE = MAPPING.off.live;
export const M_SIZE = MAPPING.off.size;
export const M_SEALS = MAPPING.off.seals;
export const M_NRPAGES = MAPPING.off.nrpages;
export const M_FALLOC_START = MAPPING.off.falloc_start;
export const M_FALLOC_END = MAPPING.off.falloc_end;
export const M_WAITQ = MAPPING.off.waitq;
export const M_PC = MAPPING.off.pc;

export { MAX_MIRROR_PAGES } from './sys/notifier.js';
export const MIRROR_FIELDS = MIRROR.names;
export const MI_SEQ = MIRROR.off.seq;
export const MI_DEV = MIRROR.off.dev;
export const MI_PFNS = MIRROR.off.hmm_pfn;

export type { MmH, VmaH } from './sys/mm.js';
export type { MirrorH, NotifierOpArgs, Subscription } from './sys/notifier.js';


export type { MappingH } from './sys/memfd.js';

/**
 * The kernel objects of a model, one module per subsystem (sys/*.ts: each declares its memory
 * region from one field list and owns its handles and locks), with the flat slot and lookup API the
 * code paths use.
 */
export class Kernel {
  /** Tables in the pool. */
  readonly ntables: number;
  /** Folios [0, nNormal) come from the page allocator, [nNormal, nfolios) from the hugetlb pool. */
  readonly nfolios: number;
  readonly nNormal: number;
  readonly mms: readonly MmH[];
  readonly vmas: readonly VmaH[];
  readonly mappings: readonly MappingH[];
  readonly mirrors: readonly MirrorH[];
  /** The lock of each folio. */
  readonly folioLock: readonly LockId[];
  /** Names for notes: lock ids are also named in the lock table. */
  readonly mmNames: ReadonlyMap<string, MmId>;
  readonly vmaNames: ReadonlyMap<string, VmaId>;
  readonly mappingNames: ReadonlyMap<string, MemfdId>;
  // Region bases and handle tables, read once from the modules (they are fixed once reserved).
  private readonly mmBase: number;
  private readonly vmaBase: number;
  private readonly tableBase: number;
  private readonly folioBase: number;
  private readonly pinBase: number;
  private readonly mappingBase: number;
  private readonly mirrorBase: number;
  private readonly ptl: readonly LockId[];

  /** Compose the modules once their regions are reserved (buildKernel). */
  constructor(
    /** Page tables (sys/pgtable.ts). */
    readonly pgtable: PageTables,
    /** Folios and pins (sys/folio.ts). */
    readonly folio: Folios,
    /** mms and VMAs (sys/mm.ts). */
    readonly vm: Mms,
    /** memfds and their address_spaces (sys/memfd.ts). */
    readonly memfd: Memfds,
    /** HMM mirrors (sys/notifier.ts). */
    readonly notifier: Notifiers,
  ) {
    this.ntables = pgtable.n;
    this.tableBase = pgtable.base;
    this.ptl = pgtable.ptl;
    this.nfolios = folio.n;
    this.nNormal = folio.nNormal;
    this.folioBase = folio.base;
    this.pinBase = folio.pinBase;
    this.folioLock = folio.lock;
    this.mmBase = vm.mmBase;
    this.vmaBase = vm.vmaBase;
    this.mms = vm.mms;
    this.vmas = vm.vmas;
    this.mmNames = vm.mmNames;
    this.vmaNames = vm.vmaNames;
    this.mappingBase = memfd.base;
    this.mappings = memfd.mappings;
    this.mappingNames = memfd.names;
    this.mirrorBase = notifier.base;
    this.mirrors = notifier.mirrors;
  }

  // --- slots ---
  mmSlot(mm: number, f: number): number {
    return this.mmBase + mm * MM.stride + f;
  }
  pmdSlot(mm: number, pmd: number): number {
    return (this.mms[mm] as MmH).pmdBase + pmd;
  }
  vmaSlot(vma: number, f: number): number {
    return this.vmaBase + vma * VMA.stride + f;
  }
  ptSlot(t: number, f: number): number {
    return this.tableBase + t * PGTABLE.stride + f;
  }
  pteSlot(t: number, i: number): number {
    return this.tableBase + t * PGTABLE.stride + PT_PTE + i;
  }
  fSlot(f: number, field: number): number {
    return this.folioBase + f * FOLIO.stride + field;
  }
  mapSlot(m: number, f: number): number {
    return this.mappingBase + m * MAPPING.stride + f;
  }
  pcSlot(m: number, index: number): number {
    return this.mappingBase + m * MAPPING.stride + M_PC + index;
  }
  mirrorSlot(mi: number, f: number): number {
    return this.mirrorBase + mi * MIRROR.stride + f;
  }
  pinSlot(tid: number, i: number): number {
    return this.pinBase + tid * MAX_PINS + i;
  }

  // --- static lookups ---
  vma(id: number): VmaH {
    return this.vmas[id] as VmaH;
  }
  mm(id: number): MmH {
    return this.mms[id] as MmH;
  }
  mapping(id: number): MappingH {
    return this.mappings[id] as MappingH;
  }
  mirror(id: number): MirrorH {
    return this.mirrors[id] as MirrorH;
  }
  /** Virtual page of page `i` (mapping unit) of a VMA. */
  vpn(vma: number, i: number): number {
    const v = this.vma(vma);
    return v.start + (i << v.shift);
  }
  /** The VMA of `mm` containing virtual page `vpn`, or -1 (static ranges; check VMA_ATTACHED too). */
  find_vma(mm: number, vpn: number): VmaId {
    for (const id of this.mm(mm).vmas) {
      const v = this.vmas[id] as VmaH;
      if (vpn >= v.start && vpn < v.end) return id;
    }
    return -1 as VmaId;
  }
  /** Page-cache index that `vpn` maps in a file VMA (linear_page_index). */
  linear_page_index(vma: number, vpn: number): number {
    const v = this.vma(vma);
    return v.pgoff + ((vpn - v.start) >> v.shift);
  }
  isHugetlbFolio(f: number): boolean {
    return f >= this.nNormal;
  }
  /** The split PTE lock of a table (pte_lockptr). */
  ptlOf(t: number): LockId {
    return this.ptl[t] as LockId;
  }
}

/** The kernel objects of a model (registered by buildKernel). */
export const KERNEL = new Subsystem<Kernel>('kernel');

/** The kernel objects of the running model. */
export function kern(k: Ctx): Kernel {
  return KERNEL.of(k.w.model);
}

/** Layout-time memory (initial values). */
export function initMem(b: ModelBuilder): Mem {
  return { get: (i) => b.layout.init[i] as number, set: (i, v) => b.layout.initial(i, v) };
}

