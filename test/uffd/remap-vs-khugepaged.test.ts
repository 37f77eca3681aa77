/**
 * Seed 001 on the anonymous path: UFFDIO_REMAP RFC v2 (remap_pages_pte) against khugepaged's
 * collapse_huge_page, as it was (mmap_lock write) and as Jann anticipated (mmap_lock read), with and
 * without Jann's fix. Every witness is replayed and its trace checked.
 */
import { describe, expect, it } from 'vitest';
import { EAGAIN, EBUSY, ENOENT, folio_pfn, pmd_is_table, pmd_table, pmd_trans_huge, pte_pfn, pte_present } from '../../src/kernel/defs.js';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';
import { at, directed, exploreWith, model, notes, outcomes, replay, rets } from './helpers.js';

const NAME = 'uffd-remap-vs-khugepaged';
const SRC_PMD = 0;
const DST_VPN = 4;

/** Where the moved page ended: dst PTE present, src collapsed to a huge pmd, src split back. */
function where(w: Parameters<Parameters<typeof outcomes>[1]>[0], K: Parameters<Parameters<typeof outcomes>[1]>[1]): string {
  const src = w.get(K.pmdSlot(0, SRC_PMD));
  const dst = w.get(K.pmdSlot(0, DST_VPN >> 2));
  const dstPte = pmd_is_table(dst) ? w.get(K.pteSlot(pmd_table(dst), DST_VPN & 3)) : 0;
  const s = pmd_trans_huge(src) ? 'src huge' : pmd_is_table(src) ? (pte_present(w.get(K.pteSlot(pmd_table(src), 0))) ? 'src pte' : 'src none') : 'src pmd none';
  return `${s}, dst ${pte_present(dstPte) ? `pte → folio pfn ${pte_pfn(dstPte)}` : 'none'}`;
}

describe('UFFDIO_REMAP RFC v2 vs khugepaged as it was (collapse under mmap_lock write)', () => {
  const m = model(NAME, 'rfc-v2');

  it('DFS completes without a verdict', () => {
    const r = dfsOf(m);
    expect(r.complete).toBe(true);
    expect(r.findings).toEqual([]);
    expect(r.distinct).toBeGreaterThan(1000);
  });

  it('every interleaving ends with the page moved, or collapsed first and the remap refused (-EBUSY on the large folio)', () => {
    const o = outcomes(m, where);
    expect(o.verdicts.size).toBe(0);
    expect([...o.ends].sort()).toEqual([`src none, dst pte → folio pfn ${folio_pfn(0)}`, 'src pte, dst none']);
    // collapsed first: split_huge_pmd gives src a table again, mapping the large folio; remap -EBUSY
    const r = directed(m, [['khugepaged', null], ['mover', null]]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events).some((n) => /khugepaged: collapse_huge_page: pmd 0 → huge folio/.test(n))).toBe(true);
    expect(notes(r.events).some((n) => /mover: split_huge_pmd: pmd 0 huge/.test(n))).toBe(true);
    expect(rets(r.events, 'remap_pages_pte')).toEqual([EBUSY]);
  });

  it('the remap holds mmap_lock for read across the BUG_ONs: khugepaged waits in mmap_write_lock', () => {
    const r = directed(m, [
      ['mover', 'remap_pages_pte:bug_src_huge'],
      ['khugepaged', null],
    ]);
    expect(r.verdict).toBeNull();
    const blocked = r.events.findIndex((e) => e.k === 'lock' && e.t === 'khugepaged' && e.op === 'block' && e.lock === 'P.mmap_lock');
    const bug4 = at(r.events, 'mover', /^remap_pages_pte:bug_src_huge$/);
    const released = r.events.findIndex((e, i) => i > bug4 && e.k === 'lock' && e.t === 'mover' && e.op === 'release' && e.lock === 'P.mmap_lock');
    const flush = at(r.events, 'khugepaged', /pmdp_collapse_flush/);
    expect(blocked).toBeGreaterThan(0);
    expect(blocked).toBeLessThan(bug4);
    expect(released).toBeGreaterThan(bug4);
    expect(flush).toBeGreaterThan(released);
  });
});

