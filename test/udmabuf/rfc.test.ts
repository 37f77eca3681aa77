/**
 * The RFC "udmabuf: Replace pages when there is FALLOC_FL_PUNCH_HOLE in memfd" and the reviewers'
 * objections, each found by DFS and its witness replayed step by step.
 */
import { describe, expect, it } from 'vitest';
import { at, clean, note, step, witness } from './helpers.js';

describe('update_mapping as posted, under the PTL, and without the mutex', () => {
  it('as posted: the pfn read without the PTL is freed by a concurrent discard before get_page', () => {
    const { f, events } = witness('udmabuf-rfc-update-mapping', 'rfc-as-posted', 'invariant');
    const m = /^use-after-free: update_udmabuf takes a reference on freed folio (\d+) \(pfn read from the page table without the PTL\)$/.exec(f.verdict.message);
    expect(m).not.toBeNull();
    const folio = (m as RegExpExecArray)[1];
    expect(f.verdict.at).toBe('update_udmabuf:replace');
    const peek = at(events, step('vmm', 'rfc_guest_write:peek'));
    const freed = at(events, note(new RegExp(`^folio ${folio} freed$`), 'balloon'), peek);
    const replace = at(events, step('vmm', 'update_udmabuf:replace'), freed);
    expect(peek).toBeGreaterThanOrEqual(0);
    expect(freed).toBeGreaterThan(peek);
    expect(replace).toBeGreaterThan(freed);
  });

  it("under the PTL: the callback's mutex sleeps in atomic context", () => {
    const { f } = witness('udmabuf-rfc-update-mapping', 'rfc-under-ptl', 'sleep-in-atomic');
    expect(f.verdict.message).toMatch(/^BUG: sleeping function called from invalid context: mutex_lock\(ub\.mn_lock\) with spinlock held \(.*qemu\.page_table_lock\)$/);
    expect(f.verdict.at).toBe('update_udmabuf:lock');
  });

  it('merged udmabuf, and the RFC under the PTL without the mutex: DFS completes clean', () => {
    clean('udmabuf-rfc-update-mapping', 'merged');
    clean('udmabuf-rfc-update-mapping', 'rfc-under-ptl-no-mutex');
  });
});

describe('a per-mm notifier for a file (Peter Xu)', () => {
  it('the RFC updates page 0 (written in its mm) and misses page 1 (written by another process)', () => {
    const { f, events } = witness('udmabuf-rfc-second-mapping', 'rfc', 'invariant');
    expect(f.verdict.message).toMatch(/^stale page: vmm read 97 from udmabuf ub page 1 \(folio 1\) via sg \(device DMA\); the guest's memory holds 98 \(memfd index 1: folio \d+\)$/);
    const updated = at(events, note(/^update_udmabuf ub page 0: folio 0 → \d+$/));
    expect(updated).toBeGreaterThanOrEqual(0);
    expect(at(events, note(/update_udmabuf ub page 1/))).toBe(-1);
    expect(at(events, note(/vmm reads 98 from ub page 0 via sg/), updated)).toBeGreaterThan(updated);
  });

  it('without the RFC page 0 is already stale', () => {
    const { f } = witness('udmabuf-rfc-second-mapping', 'merged', 'invariant');
    expect(f.verdict.message).toMatch(/^stale page: vmm read 97 from udmabuf ub page 0 \(folio 0\)/);
  });

  it("update_udmabuf drops the old page before zapping the udmabuf's mmap: a PFNMAP PTE maps a freed folio", () => {
    const { f, events } = witness('udmabuf-rfc-mmap-window', 'rfc', 'invariant');
    expect(f.verdict.message).toMatch(/^present PTE 0 of page table \d+ maps freed folio 0 \(use-after-free\)$/);
    // the replace step unpins the old folio (its last reference: it was punched out of the page
    // cache) and the invariant fails right after it, before update_udmabuf reaches its zap
    const replace = at(events, step('vmm', 'update_udmabuf:replace'));
    expect(replace).toBeGreaterThanOrEqual(0);
    expect(at(events, note(/^folio 0 freed$/), replace)).toBeGreaterThan(replace);
    expect(at(events, note(/^update_udmabuf ub page 0: folio 0 → \d+$/), replace)).toBeGreaterThan(replace);
    expect(at(events, (e) => e.k === 'call' && e.proc === 'zap_page_range_single' && e.t === 'vmm', replace)).toBe(-1);
  });
});
