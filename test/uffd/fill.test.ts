/**
 * The userfaultfd fill ioctls (actors/uffd/fill.ts): UFFDIO_COPY / UFFDIO_ZEROPAGE resolving a
 * MISSING fault, UFFDIO_CONTINUE resolving a MINOR fault, and the real bug fixed by "userfaultfd:
 * don't BUG_ON() if khugepaged yanks our page table" (4828d207dc51) on both sides of the fix.
 */
import { describe, expect, it } from 'vitest';
import { EAGAIN, EEXIST, EFAULT, EINVAL } from '../../src/kernel/defs.js';
import { encodeToken } from '../../src/explore/token.js';
import { scenarioJsonSchema } from '../../src/scenario/jsonschema.js';
import { knownSwitches } from '../../src/scenario/ops.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { ScenarioError } from '../../src/scenario/issues.js';
import { dfsOf, expectProven } from '../helpers.js';
import { at, directed, model, notes, replay, rets } from './helpers.js';

describe('the scenario vocabulary', () => {
  it('`mmsim schema` lists the new operations, and the version switches are registered', () => {
    const text = JSON.stringify(scenarioJsonSchema());
    for (const op of ['uffdio_copy', 'uffdio_zeropage', 'uffdio_continue', 'mremap', 'fork']) expect(text).toContain(`"const":"${op}"`);
    expect(knownSwitches().has('uffd_fill_pmd_checks_v6_11')).toBe(true);
    expect(knownSwitches().has('mremap_recheck_normal_pmd')).toBe(true);
  });
});

