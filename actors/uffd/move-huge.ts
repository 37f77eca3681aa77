/**
 * move_pages_huge_pmd (mm/huge_memory.c, UFFDIO_MOVE as merged in v6.8, and the same in both modelled versions; kernel-rules §3): entered with the
 * src pmd lock held; moves a whole anonymous huge pmd (and its deposited table) to dst after
 * rechecking both pmds under double_pt_lock, with the same pinned-folio checks before and after
 * pmdp_huge_clear_flush as move_present_pte. Simplified: no huge zero page; both pmd locks are the
 * mm's page_table_lock (one lock); the anon_vma is locked as up to 2025.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { _PAGE_DIRTY, _PAGE_RW, EAGAIN, EBUSY, ENOENT, folio_pfn, HPAGE_PMD_NR, is_pmd_migration_entry, mk_huge_pmd, pfn_folio, pmd_pfn, pmd_trans_huge } from '../../src/kernel/defs.js';
import { folio_get, folio_lock, folio_mapcount, folio_maybe_dma_pinned, folio_put, folio_unlock, PageAnonExclusive } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, set_pmd } from '../../src/kernel/pgtable.js';
import { pgtable_trans_huge_deposit, pgtable_trans_huge_withdraw } from '../khugepaged/common.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { anon_vma_lock, folio_get_anon_vma, folio_move_anon_rmap } from './common.js';
import { pmd_migration_entry_wait } from '../mm/migrate-entry.js';
import { type MmId, type VmaId, NO_FOLIO } from '../../src/kernel/ids.js';

const NO_PIN_RECHECK = 'move_no_pin_recheck';

/** move_pages_huge_pmd: args [mm, dst vma, src vma, dst vpn, src vpn, dst pmdval]; 0 or -errno. */
export const move_pages_huge_pmd = kproc(
  'move_pages_huge_pmd',
  'mm/huge_memory.c: move_pages_huge_pmd',
  (a: { mm: MmId; dvma: VmaId; svma: VmaId; da: number; sa: number; dval: number }) => ({ mm: a.mm, dvma: a.dvma, svma: a.svma, da: a.da, sa: a.sa, dval: a.dval, sval: 0, f: NO_FOLIO, av: -1, err: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      l.sval = pmdp_get(k.w, K, l.mm, pmd_index(l.sa));
      if (!pmd_trans_huge(l.sval)) {
        // a migration entry: pmd_migration_entry_wait and -EAGAIN; else -ENOENT
        l.err = is_pmd_migration_entry(l.sval) ? EAGAIN : ENOENT;
        return 'unlock_src';
      }
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
      if (l.err === EAGAIN) return k.call(pmd_migration_entry_wait, { mm: l.mm, vpn: l.sa }, 'migration_waited');
      if (l.err) return k.ret(l.err);
      return k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.sa, end: l.sa + HPAGE_PMD_NR }, 'flock');
    },
    migration_waited: (k) => k.ret(EAGAIN),
    flock: (k, l) => (folio_lock(k, kern(k), l.f) ? 'av' : BLOCKED),
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
    ptl: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'check' : BLOCKED), // double_pt_lock(src_ptl, dst_ptl)
    check: (k, l) => {
      const K = kern(k);
      const m = k.w;
      if (pmdp_get(m, K, l.mm, pmd_index(l.sa)) !== l.sval || pmdp_get(m, K, l.mm, pmd_index(l.da)) !== l.dval) {
        l.err = EAGAIN;
        return 'ptl_unlock';
      }
      if (folio_maybe_dma_pinned(m, K, l.f) || !PageAnonExclusive(m, K, l.f)) {
        l.err = EBUSY;
        return 'ptl_unlock';
      }
      return 'clear';
    },
    clear: (k, l) => {
      set_pmd(k.w, kern(k), l.mm, pmd_index(l.sa), 0); // src_pmdval = pmdp_huge_clear_flush(src_vma, src_addr, src_pmd)
      return k.sw(NO_PIN_RECHECK) ? 'rmap' : 'recheck';
    },
    // Folio got pinned from under us. Put it back and fail the move.
    recheck: (k, l) => {
      const K = kern(k);
      if (!folio_maybe_dma_pinned(k.w, K, l.f)) return 'rmap';
      set_pmd(k.w, K, l.mm, pmd_index(l.sa), l.sval);
      l.err = EBUSY;
      return 'ptl_unlock';
    },
    rmap: (k, l) => {
      folio_move_anon_rmap(k.w, kern(k), l.f, l.dvma, l.da);
      return 'set';
    },
    set: (k, l) => {
      const K = kern(k);
      set_pmd(k.w, K, l.mm, pmd_index(l.da), mk_huge_pmd(folio_pfn(l.f), _PAGE_RW | _PAGE_DIRTY));
      const t = pgtable_trans_huge_withdraw(k, l.mm, pmd_index(l.sa));
      if (t >= 0) pgtable_trans_huge_deposit(k, l.mm, pmd_index(l.da), t);
      k.note(() => `move_pages_huge_pmd: huge folio ${l.f} moved from pmd ${pmd_index(l.sa)} to pmd ${pmd_index(l.da)}`);
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
