/**
 * THP (actors/mm/thp-*.ts): anonymous THP faults with the huge zero pmd and its deposited table,
 * zap_huge_pmd, the split of a partly zapped or written huge zero pmd, MADV_HUGEPAGE and
 * MADV_COLLAPSE, split_folio's refcount condition; and the real bug "userfaultfd: fix checks for
 * huge PMDs" (71c186efc1b2, Fixes: c1a4de99fada) on both sides of the fix.
 */
import { describe, expect, it } from 'vitest';
import { EAGAIN, EEXIST, HUGE_ZERO_PMD, is_huge_zero_pmd, pmd_is_table, pmd_trans_huge } from '../../src/kernel/defs.js';
import { encodeToken } from '../../src/explore/token.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { manual } from './mm-helpers.js';
import { dfsOf, expectProven } from '../helpers.js';
import { at, directed, model, notes, replay, rets } from '../uffd/helpers.js';

const pmd0 = (r: { w: { get(i: number): number }; K: { pmdSlot(mm: number, p: number): number } }): number => r.w.get(r.K.pmdSlot(0, 0));

describe('userfaultfd: fix checks for huge PMDs (71c186efc1b2, Fixes: c1a4de99fada)', () => {
  const NAME = 'uffd-copy-vs-thp-zap';
  /** The commit message's race: none pmd read; THP read fault maps the huge zero pmd; __pte_alloc is a no-op; the pmd is zapped; then the checks. */
  const race = [
    ['resolver', '__pte_alloc:lock'],
    ['reader', null],
    ['resolver', 'mfill_atomic:checks'],
    ['zapper', null],
    ['resolver', null],
  ] as const;

  it('v6.10: DFS finds BUG_ON(pmd_none(*dst_pmd)); the witness replays through the huge zero pmd and its zap', () => {
    const m = model(NAME, 'v6.10');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['bug']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    const r = replay(m, encodeToken(f.choices));
    expect(r.verdict).toEqual(f.verdict);
    expect(r.verdict?.message).toBe('kernel BUG at mfill_atomic:checks: BUG_ON(pmd_none(*dst_pmd))');
    const zero = at(r.events, 'reader', /do_huge_pmd_anonymous_page: pmd 0 → huge zero page/);
    const zap = at(r.events, 'zapper', /zap_huge_pmd: pmd 0 huge zero page unmapped, deposited table \d+ freed/);
    expect(zero).toBeGreaterThan(0);
    expect(zap).toBeGreaterThan(zero);
    expect(at(r.events, 'resolver', /dst pmd 0 is none after __pte_alloc/)).toBeGreaterThan(zap);
  });

  it("v6.10: the commit message's schedule — __pte_alloc finds the huge zero pmd and does nothing, the zap clears it, the BUG_ON fires", () => {
    const r = directed(model(NAME, 'v6.10'), race);
    expect(r.verdict?.message).toBe('kernel BUG at mfill_atomic:checks: BUG_ON(pmd_none(*dst_pmd))');
    const read = at(r.events, 'resolver', /mfill_atomic:pmd/);
    const zero = at(r.events, 'reader', /huge zero page \(table \d+ deposited\)/);
    const noop = r.events.findIndex((e, i) => i > zero && e.k === 'step' && e.t === 'resolver' && e.at === '__pte_alloc:populate');
    const zap = at(r.events, 'zapper', /zap_huge_pmd: pmd 0 huge zero page unmapped/);
    expect(read).toBeGreaterThan(0);
    expect(zero).toBeGreaterThan(read);
    expect(noop).toBeGreaterThan(zero);
    expect(zap).toBeGreaterThan(noop);
    expect(at(r.events, 'resolver', /BUG_ON|dst pmd 0 is none/)).toBeGreaterThan(zap);
  });

  for (const variant of ['fix-checks-for-huge-pmds', 'v6.11']) {
    it(`${variant}: the same schedule re-reads the none pmd after __pte_alloc: -EEXIST`, () => {
      const r = directed(model(NAME, variant), race);
      expect(r.verdict).toBeNull();
      expect(rets(r.events, 'mfill_atomic')).toEqual([EEXIST]);
      expect(notes(r.events)).toContain('resolver: mfill_atomic: dst pmd 0 is none after __pte_alloc, -EEXIST');
    });

    it(`${variant}: DFS completes without a verdict`, () => {
      const d = dfsOf(model(NAME, variant));
      expect(d.complete).toBe(true);
      expect(d.findings).toEqual([]);
    });
  }

  it('fix-checks-for-huge-pmds alone keeps the BUG_ONs: retract_page_tables between the re-read and the BUG_ON still fires it (fixed by 4828d207dc51)', () => {
    const r = directed(model('uffd-continue-vs-retract', 'fix-checks-for-huge-pmds-only'), [
      ['resolver', 'mfill_atomic:bug_ons'],
      ['khugepaged', null],
      ['resolver', null],
    ]);
    expect(r.verdict?.message).toBe('kernel BUG at mfill_atomic:bug_ons: BUG_ON(pmd_none(*dst_pmd))');
    expect(at(r.events, 'khugepaged', /retract_page_tables: dst pmd 0 table \d+ retracted/)).toBeGreaterThan(at(r.events, 'resolver', /mfill_atomic:checks/));
  });
});

