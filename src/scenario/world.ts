/**
 * The `world` section of a scenario: memfds (shmem or hugetlb), processes (mms) with their VMAs,
 * HMM mirrors on VMAs, and pool sizes. Page numbers are in the mapping's pages (2 MB huge pages
 * for hugetlb, HPAGE_PMD_NR base pages each). VMA names are unique across the whole world.
 *
 *   world:
 *     memfds:
 *       guest: { kind: shmem, pages: 4, seals: [F_SEAL_SHRINK], populated: [0, 1] }
 *     mms:
 *       P:
 *         vmas:
 *           src: { pages: 4, populated: [0], uffd: [missing] }          # anonymous
 *           heap: { pages: 4, thp: true }                               # anonymous, MADV_HUGEPAGE (THP faults)
 *           buf: { memfd: guest, shared: true, pages: 4, populated: [0], mirror: { name: gpu, pages: 2 } }
 *           dev: { memfd: guest, shared: true, pfnmap: true, pages: 2, populated: [0] }
 */
import * as Schema from 'effect/Schema';
import type { ModelBuilder } from '../engine/model.js';
import { buildKernel, type KernelDesc, type VmaDesc } from '../kernel/build.js';
import { MAX_PC, SEAL_NAMES } from '../kernel/defs.js';
import { MAX_MIRROR_PAGES } from '../kernel/kernel.js';
import { MAX_UB_PAGES } from '../kernel/udmabuf.js';
import type { RefKind } from './ops.js';
import { buildUdmabufWorld } from './udmabuf-world.js';
import { buildSwapWorld, SwapSpec } from './swap-world.js';
import { ensureThpFaults } from '../../actors/mm/thp-deposit.js';

const Name = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));
const Pages = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_PC }));
const Count = (max: number) => Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: max }));
export const SealName = Schema.Literals(['F_SEAL_SEAL', 'F_SEAL_SHRINK', 'F_SEAL_GROW', 'F_SEAL_WRITE', 'F_SEAL_FUTURE_WRITE']);

export const MemfdSpec = Schema.Struct({
  /**
   * shmem (default), hugetlb (2 MB pages), or fs: a regular file of a filesystem that uses the
   * mapping's invalidate_lock (filemap_fault; hole punch under filemap_invalidate_lock).
   */
  kind: Schema.optional(Schema.Literals(['shmem', 'hugetlb', 'fs'])),
  /** i_size in pages. */
  pages: Pages,
  seals: Schema.optional(Schema.Array(SealName)),
  /** Page-cache indices holding a folio at the start. */
  populated: Schema.optional(Schema.Array(Page)),
  /** false: the memfd exists only after a memfd_create operation (default true). */
  created: Schema.optional(Schema.Boolean),
});

export const MirrorSpec = Schema.Struct({
  /** The HMM mirror's name (its driver lock is `<name>.lock`). */
  name: Name,
  first: Schema.optional(Page),
  pages: Schema.optional(Count(MAX_MIRROR_PAGES)),
});

export const VmaSpec = Schema.Struct({
  pages: Pages,
  /** The memfd this VMA maps (absent: anonymous private memory). */
  memfd: Schema.optional(Name),
  /** File offset in pages. */
  offset: Schema.optional(Page),
  /** MAP_SHARED (file VMAs). */
  shared: Schema.optional(Schema.Boolean),
  /** PROT_WRITE (default true). */
  write: Schema.optional(Schema.Boolean),
  /** VM_PFNMAP (a driver mapping such as udmabuf's: special PTEs, no struct-page GUP). */
  pfnmap: Schema.optional(Schema.Boolean),
  /** MADV_HUGEPAGE at mmap time (VM_HUGEPAGE: anonymous THP faults, THP "madvise" mode). */
  thp: Schema.optional(Schema.Boolean),
  /** userfaultfd registration modes. */
  uffd: Schema.optional(Schema.Array(Schema.Literals(['missing', 'minor', 'wp']))),
  /** Pages mapped at the start. */
  populated: Schema.optional(Schema.Array(Page)),
  /** An HMM mirror (mmu_interval_notifier + device page table) over some of this VMA's pages. */
  mirror: Schema.optional(MirrorSpec),
  /** An mmap of the named udmabuf's dma-buf fd (attached by a udmabuf_mmap operation). */
  dmabuf: Schema.optional(Name),
});

export const MmSpec = Schema.Struct({
  vmas: Schema.Record(Name, VmaSpec),
});

export const UdmabufSpec = Schema.Struct({
  /** The memfd of UDMABUF_CREATE_LIST's item. */
  memfd: Name,
  /** First page (memfd's unit) and how many. */
  offset: Schema.optional(Page),
  pages: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_UB_PAGES })),
  /** An invalidation notifier on an mm's guest-RAM mapping (the RFC thread's alternatives). */
  notifier: Schema.optional(Schema.Struct({ mm: Name, kind: Schema.Literals(['move_notify', 'hmm']) })),
});

