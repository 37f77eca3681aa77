/**
 * check_read: a user load that must see a given value (the scenario's check that what was
 * written is what a later load reads, e.g. across a migration). The access faults the page in
 * (cpu_access); the next step walks the page table like the MMU and compares the folio's data;
 * a page unmapped again in between (a migration entry, a zap) is accessed again. The data word is
 * per folio (a THP has one) and khugepaged's collapse does not copy it: check small folios only.
 */
import { is_zero_pfn, pfn_folio, pmd_is_table, pmd_pfn, pmd_table, pmd_trans_huge, pte_pfn, pte_present } from '../../src/kernel/defs.js';
import { folio_data } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index } from '../../src/kernel/pgtable.js';
import { cpu_access } from './access.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

/** check_read: args [mm, vma, page, value]; 0, or an `invariant` verdict when the load sees another value. */
export const check_read = kproc(
  'check_read',
  'a user load (arch fault path → handle_mm_fault) whose result the scenario checks',
  (a: { mm: MmId; vma: VmaId; page: number; value: number }) => ({ mm: a.mm, vma: a.vma, page: a.page, value: a.value }),
  {
    access: (k, l) => k.call(cpu_access, { mm: l.mm, vma: l.vma, page: l.page, write: 0, value: 0 }, 'check'),
    check: (k, l) => {
      const K = kern(k);
      const vpn = K.vpn(l.vma, l.page);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(vpn));
      const huge = pmd_trans_huge(v);
      const pte = huge ? v : pmd_is_table(v) ? k.w.get(K.pteSlot(pmd_table(v), pte_index(vpn))) : 0;
      if (!huge && !pte_present(pte)) return 'access';
      const pfn = huge ? pmd_pfn(v) + pte_index(vpn) : pte_pfn(pte);
      const got = is_zero_pfn(pfn) ? 0 : folio_data(k.w, K, pfn_folio(pfn));
      if (got !== l.value) return k.violated(`load from vpn ${vpn} saw ${got}, expected ${l.value} (lost write)`);
      k.note(() => `check_read: vpn ${vpn} holds ${got} as expected`);
      return k.ret(0);
    },
  },
);
