/**
 * fork's copy_page_range (actors/mm/fork.ts): anon CoW setup, and a pinned anon page copied eagerly
 * into the child (copy_present_page after the -EAGAIN / folio_prealloc retry).
 */
import { describe, expect, it } from 'vitest';
import { folio_pfn, pmd_table, pte_pfn, pte_present, pte_write } from '../../src/kernel/defs.js';
import { F_DATA, F_MAPCOUNT, type Kernel } from '../../src/kernel/kernel.js';
import { expectProven } from '../helpers.js';
import { at, directed, model, notes } from '../uffd/helpers.js';
import type { World } from '../../src/engine/world.js';

const pteOf = (w: World, K: Kernel, mm: number, vpn: number): number => w.get(K.pteSlot(pmd_table(w.get(K.pmdSlot(mm, vpn >> 2))), vpn & 3));

describe('fork with a pinned anonymous page', () => {
  const m = model('mm-fork-pinned', 'v6.11');

  it('pin, then fork: page 0 is copied for the child and stays writable in the parent; page 1 is write-protected in both', () => {
    const r = directed(m, [
      ['pinner', null],
      ['forker', 'fork_mm:src_unlock'],
    ]);
    expect(r.verdict).toBeNull();
    const ev = r.events;
    const eagain = at(ev, 'forker', /copy_pte_range: -EAGAIN at vpn 0, folio_prealloc → folio \d+/);
    const copied = at(ev, 'forker', /copy_present_page: vpn 0 folio 0 may be pinned, child gets a copy/);
    const shared = at(ev, 'forker', /copy_present_pte: vpn 1 folio 1 shared with the child, write-protected in both/);
    expect(eagain).toBeGreaterThan(0);
    expect(copied).toBeGreaterThan(eagain);
    expect(shared).toBeGreaterThan(copied);
    // the parent's mmap_lock first, then the child's (mmap_write_lock_nested)
    const locks = ev.flatMap((e) => (e.k === 'lock' && e.t === 'forker' && e.op === 'acquire' ? [e.lock] : []));
    expect(locks.slice(0, 2)).toEqual(['P.mmap_lock', 'C.mmap_lock']);
  });

  it('the parent then stores into the pinned page itself; the child keeps the data of fork time; page 1 is CoWed in the parent', () => {
    const r = directed(m, [
      ['pinner', null],
      ['forker', null],
      ['writer', null],
    ]);
    expect(r.verdict).toBeNull();
    const { w, K } = r;
    const p0 = pteOf(w, K, 0, 0);
    const c0 = pteOf(w, K, 1, 0);
    expect(pte_present(p0) && pte_write(p0)).toBe(true);
    expect(pte_pfn(p0)).toBe(folio_pfn(0)); // the pinned folio
    expect(notes(r.events)).toContain('writer: store 5 to vpn 0: folio 0');
    expect(pte_pfn(c0)).not.toBe(folio_pfn(0));
    const childFolio = (pte_pfn(c0) >> 2) - 1;
    expect(w.get(K.fSlot(childFolio, F_DATA))).not.toBe(5);
    const c1 = pteOf(w, K, 1, 1);
    expect(pte_write(c1)).toBe(false);
    expect(pte_pfn(c1)).toBe(folio_pfn(1));
    expect(w.get(K.fSlot(1, F_MAPCOUNT))).toBe(1); // only the child maps it after the parent's CoW
    expect(notes(r.events)).toContain('writer: wp_page_copy: vpn 1 → new folio 3 (was 1)');
  });

  it('DFS completes without a verdict', () => expectProven(m));
});
