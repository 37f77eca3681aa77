/**
 * The coordinator: turns an exploration request into tasks (a fixed DFS frontier, or fixed chunks of
 * runs), hands them to a runner (inline or a piscina pool), and merges results in task order, so the
 * same scenario, strategy, seed and budget give the same findings on one worker or many.
 */
import type { Subject } from 'rxjs';
import type { Verdict, VerdictCode } from '../engine/events.js';
import { enabled, step } from '../engine/exec.js';
import type { Model } from '../engine/model.js';
import { stateKeyOf } from '../engine/state-key.js';
import { World } from '../engine/world.js';
import { LockGraph } from '../locks/lockdep.js';
import { formatCycle } from '../locks/splat.js';
import { parallelDfs } from './parallel-dfs.js';
import { sharedBytes } from './shared-visited.js';
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
  /** DFS: dynamic partial-order reduction (./dpor.ts) instead. */
  readonly dpor?: boolean;
  /** DFS: the lockset reduction of scheduling points (../engine/lockset.ts; `--reduce lockset`). */
  readonly lockset?: boolean;
  /** DFS on more than one worker: search in parallel past the probe (./parallel-dfs.ts); opt-in. */
  readonly parallelDfs?: boolean;
  /** Label coverage: which labels of each procedure some step ran, over the whole exploration. */
  readonly labels?: boolean;
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
  /**
   * Threads of the runner. With more than one, a DFS that outgrows a sequential probe is searched
   * by all of them at once (./parallel-dfs.ts; `split` > 0 asks for the older per-prefix tasks).
   */
  readonly workers: number;
  /** States the sequential probe of a parallel DFS may visit (0: go parallel at once). */
  readonly probeStates: number;
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
  workers: 1,
  probeStates: 50_000,
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
  /**
   * Start-up before the search, set by the CLI: this variant's model build plus, on the worker pool,
   * what is left of the pool's start-up once the scenarios are loaded (every variant's model built in
   * each worker), shared by every row.
   */
  startupMs: number;
  /** The search: from explore()'s start to its result (start-up not included). */
  elapsedMs: number;
  /** From the search's start to the earliest finding, stamped when it was found (before shrinking). */
  timeToFirstBugMs: number | null;
  findings: Finding[];
  expected: VerdictCode[];
  matchesExpectation: boolean;
  /** Why the result differs from the expectation, one line ('' when as expected). */
  why: string;
  /** With the `labels` option: each procedure's labels reached and not reached. */
  coverage?: { proc: string; cite: string; reached: string[]; unreached: string[] }[];
  /** A parallel DFS (ExploreOptions.workers > 1) that outgrew its probe: settled, or why the sequential DFS answered. */
  parallel?: string;
  /** Set when the exploration failed with an internal error (a model that throws, a task past its time limit). */
  internal?: string;
  /** The scenario's `view:` or `symmetric:` reduction: what it means for these results (set by the CLI). */
  warnings?: string[];
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
  /** Collects the lock-order graph of the whole exploration (for `mmsim lockdep`). */
  readonly graph?: LockGraph;
}

