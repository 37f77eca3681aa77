/**
 * Issue 9 item 1: GUP and faults follow a huge pmd (follow_huge_pmd, huge_pmd_set_accessed,
 * wp_huge_pmd) instead of returning 0 and retrying forever.
 */
import { describe, expect, it } from 'vitest';
import { directed } from '../uffd/helpers.js';
import { explore, indexOfNote, model, serial } from './mm-helpers.js';

describe('GUP and faults on a huge pmd', () => {
  it('mm-gup-huge-pmd: the slow-path pins follow the anonymous THP; DFS completes clean', () => {
    const r = explore('mm-gup-huge-pmd');
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
    const { w, events } = serial(model('mm-gup-huge-pmd'));
    expect(w.verdict).toBeNull();
    const collapsed = indexOfNote(events, /collapse_huge_page: pmd 0 → huge/);
    const pinned = indexOfNote(events, /follow_huge_pmd: pmd 0 maps folio/);
    expect(collapsed).toBeGreaterThanOrEqual(0);
    expect(pinned).toBeGreaterThan(collapsed);
    // no fault: both pins (read and FOLL_WRITE on a writable huge pmd) and the store go through
    expect(events.some((e) => e.k === 'step' && e.at.startsWith('handle_mm_fault'))).toBe(false);
    expect(events.filter((e) => e.k === 'note' && /follow_huge_pmd/.test(e.text))).toHaveLength(2);
  });

  it('mm-wp-huge-pmd-file: a store to a read-only file huge pmd splits it and copies the page', () => {
    const r = explore('mm-wp-huge-pmd-file');
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
    const { w, events } = serial(model('mm-wp-huge-pmd-file'));
    expect(w.verdict).toBeNull();
    const pinned = indexOfNote(events, /follow_huge_pmd: pmd 0 maps folio 4/);
    const split = indexOfNote(events, /split_huge_pmd: file pmd 0 cleared/);
    const cow = indexOfNote(events, /finish_fault: vpn 2 → folio \d+ \(COW of 4\)/);
    const store = indexOfNote(events, /store 7 to vpn 2/);
    expect(pinned).toBeGreaterThanOrEqual(0);
    expect(split).toBeGreaterThan(pinned);
    expect(cow).toBeGreaterThan(split);
    expect(store).toBeGreaterThan(cow);
    expect(events.some((e) => e.k === 'ret' && e.proc === 'wp_huge_pmd' && e.rv === 0x800)).toBe(true);
  });
});

describe('a pin racing with the anonymous collapse (mm-gup-vs-collapse)', () => {
  it('DFS completes clean; collapse first: the pin follows the huge pmd; pin first: the collapse fails on the pinned page', () => {
    const r = explore('mm-gup-vs-collapse');
    expect(r.findings).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.graph.violations).toEqual([]);
    const m = model('mm-gup-vs-collapse');
    const first = directed(m, [['khugepaged', null], ['cpu', null]]);
    expect(first.verdict).toBeNull();
    expect(indexOfNote(first.events, /follow_huge_pmd: pmd 0 maps folio/)).toBeGreaterThan(indexOfNote(first.events, /collapse_huge_page: pmd 0 → huge/));
    const pinned = directed(m, [['cpu', 'cpu_access:walk'], ['khugepaged', null], ['cpu', null]]);
    expect(pinned.verdict).toBeNull();
    expect(indexOfNote(pinned.events, /khugepaged: SCAN_PAGE_COUNT/)).toBeGreaterThan(indexOfNote(pinned.events, /pinned folio 0/));
    expect(indexOfNote(pinned.events, /follow_huge_pmd/)).toBe(-1);
  });
});
