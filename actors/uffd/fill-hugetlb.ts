/**
 * mfill_atomic on a hugetlb dst VMA (mm/userfaultfd.c: mfill_atomic_hugetlb, v6.10/v6.11, and
 * mm/hugetlb.c: hugetlb_mfill_atomic_pte, v6.10), entered from mfill_atomic (fill.ts) after its VMA
 * checks with the dst VMA read-locked (uffd_mfill_lock); it drops that lock itself.
 *
 * UFFDIO_ZEROPAGE → -EINVAL ("There is no default zero huge page for all huge page sizes").
 * Per huge page: idx = linear_page_index; mutex_lock(&hugetlb_fault_mutex_table[hash]) ("fault
 * mutex prevents races with other faulting threads"); hugetlb_vma_lock_read; huge_pte_alloc
 * (-ENOMEM); unless CONTINUE, !huge_pte_none_mostly(huge_ptep_get) → -EEXIST; then
 * hugetlb_mfill_atomic_pte: CONTINUE → filemap_lock_hugetlb_folio (-EFAULT when the cache has no
 * folio); COPY → hugetlbfs_pagecache_present → -EEXIST ("UFFDIO_COPY for a non-missing case"),
 * alloc_hugetlb_folio (-ENOMEM), copy_folio_from_user, __folio_mark_uptodate; shared COPY: idx past
 * i_size → -EFAULT, hugetlb_add_to_page_cache (__folio_set_locked, __filemap_add_folio: -EEXIST,
 * the lock cleared again); huge_pte_lock; !huge_pte_none_mostly → -EEXIST (out_release_unlock: a
 * COPY's folio stays in the page cache, our reference is dropped); hugetlb_add_file_rmap,
 * make_huge_pte (writable unless CONTINUE on a private VMA), huge_pte_mkdirty, set_huge_pte_at;
 * spin_unlock; folio_unlock. Then hugetlb_vma_unlock_read, mutex_unlock, the next huge page; at
 * the end (or the first error) uffd_mfill_unlock.
 *
 * Simplified: shared (VM_SHARED) hugetlb dst VMAs only (hugetlb_fault models those only; the
 * loader rejects a private one), so the anon-rmap branch is absent; the huge PTE is the pmd
 * (PMD-sized pages, huge_pte_lock = mm->page_table_lock), no pmd sharing, no reservations
 * (restore_reserve_on_error); huge_pte_alloc cannot fail (the pmd level exists), so its -ENOMEM
 * is unreachable; no hugetlb PTE markers (huge_pte_none_mostly is pmd_none); the dst is given in
 * VMA (huge) pages, so the alignment -EINVAL cannot arise; no -ENOENT copy retry (the source
 * value is given, copy_folio_from_user never faults), no mmap_changing / map_changing_lock, no
 * hwpoison (-EIO), no memcg; UFFDIO_POISON and UFFDIO_COPY_MODE_WP into hugetlb are rejected at
 * load time (no huge PTE markers or huge uffd-wp bit here).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { _PAGE_DIRTY, _PAGE_RW, EEXIST, EFAULT, EINVAL, ENOMEM, folio_pfn, HPAGE_PMD_ORDER, mk_huge_pmd, pmd_none, VM_SHARED, VM_WRITE } from '../../src/kernel/defs.js';
import { filemap_add_folio, filemap_get_folio, i_size } from '../../src/kernel/filemap.js';
import { folio_add_rmap, folio_alloc, folio_get, folio_lock, folio_mapping, folio_put, folio_trylock, folio_try_get, folio_unlock, folio_write_data } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, set_pmd } from '../../src/kernel/pgtable.js';
import { vm_flags } from '../mm/common.js';
import { type MmId, type VmaId, NO_FOLIO, NO_MEMFD } from '../../src/kernel/ids.js';

/** enum mfill_atomic_mode values (fill.ts re-exports the names; kept numeric here to avoid a cycle). */
const COPY = 0;
const ZEROPAGE = 1;
const CONTINUE = 2;

/**
 * mfill_atomic_hugetlb: args [mm, vma, dst vpn, huge pages, mode (MFILL_ATOMIC_*), value copied];
 * the caller holds the dst VMA's read lock. Returns the huge pages filled (> 0) or a negative errno.
 */
