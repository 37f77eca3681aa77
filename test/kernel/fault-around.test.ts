/**
 * Fault-around and invalidate_lock (actors/mm/filemap.ts, punch-hole.ts): filemap_map_pages maps
 * cached folios under the PTL with next_uptodate_folio's rechecks; filemap_fault fills the page
 * cache under invalidate_lock (shared); an fs hole punch holds it exclusive around
 * truncate_pagecache_range and the block freeing.
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/engine/events.js';
import { encodeToken } from '../../src/explore/token.js';
import { dfsOf } from '../helpers.js';
import { at, directed, model, notes, replay } from '../uffd/helpers.js';

const NAME = 'mm-fault-around-vs-punch';
const acquires = (events: readonly TraceEvent[], t: string): string[] =>
  events.flatMap((e) => (e.k === 'lock' && e.t === t && e.op === 'acquire' ? [e.lock] : []));

describe('fault-around and invalidate_lock', () => {
  it('alone: filemap_map_pages maps pages 0, 2, 3 under the PTL, then filemap_fault reads page 1 in under invalidate_lock', () => {
    const r = directed(model(NAME, 'default'), [['cpu', null]]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    const mapped = [0, 2, 3].map((v) => n.findIndex((x) => x.startsWith(`cpu: filemap_map_pages: vpn ${v} → folio`)));
    expect(mapped.every((i) => i >= 0)).toBe(true);
    const created = n.indexOf('cpu: filemap_fault: index 1 of file ← new folio 3 (under invalidate_lock)');
    expect(created).toBeGreaterThan(Math.max(...mapped));
    const locks = acquires(r.events, 'cpu');
    const mmap = locks.indexOf('P.mmap_lock');
    const ptl = locks.indexOf('ptl[0]');
    const inv = locks.indexOf('file.invalidate_lock');
    expect(mmap).toBe(0);
    expect(ptl).toBeGreaterThan(mmap);
    expect(inv).toBeGreaterThan(ptl); // the PTL of fault-around is released before ->fault
    expect(r.events.some((e) => e.k === 'lock' && e.t === 'cpu' && e.op === 'release' && e.lock === 'file.invalidate_lock')).toBe(true);
  });

  it('punch alone: i_rwsem, invalidate_lock (write), then i_mmap_rwsem for the unmap', () => {
    const r = directed(model(NAME, 'default'), [['punch', null]]);
    expect(r.verdict).toBeNull();
    const locks = acquires(r.events, 'punch');
    expect(locks.slice(0, 3)).toEqual(['file.i_rwsem', 'file.invalidate_lock', 'file.i_mmap_rwsem']);
  });

  /** cpu has looked up (and referenced) folio 0; punch truncates it before cpu's folio_trylock. */
  const truncatedUnderLookup = [
    ['cpu', 'do_fault_around:trylock'],
    ['punch', null],
    ['cpu', null],
  ] as const;

  it('default: the folio truncated under the lookup fails the ->mapping recheck and is skipped', () => {
    const r = directed(model(NAME, 'default'), truncatedUnderLookup);
    expect(r.verdict).toBeNull();
    const removed = at(r.events, 'punch', /filemap_remove_folio: folio 0 leaves file index 0/);
    const skipped = at(r.events, 'cpu', /next_uptodate_folio: folio 0 at index 0 was truncated, skipped/);
    expect(removed).toBeGreaterThan(0);
    expect(skipped).toBeGreaterThan(removed);
    expect(notes(r.events).some((x) => x.includes('vpn 0 → folio 0'))).toBe(false);
  });

  it('skip-mapping-check: the same schedule maps the truncated folio (invariant)', () => {
    const r = directed(model(NAME, 'skip-mapping-check'), truncatedUnderLookup);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toBe('PTE of map at vpn 0 maps folio 0, but file index 0 holds no folio (a mapping of a truncated page)');
  });

  it('default: filemap_fault waits for the punch on invalidate_lock, then reads page 1 in after the blocks are freed', () => {
    const r = directed(model(NAME, 'default'), [
      ['punch', 'punch_hole:free_blocks'],
      ['cpu', 'filemap_fault:retry_find'],
      ['punch', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    const unlocked = r.events.findIndex((e) => e.k === 'lock' && e.t === 'punch' && e.op === 'release' && e.lock === 'file.invalidate_lock');
    const created = at(r.events, 'cpu', /filemap_fault: index 1 of file ← new folio/);
    expect(unlocked).toBeGreaterThan(0);
    expect(created).toBeGreaterThan(unlocked);
  });

  it('punch-no-invalidate-lock: filemap_fault reads page 1 back between the truncation and the block freeing', () => {
    const r = directed(model(NAME, 'punch-no-invalidate-lock'), [
      ['punch', 'punch_hole:free_blocks'],
      ['cpu', null],
      ['punch', null],
    ]);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toBe('punch_hole: file index 1 was read into the page cache (folio 0) while its blocks were being freed (stale data)');
  });

  it('DFS: default completes clean; each planted bug is found and its witness replays', () => {
    const d = dfsOf(model(NAME, 'default'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
    for (const v of ['skip-mapping-check', 'punch-no-invalidate-lock']) {
      const m = model(NAME, v);
      const f = dfsOf(m).findings;
      expect(f.map((x) => x.verdict.code)).toEqual(['invariant']);
      const w = f[0];
      if (!w) throw new Error('no finding');
      expect(replay(m, encodeToken(w.choices)).verdict).toEqual(w.verdict);
    }
  });
});

describe('shmem: fault-around without invalidate_lock', () => {
  const SHMEM = 'mm-shmem-fault-around-vs-punch';

  it('a fault inside the hole being punched waits on shmem_falloc, not on invalidate_lock; neither side takes invalidate_lock', () => {
    const r = directed(model(SHMEM, 'default'), [
      ['punch', 'punch_hole:remove'],
      ['cpu', null],
      ['punch', null],
    ]);
    expect(r.verdict).toBeNull();
    expect(r.events.some((e) => e.k === 'lock' && e.lock === 'file.invalidate_lock')).toBe(false);
    expect(notes(r.events)).toContain('cpu: shmem_falloc_wait: index 1 is being punched, waiting');
    expect(notes(r.events).some((x) => x.startsWith('cpu: filemap_map_pages: vpn 2 → folio'))).toBe(true);
  });

  it('DFS completes without a verdict', () => {
    const d = dfsOf(model(SHMEM, 'default'));
    expect(d.complete).toBe(true);
    expect(d.findings).toEqual([]);
  });
});


describe('invalidate_lock in the lock-order graph', () => {
  it('mmap_lock → invalidate_lock → folio_lock (filemap_fault) and i_rwsem → invalidate_lock → i_mmap_rwsem (punch): no cycle, no rank violation', () => {
    const m = model(NAME, 'default');
    const d = dfsOf(m);
    expect(d.complete).toBe(true);
    const names = m.classes;
    // lockdep keys are class << 2 | subclass
    const edges = d.graph.edges.map((e) => `${names[e.from >> 2]} -> ${names[e.to >> 2]}`);
    for (const e of ['mmap_lock -> invalidate_lock', 'invalidate_lock -> folio_lock', 'i_rwsem -> invalidate_lock', 'invalidate_lock -> i_mmap_rwsem'])
      expect(edges).toContain(e);
    expect(d.graph.cycles()).toEqual([]);
    expect(d.graph.violations).toEqual([]);
  });
});
