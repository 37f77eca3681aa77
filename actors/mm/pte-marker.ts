/**
 * Faults on a PTE marker (mm/memory.c, v6.6+): handle_pte_fault → do_swap_page → handle_pte_marker.
 * A UFFDIO_POISON marker is VM_FAULT_HWPOISON (SIGBUS). A uffd-wp marker (a write-protected none
 * PTE of a file VMA, installed by UFFDIO_WRITEPROTECT or kept by a zap) is pte_marker_handle_uffd_wp:
 * a leftover marker in a VMA no longer registered for WP is cleared (pte_marker_clear: pte_same
 * under the PTL), else the fault is a missing-page fault (do_pte_missing) with
 * FAULT_FLAG_ORIG_PTE_VALID, and finish_fault maps the page uffd-wp protected (set_pte_range:
 * vmf_orig_pte_uffd_wp → pte_mkuffd_wp), so a write faults again into do_wp_page → WP userfault.
 * Not modelled: anonymous uffd-wp markers (UFFD_FEATURE_WP_UNPOPULATED), guard markers.
 */
import { ENDED } from '../../src/engine/proc.js';
import { FAULT_FLAG_ORIG_PTE_VALID, pmd_table, VM_FAULT_HWPOISON, VM_FAULT_SIGBUS, VM_UFFD_WP } from '../../src/kernel/defs.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { PTE_MARKER_POISONED, pte_marker_get, pte_marker_uffd_wp } from '../../src/kernel/pte-marker.js';
import { pmd_index, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, set_pte_at } from '../../src/kernel/pgtable.js';
import { vm_flags } from './common.js';
import { do_fault } from './file-fault.js';
import { type MmId, type VmaId, NO_TABLE } from '../../src/kernel/ids.js';

/** handle_pte_marker: args [mm, vma, vpn, orig (the marker read locklessly), fault flags]. */
export const handle_pte_marker = kproc(
  'handle_pte_marker',
  'mm/memory.c: handle_pte_marker',
  (a: { mm: MmId; vma: VmaId; vpn: number; orig: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, orig: a.orig, flags: a.flags, t: NO_TABLE }),
  {
    start: (k, l) => {
      const K = kern(k);
      const marker = pte_marker_get(l.orig);
      // "Poison emulation explicitly requested for this PTE."
      if (marker & PTE_MARKER_POISONED) {
        k.note(() => `handle_pte_marker: vpn ${l.vpn} poisoned (UFFDIO_POISON), VM_FAULT_HWPOISON`);
        return k.ret(VM_FAULT_HWPOISON);
      }
      if (!pte_marker_uffd_wp(l.orig)) return k.ret(VM_FAULT_SIGBUS); // "This is an unknown pte marker"
      // pte_marker_handle_uffd_wp: "Just in case there're leftover special ptes even after the region got unregistered"
      if (!(vm_flags(k.w, K, l.vma) & VM_UFFD_WP)) return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'clear_locked');
      if (k.WARN_ON(K.vma(l.vma).memfd < 0, 'anonymous uffd-wp marker (UFFD_FEATURE_WP_UNPOPULATED) not modelled')) return ENDED;
      // do_pte_missing → do_fault, vmf->orig_pte = the marker
      return k.call(do_fault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags | FAULT_FLAG_ORIG_PTE_VALID }, 'done');
    },
    // pte_marker_clear: pte_offset_map_lock (gone: return 0), pte_same → pte_clear
    clear_locked: (k, l) => {
      if (k.rv === 0) return k.ret(0);
      l.t = pmd_table(k.rv);
      return 'clear';
    },
    clear: (k, l) => {
      const K = kern(k);
      if (ptep_get(k, K, l.t, pte_index(l.vpn)) === l.orig) {
        set_pte_at(k, K, l.t, pte_index(l.vpn), 0);
        k.note(() => `pte_marker_clear: vpn ${l.vpn} leftover uffd-wp marker cleared`);
      }
      return pte_unmap_unlock(k, K, l.t) ? k.ret(0) : ENDED;
    },
    done: (k) => k.ret(k.rv),
  },
);
