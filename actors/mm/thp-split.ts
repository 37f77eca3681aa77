/**
 * Splitting a THP folio, v6.10 mm/huge_memory.c: split_huge_pages_pid (the debugfs
 * split_huge_pages interface: mmap_read_lock, follow_page(FOLL_GET), the racy can_split_folio
 * precheck, folio_trylock) → split_folio → split_huge_page_to_list_to_order: folio_get_anon_vma
 * (-EBUSY: "page was unmapped from under us"), anon_vma_lock_write, can_split_folio (-EAGAIN),
 * unmap_folio (a PMD mapping is split first: TTU_SPLIT_HUGE_PMD), folio_ref_freeze(1 + extra_pins)
 * (-EAGAIN after remap_page when someone else holds a reference, e.g. a GUP pin taken after the
 * check), then __split_huge_page.
 *
 * can_split_folio(folio, &extra_pins): extra_pins is 0 for an anon folio outside the swap cache
 * (folio_nr_pages for the page cache); the folio can be split iff folio_mapcount == folio_ref_count
 * - extra_pins - 1 (the caller's reference).
 *
 * Simplified: anonymous folios only; unmap_folio leaves the PTEs of the split pmd in place instead
 * of migration entries, so the freeze condition is "no reference besides the mappings and ours";
 * __split_huge_page itself is not modelled (the pfn encoding ties a folio's sub-pages to it): on
 * success the folio stays one large folio mapped by PTEs and 0 is returned.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { EAGAIN, EBUSY, EINVAL, HPAGE_PMD_NR, is_huge_zero_pmd, pfn_folio, pmd_pfn, pmd_table, pmd_trans_huge } from '../../src/kernel/defs.js';
import { folio_get, folio_mapcount, folio_put, folio_ref_count, folio_trylock, folio_unlock } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get } from '../../src/kernel/pgtable.js';
import { split_huge_pmd } from '../khugepaged/split.js';
import { anon_vma_lock, folio_get_anon_vma, folio_test_large } from '../uffd/common.js';
import { vm_normal_folio } from './common.js';
import { type MmId, type VmaId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';

/** can_split_folio for an anonymous folio outside the swap cache (extra_pins 0), with the caller's reference. */
const can_split_folio = (k: Parameters<typeof kern>[0], f: number): boolean => {
  const K = kern(k);
  return folio_mapcount(k.w, K, f) === folio_ref_count(k.w, K, f) - 0 - 1;
};