/** Explore one scenario variant. */
export async function explore(t: Target, o: ExploreOptions, run: Runner, progress?: Subject<Progress>): Promise<ExploreResult> {
  const t0 = Date.now();
  const deadline = Number.isFinite(o.timeMs) ? t0 + o.timeMs : Number.POSITIVE_INFINITY;
  const phases: TaskKind[] =
    o.strategy === 'portfolio' ? ['dfs', 'portfolio'] : [o.strategy === 'bounded' ? 'bounded' : o.strategy];
  const states = new FingerprintSet();
  const graph = t.graph ?? new LockGraph();
  const findings: Finding[] = [];
  const res: ExploreResult = {
    scenario: t.model.name.endsWith(`/${t.variant}`) ? t.model.name.slice(0, -t.variant.length - 1) : t.model.name,
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
    startupMs: 0,
    elapsedMs: 0,
    timeToFirstBugMs: null,
    findings,
    expected: [...t.expected],
    matchesExpectation: false,
    why: '',
  };
  let provedComplete = false;
  const cover = new Map<string, { cite: string; labels: readonly string[]; reached: Uint8Array }>();
  /** What stops the exploration now: a signal, or the deadline `end` when it is the whole budget's. */
  const stopped = (end: number): StopReason | null =>
    o.stop && Atomics.load(o.stop, 0) !== 0 ? 'signal' : end === deadline && Date.now() >= deadline ? 'budget' : null;
  /** Run one batch of tasks and merge its results; true if every task finished its share. */
  const batch = async (kind: TaskKind, tasks: Task[]): Promise<boolean> => {
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
      graph.merge({ edges: r.edges, violations: r.violations });
      for (const c of r.coverage ?? []) {
        const bits = cover.get(c.proc) ?? { cite: c.cite, labels: c.labels, reached: new Uint8Array(c.labels.length) };
        c.reached.forEach((b, i) => {
          bits.reached[i] ||= b;
        });
        cover.set(c.proc, bits);
      }
      for (const f of r.findings) {
        // Every task's findings count for the time (a later task may have found one sooner), not only the kept.
        const at = r.startedAt + f.atMs - t0;
        if (res.timeToFirstBugMs === null || at < res.timeToFirstBugMs) res.timeToFirstBugMs = at;
        if (findings.some((x) => x.verdict === f.verdict.code)) continue;
        findings.push(toFinding(f.verdict, f.choices, f.by ?? (kind === 'pct' ? `pct(d=${o.depth})` : kind), f.cycle));
      }
    }
    return complete;
  };
  /**
   * The DFS on several workers: a sequential probe of `probeStates` answers small searches exactly as
   * one worker would; a larger clean one is searched in parallel, which settles it when it is
   * complete and clean; everything else (a finding, a cycle, a cap) is left to the sequential DFS,
   * so verdicts and witnesses are the same on any number of workers.
   */
  const parallelPhase = async (): Promise<boolean> => {
    const before = res.stoppedBy;
    const known = findings.length;
    const probeStates = Math.min(o.maxStates, o.probeStates);
    if (probeStates > 0 && (await batch('dfs', makeTasks(t, { ...o, maxStates: probeStates }, 'dfs', deadline, states, 0, 0)))) return true;
    if (probeStates === o.maxStates) return false; // the probe was the whole search
    const probeStop = probeStates > 0 ? res.stoppedBy : 'max-states';
    if (probeStop !== 'max-states' && probeStop !== 'max-steps') return false; // a signal, the budget, a memory bound
    res.stoppedBy = before;
    if (probeStop === 'max-steps' || findings.length > known) return batch('dfs', makeTasks(t, o, 'dfs', deadline, states, 0, 0));
    const par = await parallelDfs(t.model, o, run, makeTasks(t, o, 'dfs', deadline, states, 0, 0)[0] as Task);
    res.parallel = par.settled ? 'settled' : `left to the sequential DFS: ${par.why}`;
    if (!par.settled) return batch('dfs', makeTasks(t, o, 'dfs', deadline, states, 0, 0));
    states.addAll(par.states);
    res.runs += par.runs;
    res.steps += par.steps;
    res.memoryBytes = Math.max(res.memoryBytes, par.memoryBytes);
    graph.merge(par.graph);
    return true;
  };
  /** Runs [0, runs) of `kind`: all at once, or under a deadline in rounds until it passes. */
  const rounds = async (kind: TaskKind, runs: number, end: number): Promise<void> => {
    const round = Number.isFinite(end) ? ROUND_CHUNKS * o.chunk : runs;
    for (let first = 0; first < runs; first += round) {
      const why = first > 0 ? stopped(end) : null;
      if (why || (first > 0 && Date.now() >= end)) {
        res.stoppedBy = strongerStop(res.stoppedBy, why);
        return;
      }
      await batch(kind, makeTasks(t, o, kind, end, states, first, Math.min(runs, first + round)));
    }
  };
  for (const kind of phases) {
    if (provedComplete) break;
    const why = stopped(deadline);
    if (why) {
      res.stoppedBy = strongerStop(res.stoppedBy, why);
      break;
    }
    if (kind === 'dfs' || kind === 'bounded') {
      const complete = kind === 'dfs' && parallel(o) ? await parallelPhase() : await batch(kind, makeTasks(t, o, kind, deadline, states, 0, 0));
      res.complete = complete && kind === 'dfs';
      provedComplete = res.complete;
      continue;
    }
    // Runs of random/PCT (the portfolio: PCT's half, then random walks'). Under a time budget they go
    // in rounds until the deadline, however many runs the scenario names; the portfolio then gives
    // PCT half the time left and random walks the rest.
    if (kind === 'portfolio' && Number.isFinite(deadline)) {
      const half = Number.isFinite(o.runs) ? Math.ceil(o.runs / 2) : o.runs;
      await rounds('pct', half, (Date.now() + deadline) / 2);
      await rounds('random', half, deadline);
    } else await rounds(kind, kind === 'portfolio' ? 2 * Math.ceil(o.runs / 2) : o.runs, deadline);
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
  if (o.labels)
    res.coverage = [...cover]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([proc, c]) => ({ proc, cite: c.cite, reached: c.labels.filter((_, i) => c.reached[i]), unreached: c.labels.filter((_, i) => !c.reached[i]) }));
  res.distinctStates = states.size;
  res.elapsedMs = Date.now() - t0;
  const found = new Set(findings.map((f) => f.verdict));
  res.why = mismatch(t, o, res, found);
  res.matchesExpectation = res.why === '';
  return res;
}

