/**
 * The steps a VM_PFNMAP fault handler runs before it inserts a pfn (mm/memory.c: vmf_insert_pfn →
 * insert_pfn, reached from a driver's ->fault such as drivers/dma-buf/udmabuf.c: udmabuf_vm_fault):
 * allocate the PTE table if the pmd is none (__pte_alloc, -ENOMEM → VM_FAULT_OOM), then take the PTL
 * with the pmd recheck of pte_offset_map_lock (no table → VM_FAULT_NOPAGE, the fault is retried).
 * Shared by pfnmap_fault (file-fault.ts) and udmabuf_vm_fault; the caller's `insert` step follows.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import type { Next, Step } from '../../src/engine/proc.js';
import { pmd_none, pmd_table, VM_FAULT_NOPAGE, VM_FAULT_OOM } from '../../src/kernel/defs.js';
import type { MmId, TableId } from '../../src/kernel/ids.js';
import { kern } from '../../src/kernel/kernel.js';
import { __pte_alloc, pmd_index, pmdp_get, pte_offset_map_lock } from '../../src/kernel/pgtable.js';

type L = { mm: MmId; vpn: number; t: TableId };
/** The labels the fragment defines and the caller's `insert` step it goes on to. */
type Own = 'alloced' | 'locked' | 'insert';

/** From the caller's first step: __pte_alloc if the pmd is none, then the fragment's `alloced`. */
export function pfnmap_pte_alloc(k: Ctx<Own>, l: L): Next<Own> {
  if (pmd_none(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.vpn)))) return k.call(__pte_alloc, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'alloced');
  return 'alloced';
}

/** Steps alloced → locked → `insert` (l.t is the locked table). */
export function pfnmapLockSteps(): Record<Exclude<Own, 'insert'>, Step<L, Own>> {
  return {
    alloced: (k, l) => {
      if (k.rv < 0) return k.ret(VM_FAULT_OOM);
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'locked');
    },
    locked: (k, l) => {
      if (k.rv === 0) return k.ret(VM_FAULT_NOPAGE);
      l.t = pmd_table(k.rv);
      return 'insert';
    },
  };
}
