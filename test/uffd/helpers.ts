/**
 * Helpers for the userfaultfd / khugepaged tests: build a catalogue variant, drive a directed
 * schedule ("mover until X, then khugepaged to the end, ...") that yields a replay token, replay a
 * token with its trace, enumerate the end states of every interleaving, and run one strategy.
 */
import { join } from 'node:path';
import type { TraceEvent, Verdict } from '../../src/engine/events.js';
import { checkStuck, enabled, step } from '../../src/engine/exec.js';
import type { Model } from '../../src/engine/model.js';
import { fingerprint, type Snapshot, World } from '../../src/engine/world.js';
import { makeRunner } from '../../src/cli/session.js';
import { modelFor } from '../../src/cli/worker.js';
import { DEFAULTS, explore, type ExploreResult, type StrategyName } from '../../src/explore/explore.js';
import { replayToken } from '../../src/explore/replayer.js';
import { encodeToken } from '../../src/explore/token.js';
import { FingerprintSet } from '../../src/explore/visited.js';
import type { VerdictCode } from '../../src/engine/events.js';
import { type Kernel, KERNEL } from '../../src/kernel/kernel.js';
import { LockGraph } from '../../src/locks/lockdep.js';
import { buildModel } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';

export const file = (name: string): string => join(import.meta.dirname, '..', '..', 'scenarios', `${name}.yaml`);

export function model(name: string, variant: string): Model {
  return buildModel(loadScenarioFile(file(name)), variant);
}

/**
 * One leg of a directed schedule: run `thread` until its current step is `until` (proc:label), or
 * to its end. When `until` is invisible (not a scheduling point) the leg stops at the point before it.
 */
export type Leg = readonly [thread: string, until: string | null];

export interface Run {
  readonly token: string;
  readonly verdict: Verdict | null;
  readonly events: readonly TraceEvent[];
  readonly w: World;
  readonly K: Kernel;
}

/**
 * Drive the legs in order (each step of the named thread is one scheduling choice), then let the
 * threads left finish lowest-first. Throws if a leg's thread cannot run (the plan is wrong).
 */
export function directed(m: Model, legs: readonly Leg[], maxSteps = 2000): Run {
  const w = new World(m, new LockGraph());
  const buf = new Int32Array(w.nthreads);
  const exited = (t: number): boolean => (w.threads[t]?.frames.length ?? 0) === 0;
  const go = (t: number): void => {
    const n = enabled(w, buf);
    const i = Array.from(buf.subarray(0, n)).indexOf(t);
    if (i < 0) throw new Error(`directed: ${w.threadName(t)} cannot run at ${w.where(t)}`);
    if (n > 1) w.choices.push(i);
    step(w, t);
  };
  // Whether t's next transition runs `until` after its first step: an invisible label is no
  // scheduling point (src/engine/visibility.ts), so the leg stops at the point before it.
  const passes = (t: number, until: string): boolean => {
    const snap = w.snapshot();
    const steps = w.steps;
    const depth = w.choices.length;
    const at: string[] = [];
    w.emit = (e) => {
      if (e.k === 'step' && e.t === w.threadName(t)) at.push(e.at);
    };
    step(w, t);
    w.emit = null;
    w.restore(snap);
    w.steps = steps;
    w.choices.length = depth;
    return at.indexOf(until) > 0;
  };
  for (const [name, until] of legs) {
    const t = m.threads.findIndex((d) => d.name === name);
    if (t < 0) throw new Error(`directed: no thread ${name}`);
    let before = false;
    while (!w.verdict && !exited(t) && w.steps < maxSteps) {
      if (until !== null && w.where(t) === until) break;
      const n = enabled(w, buf);
      if (!Array.from(buf.subarray(0, n)).includes(t)) {
        if (until === null) break; // blocked: the next leg must release it
        throw new Error(`directed: ${name} blocked at ${w.where(t)} before reaching ${until}`);
      }
      if (until !== null && passes(t, until)) {
        before = true;
        break;
      }
      go(t);
    }
    if (until !== null && !before && !w.verdict && w.where(t) !== until) throw new Error(`directed: ${name} never reached ${until} (at ${w.where(t)})`);
  }
  while (!w.verdict && w.steps < maxSteps) {
    const n = enabled(w, buf);
    if (n === 0) {
      checkStuck(w);
      break;
    }
    go(buf[0] as number);
  }
  // the trace of the same run as the replayer records it (lock events included)
  const token = encodeToken(w.choices);
  const r = replay(m, token, maxSteps);
  if (JSON.stringify(r.verdict) !== JSON.stringify(w.verdict)) throw new Error('directed: the replay of the schedule differs');
  return { token, verdict: w.verdict, events: r.events, w, K: KERNEL.of(m) };
}

