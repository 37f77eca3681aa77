/**
 * The pin holder's view (mm/gup.c FOLL_PIN semantics): a thread that pinned an anonymous page
 * through an address expects that address to keep mapping the pinned folio while the pin is held —
 * that is why move_present_pte / move_pages_huge_pmd refuse pinned folios, and recheck after
 * clearing the PTE (GUP-fast pins without the PTL). The invariant below is checked after every step.
 */
import type { Invariant } from '../../src/engine/model.js';
import { HPAGE_PMD_NR, MAX_PINS, pfn_folio, pmd_is_table, pmd_pfn, pmd_table, pmd_trans_huge, pte_pfn, pte_present, PTRS_PER_PTE } from '../../src/kernel/defs.js';
import type { Kernel } from '../../src/kernel/kernel.js';

/** Every folio thread `tid` holds a pin on is mapped in `mm` only at `vpn` (or not at all). */
export function pinnedFolioStaysPut(K: Kernel, tid: number, thread: string, mm: number, vpn: number): Invariant {
  const h = K.mm(mm);
  return (w) => {
    for (let i = 0; i < MAX_PINS; i++) {
      const f = w.get(K.pinSlot(tid, i)) - 1;
      if (f < 0) continue;
      for (let p = 0; p < h.npmd; p++) {
        const v = w.get(h.pmdBase + p);
        if (pmd_trans_huge(v) && pfn_folio(pmd_pfn(v)) === f && (vpn < p * PTRS_PER_PTE || vpn >= p * PTRS_PER_PTE + HPAGE_PMD_NR))
          return pinMoved(thread, f, vpn, p * PTRS_PER_PTE);
        if (!pmd_is_table(v)) continue;
        const t = pmd_table(v);
        for (let j = 0; j < PTRS_PER_PTE; j++) {
          const pte = w.get(K.pteSlot(t, j));
          const at = p * PTRS_PER_PTE + j;
          if (pte_present(pte) && pfn_folio(pte_pfn(pte)) === f && at !== vpn) return pinMoved(thread, f, vpn, at);
        }
      }
    }
    return null;
  };
}

const pinMoved = (thread: string, f: number, pinned: number, at: number): string =>
  `folio ${f} pinned by ${thread} through vpn ${pinned} is now mapped at vpn ${at}: the pin holder's DMA lands in a page the process sees elsewhere, while vpn ${pinned} no longer maps it (a pinned folio was moved)`;
