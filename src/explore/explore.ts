/**
 * The coordinator: turns an exploration request into tasks (a fixed DFS frontier, or fixed chunks of
 * runs), hands them to a runner (inline or a piscina pool), and merges results in task order, so the
 * same scenario, strategy, seed and budget give the same findings on one worker or many.
 */
import type { Subject } from 'rxjs';
import type { Verdict, VerdictCode } from '../engine/events.js';
import { enabled, step } from '../engine/exec.js';
import type { Model } from '../engine/model.js';
import { fingerprint, World } from '../engine/world.js';
import { LockGraph } from '../locks/lockdep.js';
import { formatCycle } from '../locks/splat.js';
import type { Task, TaskKind, TaskResult, TaskStop } from './task.js';
import { encodeToken } from './token.js';
import { FingerprintSet } from './visited.js';

export type StrategyName = 'portfolio' | 'dfs' | 'bounded' | 'random' | 'pct';

export interface ExploreOptions {
  readonly strategy: StrategyName;
  readonly seed: number;
  /** Runs for random/PCT (the portfolio splits them between the two). */
  readonly runs: number;
  readonly maxSteps: number;
  readonly maxStates: number;
  /** PCT depth d. */
  readonly depth: number;
  readonly preemptions: number;
  /** Wall-clock budget in ms (Infinity for none); a time-limited result is not reproducible. */
  readonly timeMs: number;
  /**
   * DFS frontier depth: the number of branch points expanded into separate tasks. Each task keeps its
   * own visited set, so subtrees reachable from several prefixes are searched again (measured: each
   * level doubles the work on two-thread scenarios); the default 0 is one exact search.
   */
  readonly split: number;
  /** Random/PCT runs per task. */
  readonly chunk: number;
  readonly coverage: boolean;
  /** Partial-order reduction (sleep sets) in DFS. */
  readonly por: boolean;
  /** Leaves a DFS may reach (Infinity: none); the CLI's `--budget N` runs caps DFS with it too. */
  readonly dfsRuns: number;
  /** Bytes a DFS visited set may take (Infinity: none); reaching it stops the search cleanly. */
  readonly maxMemory: number;
  /** States counted by random/PCT runs (a bounded count; beyond it the count is a lower bound). */
  readonly stateCap: number;
  /** Wall-clock ms one task may run (Infinity: none); past it the task returns what it found. */
  readonly taskLimitMs: number;
  /** A shared stop flag (index 0 non-zero: stop now), set from a signal handler. */
  readonly stop?: Int32Array;
}

/** Why an exploration ended before it was complete: the cap that was hit. */
export type StopReason = TaskStop;

/** The most telling of two stop reasons (a signal over any cap, a cap over the step bound). */
export function strongerStop(a: StopReason | null, b: StopReason | null): StopReason | null {
  const rank = (r: StopReason | null) => (r === null ? 99 : STOP_ORDER.indexOf(r));
  return rank(b) < rank(a) ? b : a;
}

const STOP_ORDER: readonly StopReason[] = ['signal', 'max-memory', 'budget', 'task-limit', 'max-states', 'max-steps'];

export const DEFAULTS: ExploreOptions = {
  strategy: 'portfolio',
  seed: 1,
  runs: 2000,
  maxSteps: 500,
  maxStates: 200_000,
  depth: 3,
  preemptions: 2,
  timeMs: Number.POSITIVE_INFINITY,
  split: 0,
  chunk: 250,
  coverage: true,
  por: true,
  dfsRuns: Number.POSITIVE_INFINITY,
  maxMemory: Number.POSITIVE_INFINITY,
  stateCap: 1 << 22,
  taskLimitMs: Number.POSITIVE_INFINITY,
};

export interface Finding {
  readonly verdict: VerdictCode;
  readonly message: string;
  readonly token: string;
  readonly actor?: string;
  readonly at?: string;
  /** Which strategy of the portfolio found it. */
  readonly by: string;
}

