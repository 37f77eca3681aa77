/**
 * mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of a whole VMA (mm/mremap.c, v6.11): move_vma →
 * copy_vma → move_page_tables → do_vmi_munmap of the old range, under mmap_write_lock.
 *
 * move_page_tables per pmd extent: get_old_pmd (none: nothing to move); a huge or migration pmd →
 * move_pgt_entry(HPAGE_PMD) → move_huge_pmd; a table covering the whole extent →
 * move_pgt_entry(NORMAL_PMD) → move_normal_pmd, both with take_rmap_locks (i_mmap_rwsem for
 * write, then the anon_vma lock for write) around the pmd lock. If move_normal_pmd declines, the
 * PTE path: pmd_none(*old_pmd) → continue; pte_alloc(new_pmd); move_ptes (rmap locks,
 * pte_offset_map_lock(old) and pte_offset_map_nolock(new) → -EAGAIN → goto again; the new PTL
 * nested in the old; ptep_get_and_clear + set_pte_at; flush_tlb_range). `again:` sits after
 * get_old_pmd/alloc_new_pmd (a5be621ee292, v6.5; same in mainline 000c0691ec6a): the retry re-reads
 * *old_pmd and goes back to move_pgt_entry with no pmd_none check before it.
 *
 * move_normal_pmd before "mm/mremap: fix move_normal_pmd/retract_page_tables race" (6fa1066fc5d0,
 * v6.12; Fixes: 1d65b771bc08 "mm/khugepaged: retract_page_tables() without mmap or vma lock"):
 * `pmd = *old_pmd; pmd_clear(old_pmd); pmd_populate(mm, new_pmd, pmd_pgtable(pmd))` without looking
 * at pmd, which retract_page_tables (i_mmap_rwsem only) may have cleared after get_old_pmd: the
 * new pmd then points at a bogus table (an `invariant` verdict here). With switch
 * `mremap_recheck_normal_pmd`: "Racing with collapse?" — !pmd_present || pmd_leaf → return false.
 *
 * Simplified: the new VMA is declared in the world (it stands for the one copy_vma creates: same
 * file and pgoff, or anonymous; nothing may touch it before the mremap); need_rmap_locks is always
 * true (copy_vma: new_vma->vm_pgoff <= vma->vm_pgoff); one pmd lock per mm, so move_normal_pmd's
 * old and new pmd locks are one lock (new_ptl == old_ptl: no nesting); move_huge_pmd moves the entry
 * only (no deposited table, no rmap change); the PTE loop of move_ptes is one step under both PTLs;
 * no TLB (flush_tlb_range is a note); do_vmi_munmap of the emptied old range is detach +
 * unlink_file_vma (a table left by the PTE path is not freed); anonymous VMAs keep folio->index.
 *
 * `dontunmap` (MREMAP_DONTUNMAP, move_vma v6.4): the old VMA stays mapped (empty); "anon_vma links
 * of the old vma is no longer needed after its page table has been moved": unlink_anon_vmas, which
 * sets vma->anon_vma = NULL ("anon_vma will be prepared when handle fault"); one step here (no
 * anon_vma root lock). VM_LOCKED clearing and accounting are not modelled.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { ENOMEM, is_pmd_migration_entry, PTRS_PER_PTE, pmd_is_table, pmd_none, pmd_table, pmd_trans_huge } from '../../src/kernel/defs.js';
import { kern, VMA_ANON_VMA, VMA_ATTACHED, VMA_IMMAP } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { __pte_alloc, pmd_index, pmd_populate, pmdp_get, pte_offset_map, pte_offset_map_lock, pte_unmap, pte_unmap_unlock, ptep_get_and_clear, set_pmd, set_pte_at } from '../../src/kernel/pgtable.js';
import { anon_vma_lock, pmdText, vma_anon_vma } from '../uffd/common.js';
import { mmap_write_unlock, vma_start_write } from './common.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start } from './notifier.js';
import { type MmId, NO_TABLE } from '../../src/kernel/ids.js';

/** move_page_tables at `again:` — is_swap_pmd || pmd_trans_huge → move_pgt_entry(HPAGE_PMD); else with
 * CONFIG_HAVE_MOVE_PMD → move_pgt_entry(NORMAL_PMD); else the PTE path (its pmd_none(*old_pmd) check). */
