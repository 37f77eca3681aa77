/**
 * The plain description of a model's kernel objects that buildKernel (build.ts) builds: memfds,
 * mms with their VMAs (and interval-notifier mirrors), and optional pool sizes.
 */

export interface MemfdDesc {
  readonly name: string;
  readonly kind: 'shmem' | 'hugetlb' | 'fs';
  /** i_size in the mapping's pages (2 MB huge pages for hugetlb). */
  readonly pages: number;
  readonly seals: number;
  /** Page-cache indices that hold a folio at the start. */
  readonly populated: readonly number[];
  /** false: the memfd exists only after a memfd_create operation. */
  readonly live: boolean;
}

export interface MirrorDesc {
  readonly name: string;
  /** First page of the VMA covered and how many (at most 4). */
  readonly first: number;
  readonly pages: number;
}

export interface VmaDesc {
  readonly name: string;
  readonly pages: number;
  readonly memfd?: string;
  readonly offset?: number;
  readonly shared?: boolean;
  readonly write?: boolean;
  readonly pfnmap?: boolean;
  /** VM_HUGEPAGE (MADV_HUGEPAGE): anonymous faults may map THPs and the huge zero page. */
  readonly thp?: boolean;
  readonly uffd?: readonly ('missing' | 'minor' | 'wp')[];
  /** Pages mapped at the start (anon: a fresh exclusive folio; file: the page-cache folio). */
  readonly populated?: readonly number[];
  readonly mirror?: MirrorDesc;
}

export interface MmDesc {
  readonly name: string;
  readonly vmas: readonly VmaDesc[];
}

export interface KernelDesc {
  readonly memfds: readonly MemfdDesc[];
  readonly mms: readonly MmDesc[];
  readonly pools?: { readonly folios?: number; readonly hugetlb?: number; readonly tables?: number };
}
