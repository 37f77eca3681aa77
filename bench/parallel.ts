/**
 * Parallelism, measured against this machine's own limit: each workload runs on 1 worker alone, on
 * a pool of 2 workers, and as two independent 1-worker processes at the same time (what two cores
 * shared with the rest of the machine give two programs that share nothing; each does the whole
 * workload, so the pair does twice the work). The pool pays when its speed-up comes close to the
 * independent pair's. Ratios are from one run; on a machine shared with other jobs, the catalogue
 * (a short workload) is measured in `BENCH_PAR_ROUNDS` rounds (default 3), each round running the
 * three settings back to back, and each ratio is the median of its rounds (their range beside it).
 * Every process reports its CPU time (all threads), which shows where a pool loses to the pair.
 * `BENCH_RANDOM_S` sets the random budget (default 60 s); `BENCH_PAR_ONLY=catalogue` runs only the
 * catalogue.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenario as faultingScenario } from './faulting.js';

interface Timed {
  ms: number;
  /** CPU time of the whole process (every thread). */
  cpuMs: number;
  runs: number;
  digest: string;
}

const cpuProbe = new URL('./cpu-probe.js', import.meta.url).href;

/** Run `node script ...args` and parse its JSON line (speedup.js) or time it (the CLI). */
function start(args: string[], parse: (stdout: string, ms: number) => Omit<Timed, 'cpuMs'>): Promise<Timed> {
  return new Promise((ok, fail) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, ['--import', cpuProbe, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpu = /mmsim-bench-cpu-us (\d+)/.exec(err);
      if (code !== 0 && code !== 1) fail(new Error(`${args.join(' ')} exited ${code}: ${err.slice(0, 400)}`));
      else ok({ ...parse(out, ms), cpuMs: cpu ? Number(cpu[1]) / 1000 : Number.NaN });
    });
  });
}

const speedupJs = fileURLToPath(new URL('./speedup.js', import.meta.url));
const cliJs = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

const fromSpeedup = (out: string) => JSON.parse(out.trim().split('\n').pop() as string) as Omit<Timed, 'cpuMs'>;
const fromCatalogue = (out: string, ms: number) => {
  const rows = out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const digest = rows.map((o) => JSON.stringify([o.scenario, o.variant, o.findings, o.distinctStates, o.runs])).join('\n');
  return { ms, runs: rows.reduce((s, o) => s + o.runs, 0), digest };
};

interface Round {
  one: Timed;
  two: Timed;
  pair: [Timed, Timed];
  /** Throughput of the pool and of the pair relative to one worker alone (runs per ms for budgets, 1/time otherwise). */
  pool: number;
  pairUp: number;
}

interface Row {
  workload: string;
  budgeted: boolean;
  rounds: Round[];
  same: boolean;
}

/** One round of a workload: 1 worker, then the pool of 2, then two 1-worker processes together. */
async function round(args: (workers: number) => string[], parse: typeof fromCatalogue, budgeted: boolean): Promise<Round> {
  const one = await start(args(1), parse);
  const two = await start(args(2), parse);
  const [x, y] = (await Promise.all([start(args(1), parse), start(args(1), parse)])) as [Timed, Timed];
  const rate = (t: Timed) => (budgeted ? t.runs / t.ms : 1 / t.ms);
  // The pair does twice the work of one process when not budgeted; budgeted, each does what it can.
  const pairUp = budgeted ? (rate(x) + rate(y)) / rate(one) : (2 * one.ms) / Math.max(x.ms, y.ms);
  return { one, two, pair: [x, y], pool: rate(two) / rate(one), pairUp };
}

async function measure(workload: string, args: (workers: number) => string[], parse: typeof fromCatalogue, budgeted: boolean, rounds = 1): Promise<Row> {
  const rs: Round[] = [];
  for (let i = 0; i < rounds; i++) rs.push(await round(args, parse, budgeted));
  const same = budgeted || rs.every((r) => [r.two, ...r.pair].every((t) => t.digest === r.one.digest));
  return { workload, budgeted, rounds: rs, same };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
/** The median of `xs` and, over several rounds, their range. */
function spread(xs: number[], f: (x: number) => string): string {
  if (xs.length === 1) return f(xs[0] as number);
  return `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
}

export async function parallelBench(): Promise<void> {
  const budgetS = Number(process.env.BENCH_RANDOM_S ?? 60);
  const rounds = Number(process.env.BENCH_PAR_ROUNDS ?? 3);
  const onlyCatalogue = process.env.BENCH_PAR_ONLY === 'catalogue';
  const uffd = fileURLToPath(new URL('../../scenarios/uffd-move-vs-khugepaged.yaml', import.meta.url));
  const scaled = join(mkdtempSync(join(tmpdir(), 'mmsim-par-')), 'remap-vs-khugepaged-3.yaml');
  writeFileSync(scaled, faultingScenario(3));
  const rows: Row[] = [];
  if (!onlyCatalogue) {
    rows.push(await measure('DFS proof, scaled remap-vs-khugepaged, 3 faulting threads (5.2M states; parallel DFS on 2)', (w) => [speedupJs, scaled, 'rfc-v2', 'dfs', String(w), '0', '0'], fromSpeedup, false));
    rows.push(await measure(`random, ${budgetS} s budget, uffd-move-vs-khugepaged/current (runs done)`, (w) => [speedupJs, uffd, 'current', 'random', String(w), '0', '0', String(budgetS * 1000)], fromSpeedup, true));
  }
  rows.push(await measure(`the catalogue: \`explore --all\` (every variant, whole process; ${rounds} rounds)`, (w) => [cliJs, 'explore', '--all', '--json', '--workers', String(w)], fromCatalogue, false, rounds));
  console.log('\n### Parallelism: the pool of 2 against two independent processes (same run)\n');
  console.log('| workload | 1 worker | pool of 2 | pool speed-up | 2 independent processes | their speed-up | pool / independent | CPU s: 1 worker / pool / pair | same findings |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const show = (ts: Timed[]) => spread(ts.map((t) => (r.budgeted ? t.runs : t.ms)), (x) => (r.budgeted ? `${Math.round(x)} runs` : `${Math.round(x)} ms`));
    const x = (v: number) => `${v.toFixed(2)}x`;
    const cpu = (ts: Timed[]) => spread(ts.map((t) => t.cpuMs / 1000), (v) => v.toFixed(1));
    const rs = r.rounds;
    const pairCpu = rs.map((o) => ({ ...o.one, cpuMs: o.pair[0].cpuMs + o.pair[1].cpuMs }));
    console.log(
      `| ${r.workload} | ${show(rs.map((o) => o.one))} | ${show(rs.map((o) => o.two))} | ${spread(rs.map((o) => o.pool), x)} | both at once | ${spread(rs.map((o) => o.pairUp), x)} | ${spread(rs.map((o) => o.pool / o.pairUp), (v) => v.toFixed(2))} | ${cpu(rs.map((o) => o.one))} / ${cpu(rs.map((o) => o.two))} / ${cpu(pairCpu)} | ${r.same} |`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await parallelBench();
