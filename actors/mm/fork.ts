/**
 * fork's copy of the address space (kernel/fork.c: dup_mmap, v6.11; mm/memory.c: copy_page_range):
 * mmap_write_lock of the parent, mmap_write_lock_nested of the child, vma_start_write of each
 * parent VMA (switch fork_lock_parent_vmas: v6.5+; off: v6.4), then per VMA copy_page_range when vma_needs_copy (an anon_vma, VM_PFNMAP /
 * VM_MIXEDMAP, or uffd-wp): a COW mapping inside an mmu-notifier bracket; copy_pte_range takes
 * the child's PTL (pte_alloc_map_lock), maps the parent's table (pte_offset_map_nolock: none →
 * nothing to copy) and takes its PTL nested; copy_present_pte shares the folio (folio_get + rmap
 * dup; anon: folio_try_dup_anon_rmap clears PageAnonExclusive) and write-protects a writable COW
 * PTE in both parent and child; an anon-exclusive folio that may be DMA-pinned cannot be shared
 * (folio_needs_cow_for_dma): without a preallocated folio copy_pte_range drops the locks,
 * folio_prealloc, and starts again (-EAGAIN); with one, copy_present_page copies it eagerly into
 * the child and leaves the parent's PTE writable. Shared file mappings without an anon_vma are not
 * copied (the child faults them in).
 *
 * Simplified: the child is a process declared in the world with the parent's VMA layout (it stands
 * for the mm dup_mm creates; nothing may touch it before the fork); the child's VMAs share the
 * parent's anon_vma (for anon_vma_fork); MMF_HAS_PINNED is taken as set (folio_needs_cow_for_dma =
 * folio_maybe_dma_pinned); the PTE loop of one table is one step under both PTLs; huge pmds
 * (copy_huge_pmd) and non-present PTEs (copy_nonpresent_pte) are not modelled and end the run with
 * a `warn` verdict; no TLB (flush_tlb_mm is implicit); no write_protect_seq for GUP-fast.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  ENOMEM,
  folio_pfn,
  PG_anon,
  PG_anon_exclusive,
  PTRS_PER_PTE,
  pmd_is_table,
  pmd_none,
  pmd_table,
  pmd_trans_huge,
  mk_pte,
  pte_none,
  pte_present,
  pte_write,
  pte_wrprotect,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_SHARED,
  VM_WRITE,
} from '../../src/kernel/defs.js';
import {
  folio_add_new_anon_rmap,
  folio_add_rmap,
  folio_alloc,
  folio_clear_flag,
  folio_data,
  folio_get,
  folio_maybe_dma_pinned,
  folio_put,
  folio_test,
  folio_write_data,
} from '../../src/kernel/folio.js';
import { kern, VMA_ANON_VMA } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { __pte_alloc, pmd_index, pmdp_get, pte_offset_map, pte_offset_map_lock, pte_unmap, pte_unmap_unlock, set_pte_at } from '../../src/kernel/pgtable.js';
import { userfaultfd_wp } from '../uffd/common.js';
import { mmap_write_unlock, vm_flags, vm_normal_folio, vma_start_write } from './common.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from './notifier.js';
import { type MmId, NO_TABLE } from '../../src/kernel/ids.js';

/** "fork: lock VMAs of the parent process when forking" (fb49c455323f, v6.5-rc1; Fixes: 0bff0aaea03e):
 * vma_start_write(mpnt) at the top of dup_mmap's VMA loop; off: v6.4, the parent's VMAs are not
 * write-locked and a per-VMA-lock fault in the parent runs during copy_page_range. */
const LOCK_PARENT_VMAS = 'fork_lock_parent_vmas';

