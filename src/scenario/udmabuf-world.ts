/**
 * The udmabuf part of a scenario's world: each `udmabufs:` entry becomes a udmabuf object
 * (src/kernel/udmabuf.ts) and each VMA with `dmabuf:` an mmap of it, detached until a
 * udmabuf_mmap operation runs mmap_udmabuf.
 */
import { udmabuf_invalidate_hmm, udmabuf_invalidate_move } from '../../actors/udmabuf/invalidate.js';
import type { ModelBuilder } from '../engine/model.js';
import { FOLIO_USED } from '../kernel/defs.js';
import { F_STATE, initMem, type Kernel, VMA_ATTACHED } from '../kernel/kernel.js';
import { buildUdmabufs, ubHoldsLiveFolios, type UdmabufDesc } from '../kernel/udmabuf.js';
import type { WorldSpec } from './world.js';
import type { VmaId } from '../kernel/ids.js';

/** Build the udmabufs of `w` (after buildKernel). */
export function buildUdmabufWorld(b: ModelBuilder, K: Kernel, w: WorldSpec): void {
  const specs = Object.entries(w.udmabufs ?? {});
  if (specs.length === 0) return;
  const descs: UdmabufDesc[] = specs.map(([name, u]) => {
    const memfd = K.mappingNames.get(u.memfd);
    if (memfd === undefined) throw new Error(`world.udmabufs.${name}.memfd: no memfd named "${u.memfd}"`);
    const pgoff = u.offset ?? 0;
    const size = w.memfds?.[u.memfd]?.pages ?? 0;
    if (pgoff + u.pages > size) throw new Error(`world.udmabufs.${name}: pages ${pgoff}..${pgoff + u.pages - 1} are beyond memfd ${u.memfd}'s ${size} pages`);
    const vmas: VmaId[] = [];
    for (const mm of Object.values(w.mms ?? {}))
      for (const [vn, v] of Object.entries(mm.vmas)) if (v.dmabuf === name) vmas.push(K.vmaNames.get(vn) as VmaId);
    return { name, memfd, pgoff, pages: u.pages, vmas };
  });
  const U = buildUdmabufs(b, descs);
  const m = initMem(b);
  for (const v of U.byVma.keys()) m.set(K.vma(v).base + VMA_ATTACHED, 0); // created by mmap(dmabuf fd)
  specs.forEach(([name, u], id) => {
    if (!u.notifier) return;
    const mm = K.mmNames.get(u.notifier.mm);
    if (mm === undefined) throw new Error(`world.udmabufs.${name}.notifier.mm: no mm named "${u.notifier.mm}"`);
    const start = u.notifier.kind === 'hmm' ? udmabuf_invalidate_hmm : udmabuf_invalidate_move;
    K.mm(mm).subscriptions.push({ name: `${name}.notifier`, start, end: null, arg: id });
  });
  const live = ubHoldsLiveFolios(K, U, (mem, f) => mem.get(K.fSlot(f, F_STATE)) === FOLIO_USED);
  b.invariants.push((world) => live(world));
}
