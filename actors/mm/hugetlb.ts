/**
 * hugetlb faults (mm/hugetlb.c): hugetlb_fault takes the fault mutex for (mapping, index), then
 * the hugetlb VMA lock for read, then the huge PTL (mm->page_table_lock for pmd-sized pages);
 * hugetlb_no_page looks the folio up locked (or allocates one from the hugetlb pool and adds it to
 * the page cache locked) and installs the huge pmd under the PTL after a pte_same recheck.
 * Simplified: shared (VM_MAYSHARE) hugetlb mappings only; no pmd sharing, no reservations.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  FAULT_FLAG_WRITE,
  folio_pfn,
  HPAGE_PMD_ORDER,
  mk_huge_pmd,
  pmd_none,
  pmd_trans_huge,
  pte_write,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_MAYSHARE,
  VM_SHARED,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import { filemap_add_folio, filemap_get_folio, i_size } from '../../src/kernel/filemap.js';
import { folio_add_rmap, folio_alloc, folio_get, folio_lock, folio_mapping, folio_put, folio_trylock, folio_try_get, folio_unlock } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, set_pmd } from '../../src/kernel/pgtable.js';
import { userfaultfd_missing, vm_flags } from './common.js';
import { handle_userfault } from './userfault.js';
import { type MmId, type VmaId, NO_FOLIO, NO_MEMFD } from '../../src/kernel/ids.js';

/** hugetlb_fault: args [mm, vma, vpn, flags]; returns vm_fault_t. */
export const hugetlb_fault = kproc(
  'hugetlb_fault',
  'mm/hugetlb.c: hugetlb_fault → hugetlb_no_page',
  (a: { mm: MmId; vma: VmaId; vpn: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, flags: a.flags, map: NO_MEMFD, idx: 0, orig: 0, f: NO_FOLIO, ret: 0 }),
  {
    mutex: (k, l) => {
      const K = kern(k);
      l.map = K.vma(l.vma).memfd;
      l.idx = K.linear_page_index(l.vma, l.vpn);
      if (!(vm_flags(k.w, K, l.vma) & VM_MAYSHARE)) return k.ret(VM_FAULT_SIGBUS); // private hugetlb: not modelled
      const mx = K.mapping(l.map).fault_mutex[l.idx] ?? -1;
      if (mx < 0) return k.ret(VM_FAULT_SIGBUS);
      return k.mutex_lock(mx) ? 'vma_lock' : BLOCKED;
    },
    vma_lock: (k, l) => (k.down_read(kern(k).vma(l.vma).hugetlb_vma_lock) ? 'read' : BLOCKED),
    read: (k, l) => {
      // huge_pte_alloc + huge_ptep_get
      l.orig = pmdp_get(k.w, kern(k), l.mm, pmd_index(l.vpn));
      if (pmd_none(l.orig)) return 'no_page';
      if (!pmd_trans_huge(l.orig)) return 'out'; // migration entry: not modelled
      return 'ptl';
    },
    ptl: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'recheck' : BLOCKED),
    recheck: (k, l) => {
      const K = kern(k);
      if (pmdp_get(k.w, K, l.mm, pmd_index(l.vpn)) !== l.orig) return 'out_ptl';
      if (l.flags & FAULT_FLAG_WRITE && !pte_write(l.orig)) {
        if (!(vm_flags(k.w, K, l.vma) & VM_WRITE)) l.ret = VM_FAULT_SIGBUS;
        else set_pmd(k.w, K, l.mm, pmd_index(l.vpn), l.orig | _PAGE_RW | _PAGE_DIRTY); // hugetlb_wp, shared: reuse
      }
      return 'out_ptl';
    },
    out_ptl: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'out' : ENDED),
    out: (k, l) => (k.up_read(kern(k).vma(l.vma).hugetlb_vma_lock) ? 'out_mutex' : ENDED),
    out_mutex: (k, l) => {
      const K = kern(k);
      return k.mutex_unlock(K.mapping(l.map).fault_mutex[l.idx] as number) ? k.ret(l.ret) : ENDED;
    },

    // --- hugetlb_no_page ---
    no_page: (k, l) => {
      // filemap_lock_hugetlb_folio: lookup with a reference
      const K = kern(k);
      l.f = filemap_get_folio(k.w, K, l.map, l.idx);
      if (l.f >= 0 && !folio_try_get(k.w, K, l.f)) l.f = NO_FOLIO;
      if (l.f >= 0) return 'lock_folio';
      if (l.idx >= i_size(k.w, K, l.map)) {
        l.ret = VM_FAULT_SIGBUS;
        return 'out';
      }
      if (userfaultfd_missing(k.w, K, l.vma)) return 'uffd_vma_unlock'; // hugetlb_handle_userfault
      return 'alloc';
    },
    lock_folio: (k, l) => (folio_lock(k, kern(k), l.f) ? 'check_mapping' : BLOCKED),
    check_mapping: (k, l) => (folio_mapping(k.w, kern(k), l.f) === l.map + 1 ? 'pte_lock' : 'truncated'),
    truncated: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'put_retry' : ENDED),
    put_retry: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'no_page';
    },
    alloc: (k, l) => {
      const K = kern(k);
      l.f = folio_alloc(k.w, K, HPAGE_PMD_ORDER, true); // alloc_hugetlb_folio (+ folio_zero_user, uptodate)
      if (l.f < 0) {
        l.ret = VM_FAULT_OOM;
        return 'out';
      }
      folio_trylock(k, K, l.f); // hugetlb_add_to_page_cache: __folio_set_locked on a fresh folio
      return 'add';
    },
    add: (k, l) => {
      const K = kern(k);
      if (filemap_get_folio(k.w, K, l.map, l.idx) >= 0) return 'add_failed'; // -EEXIST → retry
      filemap_add_folio(k.w, K, l.map, l.idx, l.f);
      folio_get(k.w, K, l.f);
      k.note(() => `hugetlb_no_page: index ${l.idx} of ${K.mapping(l.map).name} ← new hugetlb folio ${l.f}`);
      return 'pte_lock';
    },
    add_failed: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'put_retry' : ENDED),
    pte_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'np_recheck' : BLOCKED),
    np_recheck: (k, l) => {
      // if (!pte_same(huge_ptep_get(...), vmf->orig_pte)) goto backout;
      const K = kern(k);
      if (pmdp_get(k.w, K, l.mm, pmd_index(l.vpn)) !== l.orig) return 'backout';
      folio_add_rmap(k.w, K, l.f); // hugetlb_add_file_rmap
      const w = (vm_flags(k.w, K, l.vma) & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE) ? _PAGE_RW | _PAGE_DIRTY : 0;
      set_pmd(k.w, K, l.mm, pmd_index(l.vpn), mk_huge_pmd(folio_pfn(l.f), w)); // set_huge_pte_at
      return 'np_unlock';
    },
    np_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'np_folio_unlock' : ENDED),
    np_folio_unlock: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'out' : ENDED),
    backout: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'backout_unlocked' : ENDED),
    backout_unlocked: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'backout_put' : ENDED),
    backout_put: (k, l) => {
      folio_put(k, kern(k), l.f);
      return 'out';
    },
    uffd_vma_unlock: (k, l) => (k.up_read(kern(k).vma(l.vma).hugetlb_vma_lock) ? 'uffd_mutex_unlock' : ENDED),
    uffd_mutex_unlock: (k, l) => {
      if (!k.mutex_unlock(kern(k).mapping(l.map).fault_mutex[l.idx] as number)) return ENDED;
      return k.call(handle_userfault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags }, 'uffd_done');
    },
    uffd_done: (k) => k.ret(k.rv),
  },
);
