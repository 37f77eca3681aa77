/**
 * khugepaged's file (shmem) collapse (mm/khugepaged.c; kernel-rules §4): hpage_collapse_scan_file
 * → collapse_file, which builds a locked huge folio, locks and unmaps the old page-cache folios
 * (try_to_unmap, try-to-unmap.ts), stores the huge folio in the page cache and calls
 * retract_page_tables (retract.ts), which removes the now empty PTE tables holding only
 * i_mmap_rwsem; then, on a later pass, collapse_pte_mapped_thp under mmap_lock read (pte-mapped.ts).
 *
 * Simplified: shmem only, every page of the range already in the page cache or a hole (no swap, no
 * fallocated pages); no LRU isolation (the refcount check is "cache + ours"); the XA_RETRY_ENTRY
 * window and the final multi-index store are one step under the i_pages lock (as the kernel holds
 * xa_lock across them); folio data words are not copied.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { HPAGE_PMD_NR, HPAGE_PMD_ORDER, PG_dirty, PG_uptodate } from '../../src/kernel/defs.js';
import { filemap_get_folio } from '../../src/kernel/filemap.js';
import { folio_alloc, folio_get, folio_mapped, folio_put, folio_ref_count, folio_test_uptodate, folio_trylock, folio_unlock } from '../../src/kernel/folio.js';
import { F_FLAGS, F_INDEX, F_MAPPING, F_REF, kern, M_NRPAGES, MM_USERS } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { userfaultfd_missing } from '../mm/common.js';
import { folio_order } from '../uffd/common.js';
import {
  immapVmas,
  SCAN_ALLOC_HUGE_PAGE_FAIL,
  SCAN_ANY_PROCESS,
  SCAN_EXCEED_NONE_PTE,
  SCAN_FAIL,
  SCAN_PAGE_COUNT,
  SCAN_PAGE_FILLED,
  SCAN_PAGE_LOCK,
  SCAN_PTE_MAPPED_HUGEPAGE,
  SCAN_SUCCEED,
  SCAN_TRUNCATED,
  scanName,
} from './common.js';
import { collapse_pte_mapped_thp } from './pte-mapped.js';
import { retract_page_tables } from './retract.js';
import { try_to_unmap_file } from './try-to-unmap.js';
import { type FolioId, type MemfdId, type MmId, type VmaId, NO_FOLIO, NO_MEMFD } from '../../src/kernel/ids.js';

/**
 * khugepaged_scan_mm_slot for one file pmd: args [mm, vma, haddr, install_pmd]. hpage_collapse_scan_file
 * → collapse_file (mmap_lock not held), then collapse_pte_mapped_thp(install_pmd) under mmap_read_lock
 * (what khugepaged does on its next pass over the range, and MADV_COLLAPSE at once with install_pmd).
 */
export const khugepaged_scan_file = kproc(
  'khugepaged_scan_file',
  'mm/khugepaged.c: khugepaged_scan_mm_slot / madvise_collapse (file VMA) → hpage_collapse_scan_file',
  (a: { mm: MmId; vma: VmaId; haddr: number; install: number }) => ({ mm: a.mm, vma: a.vma, haddr: a.haddr, install: a.install, map: NO_MEMFD, start: 0, r: 0 }),
  {
    scan: (k, l) => {
      const K = kern(k);
      l.map = K.vma(l.vma).memfd;
      l.start = K.linear_page_index(l.vma, l.haddr);
      // hpage_collapse_scan_file (under RCU): a huge folio already there means "maybe PMD-mapped"
      const f = filemap_get_folio(k.w, K, l.map, l.start);
      if (f >= 0 && folio_order(k.w, K, f) === HPAGE_PMD_ORDER) return 'lock';
      return k.call(collapse_file, { map: l.map, i: l.start }, 'collapsed');
    },
    collapsed: (k, l) => {
      l.r = k.rv;
      k.note(() => `collapse_file: ${scanName(l.r)}`);
      return l.r === SCAN_SUCCEED || l.r === SCAN_PTE_MAPPED_HUGEPAGE ? 'lock' : k.ret(l.r);
    },
    lock: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'exiting' : BLOCKED),
    exiting: (k, l) => {
      if (k.w.get(kern(k).mm(l.mm).base + MM_USERS) === 0) {
        l.r = SCAN_ANY_PROCESS;
        return 'unlock';
      }
      return k.call(collapse_pte_mapped_thp, { mm: l.mm, haddr: l.haddr, install: l.install }, 'thp');
    },
    thp: (k, l) => {
      l.r = k.rv;
      k.note(() => `collapse_pte_mapped_thp: ${scanName(l.r)}`);
      return 'unlock';
    },
    unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(l.r) : ENDED),
  },
);

