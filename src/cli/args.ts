/** Command-line parsing for `mmsim`: flags checked with a clear message, budgets in runs or time. */
import { parseArgs } from 'node:util';
import { DEFAULTS, type ExploreOptions, type StrategyName } from '../explore/explore.js';
import type { ExploreSpec } from '../scenario/schema.js';

export class UsageError extends Error {}

export const USAGE = `usage:
  mmsim list [--json]                          the built-in scenarios and their variants
  mmsim check <scenario|file>                  validate a scenario file without exploring
  mmsim explore <scenario|file> | --all        explore; exit 1 if a verdict is unexpected
      [--variant v] [--strategy portfolio|dfs|bounded|random|pct] [--seed n] [--workers n]
      [--budget N|Nruns|Ns|Nms|Nm] [--max-steps n] [--max-states n] [--depth d]
      [--preemptions p] [--split k] [--param n=5] [--no-por] [--json]
  mmsim replay <scenario|file> <token> [--variant v] [--json] [--html f] [--perfetto f] [--mermaid f] [--trace f]
      [--trace-schema f]                       the JSON Schema of that trace (its state section from the kernel's region declarations)
  mmsim lockdep <scenario|file> [--variant v] [--dot f] [--json]
  mmsim schema                                 the JSON Schema of scenario files
exit codes: 0 as expected, 1 a verdict differs from the scenario's expectation, 2 bad input`;

const OPTIONS = {
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  variant: { type: 'string' },
  strategy: { type: 'string' },
  seed: { type: 'string' },
  workers: { type: 'string' },
  budget: { type: 'string' },
  'max-steps': { type: 'string' },
  'max-states': { type: 'string' },
  depth: { type: 'string' },
  preemptions: { type: 'string' },
  split: { type: 'string' },
  html: { type: 'string' },
  perfetto: { type: 'string' },
  mermaid: { type: 'string' },
  trace: { type: 'string' },
  'trace-schema': { type: 'string' },
  dot: { type: 'string' },
  param: { type: 'string', multiple: true },
  'no-por': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Flags = {
  [K in Exclude<keyof typeof OPTIONS, 'param'>]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
} & { param?: string[] };

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

export function parse(argv: string[]): { cmd: string; pos: string[]; flags: Flags } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [cmd = 'help', ...pos] = positionals;
    return { cmd, pos, flags: values as Flags };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
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
  if (flags.budget !== undefined) {
    const m = /^(\d+)(runs|s|ms|m)?$/.exec(flags.budget);
    if (!m) throw new UsageError(`--budget: expected runs (e.g. 5000) or a time (e.g. 60s, 500ms, 2m), found "${flags.budget}"`);
    const n = Number(m[1]);
    if (n < 1) throw new UsageError(`--budget: expected at least 1 run or 1 ms, found "${flags.budget}"`);
    if (!m[2] || m[2] === 'runs') runs = n;
    else timeMs = n * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
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
  };
}
