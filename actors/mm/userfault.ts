/**
 * handle_userfault (fs/userfaultfd.c): queue the fault for the userfaultfd reader, drop the
 * mmap_lock (release_fault_lock), sleep until a UFFDIO_* ioctl wakes the range, return
 * VM_FAULT_RETRY. Without FAULT_FLAG_ALLOW_RETRY the fault fails with VM_FAULT_SIGBUS.
 * Simplified: one fault queue per mm (MM_UFFD_WQ, MM_UFFD_FAULT); any wake wakes all sleepers.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import type { Ctx } from '../../src/engine/ctx.js';
import { FAULT_FLAG_ALLOW_RETRY, pmd_is_table, pmd_none, pmd_table, pte_none, VM_FAULT_RETRY, VM_FAULT_SIGBUS } from '../../src/kernel/defs.js';
import { pmd_index, pmdp_get, pte_index } from '../../src/kernel/pgtable.js';
import { type Kernel, kern, MM_UFFD_FAULT, MM_UFFD_WQ } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { prepare_to_wait, WAIT_LOCALS, wake_up_all } from '../../src/kernel/waitq.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

/** handle_userfault: args [mm, vma, vpn, fault flags]; the caller holds mmap_lock for read. */
export const handle_userfault = kproc(
  'handle_userfault',
  'fs/userfaultfd.c: handle_userfault',
  (a: { mm: MmId; vma: VmaId; vpn: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, flags: a.flags, wait: 1, ...WAIT_LOCALS }),
  {
    queue: (k, l) => {
      if (!(l.flags & FAULT_FLAG_ALLOW_RETRY)) return k.ret(VM_FAULT_SIGBUS);
      const K = kern(k);
      const mm = K.mm(l.mm);
      // userfaultfd_must_wait after __add_wait_queue (one step with the queueing, the waitq idiom):
      // an ioctl that filled the PTE before we queued must not leave us asleep (lost wake-up)
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      l.wait = pmd_none(v) || (pmd_is_table(v) && pte_none(k.w.get(K.pteSlot(pmd_table(v), pte_index(l.vpn))))) ? 1 : 0;
      if (!l.wait) {
        k.note(() => `handle_userfault: vpn ${l.vpn} already resolved (userfaultfd_must_wait false), retry`);
        return 'release';
      }
      k.w.set(mm.base + MM_UFFD_FAULT, l.vpn + 1);
      prepare_to_wait(k, mm.base + MM_UFFD_WQ);
      k.note(() => `handle_userfault: vpn ${l.vpn} queued to userfaultfd`);
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