/** collapse_file (shmem): args [mapping, start index]; a scan result. */
export const collapse_file = kproc(
  'collapse_file',
  'mm/khugepaged.c: collapse_file',
  (a: { map: MemfdId; i: number }) => ({ map: a.map, start: a.i, nf: NO_FOLIO, i: a.i, f: NO_FOLIO, iso: 0, none: 0, r: SCAN_SUCCEED, immap: 0, o0: -1, o1: -1, o2: -1, o3: -1 }),
  {
    alloc: (k, l) => {
      const K = kern(k);
      l.nf = folio_alloc(k.w, K, HPAGE_PMD_ORDER); // alloc_charge_folio
      if (l.nf < 0) return k.ret(SCAN_ALLOC_HUGE_PAGE_FAIL);
      // __folio_set_locked(new_folio): nobody else can see it yet
      if (!folio_trylock(k, K, l.nf)) return k.violated('collapse_file: a freshly allocated folio is locked');
      k.w.set(K.fSlot(l.nf, F_INDEX), l.start);
      return 'load';
    },
    load: (k, l) => {
      const K = kern(k);
      if (l.i >= l.start + HPAGE_PMD_NR) return 'store';
      const f = filemap_get_folio(k.w, K, l.map, l.i); // xas_load
      if (f < 0) {
        l.none++;
        l.i++;
        if (l.i === l.start + HPAGE_PMD_NR && l.none === HPAGE_PMD_NR) return fail(k, l, SCAN_TRUNCATED); // extent now completely empty
        return 'load';
      }
      if (!folio_test_uptodate(k.w, K, f)) return fail(k, l, SCAN_FAIL); // would need shmem_get_folio(SGP_NOALLOC)
      if (!folio_trylock(k, K, f)) return fail(k, l, SCAN_PAGE_LOCK);
      folio_get(k.w, K, f);
      l.f = f;
      return 'checks';
    },
    checks: (k, l) => {
      const K = kern(k);
      const m = k.w;
      // a THP already there (truncated then extended, or hole-punched): maybe PMD-mapped
      if (folio_order(m, K, l.f) === HPAGE_PMD_ORDER) return unlockCur(l, SCAN_PTE_MAPPED_HUGEPAGE);
      if (m.get(K.fSlot(l.f, F_MAPPING)) !== l.map + 1) return unlockCur(l, SCAN_TRUNCATED);
      return folio_mapped(m, K, l.f) ? 'unmap' : 'refs';
    },
    unmap: (k, l) => k.call(try_to_unmap_file, { map: l.map, f: l.f }, 'refs'), // try_to_unmap(folio, TTU_IGNORE_MLOCK | TTU_BATCH_FLUSH)
    refs: (k, l) => {
      const K = kern(k);
      // We control 2 references (ours + the page cache's): any other user must come through the cache
      if (folio_ref_count(k.w, K, l.f) !== 2) {
        k.note(() => `collapse_file: folio ${l.f} refcount ${folio_ref_count(k.w, K, l.f)} (mapped or pinned)`);
        return unlockCur(l, SCAN_PAGE_COUNT);
      }
      l.iso |= 1 << (l.i - l.start);
      setOld(l, l.i - l.start, l.f);
      l.f = NO_FOLIO;
      l.i++;
      return 'load';
    },
    cur_unlock: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'cur_put' : ENDED),
    cur_put: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'rollback';
    },
    // the folios are locked and unmapped: copy (data words not modelled), then handle the holes
    store: (k, l) => {
      if (!l.none) return 'finalize';
      if (!k.down_read(kern(k).mapping(l.map).i_mmap_rwsem)) return BLOCKED; // i_mmap_lock_read
      l.immap = 1;
      return 'finalize';
    },
    finalize: (k, l) => {
      const K = kern(k);
      const m = k.w;
      if (l.none) {
        // xas_store(XA_RETRY_ENTRY) over the holes; nr_none != nr_none_check → SCAN_PAGE_FILLED
        let check = 0;
        for (let i = l.start; i < l.start + HPAGE_PMD_NR; i++) if (filemap_get_folio(m, K, l.map, i) < 0) check++;
        if (check !== l.none) return failImmap(k, l, SCAN_PAGE_FILLED);
        // a MODE_MISSING userfaultfd VMA may expect a fault for the hole: roll back
        for (const v of immapVmas(k, l.map)) if (userfaultfd_missing(m, K, v)) return failImmap(k, l, SCAN_EXCEED_NONE_PTE);
      }
      // join the small entries into one multi-index entry of the new folio (HPAGE_PMD_NR references)
      for (let i = l.start; i < l.start + HPAGE_PMD_NR; i++) m.set(K.pcSlot(l.map, i), l.nf + 1);
      m.set(K.fSlot(l.nf, F_MAPPING), l.map + 1);
      m.set(K.fSlot(l.nf, F_REF), HPAGE_PMD_NR);
      m.set(K.fSlot(l.nf, F_FLAGS), m.get(K.fSlot(l.nf, F_FLAGS)) | PG_uptodate | PG_dirty); // folio_mark_uptodate, folio_mark_dirty
      m.set(K.mapSlot(l.map, M_NRPAGES), m.get(K.mapSlot(l.map, M_NRPAGES)) + l.none);
      k.note(() => `collapse_file: huge folio ${l.nf} now in the page cache at [${l.start}, ${l.start + HPAGE_PMD_NR}) (still locked)`);
      return l.immap ? 'immap_unlock' : 'retract';
    },
    immap_unlock: (k, l) => {
      l.immap = 0;
      if (!k.up_read(kern(k).mapping(l.map).i_mmap_rwsem)) return ENDED;
      return l.r === SCAN_SUCCEED ? 'retract' : 'rollback';
    },
    // Remove pte page tables, so we can re-fault the page as huge.
    retract: (k, l) => k.call(retract_page_tables, { map: l.map, pgoff: l.start }, 'unlock_new'),
    unlock_new: (k, l) => (folio_unlock(k, kern(k), l.nf) ? 'free_old' : ENDED),
    // the collapse has succeeded: free the old folios (mapping = NULL, unlock, drop cache + our refs)
    free_old: (k, l) => {
      const i = lowestBit(l.iso);
      if (i < 0) return k.ret(SCAN_SUCCEED);
      l.f = oldOf(l, i);
      k.w.set(kern(k).fSlot(l.f, F_MAPPING), 0);
      return folio_unlock(k, kern(k), l.f) ? 'free_put' : ENDED;
    },
    free_put: (k, l) => {
      const K = kern(k);
      folio_put(k, K, l.f);
      folio_put(k, K, l.f);
      l.iso &= ~(1 << lowestBit(l.iso));
      l.f = NO_FOLIO;
      return 'free_old';
    },
    // rollback: unlock and release what was taken, then the new folio
    rollback: (k, l) => {
      const i = lowestBit(l.iso);
      if (i < 0) return 'rollback_new';
      l.iso &= ~(1 << i);
      l.f = oldOf(l, i);
      return folio_unlock(k, kern(k), l.f) ? 'rollback_put' : ENDED;
    },
    rollback_put: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'rollback';
    },
    rollback_new: (k, l) => {
      k.w.set(kern(k).fSlot(l.nf, F_INDEX), 0);
      return folio_unlock(k, kern(k), l.nf) ? 'rollback_free' : ENDED;
    },
    rollback_free: (k, l) => {
      folio_put(k, kern(k), l.nf);
      k.note(() => `collapse_file: rolled back (${scanName(l.r)})`);
      return k.ret(l.r);
    },
  },
);

/** The old folio collapse_file locked at range offset i (locals o0..o3). */
const oldOf = (l: object, i: number): FolioId => ((l as Record<string, number>)[`o${i}`] ?? -1) as FolioId;
function setOld(l: object, i: number, f: number): void {
  (l as Record<string, number>)[`o${i}`] = f;
}

function fail(_k: Ctx, l: { r: number }, r: number): 'rollback' {
  l.r = r;
  return 'rollback';
}
function unlockCur(l: { r: number }, r: number): 'cur_unlock' {
  l.r = r;
  return 'cur_unlock';
}
function failImmap(_k: Ctx, l: { r: number }, r: number): 'immap_unlock' {
  l.r = r;
  return 'immap_unlock';
}
const lowestBit = (mask: number): number => (mask ? 31 - Math.clz32(mask & -mask) : -1);
