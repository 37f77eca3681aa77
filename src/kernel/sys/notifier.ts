/**
 * Notifiers: HMM mirrors (an mmu_interval_notifier with its sequence, a device page table under a
 * driver lock and the hmm_pfns of the last hmm_range_fault) and classic mmu_notifier subscriptions.
 */
import type { ModelBuilder } from '../../engine/model.js';
import type { Proc } from '../../engine/proc.js';
import { defineRegion } from '../../engine/region.js';
import { LockKind } from '../../locks/space.js';
import type { LockId, MirrorId, MmId, VmaId } from '../ids.js';

export const MAX_MIRROR_PAGES = 4;

export const MIRROR = defineRegion('mirror', 'HMM mirrors (mmu_interval_notifier + device page table)', {
  seq: 'mmu_interval_notifier->invalidate_seq',
  dev: ['device PTEs: pfn, 0 when invalid (under the driver lock)', MAX_MIRROR_PAGES],
  hmm_pfn: ['range->hmm_pfns filled by hmm_range_fault', MAX_MIRROR_PAGES],
});

export interface MirrorH {
  readonly id: MirrorId;
  readonly name: string;
  readonly mm: MmId;
  readonly vma: VmaId;
  /** Covered virtual pages [start, end) (base pages). */
  readonly start: number;
  readonly end: number;
  readonly base: number;
  readonly lock: LockId; // the driver's update lock
}

/** The arguments of an mmu_notifier op: the subscription's own `arg` and the invalidated range. */
export interface NotifierOpArgs {
  readonly arg: number;
  readonly mm: MmId;
  readonly start: number;
  readonly end: number;
}

/**
 * An mmu_notifier with ops: `start`/`end` are procedures called synchronously (k.call) from
 * mmu_notifier_invalidate_range_start/end with NotifierOpArgs; they run under
 * the invalidator's locks and context. Push onto MmH.subscriptions at build time.
 */
export interface Subscription {
  readonly name: string;
  readonly start: Proc<NotifierOpArgs> | null;
  readonly end: Proc<NotifierOpArgs> | null;
  readonly arg: number;
}

/** The HMM mirrors of a model. */
export class Notifiers {
  base = 0;
  readonly mirrors: MirrorH[] = [];

  reserve(b: ModelBuilder, n: number): void {
    this.base = b.layout.add(MIRROR, n);
  }

  /** Register a mirror over base pages [start, end) of a VMA and declare its driver lock. */
  addMirror(b: ModelBuilder, name: string, mm: MmId, vma: VmaId, start: number, end: number): MirrorId {
    const id = this.mirrors.length as MirrorId;
    const lock = b.lock(`${name}.lock`, LockKind.Mutex, 'mirror_lock');
    this.mirrors.push({ id, name, mm, vma, start, end, base: this.base + id * MIRROR.stride, lock });
    return id;
  }

  slot(mi: number, f: number): number {
    return this.base + mi * MIRROR.stride + f;
  }

  mirror(id: number): MirrorH {
    return this.mirrors[id] as MirrorH;
  }
}
