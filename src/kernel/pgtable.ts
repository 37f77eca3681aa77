/**
 * Page tables with identity. Each mm has an array of pmds (pmd_none | PTE table | huge | migration
 * entry); PTE tables come from a pool, each with its own split PTL. A table is ATTACHED while a pmd
 * points to it, DETACHED once the pmd is cleared (still readable by anyone who mapped it under RCU),
 * DEFER after pte_free_defer, and FREE again when every thread that was inside rcu_read_lock at
 * pte_free_defer time has left it (the grace period; checked lazily, never early).
 *
 * Writing a PTE into a table that is not ATTACHED is an `invariant` verdict; so is reading a freed one,
 * freeing one that is already FREE or DEFER (a double free), and freeing one through which a PTE
 * still maps a page (pte_free_defer of a non-empty table: the mapping is lost).
 *
 * kernel-rules §2 (mm/pgtable-generic.c): pte_offset_map* take rcu_read_lock and return the pmd value
 * they mapped through (a table pmd) or 0 (none/huge/migration: no RCU held). pte_unmap drops RCU.
 */
import type { Ctx } from '../engine/ctx.js';
import { BLOCKED, ENDED } from '../engine/proc.js';
import { kproc } from './kproc.js';
import { T_RCU, tslot } from '../locks/space.js';
import { ENOMEM, mk_pmd_table, pmd_is_table, pmd_table, PT_ATTACHED, PT_DETACHED, PT_FREE, PT_NEW, pte_present, PTRS_PER_PTE } from './defs.js';
import { type Kernel, kern, type Mem, PT_FIELDS, PT_GP, PT_OWNER, PT_STATE } from './kernel.js';
import { type MmId, type TableId, NO_TABLE } from './ids.js';

export const PT_DEFER = 4; // pte_free_defer called; waiting for the grace period

export const PT_STATE_NAMES = ['free', 'attached', 'detached', 'new', 'rcu-deferred'] as const;

/** pmd index (pmd_index) and pte index (pte_index) of a virtual page. */
export const pmd_index = (vpn: number): number => vpn >> 2;
export const pte_index = (vpn: number): number => vpn & (PTRS_PER_PTE - 1);

export function pmdp_get(m: Mem, K: Kernel, mm: number, pmd: number): number {
  return m.get(K.pmdSlot(mm, pmd));
}
/** set_pmd_at / pmd_clear / pmdp_huge_get_and_clear: a plain pmd store (table lifetime is separate). */
export function set_pmd(m: Mem, K: Kernel, mm: number, pmd: number, v: number): void {
  m.set(K.pmdSlot(mm, pmd), v);
}
export const pt_state = (m: Mem, K: Kernel, t: number): number => m.get(K.ptSlot(t, PT_STATE));

/** pte_alloc_one: a table from the pool (lowest free id), not yet linked; -1 when the pool is empty. */
export function pte_alloc_one(k: Ctx, K: Kernel, mm: number, pmd: number): TableId {
  rcu_reclaim(k, K);
  const m = k.w;
  for (let t = 0; t < K.ntables; t++) {
    if (m.get(K.ptSlot(t, PT_STATE)) !== PT_FREE) continue;
    m.set(K.ptSlot(t, PT_STATE), PT_NEW);
    m.set(K.ptSlot(t, PT_OWNER), mm * 256 + pmd + 1);
    return t as TableId;
  }
  return NO_TABLE;
}

/** pmd_populate: link a new table. */
export function pmd_populate(m: Mem, K: Kernel, mm: number, pmd: number, t: number): void {
  m.set(K.ptSlot(t, PT_STATE), PT_ATTACHED);
  m.set(K.ptSlot(t, PT_OWNER), mm * 256 + pmd + 1);
  m.set(K.pmdSlot(mm, pmd), mk_pmd_table(t));
}

/**
 * Unlink the table a pmd points to (pmdp_collapse_flush, free_pgtables' pmd_clear): the pmd becomes
 * none, the table DETACHED. Returns the old pmd value (0 if it was not a table).
 */
export function pmd_clear_table(m: Mem, K: Kernel, mm: number, pmd: number): number {
  const v = m.get(K.pmdSlot(mm, pmd));
  if (!pmd_is_table(v)) return 0;
  m.set(K.pmdSlot(mm, pmd), 0);
  m.set(K.ptSlot(pmd_table(v), PT_STATE), PT_DETACHED);
  return v;
}

