/**
 * Issue 9 (versions): every UFFDIO_MOVE scenario runs on the v6.8 code (mmap_read_lock for the whole
 * move, pte_same-only rechecks) and on today's (switches uffd_move_v6_9 and
 * uffd_move_recheck_dst_pmd). Each v6.8 variant's verdicts, with replayed witnesses.
 */
import { describe, expect, it } from 'vitest';
import { explore, indexOfNote, model, replay } from '../kernel/mm-helpers.js';

function witness(name: string, variant: string, code: string) {
  const r = explore(name, variant);
  expect(r.complete).toBe(true);
  const f = r.findings.find((x) => x.verdict.code === code);
  expect(f, `${name}/${variant} finds ${code}`).toBeDefined();
  const f0 = f as NonNullable<typeof f>;
  const t = replay(model(name, variant), f0.choices);
  expect(t.consumed).toBe(true);
  expect(t.w.verdict?.code).toBe(code);
  // the verdict ends the run at its step (a note of the same step may follow it)
  const v = t.events.findIndex((e) => e.k === 'verdict');
  expect(t.events[v]).toMatchObject({ k: 'verdict', code, message: f0.verdict.message });
  expect(t.events.slice(v + 1).every((e) => e.k === 'note')).toBe(true);
  return { r, f: f0, ...t, verdictAt: v };
}

const stepAt = (events: readonly { k: string }[], re: RegExp): number => events.findIndex((e) => e.k === 'step' && re.test((e as { at?: string }).at ?? ''));

describe('UFFDIO_MOVE v6.8 (as merged)', () => {
  for (const name of ['uffd-move-fault', 'uffd-move-vs-gup', 'uffd-move-vs-khugepaged', 'uffd-move-vs-retract']) {
    it(`${name} / v6.8: complete, no verdict; the whole move runs under mmap_read_lock`, () => {
      const r = explore(name, 'v6.8');
      expect(r.findings.map((f) => f.verdict.message)).toEqual([]);
      expect(r.complete).toBe(true);
      expect(r.graph.violations).toEqual([]);
      const names = r.model.classes;
      const edges = r.graph.edges.map((e) => `${names[e.from >> 2]} -> ${names[e.to >> 2]} (${e.origin.thread} at ${e.origin.where})`);
      expect(edges.filter((e) => /\(mover at uffd_move_lock/.test(e))).toEqual([]); // no per-VMA locking in v6.8
    });
  }

  it('uffd-move-vs-gup / v6.8-no-pin-recheck: the pinned folio ends up mapped at dst', () => {
    const { f, events } = witness('uffd-move-vs-gup', 'v6.8-no-pin-recheck', 'invariant');
    expect(f.verdict.message).toMatch(/^folio 0 pinned by pinner through vpn 0 is now mapped at vpn 4/);
    expect(stepAt(events, /^move_pages:find_vmas$/)).toBeGreaterThanOrEqual(0);
    expect(stepAt(events, /^move_present_pte:clear$/)).toBeGreaterThan(stepAt(events, /^pin_user_pages_fast:grab$/) - 1);
  });

  it('uffd-move-vs-khugepaged / v6.8-khugepaged-mmap-read: the BUG_ON and the PTE written into the detached table', () => {
    const bug = witness('uffd-move-vs-khugepaged', 'v6.8-khugepaged-mmap-read', 'bug');
    expect(bug.f.verdict.message).toBe('kernel BUG at collapse_huge_page:fail_populate: BUG_ON(!pmd_none(*pmd))');
    const inv = witness('uffd-move-vs-khugepaged', 'v6.8-khugepaged-mmap-read', 'invariant');
    expect(inv.f.verdict.message).toBe('write of PTE 1 into detached page table 0 (set_pte_at into a detached table)');
  });

  it('uffd-move-vs-retract / v6.8-file-vmas: without the dst_pmdval recheck the dst PTE lands in the retracted table', () => {
    const { f, events, verdictAt } = witness('uffd-move-vs-retract', 'v6.8-file-vmas', 'invariant');
    expect(f.verdict.message).toBe('write of PTE 0 into detached page table 1 (set_pte_at into a detached table)');
    const mapped = indexOfNote(events, /move_pages_pte: dst table 1, src table/);
    const retracted = indexOfNote(events, /pmd 1 table 1 retracted/);
    const stable = stepAt(events, /^move_present_pte:stable$/);
    expect(mapped).toBeGreaterThanOrEqual(0);
    expect(retracted).toBeGreaterThan(mapped);
    expect(stable).toBeGreaterThan(retracted); // pte_same passed: the detached table still holds the old PTE
    expect(events[verdictAt - 1]).toMatchObject({ k: 'step', at: 'move_present_pte:set' });
    // retracted before the sanity checks: v6.8's WARN_ON_ONCE(pmd_none(*dst_pmd)) fires
    const w = witness('uffd-move-vs-retract', 'v6.8-file-vmas', 'warn');
    expect(w.f.verdict.message).toBe('WARNING at move_pages_pte:sanity_dst: WARN_ON(pmd_none(*dst_pmd))');
    expect(indexOfNote(w.events, /pmd 1 table 1 retracted/)).toBeGreaterThan(indexOfNote(w.events, /move_pages_pte: dst table 1, src table/));
    expect(w.events[w.verdictAt - 1]).toMatchObject({ k: 'step', at: 'move_pages_pte:sanity_dst' });
    // today's code on the same world: the pmd_same recheck turns it into -EAGAIN
    const cur = explore('uffd-move-vs-retract', 'file-vmas');
    expect(cur.findings).toEqual([]);
    expect(cur.complete).toBe(true);
  });
});