/** Why a result differs from the variant's expectation, in one line ('' when it does not). */
function mismatch(t: Target, o: ExploreOptions, res: ExploreResult, found: Set<VerdictCode>): string {
  const why: string[] = [];
  const missing = t.expected.filter((c) => !found.has(c));
  const extra = [...found].filter((c) => !t.expected.includes(c));
  if (missing.length) why.push(`expected ${missing.join(', ')} not found`);
  if (extra.length) why.push(`${extra.join(', ')} not expected`);
  if (t.mustComplete && !res.complete)
    why.push(
      o.strategy === 'dfs' || o.strategy === 'portfolio'
        ? `not proven: the DFS did not finish (${res.stoppedBy ? `stopped by ${STOP_CAUSE[res.stoppedBy](o)}` : `--max-states ${o.maxStates}, --max-steps ${o.maxSteps} or the time budget`})`
        : `not proven: the variant must be proven by a complete DFS, and --strategy ${o.strategy} cannot prove`,
    );
  return why.join('; ');
}

/** What each stop reason names in a "not proven" line. */
const STOP_CAUSE: Record<StopReason, (o: ExploreOptions) => string> = {
  signal: () => 'a signal',
  'max-memory': (o) => `--max-memory (${o.maxMemory} bytes)`,
  budget: () => 'the budget',
  'task-limit': (o) => `--task-limit (${o.taskLimitMs} ms)`,
  'max-states': (o) => `--max-states ${o.maxStates}`,
  'max-steps': (o) => `--max-steps ${o.maxSteps}`,
};

function toFinding(v: Verdict, choices: readonly number[], by: string, cycle?: number): Finding {
  return { verdict: v.code, message: v.message, token: encodeToken(choices, cycle), actor: v.actor, at: v.at, by };
}

/** Whether the DFS runs in parallel: several workers, no per-prefix split, a state cap (the shared set is sized from it). */
function parallel(o: ExploreOptions): boolean {
  return o.parallelDfs === true && o.workers > 1 && o.split === 0 && Number.isFinite(o.maxStates) && sharedBytes(o.maxStates) <= o.maxMemory;
}

/** Chunks of runs per round under a time budget. */
const ROUND_CHUNKS = 8;

/** The tasks of one phase: a DFS frontier, or chunks of the runs [first, end). */
function makeTasks(t: Target, o: ExploreOptions, kind: TaskKind, deadline: number, states: FingerprintSet, first: number, end: number): Task[] {
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
    dpor: o.dpor === true,
    lockset: o.lockset === true,
    labels: o.labels === true,
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
  // PCT's k is estimated by each worker from the seed (the same everywhere), so no model step runs here.
  const k = 0;
  const tasks: Task[] = [];
  for (let s = first; s < end; s += o.chunk) tasks.push({ ...base, k, pctRuns, runStart: s, runCount: Math.min(o.chunk, end - s) });
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
  const keyOf = stateKeyOf(model);
  const visit = (prefix: number[]): void => {
    w.restore(initial);
    w.steps = 0;
    let used = 0;
    for (;;) {
      keyOf(w, fp);
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
