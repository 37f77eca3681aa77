/** The DFS in pieces: the driver with an injected search order and an injected visited set. */
import { describe, expect, it } from 'vitest';
import { World } from '../../src/engine/world.js';
import { BoundedOrder } from '../../src/explore/bounded-order.js';
import { dfs } from '../../src/explore/dfs.js';
import { PlainOrder } from '../../src/explore/order.js';
import { PorOrder } from '../../src/explore/por-order.js';
import { FingerprintSet } from '../../src/explore/visited.js';
import { catalogueModel, UNBOUNDED } from '../helpers.js';

describe('DFS pieces', () => {
  const m = catalogueModel('philosophers-3', 'ordered');

  it('the visited set is injected: the driver fills the one it is given', () => {
    const visited = new FingerprintSet(1 << 4, true);
    const r = dfs(new World(m, null), { ...UNBOUNDED, visited });
    expect(r.visited).toBe(visited);
    expect(visited.size).toBe(r.distinct);
    expect(r.distinct).toBe(284);
  });

  it('plain and POR orders visit the same states, POR with fewer transitions; a bound of 0 preemptions cuts the search', () => {
    const plain = dfs(new World(m, null), { ...UNBOUNDED, order: new PlainOrder() });
    const w = new World(m, null);
    const por = dfs(w, { ...UNBOUNDED, order: new PorOrder(w.nthreads, w.mem.length + w.nthreads) });
    expect(por.distinct).toBe(plain.distinct);
    expect(por.steps).toBeLessThan(plain.steps);
    expect(plain.complete && por.complete).toBe(true);
    const b0 = dfs(new World(m, null), { ...UNBOUNDED, order: new BoundedOrder(0) });
    expect(b0.complete).toBe(false);
    expect(b0.distinct).toBeLessThan(plain.distinct);
    const b2 = dfs(new World(m, null), { ...UNBOUNDED, order: new BoundedOrder(2) });
    expect(b2.distinct).toBeGreaterThan(b0.distinct);
  });
});
