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
