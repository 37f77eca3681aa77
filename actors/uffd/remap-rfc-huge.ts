/**
 * remap_pages_huge_pmd of UFFDIO_REMAP RFC v2 (mm/huge_memory.c), called by remap_pages
 * (remap-rfc.ts) holding the src pmd lock when the move covers a whole huge src pmd: folio lock,
 * anon_vma write lock, pmd lock, pmd_same on both pmds, then the huge pmd and its deposited table
 * move to dst.
 * Simplified: one mm (dst_mm == src_mm: both pmd locks are mm->page_table_lock; no dst_pgtable
 * preallocation).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { _PAGE_DIRTY, _PAGE_RW, EAGAIN, EBUSY, folio_pfn, HPAGE_PMD_NR, mk_huge_pmd, pfn_folio, pmd_none, pmd_pfn, pmd_trans_huge } from '../../src/kernel/defs.js';
import { folio_get, folio_lock, folio_mapcount, folio_put, folio_unlock, PageAnonExclusive } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, set_pmd } from '../../src/kernel/pgtable.js';
import { pgtable_trans_huge_deposit, pgtable_trans_huge_withdraw } from '../khugepaged/common.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { anon_vma_lock, folio_get_anon_vma, folio_move_anon_rmap } from './common.js';
import { type MmId, type VmaId, NO_FOLIO } from '../../src/kernel/ids.js';

/**
 * remap_pages_huge_pmd (RFC v2, mm/huge_memory.c): args [mm, dst vma, src vma, dst vpn, src vpn,
 * dst pmdval]; entered holding the src pmd lock, returns with it released. 0, -EBUSY or -EAGAIN.
 */
export const remap_pages_huge_pmd = kproc(
  'remap_pages_huge_pmd',
  'mm/huge_memory.c: remap_pages_huge_pmd (RFC v2)',
  (a: { mm: MmId; dvma: VmaId; svma: VmaId; da: number; sa: number; dval: number }) => ({ mm: a.mm, dvma: a.dvma, svma: a.svma, da: a.da, sa: a.sa, dval: a.dval, sval: 0, f: NO_FOLIO, av: -1, err: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      l.sval = pmdp_get(k.w, K, l.mm, pmd_index(l.sa));
      if (k.BUG_ON(!pmd_trans_huge(l.sval), '!pmd_trans_huge(src_pmdval)') || k.BUG_ON(!pmd_none(l.dval), '!pmd_none(dst_pmdval)')) return ENDED;
      l.f = pfn_folio(pmd_pfn(l.sval));
      if (!PageAnonExclusive(k.w, K, l.f)) {
        l.err = EBUSY;
        l.f = NO_FOLIO;
        return 'unlock_src';
      }
      folio_get(k.w, K, l.f);
      return 'unlock_src';
    },
    unlock_src: (k, l) => {
      if (!k.spin_unlock(kern(k).mm(l.mm).page_table_lock)) return ENDED;
      if (l.err) return k.ret(l.err);
      // dst_mm == src_mm: no dst_pgtable preallocation
      return k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.sa, end: l.sa + HPAGE_PMD_NR }, 'flock');
    },
    flock: (k, l) => (folio_lock(k, kern(k), l.f) ? 'av' : BLOCKED), // block all concurrent rmap walks
    av: (k, l) => {
      const K = kern(k);
      l.av = folio_get_anon_vma(k.w, K, l.f, folio_mapcount(k.w, K, l.f));
      if (l.av < 0) {
        l.err = EAGAIN;
        return 'unlock_folio';
      }
      return 'av_lock';
    },
    av_lock: (k, l) => (k.down_write(anon_vma_lock(kern(k), l.av)) ? 'ptl' : BLOCKED),
    // double_pt_lock(src_ptl, dst_ptl): both are mm->page_table_lock here (one lock)
    ptl: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      const m = k.w;
      if (pmdp_get(m, K, l.mm, pmd_index(l.sa)) !== l.sval || pmdp_get(m, K, l.mm, pmd_index(l.da)) !== l.dval || folio_mapcount(m, K, l.f) !== 1) {
        l.err = EAGAIN;
        return 'ptl_unlock';
      }
      folio_move_anon_rmap(m, K, l.f, l.dvma, l.da); // WRITE_ONCE(src_folio->mapping / ->index)
      return 'clear';
    },
    clear: (k, l) => {
      set_pmd(k.w, kern(k), l.mm, pmd_index(l.sa), 0); // pmdp_huge_clear_flush
      return 'set';
    },
    set: (k, l) => {
      const K = kern(k);
      set_pmd(k.w, K, l.mm, pmd_index(l.da), mk_huge_pmd(folio_pfn(l.f), _PAGE_RW | _PAGE_DIRTY));
      // pgtable_trans_huge_withdraw(src) + pgtable_trans_huge_deposit(dst)
      const t = pgtable_trans_huge_withdraw(k, l.mm, pmd_index(l.sa));
      if (t >= 0) pgtable_trans_huge_deposit(k, l.mm, pmd_index(l.da), t);
      k.note(() => `remap_pages_huge_pmd: huge pmd moved from pmd ${pmd_index(l.sa)} to pmd ${pmd_index(l.da)}`);
      return 'ptl_unlock';
    },
    ptl_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'av_unlock' : ENDED),
    av_unlock: (k, l) => (k.up_write(anon_vma_lock(kern(k), l.av)) ? 'unlock_folio' : ENDED),
    unlock_folio: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'notify_end' : ENDED),
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.sa, end: l.sa + HPAGE_PMD_NR }, 'put'),
    put: (k, l) => {
      folio_put(k, kern(k), l.f);
      return k.ret(l.err);
    },
  },
);
