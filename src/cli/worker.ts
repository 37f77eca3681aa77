/** The piscina worker: rebuild the model of a task's scenario variant (cached) and run the task. */
import type { Model } from '../engine/model.js';
import { runTask, type Task, type TaskResult } from '../explore/task.js';
import { buildModel } from '../scenario/build.js';
import { loadScenarioFile } from '../scenario/load.js';

const models = new Map<string, Model>();

export function modelFor(file: string, variant: string): Model {
  const key = `${file}\0${variant}`;
  let m = models.get(key);
  if (!m) {
    m = buildModel(loadScenarioFile(file), variant);
    models.set(key, m);
  }
  return m;
}

export default function work(task: Task): TaskResult {
  return runTask(modelFor(task.file, task.variant), task);
}
