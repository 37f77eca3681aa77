/** The piscina worker: rebuild the model of a task's scenario variant (cached) and run the task. */
import type { Model } from '../engine/model.js';
import { runTask, type Task, type TaskResult } from '../explore/task.js';
import { buildModel } from '../scenario/build.js';
import { loadScenarioFile } from '../scenario/load.js';
import { withParams } from '../scenario/generate.js';

const models = new Map<string, Model>();

/** The model of a scenario file's variant, with generator parameters (cached per process). */
export function modelFor(file: string, variant: string, params: Readonly<Record<string, number>> = {}): Model {
  const key = `${file}\0${variant}\0${JSON.stringify(params)}`;
  let m = models.get(key);
  if (!m) {
    m = buildModel(withParams(loadScenarioFile(file, Number.POSITIVE_INFINITY), params), variant); // size checked by the caller
    models.set(key, m);
  }
  return m;
}

export default function work(task: Task): TaskResult {
  return runTask(modelFor(task.file, task.variant, task.params), task);
}
