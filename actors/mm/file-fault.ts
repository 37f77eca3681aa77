/**
 * File faults (mm/memory.c): do_fault → do_read_fault / do_shared_fault / do_cow_fault, with
 * ->fault = shmem_fault (filemap_fault for an `fs` file, filemap.ts; a read fault with
 * FAULT_FLAG_AROUND first tries do_fault_around) and finish_fault installing the PTE under the PTL after the pmd recheck of
 * pte_offset_map_lock. The folio stays locked from shmem_fault until the PTE is in. PFNMAP VMAs
 * get pfnmap_fault (a stand-in for a driver's vmf_insert_pfn fault handler such as udmabuf_vm_fault).
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { ENDED } from '../../src/engine/proc.js';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SPECIAL,
  FAULT_FLAG_WRITE,
  folio_pfn,
  mk_pte,
  pmd_none,
  pmd_table,
  pte_none,
  VM_FAULT_NOPAGE,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_PFNMAP,
  VM_SHARED,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import { filemap_get_folio } from '../../src/kernel/filemap.js';
import { folio_add_new_anon_rmap, folio_add_rmap, folio_alloc, folio_data, folio_put, folio_unlock, folio_write_data } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { __pte_alloc, pmd_index, pmdp_get, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, set_pte_at } from '../../src/kernel/pgtable.js';
import { anon_vma_prepare, filePteFlags, vm_flags } from './common.js';
import { shmem_fault } from './shmem.js';
import { type FolioId, type MmId, type VmaId, NO_FOLIO, NO_TABLE } from '../../src/kernel/ids.js';
import { pfnmap_pte_alloc, pfnmapLockSteps } from './pfnmap-lock.js';
import { do_fault_around, FAULT_FLAG_AROUND, filemap_fault, isFsMapping, uffd_disable_fault_around } from './filemap.js';

/**
 * do_fault: args [mm, vma, vpn, flags]; returns vm_fault_t. `nf` is the COW copy of a private
 * write fault (do_cow_fault), `f` the locked page-cache folio from shmem_fault.
 */
export const do_fault = kproc(
  'do_fault',
  'mm/memory.c: do_fault → do_read_fault / do_shared_fault / do_cow_fault, finish_fault',
  (a: { mm: MmId; vma: VmaId; vpn: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, flags: a.flags, f: NO_FOLIO, nf: NO_FOLIO, t: NO_TABLE, ret: 0 }),
  {
    start: (k, l) => {
      const fl = vm_flags(k.w, kern(k), l.vma);
      if (fl & VM_PFNMAP) return k.call(pfnmap_fault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags }, 'ret_rv');
      if (l.flags & FAULT_FLAG_WRITE && !(fl & VM_SHARED)) return 'cow_prepare';
      // do_read_fault: if (should_fault_around(vmf)) { ret = do_fault_around(vmf); if (ret) return ret; }
      if (!(l.flags & FAULT_FLAG_WRITE) && l.flags & FAULT_FLAG_AROUND && !uffd_disable_fault_around(fl))
        return k.call(do_fault_around, { mm: l.mm, vma: l.vma, vpn: l.vpn }, 'around');
      return fault(k, l, 'got');
    },
    around: (k, l) => (k.rv ? k.ret(k.rv) : fault(k, l, 'got')),
    ret_rv: (k) => k.ret(k.rv),
    got: (k, l) => {
      if (k.rv < 0) return k.ret(-k.rv);
      l.f = k.rv as FolioId;
      return 'finish';
    },
    cow_prepare: (k, l) => {
      anon_vma_prepare(k, kern(k), l.vma);
      return 'cow_alloc';
    },
    cow_alloc: (k, l) => {
      l.nf = folio_alloc(k.w, kern(k), 0);
      if (l.nf < 0) return k.ret(VM_FAULT_OOM);
      return fault(k, l, 'cow_got');
    },
    cow_got: (k, l) => {
      if (k.rv < 0) {
        l.ret = -k.rv;
        return 'release_nf';
      }
      l.f = k.rv as FolioId;
      folio_write_data(k.w, kern(k), l.nf, folio_data(k.w, kern(k), l.f)); // copy_mc_user_highpage
      return 'finish';
    },
    finish: (k, l) => {
      // finish_fault: allocate the PTE table if the pmd is none
      if (pmd_none(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.vpn)))) return k.call(__pte_alloc, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'alloced');
      return 'map';
    },
    alloced: (k, l) => {
      if (k.rv < 0) {
        l.ret = VM_FAULT_OOM;
        return 'release';
      }
      return 'map';
    },
    map: (k, l) => k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.vpn) }, 'locked'),
    locked: (k, l) => {
      if (k.rv === 0) {
        l.ret = VM_FAULT_NOPAGE;
        return 'release';
      }
      l.t = pmd_table(k.rv);
      return 'check';
    },
    check: (k, l) => {
      // if (!pte_none(ptep_get(vmf->pte))) → VM_FAULT_NOPAGE (someone else mapped it)
      if (!pte_none(ptep_get(k, kern(k), l.t, pte_index(l.vpn)))) {
        l.ret = VM_FAULT_NOPAGE;
        return 'unlock_release';
      }
      return 'setpte';
    },
    setpte: (k, l) => {
      // set_pte_range: rmap, then the PTE; the fault's folio reference becomes the mapping's
      const K = kern(k);
      const write = (l.flags & FAULT_FLAG_WRITE) !== 0;
      if (l.nf >= 0) {
        folio_add_new_anon_rmap(k.w, K, l.nf, l.vma, l.vpn);
        set_pte_at(k, K, l.t, pte_index(l.vpn), mk_pte(folio_pfn(l.nf), _PAGE_RW | _PAGE_DIRTY));
      } else {
        folio_add_rmap(k.w, K, l.f);
        set_pte_at(k, K, l.t, pte_index(l.vpn), mk_pte(folio_pfn(l.f), filePteFlags(vm_flags(k.w, K, l.vma), write)));
      }
      k.note(() => `finish_fault: vpn ${l.vpn} → folio ${l.nf >= 0 ? `${l.nf} (COW of ${l.f})` : l.f}`);
      return 'unlock';
    },
    unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'unlock_folio' : ENDED),
    unlock_folio: (k, l) => {
      if (!folio_unlock(k, kern(k), l.f)) return ENDED;
      return l.nf >= 0 ? 'put_src' : k.ret(0);
    },
    put_src: (k, l) => {
      folio_put(k, kern(k), l.f);
      return k.ret(0);
    },
    unlock_release: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'release' : ENDED),
    release: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'release_put' : ENDED),
    release_put: (k, l) => {
      folio_put(k, kern(k), l.f);
      return 'release_nf';
    },
    release_nf: (k, l) => {
      if (l.nf >= 0) folio_put(k, kern(k), l.nf);
      return k.ret(l.ret);
    },
  },
);