describe('UFFDIO_COPY and UFFDIO_ZEROPAGE on anonymous memory', () => {
  const m = model('uffd-copy-fault', 'v6.10');

  it('the copy resolves the sleeping MISSING fault and wakes it; the racing zeropage gets -EEXIST under the PTL', () => {
    const r = directed(m, [
      ['cpu', 'handle_userfault:sleep'],
      ['filler', null],
      ['zeroer', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([1, EEXIST]);
    const queued = at(r.events, 'cpu', /handle_userfault: vpn 0 queued to userfaultfd/);
    const copied = at(r.events, 'filler', /UFFDIO_COPY: vpn 0 → folio \d+/);
    const refused = at(r.events, 'zeroer', /mfill_atomic_pte_zeropage: vpn 0 not none, -EEXIST/);
    const loaded = at(r.events, 'cpu', /load 7 from vpn 0/);
    expect(queued).toBeGreaterThan(0);
    expect(copied).toBeGreaterThan(queued);
    expect(refused).toBeGreaterThan(copied);
    expect(loaded).toBeGreaterThan(refused);
  });

  it('the zeropage wins: the copy finds the PTE present and frees its folio (-EEXIST); the load reads the zero page', () => {
    const r = directed(m, [
      ['cpu', 'handle_userfault:sleep'],
      ['zeroer', null],
      ['filler', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([1, EEXIST]);
    expect(notes(r.events)).toContain('filler: mfill_atomic_install_pte: vpn 0 not none under the PTL, -EEXIST');
    expect(at(r.events, 'cpu', /load vpn 0: zero page/)).toBeGreaterThan(at(r.events, 'zeroer', /vpn 0 → zero page/));
  });
});

describe('UFFDIO_COPY and UFFDIO_ZEROPAGE on shmem (shmem_mfill_atomic_pte)', () => {
  const m = model('uffd-copy-shmem', 'v6.10');

  it('the copy inserts into the page cache and maps it; the racing zeropage finds the index taken (-EEXIST); the woken load reads 7', () => {
    const r = directed(m, [
      ['cpu', 'handle_userfault:sleep'],
      ['filler', null],
      ['zeroer', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([1, EEXIST]);
    const copied = at(r.events, 'filler', /UFFDIO_COPY: vpn 0 → folio \d+/);
    const refused = at(r.events, 'zeroer', /shmem_mfill_atomic_pte: index 0 already in the page cache, -EEXIST/);
    expect(copied).toBeGreaterThan(at(r.events, 'cpu', /handle_userfault: vpn 0 queued/));
    expect(refused).toBeGreaterThan(copied);
    expect(at(r.events, 'cpu', /load 7 from vpn 0/)).toBeGreaterThan(refused);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('UFFDIO_CONTINUE on shmem (MINOR mode)', () => {
  const m = model('uffd-continue-fault', 'v6.10');

  it('maps the cached folio, wakes the MINOR fault; a punched page is -EFAULT (SGP_NOALLOC)', () => {
    const r = directed(m, [
      ['cpu', 'handle_userfault:sleep'],
      ['puncher', null],
      ['resolver', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([1, EFAULT]);
    expect(notes(r.events)).toContain('resolver: mfill_atomic_pte_continue: no folio at index 2 (SGP_NOALLOC), -EFAULT');
    const mapped = at(r.events, 'resolver', /UFFDIO_CONTINUE: vpn 1 → folio \d+/);
    expect(mapped).toBeGreaterThan(at(r.events, 'cpu', /handle_userfault: vpn 1 queued/));
    expect(at(r.events, 'cpu', /load \d+ from vpn 1/)).toBeGreaterThan(mapped);
  });
});

describe('UFFDIO_CONTINUE vs retract_page_tables (4828d207dc51, Fixes: 1d65b771bc08)', () => {
  const NAME = 'uffd-continue-vs-retract';
  /** resolver allocates dst's table and stops before the checks; khugepaged collapses and retracts it. */
  const yank = [
    ['resolver', 'mfill_atomic:checks'],
    ['khugepaged', null],
    ['resolver', null],
  ] as const;

  it('v6.10: DFS finds the BUG_ON; its witness replays to the same verdict', () => {
    const m = model(NAME, 'v6.10');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['bug']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    const r = replay(m, encodeToken(f.choices));
    expect(r.verdict).toEqual(f.verdict);
    expect(r.verdict?.message).toBe('kernel BUG at mfill_atomic:checks: BUG_ON(pmd_none(*dst_pmd))');
  });

  it('v6.10: the table __pte_alloc installed is retracted (no mmap_lock, no VMA lock) before BUG_ON(pmd_none(*dst_pmd))', () => {
    const r = directed(model(NAME, 'v6.10'), yank);
    expect(r.verdict?.message).toBe('kernel BUG at mfill_atomic:checks: BUG_ON(pmd_none(*dst_pmd))');
    const alloc = at(r.events, 'resolver', /__pte_alloc/);
    const retracted = at(r.events, 'khugepaged', /retract_page_tables: dst pmd 0 table \d+ retracted, pmd none/);
    const bug = at(r.events, 'resolver', /dst pmd 0 is none after __pte_alloc/);
    expect(alloc).toBeGreaterThan(0);
    expect(retracted).toBeGreaterThan(alloc);
    expect(bug).toBeGreaterThan(retracted);
    // resolver holds dst's VMA read lock (uffd_mfill_lock); khugepaged took neither it nor mmap_lock
    expect(r.events.some((e) => e.k === 'lock' && e.t === 'resolver' && e.lock === 'dst.vm_lock')).toBe(true);
    const kLocks = r.events.slice(0, retracted).flatMap((e) => (e.k === 'lock' && e.t === 'khugepaged' ? [`${e.op} ${e.lock}`] : []));
    expect(kLocks).toContain('acquire shm.i_mmap_rwsem');
    // khugepaged's scan took and dropped mmap_lock before collapse_file; it holds it no more
    const mmap = kLocks.filter((n) => n.endsWith(' P.mmap_lock'));
    expect(mmap.filter((n) => n.startsWith('acquire')).length).toBe(mmap.filter((n) => n.startsWith('release')).length);
    expect(kLocks.filter((n) => n.endsWith(' dst.vm_lock'))).toEqual([]);
  });

  it('v6.11: the same schedule re-reads the pmd and returns -EEXIST', () => {
    const r = directed(model(NAME, 'v6.11'), yank);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([EEXIST]);
    expect(notes(r.events)).toContain('resolver: mfill_atomic: dst pmd 0 is none after __pte_alloc, -EEXIST');
  });

  it('v6.11: a retraction after the checks makes pte_offset_map_lock fail: -EAGAIN', () => {
    const r = directed(model(NAME, 'v6.11'), [
      ['resolver', 'mfill_atomic:fill'],
      ['khugepaged', null],
      ['resolver', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([EAGAIN]);
  });

  it('v6.11: DFS completes without a verdict', () => {
    const d = dfsOf(model(NAME, 'v6.11'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});

describe('UFFDIO_COPY into a MAP_PRIVATE shmem mapping (mfill_atomic_pte: !VM_SHARED → mfill_atomic_pte_copy)', () => {
  const text = `name: uffd-copy-private-shmem
description: UFFDIO_COPY into a private shmem mapping makes anonymous memory; the file keeps its hole
world:
  memfds:
    shm: { pages: 4, populated: [1] }
  mms:
    P:
      vmas:
        dst: { memfd: shm, pages: 4, uffd: [missing] }
        peek: { memfd: shm, pages: 4, shared: true }
actors:
  - name: filler
    mm: P
    ops:
      - { op: uffdio_copy, vma: dst, page: 0, value: 7 }
      - { op: read, vma: dst, page: 0 }
      - { op: read, vma: peek, page: 0 }
variants:
  default:
    description: one thread
    expect: []
`;
  const m = buildModel(parseScenario(text, 'inline.yaml'), 'default');

  it('the copy maps an anonymous folio (not a page-cache one): dst reads 7, the shared mapping of the file still reads 0', () => {
    const r = directed(m, [['filler', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([1]);
    const n = notes(r.events);
    expect(n.some((s) => /filler: UFFDIO_COPY: vpn \d+ → folio \d+/.test(s))).toBe(true);
    expect(n.some((s) => /shmem_mfill_atomic_pte/.test(s))).toBe(false);
    expect(at(r.events, 'filler', /load 7 from vpn/)).toBeGreaterThan(0);
    expect(at(r.events, 'filler', /load 0 from vpn/)).toBeGreaterThan(at(r.events, 'filler', /load 7 from vpn/));
  });
});

describe('UFFDIO_CONTINUE beyond i_size (shmem_get_folio_gfp: -EINVAL, not mapped to -EFAULT)', () => {
  const text = `name: uffd-continue-eof
description: UFFDIO_CONTINUE past the end of the file
world:
  memfds:
    shm: { pages: 2, populated: [0, 1] }
  mms:
    P:
      vmas:
        dst: { memfd: shm, pages: 4, shared: true, uffd: [minor] }
actors:
  - name: resolver
    mm: P
    ops:
      - { op: uffdio_continue, vma: dst, page: 3 }
      - { op: uffdio_continue, vma: dst, page: 1 }
variants:
  default:
    description: one thread
    expect: []
`;
  it('page 3 of a 2-page file is -EINVAL; page 1 maps', () => {
    const r = directed(buildModel(parseScenario(text, 'inline.yaml'), 'default'), [['resolver', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([EINVAL, 1]);
    expect(notes(r.events)).toContain('resolver: mfill_atomic_pte_continue: index 3 beyond i_size, -EINVAL');
  });
});

describe('a hugetlb destination: UFFDIO_POISON into hugetlb is not modelled (mfill_atomic_hugetlb, test/uffd/fill-hugetlb.test.ts)', () => {
  const text = (op: string) => `name: uffd-fill-hugetlb
description: a fill ioctl into a hugetlb VMA
world:
  memfds:
    huge: { kind: hugetlb, pages: 1 }
  mms:
    P:
      vmas:
        dst: { memfd: huge, pages: 1, shared: true, uffd: [missing, minor] }
actors:
  - name: filler
    mm: P
    ops:
      - { op: read, vma: dst, page: 0 }
      - { op: ${op}, vma: dst, page: 0 }
variants:
  default:
    description: one thread
    expect: []
`;
  for (const op of ['uffdio_poison']) {
    it(`${op} is rejected at load time with the file, the op's path and line, and the reason`, () => {
      let err: unknown;
      try {
        parseScenario(text(op), 'huge.yaml');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ScenarioError);
      const p = (err as ScenarioError).problems;
      expect(p).toHaveLength(1);
      expect(p[0]?.path).toBe('actors[0].ops[1]');
      expect(p[0]?.line).toBe(15);
      expect((err as Error).message).toContain(`huge.yaml:15:`);
      expect((err as Error).message).toContain('actors[0].ops[1]: ');
      expect((err as Error).message).toContain('UFFDIO_POISON into hugetlb is not modelled');
    });
  }
});
