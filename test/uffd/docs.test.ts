/** The witnesses quoted in docs/uffd-move-vs-khugepaged.md still replay to the verdicts it names. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directed, model, replay } from './helpers.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'uffd-move-vs-khugepaged.md'), 'utf8');

const witnesses = [
  {
    scenario: 'uffd-remap-vs-khugepaged',
    variant: 'khugepaged-mmap-read',
    legs: [['mover', 'remap_pages_pte:bug_src_huge'], ['khugepaged', null], ['mover', null]],
    verdict: 'kernel BUG at remap_pages_pte:bug_src_huge: BUG_ON(pmd_trans_huge(*src_pmd))',
  },
  {
    scenario: 'uffd-remap-vs-retract',
    variant: 'file-vmas',
    legs: [['khugepaged', 'retract_page_tables:flush'], ['mover', 'remap_pages_pte:dst_lock'], ['khugepaged', null], ['mover', null]],
    verdict: 'write of PTE 0 into rcu-deferred page table 1 (set_pte_at into a detached table)',
  },
  {
    scenario: 'uffd-remap-vs-retract',
    variant: 'file-vmas',
    legs: [['khugepaged', 'retract_page_tables:flush'], ['mover', 'remap_pages_pte:bug_dst_none'], ['khugepaged', null], ['mover', null]],
    verdict: 'kernel BUG at remap_pages_pte:bug_dst_none: BUG_ON(pmd_none(*dst_pmd))',
  },
  {
    scenario: 'uffd-move-vs-gup',
    variant: 'no-pin-recheck',
    legs: [['mover', 'move_present_pte:clear'], ['pinner', null], ['mover', null]],
    verdict: /^folio 0 pinned by pinner through vpn 0 is now mapped at vpn 4/,
  },
] as const;

describe('docs/uffd-move-vs-khugepaged.md', () => {
  for (const w of witnesses) {
    it(`${w.scenario} / ${w.variant}: the quoted token is the directed schedule and replays to its verdict`, () => {
      const m = model(w.scenario, w.variant);
      const r = directed(m, w.legs);
      expect(doc).toContain(r.token);
      const v = replay(m, r.token).verdict?.message ?? '';
      if (typeof w.verdict === 'string') expect(v).toBe(w.verdict);
      else expect(v).toMatch(w.verdict);
    });
  }
});
