/**
 * mprotect(PROT_READ [| PROT_WRITE]) of a whole VMA (mm/mprotect.c: do_mprotect_pkey →
 * mprotect_fixup, v6.13): mmap_write_lock, vma_start_write, vm_flags_reset (VM_WRITE set or
 * cleared; unchanged flags: nothing to do), then change_protection with
 * MM_CP_TRY_CHANGE_WRITABLE when vma_wants_manual_pte_write_upgrade (a private writable VMA, or a
 * shared one that wants write-notify: here, a uffd-wp one), and mmap_write_unlock.
 * Simplified: whole VMAs only (no vma_modify_flags split or merge), no VM_ACCOUNT / commit charge,
 * no PROT_NONE or PROT_EXEC.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { VM_SHARED, VM_UFFD_WP, VM_WRITE } from '../../src/kernel/defs.js';
import { kern, VMA_FLAGS } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { change_protection, MM_CP_TRY_CHANGE_WRITABLE } from '../uffd/writeprotect.js';
import { mmap_write_unlock, vm_flags, vma_start_write } from './common.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

/** mprotect_fixup over a whole VMA: args [mm, vma, write (PROT_WRITE)]; returns 0. */
export const mprotect = kproc(
  'mprotect',
  'mm/mprotect.c: do_mprotect_pkey → mprotect_fixup → change_protection',
  (a: { mm: MmId; vma: VmaId; write: number }) => ({ mm: a.mm, vma: a.vma, write: a.write }),
  {
    lock: (k, l) => (k.down_write(kern(k).mm(l.mm).mmap_lock) ? 'start_write' : BLOCKED),
    start_write: (k, l) => (vma_start_write(k, kern(k), l.vma) ? 'fixup' : BLOCKED),
    fixup: (k, l) => {
      const K = kern(k);
      const old = vm_flags(k.w, K, l.vma);
      const flags = l.write ? old | VM_WRITE : old & ~VM_WRITE;
      if (flags === old) return 'unlock'; // "if (newflags == oldflags)"
      k.w.set(K.vmaSlot(l.vma, VMA_FLAGS), flags); // vm_flags_reset + vma_set_page_prot
      // vma_wants_manual_pte_write_upgrade: shared → vma_wants_writenotify (uffd-wp here); private → VM_WRITE
      const upgrade = flags & VM_WRITE && (!(flags & VM_SHARED) || flags & VM_UFFD_WP);
      const v = K.vma(l.vma);
      return k.call(change_protection, { mm: l.mm, vma: l.vma, start: v.start, end: v.end, cp: upgrade ? MM_CP_TRY_CHANGE_WRITABLE : 0 }, 'unlock');
    },
    unlock: (k, l) => (mmap_write_unlock(k, kern(k), l.mm) ? k.ret(0) : ENDED),
  },
);
