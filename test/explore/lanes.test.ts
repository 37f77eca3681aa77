/** The pool's choice of thread per task (src/explore/lanes.ts): scenario affinity, then stealing. */
import { describe, expect, it } from 'vitest';
import { Lanes } from '../../src/explore/lanes.js';

/** Queue `keys` at once; return, in the order they were granted, [key, lane] (lanes released by the caller). */
function queue(lanes: Lanes, keys: string[], log: [string, number][]): Promise<number>[] {
  return keys.map((k) =>
    lanes.acquire(k).then((lane) => {
      log.push([k, lane]);
      return lane;
    }),
  );
}

const settle = () => new Promise<void>((ok) => setImmediate(ok));

describe('lanes', () => {
  it('gives each free lane a different scenario first, then keeps a scenario on the lane that ran it', async () => {
    const lanes = new Lanes(2);
    const log: [string, number][] = [];
    // Both lanes busy (the pool's start-up tasks) while the catalogue's tasks queue up in order:
    // two variants of a, one of b, two of c.
    queue(lanes, ['start', 'start'], log);
    const got = queue(lanes, ['a', 'a', 'b', 'c', 'c'], log);
    await settle();
    lanes.release(0); // lane 0 takes a, the oldest task of a scenario nobody owns
    await settle();
    lanes.release(1); // lane 1 skips a's other task (a is lane 0's) and takes b
    await settle();
    expect(log.slice(2)).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    lanes.release(0); // lane 0 takes a's other task before anything new
    await settle();
    expect(log[4]).toEqual(['a', 0]);
    lanes.release(1); // lane 1 takes c and owns it
    await settle();
    expect(log[5]).toEqual(['c', 1]);
    lanes.release(0); // lane 0 has nothing of its own and nothing unowned: it steals c's other task
    await settle();
    expect(log[6]).toEqual(['c', 0]);
    expect(await Promise.all(got)).toEqual([0, 0, 1, 1, 0]);
  });

  it('a task waiting while several lanes are free goes to the lane that owns its scenario', async () => {
    const lanes = new Lanes(2);
    const log: [string, number][] = [];
    const first = queue(lanes, ['a', 'b'], log); // a on lane 0, b on lane 1: each owns its scenario
    await settle();
    const [l0, l1] = await Promise.all(first);
    lanes.release(l0 as number);
    lanes.release(l1 as number);
    queue(lanes, ['b'], log); // both lanes free: b goes back to lane 1, not to the first free lane
    await settle();
    expect(log).toEqual([
      ['a', 0],
      ['b', 1],
      ['b', 1],
    ]);
  });

  it('does not leave a lane idle for affinity: with nothing else waiting it takes another lane\'s scenario', async () => {
    const lanes = new Lanes(2);
    const log: [string, number][] = [];
    queue(lanes, ['a'], log);
    queue(lanes, ['a'], log);
    await settle();
    expect(log).toEqual([
      ['a', 0],
      ['a', 1],
    ]);
  });

  it("spreads one scenario's many tasks over every lane, oldest first", async () => {
    const lanes = new Lanes(3);
    const log: [string, number][] = [];
    queue(lanes, ['x', 'x', 'x', 'x'], log);
    await settle();
    expect(log).toEqual([
      ['x', 0],
      ['x', 1],
      ['x', 2],
    ]);
    lanes.release(2);
    await settle();
    expect(log[3]).toEqual(['x', 2]);
  });

  it('never gives a lane to two tasks at once', async () => {
    const lanes = new Lanes(2);
    const busy = new Set<number>();
    let overlaps = 0;
    let runs = 0;
    const task = async (k: string) => {
      const lane = await lanes.acquire(k);
      if (busy.has(lane)) overlaps++;
      busy.add(lane);
      await settle();
      runs++;
      busy.delete(lane);
      lanes.release(lane);
    };
    await Promise.all(['a', 'b', 'a', 'c', 'b', 'a', 'd', 'd', 'a'].map(task));
    expect(runs).toBe(9);
    expect(overlaps).toBe(0);
  });
});
