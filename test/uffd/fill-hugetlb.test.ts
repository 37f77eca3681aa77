/**
 * UFFDIO_COPY / UFFDIO_CONTINUE / UFFDIO_ZEROPAGE into a shared hugetlb VMA (actors/uffd/fill-hugetlb.ts:
 * mfill_atomic → mfill_atomic_hugetlb → hugetlb_mfill_atomic_pte, v6.10): directed schedules on the
 * catalogue scenario uffd-copy-hugetlb, replayed from their tokens with the trace checked.
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/engine/events.js';
import { EEXIST, EFAULT, EINVAL } from '../../src/kernel/defs.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { ScenarioError } from '../../src/scenario/issues.js';
import { at, directed, model, notes, rets } from './helpers.js';

/** Index of the first lock event of thread t with this op on this lock. */
const lockAt = (events: readonly TraceEvent[], t: string, op: string, lock: string): number =>
  events.findIndex((e) => e.k === 'lock' && e.t === t && e.op === op && e.lock === lock);

describe('UFFDIO_COPY into hugetlb against a hugetlb fault and a hole punch (uffd-copy-hugetlb)', () => {
  const m = model('uffd-copy-hugetlb', 'v6.10');

  it('the fault mutex serialises the copy and the fault of index 1: the fault wins, the copy gets -EEXIST; page 0 is filled and the sleeping fault woken', () => {
    const r = directed(m, [
      ['puncher', null],
      ['cpu', 'handle_userfault:sleep'],
      ['cpu2', 'hugetlb_fault:alloc'],
      ['filler', null],
      ['cpu2', null],
    ]);
    expect(r.verdict).toBeNull();
    const ev = r.events;
    expect(rets(ev, 'mfill_atomic_hugetlb')).toEqual([1]);
    expect(rets(ev, 'mfill_atomic')).toEqual([1]);
    const M1 = 'hugetlb_fault_mutex[huge:1]';
    const queued = at(ev, 'cpu', /handle_userfault: vpn 0 queued to userfaultfd/);
    const added0 = at(ev, 'filler', /hugetlb_add_to_page_cache: index 0 of huge ← folio \d+/);
    const copied0 = at(ev, 'filler', /UFFDIO_COPY: vpn 0 → hugetlb folio \d+/);
    const faultHolds = lockAt(ev, 'cpu2', 'acquire', M1);
    const copyBlocks = lockAt(ev, 'filler', 'block', M1);
    const faultAdds = at(ev, 'cpu2', /hugetlb_no_page: index 1 of huge ← new hugetlb folio \d+/);
    const faultReleases = lockAt(ev, 'cpu2', 'release', M1);
    const copyTakes = lockAt(ev, 'filler', 'acquire', M1);
    const refused = at(ev, 'filler', /hugetlb_mfill_atomic_pte: index 1 already in the page cache, -EEXIST/);
    const loaded = at(ev, 'cpu', /load 7 from vpn 0/);
    expect(queued).toBeGreaterThan(0);
    expect(added0).toBeGreaterThan(queued);
    expect(copied0).toBeGreaterThan(added0);
    // the copy of index 1 waits on the fault mutex the fault holds, and takes it only after the fault released it
    expect(copyBlocks).toBeGreaterThan(Math.max(faultHolds, copied0));
    expect(faultAdds).toBeGreaterThan(copyBlocks);
    expect(faultReleases).toBeGreaterThan(faultAdds);
    expect(copyTakes).toBeGreaterThan(faultReleases);
    expect(refused).toBeGreaterThan(copyTakes);
    expect(loaded).toBeGreaterThan(refused);
    // the unlock order: hugetlb_vma_unlock_read, then mutex_unlock
    expect(lockAt(ev, 'filler', 'release', 'hv.hugetlb_vma_lock')).toBeLessThan(lockAt(ev, 'filler', 'release', 'hugetlb_fault_mutex[huge:0]'));
  });

  it('the copy wins index 1 after the punch: both huge pages filled, the later fault through the alias maps the copied folio', () => {
    const r = directed(m, [
      ['puncher', null],
      ['cpu', 'handle_userfault:sleep'],
      ['filler', null],
      ['cpu', null],
      ['cpu2', null],
    ]);
    expect(r.verdict).toBeNull();
    const ev = r.events;
    expect(rets(ev, 'mfill_atomic')).toEqual([2]);
    const n = notes(ev);
    const copied1 = n.find((s) => /^filler: UFFDIO_COPY: vpn 4 → hugetlb folio \d+$/.test(s));
    expect(copied1).toBeDefined();
    const folio = copied1?.split(' ').pop();
    expect(n.some((s) => s.startsWith('cpu2: hugetlb_no_page'))).toBe(false);
    expect(n).toContain(`cpu2: store 5 to vpn 12: folio ${folio}`);
    expect(at(ev, 'cpu', /load 7 from vpn 0/)).toBeGreaterThan(at(ev, 'filler', /UFFDIO_COPY: vpn 4/));
  });

  it('the copy before the punch: index 1 is still cached, -EEXIST before any allocation', () => {
    const r = directed(m, [['filler', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([1]);
    const n = notes(r.events);
    expect(n).toContain('filler: hugetlb_mfill_atomic_pte: index 1 already in the page cache, -EEXIST');
    expect(n.filter((s) => s.startsWith('filler: hugetlb_add_to_page_cache'))).toHaveLength(1);
  });
});

const inline = (vma: string, ops: string) => `name: uffd-fill-hugetlb
description: fill ioctls into a hugetlb VMA
world:
  memfds:
    huge: { kind: hugetlb, pages: 2, populated: [0] }
  mms:
    P:
      vmas:
        dst: { memfd: huge, pages: 2, ${vma}uffd: [missing, minor] }
actors:
  - name: filler
    mm: P
    ops:
${ops}
variants:
  default:
    description: one thread
    expect: []
`;

describe('UFFDIO_ZEROPAGE and UFFDIO_CONTINUE on hugetlb', () => {
  it('ZEROPAGE is -EINVAL; CONTINUE maps the cached folio, a second CONTINUE finds the huge PTE set under the PTL (-EEXIST); a hole is -EFAULT; a COPY over the mapped page fails the check before the PTL (-EEXIST)', () => {
    const ops = [
      '      - { op: uffdio_zeropage, vma: dst, page: 0 }',
      '      - { op: uffdio_continue, vma: dst, page: 0 }',
      '      - { op: uffdio_continue, vma: dst, page: 0 }',
      '      - { op: uffdio_continue, vma: dst, page: 1 }',
      '      - { op: uffdio_copy, vma: dst, page: 0, value: 9 }',
      '      - { op: write, vma: dst, page: 0, value: 3 }',
    ].join('\n');
    const m = buildModel(parseScenario(inline('shared: true, ', ops), 'inline.yaml'), 'default');
    const r = directed(m, [['filler', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([EINVAL, 1, EEXIST, EFAULT, EEXIST]);
    const n = notes(r.events);
    expect(n).toContain('filler: mfill_atomic_hugetlb: UFFDIO_ZEROPAGE on hugetlb, -EINVAL');
    expect(n.some((s) => /^filler: UFFDIO_CONTINUE: vpn 0 → hugetlb folio \d+$/.test(s))).toBe(true);
    expect(n).toContain('filler: hugetlb_mfill_atomic_pte: vpn 0 huge PTE not none under the PTL, -EEXIST');
    expect(n).toContain('filler: hugetlb_mfill_atomic_pte: no folio at index 1 (CONTINUE), -EFAULT');
    expect(n).toContain('filler: mfill_atomic_hugetlb: vpn 0 huge PTE not none, -EEXIST');
    expect(n.some((s) => /^filler: store 3 to vpn 0: folio \d+$/.test(s))).toBe(true);
  });

  for (const [what, vma, op, msg] of [
    ['a private hugetlb VMA', '', 'uffdio_copy', 'mfill_atomic_hugetlb is modelled for shared (shared: true) hugetlb VMAs only'],
    ['mode wp', 'shared: true, ', 'uffdio_copy', 'mode wp into hugetlb is not modelled'],
  ] as const) {
    it(`${what} is rejected at load time with the op's path and the reason`, () => {
      const mode = what === 'mode wp' ? ', mode: [wp]' : '';
      let err: unknown;
      try {
        parseScenario(inline(vma, `      - { op: ${op}, vma: dst, page: 0${mode} }`), 'huge.yaml');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ScenarioError);
      expect((err as Error).message).toContain('actors[0].ops[0]: ');
      expect((err as Error).message).toContain(msg);
    });
  }
});
