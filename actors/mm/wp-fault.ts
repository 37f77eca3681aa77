/**
 * Write faults on a present read-only PTE (mm/memory.c), called by handle_mm_fault (fault.ts) with
 * the PTL held: do_wp_page makes the page writable in place where it may, else wp_page_copy copies
 * it (copy-on-write). A uffd-wp protected PTE in a VM_UFFD_WP VMA goes to handle_userfault
 * (VM_UFFD_WP) first (v6.x do_wp_page: userfaultfd_pte_wp; UFFD_FEATURE_WP_ASYNC not modelled).
 */
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  folio_pfn,
  mk_pte,
  PG_anon_exclusive,
  pmd_table,
  pte_mkdirty,
  pte_mkwrite,
  VM_FAULT_OOM,
  VM_MAYSHARE,
  VM_SHARED,
  VM_UFFD_WP,
} from '../../src/kernel/defs.js';
import { pte_uffd_wp } from '../../src/kernel/pte-marker.js';
import { handle_userfault } from './userfault.js';
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
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, set_pte_at } from '../../src/kernel/pgtable.js';
import { anon_vma_prepare, vm_flags, vm_normal_folio } from './common.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from './notifier.js';
import { type MmId, type TableId, type VmaId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';

/**
 * do_wp_page: args [mm, vma, vpn, table, orig pte, flags]; entered with the PTE lock (and RCU)
 * held, returns with them released. Shared mappings (no page_mkwrite for shmem) are made writable
 * in place; an exclusive anon folio is reused; everything else (zero page, shared anon, private
 * file page) is copied by wp_page_copy. Simplified: wp_can_reuse_anon_folio is "refcount == 1".
 */
export const do_wp_page = kproc(
  'do_wp_page',
  'mm/memory.c: do_wp_page',
  (a: { mm: MmId; vma: VmaId; vpn: number; t: TableId; orig: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, t: a.t, orig: a.orig, flags: a.flags, f: NO_FOLIO }),
  {
    start: (k, l) => {
      const K = kern(k);
      const m = k.w;
      // userfaultfd_pte_wp(vma, pte): the PTE is uffd-wp protected → pte_unmap_unlock, handle_userfault(VM_UFFD_WP)
      if (vm_flags(m, K, l.vma) & VM_UFFD_WP && pte_uffd_wp(l.orig)) return 'uffd_unlock';
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
    uffd_unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return k.call(handle_userfault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags, reason: VM_UFFD_WP }, 'done');
    },
    copy_unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return k.call(wp_page_copy, { mm: l.mm, vma: l.vma, vpn: l.vpn, orig: l.orig, old: l.f }, 'done');
    },
    done: (k) => k.ret(k.rv),
  },
);

/**
 * wp_page_copy: args [mm, vma, vpn, orig pte, old folio or -1 (holding an extra reference)]. The
 * PTE recheck and replacement sit inside mmu_notifier_invalidate_range_start/end (MMU_NOTIFY_CLEAR
 * over the page), and the old folio's references are dropped after the end, as in mm/memory.c.
 */
export const wp_page_copy = kproc(
  'wp_page_copy',
  'mm/memory.c: wp_page_copy',
  (a: { mm: MmId; vma: VmaId; vpn: number; orig: number; old: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, orig: a.orig, old: a.old, nf: NO_FOLIO, t: NO_TABLE, copied: 0 }),
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
      return k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.vpn, end: l.vpn + 1 }, 'map');
    },
    map: (k, l) => k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'locked'), // "Re-check the pte - we dropped the lock"
    locked: (k, l) => {
      if (k.rv === 0) return 'notify_end';
      l.t = pmd_table(k.rv);
      return 'check';
    },
    check: (k, l) => (ptep_get(k, kern(k), l.t, pte_index(l.vpn)) === l.orig ? 'replace' : 'unlock'),
    replace: (k, l) => {
      const K = kern(k);
      folio_add_new_anon_rmap(k.w, K, l.nf, l.vma, l.vpn);
      set_pte_at(k, K, l.t, pte_index(l.vpn), mk_pte(folio_pfn(l.nf), _PAGE_RW | _PAGE_DIRTY)); // ptep_clear_flush + set_pte_at
      k.note(() => `wp_page_copy: vpn ${l.vpn} → new folio ${l.nf}${l.old >= 0 ? ` (was ${l.old})` : ' (was the zero page)'}`);
      l.copied = 1;
      return 'rmap_old';
    },
    rmap_old: (k, l) => {
      if (l.old >= 0) folio_remove_rmap(k, kern(k), l.old);
      return 'unlock';
    },
    unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return 'notify_end';
    },
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.vpn, end: l.vpn + 1 }, 'put_map'),
    put_map: (k, l) => {
      // folio_put(new_folio): after a copy new_folio = old_folio (the old mapping's reference)
      if (!l.copied) folio_put(k, kern(k), l.nf);
      else if (l.old >= 0) folio_put(k, kern(k), l.old);
      return 'put_ref';
    },
    put_ref: (k, l) => {
      if (l.old >= 0) folio_put(k, kern(k), l.old); // do_wp_page's folio_get
      return k.ret(0);
    },
    oom: (k, l) => {
      if (l.old >= 0) folio_put(k, kern(k), l.old);
      return k.ret(VM_FAULT_OOM);
    },
  },
);
