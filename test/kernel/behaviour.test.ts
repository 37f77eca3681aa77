/** Behaviour the kernel has, each shown on a scenario run with its trace. */
import { describe, expect, it } from 'vitest';
import { EBUSY, EFAULT, EPERM, F_SEAL_SHRINK, FOLIO_USED, folio_pfn, pmd_table, pte_pfn, pte_present, ZERO_PFN } from '../../src/kernel/defs.js';
import { F_DATA, F_MAPCOUNT, F_MAPPING, F_PINCOUNT, F_REF, F_STATE, type Kernel, M_FALLOC_END, M_NRPAGES, M_SEALS, M_SIZE, MI_DEV, MM_INV_SEQ } from '../../src/kernel/kernel.js';
import type { World } from '../../src/engine/world.js';
import { indexOfNote, manual, model, notes, rets, serial } from './mm-helpers.js';

const pteOf = (w: World, K: Kernel, vma: number, page: number): number => {
  const vpn = K.vpn(vma, page);
  const pmd = w.get(K.pmdSlot(K.vma(vma).mm, vpn >> 2));
  return w.get(K.pteSlot(pmd_table(pmd), vpn & 3));
};
const cached = (w: World, K: Kernel, map: number, index: number): number => w.get(K.pcSlot(map, index)) - 1;
const field = (w: World, K: Kernel, f: number, fld: number): number => w.get(K.fSlot(f, fld));

