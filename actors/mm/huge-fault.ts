/**
 * Faults on a huge pmd (THP), v6.8–v6.12 mm/memory.c and mm/huge_memory.c: __handle_mm_fault sends
 * a write (or unshare) fault on a read-only huge pmd to wp_huge_pmd and any other fault to
 * huge_pmd_set_accessed. wp_huge_pmd: an anonymous VMA → do_huge_pmd_wp_page (reuse an exclusive
 * folio in place, else split); a file VMA → split (shmem has no ->huge_fault) and VM_FAULT_FALLBACK,
 * so that the fault is handled at PTE level; a write to the huge zero pmd (thp-fault.ts) splits it
 * and falls back (v6.12 and earlier; v6.13 allocates a THP instead). Simplified: no NUMA hinting
 * (pmd_protnone), no uffd-wp on huge pmds, no swap cache; in do_huge_pmd_wp_page a failed
 * folio_trylock falls back to the split instead of sleeping on the folio lock and rechecking
 * (both are kernel outcomes; the sleep's interleavings are not explored).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { _PAGE_DIRTY, _PAGE_RW, is_huge_zero_pmd, PG_anon_exclusive, pfn_folio, pmd_pfn, VM_FAULT_FALLBACK } from '../../src/kernel/defs.js';
import { folio_ref_count, folio_set_flag, folio_trylock, folio_unlock, PageAnonExclusive } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, set_pmd } from '../../src/kernel/pgtable.js';
import { split_huge_pmd } from '../khugepaged/split.js';
import { vma_is_anonymous } from '../uffd/common.js';
import { type MmId, type VmaId, NO_FOLIO } from '../../src/kernel/ids.js';

/** huge_pmd_set_accessed(vmf): args [mm, vpn, orig_pmd, write]; returns 0. */
export const huge_pmd_set_accessed = kproc(
  'huge_pmd_set_accessed',
  'mm/huge_memory.c: huge_pmd_set_accessed (pmd_lock, pmd_same, touch_pmd)',
  (a: { mm: MmId; vpn: number; orig: number; write: number }) => ({ mm: a.mm, vpn: a.vpn, orig: a.orig, write: a.write }),
  {
    lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'touch' : BLOCKED),
    touch: (k, l) => {
      const K = kern(k);
      const pmd = pmd_index(l.vpn);
      // !pmd_same: someone changed it; the access is retried. touch_pmd: young, and dirty on a write
      if (pmdp_get(k.w, K, l.mm, pmd) === l.orig && l.write) set_pmd(k.w, K, l.mm, pmd, l.orig | _PAGE_DIRTY);
      return k.spin_unlock(K.mm(l.mm).page_table_lock) ? k.ret(0) : ENDED;
    },
  },
);

/**
 * wp_huge_pmd → do_huge_pmd_wp_page (anonymous) or __split_huge_pmd (file): args [mm, vma, vpn,
 * orig_pmd]; returns 0 (handled, or the pmd changed: retry) or VM_FAULT_FALLBACK (split).
 */
export const wp_huge_pmd = kproc(
  'wp_huge_pmd',
  'mm/memory.c: wp_huge_pmd → mm/huge_memory.c: do_huge_pmd_wp_page / __split_huge_pmd',
  (a: { mm: MmId; vma: VmaId; vpn: number; orig: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, orig: a.orig, f: NO_FOLIO }),
  {
    start: (k, l) => {
      if (!vma_is_anonymous(kern(k), l.vma)) return 'split'; // not VM_SHARED with ->huge_fault: split
      // do_huge_pmd_wp_page (v6.12 and earlier): "if (is_huge_zero_pmd(orig_pmd)) goto fallback;"
      if (is_huge_zero_pmd(l.orig)) return 'split';
      return 'lock';
    },
    lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      if (pmdp_get(k.w, K, l.mm, pmd_index(l.vpn)) !== l.orig) return 'unlock_ret'; // !pmd_same
      l.f = pfn_folio(pmd_pfn(l.orig));
      if (!PageAnonExclusive(k.w, K, l.f)) {
        // not exclusive: folio_trylock, and reuse only with folio_ref_count == 1 (the pmd's own)
        if (!folio_trylock(k, K, l.f)) return 'unlock_split';
        if (folio_ref_count(k.w, K, l.f) !== 1) return folio_unlock(k, K, l.f) ? 'unlock_split' : ENDED;
        folio_set_flag(k.w, K, l.f, PG_anon_exclusive); // folio_move_anon_rmap + SetPageAnonExclusive
        if (!folio_unlock(k, K, l.f)) return ENDED;
      }
      // reuse: pmd_mkyoung + maybe_pmd_mkwrite(pmd_mkdirty) + pmdp_set_access_flags
      set_pmd(k.w, K, l.mm, pmd_index(l.vpn), l.orig | _PAGE_RW | _PAGE_DIRTY);
      k.note(() => `do_huge_pmd_wp_page: folio ${l.f} reused, pmd ${pmd_index(l.vpn)} made writable`);
      return 'unlock_ret';
    },
    unlock_ret: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? k.ret(0) : ENDED),
    unlock_split: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'split' : ENDED),
    split: (k, l) => k.call(split_huge_pmd, { mm: l.mm, vma: l.vma, address: l.vpn }, 'fallback'),
    fallback: (k) => k.ret(VM_FAULT_FALLBACK),
  },
);
