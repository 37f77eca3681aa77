/**
 * A task: one slice of an exploration that a worker runs on its own (a DFS subtree under a schedule
 * prefix, or a range of random/PCT runs). Tasks carry the scenario's file and variant, never a world;
 * the worker rebuilds the model. Results are plain data merged by the coordinator in task order.
 */
import { enabled, scheduling, step } from '../engine/exec.js';
import type { Verdict } from '../engine/events.js';
import type { Model } from '../engine/model.js';
import type { Proc } from '../engine/proc.js';
import { stateKeyOf } from '../engine/state-key.js';
import { World } from '../engine/world.js';
import { type Edge, LockGraph, type RuleViolation } from '../locks/lockdep.js';
import { type DfsOptions, type DfsResult, dfs } from './dfs.js';
import { locksetSearch } from './lockset-rounds.js';
import { PlainOrder } from './order.js';
import { Pct } from './pct.js';
import { Portfolio } from './portfolio.js';
import { RandomWalk } from './random.js';
import { runOnce } from './run.js';
import { shrinkAll } from './shrink.js';
import type { Strategy } from './strategy.js';
import { SharedVisitedSet } from './shared-visited.js';
import { EdgeLog } from './state-graph.js';
import { FingerprintSet } from './visited.js';

export type TaskKind = 'dfs' | 'bounded' | 'random' | 'pct' | 'portfolio';

export interface Task {
  readonly file: string;
  readonly variant: string;
  /** Generator parameters the model was built with (e.g. { n: 5 } philosophers). */
  readonly params: Readonly<Record<string, number>>;
  readonly kind: TaskKind;
  readonly seed: number;
  /** dfs/bounded: the schedule prefix to start from. random/pct: run numbers [runStart, runStart + runCount). */
  readonly prefix: readonly number[];
  readonly runStart: number;
  readonly runCount: number;
  readonly maxSteps: number;
  readonly maxStates: number;
  readonly depth: number;
  /** PCT's estimate of the steps in a run (k), fixed by the coordinator so chunking changes nothing. */
  readonly k: number;
  /** portfolio: runs below this number are PCT's, the rest random walks (each numbered from 0). */
  readonly pctRuns?: number;
  readonly preemptions: number;
  readonly deadline: number;
  /** Count distinct states in random/PCT runs too (one fingerprint a step). */
  readonly coverage: boolean;
  /** DFS: partial-order reduction with sleep sets. */
  readonly por: boolean;
  /** DFS: dynamic partial-order reduction (./dpor.ts) instead. */
  readonly dpor?: boolean;
  /** DFS from the initial state: the lockset reduction of scheduling points (../engine/lockset.ts). */
  readonly lockset?: boolean;
  /** Record which labels of each procedure ran (`--coverage`); off on the plain exploration path. */
  readonly labels?: boolean;
  /** DFS: leaves to reach at most; bytes its visited set may take (default: no limit). */
  readonly maxRuns?: number;
  readonly maxBytes?: number;
  /** Random/PCT: states to count at most (default 4M, about 64 MB). */
  readonly stateCap?: number;
  /** A shared stop flag (non-zero at index 0: return what was found so far). */
  readonly stop?: Int32Array;
  /** Wall-clock ms the task may run: it stops at this limit and returns what it found (stoppedBy: task-limit). */
  readonly limitMs?: number;
  /** Set by the pool runner: the task writes its start time (ms) here, for the runner's time limit. */
  readonly clock?: Float64Array;
  /** dfs: one part of a parallel exhaustive search (./parallel-dfs.ts). */
  readonly shared?: SharedPart;
}

/** What the parts of a parallel search share: the visited set, a halt flag, and the part's root slot. */
export interface SharedPart {
  readonly visited: SharedArrayBuffer;
  readonly halt: Int32Array;
  readonly rootSlot: number;
  /** The part's thread order: enabled threads are tried from this index on (see DfsOptions.rotate). */
  readonly rotate: number;
}

/** A procedure's labels and which of them some step ran (1) or not (0). */
export interface LabelCoverage {
  readonly proc: string;
  readonly cite: string;
  readonly labels: readonly string[];
  readonly reached: readonly number[];
}

/** Why a task ended early (see ExploreResult.stoppedBy). */
export type TaskStop = 'signal' | 'max-memory' | 'budget' | 'task-limit' | 'max-states' | 'max-steps';

export interface TaskFinding {
  readonly verdict: Verdict;
  readonly choices: readonly number[];
  /** A livelock's lasso: its loop is choices[cycle..]. */
  readonly cycle?: number;
  /** The strategy that found it, when the task's strategy is a portfolio. */
  readonly by?: string;
  /**
   * When it was found, in ms from the task's start (startedAt): DFS stamps it when the verdict is first
   * recorded, random/PCT when the run ending in it returns; both before shrinking. Then the run
   * (random/PCT) or finding (DFS) number.
   */
  readonly atMs: number;
  readonly run: number;
}

