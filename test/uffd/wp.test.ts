/**
 * userfaultfd write-protect (actors/uffd/writeprotect.ts), UFFDIO_COPY_MODE_WP and UFFDIO_POISON
 * (actors/uffd/fill.ts), WP/MINOR faults in handle_userfault with userfaultfd_must_wait's recheck,
 * faults on PTE markers (actors/mm/pte-marker.ts), and the two real bugs reproduced from their
 * fixes: 49d6d7fb6313 (fork copies a uffd-wp marker) and d1751118c886 (a failed pte_alloc dropped).
 */
import { describe, expect, it } from 'vitest';
import type { World } from '../../src/engine/world.js';
import { EINVAL, ENOENT, ENOMEM, EEXIST, _PAGE_RW, _PAGE_UFFD_WP } from '../../src/kernel/defs.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { UFFD_WP_MARKER } from '../../src/kernel/pte-marker.js';
import { encodeToken } from '../../src/explore/token.js';
import { scenarioJsonSchema } from '../../src/scenario/jsonschema.js';
import { knownSwitches } from '../../src/scenario/ops.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { dfsOf, expectProven } from '../helpers.js';
import { at, directed, model, notes, replay, rets } from './helpers.js';

/** The PTE of `page` of VMA `vma` in the world (0 when its pmd is not a table). */
function pteOf(w: World, K: Kernel, vma: string, page: number): number {
  const v = K.vmaNames.get(vma) as number;
  const vpn = K.vpn(v, page);
  const pmd = w.get(K.pmdSlot(K.vma(v).mm, vpn >> 2));
  if ((pmd & 7) !== 1) return 0;
  return w.get(K.pteSlot(pmd >>> 8, vpn & 3));
}

describe('the scenario vocabulary', () => {
  it('`mmsim schema` lists uffdio_writeprotect and uffdio_poison, uffdio_copy takes mode wp; the fix switches are registered', () => {
    const text = JSON.stringify(scenarioJsonSchema());
    for (const op of ['uffdio_writeprotect', 'uffdio_poison']) expect(text).toContain(`"const":"${op}"`);
    expect(text).toContain('UFFDIO_COPY_MODE_WP');
    expect(knownSwitches().has('uffd_wp_pgtable_alloc_enomem')).toBe(true);
    expect(knownSwitches().has('uffd_fix_pte_marker_fork')).toBe(true);
  });
});

