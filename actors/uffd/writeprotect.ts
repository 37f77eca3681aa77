/**
 * UFFDIO_WRITEPROTECT (fs/userfaultfd.c: userfaultfd_writeprotect → mm/userfaultfd.c:
 * mwriteprotect_range → uffd_wp_range → mm/mprotect.c: change_protection, v6.13).
 *
 * mwriteprotect_range: mmap_read_lock; the VMA must be registered VM_UFFD_WP (-ENOENT);
 * uffd_wp_range: MM_CP_UFFD_WP (protect) or MM_CP_UFFD_WP_RESOLVE (+ MM_CP_TRY_CHANGE_WRITABLE when
 * vma_wants_manual_pte_write_upgrade: VM_WRITE); change_pud_range opens the mmu-notifier bracket
 * (MMU_NOTIFY_PROTECTION_VMA) over the range; change_pmd_range per pmd: change_pmd_prepare
 * (pgtable_populate_needed: protecting a file VMA, whose none PTEs get markers → pte_alloc), a none
 * pmd is skipped, change_pte_range under the PTL (pte_offset_map_lock failing → -EAGAIN → `goto
 * again`): a present PTE gets pte_modify(vm_page_prot) (read-only: uffd-wp VMAs want write-notify,
 * private ones COW) then pte_mkuffd_wp or pte_clear_uffd_wp, then pte_mkwrite if
 * can_change_pte_writable (an exclusive anon page, or a dirty shared one); a swap or migration
 * entry gets the swap uffd-wp bit; a uffd-wp marker is dropped on resolve, a poison marker left;
 * a none PTE of a file VMA gets a uffd-wp marker (userfaultfd_wp_use_markers). Then the ioctl
 * wakes the range when un-protecting without DONTWAKE (wake_userfault).
 *
 * Kernel history (switch `uffd_wp_pgtable_alloc_enomem`): before "mm/uffd: detect pgtable
 * allocation failures" (d1751118c886, v6.3) change_pmd_prepare was
 * `if (WARN_ON_ONCE(pte_alloc(vma->vm_mm, pmd))) break;` and the error was dropped (the pmd stays
 * none and is skipped; the ioctl returns 0); after it, -ENOMEM ends the walk and is returned.
 *
 * change_protection is its own proc, shared with mprotect (actors/mm/mprotect.ts); its commits
 * check page_table_check_pte_flags (CONFIG_PAGE_TABLE_CHECK: no writable uffd-wp PTE).
 *
 * Simplified: one VMA per call (the range inside it; for_each_vma_range over one VMA); the PTE loop
 * of one table is one step under the PTL; no TLB (tlb_flush_pte_range / tlb_finish_mmu are
 * implicit: user accesses read the PTEs); mmap_changing is never set (no non-cooperative events
 * are modelled) so its -EAGAIN is never taken; huge pmds (change_huge_pmd / __split_huge_pmd) end
 * the run with a `warn` verdict (not modelled); hugetlb VMAs are rejected at load time;
 * UFFD_FEATURE_WP_UNPOPULATED and WP_ASYNC are not modelled; no mmget_not_zero (the mm never exits).
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  EINVAL,
  ENOENT,
  ENOMEM,
  is_migration_entry,
  is_pmd_migration_entry,
  is_swap_pte,
  pmd_none,
  pmd_table,
  pmd_trans_huge,
  PTRS_PER_PTE,
  pte_dirty,
  pte_mkwrite,
  pte_none,
  pte_present,
  pte_write,
  pte_wrprotect,
  VM_SHARED,
  VM_UFFD_WP,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import { folio_test_anon, PageAnonExclusive } from '../../src/kernel/folio.js';
import { type Kernel, kern, type Mem } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { __pte_alloc, pmd_index, pmdp_get, pte_offset_map_lock, pte_unmap_unlock, set_pte_at } from '../../src/kernel/pgtable.js';
import { is_pte_marker, pte_clear_uffd_wp, pte_marker_uffd_wp, pte_mkuffd_wp, pte_swp_mkuffd_wp, pte_uffd_wp, UFFD_WP_MARKER } from '../../src/kernel/pte-marker.js';
import { vm_flags, vm_normal_folio, vma_attached } from '../mm/common.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from '../mm/notifier.js';
import { wake_userfault } from '../mm/userfault.js';
import { vma_is_anonymous } from './common.js';
import { type MmId, type VmaId, NO_TABLE } from '../../src/kernel/ids.js';

/** uffdio_writeprotect.mode bits (include/uapi/linux/userfaultfd.h). */
export const UFFDIO_WRITEPROTECT_MODE_WP = 1 << 0;
export const UFFDIO_WRITEPROTECT_MODE_DONTWAKE = 1 << 1;

