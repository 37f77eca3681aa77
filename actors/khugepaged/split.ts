/**
 * split_huge_pmd (mm/huge_memory.c): turn a huge pmd back into a PTE table. Needed by the move
 * paths when a source pmd turned huge (khugepaged collapsed it) and the move does not cover the
 * whole pmd. Anonymous: withdraw the deposited table, fill it with the sub-pages and populate the
 * pmd (the folio stays large, mapped by HPAGE_PMD_NR PTEs). File: just clear the pmd (the pages
 * refault). The huge zero pmd (__split_huge_zero_page_pmd): the withdrawn table gets a special
 * zero-page PTE per sub-page. Simplified: no freeze (migration entries), no soft-dirty / uffd-wp bits.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { _PAGE_SPECIAL, HPAGE_PMD_NR, is_huge_zero_pmd, is_pmd_migration_entry, mk_pte, pfn_folio, pmd_pfn, pmd_trans_huge, ZERO_PFN } from '../../src/kernel/defs.js';
import { folio_put, folio_remove_rmap } from '../../src/kernel/folio.js';
import { F_MAPCOUNT, F_REF, kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmd_populate, pmdp_get, set_pmd } from '../../src/kernel/pgtable.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { pmdText, vma_is_anonymous } from '../uffd/common.js';
import { pgtable_trans_huge_withdraw } from './common.js';
import { type MmId, type VmaId, NO_FOLIO } from '../../src/kernel/ids.js';

/** split_huge_pmd(vma, pmd, address): args [mm, vma, vpn]; returns 0. */
export const split_huge_pmd = kproc(
  'split_huge_pmd',
  'mm/huge_memory.c: __split_huge_pmd → __split_huge_pmd_locked',
  (a: { mm: MmId; vma: VmaId; address: number }) => ({ mm: a.mm, vma: a.vma, haddr: a.address - (a.address % HPAGE_PMD_NR), f: NO_FOLIO }),
  {
    notify: (k, l) => k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.haddr, end: l.haddr + HPAGE_PMD_NR }, 'lock'),
    lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'split' : BLOCKED),
    split: (k, l) => {
      const K = kern(k);
      const m = k.w;
      const pmd = pmd_index(l.haddr);
      const v = pmdp_get(m, K, l.mm, pmd);
      // split_huge_pmd_locked: only a huge (or migration) pmd is split; a table means someone beat us
      if (!pmd_trans_huge(v)) {
        if (is_pmd_migration_entry(v)) k.note(() => 'split_huge_pmd: migration pmd (not modelled), left as is');
        return 'unlock';
      }
      const f = pfn_folio(pmd_pfn(v));
      if (!vma_is_anonymous(K, l.vma)) {
        // file THP: pmdp_huge_clear_flush + folio_remove_rmap_pmd + folio_put; the PTEs refault
        set_pmd(m, K, l.mm, pmd, 0);
        folio_remove_rmap(k, K, f);
        l.f = f;
        k.note(() => `split_huge_pmd: file pmd ${pmd} cleared (folio ${f} refaults by PTEs)`);
        return 'unlock';
      }
      const t = pgtable_trans_huge_withdraw(k, l.mm, pmd);
      if (t < 0) return k.violated(`split_huge_pmd: huge pmd ${pmd} of an anonymous VMA has no deposited page table`);
      if (is_huge_zero_pmd(v)) {
        // __split_huge_zero_page_pmd: pmdp_huge_clear_flush, withdraw, a special zero-page PTE each, pmd_populate
        for (let i = 0; i < HPAGE_PMD_NR; i++) m.set(K.pteSlot(t, i), mk_pte(ZERO_PFN, _PAGE_SPECIAL));
        pmd_populate(m, K, l.mm, pmd, t);
        k.note(() => `split_huge_pmd: huge zero pmd ${pmd} → table ${t} of zero-page PTEs`);
        return 'unlock';
      }
      // pmdp_invalidate, then one PTE per sub-page into the withdrawn (still unlinked) table
      const flags = v & 0xf8;
      for (let i = 0; i < HPAGE_PMD_NR; i++) m.set(K.pteSlot(t, i), mk_pte(pmd_pfn(v) + i, flags));
      // folio_ref_add(folio, HPAGE_PMD_NR - 1): each PTE mapping holds a reference
      m.set(K.fSlot(f, F_REF), m.get(K.fSlot(f, F_REF)) + HPAGE_PMD_NR - 1);
      m.set(K.fSlot(f, F_MAPCOUNT), m.get(K.fSlot(f, F_MAPCOUNT)) + HPAGE_PMD_NR - 1);
      pmd_populate(m, K, l.mm, pmd, t);
      k.note(() => `split_huge_pmd: pmd ${pmd} ${pmdText(v)} → table ${t} with ${HPAGE_PMD_NR} PTEs of large folio ${f}`);
      return 'unlock';
    },
    unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'put' : ENDED),
    put: (k, l) => {
      if (l.f >= 0) folio_put(k, kern(k), l.f);
      return 'notify_end';
    },
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.haddr, end: l.haddr + HPAGE_PMD_NR }, 'done'),
    done: (k) => k.ret(0),
  },
);
