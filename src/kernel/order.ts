/**
 * The lock hierarchy of mm/rmap.c ("Lock ordering in mm") and mm/filemap.c as an executable oracle
 * (kernel-rules §1). Every blocking acquisition is checked against every lock the thread holds; a
 * lock of a class ranked outside a held one is a `potential-deadlock` naming the rule it breaks.
 * Trylocks are exempt (as in lockdep); classes the table does not know (driver locks, scenario
 * locks) are left to the lock-order graph.
 */

interface Level {
  readonly rank: number;
  readonly what: string;
}

const RMAP = 'mm/rmap.c "Lock ordering in mm"';
const HUGETLB = 'mm/rmap.c hugetlbfs order (hugetlb_fault_mutex → vma_lock → i_mmap_rwsem → folio_lock)';
const FILEMAP = 'mm/filemap.c "Lock ordering"';
const RESV = 'drivers/dma-buf/dma-resv.c: dma_resv_lockdep: mmap_lock → dma_resv → i_mmap_rwsem';

/** Outer → inner. Equal ranks do not order each other here (nesting within a class is lockdep's job). */
export const LEVELS: Readonly<Record<string, Level>> = {
  i_rwsem: { rank: 10, what: `inode->i_rwsem (1 in ${RMAP})` },
  mmap_lock: { rank: 20, what: `mm->mmap_lock (2 in ${RMAP})` },
  // dma_resv_lockdep primes lockdep with mmap_read_lock → dma_resv_lock → i_mmap_lock_write → the
  // mmu-notifier invalidate map: a reservation lock nests inside mmap_lock and outside everything below.
  dma_resv: { rank: 22, what: `dma_resv ww_mutex (${RESV})` },
  invalidate_lock: { rank: 30, what: `mapping->invalidate_lock (3 in ${RMAP})` },
  hugetlb_fault_mutex: { rank: 33, what: `hugetlb_fault_mutex (first in ${HUGETLB})` },
  hugetlb_vma_lock: { rank: 36, what: `hugetlb vma_lock (second in ${HUGETLB})` },
  folio_lock: { rank: 40, what: `folio_lock (4 in ${RMAP})` },
  hugetlb_folio_lock: { rank: 40, what: `hugetlb folio_lock (last in ${HUGETLB})` },
  vma_lock: { rank: 60, what: `vma_start_write (6 in ${RMAP})` },
  // The per-VMA lock held for read (vma_start_read / lock_vma_under_rcu) stands where mmap_lock read
  // would: page faults and UFFDIO_MOVE's uffd_move_lock take folio locks and PTLs under it.
  'vma_lock/read': { rank: 25, what: 'vma_start_read (the per-VMA read lock, taken in place of mmap_lock read)' },
  i_mmap_rwsem: { rank: 70, what: `mapping->i_mmap_rwsem (7 in ${RMAP})` },
  anon_vma: { rank: 80, what: `anon_vma->rwsem (8 in ${RMAP})` },
  pmd_lock: { rank: 90, what: `mm->page_table_lock / pmd lock (9 in ${RMAP}; outer to the PTE lock in khugepaged)` },
  ptl: { rank: 91, what: `PTE lock (9 in ${RMAP})` },
  i_pages: { rank: 100, what: `i_pages xa_lock (under PTL, ${FILEMAP})` },
  i_lock: { rank: 100, what: `inode->i_lock (under PTL, ${RMAP})` },
};

/** Documented exceptions: held → next pairs the generic ranks would reject. */
const EXCEPTIONS = new Set<string>([
  // hugetlbfs takes the folio lock inside i_mmap_rwsem (and its vma_lock), unlike the generic order.
  'i_mmap_rwsem>hugetlb_folio_lock',
  'hugetlb_vma_lock>hugetlb_folio_lock',
]);

const READ = 1;
const level = (cls: string, mode: number): string => (cls === 'vma_lock' && mode === READ ? 'vma_lock/read' : cls);

/** The rule a `held → next` acquisition breaks, or null. */
export function orderViolation(held: string, next: string): string | null {
  const h = LEVELS[held];
  const n = LEVELS[next];
  if (!h || !n || n.rank >= h.rank) return null;
  if (EXCEPTIONS.has(`${held}>${next}`)) return null;
  return `lock order violation: ${next} taken while holding ${held}; ${n.what} nests outside ${h.what}`;
}

/** A ModelBuilder.orderRule over class ids (class names are looked up lazily: classes grow while building). */
export function makeOrderRule(classes: readonly string[]): (held: number, next: number, heldMode: number, nextMode: number) => string | null {
  const cache = new Map<number, string | null>();
  return (held, next, heldMode, nextMode) => {
    const key = (held * 65536 + next) * 4 + (heldMode & 1) * 2 + (nextMode & 1);
    let r = cache.get(key);
    if (r === undefined) {
      r = orderViolation(level(classes[held] ?? '', heldMode), level(classes[next] ?? '', nextMode));
      cache.set(key, r);
    }
    return r;
  };
}