export const mfill_atomic_hugetlb = kproc(
  'mfill_atomic_hugetlb',
  'mm/userfaultfd.c: mfill_atomic_hugetlb → mm/hugetlb.c: hugetlb_mfill_atomic_pte',
  (a: { mm: MmId; vma: VmaId; dst: number; pages: number; mode: number; value: number }) => ({
    mm: a.mm,
    vma: a.vma,
    dst: a.dst,
    pages: a.pages,
    mode: a.mode,
    value: a.value,
    done: 0,
    err: 0,
    addr: 0,
    map: NO_MEMFD,
    idx: 0,
    f: NO_FOLIO,
  }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (l.mode !== COPY && l.mode !== CONTINUE && l.mode !== ZEROPAGE) throw new Error(`internal: mfill_atomic_hugetlb mode ${l.mode} (rejected at load time)`);
      if (!(vm_flags(k.w, K, l.vma) & VM_SHARED)) throw new Error(`internal: mfill_atomic_hugetlb into private hugetlb VMA ${l.vma} (rejected at load time)`);
      l.map = K.vma(l.vma).memfd;
      if (l.mode === ZEROPAGE) {
        l.err = EINVAL; // "we can not reliably insert a zero page, this feature is not supported"
        k.note(() => 'mfill_atomic_hugetlb: UFFDIO_ZEROPAGE on hugetlb, -EINVAL');
        return 'out';
      }
      return 'mutex';
    },
    // idx = linear_page_index(dst_vma, dst_addr); hash = hugetlb_fault_mutex_hash(mapping, idx)
    mutex: (k, l) => {
      const K = kern(k);
      l.addr = l.dst + (l.done << K.vma(l.vma).shift);
      l.idx = K.linear_page_index(l.vma, l.addr);
      const mx = K.mapping(l.map).fault_mutex[l.idx];
      if (mx === undefined) throw new Error(`internal: mfill_atomic_hugetlb: no fault mutex for index ${l.idx}`);
      return k.mutex_lock(mx) ? 'vma_lock' : BLOCKED;
    },
    vma_lock: (k, l) => (k.down_read(kern(k).vma(l.vma).hugetlb_vma_lock) ? 'pte_alloc' : BLOCKED),
    // huge_pte_alloc (the pmd; never NULL here), then for COPY !huge_pte_none_mostly(huge_ptep_get) → -EEXIST
    pte_alloc: (k, l) => {
      const K = kern(k);
      if (l.mode !== CONTINUE && !pmd_none(pmdp_get(k.w, K, l.mm, pmd_index(l.addr)))) {
        l.err = EEXIST;
        k.note(() => `mfill_atomic_hugetlb: vpn ${l.addr} huge PTE not none, -EEXIST`);
        return 'vma_unlock';
      }
      return l.mode === CONTINUE ? 'cont_lookup' : 'copy_present';
    },

    // --- hugetlb_mfill_atomic_pte ---
    // CONTINUE: filemap_lock_hugetlb_folio (a referenced lookup, folio_lock, ->mapping recheck)
    cont_lookup: (k, l) => {
      const K = kern(k);
      l.f = filemap_get_folio(k.w, K, l.map, l.idx);
      if (l.f >= 0 && !folio_try_get(k.w, K, l.f)) l.f = NO_FOLIO;
      if (l.f < 0) {
        l.err = EFAULT;
        k.note(() => `hugetlb_mfill_atomic_pte: no folio at index ${l.idx} (CONTINUE), -EFAULT`);
        return 'vma_unlock';
      }
      return 'cont_lock';
    },
    cont_lock: (k, l) => (folio_lock(k, kern(k), l.f) ? 'cont_check' : BLOCKED),
    cont_check: (k, l) => (folio_mapping(k.w, kern(k), l.f) === l.map + 1 ? 'ptl' : 'cont_truncated'),
    // __filemap_get_folio(FGP_LOCK): truncated meanwhile → unlock, put, look up again
    cont_truncated: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'cont_put' : ENDED),
    cont_put: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'cont_lookup';
    },
    // COPY: "If a folio already exists, then it's UFFDIO_COPY for a non-missing case. Return -EEXIST."
    copy_present: (k, l) => {
      if (filemap_get_folio(k.w, kern(k), l.map, l.idx) >= 0) {
        l.err = EEXIST;
        k.note(() => `hugetlb_mfill_atomic_pte: index ${l.idx} already in the page cache, -EEXIST`);
        return 'vma_unlock';
      }
      return 'copy_alloc';
    },
    // alloc_hugetlb_folio, copy_folio_from_user, __folio_mark_uptodate
    copy_alloc: (k, l) => {
      const K = kern(k);
      l.f = folio_alloc(k.w, K, HPAGE_PMD_ORDER, true);
      if (l.f < 0) {
        l.err = ENOMEM;
        return 'vma_unlock';
      }
      folio_write_data(k.w, K, l.f, l.value);
      return 'add';
    },
    // vm_shared && !is_continue: i_size check, hugetlb_add_to_page_cache ("Serialization between
    // remove_inode_hugepages() and hugetlb_add_to_page_cache() ... through the hugetlb_fault_mutex_table")
    add: (k, l) => {
      const K = kern(k);
      if (l.idx >= i_size(k.w, K, l.map)) {
        l.err = EFAULT;
        k.note(() => `hugetlb_mfill_atomic_pte: index ${l.idx} beyond i_size, -EFAULT`);
        return 'release_nounlock';
      }
      if (filemap_get_folio(k.w, K, l.map, l.idx) >= 0) {
        l.err = EEXIST; // __filemap_add_folio; __folio_clear_locked
        k.note(() => `hugetlb_add_to_page_cache: index ${l.idx} taken, -EEXIST`);
        return 'release_nounlock';
      }
      folio_trylock(k, K, l.f); // __folio_set_locked on the fresh folio
      filemap_add_folio(k.w, K, l.map, l.idx, l.f);
      folio_get(k.w, K, l.f); // the cache's reference; ours becomes the huge PTE's
      k.note(() => `hugetlb_add_to_page_cache: index ${l.idx} of ${K.mapping(l.map).name} ← folio ${l.f}`);
      return 'ptl';
    },
    // ptl = huge_pte_lock(h, dst_mm, dst_pte)
    ptl: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'install' : BLOCKED),
    install: (k, l) => {
      const K = kern(k);
      const p = pmd_index(l.addr);
      // "We allow to overwrite a pte marker" (none here): !huge_pte_none_mostly → -EEXIST
      if (!pmd_none(pmdp_get(k.w, K, l.mm, p))) {
        l.err = EEXIST;
        k.note(() => `hugetlb_mfill_atomic_pte: vpn ${l.addr} huge PTE not none under the PTL, -EEXIST`);
        return 'release_unlock';
      }
      folio_add_rmap(k.w, K, l.f); // hugetlb_add_file_rmap
      // shared VMA: writable = dst_vma->vm_flags & VM_WRITE; huge_pte_mkdirty
      const w = vm_flags(k.w, K, l.vma) & VM_WRITE ? _PAGE_RW : 0;
      set_pmd(k.w, K, l.mm, p, mk_huge_pmd(folio_pfn(l.f), w | _PAGE_DIRTY)); // set_huge_pte_at
      k.note(() => `${l.mode === CONTINUE ? 'UFFDIO_CONTINUE' : 'UFFDIO_COPY'}: vpn ${l.addr} → hugetlb folio ${l.f}`);
      return 'ptl_unlock';
    },
    ptl_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'folio_unlock' : ENDED),
    // "if (vm_shared || is_continue) folio_unlock(folio)"
    folio_unlock: (k, l) => {
      if (!folio_unlock(k, kern(k), l.f)) return ENDED;
      l.f = NO_FOLIO;
      return 'vma_unlock';
    },
    // out_release_unlock: spin_unlock(ptl), folio_unlock, then out_release_nounlock
    release_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'release_folio_unlock' : ENDED),
    release_folio_unlock: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'release_nounlock' : ENDED),
    // out_release_nounlock: folio_put (a folio added to the page cache stays there)
    release_nounlock: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'vma_unlock';
    },

    // --- back in mfill_atomic_hugetlb: hugetlb_vma_unlock_read, mutex_unlock ---
    vma_unlock: (k, l) => (k.up_read(kern(k).vma(l.vma).hugetlb_vma_lock) ? 'mutex_unlock' : ENDED),
    mutex_unlock: (k, l) => {
      if (!k.mutex_unlock(kern(k).mapping(l.map).fault_mutex[l.idx] as number)) return ENDED;
      if (l.err) return 'out';
      l.done++;
      return l.done < l.pages ? 'mutex' : 'out';
    },
    // out_unlock → uffd_mfill_unlock (vma_end_read)
    out: (k, l) => (k.up_read(kern(k).vma(l.vma).vma_lock) ? k.ret(l.done > 0 ? l.done : l.err) : ENDED),
  },
);
