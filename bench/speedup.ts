/**
 * One timed exploration in a fresh process (so JIT state from other benchmarks does not skew it):
 * `node dist/bench/speedup.js <file> <variant> <strategy> <workers> <runs> <split>` prints JSON with
 * the wall time and a digest of the findings.
 */
import { makeRunner } from '../src/cli/session.js';
import { modelFor } from '../src/cli/worker.js';
import { DEFAULTS, explore, type StrategyName } from '../src/explore/explore.js';

const [file = '', variant = 'default', strategy = 'random', workers = '1', runs = '100000', split = '3'] = process.argv.slice(2);
const model = modelFor(file, variant);
const target = { file, variant, model, expected: [], mustComplete: false };
const o = { ...DEFAULTS, strategy: strategy as StrategyName, runs: Number(runs), chunk: 2500, coverage: false, split: Number(split) };
const runner = makeRunner(Number(workers));
await explore(target, { ...o, runs: Math.min(5000, o.runs), maxStates: 5000 }, runner.run); // warm up workers and JIT
const t0 = process.hrtime.bigint();
const r = await explore(target, o, runner.run);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
await runner.close();
process.stdout.write(`${JSON.stringify({ ms, digest: JSON.stringify([r.findings, r.distinctStates, r.runs, r.steps]) })}\n`);
