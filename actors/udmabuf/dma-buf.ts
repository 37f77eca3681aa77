/**
 * The dma-buf core (drivers/dma-buf/dma-buf.c) and the importers' side: attachments, the
 * reservation object (dma_resv, a ww_mutex), dma_buf_map_attachment under the resv (the locking
 * convention of the DOC comment, Osipenko Oct 2022), dma_buf_vmap, begin/end_cpu_access,
 * dma_buf_move_notify (dma_resv_assert_held, then importer_ops->move_notify of every attachment),
 * and an importer's read of one page through its sg table (a device DMA read), its vmap, or a
 * user mmap, followed by the coherency check: the value read must be what the guest's memory
 * (the memfd's page cache; a hole reads zero) holds at that offset.
 *
 * Locking follows mainline after Christian König's "dma-buf: dma-buf: stop mapping sg_tables on
 * attach" and "dma-buf: drop caching of sg_tables" (Feb 2025; udmabuf_ops lost .cache_sgt_mapping):
 * dma_buf_dynamic_attach and dma_buf_detach take dmabuf->resv (dma_resv_lock(resv, NULL)) around
 * list_add / list_del of the attachment, with nothing else held and nothing taken inside (udmabuf
 * has no ops->attach / ops->detach; those run without the resv); the mapping is made and torn down
 * only by dma_buf_map_attachment / dma_buf_unmap_attachment under the resv. Before the Feb 2025
 * series (v6.2 809d9c72c2f8 "dma-buf: Move dma_buf_attach() to dynamic locking specification" to
 * then) attach also mapped (map_udmabuf) a dynamic importer's attachment of the non-dynamic udmabuf
 * under the same resv and detach unmapped that cached sg table inside its resv section; no
 * catalogue scenario needs that form, so it is not modelled. Lock order: the resv is the outermost
 * lock of these paths; none of udmabuf's ops takes a lock of its own (vmap/vunmap only assert the
 * resv; begin/end_cpu_udmabuf touch ubuf->sg unlocked; release and mmap run without the resv since
 * "dma-buf: Change locking policy for mmap()", May 2023).
 *
 * Simplified: an attachment belongs to the thread that attached (one per thread and dma-buf);
 * dma_map_sgtable and the cache syncs of begin/end_cpu_access are not modelled (the model has no
 * caches), nor their might_lock(&dmabuf->resv->lock.base) annotation; the resv is locked without
 * an acquire context (dma_resv_lock(obj, NULL)).
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED, type JUMPED } from '../../src/engine/proc.js';
import { EBADFD, EINVAL, ENOMEM } from '../../src/kernel/defs.js';
import { filemap_get_folio } from '../../src/kernel/filemap.js';
import { folio_data } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { ATT_ATTACHED, ATT_MAPPED, ATT_MOVED, ATT_NONE, MAX_ATT, UB_ATT, UB_EXPORTED, UB_FOLIO, UB_SG, UB_STATE, UB_VMAP, UB_VMAP_PFN, udmabufs } from '../../src/kernel/udmabuf.js';
import { heldIndex } from '../../src/locks/lock.js';
import { WRITE } from '../../src/locks/space.js';
import { dmabuf_user_access, vmap_udmabuf } from './udmabuf.js';
import { type FolioId, type MmId, type VmaId, NO_FOLIO } from '../../src/kernel/ids.js';

/** Attachment slot value: state + 4 × (owner thread + 1). */
const attVal = (tid: number, state: number): number => state + 4 * (tid + 1);
/** The running thread's attachment to `ub`, or -1. */
export function attOf(k: Ctx, ub: number): number {
  const U = udmabufs(k);
  for (let a = 0; a < MAX_ATT; a++) if (k.w.get(U.slot(ub, UB_ATT + a)) >> 2 === k.tid + 1) return a;
  return -1;
}
const attState = (k: Ctx, ub: number, a: number): number => k.w.get(udmabufs(k).slot(ub, UB_ATT + a)) & 3;
/** The state of the running thread's attachment to `ub` (ATT_NONE without one). */
export function attStateOf(k: Ctx, ub: number): number {
  const a = attOf(k, ub);
  return a < 0 ? ATT_NONE : attState(k, ub, a);
}

/** dma_resv_assert_held(dmabuf->resv): a `warn` verdict (lockdep_assert_held) when the caller does not hold it. */
export function dma_resv_assert_held(k: Ctx, ub: number, where: string): boolean {
  const held = heldIndex(k.w, k.tid, udmabufs(k).ub(ub).resv, WRITE) >= 0;
  return !k.WARN_ON(!held, `lockdep_assert_held(&${udmabufs(k).ub(ub).name}.resv) in ${where}`);
}

/**
 * dma_buf_dynamic_attach (importer_ops with move_notify): args [ub]; the attachment index or
 * -errno. The importer calls it without the resv; the attachments list is updated under it.
 */
