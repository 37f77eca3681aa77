/**
 * Folios: a fixed pool, allocated lowest-free-id first (deterministic). Every mapping (pte or pmd)
 * and every FOLL_PIN pin holds one reference; the page cache holds one; refcount 0 frees the folio.
 *
 * Simplified: a FOLL_PIN pin adds 1 to refcount and 1 to pincount for every folio (the kernel does
 * this for large folios; small folios get GUP_PIN_COUNTING_BIAS = 1024 on refcount instead).
 * mapcount counts mappings of the whole folio (no per-page _mapcount / entire_mapcount split).
 *
 * Helpers that find a broken invariant end the run (w.fail); the step may finish, the run stops
 * after it.
 */
import type { Ctx } from '../engine/ctx.js';
import { L_OWNER, lslot } from '../locks/space.js';
import { FOLIO_FREE, FOLIO_USED, PG_anon, PG_anon_exclusive, PG_hugetlb, PG_uptodate } from './defs.js';
import {
  F_DATA,
  F_FLAGS,
  F_INDEX,
  F_MAPCOUNT,
  F_MAPPING,
  F_ORDER,
  F_PINCOUNT,
  F_REF,
  F_STATE,
  FOLIO_FIELDS,
  type Kernel,
  type Mem,
} from './kernel.js';
import { type FolioId, NO_FOLIO } from './ids.js';

/** folio_alloc / alloc_hugetlb_folio: the lowest free folio of the pool, refcount 1; -1 when empty. */
export function folio_alloc(m: Mem, K: Kernel, order: number, hugetlb = false): FolioId {
  const lo = hugetlb ? K.nNormal : 0;
  const hi = hugetlb ? K.nfolios : K.nNormal;
  for (let f = lo; f < hi; f++) {
    if (m.get(K.fSlot(f, F_STATE)) !== FOLIO_FREE) continue;
    m.set(K.fSlot(f, F_STATE), FOLIO_USED);
    m.set(K.fSlot(f, F_REF), 1);
    m.set(K.fSlot(f, F_ORDER), order);
    m.set(K.fSlot(f, F_FLAGS), hugetlb ? PG_hugetlb : 0);
    return f as FolioId;
  }
  return NO_FOLIO;
}

export const folio_ref_count = (m: Mem, K: Kernel, f: number): number => m.get(K.fSlot(f, F_REF));
export const folio_mapcount = (m: Mem, K: Kernel, f: number): number => m.get(K.fSlot(f, F_MAPCOUNT));
export const folio_mapped = (m: Mem, K: Kernel, f: number): boolean => m.get(K.fSlot(f, F_MAPCOUNT)) > 0;
/** folio_maybe_dma_pinned: exact here (pincount). */
export const folio_maybe_dma_pinned = (m: Mem, K: Kernel, f: number): boolean => m.get(K.fSlot(f, F_PINCOUNT)) > 0;
export const folio_is_free = (m: Mem, K: Kernel, f: number): boolean => m.get(K.fSlot(f, F_STATE)) === FOLIO_FREE;
export const folio_test = (m: Mem, K: Kernel, f: number, flag: number): boolean => (m.get(K.fSlot(f, F_FLAGS)) & flag) !== 0;
export const folio_test_anon = (m: Mem, K: Kernel, f: number): boolean => folio_test(m, K, f, PG_anon);
export const folio_test_uptodate = (m: Mem, K: Kernel, f: number): boolean => folio_test(m, K, f, PG_uptodate);
/** PageAnonExclusive (per folio here, not per page). */
export const PageAnonExclusive = (m: Mem, K: Kernel, f: number): boolean => folio_test(m, K, f, PG_anon_exclusive);
export const folio_index = (m: Mem, K: Kernel, f: number): number => m.get(K.fSlot(f, F_INDEX));
/** folio->mapping: memfd id + 1 for a file folio, anon_vma id + 1 for an anon one, 0 when none. */
export const folio_mapping = (m: Mem, K: Kernel, f: number): number => m.get(K.fSlot(f, F_MAPPING));

export function folio_set_flag(m: Mem, K: Kernel, f: number, flag: number): void {
  m.set(K.fSlot(f, F_FLAGS), m.get(K.fSlot(f, F_FLAGS)) | flag);
}
export function folio_clear_flag(m: Mem, K: Kernel, f: number, flag: number): void {
  m.set(K.fSlot(f, F_FLAGS), m.get(K.fSlot(f, F_FLAGS)) & ~flag);
}

export function folio_get(m: Mem, K: Kernel, f: number): void {
  m.set(K.fSlot(f, F_REF), m.get(K.fSlot(f, F_REF)) + 1);
}

/** folio_try_get (GUP-fast, speculative lookups): fails on a freed folio (refcount 0). */
export function folio_try_get(m: Mem, K: Kernel, f: number): boolean {
  const r = m.get(K.fSlot(f, F_REF));
  if (r <= 0) return false;
  m.set(K.fSlot(f, F_REF), r + 1);
  return true;
}

