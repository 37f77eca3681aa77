/**
 * mm and VMAs: each mm_struct (users, the mmu-notifier sequence and waitqueue, userfaultfd state) with
 * its pmds, mmap_lock and pmd lock, and each vm_area_struct (flags, attachment, anon_vma, i_mmap link)
 * with its static range and locks. VMAs start at a pmd boundary and never share a PTE table.
 */
import type { ModelBuilder } from '../../engine/model.js';
import { defineRegion } from '../../engine/region.js';
import { LockKind } from '../../locks/space.js';
import { type LockId, type MemfdId, type MirrorId, type MmId, NO_LOCK, type VmaId } from '../ids.js';
import type { Subscription } from './notifier.js';

export const MM = defineRegion('mm', 'mm_struct', {
  users: 'mm_users',
  inv_seq: 'mmu_notifier_subscriptions->invalidate_seq: odd while invalidating',
  active_inv: 'active_invalidate_ranges',
  waitq: 'subscriptions->wq: bitmask of sleeping threads',
  mmap_changing: 'userfaultfd ctx->mmap_changing',
  uffd_wq: 'userfaultfd fault_pending_wqh: bitmask of threads in handle_userfault',
  uffd_fault: 'the last faulting address queued to userfaultfd (vpn + 1), 0 when none',
});

/** One region per mm (`pmd.<mm name>`), one record per pmd. */
export const PMD = defineRegion('pmd', 'the pmds of one mm', {
  val: 'pmd value: 0 (pmd_none), a PTE table, a huge or a migration entry (defs.ts)',
});

export const VMA = defineRegion('vma', 'vm_area_struct', {
  flags: 'vm_flags',
  attached: '1 while linked in its mm',
  anon_vma: 'anon_vma id + 1 once prepared (one anon_vma per VMA here)',
  immap: "1 while linked in its file's i_mmap tree (until unlink_file_vma)",
  write_locked: "vm_lock_seq == mm_lock_seq: vma_start_write'd until vma_end_write_all",
});

export interface MmH {
  readonly id: MmId;
  readonly name: string;
  readonly base: number;
  readonly pmdBase: number;
  readonly npmd: number;
  readonly mmap_lock: LockId;
  /** mm->page_table_lock: the pmd lock (no split pmd ptlocks in this model) and hugetlb's huge PTL. */
  readonly page_table_lock: LockId;
  readonly vmas: VmaId[];
  readonly mirrors: MirrorId[];
  /** Classic mmu_notifier subscriptions (mmu_notifier_register), called in the invalidating context. */
  readonly subscriptions: Subscription[];
}

export interface VmaH {
  readonly id: VmaId;
  readonly name: string;
  readonly mm: MmId;
  /** First virtual page (base pages); VMAs start at a pmd boundary and never share a PTE table. */
  readonly start: number;
  readonly end: number;
  /** Pages in the mapping's unit (huge pages for hugetlb). */
  readonly pages: number;
  /** log2 of base pages per mapping page: 0, or HPAGE_PMD_ORDER for hugetlb. */
  readonly shift: number;
  readonly memfd: MemfdId; // -1 for anonymous
  readonly pgoff: number; // in the mapping's pages
  readonly base: number;
  readonly vma_lock: LockId; // per-VMA lock (vma_start_read / vma_start_write)
  readonly hugetlb_vma_lock: LockId; // -1 unless hugetlb
  readonly anon_vma_lock: LockId; // -1 unless the VMA can hold anon folios (anon or private file)
  readonly mirror: MirrorId; // -1 or the mirror registered over this VMA
}

/** What addVma needs besides the id, base and locks it makes. */
export type VmaSpec = Omit<VmaH, 'id' | 'base' | 'vma_lock' | 'hugetlb_vma_lock' | 'anon_vma_lock'> & { readonly hugetlb: boolean; readonly anon: boolean };

/** The mms and VMAs of a model. */
export class Mms {
  mmBase = 0;
  vmaBase = 0;
  readonly mms: MmH[] = [];
  readonly vmas: VmaH[] = [];
  /** Names for notes: lock ids are also named in the lock table. */
  readonly mmNames = new Map<string, MmId>();
  readonly vmaNames = new Map<string, VmaId>();
  private pmdBases: number[] = [];
  private npmd: readonly number[] = [];

  /** Reserve the mm records, each mm's pmds (`npmd[i]` of them) and the VMA records. */
  reserve(b: ModelBuilder, names: readonly string[], npmd: readonly number[], nvmas: number): void {
    this.mmBase = b.layout.add(MM, names.length);
    this.npmd = npmd;
    this.pmdBases = names.map((n, i) => b.layout.add(PMD, npmd[i] as number, `pmd.${n}`));
    this.vmaBase = b.layout.add(VMA, nvmas);
  }

  /** Declare an mm's locks and handle. */
  addMm(b: ModelBuilder, name: string): MmH {
    const id = this.mms.length as MmId;
    const mm: MmH = {
      id,
      name,
      base: this.mmBase + id * MM.stride,
      pmdBase: this.pmdBases[id] as number,
      npmd: this.npmd[id] as number,
      mmap_lock: b.lock(`${name}.mmap_lock`, LockKind.Rwsem, 'mmap_lock'),
      page_table_lock: b.lock(`${name}.page_table_lock`, LockKind.Spin, 'pmd_lock'),
      vmas: [],
      mirrors: [],
      subscriptions: [],
    };
    this.mms.push(mm);
    this.mmNames.set(name, id);
    return mm;
  }

  /** The id the next VMA gets. */
  get nextVma(): VmaId {
    return this.vmas.length as VmaId;
  }

  /** Declare a VMA's locks and handle and link it into its mm. */
  addVma(b: ModelBuilder, s: VmaSpec): VmaH {
    if (this.vmaNames.has(s.name)) throw new Error(`two VMAs named ${s.name} (VMA names are unique in a world)`);
    const id = this.nextVma;
    const { hugetlb, anon, ...rest } = s;
    const h: VmaH = {
      ...rest,
      id,
      base: this.vmaBase + id * VMA.stride,
      vma_lock: b.lock(`${s.name}.vm_lock`, LockKind.Rwsem, 'vma_lock'),
      hugetlb_vma_lock: hugetlb ? b.lock(`${s.name}.hugetlb_vma_lock`, LockKind.Rwsem, 'hugetlb_vma_lock') : NO_LOCK,
      anon_vma_lock: anon ? b.lock(`${s.name}.anon_vma`, LockKind.Rwsem, 'anon_vma') : NO_LOCK,
    };
    this.vmas.push(h);
    this.vmaNames.set(s.name, id);
    (this.mms[s.mm] as MmH).vmas.push(id);
    return h;
  }

  mmSlot(mm: number, f: number): number {
    return this.mmBase + mm * MM.stride + f;
  }
  pmdSlot(mm: number, pmd: number): number {
    return (this.mms[mm] as MmH).pmdBase + pmd;
  }
  vmaSlot(vma: number, f: number): number {
    return this.vmaBase + vma * VMA.stride + f;
  }
  vma(id: number): VmaH {
    return this.vmas[id] as VmaH;
  }
  mm(id: number): MmH {
    return this.mms[id] as MmH;
  }
}
