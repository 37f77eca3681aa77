/**
 * QEMU's virtio-gpu device model serving the guest (hw/display/virtio-gpu.c, virtio-gpu-udmabuf.c):
 * RESOURCE_CREATE_BLOB → virtio_gpu_init_udmabuf → virtio_gpu_create_udmabuf (UDMABUF_CREATE_LIST
 * over the guest RAM memfd), the dma-buf handed to every importer; RESOURCE_FLUSH → each
 * importer's update (dpy_gfx_update / dpy_gl_update), the guest's fence completed only once every
 * importer's fence for the frame is signalled; RESOURCE_UNREF → importers close, the udmabuf fd
 * is closed (virtio_gpu_fini_udmabuf), then the command completes.
 * Simplified: one blob resource; at most two importers; two frames.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { kproc } from '../../src/kernel/kproc.js';
import { type VirtioGpu, vmmProtocol } from '../../machines/virtio-gpu.js';

export const MAX_IMPORTERS = 2;
/** Fences per importer: frame 1, frame 2, closed. */
export const IMPORTER_FENCES = 3;

/**
 * The VMM: args [udmabuf actor, importer 0, importer 1 (-1: none), then IMPORTER_FENCES fence ids per
 * importer]; returns 0 when the guest unref'ed its resource.
 */
export const virtio_gpu_vmm = kproc(
  'virtio_gpu_vmm',
  'qemu hw/display/virtio-gpu.c: virtio_gpu_resource_create_blob, virtio_gpu_resource_flush, virtio_gpu_resource_unref; virtio-gpu-udmabuf.c: virtio_gpu_create_udmabuf',
  (a: { ub: number; imp0: number; imp1: number; f00: number; f01: number; f02: number; f10: number; f11: number; f12: number }) => ({
    ub: a.ub,
    imp0: a.imp0,
    imp1: a.imp1,
    f00: a.f00,
    f01: a.f01,
    f02: a.f02,
    f10: a.f10,
    f11: a.f11,
    f12: a.f12,
    guest: -1,
    pages: 0,
    fd: -1,
    frame: 0,
    i: 0,
  }),
  {
    serve: (k, l) => {
      const m = k.msg.recv(vmmProtocol);
      if (!m) return BLOCKED;
      l.guest = m.from;
      l.i = 0;
      if (m.type === 'CreateBlob') {
        l.pages = m.pages;
        return 'export';
      }
      if (m.type === 'Flush') {
        l.frame = m.frame;
        return 'present';
      }
      return 'close';
    },
    export: (k, l) => (k.msg.call<VirtioGpu>(l.ub, { type: 'Create', pages: l.pages }) ? 'exported' : ENDED),
    exported: (k, l) => {
      const m = k.msg.recv(vmmProtocol);
      if (!m) return BLOCKED;
      if (m.type !== 'Fd' || m.err !== 0) return k.msg.reply<VirtioGpu>(l.guest, { type: 'Created', res: 1, err: m.type === 'Fd' ? m.err : -1 }) ? 'serve' : ENDED;
      l.fd = m.fd;
      return 'import';
    },
    import: (k, l) => {
      const to = l.i === 0 ? l.imp0 : l.imp1;
      if (l.i >= MAX_IMPORTERS || to < 0) return k.msg.reply<VirtioGpu>(l.guest, { type: 'Created', res: 1, err: 0 }) ? 'serve' : ENDED;
      l.i++;
      return k.msg.send<VirtioGpu>(to, { type: 'Import', fd: l.fd }) ? 'import' : ENDED;
    },
    present: (k, l) => {
      const to = l.i === 0 ? l.imp0 : l.imp1;
      if (l.i >= MAX_IMPORTERS || to < 0) {
        l.i = 0;
        return 'wait';
      }
      l.i++;
      return k.msg.send<VirtioGpu>(to, { type: 'Frame', frame: l.frame }) ? 'present' : ENDED;
    },
    wait: (k, l) => {
      // the guest's fence completes once every importer's fence for this frame is signalled
      const f = fenceOf(l, l.i, l.frame - 1);
      if (f >= 0 && !k.fence.wait(f)) return BLOCKED;
      if (++l.i < MAX_IMPORTERS) return 'wait';
      return k.msg.reply<VirtioGpu>(l.guest, { type: 'Flushed', res: 1, frame: l.frame }) ? 'serve' : ENDED;
    },
    close: (k, l) => {
      const to = l.i === 0 ? l.imp0 : l.imp1;
      if (l.i >= MAX_IMPORTERS || to < 0) {
        l.i = 0;
        return 'closed';
      }
      l.i++;
      return k.msg.send<VirtioGpu>(to, { type: 'Close', fd: l.fd }) ? 'close' : ENDED;
    },
    closed: (k, l) => {
      const f = fenceOf(l, l.i, 2);
      if (f >= 0 && !k.fence.wait(f)) return BLOCKED;
      if (++l.i < MAX_IMPORTERS) return 'closed';
      return k.msg.send<VirtioGpu>(l.ub, { type: 'Release', fd: l.fd }) ? 'unrefed' : ENDED;
    },
    unrefed: (k, l) => (k.msg.reply<VirtioGpu>(l.guest, { type: 'Unrefed', res: 1 }) ? k.ret(0) : ENDED),
  },
);

/** Importer i's fence j (-1 when there is no importer i). */
function fenceOf(l: { imp0: number; imp1: number; f00: number; f01: number; f02: number; f10: number; f11: number; f12: number }, i: number, j: number): number {
  if (i === 0) return l.imp0 < 0 ? -1 : j === 0 ? l.f00 : j === 1 ? l.f01 : l.f02;
  return l.imp1 < 0 ? -1 : j === 0 ? l.f10 : j === 1 ? l.f11 : l.f12;
}
