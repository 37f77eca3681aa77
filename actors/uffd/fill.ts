/**
 * The userfaultfd fill ioctls (mm/userfaultfd.c, v6.10, and v6.11 with switch
 * `uffd_fill_pmd_checks_v6_11`): UFFDIO_COPY (with UFFDIO_COPY_MODE_WP), UFFDIO_ZEROPAGE,
 * UFFDIO_CONTINUE and UFFDIO_POISON (v6.6+) through mfill_atomic, then wake_userfault
 * (fs/userfaultfd.c: userfaultfd_copy / _zeropage / _continue / _poison). A hugetlb dst VMA is
 * passed to mfill_atomic_hugetlb (fill-hugetlb.ts) after the VMA checks.
 *
 * mfill_atomic per page: the dst pmd checks (mm_alloc_pmd; pmd_trans_huge → -EEXIST; __pte_alloc;
 * the recheck), then mfill_atomic_pte: CONTINUE, else by VM_SHARED: a private dst (anonymous or
 * MAP_PRIVATE shmem) gets COPY (mfill_atomic_pte_copy, an anonymous folio) and ZEROPAGE
 * (mfill_atomic_pte_zeropage), shmem COPY/ZEROPAGE (shmem_mfill_atomic_pte), CONTINUE
 * (mfill_atomic_pte_continue: shmem_get_folio(SGP_NOALLOC), -EFAULT when the page cache has no
 * folio), all installing through mfill_atomic_install_pte (pte_offset_map_lock → -EAGAIN when the
 * table is gone; a PTE neither none nor a marker under the PTL → -EEXIST, "We allow to overwrite a
 * pte marker"; MFILL_ATOMIC_WP → pte_mkuffd_wp, -EINVAL in a VMA not registered VM_UFFD_WP), and
 * POISON (mfill_atomic_pte_poison: a PTE_MARKER_POISONED marker under the PTL, -EFAULT past
 * i_size, -EEXIST unless pte_none: "Refuse to overwrite any PTE, even a PTE marker").
 *
 * The pmd checks, v6.10 (before "userfaultfd: fix checks for huge PMDs", 71c186efc1b2, patch 1 of
 * the series, and "userfaultfd: don't BUG_ON() if khugepaged yanks our page table", 4828d207dc51,
 * patch 2; switch `uffd_fix_checks_for_huge_pmds` is patch 1 alone: the re-read and -EEXIST, the
 * BUG_ONs kept as a separate re-read of *dst_pmd):
 *   dst_pmdval = pmdp_get_lockless(dst_pmd); if (pmd_trans_huge(dst_pmdval)) -EEXIST;
 *   if (pmd_none(dst_pmdval) && __pte_alloc(...)) -ENOMEM;
 *   if (pmd_trans_huge(*dst_pmd)) -EFAULT; BUG_ON(pmd_none(*dst_pmd)); BUG_ON(pmd_trans_huge(*dst_pmd));
 * v6.11: after __pte_alloc, dst_pmdval = pmdp_get_lockless(dst_pmd); !pmd_present || trans_huge →
 * -EEXIST; no BUG_ONs ("khugepaged is allowed to remove page tables under us; pte_offset_map_lock()
 * will deal with that").
 *
 * Simplified: one page per ioctl call step loop (len = pages); the dst VMA is locked as in
 * uffd_mfill_lock (v6.9+: lock_vma_under_rcu, else mmap_read_lock + down_read(vm_lock)); a private
 * dst gets its anon_vma in one step under the VMA lock (uffd_lock_vma drops it and prepares the
 * anon_vma under mmap_read_lock); no
 * mmap_changing, no memcg charge, no UFFDIO_CONTINUE_MODE_WP (a hugetlb dst goes to mfill_atomic_hugetlb, fill-hugetlb.ts), no
 * -ENOENT copy retry (copy_from_user never faults here: the source value is given), pmd_bad not
 * modelled; the lockless reads of *dst_pmd after __pte_alloc are one step (v6.10: pmd_trans_huge and the
 * two BUG_ONs), or two with `uffd_fix_checks_for_huge_pmds` alone (the re-read, then the BUG_ONs).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SPECIAL,
  EAGAIN,
  EEXIST,
  EFAULT,
  EINVAL,
  ENOENT,
  ENOMEM,
  folio_pfn,
  is_pmd_migration_entry,
  mk_pte,
  pmd_none,
  pmd_table,
  pmd_trans_huge,
  pte_none,
  VM_SHARED,
  VM_UFFD_WP,
  VM_WRITE,
  ZERO_PFN,
} from '../../src/kernel/defs.js';
import { make_pte_marker, PTE_MARKER_POISONED, pte_mkuffd_wp, pte_none_mostly } from '../../src/kernel/pte-marker.js';
import { filemap_add_folio, filemap_get_folio, filemap_remove_folio, i_size } from '../../src/kernel/filemap.js';
import { folio_add_new_anon_rmap, folio_add_rmap, folio_alloc, folio_get, folio_lock, folio_mapping, folio_put, folio_trylock, folio_try_get, folio_unlock, folio_write_data } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { __pte_alloc, pmd_index, pmdp_get, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, set_pte_at } from '../../src/kernel/pgtable.js';
import { anon_vma_prepare, lock_vma_under_rcu, vm_flags } from '../mm/common.js';
import { wake_userfault } from '../mm/userfault.js';
import { mfill_atomic_hugetlb } from './fill-hugetlb.js';
import { pmdText, UFFDIO_MODE_DONTWAKE, VM_UFFD_FLAGS, vma_is_anonymous } from './common.js';
import { type MmId, type VmaId, NO_FOLIO, NO_MEMFD, NO_TABLE } from '../../src/kernel/ids.js';

/** enum mfill_atomic_mode (include/linux/userfaultfd_k.h). */
export const MFILL_ATOMIC_COPY = 0;
export const MFILL_ATOMIC_ZEROPAGE = 1;
export const MFILL_ATOMIC_CONTINUE = 2;
export const MFILL_ATOMIC_POISON = 3;
const MODE_NAME = ['UFFDIO_COPY', 'UFFDIO_ZEROPAGE', 'UFFDIO_CONTINUE', 'UFFDIO_POISON'];
/** UFFDIO_COPY_MODE_WP (include/uapi/linux/userfaultfd.h): mfill_atomic's MFILL_ATOMIC_WP. */
export const UFFDIO_COPY_MODE_WP = 1 << 1;