export interface ExploreResult {
  scenario: string;
  variant: string;
  strategy: string;
  seed: number;
  runs: number;
  steps: number;
  distinctStates: number;
  /** distinctStates stopped at the random/PCT state-count cap (it is a lower bound). */
  statesCapped: boolean;
  complete: boolean;
  /** The cap, budget or signal that ended the search early; null when nothing did. */
  stoppedBy: StopReason | null;
  /** Peak bytes of a DFS visited set (the dominant memory), for --max-memory. */
  memoryBytes: number;
  elapsedMs: number;
  timeToFirstBugMs: number | null;
  findings: Finding[];
  expected: VerdictCode[];
  matchesExpectation: boolean;
  /** Set when the exploration failed with an internal error (a model that throws, a task past its time limit). */
  internal?: string;
}

export interface Progress {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
  readonly runs: number;
  readonly findings: number;
}

/** Runs tasks and returns their results in task order. */
export type Runner = (tasks: readonly Task[], onResult: (i: number, r: TaskResult) => void) => Promise<TaskResult[]>;

export interface Target {
  readonly file: string;
  readonly variant: string;
  readonly params?: Readonly<Record<string, number>>;
  readonly model: Model;
  readonly expected: readonly VerdictCode[];
  /** The variant must be proven (DFS complete). */
  readonly mustComplete: boolean;
}

/** Explore one scenario variant. */
export async function explore(t: Target, o: ExploreOptions, run: Runner, progress?: Subject<Progress>): Promise<ExploreResult> {
  const t0 = Date.now();
  const deadline = Number.isFinite(o.timeMs) ? t0 + o.timeMs : Number.POSITIVE_INFINITY;
  const phases: TaskKind[] =
    o.strategy === 'portfolio' ? ['dfs', 'portfolio'] : [o.strategy === 'bounded' ? 'bounded' : o.strategy];
  const states = new FingerprintSet();
  const graph = new LockGraph();
  const findings: Finding[] = [];
  const res: ExploreResult = {
    scenario: t.model.name.split('/')[0] as string,
    variant: t.variant,
    strategy: o.strategy === 'portfolio' ? 'portfolio(dfs,pct,random)' : o.strategy,
    seed: o.seed,
    runs: 0,
    steps: 0,
    distinctStates: 0,
    statesCapped: false,
    complete: false,
    stoppedBy: null,
    memoryBytes: 0,
    elapsedMs: 0,
    timeToFirstBugMs: null,
    findings,
    expected: [...t.expected],
    matchesExpectation: false,
  };
  let provedComplete = false;
  const stopped = () => (o.stop && Atomics.load(o.stop, 0) !== 0 ? 'signal' : Date.now() > deadline ? 'budget' : null);
  for (const kind of phases) {
    if (provedComplete) break;
    const why = stopped();
    if (why) {
      res.stoppedBy = strongerStop(res.stoppedBy, why);
      break;
    }
    const tasks = makeTasks(t, o, kind, deadline, states);
    let runsSoFar = res.runs;
    const codesSoFar = new Set(findings.map((f) => f.verdict));
    const results = await run(tasks, (i, r) => {
      runsSoFar += r.runs;
      for (const f of r.findings) codesSoFar.add(f.verdict.code);
      progress?.next({ phase: kind, done: i + 1, total: tasks.length, runs: runsSoFar, findings: codesSoFar.size });
    });
    let complete = true;
    const cap = kind === 'dfs' || kind === 'bounded' ? Number.POSITIVE_INFINITY : o.stateCap;
    for (const r of results) {
      res.runs += r.runs;
      res.steps += r.steps;
      complete &&= r.complete;
      res.stoppedBy = strongerStop(res.stoppedBy, r.stoppedBy);
      res.memoryBytes = Math.max(res.memoryBytes, r.memoryBytes);
      // Let signal handlers run between merges; each merge is linear in the result's size.
      await new Promise<void>((ok) => setImmediate(ok));
      if (states.size < cap) states.addAll(r.fingerprints, cap);
      if (states.size >= cap) res.statesCapped = true;
      graph.merge({ edges: r.edges });
      for (const f of r.findings) {
        if (findings.some((x) => x.verdict === f.verdict.code)) continue;
        findings.push(toFinding(f.verdict, f.choices, f.by ?? (kind === 'pct' ? `pct(d=${o.depth})` : kind), f.cycle));
        const at = r.startedAt + f.atMs - t0;
        if (res.timeToFirstBugMs === null || at < res.timeToFirstBugMs) res.timeToFirstBugMs = at;
      }
    }
    if ((kind === 'dfs' || kind === 'bounded') && complete) {
      res.complete = kind === 'dfs';
      provedComplete = kind === 'dfs';
    }
  }
  for (const c of graph.cycles()) {
    if (findings.some((f) => f.verdict === 'potential-deadlock' && f.message === formatCycle(c, t.model.classes))) continue;
    findings.push({
      verdict: 'potential-deadlock',
      message: formatCycle(c, t.model.classes),
      token: encodeToken(c.added.origin.choices),
      actor: c.added.origin.thread,
      at: c.added.origin.where,
      by: 'lockdep',
    });
  }
  res.distinctStates = states.size;
  res.elapsedMs = Date.now() - t0;
  const found = new Set(findings.map((f) => f.verdict));
  res.matchesExpectation =
    found.size === new Set(t.expected).size && t.expected.every((c) => found.has(c)) && (!t.mustComplete || res.complete);
  return res;
}

