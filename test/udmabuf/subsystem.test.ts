/**
 * udmabuf as a subsystem module (src/kernel/sys/udmabuf.ts): registered under the UDMABUF key, its
 * record declared from one field list with the slot offsets the hand-numbered layout had, and its
 * records in the JSON trace's state section.
 */
import { describe, expect, it } from 'vitest';
import { replayToken } from '../../src/explore/replayer.js';
import { UBUF, UDMABUF } from '../../src/kernel/sys/udmabuf.js';
import { UB_ATT, UB_ATT_SG, UB_FOLIO, UB_MN_VMA, UB_STATE, UB_VMAP_PFN, ub_folio } from '../../src/kernel/udmabuf.js';
import { kernelState } from '../../src/trace/kernel-state.js';
import { catalogueModel } from '../helpers.js';

describe('the udmabuf subsystem', () => {
  const m = catalogueModel('udmabuf-pipeline', 'discard');
  const U = UDMABUF.of(m);

  it('keeps the record layout: state..mn_vma, 4 folios, 4 vmap pfns, 4 attachments, 4 sg tables of 4 pages', () => {
    expect([UB_STATE, UB_MN_VMA, UB_FOLIO, UB_VMAP_PFN, UB_ATT, UB_ATT_SG, UBUF.stride]).toEqual([0, 5, 6, 10, 14, 18, 34]);
    expect(U.list.map((h) => h.name)).toEqual(['blob']);
    expect(m.layout.nameOf(U.attSg(0, 1, 2))).toBe('udmabuf[0].att1_sg2');
    expect(m.layout.nameOf(U.slot(0, UB_FOLIO + 3))).toBe('udmabuf[0].folio3');
    expect(UDMABUF.find(catalogueModel('abba'))).toBeUndefined();
  });

  it('appears in the JSON trace state with the values the actors read', () => {
    const r = replayToken(m, 'v1.0.1t.10020.p.10.6.', 500);
    expect(r.verdict?.code).toBe('invariant');
    const state = kernelState(m.layout, (i) => r.world.get(i));
    const rec = state.udmabuf?.[0] as Record<string, number | number[]>;
    expect(rec.state).toBe(r.world.get(U.slot(0, UB_STATE)));
    expect(rec.folio).toEqual([0, 1, 2, 3].map((i) => ub_folio(r.world, U, 0, i) + 1));
    expect((rec.folio as number[])[0]).toBeGreaterThan(0);
    expect(Object.keys(state)).toContain('udmabuf');
  });
});
