/**
 * The swap device's operations on swap_map[] and the swap cache (mm/swapfile.c, mm/swap_state.c,
 * v6.8 names), the builder and the swap invariants. Each operation runs inside one step: the
 * kernel does it under the cluster lock (swap_map) or the xarray lock (swap cache), which no path
 * here holds across a scheduling point.
 *
 * Simplified: one swap device; a slot is allocated lowest-free first (get_swap_pages'
 * cluster scan); a freed slot keeps no data (zram's discard, swap_slot_free_notify); no swap
 * readahead window, no shadow entries, no memcg, no swapoff (get_swap_device always succeeds).
 */
import type { Ctx } from '../engine/ctx.js';
import type { ModelBuilder } from '../engine/model.js';
import type { World } from '../engine/world.js';
import { EEXIST, ENOENT, is_swap_pte, PG_dirty, PG_swapcache, PT_ATTACHED, PTRS_PER_PTE } from './defs.js';
import { folio_clear_flag, folio_data, folio_get, folio_put, folio_set_flag, folio_test, folio_try_get } from './folio.js';
import type { FolioId } from './ids.js';
import { type Kernel, type Mem, PT_STATE } from './kernel.js';
import { SWAP, SWAP_SLOT, SwapDevice } from './sys/swap.js';

export { SWAP, SwapDevice } from './sys/swap.js';

export const SWAP_HAS_CACHE = 0x40;
const S_MAP = SWAP_SLOT.off.map;
const S_CACHE = SWAP_SLOT.off.cache;
const S_DATA = SWAP_SLOT.off.data;

/** The swap device of the running model (throws if the world declares none). */
export const swapOf = (k: Ctx): SwapDevice => SWAP.of(k.w.model);

/** swp_offset(pte_to_swp_entry(pte)): the slot a swap PTE names. */
export const swp_offset = (pte: number): number => pte >>> 8;

export const swap_map = (m: Mem, S: SwapDevice, s: number): number => m.get(S.slot(s, S_MAP));
/** __swap_count / swap_count(si->swap_map[offset]): the count without SWAP_HAS_CACHE. */
export const __swap_count = (m: Mem, S: SwapDevice, s: number): number => swap_map(m, S, s) & ~SWAP_HAS_CACHE;
export const swap_data = (m: Mem, S: SwapDevice, s: number): number => m.get(S.slot(s, S_DATA));
/** folio->swap of a folio: its slot, or -1. */
export const folio_swap = (m: Mem, S: SwapDevice, f: number): number => m.get(S.fslot(f)) - 1;
export const folio_test_swapcache = (m: Mem, K: Kernel, f: number): boolean => folio_test(m, K, f, PG_swapcache);

/** The folio in the swap cache at slot s, or -1 (filemap_get_folio(swap_address_space(entry), ...) without a reference). */
export const swap_cache_folio = (m: Mem, S: SwapDevice, s: number): FolioId => (m.get(S.slot(s, S_CACHE)) - 1) as FolioId;

/** swap_cache_get_folio / filemap_get_folio on the swap cache: the cached folio with a reference, or -1. */
export function swap_cache_get_folio(m: Mem, K: Kernel, S: SwapDevice, s: number): FolioId {
  const f = swap_cache_folio(m, S, s);
  return f >= 0 && folio_try_get(m, K, f) ? f : (-1 as FolioId);
}

/** folio_alloc_swap → get_swap_pages: the lowest free slot, its swap_map set to SWAP_HAS_CACHE; -1 when full. */
export function folio_alloc_swap(m: Mem, S: SwapDevice): number {
  for (let s = 0; s < S.nslots; s++) {
    if (swap_map(m, S, s) !== 0) continue;
    m.set(S.slot(s, S_MAP), SWAP_HAS_CACHE);
    return s;
  }
  return -1;
}

/** add_to_swap_cache: the folio joins the swap cache at s (PG_swapcache, folio->swap, one reference per page). */
export function add_to_swap_cache(m: Mem, K: Kernel, S: SwapDevice, f: number, s: number): void {
  m.set(S.slot(s, S_CACHE), f + 1);
  m.set(S.fslot(f), s + 1);
  folio_set_flag(m, K, f, PG_swapcache);
  folio_get(m, K, f);
}

/** A slot whose count and cache flag are both gone is free again (swap_entry_range_free; zram discards its data). */
function maybe_free_slot(m: Mem, S: SwapDevice, s: number): void {
  if (swap_map(m, S, s) === 0) m.set(S.slot(s, S_DATA), 0);
}

/** swap_duplicate: one more swap PTE names s (false: the slot is free, -ENOENT). */
export function swap_duplicate(m: Mem, S: SwapDevice, s: number): boolean {
  const v = swap_map(m, S, s);
  if (v === 0) return false;
  m.set(S.slot(s, S_MAP), v + 1);
  return true;
}

/** swap_free: one swap PTE fewer names s (the slot is freed when nothing else holds it). */
export function swap_free(k: Ctx, S: SwapDevice, s: number): void {
  const v = swap_map(k.w, S, s);
  if ((v & ~SWAP_HAS_CACHE) === 0) {
    k.violated(`swap_free: swap slot ${s} has count 0 (swap_map ${v}): a swap entry freed twice`);
    return;
  }
  k.w.set(S.slot(s, S_MAP), v - 1);
  maybe_free_slot(k.w, S, s);
}

