/**
 * Host importers of the guest's dma-buf, each checking every page it reads against the guest's
 * memory (importer_read's coherency check) before signalling its fence for the frame:
 *
 * - GPU (gl=on: dpy_gl_scanout_dmabuf → EGL import → the GPU driver attaches and maps the dma-buf
 *   under its resv and DMA-reads the pinned pages through the sg table),
 * - QEMU UI (gl=off: the dma-buf mmap, VM_PFNMAP, read by the CPU),
 * - Spice (CPU encode from the mmap, bracketed by DMA_BUF_IOCTL_SYNC begin/end),
 * - GStreamer (GPU encode through its own attachment).
 *
 * Each read is also checked against the value the guest rendered for that frame (a torn frame when
 * the guest wrote the next frame before the frame's fence).
 *
 * On Close the importer unmaps and detaches (drm_prime_gem_destroy:
 * dma_buf_unmap_attachment_unlocked, dma_buf_detach: each takes the resv) or munmaps, and signals
 * its `closed` fence so the VMM may close the dma-buf fd. Simplified: one read per page per frame;
 * encoders and displays are just reads.
 */
import { BLOCKED } from '../../src/engine/proc.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { importerProtocol } from '../../machines/virtio-gpu.js';
import { munmap } from '../mm/madvise.js';
import { attStateOf, dma_buf_attach, dma_buf_cpu_access, dma_buf_detach, dma_buf_map, dma_buf_unmap, importer_read, VIA_MMAP, VIA_SG } from '../udmabuf/dma-buf.js';
import { ATT_ATTACHED, ATT_NONE } from '../../src/kernel/udmabuf.js';
import { mmap_udmabuf } from '../udmabuf/udmabuf.js';
import { frameValue } from './guest.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

export const IMP_GPU = 0;
export const IMP_UI = 1;
export const IMP_SPICE = 2;
export const IMP_GSTREAMER = 3;
const usesMmap = (kind: number): boolean => kind === IMP_UI || kind === IMP_SPICE;

/** args [kind, vma (mmap importers), pages, fence frame 1, fence frame 2, fence closed, mm]. */
export const dma_buf_importer = kproc(
  'dma_buf_importer',
  'qemu ui/console.c: dpy_gl_scanout_dmabuf / dpy_gfx_update, ui/spice-display.c, gstreamer dmabuf import; drivers/dma-buf/dma-buf.c importer API',
  (a: { kind: number; vma: VmaId; pages: number; f0: number; f1: number; fclosed: number; mm: MmId }) => ({ kind: a.kind, vma: a.vma, pages: a.pages, f0: a.f0, f1: a.f1, fclosed: a.fclosed, mm: a.mm, ub: -1, frame: 0, page: 0 }),
  {
    take_import: (k, l) => {
      const m = k.msg.recv(importerProtocol);
      if (!m) return BLOCKED;
      if (m.type !== 'Import') return k.ret(-1);
      l.ub = m.fd;
      return usesMmap(l.kind) ? k.call(mmap_udmabuf, { ub: l.ub, vma: l.vma }, 'take') : k.call(dma_buf_attach, { ub: l.ub }, 'map');
    },
    map: (k, l) => k.call(dma_buf_map, { ub: l.ub, mm: l.mm }, 'take'),
    take: (k, l) => {
      const m = k.msg.recv(importerProtocol);
      if (!m) return BLOCKED;
      if (m.type === 'Close') {
        if (usesMmap(l.kind)) return k.call(munmap, { mm: kern(k).vma(l.vma).mm, vma: l.vma }, 'closed');
        const st = attStateOf(k, l.ub); // the importer's own attach->sgt / attach pointers
        if (st === ATT_NONE) return 'closed';
        return st === ATT_ATTACHED ? 'detach' : k.call(dma_buf_unmap, { ub: l.ub }, 'detach');
      }
      l.frame = m.type === 'Frame' ? m.frame : 0;
      l.page = 0;
      return l.kind === IMP_SPICE ? k.call(dma_buf_cpu_access, { ub: l.ub, end: 0 }, 'read') : 'read';
    },
    read: (k, l) => {
      if (l.page >= l.pages) return l.kind === IMP_SPICE ? k.call(dma_buf_cpu_access, { ub: l.ub, end: 1 }, 'signal') : 'signal';
      return k.call(importer_read, { ub: l.ub, page: l.page++, via: usesMmap(l.kind) ? VIA_MMAP : VIA_SG, vma: l.vma, frame: l.frame, want: frameValue(l.frame) }, 'read');
    },
    signal: (k, l) => {
      k.fence.signal(l.frame === 1 ? l.f0 : l.f1);
      return 'take';
    },
    detach: (k, l) => k.call(dma_buf_detach, { ub: l.ub }, 'closed'),
    closed: (k, l) => {
      k.fence.signal(l.fclosed);
      return k.ret(0);
    },
  },
);