/** dup_mmap + copy_page_range: args [parent mm, child mm]; 0 or -ENOMEM. */
export const fork_mm = kproc(
  'fork_mm',
  'kernel/fork.c: dup_mmap → mm/memory.c: copy_page_range',
  (a: { p: MmId; c: MmId }) => ({ p: a.p, c: a.c, j: 0, src: -1, dst: -1, cow: 0, pmd: 0, end: 0, from: 0, eagain: -1, prealloc: -1, st: NO_TABLE, dt: NO_TABLE, err: 0 }),
  {
    lock_old: (k, l) => (k.down_write(kern(k).mm(l.p).mmap_lock) ? 'lock_new' : BLOCKED), // mmap_write_lock_killable(oldmm)
    lock_new: (k, l) => (k.down_write(kern(k).mm(l.c).mmap_lock, 1) ? 'vma' : BLOCKED), // mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING)
    vma: (k, l) => {
      const K = kern(k);
      const vmas = K.mm(l.p).vmas;
      if (l.j >= vmas.length) return 'unlock_new';
      l.src = vmas[l.j] as number;
      l.dst = K.mm(l.c).vmas[l.j] as number;
      l.j++;
      return k.sw(LOCK_PARENT_VMAS) ? 'start_write' : 'dup';
    },
    start_write: (k, l) => (vma_start_write(k, kern(k), l.src) ? 'dup' : BLOCKED),
    // vm_area_dup + anon_vma_fork; then copy_page_range if vma_needs_copy
    dup: (k, l) => {
      const K = kern(k);
      const av = k.w.get(K.vmaSlot(l.src, VMA_ANON_VMA));
      if (av) k.w.set(K.vmaSlot(l.dst, VMA_ANON_VMA), av);
      const flags = vm_flags(k.w, K, l.src);
      if (!(flags & (VM_PFNMAP | VM_MIXEDMAP)) && !userfaultfd_wp(k.w, K, l.dst) && !av) return 'vma';
      l.cow = !(flags & VM_SHARED) && flags & VM_WRITE ? 1 : 0; // is_cow_mapping (VM_MAYWRITE = VM_WRITE here)
      l.pmd = pmd_index(K.vma(l.src).start);
      l.end = pmd_index(K.vma(l.src).end + PTRS_PER_PTE - 1);
      l.from = 0;
      if (l.cow) return k.call(mmu_notifier_invalidate_range_start, { mm: l.p, start: K.vma(l.src).start, end: K.vma(l.src).end }, 'pmd_range');
      return 'pmd_range';
    },
    // copy_pmd_range: none → skip; huge → copy_huge_pmd (not modelled); a table → copy_pte_range
    pmd_range: (k, l) => {
      const K = kern(k);
      if (l.pmd >= l.end) return l.cow ? k.call(mmu_notifier_invalidate_range_end, { mm: l.p, start: K.vma(l.src).start, end: K.vma(l.src).end }, 'vma') : 'vma';
      const v = pmdp_get(k.w, K, l.p, l.pmd);
      if (pmd_none(v)) {
        l.pmd++;
        return 'pmd_range';
      }
      if (k.WARN_ON(!pmd_is_table(v), pmd_trans_huge(v) ? 'copy_huge_pmd not modelled' : 'pmd migration entry not modelled')) return ENDED;
      if (pmd_none(pmdp_get(k.w, K, l.c, l.pmd))) return k.call(__pte_alloc, { mm: l.c, pmd: l.pmd }, 'dst_alloced');
      return 'dst_lock';
    },
    dst_alloced: (k, l) => {
      if (k.rv < 0) {
        l.err = ENOMEM;
        return 'vma_end';
      }
      return 'dst_lock';
    },
    // again: dst_pte = pte_alloc_map_lock(dst_mm, dst_pmd, addr, &dst_ptl)
    dst_lock: (k, l) => k.call(pte_offset_map_lock, { mm: l.c, pmd: l.pmd }, 'src_map'),
    src_map: (k, l) => {
      const K = kern(k);
      if (k.rv === 0) {
        l.err = ENOMEM; // the child's table is never removed under its mmap_lock
        return 'vma_end';
      }
      l.dt = pmd_table(k.rv);
      const v = pte_offset_map(k, K, l.p, l.pmd); // pte_offset_map_nolock(src_mm, src_pmd, addr, &src_ptl)
      if (v === 0) return pte_unmap_unlock(k, K, l.dt) ? 'next_pmd' : ENDED;
      l.st = pmd_table(v);
      return 'src_lock';
    },
    src_lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.st), 1) ? 'copy' : BLOCKED), // spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING)
    copy: (k, l) => {
      const K = kern(k);
      const m = k.w;
      const base = l.pmd * PTRS_PER_PTE;
      const flags = vm_flags(m, K, l.src);
      l.eagain = -1;
      for (let i = l.from; i < PTRS_PER_PTE; i++) {
        const vpn = base + i;
        if (vpn < K.vma(l.src).start || vpn >= K.vma(l.src).end) continue;
        let pte = m.get(K.pteSlot(l.st, i));
        if (pte_none(pte)) continue;
        if (k.WARN_ON(!pte_present(pte), 'copy_nonpresent_pte not modelled')) return ENDED;
        const f = vm_normal_folio(pte);
        if (f >= 0 && folio_test(m, K, f, PG_anon)) {
          // folio_try_dup_anon_rmap_pte: fails for an exclusive page that may be pinned
          if (folio_test(m, K, f, PG_anon_exclusive) && folio_maybe_dma_pinned(m, K, f)) {
            if (l.prealloc < 0) {
              l.eagain = i; // copy_present_page: "if (!prealloc) return -EAGAIN"
              break;
            }
            // copy_present_page: the child gets its own copy now; the parent's PTE is left as it is
            const nf = l.prealloc;
            l.prealloc = -1;
            folio_write_data(m, K, nf, folio_data(m, K, f));
            folio_add_new_anon_rmap(m, K, nf, m.get(K.vmaSlot(l.dst, VMA_ANON_VMA)) - 1, vpn);
            set_pte_at(k, K, l.dt, i, mk_pte(folio_pfn(nf), _PAGE_DIRTY | (flags & VM_WRITE ? _PAGE_RW : 0)));
            k.note(() => `copy_present_page: vpn ${vpn} folio ${f} may be pinned, child gets a copy (folio ${nf})`);
            continue;
          }
          folio_get(m, K, f);
          folio_clear_flag(m, K, f, PG_anon_exclusive);
          folio_add_rmap(m, K, f);
        } else if (f >= 0) {
          folio_get(m, K, f);
          folio_add_rmap(m, K, f); // folio_dup_file_rmap_pte
        }
        // "If it's a COW mapping, write protect it both in the parent and the child"
        if (l.cow && pte_write(pte)) {
          set_pte_at(k, K, l.st, i, pte_wrprotect(pte)); // ptep_set_wrprotect
          pte = pte_wrprotect(pte);
        }
        if (flags & VM_SHARED) pte &= ~_PAGE_DIRTY; // pte_mkclean in the child
        set_pte_at(k, K, l.dt, i, pte);
        k.note(() => `copy_present_pte: vpn ${vpn} folio ${f} shared with the child${l.cow ? ', write-protected in both' : ''}`);
      }
      return 'src_unlock';
    },
    src_unlock: (k, l) => {
      const K = kern(k);
      return k.spin_unlock(K.ptlOf(l.st)) && pte_unmap(k, K) ? 'dst_unlock' : ENDED;
    },
    dst_unlock: (k, l) => {
      if (!pte_unmap_unlock(k, kern(k), l.dt)) return ENDED;
      if (l.eagain < 0) return 'next_pmd';
      l.from = l.eagain;
      return 'prealloc';
    },
    // -EAGAIN: prealloc = folio_prealloc(src_mm, src_vma, addr, false); goto again
    prealloc: (k, l) => {
      const K = kern(k);
      l.prealloc = folio_alloc(k.w, K, 0);
      if (l.prealloc < 0) {
        l.err = ENOMEM;
        return 'vma_end';
      }
      k.note(() => `copy_pte_range: -EAGAIN at vpn ${l.pmd * PTRS_PER_PTE + l.from}, folio_prealloc → folio ${l.prealloc}`);
      return 'dst_lock';
    },
    next_pmd: (_k, l) => {
      l.pmd++;
      l.from = 0;
      return 'pmd_range';
    },
    // an error ends the copy (dup_mmap's "goto loop_out"); the notifier bracket is closed first
    vma_end: (k, l) => {
      const K = kern(k);
      if (l.cow) return k.call(mmu_notifier_invalidate_range_end, { mm: l.p, start: K.vma(l.src).start, end: K.vma(l.src).end }, 'unlock_new');
      return 'unlock_new';
    },
    unlock_new: (k, l) => {
      const K = kern(k);
      if (l.prealloc >= 0) folio_put(k, K, l.prealloc);
      l.prealloc = -1;
      return mmap_write_unlock(k, K, l.c) ? 'unlock_old' : ENDED;
    },
    unlock_old: (k, l) => (mmap_write_unlock(k, kern(k), l.p) ? k.ret(l.err) : ENDED),
  },
);
