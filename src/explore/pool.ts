/**
 * Runners for exploration tasks: inline in this thread, or on a piscina worker pool. Both return
 * results in task order; a pool worker rebuilds each model once from the task's file and variant.
 */
import { Piscina } from 'piscina';
import type { Runner } from './explore.js';
import type { Task, TaskResult } from './task.js';

/** Run tasks one after another in this thread with `exec`. */
export function inlineRunner(exec: (t: Task) => TaskResult): Runner {
  return async (tasks, onResult) => {
    const out: TaskResult[] = [];
    for (let i = 0; i < tasks.length; i++) {
      const r = exec(tasks[i] as Task);
      out.push(r);
      onResult(i, r);
    }
    return out;
  };
}

/** A pool of `threads` workers running the default export of the module at `workerUrl`. */
export function poolRunner(workerUrl: URL, threads: number): { run: Runner; close: () => Promise<void> } {
  const pool = new Piscina({ filename: workerUrl.href, minThreads: threads, maxThreads: threads });
  const run: Runner = async (tasks, onResult) => {
    let done = 0;
    return Promise.all(
      tasks.map(async (t) => {
        const r = (await pool.run(t)) as TaskResult;
        onResult(done++, r);
        return r;
      }),
    );
  };
  return { run, close: () => pool.destroy() };
}
