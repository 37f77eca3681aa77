/**
 * The swap part of a scenario's world: `swap: { slots, synchronous, swapped }` declares the swap
 * device (src/kernel/swap.ts); each `swapped` entry is a populated anonymous page that starts out
 * swapped out (its data on a slot, a swap PTE in its place, the folio freed), as after a completed
 * reclaim.
 */
import * as Schema from 'effect/Schema';
import type { ModelBuilder } from '../engine/model.js';
import { _PAGE_SWP_EXCLUSIVE, FOLIO_FREE, MAX_PC, mk_swap_pte, pfn_folio, pmd_is_table, pmd_table, pte_pfn, pte_present } from '../kernel/defs.js';
import { F_DATA, F_STATE, FOLIO_FIELDS, initMem, type Kernel } from '../kernel/kernel.js';
import { pmd_index, pte_index } from '../kernel/pgtable.js';
import { buildSwap, folio_alloc_swap, SWAP_HAS_CACHE } from '../kernel/swap.js';
import { SWAP_SLOT } from '../kernel/sys/swap.js';

const Name = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));

export const SwapSpec = Schema.Struct({
  /** Slots on the device (default 2). */
  slots: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 8 }))),
  /** SWP_SYNCHRONOUS_IO (zram): do_swap_page may skip the swap cache. */
  synchronous: Schema.optional(Schema.Boolean),
  /** Populated anonymous pages that start swapped out. */
  swapped: Schema.optional(Schema.Array(Schema.Struct({ vma: Name, page: Page }))),
});
export type SwapSpec = typeof SwapSpec.Type;

/** Build the swap device of a world (after buildKernel) and swap out its `swapped` pages. */
export function buildSwapWorld(b: ModelBuilder, K: Kernel, s: SwapSpec): void {
  const S = buildSwap(b, K, s.slots ?? 2, s.synchronous ?? false);
  const m = initMem(b);
  (s.swapped ?? []).forEach(({ vma, page }, i) => {
    const path = `world.swap.swapped[${i}]`;
    const v = K.vmaNames.get(vma);
    if (v === undefined) throw new Error(`${path}.vma: no VMA named "${vma}"`);
    const h = K.vma(v);
    const vpn = K.vpn(v, page);
    const pmd = m.get(K.pmdSlot(h.mm, pmd_index(vpn)));
    const slot = pmd_is_table(pmd) ? K.pteSlot(pmd_table(pmd), pte_index(vpn)) : -1;
    const pte = slot >= 0 ? m.get(slot) : 0;
    if (h.memfd >= 0 || !pte_present(pte)) throw new Error(`${path}: page ${page} of ${vma} must be a populated page of an anonymous VMA`);
    const f = pfn_folio(pte_pfn(pte));
    const e = folio_alloc_swap(m, S);
    if (e < 0) throw new Error(`${path}: no free swap slot (world.swap.slots)`);
    m.set(S.slot(e, SWAP_SLOT.off.map), (m.get(S.slot(e, SWAP_SLOT.off.map)) & ~SWAP_HAS_CACHE) + 1);
    m.set(S.slot(e, SWAP_SLOT.off.data), m.get(K.fSlot(f, F_DATA)));
    m.set(slot, mk_swap_pte(e, _PAGE_SWP_EXCLUSIVE));
    for (let x = 0; x < FOLIO_FIELDS.length; x++) m.set(K.fSlot(f, x), 0);
    m.set(K.fSlot(f, F_STATE), FOLIO_FREE);
  });
}
