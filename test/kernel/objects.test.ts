/**
 * The kernel objects on their own: page-table lifetime (detach, RCU-deferred free), the
 * pte_offset_map_rw_nolock contract (prove stability after locking), folio lifetime checks and the
 * lock-hierarchy oracle.
 */
import { describe, expect, it } from 'vitest';
import type { Ctx } from '../../src/engine/ctx.js';
import { ModelBuilder } from '../../src/engine/model.js';
import { BLOCKED, ENDED, type NoArgs, type Proc } from '../../src/engine/proc.js';
import { World } from '../../src/engine/world.js';
import { dfs } from '../../src/explore/dfs.js';
import { buildKernel } from '../../src/kernel/build.js';
import { _PAGE_SPECIAL, mk_pte, pmd_table, PT_ATTACHED, PT_DETACHED, PT_FREE, ZERO_PFN } from '../../src/kernel/defs.js';
import { folio_pin, folio_put } from '../../src/kernel/folio.js';
import { type Kernel, kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { orderViolation, makeOrderRule } from '../../src/kernel/order.js';
import { PT_DEFER, pmd_clear_table, pmdp_get, pte_free_defer, pte_offset_map_rw_nolock, pte_unmap, pte_unmap_unlock, pt_state, set_pte_at } from '../../src/kernel/pgtable.js';
import { LockGraph } from '../../src/locks/lockdep.js';
import { manual, replay } from './mm-helpers.js';
import { type FolioId, NO_TABLE } from '../../src/kernel/ids.js';

/** Installs the zero page at pte 1 of pmd 0 via pte_offset_map_rw_nolock (with the pmd_same check under switch `recheck`). */
const installer = kproc('test_install', 'test: a may-write pte_offset_map_rw_nolock user', () => ({ pmdval: 0, t: NO_TABLE }), {
  map: (k, l) => {
    l.pmdval = pte_offset_map_rw_nolock(k, kern(k), 0, 0);
    if (!l.pmdval) return k.ret(-11);
    l.t = pmd_table(l.pmdval);
    return 'lock';
  },
  lock: (k, l) => (k.spin_lock(kern(k).ptlOf(l.t)) ? 'recheck' : BLOCKED),
  recheck: (k, l) => (k.sw('recheck') && pmdp_get(k.w, kern(k), 0, 0) !== l.pmdval ? 'unlock' : 'write'),
  write: (k, l) => {
    set_pte_at(k, kern(k), l.t, 1, mk_pte(ZERO_PFN, _PAGE_SPECIAL));
    return 'unlock';
  },
  unlock: (k, l) => (pte_unmap_unlock(k, kern(k), l.t) ? k.ret(0) : ENDED),
});

/**
 * Retracts the table of pmd 0 under the pmd lock and the PTL, then pte_free_defer. It empties the
 * table first (as collapse_pte_mapped_thp clears the PTEs under the same PTL): pte_free_defer of a
 * table that still maps a page is itself a verdict.
 */
const retracter = kproc('test_retract', 'test: retract_page_tables-like detach', () => ({ t: NO_TABLE }), {
  pml: (k) => (k.spin_lock(kern(k).mm(0).page_table_lock) ? 'ptl' : BLOCKED),
  ptl: (k, l) => {
    l.t = pmd_table(pmdp_get(k.w, kern(k), 0, 0));
    return k.spin_lock(kern(k).ptlOf(l.t), 1) ? 'clear' : BLOCKED;
  },
  clear: (k, l) => {
    for (let i = 0; i < 4; i++) k.w.set(kern(k).pteSlot(l.t, i), 0);
    pmd_clear_table(k.w, kern(k), 0, 0);
    return 'unlock_ptl';
  },
  unlock_ptl: (k, l) => (k.spin_unlock(kern(k).ptlOf(l.t)) ? 'unlock_pml' : ENDED),
  unlock_pml: (k) => (k.spin_unlock(kern(k).mm(0).page_table_lock) ? 'free' : ENDED),
  free: (k, l) => {
    pte_free_defer(k, kern(k), l.t);
    return k.ret(0);
  },
});

/** Maps the table under RCU and holds the mapping until a message arrives (to observe the grace period). */
const reader = kproc('test_reader', 'test: an RCU walker', () => ({ from: 0, type: 0, a: 0, b: 0 }), {
  map: (k) => (pte_offset_map_rw_nolock(k, kern(k), 0, 0) ? 'wait' : k.ret(-1)),
  wait: (k, l) => (k.recv(l) ? 'unmap' : BLOCKED),
  unmap: (k) => (pte_unmap(k, kern(k)) ? k.ret(0) : ENDED),
});

function tableModel(threads: [string, Proc<NoArgs>][], switches: Record<string, boolean> = {}) {
  const b = new ModelBuilder('tables', switches);
  const K = buildKernel(b, { memfds: [], mms: [{ name: 'P', vmas: [{ name: 'src', pages: 4, populated: [0] }] }] });
  for (const [n, p] of threads) b.thread(n, p);
  return { m: b.build(), K };
}

describe('page tables', () => {
  it('a may-write rw_nolock user that skips the pmd_same recheck writes into a detached table', () => {
    const { m } = tableModel([
      ['installer', installer],
      ['retracter', retracter],
    ]);
    const r = dfs(new World(m, new LockGraph()), { maxSteps: 200, maxStates: 1e6, preemptions: Infinity, deadline: Infinity });
    expect(r.complete).toBe(true);
    expect(r.findings.map((f) => f.verdict.code)).toEqual(['invariant']);
    const f = r.findings[0] as (typeof r.findings)[number];
    expect(f.verdict.message).toMatch(/write of PTE 1 into detached page table 0/);
    const { w, events, consumed } = replay(m, f.choices);
    expect(consumed).toBe(true);
    expect(w.verdict?.message).toBe(f.verdict.message);
    // the witness: the installer mapped the table, the retracter detached it, then the write
    const steps = events.flatMap((e) => (e.k === 'step' ? [`${e.t}@${e.at}`] : []));
    const mapped = steps.indexOf('installer@test_install:map');
    const cleared = steps.indexOf('retracter@test_retract:clear');
    const wrote = steps.indexOf('installer@test_install:write');
    expect(mapped).toBeGreaterThanOrEqual(0);
    expect(cleared).toBeGreaterThan(mapped);
    expect(wrote).toBeGreaterThan(cleared);
    expect(events.at(-1)).toMatchObject({ k: 'verdict', code: 'invariant', at: 'test_install:write' });
  });

  it('with the pmd_same recheck after taking the PTL, no interleaving writes into a detached table', () => {
    const { m } = tableModel(
      [
        ['installer', installer],
        ['retracter', retracter],
      ],
      { recheck: true },
    );
    const r = dfs(new World(m, new LockGraph()), { maxSteps: 200, maxStates: 1e6, preemptions: Infinity, deadline: Infinity });
    expect(r.complete).toBe(true);
    expect(r.findings).toEqual([]);
    expect(r.distinct).toBeGreaterThan(10);
  });

  it('pte_free_defer frees a detached table only after the RCU readers that could see it have left', () => {
    const { m, K } = tableModel([
      ['reader', reader],
      ['retracter', retracter],
    ]);
    const h = manual(m);
    const t = 0;
    h.run('reader', () => h.w.where(h.tid('reader')) === 'test_reader:wait');
    expect(pt_state(h.w, K, t)).toBe(PT_ATTACHED);
    h.run('retracter', () => false);
    expect(pt_state(h.w, K, t)).toBe(PT_DEFER); // detached, waiting for the grace period
    // the reader still holds RCU: it may read the table (valid though empty and disconnected)
    h.w.ctx.tid = h.tid('retracter');
    h.w.ctx.send(h.tid('reader'), 1);
    h.run('reader', () => false);
    expect(h.w.verdict).toBeNull();
    expect(pt_state(h.w, K, t)).toBe(PT_FREE);
  });

  it('a table nobody is reading is freed at once by pte_free_defer', () => {
    const { m, K } = tableModel([['retracter', retracter]]);
    const h = manual(m);
    h.run('retracter', () => pt_state(h.w, K, 0) === PT_DETACHED);
    expect(pt_state(h.w, K, 0)).toBe(PT_DETACHED);
    h.run('retracter', () => false);
    expect(pt_state(h.w, K, 0)).toBe(PT_FREE);
  });
});

describe('folio lifetime', () => {
  const freeing = kproc('test_free_pinned', 'test: drop every reference of a pinned folio', (a: { f: FolioId }) => ({ f: a.f }), {
    pin: (k, l) => {
      folio_pin(k.w, kern(k), l.f);
      return 'put1';
    },
    put1: (k, l) => putAll(k, kern(k), l.f),
  });
  function putAll(k: Ctx, K: Kernel, f: number): typeof ENDED {
    while (!k.w.verdict && k.w.get(K.fSlot(f, 1)) > 0) folio_put(k, K, f);
    return ENDED;
  }

  it('freeing a pinned folio is an invariant verdict', () => {
    const b = new ModelBuilder('folio');
    buildKernel(b, { memfds: [], mms: [{ name: 'P', vmas: [{ name: 'src', pages: 1, populated: [0] }] }] });
    b.thread('t', freeing, { f: 0 as FolioId });
    const w = new World(b.build(), null);
    const r = dfs(w, { maxSteps: 20, maxStates: 100, preemptions: Infinity, deadline: Infinity });
    expect(r.findings.map((f) => f.verdict.code)).toEqual(['invariant']);
    expect(r.findings[0]?.verdict.message).toBe('pinned folio 0 freed while it holds 1 FOLL_PIN pin(s)');
  });
});

describe('lock hierarchy oracle (kernel-rules §1)', () => {
  it('accepts the documented order and names the rule an inversion breaks', () => {
    for (const [a, b] of [
      ['i_rwsem', 'mmap_lock'],
      ['mmap_lock', 'invalidate_lock'],
      ['invalidate_lock', 'folio_lock'],
      ['folio_lock', 'i_mmap_rwsem'],
      ['i_mmap_rwsem', 'anon_vma'],
      ['anon_vma', 'ptl'],
      ['pmd_lock', 'ptl'],
      ['ptl', 'i_pages'],
      ['hugetlb_fault_mutex', 'hugetlb_vma_lock'],
      ['hugetlb_vma_lock', 'i_mmap_rwsem'],
    ])
      expect(orderViolation(a as string, b as string)).toBeNull();
    expect(orderViolation('mmap_lock', 'i_rwsem')).toMatch(/i_rwsem taken while holding mmap_lock.*1 in mm\/rmap\.c/);
    expect(orderViolation('i_mmap_rwsem', 'folio_lock')).toMatch(/folio_lock \(4 in mm\/rmap\.c "Lock ordering in mm"\) nests outside mapping->i_mmap_rwsem \(7/);
    expect(orderViolation('ptl', 'pmd_lock')).toMatch(/pmd lock/);
    expect(orderViolation('folio_lock', 'hugetlb_fault_mutex')).toMatch(/hugetlbfs order/);
  });

  it('ranks the per-VMA lock by mode: read where mmap_lock read stands, write (vma_start_write) inside folio_lock', () => {
    const rule = makeOrderRule(['vma_lock', 'folio_lock', 'mmap_lock']);
    const [R, W] = [1, 0];
    expect(rule(0, 1, R, W)).toBeNull(); // fault path: vma_start_read, then folio_lock
    expect(rule(0, 1, W, W)).toMatch(/folio_lock taken while holding vma_lock.*vma_start_write \(6/);
    expect(rule(1, 0, W, R)).toMatch(/vma_start_read/); // a VMA read lock under a folio lock
    expect(rule(1, 0, W, W)).toBeNull(); // vma_start_write under folio_lock is the documented order
    expect(rule(2, 0, R, R)).toBeNull();
  });

  it("allows hugetlb's folio lock inside i_mmap_rwsem (the hugetlbfs exception), not the generic one", () => {
    expect(orderViolation('i_mmap_rwsem', 'hugetlb_folio_lock')).toBeNull();
    expect(orderViolation('hugetlb_vma_lock', 'hugetlb_folio_lock')).toBeNull();
    expect(orderViolation('hugetlb_folio_lock', 'i_mmap_rwsem')).toBeNull();
    expect(orderViolation('i_mmap_rwsem', 'folio_lock')).not.toBeNull();
  });

  it('leaves classes it does not know to the lock-order graph', () => {
    expect(orderViolation('ptl', 'mirror_lock')).toBeNull();
    expect(orderViolation('A', 'B')).toBeNull();
  });
});
