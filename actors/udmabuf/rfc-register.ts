/**
 * The RFC's notifier registration ("udmabuf: Replace pages when there is FALLOC_FL_PUNCH_HOLE in
 * memfd", RFC v1 2/3, Kasireddy, Jul 2023): find_guest_ram_vma walks the VMM's VMAs for the one
 * mapping the udmabuf's pages, and mmu_notifier_register(&ubuf->notifier, vmm_mm) subscribes to
 * that one mm. Simplified: one step (the RFC takes mmap_read_lock for the walk and
 * mmu_notifier_register takes mmap_write_lock).
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { kern, VMA_ATTACHED } from '../../src/kernel/kernel.js';
import { UB_MN_MM, UB_MN_VMA, udmabufs } from '../../src/kernel/udmabuf.js';

/** Register ub's update_mapping notifier on `mm` over the first VMA of `mm` mapping its memfd. */
export function rfc_register(k: Ctx, ub: number, mm: number): void {
  const K = kern(k);
  const U = udmabufs(k);
  const h = U.ub(ub);
  const vma = K.mapping(h.memfd).vmas.find((v) => K.vma(v).mm === mm && k.w.get(K.vmaSlot(v, VMA_ATTACHED)) !== 0) ?? -1;
  if (vma < 0) return;
  k.w.set(U.slot(ub, UB_MN_MM), mm + 1);
  k.w.set(U.slot(ub, UB_MN_VMA), vma + 1);
  k.note(() => `RFC: update_mapping notifier of ${h.name} registered on mm ${K.mm(mm).name} over ${K.vma(vma).name}`);
}