export interface TaskResult {
  runs: number;
  steps: number;
  complete: boolean;
  findings: TaskFinding[];
  edges: Edge[];
  /** Breaks of the model's documented lock hierarchy, the first of each class pair. */
  violations?: RuleViolation[];
  /** The task's visited fingerprints (a0, b0, a1, b1, ...), merged for an exact distinct count. */
  fingerprints: Uint32Array;
  elapsedMs: number;
  /** The cap, budget or signal that ended the task early, or null. */
  stoppedBy: TaskStop | null;
  /** Bytes of the task's visited set. */
  memoryBytes: number;
  /** Wall-clock start (ms since epoch), for time-to-first-bug across workers. */
  startedAt: number;
  coverage?: LabelCoverage[];
  /** A part of a parallel search: the transitions it took (slot pairs) and the steps that jumped back. */
  stateEdges?: Int32Array;
  backJumps?: number;
}

/** Run one task against a model built from task.file/variant. */
export function runTask(model: Model, task: Task): TaskResult {
  const t0 = Date.now();
  if (task.clock) task.clock[0] = t0;
  if (task.stop && Atomics.load(task.stop, 0) !== 0)
    return { runs: 0, steps: 0, complete: false, findings: [], edges: [], fingerprints: new Uint32Array(0), elapsedMs: 0, stoppedBy: 'signal', memoryBytes: 0, startedAt: t0 };
  const graph = new LockGraph();
  const w = new World(model, graph);
  const cover = task.labels ? recordLabels(w) : null;
  const limit = t0 + (task.limitMs ?? Number.POSITIVE_INFINITY);
  const t = limit < task.deadline ? { ...task, deadline: limit } : task;
  const res = t.kind === 'dfs' || t.kind === 'bounded' ? runDfs(w, t, t0) : runRuns(w, t, t0);
  if (res.stoppedBy === 'budget' && t !== task && Date.now() > limit) res.stoppedBy = 'task-limit';
  res.edges = graph.edges;
  res.violations = graph.violations;
  if (cover) res.coverage = cover();
  res.elapsedMs = Date.now() - t0;
  res.startedAt = t0;
  return res;
}

/** Mark the label of every step run on `w` (through the trace hook, so only when asked for). */
function recordLabels(w: World): () => LabelCoverage[] {
  const seen = new Map<Proc, Uint8Array>();
  const of = (p: Proc) => {
    let a = seen.get(p);
    if (!a) seen.set(p, (a = new Uint8Array(p.labels.length)));
    return a;
  };
  for (const t of w.model.threads) of(t.entry);
  w.emit = (e) => {
    if (e.k === 'step' && w.curProc) of(w.curProc)[w.curPc] = 1;
  };
  return () => [...seen].map(([p, a]) => ({ proc: p.name, cite: p.cite, labels: p.labels, reached: [...a] }));
}

/** Replay a prefix of choices from the initial state (forced steps in between). */
export function replayPrefix(w: World, prefix: readonly number[]): void {
  const buf = new Int32Array(w.nthreads);
  let i = 0;
  for (;;) {
    const n = enabled(w, buf);
    if (n === 0 || w.verdict) return;
    if (n > 1) {
      if (i >= prefix.length) return;
      const c = prefix[i++] as number;
      w.choices.push(c);
      step(w, buf[c] as number);
    } else step(w, buf[0] as number);
  }
}

function runDfs(w: World, task: Task, t0: number): TaskResult {
  replayPrefix(w, task.prefix);
  // A verdict on the prefix itself (before any search), kept apart: DPOR restores its start state.
  const atPrefix = w.verdict ? { verdict: w.verdict, choices: w.choices.slice() } : null;
  const part = task.shared ? sharedPart(task.shared) : null;
  const lockset = (task.lockset === true || scheduling.lockset) && task.kind === 'dfs' && task.prefix.length === 0 && !part;
  const search = lockset ? (v: World, o: DfsOptions) => locksetSearch(v, o, dfs) : dfs;
  const r = search(w, {
    ...part,
    maxSteps: task.maxSteps,
    maxStates: task.maxStates,
    preemptions: task.kind === 'bounded' ? task.preemptions : Number.POSITIVE_INFINITY,
    deadline: task.deadline,
    por: task.por,
    dpor: task.dpor === true,
    maxRuns: task.maxRuns,
    maxBytes: task.maxBytes,
    stop: task.stop,
    t0,
  });
  if (atPrefix && r.findings.length === 0) r.findings.push({ ...atPrefix, atMs: Date.now() - t0 });
  if (part) return { ...partResult(r, w.backJumps, part.edges), startedAt: t0 };
  return {
    runs: r.runs,
    steps: r.steps,
    complete: r.complete,
    findings: shrinkAll(w.model, r.findings.map((f, i) => ({ ...f, run: i })), task.maxSteps),
    edges: [],
    fingerprints: r.visited.entries(),
    elapsedMs: 0,
    stoppedBy: r.stoppedBy,
    memoryBytes: r.visited.byteLength,
    startedAt: t0,
  };
}

