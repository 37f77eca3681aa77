/**
 * GUP with FOLL_PIN | FOLL_LONGTERM (mm/gup.c). The pins a thread holds are kept in its pin slots
 * (K.pinSlot) and dropped by unpin_user_pages.
 *
 * pin_user_pages: mmap_read_lock; per page: check_vma_flags (VM_IO|VM_PFNMAP → -EFAULT),
 * follow_page_pte under the PTL (pte_offset_map_lock), try_grab_folio(FOLL_PIN); a missing page,
 * a write to a read-only PTE or a FOLL_PIN of a non-exclusive anon page faults (faultin_page) and
 * retries. A huge pmd (THP) is followed under the pmd lock (follow_pmd_mask → follow_huge_pmd).
 * pin_user_pages_fast: the lockless walk with interrupts off (modelled as an RCU read-side
 * section, which is what keeps page tables from being freed under it), refusing special PTEs and
 * rechecking pmd and pte after taking the reference; whatever it cannot pin falls back to the
 * slow path. memfd_pin_folios: pins page-cache folios of a memfd, allocating missing ones.
 * Simplified: no migration of pinned pages out of movable zones; the zero page is never pinned
 * (it is unshared by a write fault first).
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  EFAULT,
  ENOMEM,
  FAULT_FLAG_ALLOW_RETRY,
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  is_huge_zero_pmd,
  MAX_PINS,
  pfn_folio,
  pmd_is_table,
  pmd_pfn,
  pmd_table,
  pmd_trans_huge,
  pte_present,
  pte_special,
  pte_write,
  VM_FAULT_ERROR,
  VM_FAULT_OOM,
  VM_FAULT_RETRY,
  VM_IO,
  VM_PFNMAP,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import { filemap_get_folio } from '../../src/kernel/filemap.js';
import { folio_pin, folio_test_anon, folio_try_get, folio_unlock, folio_unpin, PageAnonExclusive } from '../../src/kernel/folio.js';
import { F_INDEX, F_MAPPING, F_PINCOUNT, type Kernel, kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, pte_offset_map_lock, pte_unmap_unlock, ptep_get, rcu_read_unlock } from '../../src/kernel/pgtable.js';
import { vm_flags, vm_normal_folio, vma_attached } from './common.js';
import { handle_mm_fault } from './fault.js';
import { shmem_get_folio } from './shmem.js';
import { folio_put } from '../../src/kernel/folio.js';
import { type FolioId, type MemfdId, type MmId, type VmaId, NO_FOLIO, NO_MM, NO_TABLE, NO_VMA } from '../../src/kernel/ids.js';

/** Remember a pin in the running thread's pin slots. */
function record_pin(k: Ctx, K: Kernel, f: number): void {
  for (let i = 0; i < MAX_PINS; i++) {
    const s = K.pinSlot(k.tid, i);
    if (k.w.get(s) === 0) {
      k.w.set(s, f + 1);
      k.note(() => `pinned folio ${f} (pincount ${k.w.get(K.fSlot(f, F_PINCOUNT))})`);
      return;
    }
  }
  k.violated(`thread ${k.w.threadName(k.tid)} holds more than ${MAX_PINS} pins (model limit)`);
}

/** The folio to pin through a present entry, or -1 if following must fault first (or fail). */
function followable(k: Ctx, K: Kernel, pte: number, write: number): number {
  const f = vm_normal_folio(pte);
  if (f < 0) return -1;
  if (write && !pte_write(pte)) return -1; // can_follow_write_pte
  if (folio_test_anon(k.w, K, f) && !PageAnonExclusive(k.w, K, f)) return -1; // gup_must_unshare
  return f;
}

