/**
 * The page-fault core (mm/memory.c): handle_mm_fault → handle_pte_fault, which sends a missing PTE
 * to do_anonymous_page (anon-fault.ts) or do_fault (file-fault.ts), a write to a read-only PTE to
 * do_wp_page (wp-fault.ts), and a hugetlb VMA to hugetlb_fault (hugetlb.ts). Callers hold mmap_lock
 * for read; a VM_FAULT_RETRY result means the handler released it (FAULT_FLAG_ALLOW_RETRY). Not
 * modelled: swap-in (do_swap_page), migration-entry waits (return 0 and let the caller retry),
 * fault-around. create_huge_pmd on an empty pmd: an anonymous VM_HUGEPAGE VMA goes to
 * do_huge_pmd_anonymous_page (thp-fault.ts); any other VMA falls back to PTEs (no file THP faults).
 * A fault on a huge pmd goes to huge_pmd_set_accessed or wp_huge_pmd (huge-fault.ts); after
 * VM_FAULT_FALLBACK (the pmd was split) it continues at PTE level, as __handle_mm_fault does.
 */
import { BLOCKED } from '../../src/engine/proc.js';
import { FAULT_FLAG_WRITE, is_pmd_migration_entry, pmd_none, pmd_table, pmd_trans_huge, pte_mkdirty, pte_none, pte_present, pte_write, VM_FAULT_FALLBACK } from '../../src/kernel/defs.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, pte_offset_map_rw_nolock, pte_unmap, pte_unmap_unlock, ptep_get, set_pte_at } from '../../src/kernel/pgtable.js';
import { do_anonymous_page } from './anon-fault.js';
import { do_fault } from './file-fault.js';
import { hugetlb_fault } from './hugetlb.js';
import { huge_pmd_set_accessed, wp_huge_pmd } from './huge-fault.js';
import { do_huge_pmd_anonymous_page, thp_vma_allowable } from './thp-fault.js';
import { do_wp_page } from './wp-fault.js';
import { type MmId, type VmaId, NO_TABLE } from '../../src/kernel/ids.js';

/** handle_mm_fault(vma, address, flags): args [mm, vma, vpn, flags]; returns vm_fault_t. */
export const handle_mm_fault = kproc(
  'handle_mm_fault',
  'mm/memory.c: handle_mm_fault → __handle_mm_fault → handle_pte_fault',
  (a: { mm: MmId; vma: VmaId; vpn: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, flags: a.flags, t: NO_TABLE, orig: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (K.vma(l.vma).hugetlb_vma_lock >= 0) return k.call(hugetlb_fault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags }, 'done');
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      if (pmd_none(v)) {
        // create_huge_pmd when thp_vma_allowable_order (thp-fault.ts); VM_FAULT_FALLBACK → PTE level
        if (thp_vma_allowable(k.w, K, l.vma, l.vpn)) return k.call(do_huge_pmd_anonymous_page, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags }, 'huge_wp');
        return 'missing';
      }
      if (pmd_trans_huge(v)) {
        // __handle_mm_fault: a write to a read-only huge pmd → wp_huge_pmd, else huge_pmd_set_accessed
        const write = l.flags & FAULT_FLAG_WRITE;
        if (write && !pte_write(v)) return k.call(wp_huge_pmd, { mm: l.mm, vma: l.vma, vpn: l.vpn, orig: v }, 'huge_wp');
        return k.call(huge_pmd_set_accessed, { mm: l.mm, vpn: l.vpn, orig: v, write: write ? 1 : 0 }, 'done');
      }
      if (is_pmd_migration_entry(v)) {
        k.note(() => `handle_mm_fault: migration pmd at ${l.vpn} (pmd_migration_entry_wait not modelled), retry`);
        return k.ret(0);
      }
      return 'map';
    },
    huge_wp: (k) => (k.rv & VM_FAULT_FALLBACK ? 'pte_fault' : k.ret(k.rv)),
    pte_fault: (k, l) => {
      // handle_pte_fault after the split: an empty pmd is a missing PTE; anything else is mapped
      const v = pmdp_get(k.w, kern(k), l.mm, pmd_index(l.vpn));
      return pmd_none(v) ? 'missing' : 'map';
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
      if (!pte_write(l.orig)) return k.call(do_wp_page, { mm: l.mm, vma: l.vma, vpn: l.vpn, t: l.t, orig: l.orig, flags: l.flags }, 'done');
      set_pte_at(k, K, l.t, pte_index(l.vpn), pte_mkdirty(l.orig)); // ptep_set_access_flags
      return 'unlock';
    },
    unlock: (k, l) => {
      pte_unmap_unlock(k, kern(k), l.t);
      return k.ret(0);
    },
    missing: (k, l) => {
      // do_pte_missing: anonymous or file
      if (kern(k).vma(l.vma).memfd < 0) return k.call(do_anonymous_page, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags }, 'done');
      return k.call(do_fault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags }, 'done');
    },
    done: (k) => k.ret(k.rv),
  },
);