describe('UFFDIO_REMAP RFC v2 vs khugepaged collapsing under mmap_lock read', () => {
  const m = model(NAME, 'khugepaged-mmap-read');

  it('DFS finds the BUG_ON and the write into a detached table; each witness replays to the same verdict', () => {
    const r = dfsOf(m);
    expect(r.findings.map((f) => f.verdict.code).sort()).toEqual(['bug', 'invariant']);
    for (const f of r.findings) {
      const token = encodeToken(f.choices);
      const a = replay(m, token);
      const b = replay(m, token);
      expect(a.verdict).toEqual(f.verdict);
      expect(b.events).toEqual(a.events);
    }
    const bug = r.findings.find((f) => f.verdict.code === 'bug');
    expect(bug?.verdict.message).toMatch(/kernel BUG at remap_pages_pte:bug_(src|dst)_(none|huge): BUG_ON\(pmd_(none|trans_huge)\(\*src_pmd\)\)/);
    expect(bug?.verdict.actor).toBe('mover');
  });

  it("BUG_ON(pmd_trans_huge(*src_pmd)): khugepaged's whole collapse fits between the mover's pte_offset_map_nolock and the fourth BUG_ON", () => {
    const r = directed(m, [
      ['mover', 'remap_pages_pte:bug_src_huge'],
      ['khugepaged', null],
      ['mover', null],
    ]);
    expect(r.verdict?.code).toBe('bug');
    expect(r.verdict?.message).toBe('kernel BUG at remap_pages_pte:bug_src_huge: BUG_ON(pmd_trans_huge(*src_pmd))');
    const ev = replay(m, r.token).events;
    expect(ev).toEqual(r.events);
    // mover: mapped src table 0, passed three BUG_ONs; khugepaged: collapse under read, huge pmd; mover: BUG
    const mapped = at(ev, 'mover', /pte_offset_map_nolock\(src\): pmd 0 → table 0/);
    const third = at(ev, 'mover', /BUG_ON\(pmd_trans_huge\(\*dst_pmd\)\): pmd 1 is table/);
    const underRead = at(ev, 'khugepaged', /collapsing under mmap_lock held for read/);
    const flush = at(ev, 'khugepaged', /pmdp_collapse_flush pmd 0: table 0 detached, pmd none/);
    const huge = at(ev, 'khugepaged', /pmd 0 → huge folio \d+ \(table 0 deposited\)/);
    const fourth = at(ev, 'mover', /BUG_ON\(pmd_trans_huge\(\*src_pmd\)\): pmd 0 is huge/);
    const order = [mapped, third, underRead, flush, huge, fourth];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(ev[ev.length - 1]).toMatchObject({ k: 'verdict', code: 'bug', t: 'mover', at: 'remap_pages_pte:bug_src_huge' });
  });

  it('BUG_ON(pmd_none(*src_pmd)): the mover looks while the collapse has the pmd cleared', () => {
    const r = directed(m, [
      ['mover', 'remap_pages_pte:bug_src_none'],
      ['khugepaged', 'collapse_huge_page:ptl_unlock'],
      ['mover', null],
    ]);
    expect(r.verdict?.message).toBe('kernel BUG at remap_pages_pte:bug_src_none: BUG_ON(pmd_none(*src_pmd))');
    expect(at(r.events, 'khugepaged', /table 0 detached, pmd none/)).toBeLessThan(at(r.events, 'mover', /BUG_ON\(pmd_none\(\*src_pmd\)\): pmd 0 is none/));
  });

  it('past the BUG_ONs the mover clears the source PTE inside the table khugepaged detached (Jann: "copying PTEs into a detached page table")', () => {
    const r = directed(m, [
      ['mover', 'remap_pages_pte:pin_lock'], // past the four BUG_ONs, both PTEs read
      ['khugepaged', 'collapse_huge_page:iso_unlock'], // pmd cleared, old folio isolated (locked)
      ['khugepaged', 'collapse_huge_page:av_unlock'],
      ['mover', 'remap_pages_pte:trylock'], // folio reference taken through the detached table
      ['khugepaged', 'collapse_huge_page:copy_lock'], // release_pte_folio: folio unlocked before clearing
    ]);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toMatch(/write of PTE 0 into detached page table 0/);
    expect(r.verdict?.actor).toBe('mover');
    const ev = r.events;
    expect(at(ev, 'mover', /BUG_ON\(pmd_trans_huge\(\*src_pmd\)\): pmd 0 is table 0/)).toBeLessThan(at(ev, 'khugepaged', /table 0 detached/));
  });

  for (const strategy of ['dfs', 'random', 'pct'] as const) {
    it(`${strategy} finds the BUG_ON`, async () => {
      const r = await exploreWith(NAME, 'khugepaged-mmap-read', strategy);
      expect(r.findings.map((f) => f.verdict)).toContain('bug');
      expect(r.findings.every((f) => f.verdict === 'bug' || f.verdict === 'invariant')).toBe(true);
      const bug = r.findings.find((f) => f.verdict === 'bug');
      expect(replay(m, bug?.token ?? '').verdict?.code).toBe('bug');
    });
  }
});

describe("UFFDIO_REMAP with Jann's fix vs khugepaged collapsing under mmap_lock read", () => {
  const m = model(NAME, 'khugepaged-mmap-read-fixed');

  it('DFS completes without a verdict', () => {
    const r = dfsOf(m);
    expect(r.complete).toBe(true);
    expect(r.findings).toEqual([]);
  });

  it('the schedule of the BUG_ON now ends in -EAGAIN, a retry that splits the huge pmd, and -EBUSY on the large folio', () => {
    const r = directed(m, [
      ['mover', 'remap_pages_pte:dst_lock'],
      ['khugepaged', null],
      ['mover', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events).some((n) => /mover: remap_pages_pte: src pmd changed under us \(pmd_same failed under the PTL\): -EAGAIN/.test(n))).toBe(true);
    expect(rets(r.events, 'remap_pages_pte')).toEqual([EAGAIN, EBUSY]);
    expect(rets(r.events, 'userfaultfd_remap')).toEqual([EBUSY]);
  });

  it('a remap that starts while the collapse has the pmd cleared is refused with -ENOENT (a source hole)', () => {
    const r = directed(m, [
      ['khugepaged', 'collapse_huge_page:map_old'],
      ['mover', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'userfaultfd_remap')).toEqual([ENOENT]);
    expect(rets(r.events, 'remap_pages_pte')).toEqual([]);
  });

  it('every interleaving ends moved, or refused, never half-done', () => {
    const o = outcomes(m, where);
    expect(o.verdicts.size).toBe(0);
    // moved; refused after a split (-EBUSY); or refused while the pmd was cleared (-ENOENT) and collapsed
    expect([...o.ends].sort()).toEqual(['src huge, dst none', `src none, dst pte → folio pfn ${folio_pfn(0)}`, 'src pte, dst none']);
  });
});
