/**
 * do_anonymous_page (mm/memory.c), called by handle_mm_fault (fault.ts) for a missing PTE in an
 * anonymous VMA: a read fault maps the shared zero page, a write fault a fresh exclusive folio
 * (anon_vma prepared first); in a userfaultfd MISSING VMA the fault goes to handle_userfault instead
 * (checked under the PTL).
 */
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SPECIAL,
  FAULT_FLAG_WRITE,
  folio_pfn,
  mk_pte,
  pmd_none,
  pmd_table,
  pte_none,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_SHARED,
  VM_WRITE,
  ZERO_PFN,
} from '../../src/kernel/defs.js';
import { folio_add_new_anon_rmap, folio_alloc, folio_put } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { __pte_alloc, pmd_index, pmdp_get, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, set_pte_at } from '../../src/kernel/pgtable.js';
import { fault_anon_vma_prepare, userfaultfd_missing, vm_flags } from './common.js';
import { ENDED } from '../../src/engine/proc.js';
import { handle_userfault } from './userfault.js';
import { type MmId, type VmaId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';

/** do_anonymous_page: args [mm, vma, vpn, flags]. Read faults map the shared zero page. */
export const do_anonymous_page = kproc(
  'do_anonymous_page',
  'mm/memory.c: do_anonymous_page',
  (a: { mm: MmId; vma: VmaId; vpn: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, flags: a.flags, f: NO_FOLIO, t: NO_TABLE }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (vm_flags(k.w, K, l.vma) & VM_SHARED) return k.ret(VM_FAULT_SIGBUS);
      if (pmd_none(pmdp_get(k.w, K, l.mm, pmd_index(l.vpn)))) return k.call(__pte_alloc, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'pte_alloced');
      return 'pte_alloced';
    },
    pte_alloced: (k, l) => {
      if (k.rv < 0) return k.ret(VM_FAULT_OOM);
      if (l.flags & FAULT_FLAG_WRITE) return 'prepare';
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'zero_locked');
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
    prepare: (k, l) => (fault_anon_vma_prepare(k, kern(k), l.vma, l.flags) ? 'alloc' : ENDED),
    alloc: (k, l) => {
      l.f = folio_alloc(k.w, kern(k), 0); // __folio_mark_uptodate is folded into the allocation
      if (l.f < 0) return k.ret(VM_FAULT_OOM);
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'locked');
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
      return k.call(handle_userfault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags }, 'uffd_done');
    },
    uffd_done: (k) => k.ret(k.rv),
  },
);
