/** The flags of `mmsim`, their meanings and defaults, and their checks: budgets in runs or time. */
import { DEFAULTS, type ExploreOptions, type StrategyName } from '../explore/explore.js';
import { DEFAULT_MAX_FILE_BYTES } from '../scenario/load.js';
import type { ExploreSpec } from '../scenario/schema.js';

export class UsageError extends Error {}

interface FlagSpec {
  /** The value's placeholder; absent for a switch. */
  readonly arg?: string;
  readonly desc: string;
  readonly def: string;
  readonly repeat?: boolean;
}

/** Every flag: meaning and default, shown by each command's --help (built with commander in ./program.ts). */
export const FLAGS = {
  all: { desc: 'every variant of every catalogue scenario', def: 'off' },
  watch: { desc: 'run again whenever the scenario file (with --all, the catalogue) changes, until Ctrl-C', def: 'off' },
  json: { desc: 'machine-readable output; explore: JSON Lines, one ExploreResult record per variant', def: 'off' },
  'json-array': { desc: 'explore: one JSON array of all the records instead of JSON Lines', def: 'off' },
  variant: { arg: 'name', desc: 'only this variant', def: 'every variant (replay: the first)' },
  strategy: { arg: 'name', desc: 'portfolio | dfs | bounded | random | pct', def: "the scenario's explore.strategy, else portfolio" },
  seed: { arg: 'n', desc: 'seed of random and PCT runs (0..2^32-1)', def: "explore.seed, else 1" },
  workers: { arg: 'n', desc: 'worker threads (a piscina pool when more than 1)', def: '1' },
  budget: {
    arg: 'N|Ns|Nms|Nm',
    desc: 'runs (5000; a DFS also stops after as many leaves, named budget) or a time (60s, 500ms, 2m): a time budget runs until the time is up, whatever explore.runs says; pool start-up is not counted',
    def: 'explore.runs, else 2000 runs',
  },
  'max-steps': { arg: 'n', desc: 'steps per run before it ends as a livelock check', def: 'explore.maxSteps, else 500' },
  'max-states': { arg: 'n', desc: 'distinct states a DFS may visit before it gives up proving', def: 'explore.maxStates, else 200000' },
  depth: { arg: 'd', desc: 'PCT bug depth (1..10)', def: 'explore.depth, else 3' },
  preemptions: { arg: 'p', desc: 'preemption bound of --strategy bounded', def: 'explore.preemptions, else 2' },
  split: { arg: 'k', desc: 'cut the DFS into one task per schedule prefix of k branch points (0..8)', def: '0' },
  param: { arg: 'name=n', desc: "a parameter of a generated scenario (its generate: section), repeatable", def: "the scenario's own", repeat: true },
  por: { desc: 'turn off partial-order reduction (sleep sets) in DFS', def: 'reduction on' },
  dpor: { desc: 'DFS with dynamic partial-order reduction (stateful source sets; see the search strategies in README)', def: 'off (sleep sets)' },
  reduce: {
    arg: 'name',
    desc: 'lockset: DFS accesses to kernel objects that every thread touches under a common lock are not scheduling points (Stoller; checked in the search itself, see README)',
    def: "the scenario's explore.reduce, else none",
  },
  'parallel-dfs': { desc: 'with --workers N > 1, a DFS past 50,000 states is searched by all workers sharing one visited set (see README)', def: 'off' },
  coverage: { desc: "explore: each procedure's labels reached / not reached over the whole exploration", def: 'off' },
  junit: { arg: 'file', desc: 'explore: write JUnit XML, one test case per variant', def: 'none' },
  sarif: { arg: 'file', desc: 'explore: write SARIF 2.1.0, one result per unexpected finding', def: 'none' },
  html: { arg: 'file', desc: 'replay: write the self-contained HTML trace viewer', def: 'none' },
  perfetto: { arg: 'file', desc: 'replay: write Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing)', def: 'none' },
  mermaid: { arg: 'file', desc: 'replay: write a Mermaid sequence diagram (fenced when the file ends in .md)', def: 'none' },
  trace: { arg: 'file', desc: 'replay: write the trace events and the kernel state at the end as JSON', def: 'none' },
  'trace-schema': { arg: 'file', desc: "replay: write the JSON Schema of that trace (its state section from the kernel's region declarations)", def: 'none' },
  dot: { arg: 'file', desc: 'lockdep: write the lock-order graph as Graphviz DOT', def: 'none' },
  'max-memory': { arg: 'size', desc: 'bytes a DFS visited set may take (1048576, 512k, 64m, 2g); reaching it stops the search cleanly (named max-memory)', def: '1g' },
  'task-limit': {
    arg: 'time',
    desc: 'time one task may run (30s, 500ms, 10m): past it the task returns what it found (named task-limit); a step that does not return fails its variant as an internal error',
    def: '10m',
  },
  'max-file-size': { arg: 'size', desc: 'largest scenario file read (512k, 1m, 2g); a FIFO, device or directory is refused', def: '1m' },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;

/** Parsed flags, by long name; `no-por` is true when --no-por was given. */
export type Flags = {
  [K in Exclude<FlagName, 'param' | 'por'>]?: (typeof FLAGS)[K] extends { arg: string } ? string : boolean;
} & { param?: string[]; 'no-por'?: boolean };

/** `--param n=5` (repeatable) → { n: 5 }: parameters of a generated scenario. */
export function params(flags: Flags): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of flags.param ?? []) {
    const m = /^([a-z_]+)=(\d+)$/.exec(p);
    if (!m) throw new UsageError(`--param: expected name=number (e.g. n=5), found "${p}"`);
    out[m[1] as string] = Number(m[2]);
  }
  return out;
}