/**
 * A part of a parallel search: the shared set, the plain order (its edges are then the whole state
 * graph, so a cycle in them is exact; sleep sets may skip the step that closes one), an edge log,
 * the halt flag and the claimed root.
 */
function sharedPart(p: SharedPart) {
  return { visited: SharedVisitedSet.attach(p.visited, p.halt), order: new PlainOrder(), edges: new EdgeLog(), halt: p.halt, rootSlot: p.rootSlot, rotate: p.rotate };
}

/** A part's result: no witnesses (findings are left to the sequential search), its edges and back jumps. */
function partResult(r: DfsResult, backJumps: number, edges: EdgeLog): Omit<TaskResult, 'startedAt'> {
  const codes = r.findings.map((f) => ({ verdict: f.verdict, choices: [], atMs: f.atMs, run: 0 }));
  return { runs: r.runs, steps: r.steps, complete: r.complete, findings: codes, edges: [], fingerprints: new Uint32Array(0), elapsedMs: 0, stoppedBy: r.stoppedBy, memoryBytes: r.visited.byteLength, stateEdges: edges.pairs(), backJumps };
}

/** The run-based strategy of a task: PCT, a random walk, or the portfolio of both. */
function runStrategy(task: Task, nthreads: number, model: Model): Strategy {
  const pct = () => new Pct(task.seed, task.depth, nthreads, task.k || estimateSteps(model, task));
  if (task.kind === 'pct') return pct();
  if (task.kind === 'portfolio') return new Portfolio([[pct(), task.pctRuns ?? 0], [new RandomWalk(task.seed), Number.POSITIVE_INFINITY]]);
  return new RandomWalk(task.seed);
}

function runRuns(w: World, task: Task, t0: number): TaskResult {
  const strategy = runStrategy(task, w.nthreads, w.model);
  const initial = w.snapshot();
  const buf = new Int32Array(w.nthreads);
  const seen = new Set<string>();
  const findings: TaskFinding[] = [];
  const visited = new FingerprintSet();
  const fp = new Uint32Array(2);
  const keyOf = stateKeyOf(w.model);
  let runs = 0;
  let steps = 0;
  let complete = true;
  let stoppedBy: TaskStop | null = null;
  const cap = task.stateCap ?? 1 << 22;
  const observe = task.coverage ? () => {
    keyOf(w, fp);
    if (visited.size < cap) visited.add(fp[0] as number, fp[1] as number);
  } : null;
  for (let run = task.runStart; run < task.runStart + task.runCount; run++) {
    if ((run & 63) === 0 || run === task.runStart) {
      stoppedBy = task.stop && Atomics.load(task.stop, 0) !== 0 ? 'signal' : Date.now() > task.deadline ? 'budget' : null;
      if (stoppedBy) {
        complete = false;
        break;
      }
    }
    runOnce(w, initial, strategy, run, task.maxSteps, buf, observe);
    runs++;
    steps += w.steps;
    const v = w.verdict;
    if (v && !seen.has(v.code)) {
      seen.add(v.code);
      const by = strategy instanceof Portfolio ? strategy.memberOf(run).strategy.name : undefined;
      findings.push({ verdict: v, choices: w.choices.slice(), atMs: Date.now() - t0, run, ...(by ? { by } : {}) });
    }
  }
  const found = shrinkAll(w.model, findings, task.maxSteps);
  return { runs, steps, complete, findings: found, edges: [], fingerprints: visited.entries(), elapsedMs: 0, stoppedBy, memoryBytes: visited.byteLength, startedAt: t0 };
}

/** PCT's k when the task leaves it 0: the longest of a few seeded random runs (the same for every task of a seed). */
export function estimateSteps(model: Model, task: Task): number {
  const w = new World(model, null);
  const initial = w.snapshot();
  const buf = new Int32Array(w.nthreads);
  const s = new RandomWalk(task.seed ^ 0x5ca1ab1e);
  let k = 8;
  for (let r = 0; r < 8; r++) {
    runOnce(w, initial, s, r, task.maxSteps, buf);
    k = Math.max(k, w.steps);
  }
  return k;
}
