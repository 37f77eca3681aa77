/**
 * The page-cache invariant of file mappings: a present PTE of a shared file VMA maps the folio the
 * page cache holds at that index (linear_page_index). Truncation and hole punch unmap a folio under
 * its lock before filemap_remove_folio, and every fault path maps only a locked folio whose
 * ->mapping it rechecked, so a PTE never outlives the folio's page-cache membership: a PTE mapping a
 * truncated folio would let stores go to a page the file no longer has. Installed for worlds with
 * an `fs` file (build.ts).
 */
import type { Invariant } from '../engine/model.js';
import { pfn_folio, pmd_is_table, pmd_table, pte_pfn, pte_present, pte_special, PTE_SHIFT, VM_SHARED } from './defs.js';
import { type Kernel, VMA_ATTACHED, VMA_FLAGS } from './kernel.js';

/** Every present PTE of an attached shared file VMA maps the folio cached at its index. */
export function fileMapsCachedFolio(K: Kernel): Invariant {
  return (w) => {
    for (const v of K.vmas) {
      if (v.memfd < 0 || K.mapping(v.memfd).hugetlb || w.get(K.vmaSlot(v.id, VMA_ATTACHED)) === 0) continue;
      if (!(w.get(K.vmaSlot(v.id, VMA_FLAGS)) & VM_SHARED)) continue;
      const mm = K.mm(v.mm);
      for (let vpn = v.start; vpn < v.end; vpn++) {
        const pmd = w.get(mm.pmdBase + (vpn >> PTE_SHIFT));
        if (!pmd_is_table(pmd)) continue;
        const pte = w.get(K.pteSlot(pmd_table(pmd), vpn & 3));
        if (!pte_present(pte) || pte_special(pte)) continue;
        const f = pfn_folio(pte_pfn(pte));
        const index = K.linear_page_index(v.id, vpn);
        const cached = w.get(K.pcSlot(v.memfd, index)) - 1;
        if (f !== cached) return `PTE of ${v.name} at vpn ${vpn} maps folio ${f}, but ${K.mapping(v.memfd).name} index ${index} holds ${cached < 0 ? 'no folio' : `folio ${cached}`} (a mapping of a truncated page)`;
      }
    }
    return null;
  };
}
