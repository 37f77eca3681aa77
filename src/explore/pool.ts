/**
 * Runners for exploration tasks: inline in this thread, or on a piscina worker pool. Both return
 * results in task order; a pool worker rebuilds each model once from the task's file and variant.
 * The pool runner enforces a time limit per task: a task still running past it (a model step that
 * does not return) is aborted, which terminates its worker thread (piscina starts a fresh one), and
 * its exploration fails with TaskLimitError; other tasks go on. The inline runner cannot stop a
 * step that does not return; it yields to the event loop between tasks so signals are seen.
 */
import { Piscina } from 'piscina';
import type { Runner } from './explore.js';
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

/** Grace after a time budget's deadline before a task that has not returned is stopped. */
const DEADLINE_GRACE_MS = 5000;
/** How often running tasks are checked against their limit. */
const WATCH_MS = 100;

/**
 * A pool of `threads` workers running the default export of the module at `workerUrl`; each task
 * may run `taskLimitMs` at most (and until its deadline plus a grace). At most `threads` tasks are
 * handed to piscina at once, so a task's clock starts when it starts.
 */
export function poolRunner(workerUrl: URL, threads: number, taskLimitMs = Number.POSITIVE_INFINITY): { run: Runner; close: () => Promise<void> } {
  const pool = new Piscina({ filename: workerUrl.href, minThreads: threads, maxThreads: threads });
  let free = threads;
  const waiting: (() => void)[] = [];
  const slot = async (): Promise<void> => {
    if (free > 0) free--;
    else await new Promise<void>((ok) => waiting.push(ok));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  const runOne = async (t: Task): Promise<TaskResult> => {
    await slot();
    // The worker stamps the task's start here, so time spent starting a fresh worker does not count.
    const clock = new Float64Array(new SharedArrayBuffer(8));
    const ac = new AbortController();
    let limit = taskLimitMs;
    const watch = setInterval(() => {
      const start = clock[0] as number;
      if (start === 0) return;
      limit = Math.min(taskLimitMs, Number.isFinite(t.deadline) ? t.deadline + DEADLINE_GRACE_MS - start : Number.POSITIVE_INFINITY);
      if (Date.now() - start > limit) ac.abort();
    }, WATCH_MS);
    try {
      return (await pool.run({ ...t, clock }, { signal: ac.signal })) as TaskResult;
    } catch (e) {
      if (ac.signal.aborted) throw new TaskLimitError(`a task of ${t.variant} ran past its time limit of ${Math.round(limit)} ms (a model step that does not return?); its worker was stopped`);
      throw e;
    } finally {
      clearInterval(watch);
      release();
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
  return { run, close: () => pool.destroy() };
}
