/**
 * Swap (src/kernel/swap.ts, actors/mm/vmscan.ts, swap.ts, swap-in.ts) and UFFDIO_MOVE's swap
 * branch: reclaim through the swap cache and back, and three real bugs on both sides of their
 * fixes — "mm/swap: fix race when skipping swapcache" (13ddaf26be32), "mm: fix kernel BUG when
 * userfaultfd_move encounters swapcache" (c50f8e6053b0) and "mm: userfaultfd: fix race of
 * userfaultfd_move and swap cache" (0ea148a79919).
 */
import { describe, expect, it } from 'vitest';
import { World } from '../../src/engine/world.js';
import { encodeToken } from '../../src/explore/token.js';
import { SWAP, SWAP_HAS_CACHE, swap_map, swapMapMatchesPtes } from '../../src/kernel/swap.js';
import { KERNEL } from '../../src/kernel/kernel.js';
import { dfsOf } from '../helpers.js';
import { at, directed, type Leg, model, notes, replay } from '../uffd/helpers.js';

/** DFS finds exactly `code`, and its witness replays to the same verdict. */
function findsAndReplays(name: string, variant: string, code: string) {
  const m = model(name, variant);
  const d = dfsOf(m);
  expect(d.findings.map((f) => f.verdict.code)).toEqual([code]);
  const f = d.findings[0];
  if (!f) throw new Error('no finding');
  const r = replay(m, encodeToken(f.choices));
  expect(r.verdict).toEqual(f.verdict);
  return f;
}

function provesClean(name: string, variant: string) {
  const d = dfsOf(model(name, variant));
  expect(d.complete).toBe(true);
  expect(d.findings).toEqual([]);
}

