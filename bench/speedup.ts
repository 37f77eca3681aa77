/**
 * One timed exploration in a fresh process (so JIT state from other benchmarks does not skew it):
 * `node dist/bench/speedup.js <file> <variant> <strategy> <workers> <runs> <split> [budgetMs]` prints
 * JSON with the wall time, the runs done and a digest of the findings. With a budget the runs are
 * unbounded and the exploration stops at the budget (the runs done are the measure).
 */
import { makeRunner } from '../src/cli/session.js';
import { modelFor } from '../src/cli/worker.js';
import { DEFAULTS, explore, type StrategyName } from '../src/explore/explore.js';

const [file = '', variant = 'default', strategy = 'random', workers = '1', runs = '100000', split = '3', budget = '0'] = process.argv.slice(2);
const model = modelFor(file, variant);
const target = { file, variant, model, expected: [], mustComplete: false };
const timeMs = Number(budget) > 0 ? Number(budget) : Number.POSITIVE_INFINITY;
const o = { ...DEFAULTS, strategy: strategy as StrategyName, runs: Number.isFinite(timeMs) ? 1e12 : Number(runs), chunk: 2500, coverage: false, split: Number(split), timeMs, workers: Number(workers), parallelDfs: true, maxStates: 20_000_000 };
const runner = makeRunner(Number(workers));
await explore(target, { ...o, runs: 5000, timeMs: Number.POSITIVE_INFINITY, maxStates: 5000 }, runner.run); // warm up workers and JIT
const t0 = process.hrtime.bigint();
const r = await explore(target, o, runner.run);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
await runner.close();
process.stdout.write(`${JSON.stringify({ ms, runs: r.runs, digest: JSON.stringify([r.findings, r.distinctStates, r.complete]), parallel: r.parallel })}\n`);