export const dma_buf_attach = kproc(
  'dma_buf_attach',
  'drivers/dma-buf/dma-buf.c: dma_buf_dynamic_attach (importer_ops with move_notify)',
  (a: { ub: number }) => ({ ub: a.ub, ret: 0 }),
  {
    lock: (k, l) => {
      if (k.w.get(udmabufs(k).slot(l.ub, UB_STATE)) !== UB_EXPORTED) return k.ret(EBADFD); // dma_buf_get(fd) fails
      // kzalloc(attach); no udmabuf ops->attach; dma_resv_lock(dmabuf->resv, NULL)
      return k.ww_mutex_lock(udmabufs(k).ub(l.ub).resv) === true ? 'list_add' : BLOCKED;
    },
    list_add: (k, l) => {
      const U = udmabufs(k);
      l.ret = ENOMEM; // no free attachment slot (the model's bound)
      for (let a = 0; a < MAX_ATT; a++) {
        if (k.w.get(U.slot(l.ub, UB_ATT + a)) !== ATT_NONE) continue;
        k.w.set(U.slot(l.ub, UB_ATT + a), attVal(k.tid, ATT_ATTACHED)); // list_add(&attach->node, &dmabuf->attachments)
        l.ret = a;
        break;
      }
      return 'unlock';
    },
    unlock: (k, l) => (k.mutex_unlock(udmabufs(k).ub(l.ub).resv) ? k.ret(l.ret) : ENDED), // dma_resv_unlock
  },
);

/**
 * An importer maps its attachment: dma_resv_lock; dma_buf_map_attachment (dma_resv_assert_held;
 * ops->map_dma_buf = map_udmabuf → get_sg_table: sg_set_folio(ubuf->folios[i])); dma_resv_unlock.
 * Args [ub, mm]; 0 or -errno. Switch `importer_uaccess_under_resv`: the importer's ioctl also
 * touches user memory (copy_from_user, whose fault takes mm's mmap_lock) while it holds the resv,
 * the nesting dma_resv_lockdep forbids.
 */
export const dma_buf_map = kproc(
  'dma_buf_map',
  'drivers/dma-buf/dma-buf.c: dma_buf_map_attachment → drivers/dma-buf/udmabuf.c: map_udmabuf → get_sg_table',
  (a: { ub: number; mm: MmId }) => ({ ub: a.ub, mm: a.mm, att: -1, ret: 0 }),
  {
    lock: (k, l) => (k.ww_mutex_lock(udmabufs(k).ub(l.ub).resv) === true ? 'map' : BLOCKED),
    map: (k, l) => {
      const U = udmabufs(k);
      l.att = attOf(k, l.ub);
      if (l.att < 0) l.ret = EINVAL;
      else {
        if (!dma_resv_assert_held(k, l.ub, 'dma_buf_map_attachment')) return ENDED;
        for (let i = 0; i < U.ub(l.ub).pages; i++) k.w.set(U.attSg(l.ub, l.att, i), k.w.get(U.slot(l.ub, UB_FOLIO + i)));
        k.w.set(U.slot(l.ub, UB_ATT + l.att), attVal(k.tid, ATT_MAPPED));
        k.note(() => `map_udmabuf ${U.ub(l.ub).name}: sg table of attachment ${l.att} built`);
      }
      return k.sw('importer_uaccess_under_resv') ? 'uaccess' : 'unlock';
    },
    uaccess: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'uaccess_done' : BLOCKED), // copy_from_user faults: lock_mm_and_find_vma
    uaccess_done: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'unlock' : ENDED),
    unlock: (k, l) => (k.mutex_unlock(udmabufs(k).ub(l.ub).resv) ? k.ret(l.ret) : ENDED),
  },
);

/** dma_buf_vmap with the resv held (dma_resv_lock; vmap_udmabuf; dma_resv_unlock). Args [ub]. */
export const dma_buf_vmap = kproc(
  'dma_buf_vmap',
  'drivers/dma-buf/dma-buf.c: dma_buf_vmap → drivers/dma-buf/udmabuf.c: vmap_udmabuf (vmap_pfn)',
  (a: { ub: number }) => ({ ub: a.ub }),
  {
    lock: (k, l) => (k.ww_mutex_lock(udmabufs(k).ub(l.ub).resv) === true ? 'vmap' : BLOCKED),
    vmap: (k, l) => {
      if (!dma_resv_assert_held(k, l.ub, 'vmap_udmabuf')) return ENDED;
      vmap_udmabuf(k, l.ub);
      return 'unlock';
    },
    unlock: (k, l) => (k.mutex_unlock(udmabufs(k).ub(l.ub).resv) ? k.ret(0) : ENDED),
  },
);

