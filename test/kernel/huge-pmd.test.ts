/**
 * Issue 9 item 1: GUP and faults follow a huge pmd (follow_huge_pmd, huge_pmd_set_accessed,
 * wp_huge_pmd) instead of returning 0 and retrying forever.
 */
import { describe, expect, it } from 'vitest';
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
