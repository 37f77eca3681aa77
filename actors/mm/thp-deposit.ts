/**
 * The deposited page table of an anonymous huge pmd (pgtable_trans_huge_deposit): every path that
 * maps one deposits a table (set_huge_zero_folio, __do_huge_pmd_anonymous_page, collapse_huge_page)
 * and every path that removes one withdraws it exactly once (__split_huge_pmd_locked populates the
 * pmd with it, zap_huge_pmd frees it). Installed for worlds with THP VMAs (`thp: true`) and by the
 * THP operations; checked whenever the mm's pmd lock, which covers the pmd and its deposit, is free.
 */
import type { Invariant, ModelBuilder } from '../../src/engine/model.js';
import { pmd_trans_huge, PT_FREE } from '../../src/kernel/defs.js';
import { type Kernel, KERNEL, PT_STATE } from '../../src/kernel/kernel.js';
import { L_OWNER, lslot } from '../../src/locks/space.js';
import { depositSlotIn, ensureThp } from '../khugepaged/common.js';

const installed = new WeakSet<ModelBuilder>();

/** Reserve the deposit region and install the deposit invariant (once per model). */
export function ensureThpFaults(b: ModelBuilder): void {
  ensureThp(b);
  if (installed.has(b)) return;
  installed.add(b);
  const K = KERNEL.find(b) as Kernel;
  b.invariants.push(depositMatchesHugePmd(K, depositSlotIn(b)));
}

/**
 * An anonymous huge pmd has exactly one deposited table, and no other pmd has one (a leak); checked
 * for the mms whose pmd lock is free (a path may change the pmd and the deposit in two steps under it,
 * as move_pages_huge_pmd does).
 */
function depositMatchesHugePmd(K: Kernel, slot: (mm: number, pmd: number) => number): Invariant {
  return (w) => {
    for (let mm = 0; mm < K.mms.length; mm++) {
      const h = K.mm(mm);
      // the deposit moves with the pmd under the pmd lock (pgtable_trans_huge_deposit asserts it held)
      if (w.get(lslot(w, h.page_table_lock, L_OWNER)) !== 0) continue;
      for (let p = 0; p < h.npmd; p++) {
        const v = w.get(h.pmdBase + p);
        const vma = K.find_vma(mm, p * 4);
        const anonHuge = pmd_trans_huge(v) && vma >= 0 && K.vma(vma).memfd < 0 && K.vma(vma).hugetlb_vma_lock < 0;
        const t = w.get(slot(mm, p)) - 1;
        if (anonHuge && t < 0) return `anonymous huge pmd ${p} of mm ${h.name} has no deposited page table`;
        if (!anonHuge && t >= 0) return `page table ${t} is still deposited under pmd ${p} of mm ${h.name}, which is no longer an anonymous huge pmd (leaked)`;
        if (t >= 0 && w.get(K.ptSlot(t, PT_STATE)) === PT_FREE) return `deposited page table ${t} under pmd ${p} of mm ${h.name} was freed`;
      }
    }
    return null;
  };
}
