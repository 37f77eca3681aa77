/**
 * Migration entries exist only while the migrator holds the folio lock (include/linux/swapops.h:
 * pfn_swap_entry_folio's BUG_ON(is_migration_entry(entry) && !folio_test_locked(folio))): checked
 * after every step over every linked page table and pmd, so a migration entry left behind when the
 * migrator unlocks (or ends) is an `invariant` verdict.
 */
import type { Invariant } from '../engine/model.js';
import type { World } from '../engine/world.js';
import { L_OWNER, lslot } from '../locks/space.js';
import { is_migration_entry, is_pmd_migration_entry, pfn_folio, pmd_pfn, PT_ATTACHED, pte_pfn, PTRS_PER_PTE } from './defs.js';
import { type Kernel, PT_STATE } from './kernel.js';

const unlocked = (w: World, K: Kernel, pfn: number): number => {
  const f = pfn_folio(pfn);
  return f >= 0 && f < K.nfolios && w.get(lslot(w, K.folioLock[f] as number, L_OWNER)) === 0 ? f : -1;
};

/** Every PTE or pmd migration entry names a folio whose lock is held. */
export function migrationEntriesLocked(K: Kernel): Invariant {
  return (w) => {
    for (let t = 0; t < K.ntables; t++) {
      if (w.get(K.ptSlot(t, PT_STATE)) !== PT_ATTACHED) continue;
      for (let i = 0; i < PTRS_PER_PTE; i++) {
        const pte = w.get(K.pteSlot(t, i));
        if (!is_migration_entry(pte)) continue;
        const f = unlocked(w, K, pte_pfn(pte));
        if (f >= 0) return `PTE ${i} of page table ${t} is a migration entry of folio ${f}, which is not locked (migration entry left behind)`;
      }
    }
    for (const mm of K.mms) {
      for (let p = 0; p < mm.npmd; p++) {
        const v = w.get(mm.pmdBase + p);
        if (!is_pmd_migration_entry(v)) continue;
        const f = unlocked(w, K, pmd_pfn(v));
        if (f >= 0) return `pmd ${p} of mm ${mm.name} is a migration entry of folio ${f}, which is not locked (migration entry left behind)`;
      }
    }
    return null;
  };
}
