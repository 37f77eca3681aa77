/**
 * Parallelism, measured against this machine's own limit: each workload runs on 1 worker alone, on
 * a pool of 2 workers, and as two independent 1-worker processes at the same time (what two cores
 * shared with the rest of the machine give two programs that share nothing). The pool pays when its
 * speed-up comes close to the independent pair's. Ratios are from one run.
 * `BENCH_RANDOM_S` sets the random budget (default 60 s).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenario as faultingScenario } from './faulting.js';

interface Timed {
  ms: number;
  runs: number;
  digest: string;
}

/** Run `node script ...args` and parse its JSON line (speedup.js) or time it (the CLI). */
function start(args: string[], parse: (stdout: string, ms: number) => Timed): Promise<Timed> {
  return new Promise((ok, fail) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0 && code !== 1) fail(new Error(`${args.join(' ')} exited ${code}: ${err.slice(0, 400)}`));
      else ok(parse(out, ms));
    });
  });
}

const speedupJs = fileURLToPath(new URL('./speedup.js', import.meta.url));
const cliJs = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

const fromSpeedup = (out: string): Timed => JSON.parse(out.trim().split('\n').pop() as string) as Timed;
const fromCatalogue = (out: string, ms: number): Timed => {
  const rows = out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const digest = rows.map((o) => JSON.stringify([o.scenario, o.variant, o.findings, o.distinctStates])).join('\n');
  return { ms, runs: rows.reduce((s, o) => s + o.runs, 0), digest };
};

interface Row {
  workload: string;
  /** Throughput of each setting relative to one worker alone (runs per ms for budgets, 1/time otherwise). */
  pool: number;
  pair: number;
  one: Timed;
  two: Timed;
  same: boolean;
}

/** One workload: 1 worker, then the pool of 2, then two 1-worker processes together. */
async function measure(workload: string, args: (workers: number) => string[], parse: typeof fromCatalogue, budgeted: boolean): Promise<Row> {
  const one = await start(args(1), parse);
  const two = await start(args(2), parse);
  const [a, b] = await Promise.all([start(args(1), parse), start(args(1), parse)]);
  const x = a as Timed;
  const y = b as Timed;
  const rate = (t: Timed) => (budgeted ? t.runs / t.ms : 1 / t.ms);
  // The pair does twice the work of one process when not budgeted; budgeted, each does what it can.
  const pair = budgeted ? (rate(x) + rate(y)) / rate(one) : (2 * one.ms) / Math.max(x.ms, y.ms);
  return { workload, pool: rate(two) / rate(one), pair, one, two, same: budgeted || one.digest === two.digest };
}

export async function parallelBench(): Promise<void> {
  const budgetS = Number(process.env.BENCH_RANDOM_S ?? 60);
  const uffd = fileURLToPath(new URL('../../scenarios/uffd-move-vs-khugepaged.yaml', import.meta.url));
  const scaled = join(mkdtempSync(join(tmpdir(), 'mmsim-par-')), 'remap-vs-khugepaged-3.yaml');
  writeFileSync(scaled, faultingScenario(3));
  const rows = [
    await measure('DFS proof, scaled remap-vs-khugepaged, 3 faulting threads (5.2M states; parallel DFS on 2)', (w) => [speedupJs, scaled, 'rfc-v2', 'dfs', String(w), '0', '0'], fromSpeedup, false),
    await measure(`random, ${budgetS} s budget, uffd-move-vs-khugepaged/current (runs done)`, (w) => [speedupJs, uffd, 'current', 'random', String(w), '0', '0', String(budgetS * 1000)], fromSpeedup, true),
    await measure('the catalogue: `explore --all` (every variant, whole process)', (w) => [cliJs, 'explore', '--all', '--json', '--workers', String(w)], fromCatalogue, false),
  ];
  console.log('\n### Parallelism: the pool of 2 against two independent processes (same run)\n');
  console.log('| workload | 1 worker | pool of 2 | pool speed-up | 2 independent processes | their speed-up | pool / independent | same findings |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const show = (t: Timed) => (r.workload.startsWith('random') ? `${t.runs} runs` : `${Math.round(t.ms)} ms`);
    console.log(`| ${r.workload} | ${show(r.one)} | ${show(r.two)} | ${r.pool.toFixed(2)}x | both at once | ${r.pair.toFixed(2)}x | ${(r.pool / r.pair).toFixed(2)} | ${r.same} |`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await parallelBench();
