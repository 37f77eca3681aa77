/**
 * The per-VMA-lock fault path (actors/mm/vma-fault.ts: do_user_addr_fault → lock_vma_under_rcu,
 * v6.4) and "fork: lock VMAs of the parent process when forking" (fb49c455323f, Fixes: 0bff0aaea03e)
 * on both sides of the fix.
 */
import { describe, expect, it } from 'vitest';
import { encodeToken } from '../../src/explore/token.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { dfsOf, expectProven } from '../helpers.js';
import { at, directed, model, notes, replay, rets } from '../uffd/helpers.js';

const FORK = 'mm-vma-lock-fork';
// the fork has copied table 0 (page 0 write-protected in the parent) and locked the child's table 1;
// the writer then stores to pages 0 and 4; the fork finishes; the child checks what it got
const race = [
  ['forker', 'fork_mm:dst_unlock'],
  ['forker', 'fork_mm:src_map'],
  ['writer', null],
  ['forker', null],
  ['writer', null],
  ['child', null],
] as const;

const lockEvents = (events: ReturnType<typeof directed>['events'], t: string): string[] =>
  events.flatMap((e) => (e.k === 'lock' && e.t === t ? [`${e.op} ${e.lock}`] : []));

describe('fork vs a per-VMA-lock fault in the parent', () => {
  it('fixed: vma_start_read fails on the write-locked VMA, the fault falls back to mmap_read_lock and waits for the fork', () => {
    const r = directed(model(FORK, 'fixed'), race);
    expect(r.verdict).toBeNull();
    expect(lockEvents(r.events, 'forker')).toContain('acquire buf.vm_lock');
    const refused = at(r.events, 'writer', /lock_vma_under_rcu: vpn 0: vma_start_read: write-locked \(vm_lock_seq == mm_lock_seq\), fall back to mmap_lock/);
    const blocked = r.events.findIndex((e) => e.k === 'lock' && e.t === 'writer' && e.op === 'block' && e.lock === 'P.mmap_lock');
    const forkDone = r.events.findIndex((e) => e.k === 'lock' && e.t === 'forker' && e.op === 'release' && e.lock === 'P.mmap_lock');
    const got = r.events.findIndex((e) => e.k === 'lock' && e.t === 'writer' && e.op === 'acquire' && e.lock === 'P.mmap_lock');
    expect(refused).toBeGreaterThan(0);
    expect(blocked).toBeGreaterThan(refused);
    expect(forkDone).toBeGreaterThan(blocked);
    expect(got).toBeGreaterThan(forkDone);
    // the fault runs under mmap_lock after the fork: the child sees neither store
    expect(notes(r.events)).toContain('child: fork snapshot: the child sees 0 of 2 stores, a prefix');
  });

  it('v6.4: the same schedule takes the VMA read lock during the fork; the child sees the store to page 4 but not the one to page 0', () => {
    const r = directed(model(FORK, 'v6.4'), race);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toBe("fork snapshot: the child sees the parent's store of 6 to page 4 but not the earlier store of 5 to page 0 (reads 0)");
    const shared = at(r.events, 'forker', /copy_present_pte: vpn 0 folio 0 shared with the child, write-protected in both/);
    const locked = at(r.events, 'writer', /lock_vma_under_rcu: vpn 0 VMA read-locked, handle_mm_fault\(FAULT_FLAG_VMA_LOCK\)/);
    const cow = at(r.events, 'writer', /wp_page_copy: vpn 0 → new folio \d+ \(was 0\)/);
    const store4 = at(r.events, 'writer', /store 6 to vpn 4: folio 1/);
    const copied4 = at(r.events, 'forker', /copy_present_pte: vpn 4 folio 1 shared with the child/);
    expect(locked).toBeGreaterThan(shared);
    expect(cow).toBeGreaterThan(locked);
    expect(store4).toBeGreaterThan(cow);
    expect(copied4).toBeGreaterThan(store4);
    // no mmap_lock for the writer: the fork held it for write throughout
    expect(lockEvents(r.events, 'writer')).not.toContain('acquire P.mmap_lock');
  });

  it('v6.4: DFS finds the invariant; its witness replays to the same verdict', () => {
    const m = model(FORK, 'v6.4');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['invariant']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    const r = replay(m, encodeToken(f.choices));
    expect(r.verdict).toEqual(f.verdict);
    expect(notes(r.events).some((n) => n.startsWith('writer: lock_vma_under_rcu: vpn 0 VMA read-locked'))).toBe(true);
  });

  it('fixed: DFS completes without a verdict', () => {
    const d = dfsOf(model(FORK, 'fixed'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});

const ANON = 'mm-vma-lock-anon-vma';
// cpu looks the VMA up (anon_vma set) and stops before vma_start_read; mremap(MREMAP_DONTUNMAP)
// moves the table and unlinks the old VMA's anon_vma; cpu goes on
const anonRace = [
  ['cpu', 'do_user_addr_fault_vma:start_read'],
  ['mover', null],
  ['cpu', null],
] as const;

describe('lock_vma_under_rcu vs mremap(MREMAP_DONTUNMAP): the anon_vma check', () => {
  it('v6.4: checked before vma_start_read, the fault reaches anon_vma_prepare with only the VMA lock', () => {
    const r = directed(model(ANON, 'v6.4'), anonRace);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toBe('__anon_vma_prepare of VMA old under the VMA lock without mmap_lock (find_mergeable_anon_vma reads unlocked neighbouring VMAs)');
    const unlinked = at(r.events, 'mover', /move_vma: MREMAP_DONTUNMAP, unlink_anon_vmas\(old\): vma->anon_vma = NULL/);
    const locked = at(r.events, 'cpu', /lock_vma_under_rcu: vpn 1 VMA read-locked/);
    expect(unlinked).toBeGreaterThan(0);
    expect(locked).toBeGreaterThan(unlinked);
  });

  it('fixed: the same schedule finds no anon_vma under the VMA lock and falls back to mmap_lock', () => {
    const r = directed(model(ANON, 'fixed'), anonRace);
    expect(r.verdict).toBeNull();
    expect(notes(r.events)).toContain('cpu: lock_vma_under_rcu: vpn 1: no anon_vma, fall back to mmap_lock');
    const ev = r.events;
    const endRead = ev.findIndex((e) => e.k === 'lock' && e.t === 'cpu' && e.op === 'release' && e.lock === 'old.vm_lock');
    const mmap = ev.findIndex((e) => e.k === 'lock' && e.t === 'cpu' && e.op === 'acquire' && e.lock === 'P.mmap_lock');
    expect(endRead).toBeGreaterThan(0);
    expect(mmap).toBeGreaterThan(endRead);
    expect(notes(r.events)).toContain('cpu: do_anonymous_page: vpn 1 → folio 1');
  });

  it('v6.4: DFS finds the invariant and its witness replays to it; fixed: DFS completes clean', () => {
    const m = model(ANON, 'v6.4');
    const d = dfsOf(m);
    expect(d.findings.map((f) => f.verdict.code)).toEqual(['invariant']);
    const f = d.findings[0];
    if (!f) throw new Error('no finding');
    expect(replay(m, encodeToken(f.choices)).verdict).toEqual(f.verdict);
    const fixed = dfsOf(model(ANON, 'fixed'));
    expect(fixed.complete).toBe(true);
    expect(fixed.findings).toEqual([]);
  });
});

describe('lock_vma_under_rcu against munmap: every way vma_start_read fails, and the fallback', () => {
  const m = model('mm-vma-lock-fault', 'v6.4');

  it("down_read_trylock fails behind munmap's queued vma_start_write; the fault falls back to mmap_read_lock and gets SIGSEGV", () => {
    const r = directed(m, [
      ['cpu1', 'do_user_addr_fault_vma:locked'],
      ['unmapper', null],
      ['cpu0', null],
      ['cpu1', null],
      ['unmapper', null],
      ['cpu0', null],
    ]);
    expect(r.verdict).toBeNull();
    const queued = r.events.findIndex((e) => e.k === 'lock' && e.t === 'unmapper' && e.op === 'block' && e.lock === 'buf.vm_lock');
    const refused = at(r.events, 'cpu0', /lock_vma_under_rcu: vpn 1: vma_start_read: down_read_trylock failed, fall back to mmap_lock/);
    expect(queued).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(queued);
    expect(notes(r.events)).toContain('cpu1: load vpn 2: zero page');
    expect(notes(r.events)).toContain('cpu0: SIGSEGV at vpn 1');
  });

  it('the VMA detached between the lookup and vma_start_read: vma_end_read, retry, no VMA, mmap_lock, SIGSEGV', () => {
    const r = directed(m, [
      ['cpu0', 'do_user_addr_fault_vma:start_read'],
      ['unmapper', 'munmap:unmap'],
      ['cpu0', null],
      ['unmapper', null],
    ]);
    expect(r.verdict).toBeNull();
    const ev = r.events;
    const reads = ev.flatMap((e, i) => (e.k === 'lock' && e.t === 'cpu0' && e.lock === 'buf.vm_lock' ? [`${e.op}@${i}`] : []));
    expect(reads.map((s) => s.split('@')[0])).toEqual(['acquire', 'release']);
    const retry = at(ev, 'cpu0', /lock_vma_under_rcu: vpn 1: no VMA, fall back to mmap_lock/);
    expect(retry).toBeGreaterThan(Number(reads[1]?.split('@')[1]));
    expect(notes(ev)).toContain('cpu0: SIGSEGV at vpn 1');
  });

  it('a fault after vma_start_write (the VMA write-locked) falls back without touching the VMA rwsem', () => {
    const r = directed(m, [
      ['unmapper', 'munmap:detach'],
      ['cpu0', null],
      ['unmapper', null],
      ['cpu0', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(notes(r.events)).toContain('cpu0: lock_vma_under_rcu: vpn 1: vma_start_read: write-locked (vm_lock_seq == mm_lock_seq), fall back to mmap_lock');
    expect(r.events.some((e) => e.k === 'lock' && e.t === 'cpu0' && e.lock === 'buf.vm_lock')).toBe(false);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('MADV_DONTNEED under the per-VMA read lock (v6.17)', () => {
  const m = model('mm-vma-lock-madvise', 'v6.17');

  it('zaps under the VMA read lock alone; the store then faults under the VMA lock too', () => {
    const r = directed(m, [
      ['zapper', null],
      ['writer', null],
      ['unmapper', null],
    ]);
    expect(r.verdict).toBeNull();
    const zapped = at(r.events, 'zapper', /madvise: MADV_DONTNEED under the VMA read lock of buf/);
    const faulted = at(r.events, 'writer', /lock_vma_under_rcu: vpn 0 VMA read-locked/);
    expect(zapped).toBeGreaterThan(0);
    expect(faulted).toBeGreaterThan(zapped);
    expect(r.events.some((e) => e.k === 'lock' && (e.t === 'zapper' || e.t === 'writer') && e.lock === 'P.mmap_lock')).toBe(false);
    expect(at(r.events, 'writer', /store 9 to vpn 0: folio \d+/)).toBeGreaterThan(faulted);
  });

  it("munmap's vma_start_write sends madvise to mmap_read_lock, which waits for the unmap: -ENOMEM", () => {
    const r = directed(m, [
      ['unmapper', 'munmap:detach'],
      ['zapper', null],
      ['unmapper', null],
      ['zapper', null],
    ]);
    expect(r.verdict).toBeNull();
    const refused = at(r.events, 'zapper', /madvise: try_vma_read_lock: vma_start_read: write-locked \(vm_lock_seq == mm_lock_seq\), mmap_read_lock/);
    const blocked = r.events.findIndex((e) => e.k === 'lock' && e.t === 'zapper' && e.op === 'block' && e.lock === 'P.mmap_lock');
    expect(refused).toBeGreaterThan(0);
    expect(blocked).toBeGreaterThan(refused);
    expect(rets(r.events, 'madvise_dontneed')).toEqual([-12]);
  });

  it('DFS completes without a verdict', () => expectProven(m));
});

describe('the per_vma_lock switch', () => {
  const yaml = (on: boolean): string =>
    [
      'name: per-vma-lock-switch',
      'description: a store to a missing page',
      'world: { mms: { P: { vmas: { buf: { pages: 4, populated: [0] } } } } }',
      'actors: [ { name: cpu, mm: P, ops: [ { op: write, vma: buf, page: 1, value: 2 } ] } ]',
      `variants: { v: { expect: [], switches: { per_vma_lock: ${on} } } }`,
    ].join('\n');
  const faults = (on: boolean) => directed(buildModel(parseScenario(yaml(on), 'switch.yaml'), 'v'), []).events;

  it('sends a store without `vma_lock` through lock_vma_under_rcu; without the switch it takes mmap_lock', () => {
    const on = faults(true);
    expect(notes(on)).toContain('cpu: lock_vma_under_rcu: vpn 1 VMA read-locked, handle_mm_fault(FAULT_FLAG_VMA_LOCK)');
    expect(on.some((e) => e.k === 'lock' && e.lock === 'P.mmap_lock')).toBe(false);
    const off = faults(false);
    expect(off.some((e) => e.k === 'call' && e.proc === 'do_user_addr_fault_vma')).toBe(false);
    expect(off.some((e) => e.k === 'lock' && e.op === 'acquire' && e.lock === 'P.mmap_lock')).toBe(true);
  });
});