/**
 * swapcache_prepare → __swap_duplicate(entry, SWAP_HAS_CACHE): 0 when this caller now owns
 * SWAP_HAS_CACHE; -EEXIST when someone else has it (cached or being swapped in); -ENOENT when the
 * slot is free (the entry went away).
 */
export function swapcache_prepare(m: Mem, S: SwapDevice, s: number): number {
  const v = swap_map(m, S, s);
  if (v & SWAP_HAS_CACHE) return EEXIST;
  if (v === 0) return ENOENT;
  m.set(S.slot(s, S_MAP), v | SWAP_HAS_CACHE);
  return 0;
}

/** swapcache_clear / put_swap_folio: drop SWAP_HAS_CACHE (the slot is freed if its count is 0). */
export function swapcache_clear(m: Mem, S: SwapDevice, s: number): void {
  m.set(S.slot(s, S_MAP), swap_map(m, S, s) & ~SWAP_HAS_CACHE);
  maybe_free_slot(m, S, s);
}

/** __delete_from_swap_cache + put_swap_folio + the cache's reference (folio_ref_sub). */
export function delete_from_swap_cache(k: Ctx, K: Kernel, S: SwapDevice, f: number): void {
  const m = k.w;
  const s = folio_swap(m, S, f);
  m.set(S.slot(s, S_CACHE), 0);
  m.set(S.fslot(f), 0);
  folio_clear_flag(m, K, f, PG_swapcache);
  swapcache_clear(m, S, s);
  folio_put(k, K, f);
}

/** swap_writepage (synchronous here): the folio's data goes to its slot; the folio is clean. */
export function swap_writepage(m: Mem, K: Kernel, S: SwapDevice, f: number): void {
  m.set(S.slot(folio_swap(m, S, f), S_DATA), folio_data(m, K, f));
  folio_clear_flag(m, K, f, PG_dirty);
}

/**
 * folio_free_swap (mm/swapfile.c): free the swap slot of a locked swap-cache folio once no swap
 * PTE names it (folio_swapped), dropping the folio from the swap cache and marking it dirty.
 */
export function folio_free_swap(k: Ctx, K: Kernel, S: SwapDevice, f: number): boolean {
  if (!folio_test_swapcache(k.w, K, f)) return false;
  if (__swap_count(k.w, S, folio_swap(k.w, S, f)) > 0) return false; // folio_swapped
  delete_from_swap_cache(k, K, S, f);
  folio_set_flag(k.w, K, f, PG_dirty);
  return true;
}

/** vm_swap_full: more than half the slots in use (nr_swap_pages * 2 < total_swap_pages). */
export function vm_swap_full(m: Mem, S: SwapDevice): boolean {
  let free = 0;
  for (let s = 0; s < S.nslots; s++) if (swap_map(m, S, s) === 0) free++;
  return free * 2 < S.nslots;
}

/** What a swap entry stands for: the swap-cache folio's data if it is cached, else the device's. */
export function swap_entry_content(m: Mem, K: Kernel, S: SwapDevice, s: number): number {
  const f = swap_cache_folio(m, S, s);
  return f >= 0 ? folio_data(m, K, f) : swap_data(m, S, s);
}

/**
 * The swap invariants: swap_map[s]'s count is the number of swap PTEs naming s; a swap-cache entry
 * holds SWAP_HAS_CACHE and its folio has PG_swapcache and folio->swap == s.
 */
export function swapMapMatchesPtes(K: Kernel, S: SwapDevice) {
  const count = new Int32Array(S.nslots);
  return (w: World): string | null => {
    count.fill(0);
    for (let t = 0; t < K.ntables; t++) {
      if (w.get(K.ptSlot(t, PT_STATE)) !== PT_ATTACHED) continue;
      for (let i = 0; i < PTRS_PER_PTE; i++) {
        const pte = w.get(K.pteSlot(t, i));
        if (is_swap_pte(pte)) count[swp_offset(pte)] = (count[swp_offset(pte)] as number) + 1;
      }
    }
    for (let s = 0; s < S.nslots; s++) {
      const c = __swap_count(w, S, s);
      if (c !== count[s]) return `swap slot ${s}: swap_map count ${c} but ${count[s]} swap PTE(s) name it${c < (count[s] as number) ? ' (a swap PTE names a freed or reused slot)' : ''}`;
      const f = swap_cache_folio(w, S, s);
      if (f < 0) continue;
      if (!(swap_map(w, S, s) & SWAP_HAS_CACHE)) return `swap slot ${s}: folio ${f} in the swap cache without SWAP_HAS_CACHE`;
      if (!folio_test_swapcache(w, K, f) || folio_swap(w, S, f) !== s) return `swap slot ${s}: swap-cache folio ${f} lacks PG_swapcache or folio->swap`;
    }
    return null;
  };
}

/** Reserve the swap device of a world (`world.swap`) and register it with its invariant. */
export function buildSwap(b: ModelBuilder, K: Kernel, slots: number, synchronous: boolean): SwapDevice {
  const S = new SwapDevice(slots, synchronous);
  S.reserve(b, K.nfolios);
  b.invariants.push(swapMapMatchesPtes(K, S));
  return b.provide(SWAP, S);
}
