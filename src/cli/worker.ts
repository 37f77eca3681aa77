/**
 * The piscina worker: run a task on the model of its scenario variant. A task may carry its
 * scenario as the coordinator loaded and validated it (`loaded`): the worker then neither reads nor
 * validates the file again. Otherwise scenario files are loaded once per process and version (path
 * and modification time), so `--watch` sees an edited file. Each variant's model is built once.
 */
import { statSync } from 'node:fs';
import type { Model } from '../engine/model.js';
import { runTask, type Task, type TaskResult } from '../explore/task.js';
import { buildModel } from '../scenario/build.js';
import { withParams } from '../scenario/generate.js';
import { loadScenarioFile, type Scenario } from '../scenario/load.js';

/** A scenario this process loaded and validated, under a stamp that names this one load. */
export interface Loaded {
  readonly stamp: string;
  readonly scenario: Scenario;
}

/** A model to build: a scenario variant with generator parameters, and its scenario if already loaded. */
export interface ModelRef {
  readonly file: string;
  readonly variant: string;
  readonly params: Readonly<Record<string, number>>;
  readonly loaded?: Loaded;
}

/**
 * A task with, optionally, its scenario as loaded by the coordinator; or a start-up task (`warm`):
 * it counts itself in at warm.barrier[0] and waits until warm.barrier[1] tasks have (so each pool
 * thread runs one), then builds the models named and runs nothing.
 */
export interface WorkerTask extends Task {
  readonly loaded?: Loaded;
  readonly warm?: { readonly barrier: Int32Array; readonly models: readonly ModelRef[] };
}

const scenarios = new Map<string, Scenario>();
const models = new Map<string, Model>();
const stamps = new WeakMap<Scenario, Loaded>();
let loads = 0;

/** `sc` under a stamp of its own (the same for the same object), for modelFor and for tasks. */
export function loadedOf(sc: Scenario): Loaded {
  let l = stamps.get(sc);
  if (!l) stamps.set(sc, (l = { stamp: `${sc.file}\0load ${++loads}`, scenario: sc }));
  return l;
}

/** The file's version: its path and modification time (an edited file is loaded again). */
function version(file: string): string {
  try {
    return `${file}\0${statSync(file).mtimeMs}`;
  } catch {
    return file; // the load reports the missing file
  }
}

/**
 * The model of a scenario file's variant, with generator parameters (cached per process): built
 * from `from` when given (a scenario already loaded), else from the file.
 */
export function modelFor(file: string, variant: string, params: Readonly<Record<string, number>> = {}, from?: Loaded): Model {
  const v = from ? from.stamp : version(file);
  const key = `${v}\0${variant}\0${JSON.stringify(params)}`;
  let m = models.get(key);
  if (!m) {
    let sc = scenarios.get(v);
    if (!sc) scenarios.set(v, (sc = from ? from.scenario : loadScenarioFile(file, Number.POSITIVE_INFINITY))); // size checked by the caller
    m = buildModel(withParams(sc, params), variant);
    models.set(key, m);
  }
  return m;
}

/** How long a start-up task waits for the other threads (one that failed to start is not waited for). */
const BARRIER_MS = 10_000;

/** Count in at barrier[0]; wait until barrier[1] have, or BARRIER_MS. */
function meet(barrier: Int32Array): void {
  Atomics.add(barrier, 0, 1);
  Atomics.notify(barrier, 0);
  const until = Date.now() + BARRIER_MS;
  for (let n = Atomics.load(barrier, 0); n < (barrier[1] as number) && Date.now() < until; n = Atomics.load(barrier, 0)) Atomics.wait(barrier, 0, n, 100);
}

export default function work(task: WorkerTask): TaskResult {
  if (task.warm) {
    meet(task.warm.barrier);
    for (const m of task.warm.models) modelFor(m.file, m.variant, m.params, m.loaded);
  }
  return runTask(modelFor(task.file, task.variant, task.params, task.loaded), task);
}