/** pte_free: an unlinked table back to the pool at once (never published, or no RCU walker possible). */
export function pte_free(m: Mem, K: Kernel, t: number): void {
  for (let i = 0; i < PT_FIELDS.length; i++) m.set(K.ptSlot(t, i), 0);
}

/** Bitmask of threads inside an RCU read-side section right now. */
function rcuReaders(k: Ctx): number {
  const w = k.w;
  let mask = 0;
  for (let t = 0; t < w.nthreads; t++) if (w.get(tslot(w, t, T_RCU)) > 0) mask |= 1 << t;
  return mask;
}

/** pte_free_defer: free a detached table after an RCU grace period; a second free is a verdict. */
export function pte_free_defer(k: Ctx, K: Kernel, t: number): void {
  const m = k.w;
  const st = m.get(K.ptSlot(t, PT_STATE));
  if (st === PT_ATTACHED) {
    k.violated(`pte_free_defer of page table ${t} that a pmd still points to`);
    return;
  }
  if (st === PT_FREE || st === PT_DEFER) {
    k.violated(`pte_free_defer of page table ${t} that is already ${st === PT_FREE ? 'freed' : 'RCU-deferred'} (page-table double free)`);
    return;
  }
  for (let i = 0; i < PTRS_PER_PTE; i++) {
    if (!pte_present(m.get(K.pteSlot(t, i)))) continue;
    // the table goes with a page still mapped through it: no zap removes that mapping (rmap, refcount
    // and the mm's rss counter keep it: "BUG: Bad rss-counter state" at exit)
    k.violated(`pte_free_defer of page table ${t} whose PTE ${i} still maps a page (a mapping lost with its table)`);
    return;
  }
  const gp = rcuReaders(k);
  if (gp === 0) {
    pte_free(m, K, t);
    return;
  }
  m.set(K.ptSlot(t, PT_STATE), PT_DEFER);
  m.set(K.ptSlot(t, PT_GP), gp);
}

/** Grace periods that have elapsed: a deferred table is freed once every thread in its mask left RCU. */
export function rcu_reclaim(k: Ctx, K: Kernel): void {
  const m = k.w;
  let readers = -1;
  for (let t = 0; t < K.ntables; t++) {
    if (m.get(K.ptSlot(t, PT_STATE)) !== PT_DEFER) continue;
    if (readers < 0) readers = rcuReaders(k);
    const gp = m.get(K.ptSlot(t, PT_GP)) & readers;
    if (gp === 0) pte_free(m, K, t);
    else m.set(K.ptSlot(t, PT_GP), gp);
  }
}

/** rcu_read_unlock that lets deferred frees complete; use it instead of k.rcu_read_unlock(). */
export function rcu_read_unlock(k: Ctx, K: Kernel): boolean {
  if (!k.rcu_read_unlock()) return false;
  rcu_reclaim(k, K);
  return true;
}

// --- PTE access (each one visible operation) ---

/** ptep_get / ptep_get_lockless: read a PTE; reading a freed table is a use-after-free. */
export function ptep_get(k: Ctx, K: Kernel, t: number, i: number): number {
  const st = k.w.get(K.ptSlot(t, PT_STATE));
  if (st === PT_FREE) k.violated(`read of PTE ${i} in freed page table ${t} (use-after-free)`);
  return k.w.get(K.pteSlot(t, i));
}

/** set_pte_at (and every PTE store): the table must still be linked from its pmd. */
export function set_pte_at(k: Ctx, K: Kernel, t: number, i: number, pte: number): void {
  const st = k.w.get(K.ptSlot(t, PT_STATE));
  if (st !== PT_ATTACHED) {
    k.violated(`write of PTE ${i} into ${PT_STATE_NAMES[st]} page table ${t} (set_pte_at into a ${st === PT_FREE ? 'freed' : 'detached'} table)`);
    return;
  }
  k.w.set(K.pteSlot(t, i), pte);
}

/** ptep_get_and_clear / ptep_clear_flush: returns the old PTE. */
export function ptep_get_and_clear(k: Ctx, K: Kernel, t: number, i: number): number {
  const old = k.w.get(K.pteSlot(t, i));
  set_pte_at(k, K, t, i, 0);
  return old;
}

