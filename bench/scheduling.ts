/**
 * `node dist/bench/scheduling.js [BASE]`: the DFS of every catalogue variant (the default search
 * order, one worker) with every label a scheduling point and with invisible steps run on
 * (src/engine/visibility.ts), in one process; with BASE (the root of another built checkout, e.g. a
 * worktree of main) that build's DFS too, so before/after come from the same run. Per variant:
 * distinct states, transitions, and CPU time (median of 3); then random-walk executions/s on a
 * UFFD scenario. Markdown on stdout.
 */
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Build {
  readonly label: string;
  readonly World: new (model: unknown, lockdep: null) => { nthreads: number; steps: number; snapshot(): unknown };
  readonly dfs: (w: unknown, o: object) => { distinct: number; steps: number; complete: boolean; findings: { verdict: { code: string } }[] };
  readonly buildModel: (sc: unknown, variant: string) => unknown;
  readonly loadScenarioFile: (f: string) => { spec: { variants: Record<string, unknown>; explore?: { maxSteps?: number } } };
  readonly catalogueFiles: () => string[];
  readonly runOnce: (w: unknown, init: unknown, s: unknown, run: number, maxSteps: number, buf: Int32Array) => void;
  readonly RandomWalk: new (seed: number) => unknown;
  readonly scheduling: { runOn: boolean } | undefined;
}

async function load(root: string, label: string): Promise<Build> {
  const m = async (p: string) => import(pathToFileURL(join(root, 'dist', p)).href);
  const [world, dfs, build, load, cat, run, random, exec] = await Promise.all(
    ['src/engine/world.js', 'src/explore/dfs.js', 'src/scenario/build.js', 'src/scenario/load.js', 'src/scenario/catalogue.js', 'src/explore/run.js', 'src/explore/random.js', 'src/engine/exec.js'].map(m),
  );
  return {
    label,
    World: world.World,
    dfs: dfs.dfs,
    buildModel: build.buildModel,
    loadScenarioFile: load.loadScenarioFile,
    catalogueFiles: cat.catalogueFiles,
    runOnce: run.runOnce,
    RandomWalk: random.RandomWalk,
    scheduling: exec.scheduling,
  };
}

/** CPU milliseconds since `t0` (this machine's cores are shared: wall time mostly measures the neighbours). */
const cpuMs = (t0: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function dfsOnce(b: Build, file: string, variant: string, runOn: boolean) {
  if (b.scheduling) b.scheduling.runOn = runOn;
  const sc = b.loadScenarioFile(file);
  const model = b.buildModel(sc, variant);
  const times: number[] = [];
  let r: ReturnType<Build['dfs']> | undefined;
  for (let i = 0; i < 3; i++) {
    const w = new b.World(model, null);
    const t0 = process.cpuUsage();
    r = b.dfs(w, { maxSteps: sc.spec.explore?.maxSteps ?? 2000, maxStates: 2_000_000, preemptions: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY });
    times.push(cpuMs(t0));
  }
  const res = r as ReturnType<Build['dfs']>;
  if (b.scheduling) b.scheduling.runOn = true;
  return { states: res.distinct, transitions: res.steps, ms: median(times), verdicts: [...new Set(res.findings.map((f) => f.verdict.code))].sort().join(',') || 'none', complete: res.complete };
}

function runsPerSec(b: Build, file: string, variant: string, runs: number) {
  const sc = b.loadScenarioFile(file);
  const w = new b.World(b.buildModel(sc, variant), null);
  const init = w.snapshot();
  const buf = new Int32Array(w.nthreads);
  const rates: number[] = [];
  let steps = 0;
  for (let round = 0; round < 3; round++) {
    const s = new b.RandomWalk(round + 1);
    steps = 0;
    const t0 = process.cpuUsage();
    for (let r = 0; r < runs; r++) {
      b.runOnce(w, init, s, r, 2000, buf);
      steps += w.steps;
    }
    rates.push(runs / (cpuMs(t0) / 1000));
  }
  return { rate: median(rates), stepsPerRun: steps / runs };
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));

async function main(): Promise<void> {
  const here = resolve(import.meta.dirname, '..', '..');
  const base = process.argv[2] ? await load(resolve(process.argv[2]), 'base') : null;
  const mine = await load(here, 'this');
  console.log('\n### DFS per catalogue variant: every label a point (ref), invisible steps run on (run-on)\n');
  const head = base ? '| base states | base cpu ms | ' : '';
  console.log(`| variant | ${head}ref states | ref trans | ref cpu ms | run-on states | run-on trans | run-on cpu ms | states ratio | time ratio${base ? ' vs base' : ''} | verdicts | same |`);
  console.log(`|---|${base ? '---|---|' : ''}---|---|---|---|---|---|---|---|---|---|`);
  let sumRef = 0;
  let sumOn = 0;
  let sumRefT = 0;
  let sumOnT = 0;
  let sumBaseMs = 0;
  let sumOnMs = 0;
  for (const file of mine.catalogueFiles()) {
    const sc = mine.loadScenarioFile(file);
    for (const variant of Object.keys(sc.spec.variants)) {
      const b = base ? dfsOnce(base, file, variant, false) : null;
      const ref = dfsOnce(mine, file, variant, false);
      const on = dfsOnce(mine, file, variant, true);
      sumRef += ref.states;
      sumOn += on.states;
      sumRefT += ref.transitions;
      sumOnT += on.transitions;
      sumBaseMs += b ? b.ms : ref.ms;
      sumOnMs += on.ms;
      const same = on.verdicts === ref.verdicts && on.complete === ref.complete && (!b || b.verdicts === ref.verdicts) ? 'yes' : 'NO';
      const bcol = b ? `${b.states} | ${fmt(b.ms)} | ` : '';
      console.log(
        `| ${basename(file, '.yaml')}/${variant} | ${bcol}${ref.states} | ${ref.transitions} | ${fmt(ref.ms)} | ${on.states} | ${on.transitions} | ${fmt(on.ms)} | ${(ref.states / on.states).toFixed(2)}x | ${((b ? b.ms : ref.ms) / on.ms).toFixed(2)}x | ${on.verdicts}${on.complete ? '' : ' (incomplete)'} | ${same} |`,
      );
    }
  }
  console.log(`\nTotal: states ${sumRef} -> ${sumOn} (${(sumRef / sumOn).toFixed(2)}x), transitions ${sumRefT} -> ${sumOnT} (${(sumRefT / sumOnT).toFixed(2)}x), DFS CPU ${fmt(sumBaseMs)} -> ${fmt(sumOnMs)} ms (${(sumBaseMs / sumOnMs).toFixed(2)}x)`);
  const file = mine.catalogueFiles().find((f) => basename(f) === 'uffd-remap-vs-khugepaged.yaml') as string;
  console.log('\n### Random walk, uffd-remap-vs-khugepaged/rfc-v2 (executions per CPU second, median of 3 rounds of 20,000)\n');
  for (const b of base ? [base, mine] : [mine]) {
    const r = runsPerSec(b, file, 'rfc-v2', 20_000);
    console.log(`- ${b.label}: ${fmt(r.rate)} runs/s, ${fmt(r.stepsPerRun)} steps/run`);
  }
}

await main();
