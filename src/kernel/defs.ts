/**
 * Constants and integer encodings of the MM model. Everything a kernel object stores in world
 * memory is an int32: PTEs and pmds are encoded so that pte_same/pmd_same is `===`.
 *
 * Scale: a PTE table holds PTRS_PER_PTE = 4 entries instead of 512, so a "huge" pmd mapping
 * (THP or a 2 MB hugetlb page) covers HPAGE_PMD_NR = 4 base pages (HPAGE_PMD_ORDER 2).
 */
import type { FolioId, TableId } from './ids.js';

export const PTRS_PER_PTE = 4; // HPAGE_PMD_NR scaled down from 512
export const PTE_SHIFT = 2; // log2(PTRS_PER_PTE)
export const HPAGE_PMD_ORDER = 2;
export const HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER;

/** Errors (negative errno, include/uapi/asm-generic/errno-base.h). */
export const EPERM = -1;
export const ENOENT = -2;
export const ESRCH = -3;
export const EINTR = -4;
export const EIO = -5;
export const EBADF = -9;
export const EAGAIN = -11;
export const ENOMEM = -12;
export const EFAULT = -14;
export const EBUSY = -16;
export const EEXIST = -17;
export const EINVAL = -22;
export const EBADFD = -77;

/** vm_fault_t bits (include/linux/mm_types.h). */
export const VM_FAULT_OOM = 0x1;
export const VM_FAULT_SIGBUS = 0x2;
export const VM_FAULT_SIGSEGV = 0x40;
export const VM_FAULT_NOPAGE = 0x100;
export const VM_FAULT_LOCKED = 0x200;
export const VM_FAULT_RETRY = 0x400; // the mmap_lock was released by the fault handler
export const VM_FAULT_FALLBACK = 0x800; // a huge pmd was split: handle the fault at PTE level
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV;

/** FAULT_FLAG_* (include/linux/mm_types.h). */
export const FAULT_FLAG_WRITE = 0x1;
export const FAULT_FLAG_ALLOW_RETRY = 0x4; // VM_FAULT_RETRY may be returned with mmap_lock dropped
export const FAULT_FLAG_REMOTE = 0x80; // GUP-driven fault
export const FAULT_FLAG_VMA_LOCK = 0x1000; // the fault holds the per-VMA read lock, not mmap_lock (v6.4+)

/**
 * vm_flags (include/linux/mm.h values where they fit in 31 bits; VM_UFFD_MINOR, bit 38 in the
 * kernel, is moved to bit 30 here).
 */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_SHARED = 0x8;
export const VM_MAYWRITE = 0x20;
export const VM_MAYSHARE = 0x80;
export const VM_UFFD_MISSING = 0x200;
export const VM_PFNMAP = 0x400;
export const VM_UFFD_WP = 0x1000;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_DONTEXPAND = 0x40000;
export const VM_HUGETLB = 0x400000;
export const VM_DONTDUMP = 0x4000000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000; // MADV_HUGEPAGE (THP enabled in "madvise" mode)
export const VM_UFFD_MINOR = 0x40000000;

/** memfd seals (include/uapi/linux/fcntl.h). */
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;
export const F_SEAL_FUTURE_WRITE = 0x10;
export const SEAL_NAMES: Record<string, number> = {
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_GROW,
  F_SEAL_WRITE,
  F_SEAL_FUTURE_WRITE,
};

// ---------------------------------------------------------------------------------------------
// pfns. Folio f owns pfns (f + 1) << HPAGE_PMD_ORDER .. + 3 (room for an order-2 folio);
// pfn 1 is the shared zero page; pfn 0 is never valid.
export const ZERO_PFN = 1;
export const folio_pfn = (f: number): number => (f + 1) << HPAGE_PMD_ORDER;
/** The folio owning a pfn, or -1 for the zero page. */
export const pfn_folio = (pfn: number): FolioId => ((pfn >> HPAGE_PMD_ORDER) - 1) as FolioId;
export const pfn_subpage = (pfn: number): number => pfn & (HPAGE_PMD_NR - 1);

// ---------------------------------------------------------------------------------------------
// PTE: 0 is pte_none. Bits 0-2 type, 3-7 flags, 8.. payload (pfn or swap slot).
export const PTE_PRESENT = 1;
export const PTE_SWAP = 2;
export const PTE_MIGRATION = 3;
export const PTE_MARKER = 4; // uffd-wp / poison marker (pte_none-like)
export const _PAGE_RW = 0x8;
export const _PAGE_DIRTY = 0x10;
export const _PAGE_SPECIAL = 0x20;
export const _PAGE_UFFD_WP = 0x40;
export const _PAGE_SWP_EXCLUSIVE = 0x80; // on swap/migration entries