describe('MM behaviour', () => {
  it('a write after a punch faults in a new folio while the pinned old folio stays alive with its pin', () => {
    const { w, K, events } = serial(model('mm-pin-punch-write'));
    expect(w.verdict).toBeNull();
    const old = w.get(K.pinSlot(0, 0)) - 1;
    expect(old).toBeGreaterThanOrEqual(0);
    // the pinned folio: alive, pinned, unmapped, out of the page cache, never written
    expect(field(w, K, old, F_STATE)).toBe(FOLIO_USED);
    expect(field(w, K, old, F_PINCOUNT)).toBe(1);
    expect(field(w, K, old, F_REF)).toBe(1);
    expect(field(w, K, old, F_MAPCOUNT)).toBe(0);
    expect(field(w, K, old, F_MAPPING)).toBe(0);
    expect(field(w, K, old, F_DATA)).not.toBe(7);
    // the write went to a new page-cache folio, now mapped at the same offset
    const buf = K.vmaNames.get('buf') as number;
    const fresh = cached(w, K, 0, 0);
    expect(fresh).toBeGreaterThanOrEqual(0);
    expect(fresh).not.toBe(old);
    expect(pte_pfn(pteOf(w, K, buf, 0))).toBe(folio_pfn(fresh));
    expect(field(w, K, fresh, F_DATA)).toBe(7);
    // in that order: pinned, removed from the cache, a new folio faulted in, the store
    const order = [/pinned folio/, /filemap_remove_folio: folio/, /new folio/, /store 7/].map((re) => indexOfNote(events, re));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('a read fault on a shmem hole allocates a page-cache folio (no shared zero page for shmem)', () => {
    const { w, K, events } = serial(model('mm-shmem-read-hole'));
    expect(w.verdict).toBeNull();
    const buf = K.vmaNames.get('buf') as number;
    const f = cached(w, K, 0, 1);
    expect(f).toBeGreaterThanOrEqual(0);
    expect(w.get(K.mapSlot(0, M_NRPAGES))).toBe(1);
    const pte = pteOf(w, K, buf, 1);
    expect(pte_present(pte)).toBe(true);
    expect(pte_pfn(pte)).not.toBe(ZERO_PFN);
    expect(pte_pfn(pte)).toBe(folio_pfn(f));
    expect(field(w, K, f, F_REF)).toBe(2); // the page cache's reference and the mapping's
    expect(field(w, K, f, F_MAPCOUNT)).toBe(1);
    expect(indexOfNote(events, /shmem_get_folio: index 1 of guest ← new folio/)).toBeGreaterThanOrEqual(0);
    expect(notes(events).filter((n) => /zero page/.test(n))).toEqual([]);
  });

  it('a punch invalidates the covering PTEs through the notifier before the folio leaves the page cache', () => {
    const { w, K, events } = serial(model('mm-hmm-vs-punch'));
    expect(w.verdict).toBeNull();
    const inv = indexOfNote(events, /gpu: invalidate \[0, 1\) seq 3, device PTEs cleared/);
    const zap = indexOfNote(events, /zap_pte_range: vpn 0 unmapped folio 0/);
    const removed = indexOfNote(events, /filemap_remove_folio: folio 0 leaves guest index 0/);
    expect(inv).toBeGreaterThan(0);
    expect(zap).toBeGreaterThan(inv);
    expect(removed).toBeGreaterThan(zap);
    // the callback ran synchronously inside the puncher's notifier call
    const start = events.findIndex((e) => e.k === 'call' && e.proc === 'mmu_notifier_invalidate_range_start' && e.t === 'cpu1');
    const cb = events.findIndex((e) => e.k === 'call' && e.proc === 'mirror_invalidate');
    const startRet = events.findIndex((e) => e.k === 'ret' && e.proc === 'mmu_notifier_invalidate_range_start' && e.t === 'cpu1');
    expect(start).toBeLessThan(cb);
    expect(cb).toBeLessThan(startRet);
    expect(events[cb]?.k === 'call' && events[cb].t).toBe('cpu1');
    expect(w.get(K.mirrorSlot(0, MI_DEV))).toBe(0);
    expect(w.get(K.mmSlot(0, MM_INV_SEQ))).toBe(4); // even again after invalidate_range_end
  });

  it('GUP-fast refuses a VM_PFNMAP mapping, the same pages pin through an ordinary mapping', () => {
    const { w, events } = serial(model('mm-gup-fast-pfnmap'));
    expect(w.verdict).toBeNull();
    expect(rets(events, 'pin_user_pages_fast')).toEqual([EFAULT, 1]);
    expect(rets(events, 'pin_user_pages')).toEqual([EFAULT]); // the slow path's check_vma_flags
    expect(indexOfNote(events, /special PTE/)).toBeGreaterThanOrEqual(0);
    const pins = notes(events).filter((n) => /: pinned folio/.test(n));
    expect(pins).toEqual(['cpu0: pinned folio 0 (pincount 1)']);
    expect(rets(events, 'unpin_user_pages')).toEqual([1]);
  });

  it('mmu_interval_read_begin waits while an invalidation is in flight, then the mirror sees the new page', () => {
    const m = manual(model('mm-hmm-vs-punch'));
    const { w, K } = m;
    const gpu = m.tid('gpu');
    // cpu1 runs its punch until the invalidation has made the sequence odd and hit the mirror
    m.run('cpu1', () => (w.get(K.mmSlot(0, MM_INV_SEQ)) & 1) === 1 && w.get(K.mirrorSlot(0, 0)) === 3);
    expect(w.where(m.tid('cpu1'))).toMatch(/^mirror_invalidate|^mmu_notifier_invalidate_range_start/);
    // the mirror thread starts: read_begin sees seq == invalidate_seq and sleeps
    m.run('gpu', () => !m.runnable(gpu));
    expect(m.runnable(gpu)).toBe(false);
    expect(w.where(gpu)).toBe('mmu_interval_read_begin:sleep');
    expect(indexOfNote(m.events, /mmu_interval_read_begin: invalidation in flight \(seq 3\), waiting/)).toBeGreaterThanOrEqual(0);
    // the punch finishes (invalidate_range_end wakes the sleeper)
    m.run('cpu1', () => false);
    expect(w.verdict).toBeNull();
    expect(m.runnable(gpu)).toBe(true);
    m.run('gpu', () => false);
    expect(w.verdict).toBeNull();
    const fresh = cached(w, K, 0, 0);
    expect(fresh).toBeGreaterThanOrEqual(0); // a new folio, faulted in by hmm_range_fault after the old one was freed
    const freed = indexOfNote(m.events, /folio 0 freed/);
    expect(freed).toBeGreaterThan(0);
    expect(indexOfNote(m.events, /shmem_get_folio: index 0 of guest ← new folio/)).toBeGreaterThan(freed);
    expect(w.get(K.mirrorSlot(0, MI_DEV))).toBe(folio_pfn(fresh));
    const wake = indexOfNote(m.events, /mmu_notifier_invalidate_range_end/);
    const programmed = indexOfNote(m.events, /device PTEs programmed/);
    expect(wake).toBeGreaterThan(0);
    expect(programmed).toBeGreaterThan(wake);
  });

  it('a fault inside a hole being punched waits for the punch (shmem_falloc_wait) and retries', () => {
    const m = manual(model('mm-shmem-fault-vs-punch'));
    const { w, K } = m;
    const cpu0 = m.tid('cpu0');
    m.run('cpu1', () => w.get(K.mapSlot(0, M_FALLOC_END)) > 0);
    m.run('cpu0', () => !m.runnable(cpu0));
    expect(w.where(cpu0)).toBe('shmem_fault:falloc_sleep');
    m.run('cpu1', () => false);
    m.run('cpu0', () => false);
    expect(w.verdict).toBeNull();
    expect(indexOfNote(m.events, /shmem_falloc_wait: index 0 is being punched, waiting/)).toBeGreaterThanOrEqual(0);
    const f = cached(w, K, 0, 0);
    expect(field(w, K, f, F_DATA)).toBe(3); // the retried write landed in the folio now cached
  });

  it('memfd seals: F_SEAL_WRITE is refused while writably mapped, F_SEAL_SHRINK then refuses a shrink', () => {
    const { w, K, events } = serial(model('mm-memfd-seals'));
    expect(w.verdict).toBeNull();
    expect(rets(events, 'memfd_create')).toEqual([0]);
    expect(rets(events, 'ftruncate')).toEqual([0, EPERM]);
    expect(rets(events, 'memfd_add_seals')).toEqual([EBUSY, 0]);
    expect(w.get(K.mapSlot(0, M_SEALS))).toBe(F_SEAL_SHRINK);
    expect(w.get(K.mapSlot(0, M_SIZE))).toBe(2);
    expect(rets(events, 'punch_hole')).toEqual([0]);
    expect(cached(w, K, 0, 1)).toBe(-1); // punched after the store
  });
});
