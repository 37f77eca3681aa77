/**
 * handle_userfault (fs/userfaultfd.c): queue the fault for the userfaultfd reader, drop the
 * mmap_lock (release_fault_lock), sleep until a UFFDIO_* ioctl wakes the range, return
 * VM_FAULT_RETRY. Without FAULT_FLAG_ALLOW_RETRY the fault fails with VM_FAULT_SIGBUS. The reason
 * (VM_UFFD_MISSING, VM_UFFD_MINOR or VM_UFFD_WP) decides userfaultfd_must_wait's recheck (v6.x):
 * wait if the PTE is none or a marker (pte_none_mostly), or, for a WP fault, not writable; a huge
 * pmd waits only for a WP fault on a read-only pmd.
 * Simplified: one fault queue per mm (MM_UFFD_WQ, MM_UFFD_FAULT); any wake wakes all sleepers;
 * no userspace reader (a fault is resolved by the scenario's UFFDIO_* operations).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import type { Ctx } from '../../src/engine/ctx.js';
import { FAULT_FLAG_ALLOW_RETRY, pmd_is_table, pmd_none, pmd_table, pmd_trans_huge, pte_write, VM_FAULT_RETRY, VM_FAULT_SIGBUS, VM_UFFD_MISSING, VM_UFFD_WP } from '../../src/kernel/defs.js';
import { pte_none_mostly } from '../../src/kernel/pte-marker.js';
import { pmd_index, pmdp_get, pte_index } from '../../src/kernel/pgtable.js';
import { type Kernel, kern, MM_UFFD_FAULT, MM_UFFD_WQ } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { prepare_to_wait, WAIT_LOCALS, wake_up_all } from '../../src/kernel/waitq.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

/**
 * userfaultfd_must_wait (fs/userfaultfd.c, v6.x): a lockless read of the pmd and the PTE. A none
 * pmd waits; a migration pmd does not; a huge pmd waits for a WP fault if read-only; a PTE waits
 * if pte_none_mostly, or for a WP fault if !pte_write. For a hugetlb VMA this stands for
 * userfaultfd_huge_must_wait (the huge PTE is the pmd here: none → wait, WP and read-only → wait;
 * hugetlb markers are not modelled).
 */
function userfaultfd_must_wait(k: Ctx, K: Kernel, mm: number, vpn: number, reason: number): boolean {
  const v = pmdp_get(k.w, K, mm, pmd_index(vpn));
  if (pmd_none(v)) return true;
  if (pmd_trans_huge(v)) return (reason & VM_UFFD_WP) !== 0 && !pte_write(v);
  if (!pmd_is_table(v)) return false;
  const pte = k.w.get(K.pteSlot(pmd_table(v), pte_index(vpn)));
  return pte_none_mostly(pte) || ((reason & VM_UFFD_WP) !== 0 && !pte_write(pte));
}

/**
 * handle_userfault: args [mm, vma, vpn, fault flags, reason (VM_UFFD_MISSING default, VM_UFFD_MINOR,
 * VM_UFFD_WP)]; the caller holds mmap_lock for read.
 */
export const handle_userfault = kproc(
  'handle_userfault',
  'fs/userfaultfd.c: handle_userfault',
  (a: { mm: MmId; vma: VmaId; vpn: number; flags: number; reason?: number }) => ({
    mm: a.mm,
    vma: a.vma,
    vpn: a.vpn,
    flags: a.flags,
    reason: a.reason ?? VM_UFFD_MISSING,
    wait: 1,
    ...WAIT_LOCALS,
  }),
  {
    queue: (k, l) => {
      if (!(l.flags & FAULT_FLAG_ALLOW_RETRY)) return k.ret(VM_FAULT_SIGBUS);
      const K = kern(k);
      const mm = K.mm(l.mm);
      // userfaultfd_must_wait after __add_wait_queue (one step with the queueing, the waitq idiom):
      // an ioctl that resolved the fault before we queued must not leave us asleep (lost wake-up)
      l.wait = userfaultfd_must_wait(k, K, l.mm, l.vpn, l.reason) ? 1 : 0;
      if (!l.wait) {
        k.note(() => `handle_userfault: vpn ${l.vpn} already resolved (userfaultfd_must_wait false), retry`);
        return 'release';
      }
      k.w.set(mm.base + MM_UFFD_FAULT, l.vpn + 1);
      prepare_to_wait(k, mm.base + MM_UFFD_WQ);
      k.note(() => `handle_userfault: vpn ${l.vpn} queued to userfaultfd${l.reason & VM_UFFD_WP ? ' (WP)' : ''}`);
      return 'release';
    },
    release: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? (l.wait ? 'sleep' : k.ret(VM_FAULT_RETRY)) : ENDED),
    sleep: (k, l) => (k.recv(l) ? k.ret(VM_FAULT_RETRY) : BLOCKED),
  },
);

/** wake_userfault: wake the threads sleeping in handle_userfault on `mm` (UFFDIO_* without DONTWAKE). */
export function wake_userfault(k: Ctx, K: Kernel, mm: number): void {
  k.w.set(K.mm(mm).base + MM_UFFD_FAULT, 0);
  wake_up_all(k, K.mm(mm).base + MM_UFFD_WQ);
}
