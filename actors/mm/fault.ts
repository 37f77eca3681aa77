/**
 * The page-fault core (mm/memory.c): handle_mm_fault → handle_pte_fault, do_anonymous_page,
 * do_wp_page / wp_page_copy. Callers hold mmap_lock for read; a VM_FAULT_RETRY result means the
 * handler released it (FAULT_FLAG_ALLOW_RETRY). File faults are in file-fault.ts, hugetlb in
 * hugetlb.ts. Not modelled: swap-in (do_swap_page), migration-entry waits (return 0 and let the
 * caller retry), THP faults on huge pmds (treated as already present), fault-around.
 */
import { BLOCKED } from '../../src/engine/proc.js';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SPECIAL,
  FAULT_FLAG_WRITE,
  folio_pfn,
  is_zero_pfn,
  mk_pte,
  pfn_folio,
  pmd_is_table,
  pmd_none,
  pmd_table,
  pte_mkdirty,
  pte_mkwrite,
  pte_none,
  pte_pfn,
  pte_present,
  pte_special,
  pte_write,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_MAYSHARE,
  VM_SHARED,
  VM_WRITE,
  ZERO_PFN,
} from '../../src/kernel/defs.js';
import {
  folio_add_new_anon_rmap,
  folio_alloc,
  folio_data,
  folio_get,
  folio_put,
  folio_ref_count,
  folio_remove_rmap,
  folio_set_flag,
  folio_test_anon,
  folio_write_data,
  PageAnonExclusive,
} from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { arg, kproc } from '../../src/kernel/kproc.js';
import {
  __pte_alloc,
  pmd_index,
  pmdp_get,
  pte_index,
  pte_offset_map_lock,
  pte_offset_map_rw_nolock,
  pte_unmap,
  pte_unmap_unlock,
  ptep_get,
  set_pte_at,
} from '../../src/kernel/pgtable.js';
import { PG_anon_exclusive } from '../../src/kernel/defs.js';
import { anon_vma_prepare, userfaultfd_missing, vm_flags, vm_normal_folio } from './common.js';
import { do_fault } from './file-fault.js';
import { hugetlb_fault } from './hugetlb.js';
import { handle_userfault } from './userfault.js';

/** handle_mm_fault(vma, address, flags): args [mm, vma, vpn, flags]; returns vm_fault_t. */
export const handle_mm_fault = kproc(
  'handle_mm_fault',
  'mm/memory.c: handle_mm_fault → __handle_mm_fault → handle_pte_fault',
  (a) => ({ mm: arg(a, 0), vma: arg(a, 1), vpn: arg(a, 2), flags: arg(a, 3), t: -1, orig: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (K.vma(l.vma).hugetlb_vma_lock >= 0) return k.call(hugetlb_fault, [l.mm, l.vma, l.vpn, l.flags], 'done');
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      if (pmd_none(v)) return 'missing';
      if (!pmd_is_table(v)) {
        k.note(() => `handle_mm_fault: huge or migration pmd at ${l.vpn} (not modelled), retry`);
        return k.ret(0);
      }
      return 'map';
    },
    map: (k, l) => {
      const K = kern(k);
      const pmdval = pte_offset_map_rw_nolock(k, K, l.mm, pmd_index(l.vpn));
      if (pmdval === 0) return k.ret(0); // the table went away: return and let the fault retry
      l.t = pmd_table(pmdval);
      return 'read';
    },
    read: (k, l) => {
      const K = kern(k);
      l.orig = ptep_get(k, K, l.t, pte_index(l.vpn));
      if (pte_none(l.orig)) {
        pte_unmap(k, K);
        return 'missing';
      }
      if (!pte_present(l.orig)) {
        pte_unmap(k, K);
        k.note(() => `handle_pte_fault: swap/migration entry at ${l.vpn} (do_swap_page not modelled), retry`);
        return k.ret(0);
      }
      return 'lock';
    },
    lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.t)) ? 'recheck' : BLOCKED),
    recheck: (k, l) => {
      const K = kern(k);
      const cur = ptep_get(k, K, l.t, pte_index(l.vpn));
      if (cur !== l.orig) return 'unlock'; // !pte_same: someone else handled it
      if (!(l.flags & FAULT_FLAG_WRITE)) return 'unlock'; // spurious read fault
      if (!pte_write(l.orig)) return k.call(do_wp_page, [l.mm, l.vma, l.vpn, l.t, l.orig, l.flags], 'done');
      set_pte_at(k, K, l.t, pte_index(l.vpn), pte_mkdirty(l.orig)); // ptep_set_access_flags
      return 'unlock';
    },
    unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return k.ret(0);
    },
    missing: (k, l) => {
      // do_pte_missing: anonymous or file
      if (kern(k).vma(l.vma).memfd < 0) return k.call(do_anonymous_page, [l.mm, l.vma, l.vpn, l.flags], 'done');
      return k.call(do_fault, [l.mm, l.vma, l.vpn, l.flags], 'done');
    },
    done: (k) => k.ret(k.rv),
  },
);

