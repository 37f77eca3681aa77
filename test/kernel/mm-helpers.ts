/** Helpers for the MM model tests: build a scenario, explore it, replay a witness with its trace. */
import { join } from 'node:path';
import type { TraceEvent } from '../../src/engine/events.js';
import { enabled, step } from '../../src/engine/exec.js';
import type { Model } from '../../src/engine/model.js';
import { World } from '../../src/engine/world.js';
import { dfs } from '../../src/explore/dfs.js';
import { Replay } from '../../src/explore/replay.js';
import { runOnce } from '../../src/explore/run.js';
import { type Kernel, KERNEL } from '../../src/kernel/kernel.js';
import { LockGraph } from '../../src/locks/lockdep.js';
import { buildModel } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';

export const scenario = (name: string): string => join(import.meta.dirname, '..', '..', 'scenarios', `${name}.yaml`);

export function model(name: string, variant = 'default'): Model {
  return buildModel(loadScenarioFile(scenario(name)), variant);
}

export function explore(name: string, variant = 'default', maxSteps = 2000) {
  const m = model(name, variant);
  const graph = new LockGraph();
  const w = new World(m, graph);
  const r = dfs(w, { maxSteps, maxStates: 2_000_000, preemptions: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY });
  return { ...r, graph, model: m };
}

export interface Traced {
  readonly w: World;
  readonly K: Kernel;
  readonly events: TraceEvent[];
}

/** Run one schedule given as choices (a DFS witness), recording the trace. */
export function replay(m: Model, choices: readonly number[], maxSteps = 2000): Traced & { consumed: boolean } {
  const w = new World(m, new LockGraph());
  const events: TraceEvent[] = [];
  w.emit = (e) => events.push(e);
  const initial = w.snapshot();
  const r = new Replay(choices);
  runOnce(w, initial, r, 0, maxSteps, new Int32Array(w.nthreads));
  return { w, K: KERNEL.of(m), events, consumed: r.consumed };
}

/** Run the actors one after the other (always the lowest runnable thread), recording the trace. */
export function serial(m: Model, maxSteps = 2000): Traced {
  const w = new World(m, new LockGraph());
  const events: TraceEvent[] = [];
  w.emit = (e) => events.push(e);
  const buf = new Int32Array(w.nthreads);
  while (!w.verdict && w.steps < maxSteps) {
    const n = enabled(w, buf);
    if (n === 0) break;
    step(w, buf[0] as number);
  }
  return { w, K: KERNEL.of(m), events };
}

/** A world to drive by hand: `run(tid, until)` steps one thread while `until` is false. */
export function manual(m: Model) {
  const w = new World(m, new LockGraph());
  const events: TraceEvent[] = [];
  w.emit = (e) => events.push(e);
  const tid = (name: string): number => m.threads.findIndex((t) => t.name === name);
  const runnable = (t: number): boolean => {
    const buf = new Int32Array(w.nthreads);
    const n = enabled(w, buf);
    return Array.from(buf.subarray(0, n)).includes(t);
  };
  const run = (name: string, until: () => boolean, max = 500): void => {
    const t = tid(name);
    for (let i = 0; i < max && !until() && !w.verdict && runnable(t); i++) step(w, t);
  };
  return { w, K: KERNEL.of(m), events, tid, runnable, run };
}

export const notes = (events: readonly TraceEvent[]): string[] => events.flatMap((e) => (e.k === 'note' ? [`${e.t}: ${e.text}`] : []));
export const indexOfNote = (events: readonly TraceEvent[], re: RegExp): number => events.findIndex((e) => e.k === 'note' && re.test(e.text));
export const rets = (events: readonly TraceEvent[], proc: string): number[] => events.flatMap((e) => (e.k === 'ret' && e.proc === proc ? [e.rv] : []));