/** split_huge_pages_pid for one page: args [mm, vma, vpn]; split_folio's result (0, -EAGAIN, -EBUSY) or -EINVAL (no THP there). */
export const split_folio = kproc(
  'split_folio',
  'mm/huge_memory.c: split_huge_pages_pid → split_folio → split_huge_page_to_list_to_order',
  (a: { mm: MmId; vma: VmaId; vpn: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, f: NO_FOLIO, t: NO_TABLE, av: -1, pmd: 0, r: 0 }),
  {
    lock: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'follow' : BLOCKED),
    // follow_page(vma, addr, FOLL_GET | FOLL_DUMP): a huge pmd under the pmd lock, else the PTE under its PTL
    follow: (k, l) => {
      if (pmd_trans_huge(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.vpn)))) return 'pml';
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'pte');
    },
    pml: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'huge' : BLOCKED),
    huge: (k, l) => {
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      if (pmd_trans_huge(v) && !is_huge_zero_pmd(v)) {
        l.f = pfn_folio(pmd_pfn(v));
        folio_get(k.w, K, l.f);
      }
      return k.spin_unlock(K.mm(l.mm).page_table_lock) ? 'found' : ENDED;
    },
    pte: (k, l) => {
      if (k.rv === 0) return 'found'; // no page table (or it turned huge): nothing followed
      const K = kern(k);
      l.t = pmd_table(k.rv);
      l.f = vm_normal_folio(ptep_get(k, K, l.t, pte_index(l.vpn)));
      if (l.f >= 0) folio_get(k.w, K, l.f);
      return pte_unmap_unlock(k, K, l.t) ? 'found' : ENDED;
    },
    found: (k, l) => {
      const K = kern(k);
      if (l.f < 0 || !folio_test_large(k.w, K, l.f)) {
        l.r = EINVAL;
        k.note(() => `split_huge_pages_pid: no THP at vpn ${l.vpn}`);
        return l.f >= 0 ? 'put' : 'unlock';
      }
      // "if (!folio_test_private(folio) && !can_split_folio(folio, NULL)) goto next;"
      if (!can_split_folio(k, l.f)) {
        l.r = EAGAIN;
        k.note(() => `split_huge_pages_pid: folio ${l.f} refcount ${folio_ref_count(k.w, K, l.f)}, mapcount ${folio_mapcount(k.w, K, l.f)}: extra references, skipped`);
        return 'put';
      }
      return 'trylock';
    },
    trylock: (k, l) => {
      const K = kern(k);
      if (!folio_trylock(k, K, l.f)) {
        l.r = EAGAIN;
        return 'put';
      }
      // split_huge_page_to_list_to_order: anon_vma = folio_get_anon_vma(folio)
      l.av = folio_get_anon_vma(k.w, K, l.f, folio_mapcount(k.w, K, l.f));
      if (l.av < 0) {
        l.r = EBUSY;
        k.note(() => `split_folio: folio ${l.f} has no anon_vma (unmapped from under us), -EBUSY`);
        return 'folio_unlock';
      }
      return 'av_lock';
    },
    av_lock: (k, l) => (k.down_write(anon_vma_lock(kern(k), l.av)) ? 'check' : BLOCKED), // anon_vma_lock_write
    check: (k, l) => {
      const K = kern(k);
      // "Racy check if we can split the page, before unmap_folio() will split PMDs"
      if (!can_split_folio(k, l.f)) {
        l.r = EAGAIN;
        k.note(() => `split_folio: can_split_folio(folio ${l.f}) false (refcount ${folio_ref_count(k.w, K, l.f)}, mapcount ${folio_mapcount(k.w, K, l.f)}), -EAGAIN`);
        return 'av_unlock';
      }
      // unmap_folio: try_to_migrate(TTU_SPLIT_HUGE_PMD) splits a PMD mapping first
      l.pmd = pmd_trans_huge(pmdp_get(k.w, K, l.mm, pmd_index(l.vpn))) ? 1 : 0;
      if (l.pmd) return k.call(split_huge_pmd, { mm: l.mm, vma: l.vma, address: l.vpn - (l.vpn % HPAGE_PMD_NR) }, 'freeze');
      return 'freeze';
    },
    freeze: (k, l) => {
      const K = kern(k);
      // folio_ref_freeze(folio, 1 + extra_pins): after unmap only ours may remain
      if (folio_ref_count(k.w, K, l.f) - folio_mapcount(k.w, K, l.f) !== 1) {
        l.r = EAGAIN;
        k.note(() => `split_folio: folio_ref_freeze(folio ${l.f}) failed (refcount ${folio_ref_count(k.w, K, l.f)}, mapcount ${folio_mapcount(k.w, K, l.f)}), remap_page, -EAGAIN`);
      } else {
        l.r = 0;
        k.note(() => `split_folio: folio ${l.f} frozen and split (__split_huge_page not modelled: still one large folio, mapped by PTEs)`);
      }
      return 'av_unlock';
    },
    av_unlock: (k, l) => (k.up_write(anon_vma_lock(kern(k), l.av)) ? 'folio_unlock' : ENDED),
    folio_unlock: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'put' : ENDED),
    put: (k, l) => {
      folio_put(k, kern(k), l.f);
      return 'unlock';
    },
    unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(l.r) : ENDED),
  },
);