describe('reclaim to swap and back (mm-swap-reclaim)', () => {
  const m = model('mm-swap-reclaim', 'default');

  it('shrink_folio_list swaps the folio out; the store faults it back in from the device and the load reads it', () => {
    const r = directed(m, [
      ['reclaimer', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    const n = notes(r.events);
    const order = [
      'reclaimer: add_to_swap: folio 0 in the swap cache at slot 0',
      'reclaimer: try_to_unmap_one: vpn 0 now swap entry (slot 0, exclusive); folio 0 unmapped',
      'reclaimer: pageout: folio 0 written to swap slot 0',
      'reclaimer: __remove_mapping: folio 0 removed from the swap cache (slot 0); freed',
      'cpu: __read_swap_cache_async: folio 0 added to the swap cache at slot 0 and read',
      'cpu: store 5 to vpn 0: folio 0',
      'cpu: load 5 from vpn 0: folio 0',
    ].map((x) => n.indexOf(x));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // the write fault freed the slot (should_try_to_free_swap → folio_free_swap)
    expect(swap_map(r.w, SWAP.of(m), 0)).toBe(0);
  });

  it('a swap-in while reclaim holds the folio hits the swap cache; __remove_mapping then fails on the extra reference', () => {
    const r = directed(m, [
      ['reclaimer', 'shrink_folio_list:remove_mapping'],
      ['cpu', null],
      ['reclaimer', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    const hit = at(r.events, 'cpu', /do_swap_page: slot 0 hit in the swap cache: folio 0/);
    const keep = at(r.events, 'reclaimer', /__remove_mapping: folio 0 refcount 3 \(expected 2\): cannot_free/);
    const mapped = at(r.events, 'cpu', /do_swap_page: vpn 0 → folio 0/);
    expect(hit).toBeGreaterThan(0);
    expect(keep).toBeGreaterThan(hit);
    expect(mapped).toBeGreaterThan(keep);
    expect(notes(r.events)).toContain('cpu: load 5 from vpn 0: folio 0');
  });

  it('a pinned folio is not unmapped: folio_try_share_anon_rmap_pte fails, the PTE is restored and reclaim keeps the folio', () => {
    const r = directed(m, [
      ['pinner', 'pinner:op1'],
      ['reclaimer', null],
      ['pinner', null],
      ['cpu', null],
    ]);
    expect(r.verdict).toBeNull();
    const refused = at(r.events, 'reclaimer', /try_to_unmap_one: folio 0 is pinned \(folio_try_share_anon_rmap_pte failed\): PTE restored, walk aborted/);
    const kept = at(r.events, 'reclaimer', /shrink_folio_list: folio 0 still mapped after try_to_unmap: activate_locked/);
    expect(refused).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(refused);
    expect(notes(r.events)).toContain('cpu: load 5 from vpn 0: folio 0');
  });

  it('DFS completes without a verdict', () => provesClean('mm-swap-reclaim', 'default'));

  it('the swap_map invariant fires on a count no swap PTE backs and on a cached folio without SWAP_HAS_CACHE', () => {
    const w = new World(m, null);
    const S = SWAP.of(m);
    const check = swapMapMatchesPtes(KERNEL.of(m), S);
    expect(check(w)).toBeNull();
    w.set(S.slot(1, 0), 1);
    expect(check(w)).toBe('swap slot 1: swap_map count 1 but 0 swap PTE(s) name it');
    w.set(S.slot(1, 0), 0);
    w.set(S.slot(1, 1), 1); // folio 0 in the swap cache at slot 1
    expect(check(w)).toBe('swap slot 1: folio 0 in the swap cache without SWAP_HAS_CACHE');
    w.set(S.slot(1, 0), SWAP_HAS_CACHE);
    expect(check(w)).toBe('swap slot 1: swap-cache folio 0 lacks PG_swapcache or folio->swap');
  });
});

describe('"mm/swap: fix race when skipping swapcache" (13ddaf26be32, Fixes: 0bcac06f27d7)', () => {
  const NAME = 'mm-swap-skip-swapcache-race';
  /** reader reads the slot into folio A and stops before the PTL; writer swaps in B, frees the entry and stores 2; reclaim reuses the slot. */
  const race: Leg[] = [
    ['reader', 'do_swap_page:lock'],
    ['writer', null],
    ['reclaimer', null],
    ['reader', null],
  ];

  it('v6.7: DFS finds the lost store; its witness replays to the same verdict', () => {
    findsAndReplays(NAME, 'v6.7', 'invariant');
  });

  it('v6.7: the commit message\'s schedule: pte_same passes on the reused entry and the stale page is mapped', () => {
    const r = directed(model(NAME, 'v6.7'), race);
    expect(r.verdict?.code).toBe('invariant');
    expect(r.verdict?.message).toBe('do_swap_page: folio 0 mapped at vpn 0 for swap slot 0 holds 0, but the entry holds 2 (swapped-out data lost)');
    const readA = at(r.events, 'reader', /skip swapcache: folio 0 read from slot 0 \(0\)/);
    const store = at(r.events, 'writer', /store 2 to vpn 0/);
    const reused = at(r.events, 'reclaimer', /add_to_swap: folio 1 in the swap cache at slot 0/);
    expect(readA).toBeGreaterThan(0);
    expect(store).toBeGreaterThan(readA);
    expect(reused).toBeGreaterThan(store);
  });

  it('v6.8: the second swap-in fails swapcache_prepare and refaults until the first has mapped the page', () => {
    const r = directed(model(NAME, 'v6.8'), [
      ['reader', 'do_swap_page:lock'],
      ['writer', 'handle_mm_fault:done'],
      ['reader', null],
      ['writer', null],
      ['reclaimer', null],
    ]);
    expect(r.verdict).toBeNull();
    const refused = at(r.events, 'writer', /swapcache_prepare\(slot 0\) failed: schedule_timeout_uninterruptible\(1\), refault/);
    const mapped = at(r.events, 'reader', /do_swap_page: vpn 0 → folio 0/);
    const store = at(r.events, 'writer', /store 2 to vpn 0: folio 0/);
    expect(refused).toBeGreaterThan(0);
    expect(mapped).toBeGreaterThan(refused);
    expect(store).toBeGreaterThan(mapped);
  });

  it('v6.8: DFS completes without a verdict', () => provesClean(NAME, 'v6.8'));
});

describe('"mm: fix kernel BUG when userfaultfd_move encounters swapcache" (c50f8e6053b0, Fixes: adef440691ba)', () => {
  const NAME = 'uffd-move-swapcache';
  /** reclaim stops with the folio in the swap cache and the PTE a swap entry; the move and the load run. */
  const race: Leg[] = [
    ['reclaimer', 'shrink_folio_list:remove_mapping'],
    ['mover', null],
    ['cpu', null],
  ];

  it('v6.13: DFS finds the BUG; its witness replays to the same verdict', () => {
    findsAndReplays(NAME, 'v6.13', 'bug');
  });

  it('v6.13: the swap PTE moves alone; do_swap_page at dst finds the folio with src\'s anon_vma', () => {
    const r = directed(model(NAME, 'v6.13'), race);
    expect(r.verdict?.code).toBe('bug');
    expect(r.verdict?.message).toMatch(/folio_anon_vma\(folio\)->root != vma->anon_vma->root \(__page_check_anon_rmap: folio 0's anon_vma 0, vma dst's 1\)/);
    const moved = at(r.events, 'mover', /move_swap_pte: swap entry \(slot 0\) moved to dst vpn 4$/);
    const hit = at(r.events, 'cpu', /do_swap_page: slot 0 hit in the swap cache: folio 0/);
    expect(moved).toBeGreaterThan(0);
    expect(hit).toBeGreaterThan(moved);
  });

  it('v6.14: the move finds the swap-cache folio, waits for its lock and moves its rmap and index with the PTE', () => {
    const r = directed(model(NAME, 'v6.14'), race);
    expect(r.verdict).toBeNull();
    const found = at(r.events, 'mover', /has folio 0 in the swap cache: trylock failed/);
    const moved = at(r.events, 'mover', /move_swap_pte: swap entry \(slot 0\) moved to dst vpn 4 with swap-cache folio 0/);
    const mapped = at(r.events, 'cpu', /do_swap_page: vpn 4 → folio 0/);
    expect(found).toBeGreaterThan(0);
    expect(moved).toBeGreaterThan(found);
    expect(mapped).toBeGreaterThan(moved);
  });

  it('v6.14: DFS completes without a verdict', () => provesClean(NAME, 'v6.14'));
});

describe('"mm: userfaultfd: fix race of userfaultfd_move and swap cache" (0ea148a79919, Fixes: adef440691ba)', () => {
  const NAME = 'uffd-move-swapcache-race';
  /** the lookup finds nothing; cpu swaps the page in; reclaim swaps it out again on the same slot, the folio kept in the swap cache. */
  const race: Leg[] = [
    ['mover', 'move_pages_pte:move_swap'],
    ['cpu', 'cpu:op1'],
    ['reclaimer', 'shrink_folio_list:remove_mapping'],
    ['mover', null],
    ['cpu', null],
  ];

  it('v6.15: DFS finds the BUG; its witness replays to the same verdict', () => {
    findsAndReplays(NAME, 'v6.15', 'bug');
  });

  it('v6.15: pte_same passes on the reused entry and the swap PTE moves without the cached folio', () => {
    const r = directed(model(NAME, 'v6.15'), race);
    expect(r.verdict?.code).toBe('bug');
    const swapin = at(r.events, 'cpu', /__read_swap_cache_async: folio 0 added to the swap cache at slot 0/);
    const again = at(r.events, 'reclaimer', /try_to_unmap_one: vpn 0 now swap entry \(slot 0/);
    const moved = at(r.events, 'mover', /move_swap_pte: swap entry \(slot 0\) moved to dst vpn 4$/);
    expect(swapin).toBeGreaterThan(0);
    expect(again).toBeGreaterThan(swapin);
    expect(moved).toBeGreaterThan(again);
  });

  it('v6.16: SWAP_HAS_CACHE under the PTLs gives -EAGAIN; the retry moves the folio with the PTE', () => {
    const r = directed(model(NAME, 'v6.16'), race);
    expect(r.verdict).toBeNull();
    const eagain = at(r.events, 'mover', /move_swap_pte: slot 0 has SWAP_HAS_CACHE under the PTLs: -EAGAIN/);
    const moved = at(r.events, 'mover', /moved to dst vpn 4 with swap-cache folio 0/);
    expect(eagain).toBeGreaterThan(0);
    expect(moved).toBeGreaterThan(eagain);
  });

  it('v6.16: DFS completes without a verdict', () => provesClean(NAME, 'v6.16'));
});
