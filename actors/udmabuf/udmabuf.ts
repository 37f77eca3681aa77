/**
 * drivers/dma-buf/udmabuf.c as labelled steps, in its current form (the memfd_pin_folios series,
 * v6.11, with the Dec 2024 fix that holds inode_lock_shared across the seal check and the pin):
 * udmabuf_create (check_memfd_seals + udmabuf_pin_folios), mmap_udmabuf (VM_SHARED required,
 * VM_PFNMAP set), udmabuf_vm_fault (vmf_insert_pfn of the pinned folio the udmabuf holds, then
 * the pre-fault of the rest of the VMA: "udmabuf: pre-fault when first page fault", Huan Yang,
 * Sep 2024), vmap_udmabuf, begin/end_cpu_udmabuf, release_udmabuf.
 *
 * Switch `udmabuf_vm_insert_page`: the exporter as it was before "udmabuf: use vmf_insert_pfn and
 * VM_PFNMAP for handling mmap" (the fault returned vmf->page with get_page, so the PTE is a normal,
 * refcounted, rmapped one and GUP can pin it: seed 002). Switch `dma_buf_require_pfnmap`: the
 * WARN_ON_ONCE(!(vma->vm_flags & VM_PFNMAP)) that "dma-buf: Require VM_PFNMAP vma for mmap"
 * (Daniel Vetter, 2021/2022) adds to dma_buf_mmap_internal.
 *
 * Simplified: the pins memfd_pin_folios records in the calling thread move into ubuf->folios (one
 * pinned_folios entry per folio); the mmap is one mmap_region step under mmap_write_lock; the
 * pre-fault runs in the faulting step (all pages of a dma-buf VMA share one PTE table here).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SPECIAL,
  EBADF,
  EBADFD,
  EFAULT,
  EINVAL,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  folio_pfn,
  MAX_PINS,
  mk_pte,
  pmd_is_table,
  pmd_table,
  pte_none,
  pte_pfn,
  pte_present,
  pte_write,
  pfn_folio,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_FAULT_NOPAGE,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_MAYSHARE,
  VM_PFNMAP,
  VM_SHARED,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import { memfd_live, memfd_seals } from '../../src/kernel/filemap.js';
import { folio_add_rmap, folio_data, folio_get, folio_unpin, folio_write_data } from '../../src/kernel/folio.js';
import { F_INDEX, F_MAPPING, kern, VMA_ATTACHED, VMA_FLAGS } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, pte_unmap_unlock, ptep_get, set_pte_at } from '../../src/kernel/pgtable.js';
import { UB_EXPORTED, UB_FOLIO, UB_PAGECOUNT, UB_RELEASED, UB_SG, UB_STATE, UB_VMAP, UB_VMAP_PFN, ub_folio, udmabufs } from '../../src/kernel/udmabuf.js';
import { vm_flags, vma_attached } from '../mm/common.js';
import { rfc_register } from './rfc-register.js';
import { memfd_pin_folios } from '../mm/gup.js';
import { type MmId, type VmaId, NO_TABLE } from '../../src/kernel/ids.js';
import { pfnmap_pte_alloc, pfnmapLockSteps } from '../mm/pfnmap-lock.js';

const SEALS_WANTED = F_SEAL_SHRINK;
const SEALS_DENIED = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/**
 * udmabuf_create(UDMABUF_CREATE_LIST, one item): args [ub, current mm]; 0 (the dma-buf fd) or
 * -errno. With `rfc_update_mapping` it also registers the RFC's update_mapping notifier on the
 * current mm over the guest-RAM VMA that find_guest_ram_vma finds there.
 */