describe('UFFDIO_WRITEPROTECT and WP faults on anonymous memory (uffd-wp-anon)', () => {
  const m = model('uffd-wp-anon', 'v6.13');
  /** monitor: the COPY_MODE_WP of page 1 and the protect of page 0, stopping before the resolve. */
  const protectedLegs = [
    ['monitor', 'mwriteprotect_range:start'],
    ['monitor', 'mwriteprotect_range:wake'],
    ['monitor', 'mwriteprotect_range:start'],
  ] as const;

  it('COPY_MODE_WP maps page 1 uffd-wp; the store write-faults into handle_userfault(VM_UFFD_WP), sleeps, and the resolve wakes it', () => {
    const r = directed(m, [...protectedLegs, ['cpu', 'handle_userfault:sleep'], ['monitor', null], ['cpu', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([1]);
    expect(rets(r.events, 'mwriteprotect_range')).toEqual([0, 0]);
    const copied = at(r.events, 'monitor', /UFFDIO_COPY: vpn 1 → folio \d+ \(uffd-wp\)/);
    const wpFault = at(r.events, 'cpu', /do_wp_page:uffd_unlock/);
    const queued = at(r.events, 'cpu', /handle_userfault: vpn 1 queued to userfaultfd \(WP\)/);
    const resolved = at(r.events, 'monitor', /change_pte_range: vpn 0\.\.1 uffd-wp resolved \(2 changed\)/);
    const stored = at(r.events, 'cpu', /store 6 to vpn 1/);
    expect(copied).toBeGreaterThan(0);
    expect(wpFault).toBeGreaterThan(copied);
    expect(queued).toBeGreaterThan(wpFault);
    expect(resolved).toBeGreaterThan(queued);
    expect(stored).toBeGreaterThan(resolved);
    // both exclusive anon pages are writable again, without the uffd-wp bit (MM_CP_TRY_CHANGE_WRITABLE)
    for (const page of [0, 1]) {
      const pte = pteOf(r.w, r.K, 'buf', page);
      expect(pte & _PAGE_UFFD_WP).toBe(0);
      expect(pte & _PAGE_RW).toBe(_PAGE_RW);
    }
  });

  it('userfaultfd_must_wait: a resolve between do_wp_page and the queueing makes the fault retry instead of sleeping', () => {
    const r = directed(m, [...protectedLegs, ['cpu', 'handle_userfault:queue'], ['monitor', null], ['cpu', null]]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events)).toContain('cpu: handle_userfault: vpn 1 already resolved (userfaultfd_must_wait false), retry');
    expect(notes(r.events).some((n) => n.includes('queued to userfaultfd'))).toBe(false);
    expect(at(r.events, 'cpu', /store 6 to vpn 1/)).toBeGreaterThan(at(r.events, 'monitor', /uffd-wp resolved/));
  });

  it('with the stores first: a MISSING fault the copy resolves; the stores after the resolve take no WP fault', () => {
    const r = directed(m, [
      ['cpu', null],
      ['monitor', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events).filter((n) => n.startsWith('cpu: handle_userfault:'))).toEqual(['cpu: handle_userfault: vpn 1 queued to userfaultfd']);
    expect(at(r.events, 'cpu', /store 6 to vpn 1/)).toBeGreaterThan(at(r.events, 'monitor', /uffd-wp resolved/));
    expect(at(r.events, 'cpu', /store 5 to vpn 0/)).toBeGreaterThan(at(r.events, 'cpu', /store 6 to vpn 1/));
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('uffd-wp PTE markers on shmem (uffd-wp-shmem)', () => {
  const m = model('uffd-wp-shmem', 'v6.13');

  it('write-protecting none PTEs of a file VMA installs markers; a store through a marker is mapped uffd-wp, then WP-faults until the resolve', () => {
    const r = directed(m, [
      ['monitor', 'mwriteprotect_range:wake'],
      ['monitor', 'mwriteprotect_range:start'],
      ['cpu', 'handle_userfault:sleep'],
      ['monitor', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    expect(n).toContain('monitor: change_pte_range: vpn 0..1 uffd-wp protected (2 changed)');
    const marker = at(r.events, 'cpu', /handle_pte_marker:start/);
    const mapped = at(r.events, 'cpu', /finish_fault: vpn 1 → folio \d+/);
    const queued = at(r.events, 'cpu', /handle_userfault: vpn 1 queued to userfaultfd \(WP\)/);
    const resolved = at(r.events, 'monitor', /uffd-wp resolved/);
    expect(marker).toBeGreaterThan(0);
    expect(mapped).toBeGreaterThan(marker);
    expect(queued).toBeGreaterThan(mapped);
    expect(resolved).toBeGreaterThan(queued);
    expect(at(r.events, 'cpu', /store 5 to vpn 1/)).toBeGreaterThan(resolved);
    // the load of page 0 went through its marker too and was mapped uffd-wp, which the resolve cleared
    expect(pteOf(r.w, r.K, 'buf', 0) & _PAGE_UFFD_WP).toBe(0);
  });

  it('the resolve drops markers no fault consumed', () => {
    const r = directed(m, [['monitor', null], ['cpu', null]]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events)).toContain('monitor: change_pte_range: vpn 0..1 uffd-wp resolved (2 changed)');
    expect(notes(r.events).some((s) => s.includes('(WP)'))).toBe(false);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('UFFDIO_POISON (uffd-poison)', () => {
  const m = model('uffd-poison', 'v6.13');

  it('a load of a poisoned PTE is VM_FAULT_HWPOISON (SIGBUS); the copy after it overwrites the marker (pte_none_mostly)', () => {
    const r = directed(m, [['poisoner', null], ['cpu', null], ['copier', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([1, 1]);
    const poisoned = at(r.events, 'poisoner', /mfill_atomic_pte_poison: vpn 0 → poison marker/);
    const hw = at(r.events, 'cpu', /handle_pte_marker: vpn 0 poisoned \(UFFDIO_POISON\), VM_FAULT_HWPOISON/);
    const bus = at(r.events, 'cpu', /SIGBUS at vpn 0/);
    expect(hw).toBeGreaterThan(poisoned);
    expect(bus).toBeGreaterThan(hw);
    expect(at(r.events, 'copier', /UFFDIO_COPY: vpn 0 → folio \d+/)).toBeGreaterThan(bus);
  });

  it('the poison refuses a mapped PTE: -EEXIST', () => {
    const r = directed(m, [['copier', null], ['poisoner', null], ['cpu', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([1, EEXIST]);
    expect(notes(r.events)).toContain('poisoner: mfill_atomic_pte_poison: vpn 0 not none, -EEXIST');
    expect(at(r.events, 'cpu', /load 7 from vpn 0/)).toBeGreaterThan(0);
  });

  it('a poison resolving a MISSING fault wakes it; the retried load gets SIGBUS', () => {
    const text = `name: uffd-poison-missing
description: UFFDIO_POISON resolves a sleeping MISSING fault
world:
  mms:
    P:
      vmas:
        buf: { pages: 4, uffd: [missing] }
actors:
  - name: cpu
    mm: P
    ops:
      - { op: read, vma: buf, page: 0 }
  - name: poisoner
    mm: P
    ops:
      - { op: uffdio_poison, vma: buf, page: 0 }
variants:
  default:
    description: v6.13
    expect: []
`;
    const mm = buildModel(parseScenario(text, 'inline.yaml'), 'default');
    const r = directed(mm, [['cpu', 'handle_userfault:sleep'], ['poisoner', null], ['cpu', null]]);
    expect(r.verdict).toBeNull();
    expect(at(r.events, 'poisoner', /→ poison marker/)).toBeGreaterThan(at(r.events, 'cpu', /handle_userfault: vpn 0 queued to userfaultfd$/));
    expect(at(r.events, 'cpu', /SIGBUS at vpn 0/)).toBeGreaterThan(at(r.events, 'poisoner', /→ poison marker/));
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('MINOR faults (shmem_get_folio_gfp: userfaultfd_minor → handle_userfault(VM_UFFD_MINOR))', () => {
  const m = model('uffd-continue-fault', 'v6.10');

  it('userfaultfd_must_wait: a UFFDIO_CONTINUE between the MINOR fault and its queueing makes it retry, not sleep', () => {
    const r = directed(m, [
      ['cpu', 'handle_userfault:queue'],
      ['resolver', null],
      ['cpu', null],
      ['puncher', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([1, 1]);
    const mapped = at(r.events, 'resolver', /UFFDIO_CONTINUE: vpn 1 → folio \d+/);
    const retry = at(r.events, 'cpu', /handle_userfault: vpn 1 already resolved \(userfaultfd_must_wait false\), retry/);
    expect(mapped).toBeGreaterThan(at(r.events, 'cpu', /shmem_get_folio:minor/));
    expect(retry).toBeGreaterThan(mapped);
    expect(at(r.events, 'cpu', /load \d+ from vpn 1/)).toBeGreaterThan(retry);
  });
});

describe('zap keeps uffd-wp state of file VMAs (zap_nonpresent_ptes, zap_install_uffd_wp_if_needed)', () => {
  const text = `name: uffd-wp-zap
description: MADV_DONTNEED of a uffd-wp protected shmem page, then munmap
world:
  memfds:
    shm: { pages: 4, populated: [0, 1] }
  mms:
    P:
      vmas:
        buf: { memfd: shm, pages: 4, shared: true, populated: [0], uffd: [wp] }
actors:
  - name: t
    mm: P
    ops:
      - { op: uffdio_writeprotect, vma: buf, page: 0, pages: 2, mode: [wp] }
      - { op: madvise_dontneed, vma: buf, page: 0, pages: 2 }
      - { op: read, vma: buf, page: 0 }
      - { op: munmap, vma: buf }
variants:
  default:
    description: v6.13
    expect: []
`;
  const withMunmap = buildModel(parseScenario(text, 'inline.yaml'), 'default');
  const noMunmap = buildModel(parseScenario(text.replace('      - { op: munmap, vma: buf }\n', ''), 'inline.yaml'), 'default');

  it('DONTNEED leaves a marker for the protected page and keeps the marker of the none one; the load maps uffd-wp through it', () => {
    const r = directed(noMunmap, [['t', null]]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events)).toContain('t: change_pte_range: vpn 0..1 uffd-wp protected (2 changed)');
    expect(notes(r.events)).toContain('t: zap_pte_range: vpn 0 keeps a uffd-wp marker');
    expect(at(r.events, 't', /handle_pte_marker:start/)).toBeGreaterThan(at(r.events, 't', /keeps a uffd-wp marker/));
    expect(at(r.events, 't', /load \d+ from vpn 0/)).toBeGreaterThan(at(r.events, 't', /finish_fault: vpn 0/));
    expect(pteOf(r.w, r.K, 'buf', 0) & (_PAGE_UFFD_WP | _PAGE_RW)).toBe(_PAGE_UFFD_WP);
    expect(pteOf(r.w, r.K, 'buf', 1)).toBe(UFFD_WP_MARKER);
    expect(notes(r.events).some((n) => n.includes('marker dropped'))).toBe(false);
  });

  it('munmap (unmap_vmas: ZAP_FLAG_DROP_MARKER) drops the uffd-wp PTE and the marker', () => {
    const r = directed(withMunmap, [['t', null]]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events).filter((n) => n.includes('keeps a uffd-wp marker'))).toEqual(['t: zap_pte_range: vpn 0 keeps a uffd-wp marker']);
    expect(notes(r.events).filter((n) => n.includes('marker dropped'))).toEqual(['t: zap_pte_range: vpn 1 uffd-wp marker dropped']);
    expect(at(r.events, 't', /vpn 1 uffd-wp marker dropped/)).toBeGreaterThan(at(r.events, 't', /munmap:/));
    expect(pteOf(r.w, r.K, 'buf', 0)).toBe(0);
    expect(pteOf(r.w, r.K, 'buf', 1)).toBe(0);
  });
});

describe('argument and registration checks', () => {
  const text = `name: uffd-wp-errors
description: ioctls a VMA's registration refuses
world:
  mms:
    P:
      vmas:
        miss: { pages: 4, uffd: [missing] }
        wp: { pages: 4, populated: [0], uffd: [wp] }
actors:
  - name: t
    mm: P
    ops:
      - { op: uffdio_copy, vma: miss, page: 0, mode: [wp] }
      - { op: uffdio_writeprotect, vma: miss, page: 0, mode: [wp] }
      - { op: uffdio_writeprotect, vma: wp, page: 0, mode: [wp, dontwake] }
      - { op: uffdio_writeprotect, vma: wp, page: 0, mode: [wp] }
variants:
  default:
    description: v6.13
    expect: []
`;
  it('COPY_MODE_WP into a VMA not registered WP is -EINVAL, WRITEPROTECT of it -ENOENT, WP with DONTWAKE -EINVAL', () => {
    const r = directed(buildModel(parseScenario(text, 'inline.yaml'), 'default'), [['t', null]]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mfill_atomic')).toEqual([EINVAL]);
    expect(rets(r.events, 'mwriteprotect_range')).toEqual([ENOENT, EINVAL, 0]);
    expect(pteOf(r.w, r.K, 'wp', 0) & (_PAGE_UFFD_WP | _PAGE_RW)).toBe(_PAGE_UFFD_WP);
  });
});

describe('fork copies a uffd-wp marker into a child without VM_UFFD_WP (49d6d7fb6313, Fixes: c56d1b62cce8)', () => {
  const NAME = 'uffd-wp-fork-marker';
  /** cpu COWs page 0 (anon_vma), monitor puts a marker on page 1, then the fork copies the table. */
  const legs = [
    ['cpu', null],
    ['monitor', null],
    ['forker', null],
  ] as const;

  it('v6.1: DFS finds the WARN; its witness replays to the same verdict through the marker copy', () => {
    const m = model(NAME, 'v6.1');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['warn']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    const r = replay(m, encodeToken(f.choices));
    expect(r.verdict).toEqual(f.verdict);
    expect(r.verdict?.message).toBe('WARNING at fork_mm:copy: WARN_ON(WARN_ON_ONCE(!userfaultfd_wp(dst_vma)) in copy_nonpresent_pte)');
    const marker = at(r.events, 'monitor', /change_pte_range: vpn 1\.\.1 uffd-wp protected \(1 changed\)/);
    const copied = at(r.events, 'forker', /copy_nonpresent_pte: pte marker at index 1 copied to the child, whose VMA is not VM_UFFD_WP/);
    expect(marker).toBeGreaterThan(0);
    expect(copied).toBeGreaterThan(marker);
    expect(copied).toBeGreaterThan(at(r.events, 'cpu', /wp_page_copy: vpn 0 → new folio/));
  });

  it('v6.1: the directed schedule (COW, protect, fork) warns', () => {
    const r = directed(model(NAME, 'v6.1'), legs);
    expect(r.verdict?.code).toBe('warn');
  });

  it('fixed: the same schedule drops the marker in the child; the parent keeps it', () => {
    const r = directed(model(NAME, 'fixed'), legs);
    expect(r.verdict).toBeNull();
    expect(notes(r.events)).toContain('forker: copy_pte_marker: pte marker at index 1 dropped in the child');
    expect(pteOf(r.w, r.K, 'buf', 1)).toBe(UFFD_WP_MARKER);
    expect(pteOf(r.w, r.K, 'cbuf', 1)).toBe(0);
  });

  it('fixed: DFS completes without a verdict', () => {
    const d = dfsOf(model(NAME, 'fixed'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});

describe('a failed pte_alloc while write-protecting a file VMA (d1751118c886)', () => {
  const NAME = 'uffd-wp-pgtable-alloc';
  const cpuFirst = [
    ['cpu', null],
    ['monitor', null],
  ] as const;

  it('v6.2: DFS finds the WARN_ON_ONCE; its witness replays to it after the load took the only table', () => {
    const m = model(NAME, 'v6.2');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['warn']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    const r = replay(m, encodeToken(f.choices));
    expect(r.verdict).toEqual(f.verdict);
    expect(r.verdict?.message).toBe('WARNING at change_protection:alloced: WARN_ON(WARN_ON_ONCE(pte_alloc(vma->vm_mm, pmd)) in change_pmd_prepare)');
    expect(at(r.events, 'monitor', /change_pmd_prepare: pte_alloc for pmd 1 failed \(error dropped/)).toBeGreaterThan(at(r.events, 'cpu', /finish_fault: vpn 0/));
  });

  it('fixed: the same schedule returns -ENOMEM from UFFDIO_WRITEPROTECT', () => {
    const r = directed(model(NAME, 'fixed'), cpuFirst);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mwriteprotect_range')).toEqual([ENOMEM]);
    expect(notes(r.events)).toContain('monitor: change_pmd_prepare: pte_alloc for pmd 1 failed, -ENOMEM');
  });

  it('fixed: when the protect comes first it gets the table (a marker on page 4) and the load fails instead (VM_FAULT_OOM)', () => {
    const r = directed(model(NAME, 'fixed'), [
      ['monitor', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mwriteprotect_range')).toEqual([0]);
    expect(pteOf(r.w, r.K, 'buf', 4)).toBe(UFFD_WP_MARKER);
    expect(at(r.events, 'cpu', /SIGBUS at vpn 0/)).toBeGreaterThan(0);
  });

  it('fixed: DFS completes without a verdict', () => {
    const d = dfsOf(model(NAME, 'fixed'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});

describe('mremap keeps the uffd-wp bit in a VMA without VM_UFFD_WP (0cef0bb836e3, Fixes: 63b2d4174c4a)', () => {
  const NAME = 'uffd-wp-mremap';
  const protectFirst = [
    ['monitor', null],
    ['mover', null],
  ] as const;

  it('v6.12: DFS finds page_table_check_pte_flags WARN; the witness protects, moves the whole table, then mprotect makes the PTE writable', () => {
    const m = model(NAME, 'v6.12');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['warn']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    const r = replay(m, encodeToken(f.choices));
    expect(r.verdict).toEqual(f.verdict);
    expect(r.verdict?.message).toBe('WARNING at change_protection:ptes: WARN_ON(pte_write(pte) with pte_uffd_wp(pte) in page_table_check_pte_flags)');
    const wp = at(r.events, 'monitor', /change_pte_range: vpn 0\.\.0 uffd-wp protected \(1 changed\)/);
    const moved = at(r.events, 'mover', /move_normal_pmd: table \d+ moved from pmd 0 to pmd 1/);
    const warn = at(r.events, 'mover', /WARNING at change_protection:ptes/);
    expect(wp).toBeGreaterThan(0);
    expect(moved).toBeGreaterThan(wp);
    expect(warn).toBeGreaterThan(moved);
  });

  it('fixed: the same schedule takes the PTE path, clears the bit, and mprotect makes the page writable', () => {
    const r = directed(model(NAME, 'fixed'), protectFirst);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mwriteprotect_range')).toEqual([0]);
    expect(notes(r.events).some((n) => /move_normal_pmd: table \d+ moved/.test(n))).toBe(false);
    expect(at(r.events, 'mover', /move_ptes: PTEs of table \d+ moved to table \d+/)).toBeGreaterThan(0);
    expect(pteOf(r.w, r.K, 'dst', 0) & (_PAGE_UFFD_WP | _PAGE_RW)).toBe(_PAGE_RW);
  });

  it('fixed: a protect after the mremap finds no VMA (-ENOENT)', () => {
    const r = directed(model(NAME, 'fixed'), [
      ['mover', null],
      ['monitor', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(rets(r.events, 'mwriteprotect_range')).toEqual([ENOENT]);
  });

  it('fixed: DFS completes without a verdict', () => {
    const d = dfsOf(model(NAME, 'fixed'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});
