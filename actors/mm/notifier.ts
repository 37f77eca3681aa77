/**
 * mmu notifiers (mm/mmu_notifier.c). invalidate_range_start/end run every subscription's callback
 * synchronously in the invalidating thread (k.call), under its locks and atomic context. Interval
 * notifiers follow the kernel's sequence protocol: subscriptions->invalidate_seq is odd while an
 * invalidation that hit some interval is in flight; the callback stores that odd value in its
 * interval (mmu_interval_set_seq); mmu_interval_read_begin sleeps while the interval's seq equals
 * the current odd one; mmu_interval_read_retry compares.
 *
 * Each mirror (src/kernel MirrorH) is one mmu_interval_notifier whose ops->invalidate is the
 * hmm.rst driver callback below. Simplified: the subscriptions->lock spinlock is folded into the
 * single step that updates the sequence numbers.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { MM_ACTIVE_INV, MM_INV_SEQ, MM_WAITQ, MI_DEV, MI_SEQ, MAX_MIRROR_PAGES, kern, type Kernel } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { prepare_to_wait, WAIT_LOCALS, wake_up_all } from '../../src/kernel/waitq.js';
import type { Mem } from '../../src/kernel/kernel.js';
import type { MirrorId, MmId } from '../../src/kernel/ids.js';

/** The i-th mirror of `mm` that overlaps [start, end), counting from `from`; -1 when none. */
function nextMirror(K: Kernel, mm: number, start: number, end: number, from: number): number {
  const list = K.mm(mm).mirrors;
  for (let i = from; i < list.length; i++) {
    const mi = K.mirror(list[i] as number);
    if (mi.start < end && start < mi.end) return i;
  }
  return -1;
}

/** mm_has_notifiers: any subscription or interval notifier. */
const hasNotifiers = (K: Kernel, mm: number): boolean => K.mm(mm).mirrors.length > 0 || K.mm(mm).subscriptions.length > 0;

/** mmu_interval_read_retry: true if an invalidation hit the interval since read_begin returned `seq`. */
export function mmu_interval_read_retry(m: Mem, K: Kernel, mirror: number, seq: number): boolean {
  return m.get(K.mirrorSlot(mirror, MI_SEQ)) !== seq;
}
/** mmu_interval_check_retry (same test, used inside hmm_range_fault). */
export const mmu_interval_check_retry = mmu_interval_read_retry;

/** mmu_notifier_invalidate_range_start(range): args [mm, start vpn, end vpn]. */
export const mmu_notifier_invalidate_range_start = kproc(
  'mmu_notifier_invalidate_range_start',
  'include/linux/mmu_notifier.h: mmu_notifier_invalidate_range_start → mm/mmu_notifier.c: __mmu_notifier_invalidate_range_start',
  (a: { mm: MmId; start: number; end: number }) => ({ mm: a.mm, start: a.start, end: a.end, i: 0, seq: 0 }),
  {
    start: (k, l) => {
      const K = kern(k);
      if (!k.might_sleep('mmu_notifier_invalidate_range_start')) return ENDED;
      if (!hasNotifiers(K, l.mm)) return k.ret(0);
      k.note(() => `mmu_notifier_invalidate_range_start [${l.start}, ${l.end})`);
      // mn_itree_inv_start_range: active_invalidate_ranges++; an overlapping interval makes the seq odd
      const w = k.w;
      const mm = K.mm(l.mm);
      w.set(mm.base + MM_ACTIVE_INV, w.get(mm.base + MM_ACTIVE_INV) + 1);
      if (nextMirror(K, l.mm, l.start, l.end, 0) >= 0) w.set(mm.base + MM_INV_SEQ, w.get(mm.base + MM_INV_SEQ) | 1);
      l.seq = w.get(mm.base + MM_INV_SEQ);
      l.i = 0;
      return 'itree';
    },
    itree: (k, l) => {
      // mn_itree_invalidate: ops->invalidate(interval_sub, range, cur_seq) for each overlapping interval
      const K = kern(k);
      const i = nextMirror(K, l.mm, l.start, l.end, l.i);
      if (i < 0) {
        l.i = 0;
        return 'hlist';
      }
      l.i = i + 1;
      return k.call(mirror_invalidate, { mi: K.mm(l.mm).mirrors[i] as MirrorId, seq: l.seq, start: l.start, end: l.end }, 'itree');
    },
    hlist: (k, l) => {
      // mn_hlist_invalidate_range_start: subscription->ops->invalidate_range_start
      const subs = kern(k).mm(l.mm).subscriptions;
      while (l.i < subs.length) {
        const s = subs[l.i++];
        if (s?.start) return k.call(s.start, { arg: s.arg, mm: l.mm, start: l.start, end: l.end }, 'hlist');
      }
      return k.ret(0);
    },
  },
);