/** pin_user_pages(FOLL_LONGTERM): args [mm, vma, first page, pages, write]; pages pinned or -errno. */
export const pin_user_pages = kproc(
  'pin_user_pages',
  'mm/gup.c: pin_user_pages → __gup_longterm_locked → __get_user_pages (follow_page_pte, faultin_page)',
  (a: { mm: MmId; vma: VmaId; page: number; nr_pages: number; write: number }) => ({ mm: a.mm, vma: a.vma, page: a.page, end: a.page + a.nr_pages, write: a.write, done: 0, t: NO_TABLE, fault: 0, ret: 0 }),
  {
    lock: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'vma' : BLOCKED),
    vma: (k, l) => {
      const K = kern(k);
      if (l.page >= l.end) return 'unlock';
      const fl = vm_flags(k.w, K, l.vma);
      // gup_vma_lookup + check_vma_flags
      if (!vma_attached(k.w, K, l.vma) || fl & (VM_IO | VM_PFNMAP) || (l.write && !(fl & VM_WRITE))) {
        l.ret = EFAULT;
        return 'unlock';
      }
      if (K.vma(l.vma).hugetlb_vma_lock >= 0) return 'huge_lock';
      // follow_pmd_mask: pmdp_get_lockless; a leaf (huge) pmd is followed under the pmd lock
      if (pmd_trans_huge(pmdp_get(k.w, K, l.mm, pmd_index(K.vpn(l.vma, l.page))))) return 'huge_lock';
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(K.vpn(l.vma, l.page)) }, 'locked');
    },
    locked: (k, l) => {
      if (k.rv === 0) {
        l.fault = 1; // no_page_table
        return 'fault';
      }
      l.t = pmd_table(k.rv);
      return 'follow';
    },
    follow: (k, l) => {
      const K = kern(k);
      const pte = ptep_get(k, K, l.t, pte_index(K.vpn(l.vma, l.page)));
      const f = pte_present(pte) ? followable(k, K, pte, l.write) : -1;
      l.fault = f >= 0 ? 0 : pte_present(pte) ? 2 : 1; // 2: present but needs a write / unshare fault
      if (f >= 0) {
        folio_pin(k.w, K, f); // try_grab_folio(FOLL_PIN)
        record_pin(k, K, f);
      }
      return 'unlock_pte';
    },
    unlock_pte: (k, l) => {
      if (!pte_unmap_unlock(k, kern(k), l.t)) return ENDED;
      if (l.fault) return 'fault';
      l.done++;
      l.page++;
      return 'vma';
    },
    huge_lock: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? 'huge_follow' : BLOCKED),
    huge_follow: (k, l) => {
      // hugetlb: follow_hugetlb_page; THP: follow_pmd_mask rechecks under the pmd lock (a table:
      // follow_page_pte; not present: no_page_table) → follow_huge_pmd (can_follow_write_pmd,
      // gup_must_unshare on a read-only pmd → -EMLINK and an unshare fault, try_grab_folio)
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(K.vpn(l.vma, l.page)));
      if (pmd_is_table(v) && K.vma(l.vma).hugetlb_vma_lock < 0) {
        l.fault = 3;
        return 'huge_unlock';
      }
      const huge = pmd_trans_huge(v);
      // the huge zero pmd, like the zero page, is not pinned: an unshare fault replaces it (modelled as a write)
      const f = huge && !is_huge_zero_pmd(v) ? pfn_folio(pmd_pfn(v)) : -1;
      const unshare = f >= 0 && !pte_write(v) && folio_test_anon(k.w, K, f) && !PageAnonExclusive(k.w, K, f);
      const ok = f >= 0 && (!l.write || pte_write(v)) && !unshare;
      l.fault = ok ? 0 : huge ? 2 : 1;
      if (ok) {
        folio_pin(k.w, K, f);
        record_pin(k, K, f);
        k.note(() => `follow_huge_pmd: pmd ${pmd_index(K.vpn(l.vma, l.page))} maps folio ${f}`);
      }
      return 'huge_unlock';
    },
    huge_unlock: (k, l) => {
      if (!k.spin_unlock(kern(k).mm(l.mm).page_table_lock)) return ENDED;
      if (l.fault === 3) return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(kern(k).vpn(l.vma, l.page)) }, 'locked');
      if (l.fault) return 'fault';
      l.done++;
      l.page++;
      return 'vma';
    },
    fault: (k, l) => {
      const K = kern(k);
      // faultin_page; FAULT_FLAG_UNSHARE (zero page, shared anon page under FOLL_PIN) is modelled as a write fault
      const flags = FAULT_FLAG_REMOTE | FAULT_FLAG_ALLOW_RETRY | (l.write || l.fault === 2 ? FAULT_FLAG_WRITE : 0);
      return k.call(handle_mm_fault, { mm: l.mm, vma: l.vma, vpn: K.vpn(l.vma, l.page), flags }, 'faulted');
    },
    faulted: (k, l) => {
      const r = k.rv;
      if (r & VM_FAULT_RETRY) return 'lock'; // mmap_lock was dropped: take it again and retry
      if (r & VM_FAULT_ERROR) {
        l.ret = r & VM_FAULT_OOM ? ENOMEM : EFAULT;
        return 'unlock';
      }
      return 'vma';
    },
    unlock: (k, l) => {
      if (!k.up_read(kern(k).mm(l.mm).mmap_lock)) return ENDED;
      return k.ret(l.done > 0 ? l.done : l.ret);
    },
  },
);