/** cp_flags of change_protection (include/linux/mm.h). */
export const MM_CP_TRY_CHANGE_WRITABLE = 1 << 0;
const MM_CP_UFFD_WP = 1 << 2;
const MM_CP_UFFD_WP_RESOLVE = 1 << 3;

/** can_change_pte_writable (mm/mprotect.c): not uffd-wp; private: an exclusive anon page; shared: dirty. */
function can_change_pte_writable(m: Mem, K: Kernel, flags: number, pte: number): boolean {
  if (!(flags & VM_WRITE)) return false;
  if (flags & VM_UFFD_WP && pte_uffd_wp(pte)) return false; // userfaultfd_pte_wp
  if (!(flags & VM_SHARED)) {
    const f = vm_normal_folio(pte);
    return f >= 0 && folio_test_anon(m, K, f) && PageAnonExclusive(m, K, f);
  }
  return pte_dirty(pte);
}

/**
 * vm_page_prot's write bit (vma_set_page_prot): only a shared writable mapping without write-notify
 * (shmem, not registered uffd-wp: vma_wants_writenotify) maps writable; private ones COW.
 */
const page_prot_writable = (flags: number): boolean => (flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE) && !(flags & VM_UFFD_WP);

/**
 * change_pte_range's loop over [from, to) of table t: returns the pages changed, or -1 when
 * page_table_check_pte_flags warned (CONFIG_PAGE_TABLE_CHECK: a present PTE set writable with the
 * uffd-wp bit; checked here, on ptep_modify_prot_commit's set_pte_at, only). Present PTEs,
 * swap/migration entries, markers and none PTEs as in mm/mprotect.c (v6.13).
 */
function change_ptes(k: Ctx, K: Kernel, vma: number, t: number, from: number, to: number, cp: number): number {
  const m = k.w;
  const flags = vm_flags(m, K, vma);
  const uffd_wp = (cp & MM_CP_UFFD_WP) !== 0;
  const resolve = (cp & MM_CP_UFFD_WP_RESOLVE) !== 0;
  let pages = 0;
  for (let vpn = from; vpn < to; vpn++) {
    const i = vpn & (PTRS_PER_PTE - 1);
    const old = m.get(K.pteSlot(t, i));
    if (pte_present(old)) {
      let ptent = page_prot_writable(flags) ? pte_mkwrite(old) : pte_wrprotect(old); // pte_modify(oldpte, newprot)
      if (uffd_wp) ptent = pte_mkuffd_wp(ptent);
      else if (resolve) ptent = pte_clear_uffd_wp(ptent);
      if (cp & MM_CP_TRY_CHANGE_WRITABLE && !pte_write(ptent) && can_change_pte_writable(m, K, flags, ptent)) ptent = pte_mkwrite(ptent);
      if (k.WARN_ON(pte_uffd_wp(ptent) && pte_write(ptent), 'pte_write(pte) with pte_uffd_wp(pte) in page_table_check_pte_flags')) return -1;
      set_pte_at(k, K, t, i, ptent); // ptep_modify_prot_start / _commit
      pages++;
    } else if (is_swap_pte(old) || is_migration_entry(old)) {
      const newpte = uffd_wp ? pte_swp_mkuffd_wp(old) : resolve ? pte_clear_uffd_wp(old) : old;
      if (newpte !== old) {
        set_pte_at(k, K, t, i, newpte);
        pages++;
      }
    } else if (is_pte_marker(old)) {
      // poison markers are ignored; "If this is uffd-wp pte marker and we'd like to unprotect it, drop it"
      if (pte_marker_uffd_wp(old) && resolve) {
        set_pte_at(k, K, t, i, 0); // pte_clear
        pages++;
      }
    } else if (pte_none(old) && uffd_wp && !vma_is_anonymous(K, vma)) {
      // userfaultfd_wp_use_markers: "For file-backed mem, we need to be able to wr-protect a none pte"
      set_pte_at(k, K, t, i, UFFD_WP_MARKER);
      pages++;
    }
  }
  return pages;
}

