/**
 * JIT work per V8 isolate, builds against each other: the whole catalogue (`explore --all`) on
 * 1 worker, on a pool of 2, and as two 1-worker processes at once, in rounds that alternate the
 * builds (A, B, then A, B...) so that all meet the same load on a shared machine. Per build:
 * wall and CPU (all threads) as medians with their range, the pool's and the pair's speed-up over
 * 1 worker, pool / independent, the CPU the pool spends beyond 1 worker, and the CPU of V8's own
 * threads (TurboFan compiles there; sampled from /proc, Linux only). Each process's
 * findings and state counts must equal those of build A's first run.
 *
 *   node dist/bench/jit.js <distA> <distB> [more dists] [rounds=3]     (a dist: a build's dist/ directory)
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface Run {
  ms: number;
  cpuMs: number;
  /** CPU of V8's platform threads (TurboFan's concurrent compiles, GC helpers), from /proc samples. */
  v8Ms: number;
  digest: string;
}

/**
 * CPU ms per thread of process `pid` now (Linux /proc; utime + stime at 100 ticks a second), by
 * thread id. Threads are numbered in the order they start: the main thread (the pid), then those
 * Node starts before loading any module (a task runner and V8's platform workers), then libuv's
 * pool and the worker threads.
 */
function threadCpu(pid: number, into: Map<number, number>): void {
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const st = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      into.set(Number(t), (Number(f[11]) + Number(f[12])) * 10);
    }
  } catch {
    // the process or a thread ended between the listing and the read
  }
}

/** V8's platform threads: the V8_THREADS threads started right after the main thread (Node 20 on this machine: 4 workers and a task runner). */
const V8_THREADS = 5;

const cpuProbe = new URL('./cpu-probe.js', import.meta.url).href;

/** The catalogue on `workers` workers with build `dist`: wall and CPU time, and a digest of its results. */
function catalogue(dist: string, workers: number): Promise<Run> {
  return new Promise((ok, fail) => {
    const t0 = process.hrtime.bigint();
    const args = ['--import', cpuProbe, join(dist, 'src/cli/main.js'), 'explore', '--all', '--json', '--workers', String(workers)];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = p.pid as number;
    const threads = new Map<number, number>();
    const sampler = setInterval(() => threadCpu(pid, threads), 50);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      clearInterval(sampler);
      let v8Ms = 0;
      for (const [tid, ms] of threads) if (tid > pid && tid <= pid + V8_THREADS) v8Ms += ms;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpu = /mmsim-bench-cpu-us (\d+)/.exec(err);
      if ((code !== 0 && code !== 1) || !cpu) return fail(new Error(`${args.join(' ')} exited ${code}: ${err.slice(0, 400)}`));
      const rows = out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      const digest = rows.map((o) => JSON.stringify([o.scenario, o.variant, o.findings, o.distinctStates, o.runs, o.steps, o.complete])).join('\n');
      ok({ ms, cpuMs: Number(cpu[1]) / 1000, v8Ms, digest });
    });
  });
}

interface Round {
  one: Run;
  pool: Run;
  pair: [Run, Run];
}

async function round(dist: string): Promise<Round> {
  const one = await catalogue(dist, 1);
  const pool = await catalogue(dist, 2);
  const pair = (await Promise.all([catalogue(dist, 1), catalogue(dist, 1)])) as [Run, Run];
  return { one, pool, pair };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const spread = (xs: number[], d: number) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)})`;

function row(name: string, rs: Round[]): string {
  const s = (f: (r: Round) => number, d = 2) => spread(rs.map(f), d);
  const poolUp = (r: Round) => r.one.ms / r.pool.ms;
  const pairUp = (r: Round) => (2 * r.one.ms) / Math.max(r.pair[0].ms, r.pair[1].ms);
  return [
    name,
    s((r) => r.one.ms / 1000),
    s((r) => r.one.cpuMs / 1000),
    s((r) => r.pool.ms / 1000),
    s((r) => r.pool.cpuMs / 1000),
    s((r) => (r.pair[0].cpuMs + r.pair[1].cpuMs) / 2000),
    s((r) => (r.pool.cpuMs - r.one.cpuMs) / 1000),
    s((r) => r.one.v8Ms / 1000),
    s((r) => r.pool.v8Ms / 1000),
    s(poolUp),
    s(pairUp),
    s((r) => poolUp(r) / pairUp(r)),
  ].join(' | ');
}

const args = process.argv.slice(2);
const n = /^\d+$/.test(args.at(-1) ?? '') ? Number(args.pop()) : 3;
if (args.length < 2) {
  console.error('usage: node dist/bench/jit.js <distA> <distB> [more dists] [rounds]');
  process.exit(2);
}
const dists = args.map((d) => resolve(d));
const rounds: Round[][] = dists.map(() => []);
let ref: string | null = null;
for (let i = 0; i < n; i++) {
  for (const [k, dist] of dists.entries()) {
    const r = await round(dist);
    ref ??= r.one.digest;
    for (const x of [r.one, r.pool, ...r.pair]) if (x.digest !== ref) throw new Error(`${dist}: results differ from the first run`);
    (rounds[k] as Round[]).push(r);
    console.error(`round ${i + 1} ${dist}: 1 worker ${r.one.ms.toFixed(0)} ms / ${r.one.cpuMs.toFixed(0)} ms CPU (V8 threads ${r.one.v8Ms}), pool ${r.pool.ms.toFixed(0)} / ${r.pool.cpuMs.toFixed(0)} (V8 threads ${r.pool.v8Ms}), pair ${r.pair.map((x) => `${x.ms.toFixed(0)} / ${x.cpuMs.toFixed(0)}`).join(', ')}`);
  }
}
console.log('| build | 1 worker wall s | 1 worker CPU s | pool wall s | pool CPU s | pair CPU s per process | pool CPU - 1 worker CPU s | V8 threads CPU s, 1 worker | V8 threads CPU s, pool | pool speed-up | pair speed-up | pool / independent |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const [k, dist] of dists.entries()) console.log(`| ${row(dist, rounds[k] as Round[])} |`);
