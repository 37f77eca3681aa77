/**
 * What the thread proposed instead of update_mapping: udmabuf subscribes to invalidations (an
 * mmu_notifier on the VMM's mm, called synchronously from mmu_notifier_invalidate_range_start in
 * the invalidating thread, under its locks) and then either
 *
 * - `move_notify`: tells the importers through dma_buf_move_notify, which must run with the
 *   dma-buf's resv held (Christian König / Daniel Vetter). Taking the resv here nests it inside
 *   i_mmap_rwsem on the hole-punch path, against dma_resv_lockdep's mmap_lock → dma_resv →
 *   i_mmap_rwsem order; not taking it (`move_notify_without_resv`) trips dma_resv_assert_held.
 *   "Trying to pull off what you're trying to do with udmabuf either races or deadlocks."
 * - `hmm`: re-resolves its pages with hmm_range_fault from inside the callback (Kasireddy's
 *   experiment). The callback runs while the interval's sequence is odd (mn_itree_inv_start_range)
 *   and mn_itree_inv_end only runs after every callback returned: mmu_interval_read_begin sleeps
 *   forever on the punching or zapping thread itself; and the callback needs mmap_lock, which the
 *   hole-punch path (i_mmap_rwsem held) may not take. Documentation/mm/hmm.rst's pattern runs
 *   read_begin / hmm_range_fault / read_retry outside the callback (actors/mm/hmm.ts).
 *
 * Simplified: the subscription is registered at build time (by the scenario's `notifier:`) and does
 * nothing until the udmabuf is exported; the hmm kind reads the mirror over the VMM's guest-RAM
 * VMA (declared with `mirror:`).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { EBUSY } from '../../src/kernel/defs.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { UB_EXPORTED, UB_STATE, udmabufs } from '../../src/kernel/udmabuf.js';
import { heldIndex } from '../../src/locks/lock.js';
import { READ, WRITE } from '../../src/locks/space.js';
import { hmm_range_fault } from '../mm/hmm.js';
import { mmu_interval_read_begin } from '../mm/notifier.js';
import { dma_buf_move_notify } from './dma-buf.js';
import { NO_MIRROR } from '../../src/kernel/ids.js';
import type { NotifierOpArgs } from '../../src/kernel/sys/notifier.js';

/** ops->invalidate_range_start of a move_notify udmabuf: args [ub, mm, start, end]. */
export const udmabuf_invalidate_move = kproc(
  'udmabuf_invalidate_move',
  'proposed in the RFC thread: udmabuf invalidate_range_start → drivers/dma-buf/dma-buf.c: dma_buf_move_notify',
  (a: NotifierOpArgs) => ({ ub: a.arg, mm: a.mm }),
  {
    start: (k, l) => {
      if (k.w.get(udmabufs(k).slot(l.ub, UB_STATE)) !== UB_EXPORTED) return k.ret(0);
      return k.sw('move_notify_without_resv') ? k.call(dma_buf_move_notify, { ub: l.ub }, 'done') : 'lock';
    },
    lock: (k, l) => (k.ww_mutex_lock(udmabufs(k).ub(l.ub).resv) === true ? 'notify' : BLOCKED),
    notify: (k, l) => k.call(dma_buf_move_notify, { ub: l.ub }, 'unlock'),
    unlock: (k, l) => (k.mutex_unlock(udmabufs(k).ub(l.ub).resv) ? k.ret(0) : ENDED),
    done: (k) => k.ret(0),
  },
);

/** ops->invalidate_range_start of an hmm udmabuf: args [ub, mm, start, end]; hmm_range_fault inside the callback. */
export const udmabuf_invalidate_hmm = kproc(
  'udmabuf_invalidate_hmm',
  "the RFC thread's experiment: hmm_range_fault from the invalidate callback (mm/mmu_notifier.c: mmu_interval_read_begin, mm/hmm.c: hmm_range_fault)",
  (a: NotifierOpArgs) => ({ ub: a.arg, mm: a.mm, mi: NO_MIRROR, seq: 0, took: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (k.w.get(udmabufs(k).slot(l.ub, UB_STATE)) !== UB_EXPORTED || k.sw('udmabuf_hmm_documented')) return k.ret(0);
      l.mi = K.mm(l.mm).mirrors[0] ?? NO_MIRROR;
      if (l.mi < 0) return k.ret(0);
      // hmm_range_fault needs mmap_lock (mmap_assert_locked): take it unless this path holds it
      const lock = K.mm(l.mm).mmap_lock;
      const held = heldIndex(k.w, k.tid, lock, READ) >= 0 || heldIndex(k.w, k.tid, lock, WRITE) >= 0;
      return held ? 'begin' : 'lock';
    },
    lock: (k, l) => {
      if (!k.down_read(kern(k).mm(l.mm).mmap_lock)) return BLOCKED;
      l.took = 1;
      return 'begin';
    },
    begin: (k, l) => k.call(mmu_interval_read_begin, { mi: l.mi }, 'fault'),
    fault: (k, l) => {
      l.seq = k.rv;
      return k.call(hmm_range_fault, { mi: l.mi, seq: l.seq, write: 0 }, 'faulted');
    },
    faulted: (k, l) => {
      if (k.rv === EBUSY) return 'begin';
      return l.took ? 'unlock' : k.ret(0);
    },
    unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(0) : ENDED),
  },
);
