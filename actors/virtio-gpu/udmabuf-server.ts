/**
 * The udmabuf driver as an actor: it serves UDMABUF_CREATE_LIST (udmabuf_create: seal checks,
 * memfd_pin_folios, export; the reply carries the dma-buf fd) and the final close of the fd
 * (release_udmabuf). The kernel work runs as labelled steps of actors/udmabuf/udmabuf.ts in this
 * actor, with the VMM's mm as current->mm.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { kproc } from '../../src/kernel/kproc.js';
import { type VirtioGpu, udmabufProtocol } from '../../machines/virtio-gpu.js';
import { release_udmabuf, udmabuf_create } from '../udmabuf/udmabuf.js';
import type { MmId } from '../../src/kernel/ids.js';

/** args [ub, mm]: serve one create and the release. */
export const udmabuf_server = kproc(
  'udmabuf_server',
  'drivers/dma-buf/udmabuf.c: udmabuf_ioctl (UDMABUF_CREATE_LIST → udmabuf_create), dma_buf_release → release_udmabuf',
  (a: { ub: number; mm: MmId }) => ({ ub: a.ub, mm: a.mm, caller: -1 }),
  {
    take: (k, l) => {
      const m = k.msg.recv(udmabufProtocol);
      if (!m) return BLOCKED;
      l.caller = m.from;
      return m.type === 'Create' ? k.call(udmabuf_create, { ub: l.ub, mm: l.mm }, 'created') : k.call(release_udmabuf, { ub: l.ub }, 'released');
    },
    created: (k, l) => {
      const err = k.rv;
      return k.msg.reply<VirtioGpu>(l.caller, { type: 'Fd', fd: err === 0 ? l.ub : -1, err }) ? 'take' : ENDED;
    },
    released: (k) => k.ret(0),
  },
);
