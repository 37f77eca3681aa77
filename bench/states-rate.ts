/**
 * `node dist/bench/states-rate.js [BASE|-] [ROUNDS]`: distinct states per CPU second of the default DFS
 * (sleep-set POR, one worker, the scenario's maxSteps and maxStates) on every catalogue variant whose
 * pinned DFS has more than 10,000 states, against the goal of 250,000/s (issue 14). Each variant is
 * measured in a fresh child process: one search to warm the JIT, then the median CPU time of ROUNDS
 * (default 3) or more searches, until they took a CPU second. With BASE (the root of another checkout with this file built, e.g. a worktree of
 * main) that build's child runs right before this one's, so both see the same load; the ratio is
 * this build's rate over the base's.
 * Markdown on stdout; `--json FILE VARIANT ROUNDS`: this build's figures for one variant as JSON.
 */
import { spawnSync } from 'node:child_process';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { World } from '../src/engine/world.js';
import { dfs } from '../src/explore/dfs.js';
import { DEFAULTS } from '../src/explore/explore.js';
import { buildModel } from '../src/scenario/build.js';
import { catalogueFiles } from '../src/scenario/catalogue.js';
import { loadScenarioFile } from '../src/scenario/load.js';

export const GOAL = 250_000;
const MIN_STATES = 10_000;
/** Searches go on past ROUNDS until they took this many CPU seconds (at most 50): small variants take ~50 ms each. */
const MIN_CPU = 1;

export interface Rate {
  states: number;
  transitions: number;
  /** CPU seconds of the median search. */
  cpu: number;
  rate: number;
  verdicts: string;
  complete: boolean;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** The variants the goal is about: pinned DFS count above MIN_STATES. */
export function bigVariants(): { file: string; variant: string; key: string; pinned: number }[] {
  return catalogueFiles().flatMap((file) => {
    const sc = loadScenarioFile(file);
    return Object.entries(sc.spec.variants)
      .filter(([, v]) => (v.dfs?.states ?? 0) > MIN_STATES)
      .map(([variant, v]) => ({ file, variant, key: `${basename(file).replace(/\.(ya?ml|json)$/, '')}/${variant}`, pinned: v.dfs?.states ?? 0 }));
  });
}

/** The default DFS of one variant, `rounds` times: the median CPU time and its rate. */
export function measure(file: string, variant: string, rounds: number): Rate {
  const sc = loadScenarioFile(file);
  const model = buildModel(sc, variant);
  const e = sc.spec.explore ?? {};
  const opts = { maxSteps: e.maxSteps ?? DEFAULTS.maxSteps, maxStates: e.maxStates ?? DEFAULTS.maxStates, preemptions: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY };
  dfs(new World(model, null), opts);
  const cpus: number[] = [];
  let r: ReturnType<typeof dfs> | undefined;
  for (let i = 0; i < rounds || (i < 50 && cpus.reduce((x, y) => x + y, 0) < MIN_CPU); i++) {
    const w = new World(model, null);
    const t0 = process.cpuUsage();
    r = dfs(w, opts);
    const d = process.cpuUsage(t0);
    cpus.push((d.user + d.system) / 1e6);
  }
  const res = r as ReturnType<typeof dfs>;
  const cpu = median(cpus);
  const verdicts = [...new Set(res.findings.map((f) => f.verdict.code))].sort().join(',') || 'none';
  return { states: res.distinct, transitions: res.steps, cpu, rate: res.distinct / cpu, verdicts, complete: res.complete };
}

/** measure() by the build under `root`, in a child process (null if it has no such bench or it fails). */
function childMeasure(root: string, file: string, variant: string, rounds: number): Rate | null {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'states-rate.js'), '--json', file, variant, String(rounds)], { encoding: 'utf8' });
  return r.status === 0 ? (JSON.parse(r.stdout) as Rate) : null;
}

const k = (x: number) => `${(x / 1000).toFixed(0)}k`;

/** The table (markdown) for this build, beside BASE's when given. */
export function statesRateTable(baseRoot: string | null, rounds = 3): string {
  const lines: string[] = [];
  const b = baseRoot ? resolve(baseRoot) : null;
  const self = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  lines.push(`| variant | states | transitions | verdicts | ${b ? 'base states/s | ' : ''}states/s | ${b ? 'ratio | ' : ''}≥ 250k |`);
  lines.push(`|---|---|---|---|${b ? '---|' : ''}---|${b ? '---|' : ''}---|`);
  let met = 0;
  let baseMet = 0;
  let n = 0;
  const ratios: number[] = [];
  for (const v of bigVariants()) {
    const bv = b ? childMeasure(b, v.file, v.variant, rounds) : null;
    const r = childMeasure(self, v.file, v.variant, rounds);
    if (!r) throw new Error(`states-rate: ${v.key} failed in its child process`);
    n++;
    if (r.rate >= GOAL) met++;
    if (bv && bv.rate >= GOAL) baseMet++;
    const same = !bv || (bv.states === r.states && bv.transitions === r.transitions && bv.verdicts === r.verdicts) ? '' : ' (BASE DIFFERS)';
    if (bv) ratios.push(r.rate / bv.rate);
    const bcol = b ? `${bv ? k(bv.rate) : '-'} | ` : '';
    const ratio = b ? `${bv ? (r.rate / bv.rate).toFixed(2) : '-'}x | ` : '';
    lines.push(`| ${v.key} | ${r.states}${r.complete ? '' : ' (bounded)'} | ${r.transitions} | ${r.verdicts}${same} | ${bcol}${k(r.rate)} | ${ratio}${r.rate >= GOAL ? 'yes' : 'no'} |`);
  }
  lines.push('');
  lines.push(`${met} of ${n} variants meet ${k(GOAL)} states/s${b ? ` (base: ${baseMet} of ${n}); geometric mean ratio ${Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / Math.max(1, ratios.length)).toFixed(2)}x` : ''}.`);
  return lines.join('\n');
}

function main(): void {
  if (process.argv[2] === '--json') {
    process.stdout.write(JSON.stringify(measure(process.argv[3] as string, process.argv[4] as string, Number(process.argv[5] ?? 3))));
    return;
  }
  const base = process.argv[2] && process.argv[2] !== '-' ? process.argv[2] : null;
  console.log(`\n### Distinct states per CPU second, default DFS (sleep-set POR), variants with > ${MIN_STATES} pinned states\n`);
  console.log(statesRateTable(base, Number(process.argv[3] ?? 3)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