describe('anonymous THP faults (mm-thp-fault)', () => {
  const m = model('mm-thp-fault', 'default');

  it('a read fault maps the huge zero pmd with a deposited table; a whole-pmd MADV_DONTNEED frees that table (zap_huge_pmd)', () => {
    const r = directed(m, [
      ['reader', null],
      ['zapper', 'zapper:op1'],
    ]);
    expect(r.verdict).toBeNull();
    const zero = at(r.events, 'reader', /do_huge_pmd_anonymous_page: pmd 0 → huge zero page \(table 0 deposited\)/);
    expect(zero).toBeGreaterThan(0);
    expect(at(r.events, 'reader', /load vpn 0: zero page/)).toBeGreaterThan(zero);
    // the zapper's first MADV_DONTNEED covers page 2 only: the huge zero pmd is split into zero-page PTEs
    expect(notes(r.events)).toContain('zapper: split_huge_pmd: huge zero pmd 0 → table 0 of zero-page PTEs');
  });

  it('a write to the huge zero pmd splits it (do_huge_pmd_wp_page → fallback) and COWs one PTE; the other PTEs stay the zero page', () => {
    const r = directed(m, [
      ['reader', null],
      ['writer', null],
    ]);
    expect(r.verdict).toBeNull();
    const split = at(r.events, 'writer', /split_huge_pmd: huge zero pmd 0 → table \d+ of zero-page PTEs/);
    expect(split).toBeGreaterThan(0);
    expect(at(r.events, 'writer', /store 5 to vpn 1: folio \d+/)).toBeGreaterThan(split);
    expect(pmd_is_table(pmd0(r))).toBe(true);
  });

  it('a write fault on a none pmd allocates a THP; MADV_DONTNEED of one page splits it and zaps that PTE only', () => {
    const r = directed(m, [
      ['writer', null],
      ['zapper', 'zapper:op1'],
    ]);
    expect(r.verdict).toBeNull();
    expect(at(r.events, 'writer', /__do_huge_pmd_anonymous_page: pmd 0 → THP folio \d+ \(table \d+ deposited\)/)).toBeGreaterThan(0);
    const split = at(r.events, 'zapper', /split_huge_pmd: pmd 0 .* → table \d+ with 4 PTEs of large folio \d+/);
    expect(split).toBeGreaterThan(0);
    expect(at(r.events, 'zapper', /zap_pte_range: vpn 2 unmapped folio \d+/)).toBeGreaterThan(split);
  });

  it('the deposit invariant fires when an anonymous huge pmd has no deposited table (planted: the deposit slot cleared by hand)', () => {
    const r = manual(m);
    r.run('reader', () => false); // the reader alone, to its end (the pmd lock free again)
    expect(pmd0(r)).toBe(HUGE_ZERO_PMD);
    expect(m.invariants.map((f) => f(r.w)).filter((x) => x !== null)).toEqual([]);
    r.w.set(r.K.pmdSlot(0, 0), 0); // the pmd cleared without zap_deposited_table: a leak
    expect(m.invariants.map((f) => f(r.w)).filter((x) => x !== null)).toEqual(['page table 0 is still deposited under pmd 0 of mm P, which is no longer an anonymous huge pmd (leaked)']);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('MADV_HUGEPAGE and MADV_COLLAPSE (mm-thp-collapse)', () => {
  const m = model('mm-thp-collapse', 'default');

  it('the collapser collapses the pmd synchronously (collapse_huge_page under mmap_write_lock); the write then lands in the THP', () => {
    const r = directed(m, [
      ['collapser', null],
      ['writer', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events)).toContain('collapser: hugepage_madvise: heap VM_HUGEPAGE');
    const collapsed = at(r.events, 'collapser', /collapse_huge_page: pmd 0 → huge folio \d+ \(table \d+ deposited\)/);
    expect(collapsed).toBeGreaterThan(0);
    expect(rets(r.events, 'madvise_collapse')).toEqual([0]);
    expect(at(r.events, 'writer', /store 9 to vpn 2: folio \d+/)).toBeGreaterThan(collapsed);
    expect(pmd_trans_huge(pmd0(r)) && !is_huge_zero_pmd(pmd0(r))).toBe(true);
    // madvise_collapse holds mmap_lock for read; collapse_huge_page drops it and takes it for write
    const mmap = r.events.flatMap((e) => (e.k === 'lock' && e.t === 'collapser' && e.lock === 'P.mmap_lock' && e.op === 'acquire' ? [e.mode] : []));
    expect(mmap).toContain('r');
    expect(mmap.filter((x) => x === 'w').length).toBe(2); // MADV_HUGEPAGE, then collapse_huge_page
  });

  it('DFS completes without a verdict', () => expectProven(m));

  it('madvise_hugepage on a file VMA and `thp` on a file VMA are refused with a clear error', () => {
    const text = (vma: string, op: string) => `name: x
description: refused
world:
  memfds: { shm: { pages: 4 } }
  mms: { P: { vmas: { f: { memfd: shm, shared: true, pages: 4${vma} } } } }
actors:
  - { name: a, mm: P, ops: [${op}] }
variants: { default: { expect: [] } }
`;
    expect(() => buildModel(parseScenario(text('', '{ op: madvise_hugepage, vma: f }'), 'inline.yaml'), 'default')).toThrow(/madvise_hugepage: VMA f maps a memfd/);
    expect(() => buildModel(parseScenario(text(', thp: true', '{ op: read, vma: f, page: 0 }'), 'inline.yaml'), 'default')).toThrow(/thp: only anonymous VMAs take thp/);
  });
});

describe("split_folio's refcount condition (mm-thp-split-folio)", () => {
  const m = model('mm-thp-split-folio', 'default');

  it('without other references the THP pmd is split (unmap_folio) and the folio frozen: 0', () => {
    const r = directed(m, [
      ['owner', null],
      ['pinner', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'split_folio')).toEqual([0]);
    const split = at(r.events, 'owner', /split_huge_pmd: pmd 0 .* → table \d+ with 4 PTEs of large folio \d+/);
    expect(split).toBeGreaterThan(0);
    expect(at(r.events, 'owner', /split_folio: folio \d+ frozen and split/)).toBeGreaterThan(split);
  });

  it('a pin held before the split: can_split_folio fails, -EAGAIN', () => {
    const r = directed(m, [
      ['owner', 'owner:op1'],
      ['pinner', 'pinner:op1'],
      ['owner', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'split_folio')).toEqual([EAGAIN]);
    expect(notes(r.events).some((n) => /split_huge_pages_pid: folio \d+ refcount 3, mapcount 1: extra references, skipped/.test(n))).toBe(true);
  });

  it('a pin taken between can_split_folio and folio_ref_freeze: the freeze fails, -EAGAIN after remap_page', () => {
    const r = directed(m, [
      ['owner', 'split_folio:freeze'],
      ['pinner', 'pinner:op1'],
      ['owner', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'split_folio')).toEqual([EAGAIN]);
    const check = at(r.events, 'owner', /split_folio:check/);
    const pinned = r.events.findIndex((e, i) => i > check && e.k === 'ret' && e.t === 'pinner' && e.proc === 'pin_user_pages');
    const freeze = at(r.events, 'owner', /folio_ref_freeze\(folio \d+\) failed/);
    expect(pinned).toBeGreaterThan(check);
    expect(freeze).toBeGreaterThan(pinned);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('mm/khugepaged: fix collapse_pte_mapped_thp() versus uffd (a98460494b16, Fixes: 1043173eb5eb)', () => {
  const NAME = 'mm-thp-collapse-vs-uffd-copy';
  /** resolver prepares dst's anon_vma and stops before installing; collapser runs until the PTE lock is dropped after step 2; then the copy; then the retraction. */
  const race = [
    ['resolver', 'mfill_atomic:pmd'],
    ['collapser', 'collapse_pte_mapped_thp:pml4'],
    ['resolver', null],
    ['collapser', null],
  ] as const;

  it('v6.5-rc1: DFS finds the anonymous PTE freed with the retracted table; the witness replays to it', () => {
    const m = model(NAME, 'v6.5-rc1');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['invariant']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    const r = replay(m, encodeToken(f.choices));
    expect(r.verdict).toEqual(f.verdict);
    expect(r.verdict?.message).toMatch(/^pte_free_defer of page table \d+ whose PTE 1 still maps a page/);
    const skipped = at(r.events, 'collapser', /retract_page_tables: dst has an anon_vma, skipped/);
    const cleared = at(r.events, 'collapser', /collapse_pte_mapped_thp: \d+ PTE\(s\) of folio \d+ cleared/);
    const copied = at(r.events, 'resolver', /UFFDIO_COPY: vpn 1 → folio \d+/);
    const retracted = at(r.events, 'collapser', /collapse_pte_mapped_thp: pmd 0 table \d+ retracted under mmap_lock read/);
    expect(skipped).toBeGreaterThan(0);
    expect(cleared).toBeGreaterThan(skipped);
    expect(copied).toBeGreaterThan(cleared);
    expect(retracted).toBeGreaterThan(copied);
  });

  it('v6.5-rc1: the directed schedule — the PTE lock is dropped after step 2, UFFDIO_COPY fills page 1, step 4 retracts the table with it', () => {
    const r = directed(model(NAME, 'v6.5-rc1'), race);
    expect(r.verdict?.code).toBe('invariant');
    expect(rets(r.events, 'mfill_atomic')).toEqual([1]);
    // the collapser held no pmd lock while it cleared the PTEs
    const cleared = at(r.events, 'collapser', /PTE\(s\) of folio \d+ cleared/);
    const pml = r.events.findIndex((e) => e.k === 'lock' && e.t === 'collapser' && e.op === 'acquire' && e.lock === 'P.page_table_lock');
    expect(pml).toBeGreaterThan(cleared);
  });

  it('fixed: the pmd lock is taken first and the PTE lock kept: the same schedule gives UFFDIO_COPY -EAGAIN after the retraction', () => {
    const r = directed(model(NAME, 'fixed'), [
      ['resolver', 'mfill_atomic:pmd'],
      ['collapser', 'collapse_pte_mapped_thp:refs'],
      ['resolver', null],
      ['collapser', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([EAGAIN]);
    const pml = r.events.findIndex((e) => e.k === 'lock' && e.t === 'collapser' && e.op === 'acquire' && e.lock === 'P.page_table_lock');
    expect(pml).toBeGreaterThan(0);
    expect(pml).toBeLessThan(at(r.events, 'collapser', /PTE\(s\) of folio \d+ cleared/));
    expect(notes(r.events)).toContain('resolver: mfill_atomic_install_pte: no PTE table at vpn 1, -EAGAIN');
  });

  it('fixed: DFS completes without a verdict', () => {
    const d = dfsOf(model(NAME, 'fixed'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});

describe('a THP fault in a userfaultfd MISSING VMA', () => {
  const text = `name: thp-uffd-missing
description: the read fault finds pmd_none under the pmd lock and delivers the fault to userland
world:
  mms:
    P:
      vmas:
        heap: { pages: 4, thp: true, uffd: [missing] }
actors:
  - name: cpu
    mm: P
    ops:
      - { op: read, vma: heap, page: 1 }
  - name: resolver
    mm: P
    ops:
      - { op: uffdio_copy, vma: heap, page: 1, value: 4 }
variants:
  default:
    description: fault, then UFFDIO_COPY
    switches: { uffd_fill_pmd_checks_v6_11: true }
    expect: []
`;
  const m = buildModel(parseScenario(text, 'inline.yaml'), 'default');

  it('do_huge_pmd_anonymous_page frees its table, handle_userfault sleeps; UFFDIO_COPY maps a PTE and the load reads it', () => {
    const r = directed(m, [
      ['cpu', null],
      ['resolver', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    const queued = at(r.events, 'cpu', /handle_userfault: vpn 1 queued to userfaultfd/);
    expect(queued).toBeGreaterThan(0);
    expect(r.events.slice(0, queued).some((e) => e.k === 'step' && e.t === 'cpu' && e.at === 'do_huge_pmd_anonymous_page:uffd_unlock')).toBe(true);
    const copied = at(r.events, 'resolver', /UFFDIO_COPY: vpn 1 → folio \d+/);
    expect(copied).toBeGreaterThan(queued);
    expect(at(r.events, 'cpu', /load 4 from vpn 1: folio \d+/)).toBeGreaterThan(copied);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});