function move_pgt_dispatch(k: Ctx, l: { huge: number; noMovePmd: number; again: number; os: number }, v: number): 'fallback' | 'rmap_lock' {
  l.again = 0;
  l.huge = pmd_trans_huge(v) || is_pmd_migration_entry(v) ? 1 : 0;
  if (!l.huge && l.noMovePmd) return 'fallback';
  k.note(() => `move_page_tables: old pmd ${pmd_index(l.os)} is ${pmdText(v)} → move_pgt_entry(${l.huge ? 'HPAGE_PMD' : 'NORMAL_PMD'})`);
  return 'rmap_lock';
}

/** mremap_move: args [mm, old vma, new vma, no_move_pmd]; 0 or a negative errno. no_move_pmd: an
 * architecture without CONFIG_HAVE_MOVE_PMD (or arch_supports_page_table_move() false): PTE path only. */
export const mremap_move = kproc(
  'mremap_move',
  'mm/mremap.c: mremap → move_vma → move_page_tables',
  (a: { mm: MmId; old: number; nw: number; noMovePmd: number; dontunmap?: number }) => ({ mm: a.mm, old: a.old, nw: a.nw, noMovePmd: a.noMovePmd, dontunmap: a.dontunmap ?? 0, os: 0, ns: 0, huge: 0, moved: 0, again: 0, t: NO_TABLE, nt: -1, err: 0 }),
  {
    lock: (k, l) => (k.down_write(kern(k).mm(l.mm).mmap_lock) ? 'start_write_old' : BLOCKED),
    // move_vma: "We don't want racing faults" — vma_start_write(vma); the new VMA is write-locked too
    start_write_old: (k, l) => (vma_start_write(k, kern(k), l.old) ? 'start_write_new' : BLOCKED),
    start_write_new: (k, l) => (vma_start_write(k, kern(k), l.nw) ? 'copy_vma' : BLOCKED),
    copy_vma: (k, l) => {
      const K = kern(k);
      l.os = K.vma(l.old).start;
      l.ns = K.vma(l.nw).start;
      // copy_vma → anon_vma_clone: the new VMA shares the old one's anon_vma
      const av = k.w.get(K.vmaSlot(l.old, VMA_ANON_VMA));
      if (av) k.w.set(K.vmaSlot(l.nw, VMA_ANON_VMA), av);
      return k.call(mmu_notifier_invalidate_range_start, { mm: l.mm, start: l.os, end: l.os + PTRS_PER_PTE }, 'get_old_pmd');
    },
    // get_old_pmd: pmd_none → NULL, nothing to move (continue)
    get_old_pmd: (k, l) => {
      const v = pmdp_get(k.w, kern(k), l.mm, pmd_index(l.os));
      if (pmd_none(v)) return 'notify_end';
      return move_pgt_dispatch(k, l, v);
    },
    // again: (move_ptes -EAGAIN → goto again) re-reads *old_pmd without get_old_pmd's pmd_none check
    again: (k, l) => move_pgt_dispatch(k, l, pmdp_get(k.w, kern(k), l.mm, pmd_index(l.os))),
    // take_rmap_locks: i_mmap_lock_write(vma->vm_file->f_mapping), anon_vma_lock_write(vma->anon_vma)
    rmap_lock: (k, l) => {
      const K = kern(k);
      const map = K.vma(l.old).memfd;
      if (map < 0) return 'rmap_anon';
      return k.down_write(K.mapping(map).i_mmap_rwsem) ? 'rmap_anon' : BLOCKED;
    },
    rmap_anon: (k, l) => {
      const K = kern(k);
      const av = vma_anon_vma(k.w, K, l.old);
      if (av < 0) return l.huge ? 'pml' : 'normal_check';
      return k.down_write(anon_vma_lock(K, av)) ? (l.huge ? 'pml' : 'normal_check') : BLOCKED;
    },
    // move_normal_pmd: "If the target page table is already populated" — WARN_ON_ONCE, return false
    normal_check: (k, l) => {
      const K = kern(k);
      if (k.WARN_ON(!pmd_none(pmdp_get(k.w, K, l.mm, pmd_index(l.ns))), '!pmd_none(*new_pmd)')) return ENDED;
      return 'pml';
    },
    pml: (k, l) => (k.spin_lock(kern(k).mm(l.mm).page_table_lock) ? (l.huge ? 'move_huge' : 'move_normal') : BLOCKED),
    move_normal: (k, l) => {
      const K = kern(k);
      const op = pmd_index(l.os);
      const np = pmd_index(l.ns);
      const pmd = pmdp_get(k.w, K, l.mm, op);
      if (k.sw('mremap_recheck_normal_pmd') && !pmd_is_table(pmd)) {
        // "Racing with collapse?": !pmd_present(pmd) || pmd_leaf(pmd) → out_unlock, return false
        k.note(() => `move_normal_pmd: old pmd ${op} is ${pmdText(pmd)} under the locks (racing with collapse), fall back`);
        l.moved = 0;
        return 'pml_unlock';
      }
      set_pmd(k.w, K, l.mm, op, 0); // pmd_clear(old_pmd)
      if (k.BUG_ON(!pmd_none(pmdp_get(k.w, K, l.mm, np)), '!pmd_none(*new_pmd)')) return ENDED; // VM_BUG_ON
      if (!pmd_is_table(pmd)) {
        k.note(() => `move_normal_pmd: old pmd ${op} read as ${pmdText(pmd)}; pmd_populate(new_pmd, pmd_pgtable(pmd))`);
        return k.violated(`move_normal_pmd: pmd_populate of pmd ${np} with pmd_pgtable of a ${pmdText(pmd)} pmd (a bogus page table: physical page 0 on x86)`);
      }
      pmd_populate(k.w, K, l.mm, np, pmd_table(pmd));
      k.note(() => `move_normal_pmd: table ${pmd_table(pmd)} moved from pmd ${op} to pmd ${np}; flush_tlb_range`);
      l.moved = 1;
      return 'pml_unlock';
    },
    // move_huge_pmd: pmd_trans_huge_lock(old_pmd), pmdp_huge_get_and_clear, set_pmd_at(new_pmd)
    move_huge: (k, l) => {
      const K = kern(k);
      const op = pmd_index(l.os);
      const v = pmdp_get(k.w, K, l.mm, op);
      l.moved = 0;
      if (pmd_trans_huge(v) || is_pmd_migration_entry(v)) {
        set_pmd(k.w, K, l.mm, op, 0);
        set_pmd(k.w, K, l.mm, pmd_index(l.ns), v);
        l.moved = 1;
      }
      return 'pml_unlock';
    },
    pml_unlock: (k, l) => (k.spin_unlock(kern(k).mm(l.mm).page_table_lock) ? 'rmap_unlock' : ENDED),
    // drop_rmap_locks
    rmap_unlock: (k, l) => {
      const K = kern(k);
      const av = vma_anon_vma(k.w, K, l.old);
      if (av >= 0 && !k.up_write(anon_vma_lock(K, av))) return ENDED;
      const map = K.vma(l.old).memfd;
      if (map >= 0 && !k.up_write(K.mapping(map).i_mmap_rwsem)) return ENDED;
      if (l.again) return 'again';
      return l.moved ? 'notify_end' : 'fallback';
    },
    // the PTE path: if (pmd_none(*old_pmd)) continue; if (pte_alloc(new_vma->vm_mm, new_pmd)) break;
    fallback: (k, l) => {
      const K = kern(k);
      if (pmd_none(pmdp_get(k.w, K, l.mm, pmd_index(l.os)))) {
        k.note(() => `move_page_tables: old pmd ${pmd_index(l.os)} is none, nothing to move`);
        return 'notify_end';
      }
      if (pmd_none(pmdp_get(k.w, K, l.mm, pmd_index(l.ns)))) return k.call(__pte_alloc, { mm: l.mm, pmd: pmd_index(l.ns) }, 'pte_alloced');
      return 'pt_rmap';
    },
    pte_alloced: (k, l) => {
      if (k.rv < 0) {
        l.err = ENOMEM;
        return 'notify_end';
      }
      return 'pt_rmap';
    },
    // move_ptes: take_rmap_locks (need_rmap_locks), then the old PTL, then the new PTL nested
    pt_rmap: (k, l) => {
      const K = kern(k);
      const map = K.vma(l.old).memfd;
      if (map < 0) return 'pt_rmap_anon';
      return k.down_write(K.mapping(map).i_mmap_rwsem) ? 'pt_rmap_anon' : BLOCKED;
    },
    pt_rmap_anon: (k, l) => {
      const K = kern(k);
      const av = vma_anon_vma(k.w, K, l.old);
      if (av >= 0 && !k.down_write(anon_vma_lock(K, av))) return BLOCKED;
      return k.call(pte_offset_map_lock, { mm: l.mm, pmd: pmd_index(l.os) }, 'pt_old_locked');
    },
    pt_old_locked: (k, l) => {
      if (k.rv === 0) {
        l.again = 1; // err = -EAGAIN → goto again
        k.note(() => `move_ptes: old table gone (pte_offset_map_lock failed), -EAGAIN`);
        return 'rmap_unlock';
      }
      l.t = pmd_table(k.rv);
      return 'pt_new_map';
    },
    // new_pte = pte_offset_map_nolock(mm, new_pmd, new_addr, &new_ptl)
    pt_new_map: (k, l) => {
      const K = kern(k);
      const v = pte_offset_map(k, K, l.mm, pmd_index(l.ns));
      if (v === 0) {
        l.again = 1;
        return pte_unmap_unlock(k, K, l.t) ? 'rmap_unlock' : ENDED;
      }
      l.nt = pmd_table(v);
      return 'pt_new_lock';
    },
    pt_new_lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.nt), 1) ? 'pt_move' : BLOCKED), // spin_lock_nested(new_ptl, SINGLE_DEPTH_NESTING)
    pt_move: (k, l) => {
      const K = kern(k);
      for (let i = 0; i < PTRS_PER_PTE; i++) {
        const p = ptep_get_and_clear(k, K, l.t, i);
        if (p !== 0) set_pte_at(k, K, l.nt, i, p); // move_pte / move_soft_dirty_pte
      }
      k.note(() => `move_ptes: PTEs of table ${l.t} moved to table ${l.nt}; flush_tlb_range`);
      l.moved = 1; // this extent is done
      return 'pt_new_unlock';
    },
    pt_new_unlock: (k, l) => {
      const K = kern(k);
      if (!k.spin_unlock(K.ptlOf(l.nt)) || !pte_unmap(k, K)) return ENDED;
      return 'pt_old_unlock';
    },
    pt_old_unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? 'rmap_unlock' : ENDED),
    notify_end: (k, l) => k.call(mmu_notifier_invalidate_range_end, { mm: l.mm, start: l.os, end: l.os + PTRS_PER_PTE }, 'unmap_old'),
    // do_vmi_munmap(old range): the VMA leaves the mm, then the file's i_mmap (unlink_file_vma)
    unmap_old: (k, l) => {
      if (l.dontunmap) return 'dontunmap';
      k.w.set(kern(k).vmaSlot(l.old, VMA_ATTACHED), 0);
      return 'unlink';
    },
    // MREMAP_DONTUNMAP: unlink_anon_vmas(vma) of the old VMA, which stays; no do_vmi_munmap
    dontunmap: (k, l) => {
      const K = kern(k);
      if (K.vma(l.old).memfd < 0) {
        k.w.set(K.vmaSlot(l.old, VMA_ANON_VMA), 0);
        k.note(() => `move_vma: MREMAP_DONTUNMAP, unlink_anon_vmas(${K.vma(l.old).name}): vma->anon_vma = NULL`);
      }
      return 'unlock';
    },
    unlink: (k, l) => {
      const K = kern(k);
      const map = K.vma(l.old).memfd;
      if (map < 0) return 'unlock';
      return k.down_write(K.mapping(map).i_mmap_rwsem) ? 'unlinked' : BLOCKED;
    },
    unlinked: (k, l) => {
      const K = kern(k);
      k.w.set(K.vmaSlot(l.old, VMA_IMMAP), 0);
      return k.up_write(K.mapping(K.vma(l.old).memfd).i_mmap_rwsem) ? 'unlock' : ENDED;
    },
    unlock: (k, l) => (mmap_write_unlock(k, kern(k), l.mm) ? k.ret(l.err) : ENDED),
  },
);