export function int(flag: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new UsageError(`--${flag}: expected a whole number from ${min} to ${max}, found "${v}"`);
  return n;
}

const STRATEGIES: StrategyName[] = ['portfolio', 'dfs', 'bounded', 'random', 'pct'];

/** Explore options: flags over the scenario's own `explore` section over the defaults. */
export function exploreOptions(flags: Flags, spec: ExploreSpec | undefined): ExploreOptions {
  const s = spec ?? {};
  const strategy = (flags.strategy ?? s.strategy ?? DEFAULTS.strategy) as StrategyName;
  if (!STRATEGIES.includes(strategy)) throw new UsageError(`--strategy: expected one of ${STRATEGIES.join(', ')}, found "${flags.strategy}"`);
  let runs = s.runs ?? DEFAULTS.runs;
  let timeMs = s.timeMs ?? DEFAULTS.timeMs;
  let dfsRuns = DEFAULTS.dfsRuns;
  if (flags.budget !== undefined) {
    const m = /^(\d+)(runs|s|ms|m)?$/.exec(flags.budget);
    if (!m) throw new UsageError(`--budget: expected runs (e.g. 5000) or a time (e.g. 60s, 500ms, 2m), found "${flags.budget}"`);
    const n = Number(m[1]);
    if (n < 1) throw new UsageError(`--budget: expected at least 1 run or 1 ms, found "${flags.budget}"`);
    if (!m[2] || m[2] === 'runs') {
      runs = dfsRuns = n;
      timeMs = Number.POSITIVE_INFINITY;
    } else {
      // Time means time: the scenario's run count does not cap it.
      runs = Number.POSITIVE_INFINITY;
      timeMs = n * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
    }
  }
  return {
    ...DEFAULTS,
    strategy,
    seed: int('seed', flags.seed, 0, 2 ** 32 - 1) ?? s.seed ?? DEFAULTS.seed,
    runs,
    timeMs,
    maxSteps: int('max-steps', flags['max-steps'], 1, 1_000_000) ?? s.maxSteps ?? DEFAULTS.maxSteps,
    maxStates: int('max-states', flags['max-states'], 1, 100_000_000) ?? s.maxStates ?? DEFAULTS.maxStates,
    depth: int('depth', flags.depth, 1, 10) ?? s.depth ?? DEFAULTS.depth,
    preemptions: int('preemptions', flags.preemptions, 0, 100) ?? s.preemptions ?? DEFAULTS.preemptions,
    split: int('split', flags.split, 0, 8) ?? DEFAULTS.split,
    por: !flags['no-por'],
    dpor: flags.dpor === true,
    lockset: reduction(flags.reduce ?? s.reduce) === 'lockset',
    parallelDfs: flags['parallel-dfs'] === true,
    dfsRuns,
    maxMemory: bytes('max-memory', flags['max-memory']) ?? DEFAULT_MAX_MEMORY,
    taskLimitMs: taskLimit(flags['task-limit']),
    workers: int('workers', flags.workers, 1, 256) ?? DEFAULTS.workers,
  };
}

/** `--reduce lockset` (or the scenario's explore.reduce): the one reduction of scheduling points on offer. */
function reduction(v: string | undefined): 'lockset' | undefined {
  if (v === undefined || v === 'lockset') return v;
  throw new UsageError(`--reduce: expected lockset, found "${v}"`);
}

/** Bytes a DFS visited set may take unless `--max-memory` says otherwise. */
export const DEFAULT_MAX_MEMORY = 1 << 30;
/** Time a task may run unless `--task-limit` says otherwise. */
export const DEFAULT_TASK_LIMIT_MS = 600_000;

/** `512k`, `64m`, `2g` or a number of bytes. */
function bytes(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)([kmg]b?)?$/i.exec(v);
  const n = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2]?.[0] ?? ' ').toLowerCase()) : 0;
  if (!m || n < 1 || !Number.isSafeInteger(n)) throw new UsageError(`--${flag}: expected a size in bytes (e.g. 1048576, 512k, 64m, 2g), found "${v}"`);
  return n;
}

/** `--task-limit 30s`: how long one task may run (default 10 minutes). */
function taskLimit(v: string | undefined): number {
  if (v === undefined) return DEFAULT_TASK_LIMIT_MS;
  const m = /^(\d+)(s|ms|m)$/.exec(v);
  if (!m || Number(m[1]) < 1) throw new UsageError(`--task-limit: expected a time (e.g. 30s, 500ms, 10m), found "${v}"`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
}

/** Limits that are not exploration options: the scenario file size limit. */
export function runLimits(flags: Flags): { maxFileBytes: number } {
  return { maxFileBytes: bytes('max-file-size', flags['max-file-size']) ?? DEFAULT_MAX_FILE_BYTES };
}