/**
 * dma_buf_begin_cpu_access / dma_buf_end_cpu_access (no resv): args [ub, end]; begin_cpu_udmabuf
 * builds ubuf->sg lazily (check and store are two steps: there is no lock around ubuf->sg),
 * end_cpu_udmabuf returns -EINVAL without it.
 */
export const dma_buf_cpu_access = kproc(
  'dma_buf_cpu_access',
  'drivers/dma-buf/udmabuf.c: begin_cpu_udmabuf / end_cpu_udmabuf',
  (a: { ub: number; end: number }) => ({ ub: a.ub, end: a.end }),
  {
    check: (k, l) => {
      const built = k.w.get(udmabufs(k).slot(l.ub, UB_SG)) !== 0;
      if (l.end) return k.ret(built ? 0 : EINVAL);
      return built ? k.ret(0) : 'build'; // else dma_sync_sgtable_for_cpu
    },
    build: (k, l) => {
      // ubuf->sg = get_sg_table(dev, buf, direction): kzalloc + sg_alloc_table + dma_map_sgtable may sleep
      const U = udmabufs(k);
      const prev = k.w.get(U.slot(l.ub, UB_SG));
      if (prev !== 0)
        return k.violated(`memory leak: begin_cpu_udmabuf of ${k.w.threadName(k.tid)} overwrites the ubuf->sg of ${U.ub(l.ub).name} that ${k.w.threadName(prev - 1)} built (no lock around ubuf->sg)`);
      k.w.set(U.slot(l.ub, UB_SG), k.tid + 1);
      return k.ret(0);
    },
  },
);

/** dma_buf_move_notify: args [ub]; asserts the resv is held, then invalidates every mapped attachment. */
export const dma_buf_move_notify = kproc(
  'dma_buf_move_notify',
  'drivers/dma-buf/dma-buf.c: dma_buf_move_notify',
  (a: { ub: number }) => ({ ub: a.ub }),
  {
    notify: (k, l) => {
      if (!dma_resv_assert_held(k, l.ub, 'dma_buf_move_notify')) return ENDED;
      const U = udmabufs(k);
      for (let a = 0; a < MAX_ATT; a++) {
        const v = k.w.get(U.slot(l.ub, UB_ATT + a));
        if ((v & 3) === ATT_MAPPED) k.w.set(U.slot(l.ub, UB_ATT + a), v - ATT_MAPPED + ATT_MOVED); // importer_ops->move_notify
      }
      k.note(() => `dma_buf_move_notify ${U.ub(l.ub).name}: mappings invalidated`);
      return k.ret(0);
    },
  },
);

export const VIA_SG = 0;
export const VIA_VMAP = 1;
export const VIA_MMAP = 2;
const VIA_NAMES = ['sg (device DMA)', 'vmap', 'mmap'];

/** What the guest's memory holds at memfd index `idx`: the page-cache folio's data, 0 for a hole. */
function guestValue(k: Ctx, memfd: number, idx: number): { f: number; v: number } {
  const K = kern(k);
  const f = filemap_get_folio(k.w, K, memfd, idx);
  return { f, v: f < 0 ? 0 : folio_data(k.w, K, f) };
}

/**
 * An importer reads page `page` of the dma-buf and checks it: args [ub, page, via, vma, frame,
 * want (-1: none)]; returns the value read. `via`: VIA_SG (a moved attachment is re-mapped first), VIA_VMAP,
 * VIA_MMAP (through `vma`). The coherency check names the page, the guest's value and the
 * importer's value; when `want` is given (the value the guest rendered for `frame`), the pixel must
 * also be that frame's (a torn frame otherwise: the guest wrote the next one before the fence).
 */
export const importer_read = kproc(
  'importer_read',
  'an importer: a GPU DMA read of its sg table, a kernel vmap read, or a user load from the mmap (QEMU UI, Spice)',
  (a: { ub: number; page: number; via: number; vma: VmaId; frame: number; want: number }) => ({ ub: a.ub, page: a.page, via: a.via, vma: a.vma, frame: a.frame, want: a.want, att: -1, f: NO_FOLIO, r: 0 }),
  {
    start: (k, l) => {
      if (l.via === VIA_MMAP) return k.call(dmabuf_user_access, { vma: l.vma, page: l.page, write: 0, value: 0 }, 'loaded');
      if (l.via === VIA_VMAP) return 'read_vmap';
      l.att = attOf(k, l.ub);
      if (l.att < 0) return k.ret(EINVAL);
      return attState(k, l.ub, l.att) === ATT_MOVED ? k.call(dma_buf_map, { ub: l.ub, mm: 0 as MmId }, 'read_sg') : 'read_sg';
    },
    read_sg: (k, l) => {
      const U = udmabufs(k);
      if (attState(k, l.ub, l.att) !== ATT_MAPPED) return k.ret(EINVAL);
      l.f = (k.w.get(U.attSg(l.ub, l.att, l.page)) - 1) as FolioId;
      l.r = folio_data(k.w, kern(k), l.f);
      return check(k, l);
    },
    read_vmap: (k, l) => {
      const U = udmabufs(k);
      if (k.w.get(U.slot(l.ub, UB_VMAP)) === 0) return k.ret(EINVAL);
      l.f = (k.w.get(U.slot(l.ub, UB_VMAP_PFN + l.page)) - 1) as FolioId;
      l.r = folio_data(k.w, kern(k), l.f);
      return check(k, l);
    },
    loaded: (k, l) => {
      l.r = k.rv;
      return check(k, l);
    },
  },
);