/** folio_put: drop a reference; the last one frees the folio (__folio_put, free_pages_prepare checks). */
export function folio_put(k: Ctx, K: Kernel, f: number): void {
  const w = k.w;
  const r = w.get(K.fSlot(f, F_REF)) - 1;
  if (r < 0 || w.get(K.fSlot(f, F_STATE)) === FOLIO_FREE) {
    k.violated(`folio_put on free folio ${f} (refcount underflow, use-after-free)`);
    return;
  }
  w.set(K.fSlot(f, F_REF), r);
  if (r > 0) return;
  if (w.get(K.fSlot(f, F_PINCOUNT)) > 0) {
    k.violated(`pinned folio ${f} freed while it holds ${w.get(K.fSlot(f, F_PINCOUNT))} FOLL_PIN pin(s)`);
    return;
  }
  if (w.get(K.fSlot(f, F_MAPCOUNT)) > 0) {
    k.violated(`BUG: Bad page state: folio ${f} freed while still mapped (mapcount ${w.get(K.fSlot(f, F_MAPCOUNT))})`);
    return;
  }
  if (w.get(K.fSlot(f, F_MAPPING)) !== 0 && !folio_test_anon(w, K, f)) {
    k.violated(`BUG: Bad page state: folio ${f} freed while still in the page cache`);
    return;
  }
  for (let i = 0; i < FOLIO_FIELDS.length; i++) w.set(K.fSlot(f, i), 0);
  k.note(() => `folio ${f} freed`);
}

/** try_grab_folio(FOLL_PIN): one more reference and one more pin. */
export function folio_pin(m: Mem, K: Kernel, f: number): void {
  m.set(K.fSlot(f, F_REF), m.get(K.fSlot(f, F_REF)) + 1);
  m.set(K.fSlot(f, F_PINCOUNT), m.get(K.fSlot(f, F_PINCOUNT)) + 1);
}

/** unpin_folio (gup_put_folio(FOLL_PIN)). */
export function folio_unpin(k: Ctx, K: Kernel, f: number): void {
  const p = k.w.get(K.fSlot(f, F_PINCOUNT));
  if (p <= 0) {
    k.violated(`unpin of folio ${f} that has no pin`);
    return;
  }
  k.w.set(K.fSlot(f, F_PINCOUNT), p - 1);
  folio_put(k, K, f);
}

/** folio_add_new_anon_rmap(RMAP_EXCLUSIVE): a fresh anon folio mapped once; index = linear_page_index. */
export function folio_add_new_anon_rmap(m: Mem, K: Kernel, f: number, anonVma: number, index: number): void {
  m.set(K.fSlot(f, F_MAPPING), anonVma + 1);
  m.set(K.fSlot(f, F_INDEX), index);
  m.set(K.fSlot(f, F_FLAGS), m.get(K.fSlot(f, F_FLAGS)) | PG_anon | PG_anon_exclusive);
  m.set(K.fSlot(f, F_MAPCOUNT), m.get(K.fSlot(f, F_MAPCOUNT)) + 1);
}

/** folio_add_file_rmap_pte / _pmd, folio_add_anon_rmap_pte: one more mapping. */
export function folio_add_rmap(m: Mem, K: Kernel, f: number): void {
  m.set(K.fSlot(f, F_MAPCOUNT), m.get(K.fSlot(f, F_MAPCOUNT)) + 1);
}

/** folio_remove_rmap_pte / _pmd: one mapping fewer (the caller drops its reference separately). */
export function folio_remove_rmap(k: Ctx, K: Kernel, f: number): void {
  const c = k.w.get(K.fSlot(f, F_MAPCOUNT));
  if (c <= 0) {
    k.violated(`folio ${f}: mapcount underflow in folio_remove_rmap`);
    return;
  }
  k.w.set(K.fSlot(f, F_MAPCOUNT), c - 1);
}

/** A CPU or device store into the folio (the value is what a reader would see). */
export function folio_write_data(m: Mem, K: Kernel, f: number, v: number): void {
  m.set(K.fSlot(f, F_DATA), v);
}
export const folio_data = (m: Mem, K: Kernel, f: number): number => m.get(K.fSlot(f, F_DATA));

// --- the folio lock (PG_locked) is a sleeping lock of kind Folio with its own wait queue ---

/** folio_lock: false when the thread blocked (return BLOCKED) or the run ended. */
export function folio_lock(k: Ctx, K: Kernel, f: number): boolean {
  return k.mutex_lock(K.folioLock[f] as number);
}
export function folio_trylock(k: Ctx, K: Kernel, f: number): boolean {
  return k.mutex_trylock(K.folioLock[f] as number);
}
export function folio_unlock(k: Ctx, K: Kernel, f: number): boolean {
  return k.mutex_unlock(K.folioLock[f] as number);
}
/** folio_test_locked: someone holds PG_locked. */
export function folio_test_locked(k: Ctx, K: Kernel, f: number): boolean {
  return k.w.get(lslot(k.w, K.folioLock[f] as number, L_OWNER)) !== 0;
}
