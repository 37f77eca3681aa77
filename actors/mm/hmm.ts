/**
 * HMM (mm/hmm.c, Documentation/mm/hmm.rst): hmm_range_fault walks the mirror's range under the
 * caller's mmap_lock, faulting in what is missing, and fails with -EBUSY whenever the interval
 * notifier saw an invalidation since mmu_interval_read_begin. hmm_mirror_update is the driver's
 * usage pattern from hmm.rst: read_begin, mmap_read_lock, hmm_range_fault (-EBUSY → again),
 * mmap_read_unlock, driver lock, mmu_interval_read_retry (→ again), program the device PTEs.
 * Simplified: the walk reads each pmd and PTE as hmm_vma_walk_pmd does (pte_offset_map, no PTL);
 * HMM_PFN_REQ_FAULT is set for every page (write per the request).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  EBUSY,
  EFAULT,
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  huge_pmd_pfn,
  pmd_table,
  pmd_trans_huge,
  pte_pfn,
  pte_present,
  pte_write,
  VM_FAULT_ERROR,
} from '../../src/kernel/defs.js';
import { kern, MI_DEV, MI_PFNS } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, pte_offset_map, pte_unmap, ptep_get } from '../../src/kernel/pgtable.js';
import { handle_mm_fault } from './fault.js';
import { mmu_interval_check_retry, mmu_interval_read_begin, mmu_interval_read_retry } from './notifier.js';
import { type MirrorId, NO_TABLE } from '../../src/kernel/ids.js';

/** hmm_range_fault(range): args [mirror, notifier_seq, write]; 0, -EBUSY or -EFAULT. Needs mmap_lock held. */
export const hmm_range_fault = kproc(
  'hmm_range_fault',
  'mm/hmm.c: hmm_range_fault → hmm_vma_walk_pmd → hmm_vma_handle_pte / hmm_vma_fault',
  (a: { mi: MirrorId; seq: number; write: number }) => ({ mi: a.mi, seq: a.seq, write: a.write, vpn: -1, t: NO_TABLE }),
  {
    again: (k, l) => {
      const K = kern(k);
      const mi = K.mirror(l.mi);
      if (l.vpn < 0) l.vpn = mi.start;
      if (l.vpn >= mi.end) return k.ret(0);
      if (mmu_interval_check_retry(k.w, K, l.mi, l.seq)) return k.ret(EBUSY);
      return 'pmd';
    },
    pmd: (k, l) => {
      const K = kern(k);
      const mi = K.mirror(l.mi);
      const v = pmdp_get(k.w, K, mi.mm, pmd_index(l.vpn)); // pmdp_get_lockless
      if (pmd_trans_huge(v)) {
        if (l.write && !pte_write(v)) return 'fault';
        k.w.set(K.mirrorSlot(l.mi, MI_PFNS + l.vpn - mi.start), huge_pmd_pfn(v, pte_index(l.vpn)));
        l.vpn++;
        return 'again';
      }
      const pv = pte_offset_map(k, K, mi.mm, pmd_index(l.vpn));
      if (!pv) return 'fault'; // hole: hmm_vma_walk_hole → fault
      l.t = pmd_table(pv);
      return 'pte';
    },
    pte: (k, l) => {
      const K = kern(k);
      const mi = K.mirror(l.mi);
      const pte = ptep_get(k, K, l.t, pte_index(l.vpn));
      pte_unmap(k, K);
      if (!pte_present(pte) || (l.write && !pte_write(pte))) return 'fault'; // hmm_pte_need_fault
      k.w.set(K.mirrorSlot(l.mi, MI_PFNS + l.vpn - mi.start), pte_pfn(pte));
      l.vpn++;
      return 'again';
    },
    fault: (k, l) => {
      // hmm_vma_fault: handle_mm_fault without FAULT_FLAG_ALLOW_RETRY, then -EBUSY restarts the walk here
      const K = kern(k);
      const mi = K.mirror(l.mi);
      return k.call(handle_mm_fault, { mm: mi.mm, vma: mi.vma, vpn: l.vpn, flags: FAULT_FLAG_REMOTE | (l.write ? FAULT_FLAG_WRITE : 0) }, 'faulted');
    },
    faulted: (k) => (k.rv & VM_FAULT_ERROR ? k.ret(EFAULT) : 'again'),
  },
);

/** The driver side of hmm.rst: mirror the range into the device page table. Args [mirror, write]; 0 or -errno. */
export const hmm_mirror_update = kproc(
  'hmm_mirror_update',
  'Documentation/mm/hmm.rst: driver_populate_range (read_begin, hmm_range_fault, read_retry under the driver lock)',
  (a: { mi: MirrorId; write: number }) => ({ mi: a.mi, write: a.write, seq: 0 }),
  {
    again: (k, l) => k.call(mmu_interval_read_begin, { mi: l.mi }, 'got_seq'),
    got_seq: (k, l) => {
      l.seq = k.rv;
      return 'mmap_lock';
    },
    mmap_lock: (k, l) => {
      const K = kern(k);
      return k.down_read(K.mm(K.mirror(l.mi).mm).mmap_lock) ? 'fault' : BLOCKED;
    },
    fault: (k, l) => k.call(hmm_range_fault, { mi: l.mi, seq: l.seq, write: l.write }, 'faulted'),
    faulted: (k, l) => {
      const K = kern(k);
      if (!k.up_read(K.mm(K.mirror(l.mi).mm).mmap_lock)) return ENDED;
      if (k.rv === EBUSY) return 'again';
      if (k.rv < 0) return k.ret(k.rv);
      return 'lock';
    },
    lock: (k, l) => (k.mutex_lock(kern(k).mirror(l.mi).lock) ? 'retry_check' : BLOCKED),
    retry_check: (k, l) => {
      if (k.sw('bug_hmm_skip_read_retry')) return 'program'; // variant: no read_retry
      return mmu_interval_read_retry(k.w, kern(k), l.mi, l.seq) ? 'unlock_again' : 'program';
    },
    unlock_again: (k, l) => (k.mutex_unlock(kern(k).mirror(l.mi).lock) ? 'again' : ENDED),
    program: (k, l) => {
      const K = kern(k);
      const mi = K.mirror(l.mi);
      for (let i = 0; i < mi.end - mi.start; i++) k.w.set(K.mirrorSlot(l.mi, MI_DEV + i), k.w.get(K.mirrorSlot(l.mi, MI_PFNS + i)));
      k.note(() => `${mi.name}: device PTEs programmed (seq ${l.seq})`);
      return 'unlock';
    },
    unlock: (k, l) => (k.mutex_unlock(kern(k).mirror(l.mi).lock) ? k.ret(0) : ENDED),
  },
);
