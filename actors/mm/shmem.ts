/**
 * shmem page cache lookups (mm/shmem.c): shmem_get_folio_gfp (SGP_CACHE) with its folio lock and
 * mapping recheck, and shmem_fault with shmem_falloc_wait. There is no shared zero page for shmem:
 * a read fault on a hole allocates a page-cache folio. Not modelled: swap entries in the cache,
 * large folios, the final i_size recheck after allocation, fault-around (filemap_map_pages).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { EINVAL, ENOMEM, FAULT_FLAG_ALLOW_RETRY, VM_FAULT_NOPAGE, VM_FAULT_OOM, VM_FAULT_RETRY, VM_FAULT_SIGBUS, VM_UFFD_MINOR } from '../../src/kernel/defs.js';
import { filemap_add_folio, filemap_get_folio, i_size } from '../../src/kernel/filemap.js';
import { folio_alloc, folio_get, folio_lock, folio_mapping, folio_put, folio_trylock, folio_try_get, folio_unlock } from '../../src/kernel/folio.js';
import { kern, M_FALLOC_END, M_FALLOC_START, M_WAITQ } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { prepare_to_wait, WAIT_LOCALS } from '../../src/kernel/waitq.js';
import { userfaultfd_minor, userfaultfd_missing } from './common.js';
import { handle_userfault } from './userfault.js';
import { type MemfdId, type MmId, type VmaId, NO_FOLIO, NO_MEMFD } from '../../src/kernel/ids.js';

/** shmem_get_folio returned through handle_userfault: rv = -(SHMEM_FAULT_TYPE | vm_fault_t). */
export const SHMEM_FAULT_TYPE = 0x10000;

/**
 * shmem_get_folio_gfp(inode, index, &folio, SGP_CACHE, vmf): args [memfd, index, mm, vma or -1,
 * fault flags]. Returns a folio id (locked, one reference for the caller), a negative errno, or
 * -(SHMEM_FAULT_TYPE | fault) when the fault went to userfaultfd.
 */
export const shmem_get_folio = kproc(
  'shmem_get_folio',
  'mm/shmem.c: shmem_get_folio_gfp',
  (a: { map: MemfdId; index: number; mm: MmId; vma: VmaId; flags: number }) => ({ map: a.map, index: a.index, mm: a.mm, vma: a.vma, flags: a.flags, f: NO_FOLIO }),
  {
    repeat: (k, l) => {
      const K = kern(k);
      if (l.index >= i_size(k.w, K, l.map)) return k.ret(EINVAL);
      // filemap_get_entry: xas_load + folio_try_get under RCU (one step here)
      l.f = filemap_get_folio(k.w, K, l.map, l.index);
      if (l.f >= 0 && !folio_try_get(k.w, K, l.f)) l.f = NO_FOLIO;
      if (l.f >= 0) {
        if (l.vma >= 0 && userfaultfd_minor(k.w, K, l.vma)) return 'minor';
        return 'lock';
      }
      if (l.vma >= 0 && userfaultfd_missing(k.w, K, l.vma)) return k.call(handle_userfault, { mm: l.mm, vma: l.vma, vpn: K.vpn(l.vma, l.index - K.vma(l.vma).pgoff), flags: l.flags }, 'uffd');
      return 'alloc';
    },
    lock: (k, l) => (folio_lock(k, kern(k), l.f) ? 'check_mapping' : BLOCKED),
    check_mapping: (k, l) => {
      // Has the folio been truncated or swapped out?
      if (folio_mapping(k.w, kern(k), l.f) !== l.map + 1) return 'truncated';
      return k.ret(l.f);
    },
    truncated: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'put_repeat' : ENDED),
    put_repeat: (k, l) => {
      folio_put(k, kern(k), l.f);
      l.f = NO_FOLIO;
      return 'repeat';
    },
    minor: (k, l) => {
      const K = kern(k);
      folio_put(k, K, l.f);
      l.f = NO_FOLIO;
      return k.call(handle_userfault, { mm: l.mm, vma: l.vma, vpn: K.vpn(l.vma, l.index - K.vma(l.vma).pgoff), flags: l.flags, reason: VM_UFFD_MINOR }, 'uffd');
    },
    uffd: (k) => k.ret(-(SHMEM_FAULT_TYPE | k.rv)),
    alloc: (k, l) => {
      // shmem_alloc_and_add_folio: shmem_alloc_folio, __folio_set_locked (a fresh folio: never contended)
      const K = kern(k);
      l.f = folio_alloc(k.w, K, 0);
      if (l.f < 0) return k.ret(ENOMEM);
      folio_trylock(k, K, l.f);
      return 'add';
    },
    add: (k, l) => {
      // shmem_add_to_page_cache: -EEXIST if the slot was filled meanwhile → repeat
      const K = kern(k);
      if (filemap_get_folio(k.w, K, l.map, l.index) >= 0) return 'add_failed';
      filemap_add_folio(k.w, K, l.map, l.index, l.f);
      folio_get(k.w, K, l.f); // folio_ref_add: the cache's reference plus ours
      k.note(() => `shmem_get_folio: index ${l.index} of ${K.mapping(l.map).name} ← new folio ${l.f}`);
      return k.ret(l.f);
    },
    add_failed: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'put_repeat' : ENDED),
  },
);

/**
 * shmem_fault: args [mm, vma, vpn, flags]; returns a folio id (locked, referenced: VM_FAULT_LOCKED)
 * or -(vm_fault_t). A fault inside a hole being punched waits for the punch (shmem_falloc_wait):
 * with FAULT_FLAG_ALLOW_RETRY it drops the mmap_lock and returns VM_FAULT_RETRY.
 */
export const shmem_fault = kproc(
  'shmem_fault',
  'mm/shmem.c: shmem_fault',
  (a: { mm: MmId; vma: VmaId; vpn: number; flags: number }) => ({ mm: a.mm, vma: a.vma, vpn: a.vpn, flags: a.flags, map: NO_MEMFD, pgoff: 0, ...WAIT_LOCALS }),
  {
    falloc: (k, l) => {
      // shmem_falloc_wait (inode->i_private under i_lock, folded into this step)
      const K = kern(k);
      l.map = K.vma(l.vma).memfd;
      l.pgoff = K.linear_page_index(l.vma, l.vpn);
      const s = k.w.get(K.mapSlot(l.map, M_FALLOC_START));
      const e = k.w.get(K.mapSlot(l.map, M_FALLOC_END));
      if (!(e > s && l.pgoff >= s && l.pgoff < e)) return k.call(shmem_get_folio, { map: l.map, index: l.pgoff, mm: l.mm, vma: l.vma, flags: l.flags }, 'got');
      k.note(() => `shmem_falloc_wait: index ${l.pgoff} is being punched, waiting`);
      prepare_to_wait(k, K.mapSlot(l.map, M_WAITQ));
      return l.flags & FAULT_FLAG_ALLOW_RETRY ? 'falloc_unlock' : 'falloc_sleep';
    },
    falloc_unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'falloc_sleep' : ENDED),
    falloc_sleep: (k, l) => {
      if (!k.recv(l)) return BLOCKED;
      return k.ret(-(l.flags & FAULT_FLAG_ALLOW_RETRY ? VM_FAULT_RETRY : VM_FAULT_NOPAGE));
    },
    got: (k) => {
      const rv = k.rv;
      if (rv >= 0) return k.ret(rv);
      if (-rv & SHMEM_FAULT_TYPE) return k.ret(-(-rv & 0xffff));
      return k.ret(-(rv === ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS)); // vmf_error
    },
  },
);
