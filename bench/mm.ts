/**
 * MM-model benchmark entries (the uffd-* and mm-* catalogue scenarios): for each variant that must
 * find verdicts, the time to the first expected verdict per strategy (DFS, random walk, PCT d=3;
 * median over three seeds, one worker); for each variant DFS must prove, the distinct states and the
 * time DFS takes to complete. Markdown tables on stdout.
 */
import { basename } from 'node:path';
import { makeRunner } from '../src/cli/session.js';
import { modelFor } from '../src/cli/worker.js';
import { DEFAULTS, explore, type ExploreResult, type StrategyName } from '../src/explore/explore.js';
import { catalogueFiles } from '../src/scenario/catalogue.js';
import { loadScenarioFile } from '../src/scenario/load.js';

const SEEDS = [1, 2, 3];
const RUNS = 20_000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function mmBench(): Promise<void> {
  const files = catalogueFiles().filter((f) => /^(uffd|mm)-/.test(basename(f)));
  const runner = makeRunner(1);
  const bugs: string[] = [];
  const safe: string[] = [];
  for (const file of files) {
    const sc = loadScenarioFile(file);
    for (const [variant, v] of Object.entries(sc.spec.variants)) {
      const model = modelFor(file, variant);
      const target = { file, variant, model, expected: [...v.expect], mustComplete: v.complete === true };
      const run = (strategy: StrategyName, seed: number): Promise<ExploreResult> =>
        explore(target, { ...DEFAULTS, strategy, seed, runs: RUNS, chunk: 2000, maxSteps: sc.spec.explore?.maxSteps ?? DEFAULTS.maxSteps }, runner.run);
      if (v.expect.length > 0) {
        for (const strategy of ['dfs', 'random', 'pct'] as const) {
          const rs: ExploreResult[] = [];
          for (const seed of strategy === 'dfs' ? [1] : SEEDS) rs.push(await run(strategy, seed));
          const hit = rs.filter((r) => v.expect.some((c) => r.findings.some((f) => f.verdict === c)));
          const ttfb = hit.map((r) => r.timeToFirstBugMs ?? Number.NaN);
          const found = [...new Set(rs.flatMap((r) => r.findings.map((f) => f.verdict)))].sort().join(', ') || 'none';
          const label = strategy === 'pct' ? 'pct (d=3)' : strategy;
          const budget = strategy === 'dfs' ? `${rs[0]?.distinctStates} states` : `${RUNS} runs × ${SEEDS.length} seeds`;
          const time = hit.length ? `${median(ttfb)} ms` : 'not found';
          bugs.push(`| ${sc.spec.name} | ${variant} | ${v.expect.join(', ')} | ${label} | ${found} | ${hit.length}/${rs.length} | ${time} | ${budget} |`);
        }
      }
      if (v.complete) {
        const times: number[] = [];
        let r: ExploreResult | undefined;
        for (let i = 0; i < 3; i++) {
          r = await run('dfs', 1);
          times.push(r.elapsedMs);
        }
        safe.push(`| ${sc.spec.name} | ${variant} | ${r?.distinctStates} | ${r?.runs} | ${r?.complete ? 'yes' : 'NO'} | ${median(times)} ms | ${r?.matchesExpectation ? 'yes' : 'NO'} |`);
      }
    }
  }
  await runner.close();
  console.log('\n### MM scenarios: time to the first expected verdict (one worker)\n');
  console.log('| scenario | variant | expected | strategy | found | runs that found it | time to first (median) | budget |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const l of bugs) console.log(l);
  console.log('\n### MM scenarios: variants DFS proves (one worker, median of 3)\n');
  console.log('| scenario | variant | distinct states | DFS leaves | complete | time to complete | as expected |');
  console.log('|---|---|---|---|---|---|---|');
  for (const l of safe) console.log(l);
}