export const udmabuf_create = kproc(
  'udmabuf_create',
  'drivers/dma-buf/udmabuf.c: udmabuf_create → check_memfd_seals, udmabuf_pin_folios (mm/gup.c: memfd_pin_folios)',
  (a: { ub: number; mm: MmId }) => ({ ub: a.ub, mm: a.mm, ret: 0 }),
  {
    // inode_lock_shared(file_inode(memfd)): against a concurrent memfd_add_seals (inode_lock);
    // `udmabuf_unlocked_seal_check`: as before "udmabuf: fix racy memfd sealing check" (Dec 2024)
    lock: (k, l) => (k.sw('udmabuf_unlocked_seal_check') || k.down_read(kern(k).mapping(udmabufs(k).ub(l.ub).memfd).i_rwsem) ? 'seals' : BLOCKED),
    seals: (k, l) => {
      const K = kern(k);
      const h = udmabufs(k).ub(l.ub);
      // check_memfd_seals: shmem_file || is_file_hugepages, else -EBADFD; F_SEAL_SHRINK wanted, write seals denied
      const seals = memfd_seals(k.w, K, h.memfd);
      if (!memfd_live(k.w, K, h.memfd)) l.ret = EBADFD;
      else if ((seals & SEALS_WANTED) !== SEALS_WANTED || (seals & SEALS_DENIED) !== 0) l.ret = EINVAL;
      if (l.ret) {
        k.note(() => `udmabuf_create ${h.name}: check_memfd_seals → ${l.ret}`);
        return 'unlock';
      }
      return k.call(memfd_pin_folios, { map: h.memfd, index: h.pgoff, nr_folios: h.pages }, 'pinned');
    },
    pinned: (k, l) => {
      const K = kern(k);
      const U = udmabufs(k);
      const h = U.ub(l.ub);
      if (k.rv < h.pages) {
        l.ret = k.rv < 0 ? k.rv : EINVAL;
        return 'unlock';
      }
      // udmabuf_pin_folios: ubuf->folios[upgcnt] = folios[cur_folio]; pinned_folios[nr_pinned++]
      for (let i = 0; i < MAX_PINS; i++) {
        const s = K.pinSlot(k.tid, i);
        const f = k.w.get(s) - 1;
        if (f < 0 || k.w.get(K.fSlot(f, F_MAPPING)) !== h.memfd + 1) continue;
        const idx = k.w.get(K.fSlot(f, F_INDEX)) - h.pgoff;
        if (idx < 0 || idx >= h.pages || ub_folio(k.w, U, l.ub, idx) >= 0) continue;
        k.w.set(U.slot(l.ub, UB_FOLIO + idx), f + 1);
        k.w.set(s, 0);
      }
      k.w.set(U.slot(l.ub, UB_PAGECOUNT), h.pages);
      return 'unlock';
    },
    unlock: (k, l) => (k.sw('udmabuf_unlocked_seal_check') || k.up_read(kern(k).mapping(udmabufs(k).ub(l.ub).memfd).i_rwsem) ? (l.ret ? 'err' : 'export') : ENDED),
    export: (k, l) => {
      // export_udmabuf → dma_buf_export; dma_buf_fd
      const U = udmabufs(k);
      k.w.set(U.slot(l.ub, UB_STATE), UB_EXPORTED);
      if (k.sw('rfc_update_mapping')) rfc_register(k, l.ub, l.mm);
      k.note(() => {
        const h = U.ub(l.ub);
        const fs = Array.from({ length: h.pages }, (_, i) => ub_folio(k.w, U, l.ub, i));
        return `udmabuf ${h.name} exported: pinned folios [${fs.join(', ')}]`;
      });
      return k.ret(0);
    },
    err: (k, l) => k.call(unpin_all_folios, { ub: l.ub }, 'err_done'),
    err_done: (k, l) => k.ret(l.ret),
  },
);

/** unpin_all_folios: args [ub]; drops the pins ubuf->folios holds. */
export const unpin_all_folios = kproc(
  'unpin_all_folios',
  'drivers/dma-buf/udmabuf.c: unpin_all_folios (deinit_udmabuf)',
  (a: { ub: number }) => ({ ub: a.ub }),
  {
    unpin: (k, l) => {
      const K = kern(k);
      const U = udmabufs(k);
      for (let i = 0; i < U.ub(l.ub).pages; i++) {
        const f = ub_folio(k.w, U, l.ub, i);
        if (f < 0) continue;
        k.w.set(U.slot(l.ub, UB_FOLIO + i), 0);
        folio_unpin(k, K, f);
      }
      return k.ret(0);
    },
  },
);

/** The last dma_buf_put: release_udmabuf. Args [ub]. */
export const release_udmabuf = kproc(
  'release_udmabuf',
  'drivers/dma-buf/dma-buf.c: dma_buf_release → drivers/dma-buf/udmabuf.c: release_udmabuf (put_sg_table, deinit_udmabuf)',
  (a: { ub: number }) => ({ ub: a.ub }),
  {
    release: (k, l) => {
      const U = udmabufs(k);
      if (k.w.get(U.slot(l.ub, UB_STATE)) !== UB_EXPORTED) return k.ret(EBADFD);
      k.w.set(U.slot(l.ub, UB_SG), 0);
      k.w.set(U.slot(l.ub, UB_STATE), UB_RELEASED);
      return k.call(unpin_all_folios, { ub: l.ub }, 'done');
    },
    done: (k) => k.ret(0),
  },
);