export const pte_type = (p: number): number => p & 7;
export const pte_none = (p: number): boolean => p === 0;
export const pte_present = (p: number): boolean => (p & 7) === PTE_PRESENT;
export const pte_write = (p: number): boolean => (p & _PAGE_RW) !== 0;
export const pte_dirty = (p: number): boolean => (p & _PAGE_DIRTY) !== 0;
export const pte_special = (p: number): boolean => (p & _PAGE_SPECIAL) !== 0;
export const pte_pfn = (p: number): number => p >>> 8;
export const mk_pte = (pfn: number, flags: number): number => (pfn << 8) | PTE_PRESENT | flags;
export const pte_mkwrite = (p: number): number => p | _PAGE_RW;
export const pte_mkdirty = (p: number): number => p | _PAGE_DIRTY;
export const pte_wrprotect = (p: number): number => p & ~_PAGE_RW;
export const is_zero_pfn = (pfn: number): boolean => pfn === ZERO_PFN;
export const mk_swap_pte = (slot: number, flags = 0): number => (slot << 8) | PTE_SWAP | flags;
export const mk_migration_pte = (pfn: number, flags = 0): number => (pfn << 8) | PTE_MIGRATION | flags;
export const is_swap_pte = (p: number): boolean => (p & 7) === PTE_SWAP;
export const is_migration_entry = (p: number): boolean => (p & 7) === PTE_MIGRATION;

// ---------------------------------------------------------------------------------------------
// pmd: 0 is pmd_none. Bits 0-2 type, 3-7 flags (same as PTE), 8.. payload (table id or pfn).
export const PMD_TABLE = 1; // points to a PTE table
export const PMD_HUGE = 2; // huge (leaf) entry: THP or hugetlb
export const PMD_MIGRATION = 3;

export const pmd_type = (v: number): number => v & 7;
export const pmd_none = (v: number): boolean => v === 0;
export const pmd_is_table = (v: number): boolean => (v & 7) === PMD_TABLE;
export const pmd_trans_huge = (v: number): boolean => (v & 7) === PMD_HUGE;
export const is_pmd_migration_entry = (v: number): boolean => (v & 7) === PMD_MIGRATION;
export const pmd_table = (v: number): TableId => (v >>> 8) as TableId;
export const pmd_pfn = (v: number): number => v >>> 8;
export const mk_pmd_table = (table: number): number => (table << 8) | PMD_TABLE;
export const mk_huge_pmd = (pfn: number, flags: number): number => (pfn << 8) | PMD_HUGE | flags;
/** The huge zero pmd (set_huge_zero_folio): read-only, every sub-page reads as the zero page. */
export const HUGE_ZERO_PMD = mk_huge_pmd(ZERO_PFN, 0);
export const is_huge_zero_pmd = (v: number): boolean => pmd_trans_huge(v) && pmd_pfn(v) === ZERO_PFN;
/** The pfn a huge pmd maps at sub-page `i` (the zero page for every sub-page of the huge zero pmd). */
export const huge_pmd_pfn = (v: number, i: number): number => (is_huge_zero_pmd(v) ? ZERO_PFN : pmd_pfn(v) + i);

// ---------------------------------------------------------------------------------------------
// Object states.
export const PT_FREE = 0; // in the pool
export const PT_ATTACHED = 1; // linked from a pmd
export const PT_DETACHED = 2; // pmd cleared; freed after an RCU grace period (pte_free_defer)
export const PT_NEW = 3; // allocated (pte_alloc_one), not linked yet

export const FOLIO_FREE = 0;
export const FOLIO_USED = 1;

/** Folio flag bits (the lock bit is the folio's lock in the lock table, not a flag here). */
export const PG_uptodate = 0x1;
export const PG_dirty = 0x2;
export const PG_anon = 0x4; // folio->mapping is an anon_vma (FOLIO_MAPPING_ANON)
export const PG_anon_exclusive = 0x8;
export const PG_hugetlb = 0x10;
export const PG_swapcache = 0x20;
export const PG_lru = 0x40;

export const MAX_THREADS = 16; // actors per scenario (schema limit)
export const MAX_PINS = 8; // long-term pins a thread may hold at once
export const MAX_PC = 16; // page-cache slots per address_space
export const MAX_VMA_PAGES = 16;

/** Message type used by wait queues (a wait_event sleeps on the thread's mailbox). */
export const MSG_WAKE = 0x7a4e;

export const errname = (e: number): string =>
  ({ [-1]: 'EPERM', [-2]: 'ENOENT', [-3]: 'ESRCH', [-4]: 'EINTR', [-5]: 'EIO', [-9]: 'EBADF', [-11]: 'EAGAIN', [-12]: 'ENOMEM', [-14]: 'EFAULT', [-16]: 'EBUSY', [-17]: 'EEXIST', [-22]: 'EINVAL', [-77]: 'EBADFD' })[e] ??
  String(e);
