/**
 * udmabuf / dma-buf operations of the scenario vocabulary (actors/udmabuf). A udmabuf is named by
 * its `world.udmabufs` key; pages are the udmabuf's pages.
 */
import * as Schema from 'effect/Schema';
import { dma_buf_attach, dma_buf_cpu_access, dma_buf_detach, dma_buf_map, dma_buf_unmap, dma_buf_vmap, importer_read, VIA_MMAP, VIA_SG, VIA_VMAP } from '../../actors/udmabuf/dma-buf.js';
import { mmap_udmabuf, release_udmabuf, udmabuf_create } from '../../actors/udmabuf/udmabuf.js';
import { rfc_guest_write } from '../../actors/udmabuf/rfc.js';
import { vmm_discard } from '../../actors/udmabuf/vmm.js';
import { MAX_PC } from '../kernel/defs.js';
import { MAX_UB_PAGES, type UdmabufId } from '../kernel/udmabuf.js';
import { UDMABUF } from '../kernel/sys/udmabuf.js';
import { type MemfdId, NO_VMA, type VmaId } from '../kernel/ids.js';
import { type CompileEnv, registerOp, registerSwitch } from './ops.js';
import { bind } from '../engine/proc.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const UbPage = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_UB_PAGES - 1 }));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));
const Pages = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_PC }));

/** The id of a udmabuf named in `world.udmabufs` (a clear error otherwise). */
export function udmabufId(env: CompileEnv, name: string): UdmabufId {
  const U = UDMABUF.find(env.b);
  const id = U?.names.get(name);
  if (id === undefined) throw new Error(`no udmabuf named "${name}" (declare it under world.udmabufs; known: ${[...(U?.names.keys() ?? [])].join(', ') || 'none'})`);
  return id;
}
const vmaId = (env: CompileEnv, name: string): VmaId => env.names.vma.get(name) as VmaId;

registerOp({
  name: 'udmabuf_create',
  doc: "ioctl(UDMABUF_CREATE_LIST) over the udmabuf's memfd range: seal checks under inode_lock_shared, memfd_pin_folios, export",
  fields: { udmabuf: Name },
  compile: (a: { udmabuf: string }, env) => ({ op: 'call', call: bind(udmabuf_create, { ub: udmabufId(env, a.udmabuf), mm: env.actor.mm }) }),
});

const simple: [string, string, typeof release_udmabuf][] = [
  ['dmabuf_release', 'the last dma_buf_put: release_udmabuf unpins every folio', release_udmabuf],
  ['dmabuf_attach', 'an importer attaches to the dma-buf (dma_buf_dynamic_attach, with move_notify: list_add under the resv)', dma_buf_attach],
  ['dmabuf_vmap', 'dma_buf_vmap under the resv (vmap_udmabuf: vmap_pfn of the pinned folios)', dma_buf_vmap],
  ['dmabuf_unmap', 'an importer unmaps its attachment under the resv (dma_buf_unmap_attachment_unlocked → unmap_udmabuf)', dma_buf_unmap],
  ['dmabuf_detach', 'an importer detaches (dma_buf_detach: list_del under the resv)', dma_buf_detach],
];
for (const [name, doc, proc] of simple) {
  registerOp({
    name,
    doc,
    fields: { udmabuf: Name },
    compile: (a: { udmabuf: string }, env) => ({ op: 'call', call: bind(proc, { ub: udmabufId(env, a.udmabuf) }) }),
  });
}

registerOp({
  name: 'dmabuf_map',
  doc: 'an importer maps its attachment under the resv (dma_buf_map_attachment → get_sg_table)',
  fields: { udmabuf: Name },
  compile: (a: { udmabuf: string }, env) => ({ op: 'call', call: bind(dma_buf_map, { ub: udmabufId(env, a.udmabuf), mm: env.actor.mm }) }),
});

registerOp({
  name: 'dmabuf_cpu_access',
  doc: 'DMA_BUF_IOCTL_SYNC: begin_cpu_udmabuf (or end_cpu_udmabuf with `end: true`)',
  fields: { udmabuf: Name, end: Schema.optional(Schema.Boolean) },
  compile: (a: { udmabuf: string; end?: boolean }, env) => ({ op: 'call', call: bind(dma_buf_cpu_access, { ub: udmabufId(env, a.udmabuf), end: a.end ? 1 : 0 }) }),
});