export const WorldSpec = Schema.Struct({
  memfds: Schema.optional(Schema.Record(Name, MemfdSpec)),
  /** udmabufs a udmabuf_create operation exports (drivers/dma-buf/udmabuf.c). */
  udmabufs: Schema.optional(Schema.Record(Name, UdmabufSpec)),
  mms: Schema.optional(Schema.Record(Name, MmSpec)),
  /** A swap device and pages that start swapped out (swap-world.ts). */
  swap: Schema.optional(SwapSpec),
  /** Pool sizes (defaults fit the declared objects). */
  pools: Schema.optional(
    Schema.Struct({
      folios: Schema.optional(Count(64)),
      hugetlb: Schema.optional(Count(16)),
      tables: Schema.optional(Count(32)),
    }),
  ),
});
export type WorldSpec = typeof WorldSpec.Type;

/** Names the world declares, by kind (for cross-reference checks). */
export function worldNames(w: WorldSpec): Partial<Record<RefKind, string[]>> {
  const mms = Object.entries(w.mms ?? {});
  return {
    memfd: Object.keys(w.memfds ?? {}),
    mm: mms.map(([n]) => n),
    vma: mms.flatMap(([, mm]) => Object.keys(mm.vmas)),
  };
}

/** A page listed twice in `populated` would allocate a second folio for it. */
function noDuplicate(pages: readonly number[] | undefined, path: string): void {
  const seen = new Set<number>();
  for (const p of pages ?? []) {
    if (seen.has(p)) throw new Error(`${path}: page ${p} appears twice (each page is populated once)`);
    seen.add(p);
  }
}

/** The kernel description of a world section (throws on references the schema cannot check). */
export function kernelDesc(w: WorldSpec): KernelDesc {
  const memfds = Object.entries(w.memfds ?? {}).map(([name, m]) => {
    for (const p of m.populated ?? []) if (p >= m.pages) throw new Error(`world.memfds.${name}.populated: page ${p} is beyond its ${m.pages} pages`);
    noDuplicate(m.populated, `world.memfds.${name}.populated`);
    return {
      name,
      kind: m.kind ?? 'shmem',
      pages: m.pages,
      seals: (m.seals ?? []).reduce((a, s) => a | (SEAL_NAMES[s] ?? 0), 0),
      populated: m.populated ?? [],
      live: m.created ?? true,
    };
  });
  const known = new Set(memfds.map((m) => m.name));
  const mms = Object.entries(w.mms ?? {}).map(([name, mm]) => ({
    name,
    vmas: Object.entries(mm.vmas).map(([vn, v]): VmaDesc => {
      const path = `world.mms.${name}.vmas.${vn}`;
      noDuplicate(v.populated, `${path}.populated`);
      if (v.memfd !== undefined && !known.has(v.memfd)) throw new Error(`${path}.memfd: no memfd named "${v.memfd}" (known: ${[...known].join(', ') || 'none'})`);
      if (v.dmabuf !== undefined && !(v.dmabuf in (w.udmabufs ?? {}))) throw new Error(`${path}.dmabuf: no udmabuf named "${v.dmabuf}"`);
      if (v.dmabuf !== undefined && (v.memfd !== undefined || v.populated?.length || v.pfnmap || v.uffd || v.mirror))
        throw new Error(`${path}: a dmabuf VMA takes only pages, shared and write (mmap_udmabuf sets its flags)`);
      if (v.memfd === undefined && v.dmabuf === undefined && (v.shared || v.pfnmap)) throw new Error(`${path}: shared and pfnmap VMAs must map a memfd`);
      if (v.thp && (v.memfd !== undefined || v.dmabuf !== undefined)) throw new Error(`${path}.thp: only anonymous VMAs take thp (file THP faults are not modelled)`);
      const mirrorPages = Math.min(v.mirror?.pages ?? MAX_MIRROR_PAGES, v.pages - (v.mirror?.first ?? 0));
      return {
        name: vn,
        pages: v.pages,
        memfd: v.memfd,
        offset: v.offset,
        shared: v.shared,
        write: v.write,
        pfnmap: v.pfnmap,
        thp: v.thp,
        uffd: v.uffd,
        populated: v.populated,
        mirror: v.mirror ? { name: v.mirror.name, first: v.mirror.first ?? 0, pages: Math.max(1, mirrorPages) } : undefined,
      };
    }),
  }));
  return { memfds, mms, pools: w.pools };
}

/** Build the kernel objects into the model; returns name → id maps by kind. */
export function buildWorld(b: ModelBuilder, w: WorldSpec): Partial<Record<RefKind, Map<string, number>>> {
  const K = buildKernel(b, kernelDesc(w));
  buildUdmabufWorld(b, K, w);
  if (w.swap) buildSwapWorld(b, K, w.swap);
  if (Object.values(w.mms ?? {}).some((mm) => Object.values(mm.vmas).some((v) => v.thp))) ensureThpFaults(b);
  return { vma: new Map(K.vmaNames), memfd: new Map(K.mappingNames), mm: new Map(K.mmNames) };
}
