/**
 * try_to_unmap of a locked page-cache folio (mm/rmap.c), as collapse_file (file.ts) calls it on
 * each old folio that is still mapped. try_to_unmap_one brackets its page_vma_mapped_walk with
 * mmu_notifier_invalidate_range_start/end over the folio's range in each VMA, so secondary MMUs
 * (HMM mirrors) drop the page before its PTE is cleared. Simplified: small folios only (the range
 * is one page), no TTU_SPLIT_HUGE_PMD, no mlock/swap/migration handling; the mapping's reference
 * is dropped after the PTL instead of under it.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { pfn_folio, pmd_table, pte_pfn, pte_present } from '../../src/kernel/defs.js';
import { folio_put, folio_remove_rmap } from '../../src/kernel/folio.js';
import { F_INDEX, kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, ptep_get_and_clear } from '../../src/kernel/pgtable.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { immapVmas } from './common.js';
import { type FolioId, type MemfdId, NO_TABLE, NO_VMA, type VmaId } from '../../src/kernel/ids.js';

/**
 * try_to_unmap of a locked file folio: args [mapping, folio]. rmap_walk_file under i_mmap_rwsem
 * read; for each VMA mapping the folio's index, try_to_unmap_one clears the PTE under the PTL,
 * removes the rmap and drops the mapping's reference.
 */
export const try_to_unmap_file = kproc(
  'try_to_unmap',
  'mm/rmap.c: try_to_unmap → rmap_walk_file → try_to_unmap_one',
  (a: { map: MemfdId; f: FolioId }) => ({ map: a.map, f: a.f, j: 0, vma: NO_VMA, vpn: 0, t: NO_TABLE, hit: 0 }),
  {
    lock: (k, l) => (k.down_read(kern(k).mapping(l.map).i_mmap_rwsem) ? 'vma' : BLOCKED),
    vma: (k, l) => {
      const K = kern(k);
      const vmas = immapVmas(k, l.map);
      const index = k.w.get(K.fSlot(l.f, F_INDEX));
      while (l.j < vmas.length) {
        const v = vmas[l.j++] as VmaId;
        const h = K.vma(v);
        if (index < h.pgoff || index >= h.pgoff + h.pages) continue;
        l.vma = v;
        l.vpn = h.start + (index - h.pgoff);
        // try_to_unmap_one: mmu_notifier_range_init(MMU_NOTIFY_CLEAR, address, vma_address_end)
        return k.call(mmu_notifier_invalidate_range_start, { mm: h.mm, start: l.vpn, end: l.vpn + 1 }, 'walk');
      }
      return 'unlock';
    },
    walk: (k, l) => k.call(pte_offset_map_lock, { mm: kern(k).vma(l.vma).mm, pmd: pmd_index(l.vpn) }, 'locked'), // page_vma_mapped_walk
    locked: (k, l) => {
      if (k.rv === 0) return 'notify_end';
      const K = kern(k);
      l.t = pmd_table(k.rv);
      const pte = ptep_get(k, K, l.t, pte_index(l.vpn));
      l.hit = pte_present(pte) && pfn_folio(pte_pfn(pte)) === l.f ? 1 : 0;
      if (l.hit) {
        ptep_get_and_clear(k, K, l.t, pte_index(l.vpn)); // ptep_clear_flush
        folio_remove_rmap(k, K, l.f);
        k.note(() => `try_to_unmap: folio ${l.f} unmapped from ${K.vma(l.vma).name} vpn ${l.vpn} (table ${l.t} stays, now empty there)`);
      }
      return 'ptl_unlock';
    },
    ptl_unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'put' : ENDED),
    put: (k, l) => {
      if (l.hit) folio_put(k, kern(k), l.f);
      l.hit = 0;
      return 'notify_end';
    },
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: kern(k).vma(l.vma).mm, start: l.vpn, end: l.vpn + 1 }, 'vma'),
    unlock: (k, l) => (k.up_read(kern(k).mapping(l.map).i_mmap_rwsem) ? k.ret(0) : ENDED),
  },
);