/**
 * mmap(dma-buf fd) of a VMA declared with `dmabuf:`: args [ub, vma]; 0 or -EINVAL. mmap_region
 * under mmap_write_lock → dma_buf_mmap_internal → ops->mmap = mmap_udmabuf.
 */
export const mmap_udmabuf = kproc(
  'mmap_udmabuf',
  'drivers/dma-buf/dma-buf.c: dma_buf_mmap_internal → drivers/dma-buf/udmabuf.c: mmap_udmabuf',
  (a: { ub: number; vma: VmaId }) => ({ ub: a.ub, vma: a.vma, mm: 0 as MmId, ret: 0 }),
  {
    lock: (k, l) => {
      l.mm = kern(k).vma(l.vma).mm;
      return k.down_write(kern(k).mm(l.mm).mmap_lock) ? 'mmap' : BLOCKED;
    },
    mmap: (k, l) => {
      const K = kern(k);
      const U = udmabufs(k);
      const s = K.vmaSlot(l.vma, VMA_FLAGS);
      const fl = k.w.get(s);
      if (k.w.get(U.slot(l.ub, UB_STATE)) !== UB_EXPORTED) l.ret = EBADF; // no dma-buf fd to mmap
      // dma_buf_mmap_internal: vm_pgoff + vma_pages(vma) > dmabuf->size >> PAGE_SHIFT → -EINVAL
      else if (K.vma(l.vma).pages > U.ub(l.ub).pages) l.ret = EINVAL;
      else if ((fl & (VM_SHARED | VM_MAYSHARE)) === 0) l.ret = EINVAL;
      else {
        // vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP); the old exporter only set
        // vm_ops and vm_private_data, leaving the VMA a normal one
        const set = k.sw('udmabuf_vm_insert_page') ? 0 : VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
        k.w.set(s, fl | set);
        k.w.set(K.vmaSlot(l.vma, VMA_ATTACHED), 1);
        if (k.sw('dma_buf_require_pfnmap') && k.WARN_ON(!((fl | set) & VM_PFNMAP), '!(vma->vm_flags & VM_PFNMAP)')) return ENDED;
      }
      k.note(() => `mmap_udmabuf ${U.ub(l.ub).name} at ${K.vma(l.vma).name}: ${l.ret || 'mapped'}`);
      return 'unlock';
    },
    unlock: (k, l) => (k.up_write(kern(k).mm(l.mm).mmap_lock) ? k.ret(l.ret) : ENDED),
  },
);

/**
 * udmabuf_vm_fault (vma->vm_ops->fault of a dma-buf mmap, from handle_mm_fault → do_fault with
 * mmap_lock held for read): args [mm, vma, vpn]; VM_FAULT_NOPAGE, VM_FAULT_SIGBUS or VM_FAULT_OOM.
 * The pfn is folio_pfn(ubuf->folios[pgoff]): the pinned folio, never a fresh page-cache lookup.
 */
