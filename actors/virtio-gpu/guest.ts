/**
 * The guest's virtio-gpu DRM driver (drivers/gpu/drm/virtio) rendering into a blob resource backed
 * by guest pages: RESOURCE_CREATE_BLOB with the page list, then per frame a CPU render into the
 * pages and a fenced SET_SCANOUT_BLOB/RESOURCE_FLUSH it waits on before touching the buffer again,
 * then RESOURCE_UNREF. Each command is a request on the control queue; its completion (the
 * fence the VMM signals through virtio_gpu_ctrl_response) is the reply.
 * Switch `guest_skips_fence_wait`: the driver renders the next frame into the buffer before the
 * previous flush's fence completed (it still waits before flushing again).
 * Simplified: the guest's stores go through the VMM's mapping of guest RAM (KVM's EPT view of the
 * same memfd pages); frame f writes the value 96 + f ('a', 'b', ...) into every page.
 */
import { ENDED, BLOCKED } from '../../src/engine/proc.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { guestProtocol, type VirtioGpu } from '../../machines/virtio-gpu.js';
import { cpu_access } from '../mm/access.js';
import type { VmaId } from '../../src/kernel/ids.js';

/** Frame f's pixel value. */
export const frameValue = (f: number): number => 96 + f;

/** The guest driver: args [vmm, vma, pages, frames]; 0, or the error the VMM answered. */
export const virtio_gpu_guest = kproc(
  'virtio_gpu_guest',
  'drivers/gpu/drm/virtio/virtgpu_vq.c: virtio_gpu_cmd_resource_create_blob, virtio_gpu_cmd_set_scanout_blob, virtio_gpu_cmd_resource_flush (fenced), virtio_gpu_cmd_unref_resource',
  (a: { vmm: number; vma: VmaId; pages: number; frames: number }) => ({ vmm: a.vmm, vma: a.vma, pages: a.pages, frames: a.frames, frame: 1, page: 0, ahead: 0 }),
  {
    create: (k, l) => (k.msg.call<VirtioGpu>(l.vmm, { type: 'CreateBlob', res: 1, pages: l.pages }) ? 'created' : ENDED),
    created: (k) => {
      const m = k.msg.recv(guestProtocol);
      if (!m) return BLOCKED;
      if (m.type !== 'Created' || m.err !== 0) return k.ret(m.type === 'Created' ? m.err : -1);
      return 'render';
    },
    render: (k, l) => {
      if (l.page >= l.pages) return l.ahead ? 'flushed' : 'flush';
      const mm = kern(k).vma(l.vma).mm;
      return k.call(cpu_access, { mm, vma: l.vma, page: l.page++, write: 1, value: frameValue(l.frame) }, 'render');
    },
    flush: (k, l) => {
      const flush = { type: 'Flush', res: 1, frame: l.frame } as const;
      if (!k.sw('guest_skips_fence_wait') || l.frame >= l.frames) return k.msg.call<VirtioGpu>(l.vmm, flush) ? 'flushed' : ENDED;
      // the bug: queue the flush without waiting and render the next frame into the same buffer
      // before the flush's fence completes
      if (!k.msg.send<VirtioGpu>(l.vmm, flush)) return ENDED;
      l.frame++;
      l.page = 0;
      l.ahead = 1;
      return 'render';
    },
    flushed: (k, l) => {
      const m = k.msg.recv(guestProtocol);
      if (!m) return BLOCKED;
      if (l.ahead) {
        l.ahead = 0;
        return 'flush';
      }
      l.frame++;
      l.page = 0;
      return l.frame <= l.frames ? 'render' : 'unref';
    },
    unref: (k, l) => (k.msg.call<VirtioGpu>(l.vmm, { type: 'Unref', res: 1 }) ? 'unrefed' : ENDED),
    unrefed: (k) => (k.msg.recv(guestProtocol) ? k.ret(0) : BLOCKED),
  },
);
