/**
 * Folios: the folio pool (page allocator folios first, then the hugetlb pool) with their locks,
 * and each thread's long-term FOLL_PIN pins.
 */
import type { ModelBuilder } from '../../engine/model.js';
import { defineRegion } from '../../engine/region.js';
import { LockKind } from '../../locks/space.js';
import { MAX_PINS, MAX_THREADS } from '../defs.js';
import type { LockId } from '../ids.js';

export const FOLIO = defineRegion('folio', 'the folio pool', {
  state: 'FOLIO_FREE or FOLIO_USED',
  refcount: 'folio_ref_count',
  mapcount: 'pte/pmd mappings (each holds a reference)',
  pincount: 'FOLL_PIN pins (each also holds a reference)',
  flags: 'PG_* bits (the lock bit is the folio lock in the lock table)',
  order: 'folio_order',
  mapping: 'memfd id + 1 (file) or anon_vma id + 1 (with PG_anon)',
  index: 'page-cache index',
  data: 'what the last CPU or device write stored (coherency checks)',
});

export const PINS = defineRegion('pins', 'per thread: the folios it holds FOLL_PIN pins on', {
  folio: 'folio id + 1, 0 when the slot is free',
});

/** The folio pool and the pin slots of a model. */
export class Folios {
  base = 0;
  /** Folios [0, nNormal) come from the page allocator, [nNormal, n) from the hugetlb pool. */
  n = 0;
  nNormal = 0;
  pinBase = 0;
  readonly lock: LockId[] = [];

  reserve(b: ModelBuilder, normal: number, hugetlb: number): void {
    this.nNormal = normal;
    this.n = normal + hugetlb;
    this.base = b.layout.add(FOLIO, this.n);
  }

  reservePins(b: ModelBuilder): void {
    this.pinBase = b.layout.add(PINS, MAX_THREADS * MAX_PINS);
  }

  /** Declare each folio's lock (hugetlb folios in their own class). */
  declareLocks(b: ModelBuilder): void {
    for (let f = 0; f < this.n; f++) this.lock.push(b.lock(`folio[${f}]`, LockKind.Folio, f < this.nNormal ? 'folio_lock' : 'hugetlb_folio_lock'));
  }

  slot(f: number, field: number): number {
    return this.base + f * FOLIO.stride + field;
  }

  pinSlot(tid: number, i: number): number {
    return this.pinBase + tid * MAX_PINS + i;
  }
}