const pmd_present = (v: number): boolean => !pmd_none(v) && !is_pmd_migration_entry(v);

/** "userfaultfd: fix checks for huge PMDs" (71c186efc1b2): its own switch, or both v6.11 fixes. */
const fixHugePmdChecks = (k: { sw(name: string): boolean }): boolean => k.sw('uffd_fix_checks_for_huge_pmds') || k.sw('uffd_fill_pmd_checks_v6_11');

/** page_mapping(page) in mfill_atomic_install_pte: CONTINUE's folio and shmem_mfill_atomic_pte's
 * (a VM_SHARED dst) are in the page cache; mfill_atomic_pte_copy's (any private dst) is anonymous. */
const page_in_cache = (k: Parameters<typeof kern>[0], l: { mode: number; vma: VmaId }): boolean =>
  l.mode === MFILL_ATOMIC_CONTINUE || (vm_flags(k.w, kern(k), l.vma) & VM_SHARED) !== 0;

/**
 * mfill_atomic(ctx, dst_start, src_start, len, flags) + the ioctl's wake: args [mm, vma, dst vpn,
 * pages, mode (MFILL_ATOMIC_*), uffdio mode bits, value copied (COPY)]. Returns the pages filled
 * (> 0) or a negative errno.
 */
export const mfill_atomic = kproc(
  'mfill_atomic',
  'mm/userfaultfd.c: mfill_atomic',
  (a: { mm: MmId; vma: VmaId; dst: number; pages: number; mode: number; umode: number; value: number }) => ({
    mm: a.mm,
    vma: a.vma,
    dst: a.dst,
    pages: a.pages,
    mode: a.mode,
    umode: a.umode,
    value: a.value,
    done: 0,
    err: 0,
    mmap: 0,
    pmdval: 0,
    t: NO_TABLE,
    f: NO_FOLIO,
    map: NO_MEMFD,
    pgoff: 0,
  }),
  {
    // uffd_mfill_lock → uffd_lock_vma: lock_vma_under_rcu, else the mmap_lock fallback
    lock_vma: (k, l) => {
      const K = kern(k);
      if (lock_vma_under_rcu(k, K, l.vma)) return 'validate';
      return 'mmap_lock';
    },
    mmap_lock: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'vm_lock' : BLOCKED),
    // "We cannot use vma_start_read() as it may fail due to false locked": down_read(&vma->vm_lock->lock)
    vm_lock: (k, l) => (k.down_read(kern(k).vma(l.vma).vma_lock) ? 'mmap_unlock' : BLOCKED),
    mmap_unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'validate' : ENDED),
    validate: (k, l) => {
      const K = kern(k);
      const flags = vm_flags(k.w, K, l.vma);
      const anon = vma_is_anonymous(K, l.vma);
      // !dst_vma->vm_userfaultfd_ctx.ctx → -ENOENT; only anon and shmem; CONTINUE needs shmem
      if (!(flags & VM_UFFD_FLAGS)) l.err = ENOENT;
      // "don't allow a wrprotect copy if the userfaultfd didn't register as WP"
      else if (l.umode & UFFDIO_COPY_MODE_WP && !(flags & VM_UFFD_WP)) l.err = EINVAL;
      else if (anon && l.mode === MFILL_ATOMIC_CONTINUE) l.err = EINVAL;
      if (l.err) return 'unlock';
      // "If this is a HUGETLB vma, pass off to appropriate routine" (it drops the VMA lock itself)
      if (!anon && K.mapping(K.vma(l.vma).memfd).hugetlb)
        return k.call(mfill_atomic_hugetlb, { mm: l.mm, vma: l.vma, dst: l.dst, pages: l.pages, mode: l.mode, value: l.value }, 'hugetlb_done');
      if (!(flags & VM_SHARED)) anon_vma_prepare(k, K, l.vma); // uffd_lock_vma: anon_vma_prepare of a private dst
      return 'pmd';
    },
    // mm_alloc_pmd always succeeds here (the pmd level exists); dst_pmdval = pmdp_get_lockless(dst_pmd)
    pmd: (k, l) => {
      const K = kern(k);
      const p = pmd_index(l.dst + l.done);
      l.pmdval = pmdp_get(k.w, K, l.mm, p);
      if (!fixHugePmdChecks(k) && pmd_trans_huge(l.pmdval)) {
        l.err = EEXIST; // "If the dst_pmd is mapped as THP don't override it and just be strict."
        return 'unlock';
      }
      if (pmd_none(l.pmdval)) return k.call(__pte_alloc, { mm: l.mm, pmd: p }, 'alloced');
      return 'checks';
    },
    alloced: (k, l) => {
      if (k.rv < 0) {
        l.err = ENOMEM;
        return 'unlock';
      }
      return 'checks';
    },
    checks: (k, l) => {
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.dst + l.done));
      if (fixHugePmdChecks(k)) {
        // dst_pmdval = pmdp_get_lockless(dst_pmd): "(This includes the case where the PMD used to be THP and changed back to none after __pte_alloc().)"
        if (!pmd_present(v) || pmd_trans_huge(v)) {
          l.err = EEXIST;
          k.note(() => `mfill_atomic: dst pmd ${pmd_index(l.dst + l.done)} is ${pmdText(v)} after __pte_alloc, -EEXIST`);
          return 'unlock';
        }
        // 4828d207dc51 removed the BUG_ONs; with 71c186efc1b2 alone they still re-read *dst_pmd
        return k.sw('uffd_fill_pmd_checks_v6_11') ? 'fill' : 'bug_ons';
      }
      // "If an huge pmd materialized from under us fail"
      if (pmd_trans_huge(v)) {
        l.err = EFAULT;
        return 'unlock';
      }
      if (pmd_none(v)) k.note(() => `mfill_atomic: dst pmd ${pmd_index(l.dst + l.done)} is none after __pte_alloc (cleared under us)`);
      if (k.BUG_ON(pmd_none(v), 'pmd_none(*dst_pmd)')) return ENDED;
      if (k.BUG_ON(pmd_trans_huge(v), 'pmd_trans_huge(*dst_pmd)')) return ENDED;
      return 'fill';
    },
    // 71c186efc1b2 without 4828d207dc51: BUG_ON(pmd_none(*dst_pmd)); BUG_ON(pmd_trans_huge(*dst_pmd));
    bug_ons: (k, l) => {
      const v = pmdp_get(k.w, kern(k), l.mm, pmd_index(l.dst + l.done));
      if (pmd_none(v)) k.note(() => `mfill_atomic: dst pmd ${pmd_index(l.dst + l.done)} is none at the BUG_ONs (table removed under us)`);
      if (k.BUG_ON(pmd_none(v), 'pmd_none(*dst_pmd)')) return ENDED;
      if (k.BUG_ON(pmd_trans_huge(v), 'pmd_trans_huge(*dst_pmd)')) return ENDED;
      return 'fill';
    },
    // mfill_atomic_pte: CONTINUE; else dispatch on VM_SHARED ("when we are asked to fill an hole in a
    // MAP_PRIVATE shmem mapping, we'll generate anonymous memory directly")
    fill: (k, l) => {
      const K = kern(k);
      if (l.mode === MFILL_ATOMIC_CONTINUE) return 'cont_lookup';
      if (l.mode === MFILL_ATOMIC_POISON) return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.dst + l.done) }, 'poison_locked');
      if (!(vm_flags(k.w, K, l.vma) & VM_SHARED)) {
        if (l.mode === MFILL_ATOMIC_ZEROPAGE) return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.dst + l.done) }, 'zero_locked');
        return 'anon_alloc';
      }
      return 'shmem_alloc';
    },
    // mfill_atomic_pte_copy: vma_alloc_folio + copy_from_user + __folio_mark_uptodate
    anon_alloc: (k, l) => {
      const K = kern(k);
      l.f = folio_alloc(k.w, K, 0);
      if (l.f < 0) {
        l.err = ENOMEM;
        return 'unlock';
      }
      folio_write_data(k.w, K, l.f, l.value);
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.dst + l.done) }, 'install_locked');
    },
    // mfill_atomic_pte_zeropage: the zero page, pte_none checked under the PTL
    zero_locked: (k, l) => {
      if (k.rv === 0) {
        l.err = EAGAIN;
        return 'unlock';
      }
      l.t = pmd_table(k.rv);
      return 'zero_set';
    },
    zero_set: (k, l) => {
      const K = kern(k);
      const i = pte_index(l.dst + l.done);
      // "the shmem MAP_PRIVATE case requires checking the i_size" (under the PTL)
      if (!vma_is_anonymous(K, l.vma) && K.linear_page_index(l.vma, l.dst + l.done) >= i_size(k.w, K, K.vma(l.vma).memfd)) l.err = EFAULT;
      else if (!pte_none(ptep_get(k, K, l.t, i))) l.err = EEXIST;
      else set_pte_at(k, K, l.t, i, mk_pte(ZERO_PFN, _PAGE_SPECIAL));
      k.note(() => `mfill_atomic_pte_zeropage: vpn ${l.dst + l.done} ${l.err ? 'not none, -EEXIST' : '→ zero page'}`);
      return 'zero_unlock';
    },
    zero_unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? (l.err ? 'unlock' : 'next') : ENDED),
    // mfill_atomic_pte_poison: "if (!dst_pte) goto out" with -EAGAIN
    poison_locked: (k, l) => {
      if (k.rv === 0) {
        l.err = EAGAIN;
        return 'unlock';
      }
      l.t = pmd_table(k.rv);
      return 'poison_set';
    },
    poison_set: (k, l) => {
      const K = kern(k);
      const i = pte_index(l.dst + l.done);
      // mfill_file_over_size; then "Refuse to overwrite any PTE, even a PTE marker (e.g. UFFD WP)"
      if (!vma_is_anonymous(K, l.vma) && K.linear_page_index(l.vma, l.dst + l.done) >= i_size(k.w, K, K.vma(l.vma).memfd)) l.err = EFAULT;
      else if (!pte_none(ptep_get(k, K, l.t, i))) l.err = EEXIST;
      else set_pte_at(k, K, l.t, i, make_pte_marker(PTE_MARKER_POISONED));
      k.note(() => `mfill_atomic_pte_poison: vpn ${l.dst + l.done} ${l.err === EEXIST ? 'not none, -EEXIST' : l.err ? 'beyond i_size, -EFAULT' : '→ poison marker'}`);
      return 'zero_unlock';
    },
    // shmem_mfill_atomic_pte: shmem_alloc_folio, copy (or clear for ZEROPAGE), __folio_set_locked,
    // shmem_add_to_page_cache (-EEXIST when the index is populated), then install
    shmem_alloc: (k, l) => {
      const K = kern(k);
      l.map = K.vma(l.vma).memfd;
      l.pgoff = K.linear_page_index(l.vma, l.dst + l.done);
      if (l.pgoff >= i_size(k.w, K, l.map)) {
        l.err = EFAULT; // "if (unlikely(pgoff >= max_off)) ret = -EFAULT"
        return 'unlock';
      }
      l.f = folio_alloc(k.w, K, 0);
      if (l.f < 0) {
        l.err = ENOMEM;
        return 'unlock';
      }
      folio_write_data(k.w, K, l.f, l.mode === MFILL_ATOMIC_ZEROPAGE ? 0 : l.value);
      folio_trylock(k, K, l.f);
      return 'shmem_add';
    },
    shmem_add: (k, l) => {
      const K = kern(k);
      if (filemap_get_folio(k.w, K, l.map, l.pgoff) >= 0) {
        l.err = EEXIST;
        k.note(() => `shmem_mfill_atomic_pte: index ${l.pgoff} already in the page cache, -EEXIST`);
        return 'shmem_unlock_put';
      }
      filemap_add_folio(k.w, K, l.map, l.pgoff, l.f);
      folio_get(k.w, K, l.f); // the cache's reference; ours becomes the PTE's
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.dst + l.done) }, 'install_locked');
    },
    shmem_unlock_put: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'put_unlock' : ENDED),
    // mfill_atomic_pte_continue: shmem_get_folio(inode, pgoff, 0, &folio, SGP_NOALLOC)
    cont_lookup: (k, l) => {
      const K = kern(k);
      l.map = K.vma(l.vma).memfd;
      l.pgoff = K.linear_page_index(l.vma, l.dst + l.done);
      // shmem_get_folio_gfp: "sgp <= SGP_CACHE && index beyond i_size" → -EINVAL (not mapped to -EFAULT)
      if (l.pgoff >= i_size(k.w, K, l.map)) {
        l.err = EINVAL;
        k.note(() => `mfill_atomic_pte_continue: index ${l.pgoff} beyond i_size, -EINVAL`);
        return 'unlock';
      }
      l.f = filemap_get_folio(k.w, K, l.map, l.pgoff);
      if (l.f >= 0 && !folio_try_get(k.w, K, l.f)) l.f = NO_FOLIO;
      if (l.f < 0) {
        l.err = EFAULT; // "Our caller expects us to return -EFAULT if we failed to find folio"
        k.note(() => `mfill_atomic_pte_continue: no folio at index ${l.pgoff} (SGP_NOALLOC), -EFAULT`);
        return 'unlock';
      }
      return 'cont_lock';
    },
    cont_lock: (k, l) => (folio_lock(k, kern(k), l.f) ? 'cont_check' : BLOCKED),
    cont_check: (k, l) => {
      const K = kern(k);
      if (folio_mapping(k.w, K, l.f) === l.map + 1) return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.dst + l.done) }, 'install_locked');
      // truncated meanwhile: shmem_get_folio_gfp repeats: beyond i_size -EINVAL, else nothing found, -EFAULT
      l.err = l.pgoff >= i_size(k.w, K, l.map) ? EINVAL : EFAULT;
      return 'shmem_unlock_put';
    },
    // mfill_atomic_install_pte: pte_offset_map_lock (-EAGAIN), then pte_none under the PTL (-EEXIST)
    install_locked: (k, l) => {
      if (k.rv === 0) {
        l.err = EAGAIN;
        k.note(() => `mfill_atomic_install_pte: no PTE table at vpn ${l.dst + l.done}, -EAGAIN`);
        return 'install_fail';
      }
      l.t = pmd_table(k.rv);
      return 'install';
    },
    install: (k, l) => {
      const K = kern(k);
      const i = pte_index(l.dst + l.done);
      const vpn = l.dst + l.done;
      // vma_is_shmem: "serialize against truncate with the page table lock"
      if (!vma_is_anonymous(K, l.vma) && K.linear_page_index(l.vma, vpn) >= i_size(k.w, K, K.vma(l.vma).memfd)) {
        l.err = EFAULT;
        k.note(() => `mfill_atomic_install_pte: vpn ${vpn} beyond i_size under the PTL, -EFAULT`);
        return 'install_unlock';
      }
      if (!pte_none_mostly(ptep_get(k, K, l.t, i))) {
        l.err = EEXIST;
        k.note(() => `mfill_atomic_install_pte: vpn ${vpn} not none under the PTL, -EEXIST`);
        return 'install_unlock';
      }
      const flags = vm_flags(k.w, K, l.vma);
      const inCache = page_in_cache(k, l);
      // page_in_cache && !VM_SHARED: not writable
      const writable = flags & VM_WRITE && !(inCache && !(flags & VM_SHARED));
      if (inCache) folio_add_rmap(k.w, K, l.f);
      else folio_add_new_anon_rmap(k.w, K, l.f, l.vma, vpn);
      const pte = mk_pte(folio_pfn(l.f), _PAGE_DIRTY | (writable ? _PAGE_RW : 0));
      // "if (flags & MFILL_ATOMIC_WP) _dst_pte = pte_mkuffd_wp(_dst_pte)"
      set_pte_at(k, K, l.t, i, l.umode & UFFDIO_COPY_MODE_WP ? pte_mkuffd_wp(pte) : pte);
      k.note(() => `${MODE_NAME[l.mode]}: vpn ${vpn} → folio ${l.f}${l.umode & UFFDIO_COPY_MODE_WP ? ' (uffd-wp)' : ''}`);
      return 'install_unlock';
    },
    install_unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? (l.err ? 'install_fail' : 'installed') : ENDED),
    installed: (k, l) => {
      if (!page_in_cache(k, l)) return 'next';
      return folio_unlock(k, kern(k), l.f) ? 'next' : ENDED;
    },
    // error paths: anon folio_put; shmem copy: filemap_remove_folio (out_delete_from_cache), unlock, put;
    // continue: folio_unlock + folio_put
    install_fail: (k, l) => {
      const K = kern(k);
      if (!page_in_cache(k, l)) return 'put_unlock';
      if (l.mode !== MFILL_ATOMIC_CONTINUE) filemap_remove_folio(k, K, l.map, l.f);
      return 'shmem_unlock_put';
    },
    put_unlock: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'unlock';
    },
    next: (_k, l) => {
      l.f = NO_FOLIO;
      l.done++;
      return l.done < l.pages ? 'pmd' : 'unlock';
    },
    // mfill_atomic_hugetlb's result: huge pages filled, or the errno
    hugetlb_done: (k, l) => {
      if (k.rv > 0) l.done = k.rv;
      else l.err = k.rv;
      return 'wake';
    },
    // mfill_atomic's out_unlock: uffd_mfill_unlock (vma_end_read)
    unlock: (k, l) => (k.up_read(kern(k).vma(l.vma).vma_lock) ? 'wake' : ENDED),
    // userfaultfd_copy & co: wake the range unless DONTWAKE (only when something was filled)
    wake: (k, l) => {
      if (l.done > 0 && !(l.umode & UFFDIO_MODE_DONTWAKE)) wake_userfault(k, kern(k), l.mm);
      return k.ret(l.done > 0 ? l.done : l.err);
    },
  },
);
