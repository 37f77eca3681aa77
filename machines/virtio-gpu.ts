/**
 * The udmabuf display pipeline's protocols (QEMU virtio-gpu with blob resources, gl=off or gl=on):
 * the guest's virtio-gpu driver talks to the VMM over the control queue (each command a request the
 * guest waits on, its completion the reply, which carries the command's fence), the VMM asks the
 * udmabuf driver for a dma-buf over the guest pages (UDMABUF_CREATE_LIST), hands it to the host
 * importers and tells them about each frame; importers signal DMA fences when they are done.
 */
import { protocol, vocabulary } from './protocol.js';

/** One vocabulary for every peer of the pipeline (peers must share it). */
export const virtioGpu = vocabulary('virtio-gpu', {
  CreateBlob: ['res', 'pages'], // VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB (+ ATTACH_BACKING's page list)
  Created: ['res', 'err'],
  Flush: ['res', 'frame'], // VIRTIO_GPU_CMD_SET_SCANOUT_BLOB / RESOURCE_FLUSH with VIRTIO_GPU_FLAG_FENCE
  Flushed: ['res', 'frame'],
  Unref: ['res'], // VIRTIO_GPU_CMD_RESOURCE_UNREF (after DETACH_BACKING)
  Unrefed: ['res'],
  Create: ['pages'], // ioctl(UDMABUF_CREATE_LIST)
  Fd: ['fd', 'err'],
  Import: ['fd'], // the dma-buf fd passed to an importer (dpy_gl_scanout_dmabuf, spice, gstreamer)
  Frame: ['frame'], // dpy_gfx_update / dpy_gl_update: a new frame is in the buffer
  Close: ['fd'], // the importer drops its attachment / mapping
  Release: ['fd'], // close(dma-buf fd): the last dma_buf_put
});
export type VirtioGpu = typeof virtioGpu.messages;

/** drivers/gpu/drm/virtio: create the blob, then flush frames (each waits for its fence), then unref. */
export const guestProtocol = protocol('virtio-gpu-guest', virtioGpu, {
  initial: 'idle',
  states: {
    idle: { on: { '!CreateBlob': 'creating' } },
    creating: { on: { '?Created': [{ target: 'ready', guard: 'ok' }, { target: 'idle' }] } },
    ready: { on: { '!Flush': 'flushing', '!Unref': 'unrefing' } },
    flushing: { on: { '?Flushed': 'ready' } },
    unrefing: { on: { '?Unrefed': 'done' } },
    done: { type: 'final' },
  },
}, { ok: (m) => m.err === 0 });

/** QEMU hw/display/virtio-gpu.c + virtio-gpu-udmabuf.c: serve the guest, export, fan frames out. */
export const vmmProtocol = protocol('virtio-gpu-vmm', virtioGpu, {
  initial: 'idle',
  states: {
    idle: { on: { '?CreateBlob': 'exporting' } },
    exporting: { on: { '!Create': 'creating' } },
    creating: { on: { '?Fd': [{ target: 'importing', guard: 'ok' }, { target: 'failing' }] } },
    failing: { on: { '!Created': 'idle' } },
    importing: { on: { '!Import': 'importing', '!Created': 'ready' } },
    ready: { on: { '?Flush': 'presenting', '?Unref': 'closing' } },
    presenting: { on: { '!Frame': 'presenting', '!Flushed': 'ready' } },
    closing: { on: { '!Close': 'closing', '!Release': 'released' } },
    released: { on: { '!Unrefed': 'done' } },
    done: { type: 'final' },
  },
}, { ok: (m) => m.err === 0 });

/** drivers/dma-buf/udmabuf.c as a server: one create, then the release of its dma-buf. */
export const udmabufProtocol = protocol('udmabuf', virtioGpu, {
  initial: 'idle',
  states: {
    idle: { on: { '?Create': 'creating' } },
    creating: { on: { '!Fd': 'exported' } },
    exported: { on: { '?Release': 'done' } },
    done: { type: 'final' },
  },
});

/** A host importer (GPU, QEMU UI, Spice, GStreamer): import, then frames, then close. */
export const importerProtocol = protocol('dma-buf-importer', virtioGpu, {
  initial: 'idle',
  states: {
    idle: { on: { '?Import': 'imported' } },
    imported: { on: { '?Frame': 'imported', '?Close': 'done' } },
    done: { type: 'final' },
  },
});

/** The pipeline's protocols by the name a scenario's actor gives in `protocol:`. */
export const PIPELINE_PROTOCOLS = {
  'virtio-gpu-guest': guestProtocol,
  'virtio-gpu-vmm': vmmProtocol,
  udmabuf: udmabufProtocol,
  'dma-buf-importer': importerProtocol,
} as const;