function check(k: Ctx, l: { ub: number; page: number; via: number; f: number; r: number; frame: number; want: number }): typeof ENDED | typeof JUMPED {
  const U = udmabufs(k);
  const h = U.ub(l.ub);
  const g = guestValue(k, h.memfd, h.pgoff + l.page);
  k.note(() => `${k.w.threadName(k.tid)} reads ${l.r} from ${h.name} page ${l.page} via ${VIA_NAMES[l.via]}`);
  if (g.v !== l.r) {
    const where = g.f < 0 ? 'a hole' : `folio ${g.f}`;
    return k.violated(
      `stale page: ${k.w.threadName(k.tid)} read ${l.r} from udmabuf ${h.name} page ${l.page}${l.f >= 0 ? ` (folio ${l.f})` : ''} via ${VIA_NAMES[l.via]}; the guest's memory holds ${g.v} (memfd index ${h.pgoff + l.page}: ${where})`,
    );
  }
  if (l.want >= 0 && l.r !== l.want)
    return k.violated(`torn frame: ${k.w.threadName(k.tid)} read ${l.r} from udmabuf ${h.name} page ${l.page} for frame ${l.frame}; the guest wrote ${l.want} for that frame`);
  return k.ret(l.r);
}

/**
 * An importer unmaps its attachment: dma_buf_unmap_attachment_unlocked (dma_resv_lock;
 * dma_buf_unmap_attachment: dma_resv_assert_held, ops->unmap_dma_buf = unmap_udmabuf →
 * put_sg_table; dma_resv_unlock). Args [ub]; 0 or -EINVAL (nothing mapped).
 */
export const dma_buf_unmap = kproc(
  'dma_buf_unmap',
  'drivers/dma-buf/dma-buf.c: dma_buf_unmap_attachment_unlocked → drivers/dma-buf/udmabuf.c: unmap_udmabuf → put_sg_table',
  (a: { ub: number }) => ({ ub: a.ub, ret: 0 }),
  {
    lock: (k, l) => (k.ww_mutex_lock(udmabufs(k).ub(l.ub).resv) === true ? 'unmap' : BLOCKED),
    unmap: (k, l) => {
      const U = udmabufs(k);
      const a = attOf(k, l.ub);
      const st = attStateOf(k, l.ub);
      if (st !== ATT_MAPPED && st !== ATT_MOVED) l.ret = EINVAL;
      else {
        if (!dma_resv_assert_held(k, l.ub, 'dma_buf_unmap_attachment')) return ENDED;
        for (let i = 0; i < U.ub(l.ub).pages; i++) k.w.set(U.attSg(l.ub, a, i), 0);
        k.w.set(U.slot(l.ub, UB_ATT + a), attVal(k.tid, ATT_ATTACHED));
      }
      return 'unlock';
    },
    unlock: (k, l) => (k.mutex_unlock(udmabufs(k).ub(l.ub).resv) ? k.ret(l.ret) : ENDED),
  },
);

/**
 * dma_buf_detach: args [ub]. Called without the resv; list_del under it (no udmabuf ops->detach).
 * The importer unmaps first (dma_buf_unmap); detaching a still-mapped attachment drops its slot
 * here (the kernel would leak the sg table: nothing unmaps it since sg tables are no longer cached).
 */
export const dma_buf_detach = kproc(
  'dma_buf_detach',
  'drivers/dma-buf/dma-buf.c: dma_buf_detach',
  (a: { ub: number }) => ({ ub: a.ub }),
  {
    lock: (k, l) => (k.ww_mutex_lock(udmabufs(k).ub(l.ub).resv) === true ? 'list_del' : BLOCKED), // dma_resv_lock(dmabuf->resv, NULL)
    list_del: (k, l) => {
      const a = attOf(k, l.ub);
      if (a >= 0) k.w.set(udmabufs(k).slot(l.ub, UB_ATT + a), ATT_NONE); // list_del(&attach->node)
      return 'unlock';
    },
    unlock: (k, l) => (k.mutex_unlock(udmabufs(k).ub(l.ub).resv) ? k.ret(0) : ENDED), // dma_resv_unlock; kfree(attach)
  },
);
