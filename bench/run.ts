/**
 * `npm run bench`: engine throughput on dining philosophers 3..5 (steps/s and executions/s per
 * strategy, DFS distinct states/s, bytes per visited state), the speed-up of 2 workers over 1, and
 * mmsim's DFS beside Spin on the scaled remap-vs-khugepaged race (./spin.ts; skipped without spin/gcc).
 * Figures are medians of a few rounds in one process; compare ratios within one run on a noisy machine.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { World } from '../src/engine/world.js';
import { dfs } from '../src/explore/dfs.js';
import { Pct } from '../src/explore/pct.js';
import { RandomWalk } from '../src/explore/random.js';
import { runOnce } from '../src/explore/run.js';
import type { Strategy } from '../src/explore/strategy.js';
import { fingerprint } from '../src/engine/world.js';
import { FingerprintSet } from '../src/explore/visited.js';
import { buildModel } from '../src/scenario/build.js';
import { parseScenario } from '../src/scenario/load.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dporBench, dporTable } from './dpor.js';
import { limitsBench } from './limits.js';
import { mmBench } from './mm.js';
import { parallelBench } from './parallel.js';
import { spinBench } from './spin.js';
import { statesRateTable } from './states-rate.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(1));

function philosophersFile(n: number): string {
  const text = `name: philosophers-${n}\ndescription: bench\ngenerate: { kind: philosophers, n: ${n} }\nvariants:\n  default: { expect: [deadlock, potential-deadlock] }\n  ordered: { switches: { ordered: true }, expect: [], complete: true }\n`;
  const f = join(mkdtempSync(join(tmpdir(), 'mmsim-bench-')), `philosophers-${n}.yaml`);
  writeFileSync(f, text);
  return f;
}

function runsPerSec(model: ReturnType<typeof buildModel>, mk: () => Strategy, runs: number, coverage: boolean) {
  const w = new World(model, null);
  const init = w.snapshot();
  const buf = new Int32Array(w.nthreads);
  let set = new FingerprintSet();
  const fp = new Uint32Array(2);
  const observe = coverage ? () => (fingerprint(w, w.threads, fp), void set.add(fp[0] as number, fp[1] as number)) : null;
  const rounds: [number, number, number][] = [];
  for (let round = 0; round < 5; round++) {
    const s = mk();
    set = new FingerprintSet();
    let steps = 0;
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < runs; r++) {
      runOnce(w, init, s, r, 500, buf, observe);
      steps += w.steps;
    }
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    rounds.push([steps / sec, runs / sec, set.size / sec]);
  }
  return { stepsPerSec: median(rounds.map((r) => r[0])), runsPerSec: median(rounds.map((r) => r[1])), statesPerSec: median(rounds.map((r) => r[2] as number)), states: set.size };
}

function dfsRate(model: ReturnType<typeof buildModel>, preemptions: number, por = true) {
  const rounds: { rate: number; steps: number; runs: number; states: number; bytes: number; complete: boolean }[] = [];
  for (let round = 0; round < 3; round++) {
    const w = new World(model, null);
    const t0 = process.hrtime.bigint();
    const r = dfs(w, { maxSteps: 1000, maxStates: 2_000_000, preemptions, deadline: Number.POSITIVE_INFINITY, por });
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    rounds.push({ rate: r.distinct / sec, steps: r.steps / sec, runs: r.runs / sec, states: r.distinct, bytes: r.visited.bytesPerEntry, complete: r.complete });
  }
  const mid = [...rounds].sort((a, b) => a.rate - b.rate)[1] as (typeof rounds)[number];
  return mid;
}

/** Wall time of the same exploration on 1 and on 2 workers, each in a fresh process (best of 3). */
function speedup(file: string, variant: string, strategy: string, runs: number) {
  const script = fileURLToPath(new URL('./speedup.js', import.meta.url));
  const time = (workers: number) => {
    const out = [0, 1, 2].map(() => {
      const r = spawnSync(process.execPath, [script, file, variant, strategy, String(workers), String(runs), '3'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`speedup run failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as { ms: number; digest: string };
    });
    return { ms: Math.min(...out.map((o) => o.ms)), digest: out[0]?.digest };
  };
  const one = time(1);
  const two = time(2);
  return { ms1: Math.round(one.ms), ms2: Math.round(two.ms), ratio: one.ms / two.ms, same: one.digest === two.digest };
}

async function main() {
  console.log(`mmsim bench — ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}`);
  console.log('\n| scenario | strategy | steps/s | executions/s | distinct states/s | distinct states | bytes/visited state |');
  console.log('|---|---|---|---|---|---|---|');
  for (const n of [3, 4, 5]) {
    const file = philosophersFile(n);
    const model = buildModel(parseScenario(readFileSync(file, 'utf8'), file), 'ordered');
    const name = `philosophers-${n} (ordered)`;
    for (const [label, mk, cov] of [
      ['random', () => new RandomWalk(1), false],
      ['random + state count', () => new RandomWalk(1), true],
      ['pct(d=3)', () => new Pct(1, 3, n, 20), false],
    ] as [string, () => Strategy, boolean][]) {
      const r = runsPerSec(model, mk, 20_000, cov);
      console.log(`| ${name} | ${label} | ${fmt(r.stepsPerSec)} | ${fmt(r.runsPerSec)} | ${cov ? fmt(r.statesPerSec) : '-'} | ${cov ? r.states : '-'} | - |`);
    }
    for (const [label, p, por] of [
      ['dfs (sleep-set POR)', Number.POSITIVE_INFINITY, true],
      ['dfs (no POR)', Number.POSITIVE_INFINITY, false],
      ['bounded dfs (2 preemptions)', 2, false],
    ] as [string, number, boolean][]) {
      const r = dfsRate(model, p, por);
      console.log(`| ${name} | ${label} | ${fmt(r.steps)} | ${fmt(r.runs)} | ${fmt(r.rate)} | ${r.states}${r.complete ? '' : ' (bounded)'} | ${r.bytes.toFixed(1)} |`);
    }
  }
  console.log('\n| workload | 1 worker | 2 workers | speed-up | same findings |');
  console.log('|---|---|---|---|---|');
  const f5 = philosophersFile(5);
  const rnd = speedup(f5, 'default', 'random', 200_000);
  console.log(`| random, 200k runs, philosophers-5 | ${rnd.ms1} ms | ${rnd.ms2} ms | ${rnd.ratio.toFixed(2)}x | ${rnd.same} |`);
  await parallelBench();
  await mmBench();
  limitsBench();
  console.log('\n### Every catalogue variant: plain DFS, sleep-set POR, DPOR (bench/dpor.ts)\n');
  console.log(dporTable(dporBench(1)));
  console.log('\n### Distinct states per CPU second, default DFS, variants with > 10k states (bench/states-rate.ts)\n');
  console.log(statesRateTable(null));
  spinBench();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