/** do_anonymous_page: args [mm, vma, vpn, flags]. Read faults map the shared zero page. */
export const do_anonymous_page = kproc(
  'do_anonymous_page',
  'mm/memory.c: do_anonymous_page',
  (a) => ({ mm: arg(a, 0), vma: arg(a, 1), vpn: arg(a, 2), flags: arg(a, 3), f: -1, t: -1 }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (vm_flags(k.w, K, l.vma) & VM_SHARED) return k.ret(VM_FAULT_SIGBUS);
      if (pmd_none(pmdp_get(k.w, K, l.mm, pmd_index(l.vpn)))) return k.call(__pte_alloc, [l.mm, pmd_index(l.vpn)], 'pte_alloced');
      return 'pte_alloced';
    },
    pte_alloced: (k, l) => {
      if (k.rv < 0) return k.ret(VM_FAULT_OOM);
      if (l.flags & FAULT_FLAG_WRITE) return 'prepare';
      return k.call(pte_offset_map_lock, [l.mm, pmd_index(l.vpn)], 'zero_locked');
    },
    zero_locked: (k, l) => {
      if (k.rv === 0) return k.ret(0);
      l.t = pmd_table(k.rv);
      return 'zero_check';
    },
    zero_check: (k, l) => {
      const K = kern(k);
      if (!pte_none(ptep_get(k, K, l.t, pte_index(l.vpn)))) return 'unlock'; // vmf_pte_changed
      if (userfaultfd_missing(k.w, K, l.vma)) return 'uffd_unlock';
      return 'zero_setpte';
    },
    zero_setpte: (k, l) => {
      set_pte_at(k, kern(k), l.t, pte_index(l.vpn), mk_pte(ZERO_PFN, _PAGE_SPECIAL));
      return 'unlock';
    },
    prepare: (k, l) => {
      anon_vma_prepare(k, kern(k), l.vma);
      return 'alloc';
    },
    alloc: (k, l) => {
      l.f = folio_alloc(k.w, kern(k), 0); // __folio_mark_uptodate is folded into the allocation
      if (l.f < 0) return k.ret(VM_FAULT_OOM);
      return k.call(pte_offset_map_lock, [l.mm, pmd_index(l.vpn)], 'locked');
    },
    locked: (k, l) => {
      if (k.rv === 0) return 'release';
      l.t = pmd_table(k.rv);
      return 'check';
    },
    check: (k, l) => {
      const K = kern(k);
      if (!pte_none(ptep_get(k, K, l.t, pte_index(l.vpn)))) return 'unlock_release';
      if (userfaultfd_missing(k.w, K, l.vma)) return 'uffd_unlock';
      folio_add_new_anon_rmap(k.w, K, l.f, l.vma, l.vpn);
      return 'setpte';
    },
    setpte: (k, l) => {
      const K = kern(k);
      const w = vm_flags(k.w, K, l.vma) & VM_WRITE ? _PAGE_RW | _PAGE_DIRTY : 0;
      set_pte_at(k, K, l.t, pte_index(l.vpn), mk_pte(folio_pfn(l.f), w));
      k.note(() => `do_anonymous_page: vpn ${l.vpn} → folio ${l.f}`);
      return 'unlock';
    },
    unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return k.ret(0);
    },
    unlock_release: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return 'release';
    },
    release: (k, l) => {
      folio_put(k, kern(k), l.f);
      return k.ret(0);
    },
    // userfaultfd_missing: deliver the fault to userland (checked inside the PT lock)
    uffd_unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return 'uffd_put';
    },
    uffd_put: (k, l) => {
      if (l.f >= 0) folio_put(k, kern(k), l.f);
      return k.call(handle_userfault, [l.mm, l.vma, l.vpn, l.flags], 'uffd_done');
    },
    uffd_done: (k) => k.ret(k.rv),
  },
);