/** mmu_notifier_invalidate_range_end(range): args [mm, start vpn, end vpn]. */
export const mmu_notifier_invalidate_range_end = kproc(
  'mmu_notifier_invalidate_range_end',
  'include/linux/mmu_notifier.h: mmu_notifier_invalidate_range_end → mm/mmu_notifier.c: mn_itree_inv_end',
  (a: { mm: MmId; start: number; end: number }) => ({ mm: a.mm, start: a.start, end: a.end, i: 0 }),
  {
    inv_end: (k, l) => {
      const K = kern(k);
      if (!hasNotifiers(K, l.mm)) return k.ret(0);
      const w = k.w;
      const mm = K.mm(l.mm);
      // mn_itree_inv_end: the last active range makes invalidate_seq even again
      const active = w.get(mm.base + MM_ACTIVE_INV) - 1;
      w.set(mm.base + MM_ACTIVE_INV, active);
      const seq = w.get(mm.base + MM_INV_SEQ);
      if (active > 0 || (seq & 1) === 0) return 'hlist';
      w.set(mm.base + MM_INV_SEQ, seq + 1);
      k.note(() => `mmu_notifier_invalidate_range_end [${l.start}, ${l.end}): invalidate_seq ${seq + 1}`);
      return 'wake';
    },
    wake: (k, l) => {
      wake_up_all(k, kern(k).mm(l.mm).base + MM_WAITQ);
      return 'hlist';
    },
    hlist: (k, l) => {
      const subs = kern(k).mm(l.mm).subscriptions;
      while (l.i < subs.length) {
        const s = subs[l.i++];
        if (s?.end) return k.call(s.end, { arg: s.arg, mm: l.mm, start: l.start, end: l.end }, 'hlist');
      }
      return k.ret(0);
    },
  },
);

/**
 * The driver's mmu_interval_notifier_ops->invalidate (Documentation/mm/hmm.rst): take the driver
 * lock, mmu_interval_set_seq(cur_seq), tear down the device PTEs in the range, unlock. Args
 * [mirror, cur_seq, start vpn, end vpn]; returns true (1).
 */
export const mirror_invalidate = kproc(
  'mirror_invalidate',
  'Documentation/mm/hmm.rst: driver invalidate() → include/linux/mmu_notifier.h: mmu_interval_set_seq',
  (a: { mi: MirrorId; seq: number; start: number; end: number }) => ({ mi: a.mi, seq: a.seq, start: a.start, end: a.end }),
  {
    lock: (k, l) => (k.mutex_lock(kern(k).mirror(l.mi).lock) ? 'update' : BLOCKED),
    update: (k, l) => {
      const K = kern(k);
      const mi = K.mirror(l.mi);
      k.w.set(K.mirrorSlot(l.mi, MI_SEQ), l.seq);
      for (let i = 0; i < MAX_MIRROR_PAGES; i++) {
        const vpn = mi.start + i;
        if (vpn >= l.start && vpn < l.end && vpn < mi.end) k.w.set(K.mirrorSlot(l.mi, MI_DEV + i), 0);
      }
      k.note(() => `${mi.name}: invalidate [${l.start}, ${l.end}) seq ${l.seq}, device PTEs cleared`);
      return 'unlock';
    },
    unlock: (k, l) => (k.mutex_unlock(kern(k).mirror(l.mi).lock) ? k.ret(1) : ENDED),
  },
);

/**
 * mmu_interval_read_begin(interval_sub): args [mirror]; returns the sequence to pass to
 * read_retry. Sleeps on subscriptions->wq while an invalidation that hit this interval is running.
 */
export const mmu_interval_read_begin = kproc(
  'mmu_interval_read_begin',
  'mm/mmu_notifier.c: mmu_interval_read_begin',
  (a: { mi: MirrorId }) => ({ mi: a.mi, seq: 0, ...WAIT_LOCALS }),
  {
    begin: (k, l) => {
      const K = kern(k);
      const mm = K.mm(K.mirror(l.mi).mm);
      l.seq = k.w.get(K.mirrorSlot(l.mi, MI_SEQ));
      // is_invalidating = seq == subscriptions->invalidate_seq
      if (l.seq !== k.w.get(mm.base + MM_INV_SEQ)) return k.ret(l.seq);
      k.note(() => `mmu_interval_read_begin: invalidation in flight (seq ${l.seq}), waiting`);
      return 'wait';
    },
    wait: (k, l) => {
      // wait_event(subscriptions->wq, READ_ONCE(subscriptions->invalidate_seq) != seq)
      const K = kern(k);
      const mm = K.mm(K.mirror(l.mi).mm);
      if (k.w.get(mm.base + MM_INV_SEQ) !== l.seq) return k.ret(l.seq);
      prepare_to_wait(k, mm.base + MM_WAITQ);
      return 'sleep';
    },
    sleep: (k, l) => (k.recv(l) ? 'wait' : BLOCKED),
  },
);
