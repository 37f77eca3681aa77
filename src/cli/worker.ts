/**
 * The piscina worker: run a task on the model of its scenario variant. Scenario files are loaded
 * once per process and version (path and modification time), and each variant's model built once
 * from it, so a worker that runs many variants of one file parses and validates the file once, and
 * `--watch` sees an edited file.
 */
import { statSync } from 'node:fs';
import type { Model } from '../engine/model.js';
import { runTask, type Task, type TaskResult } from '../explore/task.js';
import { buildModel } from '../scenario/build.js';
import { loadScenarioFile, type Scenario } from '../scenario/load.js';
import { withParams } from '../scenario/generate.js';


const scenarios = new Map<string, Scenario>();
const models = new Map<string, Model>();

/** The file's version: its path and modification time (an edited file is loaded again). */
function version(file: string): string {
  try {
    return `${file}\0${statSync(file).mtimeMs}`;
  } catch {
    return file; // the load reports the missing file
  }
}

/** The model of a scenario file's variant, with generator parameters (cached per process). */
export function modelFor(file: string, variant: string, params: Readonly<Record<string, number>> = {}): Model {
  const v = version(file);
  const key = `${v}\0${variant}\0${JSON.stringify(params)}`;
  let m = models.get(key);
  if (!m) {
    let sc = scenarios.get(v);
    if (!sc) scenarios.set(v, (sc = loadScenarioFile(file, Number.POSITIVE_INFINITY))); // size checked by the caller
    m = buildModel(withParams(sc, params), variant);
    models.set(key, m);
  }
  return m;
}

export default function work(task: Task): TaskResult {
  return runTask(modelFor(task.file, task.variant, task.params), task);
}