/**
 * change_protection(tlb, vma, start, end, cp_flags) for a non-hugetlb VMA: args [mm, vma, start vpn,
 * end vpn, cp_flags]; the caller holds mmap_lock. Returns the pages changed or -ENOMEM.
 */
export const change_protection = kproc(
  'change_protection',
  'mm/mprotect.c: change_protection → change_protection_range → change_pud_range → change_pmd_range → change_pte_range',
  (a: { mm: MmId; vma: VmaId; start: number; end: number; cp: number }) => ({
    mm: a.mm,
    vma: a.vma,
    start: a.start,
    end: a.end,
    cp: a.cp,
    addr: a.start,
    next: 0,
    pages: 0,
    err: 0,
    t: NO_TABLE,
  }),
  {
    // change_pud_range: mmu_notifier_range_init(MMU_NOTIFY_PROTECTION_VMA) + invalidate_range_start
    start: (k, l) => k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.start, end: l.end }, 'pmd'),
    // change_pmd_range, again: change_pmd_prepare (pgtable_populate_needed → pte_alloc)
    pmd: (k, l) => {
      const K = kern(k);
      l.next = Math.min((pmd_index(l.addr) + 1) * PTRS_PER_PTE, l.end);
      const populate = l.cp & MM_CP_UFFD_WP && !vma_is_anonymous(K, l.vma);
      if (populate && pmd_none(pmdp_get(k.w, K, l.mm, pmd_index(l.addr)))) return k.call(__pte_alloc, { mm: l.mm, pmd: pmd_index(l.addr) }, 'alloced');
      return 'pmd_check';
    },
    alloced: (k, l) => {
      if (k.rv >= 0) return 'pmd_check';
      if (k.sw('uffd_wp_pgtable_alloc_enomem')) {
        l.err = ENOMEM; // "if (pte_alloc(vma->vm_mm, pmd)) err = -ENOMEM"; pages = ret; break
        k.note(() => `change_pmd_prepare: pte_alloc for pmd ${pmd_index(l.addr)} failed, -ENOMEM`);
        return 'notify_end';
      }
      // v6.2: "if (WARN_ON_ONCE(pte_alloc(vma->vm_mm, pmd))) break;" — the error is dropped
      k.note(() => `change_pmd_prepare: pte_alloc for pmd ${pmd_index(l.addr)} failed (error dropped, vpn ${l.addr} stays unprotected)`);
      k.WARN_ON(true, 'WARN_ON_ONCE(pte_alloc(vma->vm_mm, pmd)) in change_pmd_prepare');
      return ENDED;
    },
    pmd_check: (k, l) => {
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.addr));
      if (pmd_none(v)) return 'next';
      if (k.WARN_ON(pmd_trans_huge(v) || is_pmd_migration_entry(v), 'change_huge_pmd / __split_huge_pmd not modelled')) return ENDED;
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.addr) }, 'locked');
    },
    // change_pte_range: "if (!pte) return -EAGAIN" → change_pmd_range's `goto again`
    locked: (k, l) => {
      if (k.rv === 0) return 'pmd';
      l.t = pmd_table(k.rv);
      return 'ptes';
    },
    ptes: (k, l) => {
      const K = kern(k);
      const n = change_ptes(k, K, l.vma, l.t, l.addr, l.next, l.cp);
      if (n < 0) return ENDED;
      l.pages += n;
      k.note(() => `change_pte_range: vpn ${l.addr}..${l.next - 1} ${l.cp & MM_CP_UFFD_WP ? 'uffd-wp protected' : l.cp & MM_CP_UFFD_WP_RESOLVE ? 'uffd-wp resolved' : 'protection changed'} (${n} changed)`);
      return pte_unmap_unlock(k, K, l.t) ? 'next' : ENDED;
    },
    next: (_k, l) => {
      l.t = NO_TABLE;
      l.addr = l.next;
      return l.addr < l.end ? 'pmd' : 'notify_end';
    },
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.start, end: l.end }, 'done'),
    done: (k, l) => k.ret(l.err ? l.err : l.pages),
  },
);

