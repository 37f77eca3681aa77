/** Shared test helpers: build catalogue models, explore, replay a token. */
import { expect } from 'vitest';
import { join } from 'node:path';
import { buildModel } from '../src/scenario/build.js';
import { loadScenarioFile } from '../src/scenario/load.js';
import { World } from '../src/engine/world.js';
import { LockGraph } from '../src/locks/lockdep.js';
import { dfs, type DfsOptions } from '../src/explore/dfs.js';
import type { Model, ModelBuilder } from '../src/engine/model.js';
import { proc } from '../src/engine/proc.js';

export const scenarioFile = (name: string): string => join(import.meta.dirname, '..', 'scenarios', `${name}.yaml`);

export function catalogueModel(name: string, variant = 'default'): Model {
  return buildModel(loadScenarioFile(scenarioFile(name)), variant);
}

export const UNBOUNDED: DfsOptions = { maxSteps: 1000, maxStates: 10_000_000, preemptions: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY };

export function dfsOf(model: Model, opts: Partial<DfsOptions> = {}) {
  const graph = new LockGraph();
  const w = new World(model, graph);
  return { ...dfs(w, { ...UNBOUNDED, ...opts }), graph };
}

/** The model's DFS completes without any verdict (a clean proof). */
export function expectProven(model: Model): void {
  const d = dfsOf(model);
  expect(d.complete).toBe(true);
  expect(d.findings).toEqual([]);
}

/** Add thread `name` that sets memory slot `slot` to 1 once and exits (a small model's other thread). */
export function addSetOnce(b: ModelBuilder, name: string, slot: number): void {
  type K = { w: { set(i: number, v: number): void }; ret(v: number): number };
  b.thread(
    name,
    proc('set', 'test', () => ({}), {
      set: (k: K) => {
        k.w.set(slot, 1);
        return 'end';
      },
      end: (k: K) => k.ret(0),
    } as never),
  );
}

/**
 * Add thread `name` (procedure `procName`) that writes 1, 2, ..., `writes` to memory slot `slot`,
 * then, with `reset`, writes 0 back, and exits.
 */
export function addCounter(b: ModelBuilder, name: string, procName: string, slot: number, writes: number, reset = false): void {
  type K = { w: { set(i: number, v: number): void }; ret(v: number): number };
  const steps: Record<string, (k: K) => string | number> = {};
  for (let i = 0; i < writes; i++)
    steps[`w${i}`] = (k) => {
      k.w.set(slot, i + 1);
      return i + 1 < writes ? `w${i + 1}` : reset ? 'reset' : 'end';
    };
  if (reset)
    steps.reset = (k) => {
      k.w.set(slot, 0);
      return 'end';
    };
  steps.end = (k) => k.ret(0);
  b.thread(name, proc(procName, 'test', () => ({}), steps as never));
}

/**
 * Thread `name` waits for memory slot `slot` to be 1: it loads the slot into a local, checks it,
 * pauses and loads again (the loop's back jump is at `pause`, so a cycle of states closes at `check`,
 * not at the jump: the shape of a fault retried by GUP until a migration entry goes away).
 */
export function addWaiter(b: ModelBuilder, name: string, slot: number): void {
  type K = { w: { get(i: number): number }; ret(v: number): number };
  type L = { v: number };
  b.thread(
    name,
    proc(`wait_${name}`, 'test', () => ({ v: -1 }), {
      load: (k: K, l: L) => {
        l.v = k.w.get(slot);
        return 'check';
      },
      check: (_k: K, l: L) => (l.v === 1 ? 'out' : 'pause'),
      pause: () => 'load',
      out: (k: K) => k.ret(0),
    } as never),
  );
}

/** Thread `name` spins on memory slot `slot` until it is 1, one step a turn (a cycle of one state). */
export function addSpinner(b: ModelBuilder, name: string, slot: number): void {
  type K = { w: { get(i: number): number }; ret(v: number): number };
  b.thread(
    name,
    proc(`spin_${name}`, 'test', () => ({}), {
      spin: (k: K) => (k.w.get(slot) === 1 ? 'out' : 'spin'),
      out: (k: K) => k.ret(0),
    } as never),
  );
}