/** pin_user_pages_fast(FOLL_LONGTERM): args [mm, vma, first page, pages, write]; pages pinned or -errno. */
export const pin_user_pages_fast = kproc(
  'pin_user_pages_fast',
  'mm/gup.c: pin_user_pages_fast → gup_fast (gup_fast_pte_range) → __gup_longterm_locked fallback',
  (a: { mm: MmId; vma: VmaId; page: number; nr_pages: number; write: number }) => ({ mm: a.mm, vma: a.vma, page: a.page, end: a.page + a.nr_pages, write: a.write, done: 0, pmdval: 0, pte: 0, f: NO_FOLIO }),
  {
    irq_off: (k) => {
      k.rcu_read_lock(); // local_irq_save: page tables cannot be freed under the walk
      return 'pmd';
    },
    pmd: (k, l) => {
      const K = kern(k);
      if (l.page >= l.end) return 'irq_on';
      l.pmdval = pmdp_get(k.w, K, l.mm, pmd_index(K.vpn(l.vma, l.page))); // pmdp_get_lockless
      if (pmd_trans_huge(l.pmdval)) {
        // gup_fast_pmd_leaf: !pmd_access_permitted(orig, FOLL_WRITE) → give up
        if (l.write && !pte_write(l.pmdval)) return 'irq_on';
        l.pte = l.pmdval;
        return 'grab';
      }
      return pmd_is_table(l.pmdval) ? 'pte' : 'irq_on';
    },
    pte: (k, l) => {
      const K = kern(k);
      l.pte = ptep_get(k, K, pmd_table(l.pmdval), pte_index(K.vpn(l.vma, l.page))); // ptep_get_lockless
      // pte_access_permitted; pte_special → give up (PFNMAP, zero page)
      if (!pte_present(l.pte) || pte_special(l.pte) || (l.write && !pte_write(l.pte))) {
        k.note(() => `gup_fast: vpn ${K.vpn(l.vma, l.page)} not pinnable locklessly${pte_special(l.pte) ? ' (special PTE)' : ''}`);
        return 'irq_on';
      }
      return 'grab';
    },
    grab: (k, l) => {
      // try_grab_folio_fast(FOLL_PIN): speculative reference + pin
      const K = kern(k);
      const f = pmd_trans_huge(l.pte) ? pfn_folio(pmd_pfn(l.pte)) : vm_normal_folio(l.pte);
      if (f < 0 || !folio_try_get(k.w, K, f)) return 'irq_on';
      k.w.set(K.fSlot(f, F_PINCOUNT), k.w.get(K.fSlot(f, F_PINCOUNT)) + 1);
      l.f = f;
      return 'recheck';
    },
    recheck: (k, l) => {
      const K = kern(k);
      const vpn = K.vpn(l.vma, l.page);
      const pmd = pmdp_get(k.w, K, l.mm, pmd_index(vpn));
      const same = pmd === l.pmdval && (pmd_trans_huge(pmd) || ptep_get(k, K, pmd_table(pmd), pte_index(vpn)) === l.pte);
      // gup_must_unshare; gup_fast_pmd_leaf checks it only for a read-only pmd (!pmd_write(orig))
      const anonShared = (!pmd_trans_huge(pmd) || !pte_write(pmd)) && folio_test_anon(k.w, K, l.f) && !PageAnonExclusive(k.w, K, l.f);
      if (!same || anonShared) return 'unpin';
      record_pin(k, K, l.f);
      l.f = NO_FOLIO;
      l.done++;
      l.page++;
      return 'pmd';
    },
    unpin: (k, l) => {
      folio_unpin(k, kern(k), l.f); // gup_put_folio
      l.f = NO_FOLIO;
      return 'irq_on';
    },
    irq_on: (k, l) => {
      if (!rcu_read_unlock(k, kern(k))) return ENDED;
      if (l.page >= l.end) return k.ret(l.done);
      return k.call(pin_user_pages, { mm: l.mm, vma: l.vma, page: l.page, nr_pages: l.end - l.page, write: l.write }, 'slow_done');
    },
    slow_done: (k, l) => {
      const r = k.rv;
      if (r < 0) return k.ret(l.done > 0 ? l.done : r);
      return k.ret(l.done + r);
    },
  },
);

