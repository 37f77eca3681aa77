/**
 * A user-space load or store through a mapping. The MMU walk (pmd, then pte) and the access are one
 * step: the walk is atomic with respect to page-table freeing and TLB shootdown (the zapper frees
 * folios only after its flush). A miss or a write to a read-only PTE faults: arch fault handler →
 * mmap_read_lock → find_vma / access check → handle_mm_fault, then the instruction is retried.
 * With `vl` or the switch `per_vma_lock` (CONFIG_PER_VMA_LOCK, x86 v6.4+) the fault first tries the per-VMA read lock
 * (do_user_addr_fault_vma, vma-fault.ts) and takes mmap_lock only when that falls back (lock_mmap:).
 * Simplified: no TLB; a store writes `value` into the folio's data word (what a later reader or
 * importer would see).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  EFAULT,
  FAULT_FLAG_ALLOW_RETRY,
  FAULT_FLAG_WRITE,
  huge_pmd_pfn,
  is_zero_pfn,
  pfn_folio,
  pmd_is_table,
  pmd_table,
  pmd_trans_huge,
  pte_pfn,
  pte_present,
  pte_write,
  VM_FAULT_ERROR,
  VM_FAULT_RETRY,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import { folio_data, folio_write_data } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index } from '../../src/kernel/pgtable.js';
import { vm_flags, vma_attached } from './common.js';
import { handle_mm_fault } from './fault.js';
import { FAULT_FLAG_AROUND } from './filemap.js';
import { do_user_addr_fault_vma, VMA_FAULT_LOCK_MMAP } from './vma-fault.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

/** CONFIG_PER_VMA_LOCK for every user fault of the scenario (the op field `vma_lock` does it for one access). */
const PER_VMA_LOCK = 'per_vma_lock';

/**
 * cpu_access: args [mm, vma, page, write, value, and optionally vl: a per-VMA-lock fault first,
 * around: fault with FAULT_FLAG_AROUND (filemap.ts)]; returns 0, or -EFAULT (SIGSEGV/SIGBUS delivered).
 */
export const cpu_access = kproc(
  'cpu_access',
  'arch/x86/mm/fault.c: do_user_addr_fault → mm/memory.c: handle_mm_fault (user load/store)',
  (a: { mm: MmId; vma: VmaId; page: number; write: number; value: number; vl?: number; around?: number }) => ({
    mm: a.mm,
    vma: a.vma,
    vpn: 0,
    write: a.write,
    value: a.value,
    page: a.page,
    vl: a.vl ?? 0,
    around: a.around ? FAULT_FLAG_AROUND : 0,
  }),
  {
    walk: (k, l) => {
      const K = kern(k);
      const m = k.w;
      l.vpn = K.vpn(l.vma, l.page);
      const v = pmdp_get(m, K, l.mm, pmd_index(l.vpn));
      // a huge pmd maps the sub-page pfn + pte_index; a table maps through its PTE
      const huge = pmd_trans_huge(v);
      const pte = huge ? v : pmd_is_table(v) ? m.get(K.pteSlot(pmd_table(v), pte_index(l.vpn))) : 0;
      if (!huge && !pte_present(pte)) return 'fault';
      if (l.write && !pte_write(pte)) return 'fault';
      const pfn = huge ? huge_pmd_pfn(v, pte_index(l.vpn)) : pte_pfn(pte);
      if (is_zero_pfn(pfn)) {
        k.note(() => `load vpn ${l.vpn}: zero page`);
        return k.ret(0);
      }
      const f = pfn_folio(pfn);
      if (l.write) folio_write_data(m, K, f, l.value);
      k.note(() => `${l.write ? `store ${l.value} to` : `load ${folio_data(m, K, f)} from`} vpn ${l.vpn}: folio ${f}`);
      return k.ret(0);
    },
    fault: (k, l) => {
      if (l.vl || k.sw(PER_VMA_LOCK)) return k.call(do_user_addr_fault_vma, { mm: l.mm, vma: l.vma, vpn: l.vpn, write: l.write }, 'vma_faulted');
      return k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'check' : BLOCKED;
    },
    vma_faulted: (k) => (k.rv === VMA_FAULT_LOCK_MMAP ? 'lock_mmap' : k.rv < 0 ? k.ret(EFAULT) : 'walk'),
    // lock_mmap: mmap_read_lock, then find_vma and handle_mm_fault as without per-VMA locks
    lock_mmap: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      // find_vma + access_error
      if (!vma_attached(k.w, K, l.vma) || (l.write && !(vm_flags(k.w, K, l.vma) & VM_WRITE))) return 'segv';
      const flags = FAULT_FLAG_ALLOW_RETRY | (l.write ? FAULT_FLAG_WRITE : 0) | l.around;
      return k.call(handle_mm_fault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: flags }, 'faulted');
    },
    faulted: (k) => {
      const r = k.rv;
      if (r & VM_FAULT_RETRY) return 'walk'; // mmap_lock already released
      if (r & VM_FAULT_ERROR) return 'sigbus';
      return 'unlock';
    },
    unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'walk' : ENDED),
    segv: (k, l) => {
      k.note(() => `SIGSEGV at vpn ${l.vpn}`);
      return k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(EFAULT) : ENDED;
    },
    sigbus: (k, l) => {
      k.note(() => `SIGBUS at vpn ${l.vpn}`);
      return k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(EFAULT) : ENDED;
    },
  },
);
