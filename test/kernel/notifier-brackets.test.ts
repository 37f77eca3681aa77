/**
 * Issue 9 items 4 and 5: try_to_unmap_one and wp_page_copy invalidate secondary MMUs (HMM mirrors)
 * through the mmu-notifier bracket before they change a CPU PTE, so a mirror never maps a page the
 * CPU no longer maps at that address (the invariant deviceMapsWhatCpuMaps).
 */
import { describe, expect, it } from 'vitest';
import { MI_DEV } from '../../src/kernel/kernel.js';
import { explore, indexOfNote, model, serial } from './mm-helpers.js';

function clean(name: string) {
  const r = explore(name);
  expect(r.findings.map((f) => f.verdict.message)).toEqual([]);
  expect(r.complete).toBe(true);
  expect(r.graph.violations).toEqual([]);
  const t = serial(model(name));
  expect(t.w.verdict).toBeNull();
  return t;
}

describe('mmu-notifier brackets', () => {
  it('mm-hmm-vs-collapse-file: try_to_unmap invalidates the mirror before clearing each PTE', () => {
    const { events } = clean('mm-hmm-vs-collapse-file');
    for (let vpn = 0; vpn < 2; vpn++) {
      const inv = indexOfNote(events, new RegExp(`gpu: invalidate \\[${vpn}, ${vpn + 1}\\)`));
      const unmapped = indexOfNote(events, new RegExp(`try_to_unmap: folio ${vpn} unmapped from buf vpn ${vpn}`));
      expect(inv, `vpn ${vpn}`).toBeGreaterThanOrEqual(0);
      expect(unmapped).toBeGreaterThan(inv);
    }
  });

  it('mm-hmm-vs-collapse-private: the same on a private mapping whose page 1 was copied on write', () => {
    const { events } = clean('mm-hmm-vs-collapse-private');
    const cow = indexOfNote(events, /wp_page_copy: vpn 1 → new folio \d+ \(was 1\)/);
    const inv0 = indexOfNote(events, /gpu: invalidate \[0, 1\)/);
    const unmapped0 = indexOfNote(events, /try_to_unmap: folio 0 unmapped from priv vpn 0/);
    expect(cow).toBeGreaterThanOrEqual(0);
    expect(inv0).toBeGreaterThan(cow);
    expect(unmapped0).toBeGreaterThan(inv0);
    expect(indexOfNote(events, /try_to_unmap: folio 1 unmapped/)).toBe(-1); // vpn 1 maps the anonymous copy
  });

  it('mm-hmm-cow: wp_page_copy invalidates the mirror before the copy replaces the zero page', () => {
    const { w, K, events } = clean('mm-hmm-cow');
    const inv = indexOfNote(events, /gpu: invalidate \[0, 1\)/);
    const copied = indexOfNote(events, /wp_page_copy: vpn 0 → new folio \d+ \(was the zero page\)/);
    expect(inv).toBeGreaterThanOrEqual(0);
    expect(copied).toBeGreaterThan(inv);
    // the second mirror pass maps the copy, not the zero page (pfn 1)
    const dev = w.get(K.mirrorSlot(0, MI_DEV));
    expect(dev).toBeGreaterThan(1);
  });
});