function toFinding(v: Verdict, choices: readonly number[], by: string, cycle?: number): Finding {
  return { verdict: v.code, message: v.message, token: encodeToken(choices, cycle), actor: v.actor, at: v.at, by };
}

function makeTasks(t: Target, o: ExploreOptions, kind: TaskKind, deadline: number, states: FingerprintSet): Task[] {
  const base = {
    file: t.file,
    variant: t.variant,
    params: t.params ?? {},
    kind,
    seed: o.seed,
    prefix: [] as number[],
    runStart: 0,
    runCount: 0,
    maxSteps: o.maxSteps,
    maxStates: o.maxStates,
    depth: o.depth,
    k: 0,
    preemptions: o.preemptions,
    deadline,
    coverage: o.coverage,
    por: o.por,
    maxRuns: o.dfsRuns,
    maxBytes: o.maxMemory,
    stateCap: o.stateCap,
    limitMs: o.taskLimitMs,
    stop: o.stop,
  };
  // Preemption bounds count from the root, so a bounded search is one task.
  if (kind === 'dfs' || kind === 'bounded')
    return frontier(t.model, kind === 'bounded' ? 0 : o.split, o.maxSteps, states).map((prefix) => ({ ...base, prefix }));
  // The portfolio's runs: PCT's half, then the random walks' half (./portfolio.ts).
  const pctRuns = Math.ceil(o.runs / 2);
  const runs = kind === 'portfolio' ? 2 * pctRuns : o.runs;
  // PCT's k is estimated by each worker from the seed (the same everywhere), so no model step runs here.
  const k = 0;
  const tasks: Task[] = [];
  for (let s = 0; s < runs; s += o.chunk) tasks.push({ ...base, k, pctRuns, runStart: s, runCount: Math.min(o.chunk, runs - s) });
  return tasks;
}

/**
 * Schedule prefixes that cover the tree down to `split` branch points, in DFS order. The states
 * passed on the way are added to `states`, so the union with the tasks' states is exact.
 */
export function frontier(model: Model, split: number, maxSteps: number, states: FingerprintSet): number[][] {
  const out: number[][] = [];
  const w = new World(model, null);
  const initial = w.snapshot();
  const buf = new Int32Array(w.nthreads);
  const fp = new Uint32Array(2);
  const visit = (prefix: number[]): void => {
    w.restore(initial);
    w.steps = 0;
    let used = 0;
    for (;;) {
      fingerprint(w, w.threads, fp);
      states.add(fp[0] as number, fp[1] as number);
      const n = enabled(w, buf);
      if (n === 0 || w.steps >= maxSteps) return void out.push(prefix);
      if (n > 1) {
        if (used === prefix.length) {
          if (prefix.length >= split) return void out.push(prefix);
          for (let i = 0; i < n; i++) visit([...prefix, i]);
          return;
        }
        step(w, buf[prefix[used++] as number] as number);
      } else step(w, buf[0] as number);
      if (w.verdict) return void out.push(prefix);
    }
  };
  visit([]);
  return out;
}