export const udmabuf_vm_fault = kproc(
  'udmabuf_vm_fault',
  'drivers/dma-buf/udmabuf.c: udmabuf_vm_fault → mm/memory.c: vmf_insert_pfn (and the pre-fault loop)',
  (a: { mm: MmId; vma: VmaId; vpn: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, t: NO_TABLE }),
  {
    check: (k, l) => {
      const K = kern(k);
      const U = udmabufs(k);
      const ub = U.byVma.get(l.vma) ?? -1;
      const pgoff = l.vpn - K.vma(l.vma).start;
      if (ub < 0 || pgoff >= k.w.get(U.slot(ub, UB_PAGECOUNT))) return k.ret(VM_FAULT_SIGBUS);
      return pfnmap_pte_alloc(k, l);
    },
    ...pfnmapLockSteps(),
    insert: (k, l) => {
      // insert_pfn into a none PTE: the faulting address first, then the pre-fault of the VMA
      const K = kern(k);
      const U = udmabufs(k);
      const v = K.vma(l.vma);
      const ub = U.byVma.get(l.vma) as number;
      const n = Math.min(v.pages, k.w.get(U.slot(ub, UB_PAGECOUNT)));
      const old = k.sw('udmabuf_vm_insert_page');
      const w = vm_flags(k.w, K, l.vma) & VM_WRITE ? _PAGE_RW : 0;
      for (let i = 0; i < n; i++) {
        const vpn = v.start + i;
        // the old handler (returning vmf->page) maps the faulting page only: no pre-fault, and no
        // fault-around (udmabuf_vm_ops has no ->map_pages)
        if (old && vpn !== l.vpn) continue;
        if (pmd_index(vpn) !== pmd_index(l.vpn) || !pte_none(ptep_get(k, K, l.t, pte_index(vpn)))) continue;
        const f = ub_folio(k.w, U, ub, i);
        if (f < 0) continue;
        if (old) {
          // vmf->page = ubuf->pages[pgoff]; get_page(); finish_fault maps it like a page-cache page
          folio_get(k.w, K, f);
          folio_add_rmap(k.w, K, f);
          set_pte_at(k, K, l.t, pte_index(vpn), mk_pte(folio_pfn(f), w | _PAGE_DIRTY));
        } else set_pte_at(k, K, l.t, pte_index(vpn), mk_pte(folio_pfn(f), _PAGE_SPECIAL | w));
      }
      k.note(() => `udmabuf_vm_fault vpn ${l.vpn}: ${old ? 'vm_insert_page' : 'vmf_insert_pfn'} of pinned folios`);
      return 'unlock';
    },
    unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? k.ret(VM_FAULT_NOPAGE) : ENDED),
  },
);

/**
 * A user load or store through a dma-buf mmap: args [vma, page, write, value]; returns the value
 * loaded (or stored), or -EFAULT. The walk and the access are one step (as in actors/mm/access.ts);
 * a miss takes mmap_read_lock and runs udmabuf_vm_fault (handle_mm_fault → do_fault → ->fault).
 */
export const dmabuf_user_access = kproc(
  'dmabuf_user_access',
  'arch/x86/mm/fault.c: do_user_addr_fault → mm/memory.c: handle_mm_fault → do_fault → udmabuf_vm_fault',
  (a: { vma: VmaId; page: number; write: number; value: number }) => ({ vma: a.vma, page: a.page, write: a.write, value: a.value, mm: 0 as MmId, vpn: 0 }),
  {
    walk: (k, l) => {
      const K = kern(k);
      l.mm = K.vma(l.vma).mm;
      l.vpn = K.vpn(l.vma, l.page);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      const pte = pmd_is_table(v) ? k.w.get(K.pteSlot(pmd_table(v), pte_index(l.vpn))) : 0;
      if (!pte_present(pte) || (l.write && !pte_write(pte))) return 'fault';
      const f = pfn_folio(pte_pfn(pte));
      if (l.write) folio_write_data(k.w, K, f, l.value);
      const r = folio_data(k.w, K, f);
      k.note(() => `${l.write ? 'store' : 'load'} ${r} ${l.write ? 'to' : 'from'} dma-buf mmap vpn ${l.vpn}: folio ${f}`);
      return k.ret(r);
    },
    fault: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      if (!vma_attached(k.w, K, l.vma) || (l.write && !(vm_flags(k.w, K, l.vma) & VM_WRITE))) return 'segv';
      return k.call(udmabuf_vm_fault, { mm: l.mm, vma: l.vma, vpn: l.vpn }, 'faulted');
    },
    faulted: (k) => (k.rv & (VM_FAULT_SIGBUS | VM_FAULT_OOM) ? 'segv' : 'unlock'),
    unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'walk' : ENDED),
    segv: (k, l) => {
      k.note(() => `SIGSEGV/SIGBUS at dma-buf mmap vpn ${l.vpn}`);
      return k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(EFAULT) : ENDED;
    },
  },
);

/** vmap_udmabuf (caller holds the resv): args [ub]; vmap_pfn of folio_pfn(ubuf->folios[pg]). */
export function vmap_udmabuf(k: import('../../src/engine/ctx.js').Ctx, ub: number): void {
  const U = udmabufs(k);
  for (let i = 0; i < U.ub(ub).pages; i++) k.w.set(U.slot(ub, UB_VMAP_PFN + i), k.w.get(U.slot(ub, UB_FOLIO + i)));
  k.w.set(U.slot(ub, UB_VMAP), 1);
}