/**
 * userfaultfd_writeprotect: args [mm, vma, start vpn, pages, uffdio_writeprotect.mode]. Returns 0
 * or a negative errno.
 */
export const mwriteprotect_range = kproc(
  'mwriteprotect_range',
  'fs/userfaultfd.c: userfaultfd_writeprotect → mm/userfaultfd.c: mwriteprotect_range → uffd_wp_range',
  (a: { mm: MmId; vma: VmaId; start: number; pages: number; mode: number }) => ({ mm: a.mm, vma: a.vma, start: a.start, end: a.start + a.pages, mode: a.mode, err: 0 }),
  {
    // userfaultfd_writeprotect: "if (mode_wp && mode_dontwake) return -EINVAL"; mwriteprotect_range: mmap_read_lock
    start: (k, l) => {
      if (l.mode & UFFDIO_WRITEPROTECT_MODE_WP && l.mode & UFFDIO_WRITEPROTECT_MODE_DONTWAKE) return k.ret(EINVAL);
      return 'lock';
    },
    lock: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'vma' : BLOCKED),
    vma: (k, l) => {
      const K = kern(k);
      const flags = vm_flags(k.w, K, l.vma);
      // for_each_vma_range finds no VMA (unmapped, or moved away by mremap) or one without VM_UFFD_WP: -ENOENT
      if (!vma_attached(k.w, K, l.vma) || !(flags & VM_UFFD_WP)) {
        l.err = ENOENT;
        return 'unlock';
      }
      // uffd_wp_range: MM_CP_UFFD_WP, or _RESOLVE + MM_CP_TRY_CHANGE_WRITABLE (vma_wants_manual_pte_write_upgrade)
      const cp = l.mode & UFFDIO_WRITEPROTECT_MODE_WP ? MM_CP_UFFD_WP : MM_CP_UFFD_WP_RESOLVE | (flags & VM_WRITE ? MM_CP_TRY_CHANGE_WRITABLE : 0);
      return k.call(change_protection, { mm: l.mm, vma: l.vma, start: l.start, end: l.end, cp }, 'changed');
    },
    // "Return 0 on success, <0 on failures"
    changed: (k, l) => {
      if (k.rv < 0) l.err = k.rv;
      return 'unlock';
    },
    unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'wake' : ENDED),
    // userfaultfd_writeprotect: "if (!mode_wp && !mode_dontwake) wake_userfault(ctx, &range)"
    wake: (k, l) => {
      if (l.err) return k.ret(l.err);
      if (!(l.mode & (UFFDIO_WRITEPROTECT_MODE_WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE))) wake_userfault(k, kern(k), l.mm);
      return k.ret(0);
    },
  },
);
