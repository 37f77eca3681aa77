/**
 * Swap: one swap device (swap_info_struct) with its slots — swap_map[] (the count of swap PTEs
 * naming the slot, plus SWAP_HAS_CACHE), the swap cache (swapper_spaces: slot → folio) and the
 * data on the device — and folio->swap for every folio of the pool.
 */
import { type ModelBuilder, Subsystem } from '../../engine/model.js';
import { defineRegion } from '../../engine/region.js';

export const SWAP_SLOT = defineRegion('swap', 'the slots of the swap device', {
  map: 'si->swap_map[offset]: swap count | SWAP_HAS_CACHE (0x40)',
  cache: 'the swap cache (swapper_spaces xarray): folio id + 1, 0 when none',
  data: 'what the device holds at this slot (written by swap_writepage)',
});

export const SWAP_FOLIO = defineRegion('swapf', 'per folio of the pool', {
  entry: 'folio->swap: slot + 1 while in the swap cache, 0 otherwise',
});

/** The swap device of a model (static part; the slots are world memory). */
export class SwapDevice {
  base = 0;
  fbase = 0;
  constructor(
    /** Slots on the device. */
    readonly nslots: number,
    /** SWP_SYNCHRONOUS_IO (zram, pmem, brd): do_swap_page may skip the swap cache. */
    readonly synchronous: boolean,
  ) {}

  reserve(b: ModelBuilder, nfolios: number): void {
    this.base = b.layout.add(SWAP_SLOT, this.nslots);
    this.fbase = b.layout.add(SWAP_FOLIO, nfolios);
  }

  slot(s: number, field: number): number {
    return this.base + s * SWAP_SLOT.stride + field;
  }

  /** folio->swap of folio f. */
  fslot(f: number): number {
    return this.fbase + f;
  }
}

export const SWAP = new Subsystem<SwapDevice>('swap');
