/**
 * Runners for exploration tasks: inline in this thread, or on a piscina worker pool. Both return
 * results in task order; a pool worker rebuilds each model once from the task's file and variant.
 * The pool is one single-thread piscina per lane, so a task can go to the thread that has run its
 * scenario before (./lanes.ts).
 * A task stops itself at its time limit (task.limitMs) or deadline; the pool runner backs that with
 * a hard stop: a task still running a grace later (a model step that does not return) is aborted,
 * which terminates its worker thread (piscina starts a fresh one), and its exploration fails with
 * TaskLimitError; other tasks go on. The inline runner cannot stop a step that does not return; it
 * yields to the event loop between tasks so signals are seen.
 */
import { Piscina } from 'piscina';
import type { Runner } from './explore.js';
import { Lanes } from './lanes.js';
import type { Task, TaskResult } from './task.js';

/** Run tasks one after another in this thread with `exec`. */
export function inlineRunner(exec: (t: Task) => TaskResult): Runner {
  return async (tasks, onResult) => {
    const out: TaskResult[] = [];
    for (let i = 0; i < tasks.length; i++) {
      if (i > 0) await new Promise<void>((ok) => setImmediate(ok));
      const r = exec(tasks[i] as Task);
      out.push(r);
      onResult(i, r);
    }
    return out;
  };
}

/** A task ran past its time limit and was stopped by terminating its worker. */
export class TaskLimitError extends Error {}

/** Grace after a task's time limit or deadline before a task that has not returned is stopped. */
const GRACE_MS = 3000;
/** How often running tasks are checked against their limit. */
const WATCH_MS = 100;

/**
 * A pool of `threads` workers running the default export of the module at `workerUrl`; a task still
 * running a grace after its limit or deadline is stopped. Each thread runs one task at a time, chosen
 * by scenario (./lanes.ts).
 */
export function poolRunner(workerUrl: URL, threads: number): { run: Runner; close: () => Promise<void> } {
  const pools = Array.from({ length: threads }, () => new Piscina({ filename: workerUrl.href, minThreads: 1, maxThreads: 1 }));
  const lanes = new Lanes(threads);
  const runOne = async (t: Task): Promise<TaskResult> => {
    const lane = await lanes.acquire(t.file);
    // The worker stamps the task's start here, so time spent starting a fresh worker does not count.
    const clock = new Float64Array(new SharedArrayBuffer(8));
    const ac = new AbortController();
    const own = t.limitMs ?? Number.POSITIVE_INFINITY;
    let limit = own;
    const watch = setInterval(() => {
      const start = clock[0] as number;
      if (start === 0) return;
      limit = Math.min(own, t.deadline - start) + GRACE_MS;
      if (Date.now() - start > limit) ac.abort();
    }, WATCH_MS);
    try {
      return (await (pools[lane] as Piscina).run({ ...t, clock }, { signal: ac.signal })) as TaskResult;
    } catch (e) {
      if (ac.signal.aborted)
        throw new TaskLimitError(`a task of ${t.variant} ran past its time limit of ${Math.round(limit - GRACE_MS)} ms and a ${GRACE_MS} ms grace (a model step that does not return?); its worker was stopped`);
      throw e;
    } finally {
      clearInterval(watch);
      lanes.release(lane);
    }
  };
  const run: Runner = async (tasks, onResult) => {
    let done = 0;
    return Promise.all(
      tasks.map(async (t) => {
        const r = await runOne(t);
        onResult(done++, r);
        return r;
      }),
    );
  };
  return { run, close: async () => void (await Promise.all(pools.map((p) => p.destroy()))) };
}
