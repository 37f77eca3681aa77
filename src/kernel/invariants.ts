/**
 * Global invariants of the MM model, checked after every step (the others are checked where the
 * operation happens: set_pte_at into a detached table, filemap_remove_folio of a mapped folio,
 * freeing a pinned folio, in pgtable.ts / filemap.ts / folio.ts).
 */
import type { Invariant } from '../engine/model.js';
import { FOLIO_USED, huge_pmd_pfn, is_zero_pfn, pfn_folio, PMD_HUGE, pmd_is_table, pmd_pfn, pmd_table, pmd_type, PT_ATTACHED, pte_pfn, pte_present, PTRS_PER_PTE } from './defs.js';
import { F_MAPCOUNT, F_PINCOUNT, F_REF, F_STATE, type Kernel, MAX_MIRROR_PAGES, MI_DEV, M_PC, PT_STATE } from './kernel.js';
import type { World } from '../engine/world.js';
import { MAX_PC } from './defs.js';

function mapsFreed(w: World, K: Kernel, pfn: number): number {
  if (is_zero_pfn(pfn)) return -1;
  const f = pfn_folio(pfn);
  if (f < 0 || f >= K.nfolios || w.get(K.fSlot(f, F_STATE)) !== FOLIO_USED) return f;
  return -1;
}

/** No present PTE (or huge pmd) of a linked page table maps a freed folio. */
export function noMappedFreedFolio(K: Kernel): Invariant {
  return (w) => {
    for (let t = 0; t < K.ntables; t++) {
      if (w.get(K.ptSlot(t, PT_STATE)) !== PT_ATTACHED) continue;
      for (let i = 0; i < PTRS_PER_PTE; i++) {
        const pte = w.get(K.pteSlot(t, i));
        if (!pte_present(pte)) continue;
        const f = mapsFreed(w, K, pte_pfn(pte));
        if (f >= 0) return `present PTE ${i} of page table ${t} maps freed folio ${f} (use-after-free)`;
      }
    }
    for (const mm of K.mms) {
      for (let p = 0; p < mm.npmd; p++) {
        const v = w.get(mm.pmdBase + p);
        if (pmd_type(v) !== PMD_HUGE) continue;
        const f = mapsFreed(w, K, pmd_pfn(v));
        if (f >= 0) return `huge pmd ${p} of mm ${mm.name} maps freed folio ${f} (use-after-free)`;
      }
    }
    return null;
  };
}

/** refcount ≥ mapcount + pincount for every live folio. */
export function refcountCoversMapsAndPins(K: Kernel): Invariant {
  return (w) => {
    for (let f = 0; f < K.nfolios; f++) {
      if (w.get(K.fSlot(f, F_STATE)) !== FOLIO_USED) continue;
      const r = w.get(K.fSlot(f, F_REF));
      const m = w.get(K.fSlot(f, F_MAPCOUNT));
      const p = w.get(K.fSlot(f, F_PINCOUNT));
      if (r < m + p) return `folio ${f}: refcount ${r} < mapcount ${m} + pincount ${p}`;
    }
    return null;
  };
}

/** The page cache and device page tables only hold live folios. */
export function cachesHoldLiveFolios(K: Kernel): Invariant {
  return (w) => {
    for (const m of K.mappings) {
      for (let i = 0; i < MAX_PC; i++) {
        const e = w.get(m.base + M_PC + i) - 1;
        if (e >= 0 && w.get(K.fSlot(e, F_STATE)) !== FOLIO_USED) return `page cache of ${m.name} index ${i} holds freed folio ${e}`;
      }
    }
    for (const mi of K.mirrors) {
      for (let i = 0; i < MAX_MIRROR_PAGES; i++) {
        const pfn = w.get(mi.base + MI_DEV + i);
        if (pfn === 0) continue;
        const f = mapsFreed(w, K, pfn);
        if (f >= 0) return `device PTE ${i} of mirror ${mi.name} maps freed folio ${f} (device use-after-free)`;
      }
    }
    return null;
  };
}

/** The pfn the CPU page tables of `mm` map at `vpn` (through a PTE or a huge pmd), or 0. */
function cpuPfn(w: World, K: Kernel, mm: number, vpn: number): number {
  const v = w.get(K.mm(mm).pmdBase + (vpn >> 2));
  if (pmd_type(v) === PMD_HUGE) return huge_pmd_pfn(v, vpn & (PTRS_PER_PTE - 1));
  if (!pmd_is_table(v)) return 0;
  const pte = w.get(K.pteSlot(pmd_table(v), vpn & (PTRS_PER_PTE - 1)));
  return pte_present(pte) ? pte_pfn(pte) : 0;
}

/**
 * A device PTE maps only what the CPU maps at that address: every change of a CPU PTE goes through
 * mmu_notifier_invalidate_range_start first, whose invalidate() tears the device PTE down, and the
 * driver programs a pfn only while mmu_interval_read_retry proves no invalidation ran since the
 * walk (Documentation/mm/hmm.rst). A device PTE to another page is a missed invalidation.
 */
export function deviceMapsWhatCpuMaps(K: Kernel): Invariant {
  return (w) => {
    for (const mi of K.mirrors) {
      for (let i = 0; i < MAX_MIRROR_PAGES && mi.start + i < mi.end; i++) {
        const dev = w.get(mi.base + MI_DEV + i);
        if (dev === 0) continue;
        const cpu = cpuPfn(w, K, mi.mm, mi.start + i);
        if (cpu !== dev) return `device PTE ${i} of mirror ${mi.name} maps pfn ${dev} but the CPU maps ${cpu ? `pfn ${cpu}` : 'nothing'} at vpn ${mi.start + i} (missed mmu-notifier invalidation)`;
      }
    }
    return null;
  };
}
