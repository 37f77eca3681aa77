/**
 * The user fault under a per-VMA read lock (CONFIG_PER_VMA_LOCK, v6.4/v6.5 x86): arch/x86/mm/fault.c:
 * do_user_addr_fault tries lock_vma_under_rcu first, runs handle_mm_fault(FAULT_FLAG_VMA_LOCK) under
 * the VMA read lock, vma_end_read, and falls back to the mmap_lock path (lock_mmap:) when the VMA
 * cannot be read-locked. mm/memory.c: lock_vma_under_rcu (v6.4): mas_walk; "Only anonymous vmas are
 * supported for now"; the anon_vma check ("find_mergeable_anon_vma uses adjacent vmas which are not
 * locked"); vma_start_read (include/linux/mm.h: refused while vm_lock_seq == mm_lock_seq, i.e. a
 * writer holds the VMA, or when down_read_trylock(&vma->vm_lock->lock) fails); userfaultfd_armed →
 * fall back; the address range check; a detached VMA → vma_end_read, retry the lookup.
 *
 * Switch `lock_vma_check_anon_vma_under_lock` ("mm: lock_vma_under_rcu() must check vma->anon_vma
 * under vma lock", 657b5146955e, v6.5-rc): the anon_vma check after vma_start_read; off: v6.4, before
 * it (a concurrent mremap(MREMAP_DONTUNMAP) can dissociate the VMA from its anon_vma in between).
 *
 * Simplified: only anonymous VMAs take the VMA-lock path (v6.4/v6.5; file VMAs, vmf_can_call_fault
 * and the VM_FAULT_RETRY / VM_FAULT_COMPLETED handovers of v6.6+ are not modelled), so no handler
 * reachable under the VMA lock returns VM_FAULT_RETRY (handle_userfault is excluded by the
 * userfaultfd_armed check; do_anonymous_page always finds an anon_vma): a RETRY here is a `warn`.
 * The maple-tree walk is one step (the VMA's attached bit); mm_lock_seq is VMA_WRITE_LOCKED.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { ENDED, type JUMPED } from '../../src/engine/proc.js';
import { EFAULT, FAULT_FLAG_VMA_LOCK, FAULT_FLAG_WRITE, VM_FAULT_ERROR, VM_FAULT_RETRY, VM_WRITE } from '../../src/kernel/defs.js';
import { kern, VMA_ANON_VMA, VMA_WRITE_LOCKED } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { userfaultfd_armed } from '../uffd/common.js';
import { vm_flags, vma_attached } from './common.js';
import { handle_mm_fault } from './fault.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

/** What do_user_addr_fault_vma returns: handled (retry the access), or go to lock_mmap. */
export const VMA_FAULT_DONE = 0;
export const VMA_FAULT_LOCK_MMAP = 1;

const CHECK_UNDER_LOCK = 'lock_vma_check_anon_vma_under_lock';

/**
 * The per-VMA-lock half of do_user_addr_fault: args [mm, vma, vpn, write]; VMA_FAULT_DONE,
 * VMA_FAULT_LOCK_MMAP (the caller takes mmap_lock and faults as before), or -EFAULT (SIGBUS).
 */
export const do_user_addr_fault_vma = kproc(
  'do_user_addr_fault_vma',
  'arch/x86/mm/fault.c: do_user_addr_fault → mm/memory.c: lock_vma_under_rcu, handle_mm_fault(FAULT_FLAG_VMA_LOCK)',
  (a: { mm: MmId; vma: VmaId; vpn: number; write: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, write: a.write }),
  {
    // lock_vma_under_rcu: retry: vma = mas_walk(&mas) under rcu_read_lock
    lookup: (k, l) => {
      const K = kern(k);
      if (!vma_attached(k.w, K, l.vma)) return inval(k, l.vpn, 'no VMA');
      if (K.vma(l.vma).memfd >= 0) return inval(k, l.vpn, 'not anonymous'); // "Only anonymous vmas are supported for now"
      // v6.4: "find_mergeable_anon_vma uses adjacent vmas which are not locked", checked before the lock
      if (!k.sw(CHECK_UNDER_LOCK) && !k.w.get(K.vmaSlot(l.vma, VMA_ANON_VMA))) return inval(k, l.vpn, 'no anon_vma');
      return 'start_read';
    },
    // vma_start_read: vm_lock_seq == mm_lock_seq → false; down_read_trylock(&vma->vm_lock->lock) == 0 → false
    start_read: (k, l) => {
      const K = kern(k);
      if (k.w.get(K.vmaSlot(l.vma, VMA_WRITE_LOCKED))) return inval(k, l.vpn, 'vma_start_read: write-locked (vm_lock_seq == mm_lock_seq)');
      if (!k.down_read_trylock(K.vma(l.vma).vma_lock)) return inval(k, l.vpn, 'vma_start_read: down_read_trylock failed');
      return 'locked';
    },
    locked: (k, l) => {
      const K = kern(k);
      // 657b5146955e: "This check must happen after vma_start_read(); otherwise, a concurrent
      // mremap() with MREMAP_DONTUNMAP could dissociate the VMA from its anon_vma."
      if (k.sw(CHECK_UNDER_LOCK) && !k.w.get(K.vmaSlot(l.vma, VMA_ANON_VMA))) return end_read_inval(k, l, 'no anon_vma');
      // "Due to the possibility of userfault handler dropping mmap_lock, avoid it for now"
      if (userfaultfd_armed(k.w, K, l.vma)) return end_read_inval(k, l, 'userfaultfd_armed');
      // "Check if the VMA got isolated after we found it": vma_end_read, goto retry
      if (!vma_attached(k.w, K, l.vma)) return k.up_read(K.vma(l.vma).vma_lock) ? 'lookup' : ENDED;
      // do_user_addr_fault: access_error → vma_end_read, goto lock_mmap
      if (l.write && !(vm_flags(k.w, K, l.vma) & VM_WRITE)) return end_read_inval(k, l, 'access_error');
      k.note(() => `lock_vma_under_rcu: vpn ${l.vpn} VMA read-locked, handle_mm_fault(FAULT_FLAG_VMA_LOCK)`);
      const flags = FAULT_FLAG_VMA_LOCK | (l.write ? FAULT_FLAG_WRITE : 0);
      return k.call(handle_mm_fault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags }, 'faulted');
    },
    faulted: (k, l) => {
      const r = k.rv;
      if (k.WARN_ON((r & VM_FAULT_RETRY) !== 0, 'VM_FAULT_RETRY from a handler under the VMA lock (not modelled in v6.4)')) return ENDED;
      if (!k.up_read(kern(k).vma(l.vma).vma_lock)) return ENDED; // vma_end_read
      if (r & VM_FAULT_ERROR) {
        k.note(() => `SIGBUS at vpn ${l.vpn}`); // done: mm_fault_error
        return k.ret(EFAULT);
      }
      return k.ret(VMA_FAULT_DONE);
    },
  },
);

/** inval: count_vm_vma_lock_event(VMA_LOCK_ABORT), return NULL: the caller goes to lock_mmap. */
function inval(k: Ctx, vpn: number, why: string): typeof JUMPED {
  k.note(() => `lock_vma_under_rcu: vpn ${vpn}: ${why}, fall back to mmap_lock`);
  return k.ret(VMA_FAULT_LOCK_MMAP);
}

/** inval_end_read: vma_end_read, then inval. */
function end_read_inval(k: Ctx, l: { vma: number; vpn: number }, why: string): typeof JUMPED | typeof ENDED {
  if (!k.up_read(kern(k).vma(l.vma).vma_lock)) return ENDED;
  return inval(k, l.vpn, why);
}
