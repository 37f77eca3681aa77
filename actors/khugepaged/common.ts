/**
 * khugepaged's result codes (enum scan_result, mm/khugepaged.c), the per-pmd deposited page table
 * (pgtable_trans_huge_deposit / _withdraw) kept in a region of the world, the tunables scaled to
 * PTRS_PER_PTE = 4, and the walk of a mapping's live VMAs shared by the file collapse paths.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { type ModelBuilder, Subsystem } from '../../src/engine/model.js';
import { HPAGE_PMD_NR } from '../../src/kernel/defs.js';
import { KERNEL, kern, VMA_ATTACHED, VMA_IMMAP } from '../../src/kernel/kernel.js';
import type { VmaId } from '../../src/kernel/ids.js';

export const SCAN_FAIL = 0;
export const SCAN_SUCCEED = 1;
export const SCAN_PMD_NULL = 2;
export const SCAN_PMD_NONE = 3;
export const SCAN_PMD_MAPPED = 4;
export const SCAN_EXCEED_NONE_PTE = 5;
export const SCAN_PTE_NON_PRESENT = 6;
export const SCAN_PTE_UFFD_WP = 7;
export const SCAN_PTE_MAPPED_HUGEPAGE = 8;
export const SCAN_PAGE_NULL = 9;
export const SCAN_PAGE_ANON = 10;
export const SCAN_PAGE_LOCK = 11;
export const SCAN_PAGE_COUNT = 12;
export const SCAN_PAGE_COMPOUND = 13;
export const SCAN_EXCEED_SHARED_PTE = 14;
export const SCAN_ALLOC_HUGE_PAGE_FAIL = 15;
export const SCAN_VMA_CHECK = 16;
export const SCAN_ADDRESS_RANGE = 17;
export const SCAN_ANY_PROCESS = 18;
export const SCAN_TRUNCATED = 19;
export const SCAN_PAGE_FILLED = 20;
export const SCAN_LACK_REFERENCED_PAGE = 21;

const NAMES = [
  'SCAN_FAIL',
  'SCAN_SUCCEED',
  'SCAN_PMD_NULL',
  'SCAN_PMD_NONE',
  'SCAN_PMD_MAPPED',
  'SCAN_EXCEED_NONE_PTE',
  'SCAN_PTE_NON_PRESENT',
  'SCAN_PTE_UFFD_WP',
  'SCAN_PTE_MAPPED_HUGEPAGE',
  'SCAN_PAGE_NULL',
  'SCAN_PAGE_ANON',
  'SCAN_PAGE_LOCK',
  'SCAN_PAGE_COUNT',
  'SCAN_PAGE_COMPOUND',
  'SCAN_EXCEED_SHARED_PTE',
  'SCAN_ALLOC_HUGE_PAGE_FAIL',
  'SCAN_VMA_CHECK',
  'SCAN_ADDRESS_RANGE',
  'SCAN_ANY_PROCESS',
  'SCAN_TRUNCATED',
  'SCAN_PAGE_FILLED',
  'SCAN_LACK_REFERENCED_PAGE',
];
export const scanName = (r: number): string => NAMES[r] ?? `scan result ${r}`;

/** khugepaged_max_ptes_none (default HPAGE_PMD_NR - 1) and _shared (HPAGE_PMD_NR / 2), scaled. */
export const MAX_PTES_NONE = HPAGE_PMD_NR - 1;
export const MAX_PTES_SHARED = HPAGE_PMD_NR / 2;

/** hpage_collapse_scan_pmd returns its result with this bit set when it dropped mmap_lock (*mmap_locked = false). */
export const MMAP_UNLOCKED = 0x100;

/** The THP side state of a model: one deposited-table slot per pmd of each mm. */
interface Thp {
  readonly base: number;
  readonly mmOff: readonly number[];
}

/** The THP subsystem of a model (registered by ensureThp). */
const THP = new Subsystem<Thp>('thp');

/** Reserve the deposit region once per model (called by the ops that build THP paths). */
export function ensureThp(b: ModelBuilder): void {
  if (THP.find(b)) return;
  const K = KERNEL.find(b);
  if (!K) throw new Error('khugepaged/uffd operations need a world (src/kernel objects)');
  const mmOff: number[] = [];
  let n = 0;
  for (const mm of K.mms) {
    mmOff.push(n);
    n += mm.npmd;
  }
  const base = b.layout.region('thp', Math.max(1, n), ['deposit']);
  b.provide(THP, { base, mmOff });
}

const thpOf = (k: Ctx): Thp => THP.of(k.w.model);

/** The deposit slot of (mm, pmd) in a model being built (for invariants); ensureThp first. */
export function depositSlotIn(b: ModelBuilder): (mm: number, pmd: number) => number {
  const t = THP.find(b);
  if (!t) throw new Error('depositSlotIn: ensureThp(b) first');
  return (mm, pmd) => t.base + (t.mmOff[mm] as number) + pmd;
}

const depositSlot = (k: Ctx, mm: number, pmd: number): number => {
  const t = thpOf(k);
  return t.base + (t.mmOff[mm] as number) + pmd;
};

/** pgtable_trans_huge_deposit: park a detached table under a huge pmd (for a later split). */
export function pgtable_trans_huge_deposit(k: Ctx, mm: number, pmd: number, table: number): void {
  k.w.set(depositSlot(k, mm, pmd), table + 1);
}

/** pgtable_trans_huge_withdraw: the deposited table, or -1 (the slot is emptied). */
export function pgtable_trans_huge_withdraw(k: Ctx, mm: number, pmd: number): number {
  const s = depositSlot(k, mm, pmd);
  const t = k.w.get(s) - 1;
  k.w.set(s, 0);
  return t;
}

/** VMAs of a mapping's i_mmap tree that are live (vma_interval_tree_foreach). */
export const immapVmas = (k: Ctx, map: number): VmaId[] => {
  const K = kern(k);
  return K.mapping(map).vmas.filter((v) => k.w.get(K.vmaSlot(v, VMA_IMMAP)) !== 0 && k.w.get(K.vmaSlot(v, VMA_ATTACHED)) !== 0);
};