/** unpin_user_pages of every pin the thread holds: args []; returns how many were dropped. */
export const unpin_user_pages = kproc(
  'unpin_user_pages',
  'mm/gup.c: unpin_user_pages',
  () => ({ i: 0, n: 0 }),
  {
    unpin: (k, l) => {
      const K = kern(k);
      while (l.i < MAX_PINS && k.w.get(K.pinSlot(k.tid, l.i)) === 0) l.i++;
      if (l.i >= MAX_PINS) return k.ret(l.n);
      const s = K.pinSlot(k.tid, l.i);
      const f = k.w.get(s) - 1;
      k.w.set(s, 0);
      folio_unpin(k, K, f);
      k.note(() => `unpinned folio ${f}`);
      l.n++;
      return 'unpin';
    },
  },
);

/**
 * memfd_pin_folios' error path (`err: unpin_folios(folios, nr_found)`): drop the one pin this call
 * took on each index in [from, to) of `map` and forget it in the thread's pin slots.
 */
function unpin_found(k: Ctx, K: Kernel, map: MemfdId, from: number, to: number): void {
  let left = ((1 << (to - from)) - 1) << from;
  for (let i = 0; i < MAX_PINS && left; i++) {
    const s = K.pinSlot(k.tid, i);
    const f = k.w.get(s) - 1;
    if (f < 0 || k.w.get(K.fSlot(f, F_MAPPING)) !== map + 1) continue;
    const bit = 1 << k.w.get(K.fSlot(f, F_INDEX));
    if (!(left & bit)) continue;
    left &= ~bit;
    k.w.set(s, 0);
    folio_unpin(k, K, f);
  }
}

/**
 * memfd_pin_folios(memfd, start, end, folios, max, &offset): args [memfd, first index, pages];
 * number of folios pinned, or -errno (on an error the folios found so far are unpinned: never a
 * partial count). A missing folio is allocated (memfd_alloc_folio → shmem_read_folio) and the
 * lookup repeated. Simplified: hugetlb memfds must be populated (no memfd_alloc_folio for hugetlb:
 * a hugetlb hole is -EFAULT).
 */
export const memfd_pin_folios = kproc(
  'memfd_pin_folios',
  'mm/gup.c: memfd_pin_folios',
  (a: { map: MemfdId; index: number; nr_folios: number }) => ({ map: a.map, index: a.index, end: a.index + a.nr_folios, done: 0, f: NO_FOLIO }),
  {
    lookup: (k, l) => {
      const K = kern(k);
      if (l.index >= l.end) return k.ret(l.done);
      // filemap_get_folios_contig + try_grab_folio(FOLL_PIN) (one step here)
      const f = filemap_get_folio(k.w, K, l.map, l.index);
      if (f < 0) {
        if (K.mapping(l.map).hugetlb) {
          unpin_found(k, K, l.map, l.index - l.done, l.index);
          return k.ret(EFAULT);
        }
        return k.call(shmem_get_folio, { map: l.map, index: l.index, mm: NO_MM, vma: NO_VMA, flags: 0 }, 'allocated');
      }
      folio_pin(k.w, K, f);
      record_pin(k, K, f);
      l.done++;
      l.index++;
      return 'lookup';
    },
    allocated: (k, l) => {
      if (k.rv < 0) {
        unpin_found(k, kern(k), l.map, l.index - l.done, l.index);
        return k.ret(k.rv);
      }
      l.f = k.rv as FolioId;
      return 'unlock';
    },
    unlock: (k, l) => (folio_unlock(k, kern(k), l.f) ? 'put' : ENDED),
    put: (k, l) => {
      folio_put(k, kern(k), l.f); // shmem_read_folio's reference; the next lookup pins it
      l.f = NO_FOLIO;
      return 'lookup';
    },
  },
);
