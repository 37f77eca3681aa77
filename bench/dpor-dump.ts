/**
 * `node dist/bench/dpor-dump.js [file]`: DPOR's exploration of every catalogue variant as JSON lines
 * (variant, distinct states, transitions, completeness, finding codes and witness tokens, rounds,
 * fall-back), to diff before/after a change that must not change what DPOR explores. Prints the
 * total CPU ms on stderr.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { World } from '../src/engine/world.js';
import { dfs } from '../src/explore/dfs.js';
import type { DporResult } from '../src/explore/dpor.js';
import { buildModel } from '../src/scenario/build.js';
import { catalogueFiles } from '../src/scenario/catalogue.js';
import { loadScenarioFile } from '../src/scenario/load.js';

const lines: string[] = [];
let cpu = 0;
for (const file of catalogueFiles()) {
  const sc = loadScenarioFile(file);
  const maxSteps = sc.spec.explore?.maxSteps ?? 2000;
  for (const v of Object.keys(sc.spec.variants)) {
    const model = buildModel(sc, v);
    const t0 = process.cpuUsage();
    const r = dfs(new World(model, null), { maxSteps, maxStates: 2_000_000, preemptions: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY, dpor: true }) as DporResult;
    const d = process.cpuUsage(t0);
    cpu += (d.user + d.system) / 1000;
    lines.push(
      JSON.stringify({
        variant: `${basename(file).replace(/\.ya?ml$/, '')}/${v}`,
        states: r.distinct,
        transitions: r.steps,
        runs: r.runs,
        complete: r.complete,
        dpor: r.dpor,
        findings: r.findings.map((f) => ({ code: f.verdict.code, token: f.choices.join('.'), cycle: f.cycle ?? null })),
      }),
    );
  }
}
const out = `${lines.join('\n')}\n`;
if (process.argv[2]) writeFileSync(process.argv[2], out);
else process.stdout.write(out);
process.stderr.write(`cpu ms ${cpu.toFixed(0)}\n`);
