/**
 * The PTE movers of UFFDIO_REMAP RFC v2 (mm/userfaultfd.c), called by remap_pages_pte
 * (remap-rfc-pte.ts) with both tables mapped: remap_anon_pte moves a present anon PTE (folio and
 * anon_vma locked by the caller) and remap_swap_pte a swap PTE, each under double_pt_lock after
 * pte_same on both PTEs.
 *
 * Variant switch remap_pmd_recheck (registered in src/scenario/uffd-ops.ts): Jann's fix also
 * rechecks both pmds (pmd_same) under the two PTLs and returns -EAGAIN if either changed.
 * Simplified: no swap device (swap PTEs move as is).
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { _PAGE_SWP_EXCLUSIVE, EAGAIN, EBUSY } from '../../src/kernel/defs.js';
import { folio_mapcount, folio_test_anon } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index, ptep_get, ptep_get_and_clear, set_pte_at } from '../../src/kernel/pgtable.js';
import { first_of, folio_move_anon_rmap, folio_test_large, moved_pte, pmdText, pteText, second_of } from './common.js';
import type { FolioId, MmId, TableId, VmaId } from '../../src/kernel/ids.js';

const FIX = 'remap_pmd_recheck';

/**
 * remap_anon_pte (RFC v2): args [mm, dst vma, src vma, dst vpn, src vpn, dst table, src table,
 * orig dst pte, orig src pte, folio, dst pmdval, src pmdval]; 0 or -EAGAIN. Folio and anon_vma
 * locked by the caller.
 */
export const remap_anon_pte = kproc(
  'remap_anon_pte',
  'mm/userfaultfd.c: remap_anon_pte (RFC v2)',
  (a: { mm: MmId; dvma: VmaId; svma: VmaId; da: number; sa: number; dt: TableId; st: TableId; odst: number; osrc: number; f: FolioId; dval: number; sval: number }) => ({
    mm: a.mm,
    dvma: a.dvma,
    svma: a.svma,
    da: a.da,
    sa: a.sa,
    dt: a.dt,
    st: a.st,
    odst: a.odst,
    osrc: a.osrc,
    f: a.f,
    dval: a.dval,
    sval: a.sval,
    err: 0,
  }),
  {
    // double_pt_lock(dst_ptl, src_ptl): lock in address order
    lock1: (k, l) => {
      const K = kern(k);
      return k.spin_lock(first_of(K.ptlOf(l.dt), K.ptlOf(l.st))) ? 'lock2' : BLOCKED;
    },
    lock2: (k, l) => {
      const K = kern(k);
      if (l.dt === l.st) return 'check';
      return k.spin_lock(second_of(K.ptlOf(l.dt), K.ptlOf(l.st)), 1) ? 'check' : BLOCKED;
    },
    check: (k, l) => {
      const K = kern(k);
      const m = k.w;
      if (k.sw(FIX) && (pmdp_get(m, K, l.mm, pmd_index(l.da)) !== l.dval || pmdp_get(m, K, l.mm, pmd_index(l.sa)) !== l.sval)) {
        l.err = EAGAIN;
        k.note(() => 'remap_anon_pte: pmd changed under us (pmd_same failed under both PTLs): -EAGAIN');
        return 'unlock1';
      }
      if (ptep_get(k, K, l.st, pte_index(l.sa)) !== l.osrc || ptep_get(k, K, l.dt, pte_index(l.da)) !== l.odst || folio_test_large(m, K, l.f) || folio_mapcount(m, K, l.f) !== 1) {
        l.err = EAGAIN;
        return 'unlock1';
      }
      if (k.BUG_ON(!folio_test_anon(m, K, l.f), '!folio_test_anon(src_folio)')) return ENDED;
      folio_move_anon_rmap(m, K, l.f, l.dvma, l.da); // WRITE_ONCE(src_folio->mapping / ->index)
      return 'clear';
    },
    clear: (k, l) => {
      ptep_get_and_clear(k, kern(k), l.st, pte_index(l.sa)); // ptep_clear_flush(src_vma, src_addr, src_pte)
      return 'set';
    },
    set: (k, l) => {
      const K = kern(k);
      k.note(() => `remap_anon_pte: set_pte_at(dst vpn ${l.da}) in table ${l.dt}, dst pmd now ${pmdText(pmdp_get(k.w, K, l.mm, pmd_index(l.da)))}`);
      set_pte_at(k, K, l.dt, pte_index(l.da), moved_pte(l.f));
      return 'unlock1';
    },
    unlock1: (k, l) => (k.spin_unlock(first_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? 'unlock2' : ENDED),
    unlock2: (k, l) => {
      if (l.dt !== l.st && !k.spin_unlock(second_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st)))) return ENDED;
      return k.ret(l.err);
    },
  },
);

/**
 * remap_swap_pte (RFC v2): args [mm, dst vpn, src vpn, dst table, src table, orig dst, orig src,
 * dst pmdval, src pmdval]; 0, -EBUSY or -EAGAIN.
 */
export const remap_swap_pte = kproc(
  'remap_swap_pte',
  'mm/userfaultfd.c: remap_swap_pte (RFC v2)',
  (a: { mm: MmId; da: number; sa: number; dt: TableId; st: TableId; odst: number; osrc: number; dval: number; sval: number }) => ({ mm: a.mm, da: a.da, sa: a.sa, dt: a.dt, st: a.st, odst: a.odst, osrc: a.osrc, dval: a.dval, sval: a.sval, err: 0 }),
  {
    start: (k, l) => (l.osrc & _PAGE_SWP_EXCLUSIVE ? 'lock1' : k.ret(EBUSY)), // !pte_swp_exclusive
    lock1: (k, l) => (k.spin_lock(first_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? 'lock2' : BLOCKED),
    lock2: (k, l) => (l.dt === l.st || k.spin_lock(second_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st)), 1) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      const m = k.w;
      const pmdMoved = k.sw(FIX) && (pmdp_get(m, K, l.mm, pmd_index(l.da)) !== l.dval || pmdp_get(m, K, l.mm, pmd_index(l.sa)) !== l.sval);
      if (pmdMoved || ptep_get(k, K, l.st, pte_index(l.sa)) !== l.osrc || ptep_get(k, K, l.dt, pte_index(l.da)) !== l.odst) {
        l.err = EAGAIN;
        return 'unlock1';
      }
      return 'move';
    },
    move: (k, l) => {
      const K = kern(k);
      const e = ptep_get_and_clear(k, K, l.st, pte_index(l.sa));
      set_pte_at(k, K, l.dt, pte_index(l.da), e);
      k.note(() => `remap_swap_pte: ${pteText(e)} moved to dst vpn ${l.da}`);
      return 'unlock1';
    },
    unlock1: (k, l) => (k.spin_unlock(first_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? 'unlock2' : ENDED),
    unlock2: (k, l) => (l.dt === l.st || k.spin_unlock(second_of(kern(k).ptlOf(l.dt), kern(k).ptlOf(l.st))) ? k.ret(l.err) : ENDED),
  },
);
