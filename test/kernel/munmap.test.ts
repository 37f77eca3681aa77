/**
 * Issue 9 items 2, 3 and 7: munmap hides the VMA from rmap before freeing its page tables (and
 * downgrades mmap_lock); a second free of a page table is an invariant verdict; vma_start_write
 * holds the VMA's rwsem only inside vma_start_write, so the lock graph has what lockdep has.
 */
import { describe, expect, it } from 'vitest';
import { ENOMEM } from '../../src/kernel/defs.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { directed, rets } from '../uffd/helpers.js';
import { explore, indexOfNote, model, replay, serial } from './mm-helpers.js';

const stepAt = (events: readonly { k: string }[], at: string): number => events.findIndex((e) => e.k === 'step' && (e as { at?: string }).at === at);

describe('munmap vs khugepaged_file (mm-munmap-vs-collapse-file)', () => {
  it('default: the kernel order (unlink_file_vma before free_pgd_range) is complete and clean', () => {
    const r = explore('mm-munmap-vs-collapse-file');
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.graph.violations).toEqual([]);
    const { w, events } = serial(model('mm-munmap-vs-collapse-file'));
    expect(w.verdict).toBeNull();
    const downgrade = stepAt(events, 'munmap:downgrade');
    const unlink = stepAt(events, 'munmap:unlink');
    const free = stepAt(events, 'munmap:free_pgd_range');
    expect(downgrade).toBeGreaterThan(stepAt(events, 'munmap:detach'));
    expect(unlink).toBeGreaterThan(downgrade);
    expect(free).toBeGreaterThan(unlink);
  });

  it('free-before-unlink (planted bug): the page-table double free is an invariant verdict, replayed', () => {
    const r = explore('mm-munmap-vs-collapse-file', 'free-before-unlink');
    expect(r.complete).toBe(true);
    const f = r.findings.find((x) => x.verdict.code === 'invariant');
    expect(f).toBeDefined();
    const f0 = f as NonNullable<typeof f>;
    expect(f0.verdict.message).toBe('pte_free_defer of page table 0 that is already freed (page-table double free)');
    const t = replay(model('mm-munmap-vs-collapse-file', 'free-before-unlink'), f0.choices);
    expect(t.consumed).toBe(true);
    expect(t.w.verdict?.code).toBe('invariant');
    expect(t.events.at(-1)).toMatchObject({ k: 'verdict', code: 'invariant', message: f0.verdict.message });
    // munmap freed the table first, while the VMA was still in i_mmap; retract_page_tables had found
    // it there and freed the same table again
    const freed = stepAt(t.events, 'munmap:free_pgd_range');
    const retracted = indexOfNote(t.events, /retract_page_tables: buf pmd 0/);
    const unlink = stepAt(t.events, 'munmap:unlink');
    expect(freed).toBeGreaterThanOrEqual(0);
    expect(retracted).toBeGreaterThan(freed);
    expect(unlink === -1 || unlink > freed).toBe(true);
    expect(t.events.at(-2)).toMatchObject({ k: 'step', at: 'retract_page_tables:free' });
  });
});

describe('vma_start_write as lockdep sees it', () => {
  it('khugepaged records no dependency out of vma_lock; the VMA write lock ends at mmap_write_unlock', () => {
    const r = explore('uffd-move-vs-khugepaged', 'current');
    expect(r.complete).toBe(true);
    const names = r.model.classes;
    // lockdep keys are class << 2 | subclass (as `mmsim lockdep` prints them)
    const edges = r.graph.edges.map((e) => `${names[e.from >> 2]} -> ${names[e.to >> 2]} (${e.origin.thread})`);
    expect(edges.some((e) => e.startsWith('mmap_lock -> vma_lock'))).toBe(true);
    expect(edges.filter((e) => e.startsWith('vma_lock ->') && e.endsWith('(khugepaged)'))).toEqual([]);
    // the mover's read-held VMA lock (vma_start_read) still orders what it takes under it
    expect(edges).toContain('vma_lock -> folio_lock (mover)');
  });

  it('munmap vs a fault: after the downgrade the fault runs under mmap_lock read and finds no VMA', () => {
    const r = explore('mm-munmap-vs-fault');
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.graph.violations).toEqual([]);
  });

  it('mm-munmap-hugetlb: hugetlb_zap_begin after vma_start_write is no lock-order violation (the VMA rwsem is already released)', () => {
    const r = explore('mm-munmap-hugetlb');
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.graph.violations).toEqual([]);
    const { w, events } = serial(model('mm-munmap-hugetlb'));
    expect(w.verdict).toBeNull();
    // vma_start_write takes and drops the VMA rwsem in its one step; the hugetlb locks come later
    const started = stepAt(events, 'munmap:vma_start_write');
    const hugetlb = stepAt(events, 'munmap:hugetlb_vma_lock');
    expect(started).toBeGreaterThanOrEqual(0);
    expect(hugetlb).toBeGreaterThan(stepAt(events, 'munmap:downgrade'));
    const names = r.model.classes;
    const edges = r.graph.edges.map((e) => `${names[e.from >> 2]} -> ${names[e.to >> 2]}`);
    expect(edges).toContain('mmap_lock -> vma_lock');
    expect(edges).toContain('mmap_lock -> hugetlb_vma_lock');
    expect(edges.filter((e) => e.startsWith('vma_lock ->'))).toEqual([]);
  });
});

describe('return values on an unmapped range', () => {
  const text = `name: munmap-twice
description: munmap of an already unmapped range returns 0 (do_vmi_munmap); madvise on it -ENOMEM
world:
  mms:
    P:
      vmas:
        src: { pages: 4, populated: [0] }
actors:
  - name: t
    mm: P
    ops:
      - { op: munmap, vma: src }
      - { op: munmap, vma: src }
      - { op: madvise_dontneed, vma: src, page: 0 }
variants:
  default:
    description: one thread
    expect: []
`;
  it('the second munmap returns 0 (do_vmi_munmap finds no VMA), MADV_DONTNEED returns -ENOMEM (madvise_walk_vmas)', () => {
    const r = directed(buildModel(parseScenario(text, 'inline.yaml'), 'default'), [['t', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'munmap')).toEqual([0, 0]);
    expect(rets(r.events, 'madvise_dontneed')).toEqual([ENOMEM]);
  });
});
