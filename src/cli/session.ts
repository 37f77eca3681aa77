/** What every command needs: a scenario resolved and loaded, its variants, and a task runner. */
import { availableParallelism } from 'node:os';
import type { Runner } from '../explore/explore.js';
import { inlineRunner, poolRunner } from '../explore/pool.js';
import { runTask, type Task } from '../explore/task.js';
import { resolveScenario } from '../scenario/catalogue.js';
import { ScenarioError } from '../scenario/issues.js';
import { loadScenarioFile, type Scenario } from '../scenario/load.js';
import { UsageError } from './args.js';
import { loadedOf, type ModelRef, modelFor, type WorkerTask } from './worker.js';

export function loadByName(arg: string | undefined, maxFileBytes?: number): Scenario {
  if (!arg) throw new UsageError('expected a scenario name (see `mmsim list`) or a scenario file');
  const file = resolveScenario(arg);
  if (!file) {
    if (/\.(ya?ml|json)$/.test(arg)) throw new ScenarioError(arg, [{ path: '', message: 'no such file' }]);
    throw new UsageError(`no scenario named "${arg}" in the catalogue and no such file (see \`mmsim list\`)`);
  }
  return loadScenarioFile(file, maxFileBytes);
}

/** The variants to run: the one named, or all of them. */
export function pickVariants(sc: Scenario, v: string | undefined): string[] {
  const all = Object.keys(sc.spec.variants);
  if (v === undefined) return all;
  if (!all.includes(v)) throw new UsageError(`${sc.spec.name} has no variant "${v}" (known: ${all.join(', ')})`);
  return [v];
}

/**
 * A runner for `workers` threads: inline for one, a piscina pool for more. With `pool` even one
 * worker is a pool thread (the CLI's choice), so this thread stays free for signals and a task's
 * time limit can stop a step that does not return. Tasks of the `scenarios` given carry them as
 * loaded here (the list is read when tasks run, so it may fill after the runner starts): no worker
 * reads or validates those files again.
 */
export function makeRunner(workers: number, opts: { pool?: boolean; scenarios?: readonly Scenario[] } = {}): { run: Runner; close: () => Promise<void> } {
  if (workers > Math.max(64, availableParallelism() * 8)) throw new UsageError(`--workers: ${workers} is more than this machine can use`);
  const scenarios = opts.scenarios ?? [];
  const withLoaded = (run: Runner): Runner => (tasks, onResult) => run(tasks.map((t) => carry(t, scenarios)), onResult);
  if (workers <= 1 && !opts.pool) return { run: withLoaded(inlineRunner((t: WorkerTask) => runTask(modelFor(t.file, t.variant, t.params, t.loaded), t))), close: async () => {} };
  // From TypeScript sources (tests), workers load the TS worker through tsx; compiled, the JS one.
  const worker = import.meta.url.endsWith('.ts') ? './worker-dev.mjs' : './worker.js';
  const pool = poolRunner(new URL(worker, import.meta.url), Math.max(1, workers));
  return { run: withLoaded(pool.run), close: pool.close };
}

/** `t` with its scenario as loaded here, when it is one of `scenarios`. */
function carry(t: Task, scenarios: readonly Scenario[]): WorkerTask {
  const sc = scenarios.find((s) => s.file === t.file);
  return sc ? { ...t, loaded: loadedOf(sc) } : t;
}

/**
 * The tasks that start a pool of `threads`: one for each thread (each waits for the others), each
 * building every model of `models` in its thread, so no model is built on a budget's clock.
 */
export function warmTasks(threads: number, models: readonly ModelRef[]): WorkerTask[] {
  const barrier = new Int32Array(new SharedArrayBuffer(8));
  barrier[1] = threads;
  const first = models[0];
  if (!first) return [];
  return Array.from({ length: threads }, () => ({ ...warmTask(first.file, first.variant, first.params), warm: { barrier, models } }));
}

/** A task that runs nothing: it makes a pool worker start and build the variant's model. */
export const warmTask = (file: string, variant: string, params: Readonly<Record<string, number>>): Task => ({
  file,
  variant,
  params,
  kind: 'random',
  seed: 0,
  prefix: [],
  runStart: 0,
  runCount: 0,
  maxSteps: 1,
  maxStates: 1,
  depth: 1,
  k: 0,
  preemptions: 0,
  deadline: Number.POSITIVE_INFINITY,
  coverage: false,
  por: false,
});
