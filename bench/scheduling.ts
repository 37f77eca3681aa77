/**
 * `node dist/bench/scheduling.js [BASE]`: the DFS of every catalogue variant (the default search
 * order, one worker) with every label a scheduling point (ref) and with invisible steps run on
 * (src/engine/visibility.ts), in one process; with BASE (the root of another checkout with this
 * file built, e.g. a worktree of main) that build's DFS too, run as a child process in the same
 * run. Per variant: distinct states, transitions and CPU time (median of 3; the cores are shared,
 * wall time mostly measures the neighbours); then random-walk executions per CPU second on a
 * ~100-step UFFD scenario. Markdown on stdout (`--json`: this build's figures as JSON).
 */
import { spawnSync } from 'node:child_process';
import { basename, join, resolve } from 'node:path';
import * as exec from '../src/engine/exec.js';
import { World } from '../src/engine/world.js';
import { dfs } from '../src/explore/dfs.js';
import { RandomWalk } from '../src/explore/random.js';
import { runOnce } from '../src/explore/run.js';
import { buildModel } from '../src/scenario/build.js';
import { catalogueFiles } from '../src/scenario/catalogue.js';
import { loadScenarioFile } from '../src/scenario/load.js';

/** The scheduling switches, absent in a build from before them. */
const scheduling = (exec as { scheduling?: { runOn: boolean; lazyInvariants: boolean } }).scheduling;

interface Figures {
  states: number;
  transitions: number;
  ms: number;
  verdicts: string;
  complete: boolean;
}

const cpuMs = (t0: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));

function setMode(reference: boolean): void {
  if (!scheduling) return;
  scheduling.runOn = !reference;
  scheduling.lazyInvariants = !reference;
}

function dfsOnce(file: string, variant: string, reference: boolean): Figures {
  setMode(reference);
  const sc = loadScenarioFile(file);
  const model = buildModel(sc, variant);
  const times: number[] = [];
  let r: ReturnType<typeof dfs> | undefined;
  for (let i = 0; i < 3; i++) {
    const w = new World(model, null);
    const t0 = process.cpuUsage();
    r = dfs(w, { maxSteps: sc.spec.explore?.maxSteps ?? 2000, maxStates: 2_000_000, preemptions: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY });
    times.push(cpuMs(t0));
  }
  setMode(false);
  const res = r as ReturnType<typeof dfs>;
  return { states: res.distinct, transitions: res.steps, ms: median(times), verdicts: [...new Set(res.findings.map((f) => f.verdict.code))].sort().join(',') || 'none', complete: res.complete };
}

function runsPerSec(file: string, variant: string, runs: number) {
  const w = new World(buildModel(loadScenarioFile(file), variant), null);
  const init = w.snapshot();
  const buf = new Int32Array(w.nthreads);
  const rates: number[] = [];
  let steps = 0;
  for (let round = 0; round < 3; round++) {
    const s = new RandomWalk(round + 1);
    steps = 0;
    const t0 = process.cpuUsage();
    for (let r = 0; r < runs; r++) {
      runOnce(w, init, s, r, 2000, buf);
      steps += w.steps;
    }
    rates.push(runs / (cpuMs(t0) / 1000));
  }
  return { rate: median(rates), stepsPerRun: steps / runs };
}

const variants = (): { file: string; variant: string; key: string }[] =>
  catalogueFiles().flatMap((file) => Object.keys(loadScenarioFile(file).spec.variants).map((variant) => ({ file, variant, key: `${basename(file, '.yaml')}/${variant}` })));

const RW_FILE = 'uffd-remap-vs-khugepaged.yaml';

function json(): void {
  const out: Record<string, Figures> = {};
  for (const v of variants()) out[v.key] = dfsOnce(v.file, v.variant, false);
  const rw = runsPerSec(catalogueFiles().find((f) => basename(f) === RW_FILE) as string, 'rfc-v2', 20_000);
  process.stdout.write(JSON.stringify({ dfs: out, rw }));
}

function base(root: string): { dfs: Record<string, Figures>; rw: { rate: number; stepsPerRun: number } } | null {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'scheduling.js'), '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    console.log(`(base ${root}: no built bench/scheduling.js there, or it failed: ${r.stderr.split('\n')[0]})`);
    return null;
  }
  return JSON.parse(r.stdout);
}

function table(baseRoot: string | undefined): void {
  const b = baseRoot ? base(resolve(baseRoot)) : null;
  console.log('\n### DFS per catalogue variant: every label a point (ref), invisible steps run on (run-on)\n');
  console.log(`| variant | ${b ? 'base states | base cpu ms | ' : ''}ref states | ref trans | ref cpu ms | run-on states | run-on trans | run-on cpu ms | states ratio | cpu ratio${b ? ' vs base' : ''} | verdicts | same |`);
  console.log(`|---|${b ? '---|---|' : ''}---|---|---|---|---|---|---|---|---|---|`);
  const sum = { ref: 0, on: 0, refT: 0, onT: 0, baseMs: 0, onMs: 0 };
  for (const v of variants()) {
    const bv = b?.dfs[v.key];
    const ref = dfsOnce(v.file, v.variant, true);
    const on = dfsOnce(v.file, v.variant, false);
    const before = bv ?? ref;
    sum.ref += ref.states;
    sum.on += on.states;
    sum.refT += ref.transitions;
    sum.onT += on.transitions;
    sum.baseMs += before.ms;
    sum.onMs += on.ms;
    const same = on.verdicts === ref.verdicts && on.complete === ref.complete && (!bv || (bv.verdicts === ref.verdicts && bv.states === ref.states)) ? 'yes' : 'NO';
    const bcol = b ? `${bv?.states ?? '-'} | ${bv ? fmt(bv.ms) : '-'} | ` : '';
    console.log(
      `| ${v.key} | ${bcol}${ref.states} | ${ref.transitions} | ${fmt(ref.ms)} | ${on.states} | ${on.transitions} | ${fmt(on.ms)} | ${(ref.states / on.states).toFixed(2)}x | ${(before.ms / on.ms).toFixed(2)}x | ${on.verdicts}${on.complete ? '' : ' (incomplete)'} | ${same} |`,
    );
  }
  console.log(
    `\nTotal: states ${sum.ref} -> ${sum.on} (${(sum.ref / sum.on).toFixed(2)}x), transitions ${sum.refT} -> ${sum.onT} (${(sum.refT / sum.onT).toFixed(2)}x), DFS CPU ${fmt(sum.baseMs)} -> ${fmt(sum.onMs)} ms (${(sum.baseMs / sum.onMs).toFixed(2)}x)`,
  );
  console.log('\n### Random walk, uffd-remap-vs-khugepaged/rfc-v2 (executions per CPU second, median of 3 rounds of 20,000)\n');
  if (b) console.log(`- base: ${fmt(b.rw.rate)} runs/s, ${fmt(b.rw.stepsPerRun)} steps/run`);
  const rw = runsPerSec(catalogueFiles().find((f) => basename(f) === RW_FILE) as string, 'rfc-v2', 20_000);
  console.log(`- this: ${fmt(rw.rate)} runs/s, ${fmt(rw.stepsPerRun)} steps/run`);
}

if (process.argv[2] === '--json') json();
else table(process.argv[2]);
