/**
 * The udmabuf display pipeline's actors as scenario operations (actors/virtio-gpu). Each runs one
 * actor's whole code path and speaks the protocol its actor declares (machines/virtio-gpu.ts).
 * An importer named X signals the fences `X.frame1`, `X.frame2` and `X.closed` (declare them under
 * `fences:`); the VMM waits on its importers' fences.
 */
import * as Schema from 'effect/Schema';
import { frameValue, virtio_gpu_guest } from '../../actors/virtio-gpu/guest.js';
import { dma_buf_importer, IMP_GPU, IMP_GSTREAMER, IMP_SPICE, IMP_UI } from '../../actors/virtio-gpu/importer.js';
import { udmabuf_server } from '../../actors/virtio-gpu/udmabuf-server.js';
import { IMPORTER_FENCES, MAX_IMPORTERS, virtio_gpu_vmm } from '../../actors/virtio-gpu/vmm.js';
import { NO_VMA, type VmaId } from '../kernel/ids.js';
import { UDMABUF } from '../kernel/sys/udmabuf.js';
import { MAX_UB_PAGES } from '../kernel/udmabuf.js';
import { type CompileEnv, registerOp, registerSwitch } from './ops.js';
import { udmabufId } from './udmabuf-ops.js';
import { bind } from '../engine/proc.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const UbPages = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_UB_PAGES }));
const FENCE_SUFFIX = ['frame1', 'frame2', 'closed'] as const;

const actorId = (env: CompileEnv, name: string): number => {
  const id = env.names.actor.get(name);
  if (id === undefined) throw new Error(`no actor named "${name}"`);
  return id;
};
/** The fences importer `name` signals, by the naming convention above. */
function importerFences(env: CompileEnv, name: string): number[] {
  return FENCE_SUFFIX.map((s) => {
    const id = env.names.fence.get(`${name}.${s}`);
    if (id === undefined) throw new Error(`importer ${name} needs the fence "${name}.${s}" (declare it under \`fences:\`)`);
    return id;
  });
}

registerOp({
  name: 'virtio_gpu_guest',
  doc: `the guest's virtio-gpu driver: create a blob over \`pages\` guest pages, render \`frames\` frames (frame f writes ${frameValue(1)} + f - 1) with fenced flushes, unref`,
  fields: { vmm: Name, vma: Name, pages: UbPages, frames: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 2 }))) },
  refs: { vmm: 'actor', vma: 'vma' },
  compile: (a: { vmm: string; vma: string; pages: number; frames?: number }, env) => ({
    op: 'call', call: bind(virtio_gpu_guest, { vmm: actorId(env, a.vmm), vma: env.names.vma.get(a.vma) as VmaId, pages: a.pages, frames: a.frames ?? 2 }),
  }),
});

registerOp({
  name: 'virtio_gpu_vmm',
  doc: 'the VMM (QEMU virtio-gpu): serve the guest, ask the udmabuf actor for a dma-buf, hand it to the importers, fan frames out and complete fences',
  fields: { udmabuf: Name, importers: Schema.Array(Name) },
  refs: { udmabuf: 'actor' },
  compile: (a: { udmabuf: string; importers: readonly string[] }, env) => {
    if (a.importers.length > MAX_IMPORTERS) throw new Error(`virtio_gpu_vmm: at most ${MAX_IMPORTERS} importers`);
    const imps = [0, 1].map((i) => (a.importers[i] === undefined ? -1 : actorId(env, a.importers[i] as string)));
    const fences = [0, 1].flatMap((i) => (a.importers[i] === undefined ? Array(IMPORTER_FENCES).fill(-1) : importerFences(env, a.importers[i] as string)));
    const [imp0, imp1] = imps as [number, number];
    const [f00, f01, f02, f10, f11, f12] = fences as [number, number, number, number, number, number];
    return { op: 'call', call: bind(virtio_gpu_vmm, { ub: actorId(env, a.udmabuf), imp0, imp1, f00, f01, f02, f10, f11, f12 }) };
  },
});

registerOp({
  name: 'udmabuf_server',
  doc: 'the udmabuf driver as an actor: serve UDMABUF_CREATE_LIST for the named udmabuf, then its release',
  fields: { udmabuf: Name },
  compile: (a: { udmabuf: string }, env) => ({ op: 'call', call: bind(udmabuf_server, { ub: udmabufId(env, a.udmabuf), mm: env.actor.mm }) }),
});

const KINDS = { gpu: IMP_GPU, ui: IMP_UI, spice: IMP_SPICE, gstreamer: IMP_GSTREAMER } as const;
registerOp({
  name: 'dma_buf_importer',
  doc: 'a host importer (gpu, gstreamer: attachment + DMA; ui, spice: the dma-buf mmap `vma`) checking every page of every frame',
  fields: { kind: Schema.Literals(['gpu', 'ui', 'spice', 'gstreamer']), pages: UbPages, vma: Schema.optional(Name) },
  refs: { vma: 'vma' },
  compile: (a: { kind: keyof typeof KINDS; pages: number; vma?: string }, env) => {
    const kind = KINDS[a.kind];
    let vma = NO_VMA;
    if (kind === IMP_UI || kind === IMP_SPICE) {
      if (a.vma === undefined) throw new Error(`a ${a.kind} importer reads the dma-buf mmap: give \`vma\` (declared with \`dmabuf:\`)`);
      vma = env.names.vma.get(a.vma) as VmaId;
      if (!UDMABUF.find(env.b)?.byVma.has(vma)) throw new Error(`VMA ${a.vma} is not declared with \`dmabuf:\``);
    }
    const [f0, f1, fclosed] = importerFences(env, env.actor.name) as [number, number, number];
    return { op: 'call', call: bind(dma_buf_importer, { kind, vma, pages: a.pages, f0, f1, fclosed, mm: env.actor.mm }) };
  },
});

registerSwitch('guest_skips_fence_wait', "the guest renders the next frame before the previous flush's fence completed");