registerOp({
  name: 'udmabuf_mmap',
  doc: 'mmap the dma-buf fd at a VMA declared with `dmabuf:` (mmap_udmabuf: VM_SHARED required, VM_PFNMAP set)',
  fields: { udmabuf: Name, vma: Name },
  refs: { vma: 'vma' },
  compile: (a: { udmabuf: string; vma: string }, env) => {
    const ub = udmabufId(env, a.udmabuf);
    const U = UDMABUF.find(env.b);
    const v = vmaId(env, a.vma);
    if (U?.byVma.get(v) !== ub) throw new Error(`udmabuf_mmap: VMA ${a.vma} is not declared with \`dmabuf: ${a.udmabuf}\``);
    return { op: 'call', call: bind(mmap_udmabuf, { ub, vma: v }) };
  },
});

const VIA = { sg: VIA_SG, vmap: VIA_VMAP, mmap: VIA_MMAP } as const;
registerOp({
  name: 'dmabuf_read',
  doc: "an importer reads a page of the dma-buf (via its sg table, the vmap, or the mmap `vma`) and checks it against the guest's memory",
  fields: { udmabuf: Name, page: UbPage, via: Schema.Literals(['sg', 'vmap', 'mmap']), vma: Schema.optional(Name) },
  refs: { vma: 'vma' },
  compile: (a: { udmabuf: string; page: number; via: keyof typeof VIA; vma?: string }, env) => {
    if (a.via === 'mmap' && a.vma === undefined) throw new Error('dmabuf_read via mmap needs `vma` (a VMA declared with `dmabuf:`)');
    return { op: 'call', call: bind(importer_read, { ub: udmabufId(env, a.udmabuf), page: a.page, via: VIA[a.via], vma: a.vma === undefined ? NO_VMA : vmaId(env, a.vma), frame: 0, want: -1 }) };
  },
});

registerOp({
  name: 'vmm_discard',
  doc: 'the VMM discards guest RAM (ram_block_discard_range → FALLOC_FL_PUNCH_HOLE); skipped (QEMU virtio_balloon_inhibited, no error) when RAM discard is disabled',
  fields: { memfd: Name, page: Page, pages: Schema.optional(Pages) },
  refs: { memfd: 'memfd' },
  compile: (a: { memfd: string; page: number; pages?: number }, env) => ({
    op: 'call', call: bind(vmm_discard, { memfd: env.names.memfd.get(a.memfd) as MemfdId, page: a.page, pages: a.pages ?? 1 }),
  }),
});

registerSwitch('ram_discard_disabled', 'QEMU: RAM discard disabled while a udmabuf exists (ram_block_discard_disable, as for VFIO)');
registerSwitch('udmabuf_vm_insert_page', 'udmabuf before VM_PFNMAP: the fault maps the pinned page as a normal refcounted PTE (GUP can pin it)');
registerSwitch('dma_buf_require_pfnmap', 'dma-buf core: WARN_ON_ONCE(!(vma->vm_flags & VM_PFNMAP)) after ops->mmap ("dma-buf: Require VM_PFNMAP vma for mmap")');

registerOp({
  name: 'rfc_write',
  doc: "a guest store through a memfd mapping whose fault path carries the RFC's update_mapping hook",
  fields: { vma: Name, page: Page, value: Schema.optional(Schema.Int) },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page: number; value?: number }, env) => ({ op: 'call', call: bind(rfc_guest_write, { vma: vmaId(env, a.vma), page: a.page, value: a.value ?? 1 }) }),
});

registerSwitch('rfc_update_mapping', 'RFC v1: the update_mapping mmu notifier, called after the fault without the PTL (as posted)');
registerSwitch('rfc_update_under_ptl', 'RFC variant: call update_mapping under the page-table lock');
registerSwitch('rfc_no_mn_lock', 'RFC variant: update_udmabuf without ubuf->mn_lock');
registerSwitch('move_notify_without_resv', 'the move_notify notifier calls dma_buf_move_notify without taking the dma-buf resv');
registerSwitch('udmabuf_hmm_documented', 'the hmm notifier only invalidates; hmm_range_fault runs outside the callback (hmm.rst)');
registerSwitch('importer_uaccess_under_resv', 'the importer touches user memory (copy_from_user → mmap_lock) while holding the dma-buf resv');
registerSwitch('udmabuf_unlocked_seal_check', 'udmabuf_create checks seals and pins without inode_lock_shared (before "udmabuf: fix racy memfd sealing check", Dec 2024)');