/**
 * do_wp_page: args [mm, vma, vpn, table, orig pte, flags]; entered with the PTE lock (and RCU)
 * held, returns with them released. Shared mappings (no page_mkwrite for shmem) are made writable
 * in place; an exclusive anon folio is reused; everything else (zero page, shared anon, private
 * file page) is copied by wp_page_copy. Simplified: wp_can_reuse_anon_folio is "refcount == 1".
 */
export const do_wp_page = kproc(
  'do_wp_page',
  'mm/memory.c: do_wp_page',
  (a) => ({ mm: arg(a, 0), vma: arg(a, 1), vpn: arg(a, 2), t: arg(a, 3), orig: arg(a, 4), flags: arg(a, 5), f: -1 }),
  {
    start: (k, l) => {
      const K = kern(k);
      const m = k.w;
      l.f = vm_normal_folio(l.orig);
      const reuse = (vm_flags(m, K, l.vma) & (VM_SHARED | VM_MAYSHARE)) !== 0 || (l.f >= 0 && folio_test_anon(m, K, l.f) && (PageAnonExclusive(m, K, l.f) || folio_ref_count(m, K, l.f) === 1));
      if (reuse) {
        // wp_page_reuse / wp_page_shared / wp_pfn_shared
        if (l.f >= 0 && folio_test_anon(m, K, l.f)) folio_set_flag(m, K, l.f, PG_anon_exclusive);
        set_pte_at(k, K, l.t, pte_index(l.vpn), pte_mkwrite(pte_mkdirty(l.orig)));
        return 'unlock';
      }
      if (l.f >= 0) folio_get(m, K, l.f);
      return 'copy_unlock';
    },
    unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return k.ret(0);
    },
    copy_unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return k.call(wp_page_copy, [l.mm, l.vma, l.vpn, l.orig, l.f], 'done');
    },
    done: (k) => k.ret(k.rv),
  },
);

/** wp_page_copy: args [mm, vma, vpn, orig pte, old folio or -1 (holding an extra reference)]. */
export const wp_page_copy = kproc(
  'wp_page_copy',
  'mm/memory.c: wp_page_copy',
  (a) => ({ mm: arg(a, 0), vma: arg(a, 1), vpn: arg(a, 2), orig: arg(a, 3), old: arg(a, 4), nf: -1, t: -1 }),
  {
    prepare: (k, l) => {
      anon_vma_prepare(k, kern(k), l.vma);
      return 'alloc';
    },
    alloc: (k, l) => {
      const K = kern(k);
      l.nf = folio_alloc(k.w, K, 0);
      if (l.nf < 0) return 'oom';
      folio_write_data(k.w, K, l.nf, l.old >= 0 ? folio_data(k.w, K, l.old) : 0); // __wp_page_copy_user
      return k.call(pte_offset_map_lock, [l.mm, pmd_index(l.vpn)], 'locked');
    },
    locked: (k, l) => {
      if (k.rv === 0) return 'release';
      l.t = pmd_table(k.rv);
      return 'check';
    },
    check: (k, l) => (ptep_get(k, kern(k), l.t, pte_index(l.vpn)) === l.orig ? 'replace' : 'unlock_release'),
    replace: (k, l) => {
      const K = kern(k);
      folio_add_new_anon_rmap(k.w, K, l.nf, l.vma, l.vpn);
      set_pte_at(k, K, l.t, pte_index(l.vpn), mk_pte(folio_pfn(l.nf), _PAGE_RW | _PAGE_DIRTY)); // ptep_clear_flush + set_pte_at
      k.note(() => `wp_page_copy: vpn ${l.vpn} → new folio ${l.nf}${l.old >= 0 ? ` (was ${l.old})` : ' (was the zero page)'}`);
      return 'rmap_old';
    },
    rmap_old: (k, l) => {
      if (l.old >= 0) folio_remove_rmap(k, kern(k), l.old);
      return 'unlock';
    },
    unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return 'put_map';
    },
    put_map: (k, l) => {
      if (l.old >= 0) folio_put(k, kern(k), l.old); // the old mapping's reference
      return 'put_ref';
    },
    put_ref: (k, l) => {
      if (l.old >= 0) folio_put(k, kern(k), l.old); // do_wp_page's folio_get
      return k.ret(0);
    },
    unlock_release: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return 'release';
    },
    release: (k, l) => {
      folio_put(k, kern(k), l.nf);
      return 'put_ref';
    },
    oom: (k, l) => {
      if (l.old >= 0) folio_put(k, kern(k), l.old);
      return k.ret(VM_FAULT_OOM);
    },
  },
);
