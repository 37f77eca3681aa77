/**
 * udmabuf / dma-buf objects (drivers/dma-buf/udmabuf.c struct udmabuf, drivers/dma-buf/dma-buf.c
 * struct dma_buf and its attachments): plain data in the world, static handles in `Udmabufs`.
 *
 *   ub   state (none → exported → released), pagecount, sg (ubuf->sg built by begin_cpu_access),
 *        vmap (a vmap_pfn mapping exists), the RFC's notifier (mm + 1, guest-RAM VMA + 1),
 *        folios[i] (folio + 1: ubuf->folios, each holding one FOLL_PIN pin),
 *        vmap_pfns[i] (folio + 1 that the kernel vaddr maps),
 *        per attachment: state (none, attached, mapped, moved) and its sg table (folio + 1 per page)
 *
 * Simplified: one memfd range per udmabuf (UDMABUF_CREATE_LIST with one item); pages are in the
 * memfd's unit (a hugetlb page is one udmabuf page, no subpage offsets); at most 4 pages and 4
 * attachments; a dma-buf's reservation object is one ww_mutex (dma_resv.lock) and its fences are
 * not modelled here.
 */
import type { Ctx } from '../engine/ctx.js';
import type { ModelBuilder } from '../engine/model.js';
import { LockKind } from '../locks/space.js';
import { F_SEAL_WRITE } from './defs.js';
import { type Kernel, M_SEALS, type Mem } from './kernel.js';

export const MAX_UB_PAGES = 4;
export const MAX_ATT = 4;

export const UB_NONE = 0;
export const UB_EXPORTED = 1;
export const UB_RELEASED = 2;

export const ATT_NONE = 0;
export const ATT_ATTACHED = 1;
export const ATT_MAPPED = 2; // dma_buf_map_attachment returned an sg table
export const ATT_MOVED = 3; // importer_ops->move_notify: the mapping must be recreated

const pages = (p: string) => Array.from({ length: MAX_UB_PAGES }, (_, i) => `${p}${i}`);
export const UB_FIELDS = [
  'state',
  'pagecount',
  'sg',
  'vmap',
  'mn_mm',
  'mn_vma',
  ...pages('folio'),
  ...pages('vmap_pfn'),
  ...Array.from({ length: MAX_ATT }, (_, a) => `att${a}`),
  ...Array.from({ length: MAX_ATT }, (_, a) => pages(`att${a}_sg`)).flat(),
] as const;
export const UB_STATE = 0;
export const UB_PAGECOUNT = 1;
export const UB_SG = 2;
export const UB_VMAP = 3;
export const UB_MN_MM = 4; // RFC: the mm the update_mapping notifier is registered on (+1)
export const UB_MN_VMA = 5; // RFC: the guest-RAM VMA find_guest_ram_vma found (+1)
export const UB_FOLIO = 6;
export const UB_VMAP_PFN = UB_FOLIO + MAX_UB_PAGES;
export const UB_ATT = UB_VMAP_PFN + MAX_UB_PAGES;
export const UB_ATT_SG = UB_ATT + MAX_ATT;

/** Static handle of one udmabuf. */
export interface UdmabufH {
  readonly id: number;
  readonly name: string;
  readonly base: number;
  /** The memfd and the range [pgoff, pgoff + pages) of UDMABUF_CREATE_LIST's one item. */
  readonly memfd: number;
  readonly pgoff: number;
  readonly pages: number;
  /** dma_buf->resv: the reservation object's ww_mutex (class dma_resv). */
  readonly resv: number;
  /** The RFC's ubuf->mn_lock mutex. */
  readonly mn_lock: number;
  /** VMAs declared as mmaps of this dma-buf (attached by mmap_udmabuf). */
  readonly vmas: number[];
}

export class Udmabufs {
  readonly list: UdmabufH[] = [];
  readonly names = new Map<string, number>();
  /** VMA id → the udmabuf it maps (vma->vm_private_data). */
  readonly byVma = new Map<number, number>();
  base = 0;

  ub(id: number): UdmabufH {
    return this.list[id] as UdmabufH;
  }
  slot(ub: number, f: number): number {
    return this.base + ub * UB_FIELDS.length + f;
  }
  attSg(ub: number, att: number, i: number): number {
    return this.slot(ub, UB_ATT_SG + att * MAX_UB_PAGES + i);
  }
}

export interface UdmabufDesc {
  readonly name: string;
  readonly memfd: number;
  readonly pgoff: number;
  readonly pages: number;
  readonly vmas: readonly number[];
}

/** Reserve memory and locks for the udmabufs; stores them as `b.objects.udmabuf`. */
export function buildUdmabufs(b: ModelBuilder, descs: readonly UdmabufDesc[]): Udmabufs {
  const U = new Udmabufs();
  U.base = b.layout.region('udmabuf', descs.length, UB_FIELDS);
  descs.forEach((d, id) => {
    if (d.pages > MAX_UB_PAGES) throw new Error(`udmabuf ${d.name}: at most ${MAX_UB_PAGES} pages`);
    U.list.push({
      id,
      name: d.name,
      base: U.base + id * UB_FIELDS.length,
      memfd: d.memfd,
      pgoff: d.pgoff,
      pages: d.pages,
      resv: b.lock(`${d.name}.resv`, LockKind.WwMutex, 'dma_resv'),
      mn_lock: b.lock(`${d.name}.mn_lock`, LockKind.Mutex, 'udmabuf_mn_lock'),
      vmas: [...d.vmas],
    });
    U.names.set(d.name, id);
    for (const v of d.vmas) U.byVma.set(v, id);
  });
  b.objects.udmabuf = U;
  return U;
}

/** The udmabufs of the running model. */
export function udmabufs(k: Ctx): Udmabufs {
  return k.w.model.objects.udmabuf as Udmabufs;
}

/** ubuf->folios[i] (a folio id), or -1. */
export const ub_folio = (m: Mem, U: Udmabufs, ub: number, i: number): number => m.get(U.slot(ub, UB_FOLIO + i)) - 1;

/**
 * The udmabuf invariants: each ubuf->folios entry of an exported udmabuf is a used folio, and no
 * udmabuf holds pins on a write-sealed memfd (F_SEAL_WRITE promises that its pages no longer
 * change; a pinned dma-buf can still be written by a device).
 */
export function ubHoldsLiveFolios(K: Kernel, U: Udmabufs, used: (m: Mem, f: number) => boolean) {
  return (m: Mem): string | null => {
    for (const h of U.list) {
      if (m.get(U.slot(h.id, UB_STATE)) !== UB_EXPORTED) continue;
      if (m.get(K.mapSlot(h.memfd, M_SEALS)) & F_SEAL_WRITE) return `udmabuf ${h.name} holds pins on pages of write-sealed memfd ${K.mapping(h.memfd).name}`;
      for (let i = 0; i < h.pages; i++) {
        const f = ub_folio(m, U, h.id, i);
        if (f >= 0 && f < K.nfolios && !used(m, f)) return `udmabuf ${h.name} page ${i} holds freed folio ${f} (use-after-free)`;
      }
    }
    return null;
  };
}