/** __do_fault: vma->vm_ops->fault (filemap_fault for an `fs` file, else shmem_fault). */
function fault(k: Ctx, l: { mm: MmId; vma: VmaId; vpn: number; flags: number }, then: 'got' | 'cow_got') {
  const args = { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: l.flags };
  return isFsMapping(kern(k), kern(k).vma(l.vma).memfd) ? k.call(filemap_fault, args, then) : k.call(shmem_fault, args, then);
}

/**
 * A VM_PFNMAP fault handler: vmf_insert_pfn of the backing memfd folio's pfn (a special PTE: no
 * reference, no mapcount), as udmabuf_vm_fault does with its pinned folios. Args [mm, vma, vpn,
 * flags]; returns VM_FAULT_NOPAGE or VM_FAULT_SIGBUS. Simplified: the pfn comes from the page
 * cache (udmabuf keeps its own array of pinned folios).
 */
export const pfnmap_fault = kproc(
  'pfnmap_fault',
  'mm/memory.c: vmf_insert_pfn (from a driver ->fault such as drivers/dma-buf/udmabuf.c: udmabuf_vm_fault)',
  (a: { mm: MmId; vma: VmaId; vpn: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, flags: a.flags, pfn: 0, t: NO_TABLE }),
  {
    lookup: (k, l) => {
      const K = kern(k);
      const f = filemap_get_folio(k.w, K, K.vma(l.vma).memfd, K.linear_page_index(l.vma, l.vpn));
      if (f < 0) return k.ret(VM_FAULT_SIGBUS);
      l.pfn = folio_pfn(f);
      return pfnmap_pte_alloc(k, l);
    },
    ...pfnmapLockSteps(),
    insert: (k, l) => {
      // insert_pfn: only into a none PTE
      const K = kern(k);
      if (pte_none(ptep_get(k, K, l.t, pte_index(l.vpn)))) {
        const w = vm_flags(k.w, K, l.vma) & VM_WRITE ? _PAGE_RW : 0;
        set_pte_at(k, K, l.t, pte_index(l.vpn), mk_pte(l.pfn, _PAGE_SPECIAL | w));
      }
      return 'unlock';
    },
    unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? k.ret(VM_FAULT_NOPAGE) : ENDED),
  },
);

