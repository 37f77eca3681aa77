/**
 * Page tables: the pool of PTE tables (identity, state, owner, RCU grace-period mask, PTEs) and
 * their split PTE locks. The pmds themselves belong to their mm (sys/mm.ts).
 */
import type { ModelBuilder } from '../../engine/model.js';
import { defineRegion } from '../../engine/region.js';
import { LockKind } from '../../locks/space.js';
import { PTRS_PER_PTE } from '../defs.js';
import type { LockId } from '../ids.js';

export const PGTABLE = defineRegion('pgtable', 'the pool of PTE tables', {
  state: 'PT_FREE, PT_ATTACHED, PT_DETACHED (pmd cleared, freed after a grace period) or PT_NEW',
  owner: 'mm * 256 + pmd index + 1 while attached or detached',
  gp: 'threads inside rcu_read_lock when the table was deferred-freed (bitmask)',
  pte: ['the PTEs (pte_none is 0)', PTRS_PER_PTE],
});

/** The page-table pool of a model. */
export class PageTables {
  base = 0;
  /** Tables in the pool. */
  n = 0;
  /** The split PTE lock of each table (pte_lockptr). */
  readonly ptl: LockId[] = [];

  /** Reserve the pool's memory. */
  reserve(b: ModelBuilder, n: number): void {
    this.n = n;
    this.base = b.layout.add(PGTABLE, n);
  }

  /** Declare each table's PTL. */
  declareLocks(b: ModelBuilder): void {
    for (let t = 0; t < this.n; t++) this.ptl.push(b.lock(`ptl[${t}]`, LockKind.Spin, 'ptl'));
  }

  slot(t: number, f: number): number {
    return this.base + t * PGTABLE.stride + f;
  }
}