// --- kernel-rules §2: mapping a PTE table ---

/**
 * ___pte_offset_map / pte_offset_map / pte_offset_map_ro_nolock / pte_offset_map_rw_nolock:
 * rcu_read_lock, pmdval = pmdp_get_lockless; a table → keep RCU and return pmdval (the table is
 * pmd_table(pmdval), its lock K.ptlOf(table)); none/huge/migration → drop RCU, return 0.
 * Entries are not stable until the caller locks the PTL and rechecks (pte_same or pmd_same).
 */
export function pte_offset_map(k: Ctx, K: Kernel, mm: number, pmd: number): number {
  const v = k.w.get(K.pmdSlot(mm, pmd));
  if (!pmd_is_table(v)) return 0;
  k.rcu_read_lock();
  return v;
}
export const pte_offset_map_ro_nolock = pte_offset_map;
export const pte_offset_map_rw_nolock = pte_offset_map;

/** pte_unmap: leave the RCU section taken by pte_offset_map*. */
export function pte_unmap(k: Ctx, K: Kernel): boolean {
  return rcu_read_unlock(k, K);
}

/** pte_unmap_unlock(pte, ptl). */
export function pte_unmap_unlock(k: Ctx, K: Kernel, t: number): boolean {
  if (!k.spin_unlock(K.ptlOf(t))) return false;
  return rcu_read_unlock(k, K);
}

/**
 * pte_offset_map_lock(mm, pmd, addr, &ptl): args [mm, pmd index]; returns the pmd value it locked
 * through (the caller then holds K.ptlOf(pmd_table(rv)) and RCU), or 0 with nothing held.
 */
export const pte_offset_map_lock = kproc(
  'pte_offset_map_lock',
  'mm/pgtable-generic.c: __pte_offset_map_lock',
  (a: { mm: MmId; pmd: number }) => ({ mm: a.mm, pmd: a.pmd, pmdval: 0 }),
  {
    map: (k, l) => {
      const v = pte_offset_map(k, kern(k), l.mm, l.pmd);
      if (v === 0) return k.ret(0);
      l.pmdval = v;
      return 'lock';
    },
    lock: (k, l) => (k.spin_lock(kern(k).ptlOf(pmd_table(l.pmdval))) ? 'recheck' : BLOCKED),
    recheck: (k, l) => {
      // if (likely(pmd_same(pmdval, pmdp_get_lockless(pmd)))) return pte;
      if (pmdp_get(k.w, kern(k), l.mm, l.pmd) === l.pmdval) return k.ret(l.pmdval);
      return 'unlock';
    },
    unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), pmd_table(l.pmdval));
      l.pmdval = 0;
      return 'map';
    },
  },
);

/**
 * __pte_alloc(mm, pmd): args [mm, pmd index]; 0, or -ENOMEM when the table pool is empty.
 * pte_alloc_one, then pmd_lock; if the pmd is still none, pmd_populate; else the new table is freed.
 */
export const __pte_alloc = kproc(
  '__pte_alloc',
  'mm/memory.c: __pte_alloc',
  (a: { mm: MmId; pmd: number }) => ({ mm: a.mm, pmd: a.pmd, t: NO_TABLE }),
  {
    alloc: (k, l) => {
      l.t = pte_alloc_one(k, kern(k), l.mm, l.pmd);
      return l.t < 0 ? k.ret(ENOMEM) : 'lock';
    },
    lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'populate' : BLOCKED),
    populate: (k, l) => {
      const K = kern(k);
      // pmd_install: if (likely(pmd_none(*pmd))) { pmd_populate(mm, pmd, *pte); *pte = NULL; }
      if (pmdp_get(k.w, K, l.mm, l.pmd) === 0) {
        pmd_populate(k.w, K, l.mm, l.pmd, l.t);
        l.t = NO_TABLE;
      }
      return 'unlock';
    },
    unlock: (k, l) => {
      const K = kern(k);
      if (!k.spin_unlock(K.mm(l.mm).page_table_lock)) return ENDED;
      if (l.t >= 0) pte_free(k.w, K, l.t);
      return k.ret(0);
    },
  },
);
