/**
 * The alternatives the RFC thread discussed: dma_buf_move_notify from an invalidation notifier
 * ("either races or deadlocks") and hmm_range_fault from inside the invalidate callback.
 */
import { describe, expect, it } from 'vitest';
import { at, clean, note, step, witness } from './helpers.js';

describe('move_notify from the notifier', () => {
  it('with the resv: dma_resv nests inside i_mmap_rwsem on the punch path (dma_resv_lockdep order)', () => {
    const { f, r, events } = witness('udmabuf-move-notify', 'with-resv', 'potential-deadlock');
    expect(f.verdict.message).toMatch(/^lock order violation: dma_resv taken while holding i_mmap_rwsem; dma_resv ww_mutex \(drivers\/dma-buf\/dma-resv\.c: dma_resv_lockdep/);
    expect(f.verdict.message).toMatch(/vmm takes ub\.resv at udmabuf_invalidate_move:lock while holding guest\.i_mmap_rwsem/);
    expect(r.graph.violations.map((v) => v.message)).toContain(f.verdict.message);
    const start = at(events, (e) => e.k === 'call' && e.proc === 'mmu_notifier_invalidate_range_start');
    // unmap_mapping_range takes i_mmap_lock_read before walking the VMAs whose notifier fires.
    const iMmap = at(events, step('vmm', 'unmap_mapping_range:lock'));
    expect(iMmap).toBeGreaterThanOrEqual(0);
    expect(start).toBeGreaterThan(iMmap);
  });

  it('without the resv: dma_buf_move_notify trips dma_resv_assert_held', () => {
    const { f } = witness('udmabuf-move-notify', 'without-resv', 'warn');
    expect(f.verdict.message).toBe('WARNING at dma_buf_move_notify:notify: WARN_ON(lockdep_assert_held(&ub.resv) in dma_buf_move_notify)');
  });

  it('an importer faulting on user memory under the resv takes mmap_lock inside dma_resv', () => {
    const { f } = witness('udmabuf-move-notify', 'importer-uaccess-under-resv', 'potential-deadlock');
    expect(f.verdict.message).toMatch(/^lock order violation: mmap_lock taken while holding dma_resv; .*dma_resv_lockdep: mmap_lock → dma_resv → i_mmap_rwsem\)/);
    expect(f.verdict.message).toMatch(/gpu takes qemu\.mmap_lock at dma_buf_map:uaccess while holding ub\.resv/);
  });

  it('with RAM discard disabled the notifier never fires: DFS clean', () => {
    clean('udmabuf-move-notify', 'discard-disabled');
  });
});

describe('hmm_range_fault inside the invalidate callback', () => {
  it('from MADV_DONTNEED: mmu_interval_read_begin waits for its own invalidation to end (self-deadlock)', () => {
    const { f, events } = witness('udmabuf-hmm-callback', 'in-callback', 'deadlock');
    expect(f.verdict.message).toMatch(/vmm waits for a message/);
    const cb = at(events, step('vmm', 'udmabuf_invalidate_hmm:begin'));
    expect(cb).toBeGreaterThanOrEqual(0);
    expect(at(events, note(/^mmu_interval_read_begin: invalidation in flight \(seq \d+\), waiting$/, 'vmm'), cb)).toBeGreaterThan(cb);
    expect(at(events, (e) => e.k === 'call' && e.proc === 'mmu_notifier_invalidate_range_end' && e.t === 'vmm', cb)).toBe(-1);
  });

  it('from a hole punch: the callback takes mmap_lock under i_mmap_rwsem', () => {
    const { f } = witness('udmabuf-hmm-callback', 'in-callback', 'potential-deadlock');
    expect(f.verdict.message).toMatch(/^lock order violation: mmap_lock taken while holding i_mmap_rwsem/);
    expect(f.verdict.message).toMatch(/balloon takes qemu\.mmap_lock at udmabuf_invalidate_hmm:lock while holding guest\.i_mmap_rwsem/);
  });

  it('the documented pattern (hmm_range_fault outside the callback) completes clean', () => {
    clean('udmabuf-hmm-callback', 'documented');
  }, 60_000);
});
