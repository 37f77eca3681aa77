/**
 * udmabuf / dma-buf objects (drivers/dma-buf/udmabuf.c struct udmabuf, drivers/dma-buf/dma-buf.c
 * struct dma_buf and its attachments): plain data in the world (the region declared in
 * sys/udmabuf.ts), static handles in `Udmabufs`; the constants, the builder and the invariants.
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
import { F_SEAL_WRITE } from './defs.js';
import { type Kernel, M_SEALS, type Mem } from './kernel.js';
import { UBUF, UDMABUF, type UdmabufDesc, Udmabufs } from './sys/udmabuf.js';

export { MAX_ATT, MAX_UB_PAGES, type UdmabufDesc, type UdmabufH, type UdmabufId, Udmabufs } from './sys/udmabuf.js';

export const UB_NONE = 0;
export const UB_EXPORTED = 1;
export const UB_RELEASED = 2;

export const ATT_NONE = 0;
export const ATT_ATTACHED = 1;
export const ATT_MAPPED = 2; // dma_buf_map_attachment returned an sg table
export const ATT_MOVED = 3; // importer_ops->move_notify: the mapping must be recreated

export const UB_FIELDS = UBUF.names;
export const UB_STATE = UBUF.off.state;
export const UB_PAGECOUNT = UBUF.off.pagecount;
export const UB_SG = UBUF.off.sg;
export const UB_VMAP = UBUF.off.vmap;
export const UB_MN_MM = UBUF.off.mn_mm;
export const UB_MN_VMA = UBUF.off.mn_vma;
export const UB_FOLIO = UBUF.off.folio;
export const UB_VMAP_PFN = UBUF.off.vmap_pfn;
export const UB_ATT = UBUF.off.att;
export const UB_ATT_SG = UBUF.off.att0_sg;

/** Reserve memory and locks for the udmabufs and register them as the model's UDMABUF subsystem. */
export function buildUdmabufs(b: ModelBuilder, descs: readonly UdmabufDesc[]): Udmabufs {
  const U = new Udmabufs();
  U.reserve(b, descs.length);
  U.declare(b, descs);
  return b.provide(UDMABUF, U);
}

/** The udmabufs of the running model. */
export function udmabufs(k: Ctx): Udmabufs {
  return UDMABUF.of(k.w.model);
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