/** Replay a token with its trace; also checks the replay is exact (same verdict, every choice used). */
export function replay(m: Model, token: string, maxSteps = 2000) {
  const r = replayToken(m, token, maxSteps);
  if (!r.consumed) throw new Error(`token ${token} does not fit ${m.name}`);
  return r;
}

/** Notes of the trace as `thread: text`. */
export const notes = (events: readonly TraceEvent[]): string[] => events.flatMap((e) => (e.k === 'note' ? [`${e.t}: ${e.text}`] : []));
/** Index of the first event matching: a note (by text), a step (by `proc:label`), a ret (by proc). */
export function at(events: readonly TraceEvent[], t: string, what: RegExp): number {
  return events.findIndex(
    (e) =>
      't' in e &&
      e.t === t &&
      ((e.k === 'note' && what.test(e.text)) || (e.k === 'step' && what.test(e.at)) || (e.k === 'verdict' && what.test(e.message))),
  );
}
/** Values returned by a procedure, in order. */
export const rets = (events: readonly TraceEvent[], proc: string): number[] => events.flatMap((e) => (e.k === 'ret' && e.proc === proc ? [e.rv] : []));

/**
 * Every end state of every interleaving (stateful DFS of our own): the set of `outcome(w)` over the
 * runs that end without a verdict, and the verdict codes of the others.
 */
export function outcomes(m: Model, outcome: (w: World, K: Kernel) => string, maxSteps = 2000): { ends: Set<string>; verdicts: Set<VerdictCode>; states: number } {
  const w = new World(m, null);
  const K = KERNEL.of(m);
  const seen = new FingerprintSet();
  const fp = new Uint32Array(2);
  const ends = new Set<string>();
  const verdicts = new Set<VerdictCode>();
  const stack: { snap: Snapshot; steps: number; tids: number[] }[] = [];
  const push = (): void => {
    fingerprint(w, w.threads, fp);
    if (!seen.add(fp[0] as number, fp[1] as number)) return;
    const buf = new Int32Array(w.nthreads);
    const n = enabled(w, buf);
    if (n === 0) {
      checkStuck(w);
      if (w.verdict) verdicts.add(w.verdict.code);
      else ends.add(outcome(w, K));
      return;
    }
    if (w.steps >= maxSteps) throw new Error('outcomes: step bound reached');
    stack.push({ snap: w.snapshot(), steps: w.steps, tids: Array.from(buf.subarray(0, n)) });
  };
  push();
  while (stack.length) {
    const top = stack[stack.length - 1] as (typeof stack)[number];
    const t = top.tids.pop();
    if (t === undefined) {
      stack.pop();
      continue;
    }
    w.restore(top.snap);
    w.steps = top.steps;
    step(w, t);
    if (w.verdict) verdicts.add(w.verdict.code);
    else push();
  }
  return { ends, verdicts, states: seen.size };
}

const inline = makeRunner(1);

/** Explore one variant with one strategy (inline runner, fixed seed): the coordinator's result. */
export function exploreWith(name: string, variant: string, strategy: StrategyName, runs = 2000, seed = 1): Promise<ExploreResult> {
  const f = file(name);
  const m = modelFor(f, variant);
  return explore({ file: f, variant, model: m, expected: [], mustComplete: false }, { ...DEFAULTS, strategy, runs, seed, maxSteps: 800, chunk: 250 }, inline.run);
}

/** The folio a VMA page maps in the model's initial state (-1 if none). */
export function initialFolio(m: Model, vma: string, page: number): number {
  const w = new World(m, null);
  const K = KERNEL.of(m);
  const v = K.vmaNames.get(vma) as number;
  const vpn = K.vpn(v, page);
  const pmd = w.get(K.pmdSlot(K.vma(v).mm, vpn >> 2));
  if ((pmd & 7) !== 1) return -1;
  const pte = w.get(K.pteSlot(pmd >>> 8, vpn & 3));
  return (pte & 7) === 1 ? (pte >>> 8 >> 2) - 1 : -1;
}
