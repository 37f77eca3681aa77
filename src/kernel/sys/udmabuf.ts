/**
 * udmabuf / dma-buf (drivers/dma-buf/udmabuf.c struct udmabuf, drivers/dma-buf/dma-buf.c struct
 * dma_buf and its attachments): one record per udmabuf declared from one field list, the static
 * handles (memfd range, reservation ww_mutex, the RFC's mn_lock, the VMAs that mmap it) and the
 * subsystem key actors read it through (`UDMABUF.of(k.w.model)`).
 */
import { type ModelBuilder, Subsystem } from '../../engine/model.js';
import { defineRegion } from '../../engine/region.js';
import { LockKind } from '../../locks/space.js';
import type { Id, LockId, MemfdId, VmaId } from '../ids.js';

export const MAX_UB_PAGES = 4;
export const MAX_ATT = 4;

/** A udmabuf (and the dma-buf it exports). */
export type UdmabufId = Id<'udmabuf'>;

export const UBUF = defineRegion('udmabuf', 'struct udmabuf and the dma_buf it exports', {
  state: 'UB_NONE, UB_EXPORTED, UB_RELEASED',
  pagecount: 'ubuf->pagecount',
  sg: '1 once begin_cpu_access built ubuf->sg',
  vmap: '1 while a vmap_pfn mapping exists',
  mn_mm: 'RFC: the mm the update_mapping notifier is registered on, + 1',
  mn_vma: 'RFC: the guest-RAM VMA find_guest_ram_vma found, + 1',
  folio: ['ubuf->folios: folio id + 1 per page, each holding one FOLL_PIN pin', MAX_UB_PAGES],
  vmap_pfn: ['the folio + 1 the kernel vaddr maps, per page', MAX_UB_PAGES],
  att: ['per attachment: (importer thread + 1) << 2 | state (ATT_NONE, ATT_ATTACHED, ATT_MAPPED, ATT_MOVED)', MAX_ATT],
  att0_sg: ['sg table of attachment 0: folio id + 1 per page', MAX_UB_PAGES],
  att1_sg: ['sg table of attachment 1: folio id + 1 per page', MAX_UB_PAGES],
  att2_sg: ['sg table of attachment 2: folio id + 1 per page', MAX_UB_PAGES],
  att3_sg: ['sg table of attachment 3: folio id + 1 per page', MAX_UB_PAGES],
});

/** Static handle of one udmabuf. */
export interface UdmabufH {
  readonly id: UdmabufId;
  readonly name: string;
  readonly base: number;
  /** The memfd and the range [pgoff, pgoff + pages) of UDMABUF_CREATE_LIST's one item. */
  readonly memfd: MemfdId;
  readonly pgoff: number;
  readonly pages: number;
  /** dma_buf->resv: the reservation object's ww_mutex (class dma_resv). */
  readonly resv: LockId;
  /** The RFC's ubuf->mn_lock mutex. */
  readonly mn_lock: LockId;
  /** VMAs declared as mmaps of this dma-buf (attached by mmap_udmabuf). */
  readonly vmas: VmaId[];
}

export interface UdmabufDesc {
  readonly name: string;
  readonly memfd: MemfdId;
  readonly pgoff: number;
  readonly pages: number;
  readonly vmas: readonly VmaId[];
}

/** The udmabufs of a model. */
export class Udmabufs {
  readonly list: UdmabufH[] = [];
  readonly names = new Map<string, UdmabufId>();
  /** VMA id → the udmabuf it maps (vma->vm_private_data). */
  readonly byVma = new Map<number, UdmabufId>();
  base = 0;

  reserve(b: ModelBuilder, n: number): void {
    this.base = b.layout.add(UBUF, n);
  }

  /** Declare each udmabuf's locks and handle (after reserve). */
  declare(b: ModelBuilder, descs: readonly UdmabufDesc[]): void {
    descs.forEach((d, i) => {
      const id = i as UdmabufId;
      if (d.pages > MAX_UB_PAGES) throw new Error(`udmabuf ${d.name}: at most ${MAX_UB_PAGES} pages`);
      this.list.push({
        id,
        name: d.name,
        base: this.base + id * UBUF.stride,
        memfd: d.memfd,
        pgoff: d.pgoff,
        pages: d.pages,
        resv: b.lock(`${d.name}.resv`, LockKind.WwMutex, 'dma_resv'),
        mn_lock: b.lock(`${d.name}.mn_lock`, LockKind.Mutex, 'udmabuf_mn_lock'),
        vmas: [...d.vmas],
      });
      this.names.set(d.name, id);
      for (const v of d.vmas) this.byVma.set(v, id);
    });
  }

  ub(id: number): UdmabufH {
    return this.list[id] as UdmabufH;
  }
  slot(ub: number, f: number): number {
    return this.base + ub * UBUF.stride + f;
  }
  /** Page `i` of attachment `att`'s sg table. */
  attSg(ub: number, att: number, i: number): number {
    return this.slot(ub, UBUF.off.att0_sg + att * MAX_UB_PAGES + i);
  }
}

export const UDMABUF = new Subsystem<Udmabufs>('udmabuf');
