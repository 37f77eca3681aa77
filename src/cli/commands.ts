/** The `mmsim` commands. Each returns its exit code; output goes to stdout, diagnostics to stderr. */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { VerdictCode } from '../engine/events.js';
import { explore, type ExploreResult } from '../explore/explore.js';
import { replayToken } from '../explore/replayer.js';
import { LockGraph } from '../locks/lockdep.js';
import { formatCycle } from '../locks/splat.js';
import { runTask } from '../explore/task.js';
import { catalogueFiles } from '../scenario/catalogue.js';
import { withParams } from '../scenario/generate.js';
import { loadScenarioFile, type Scenario } from '../scenario/load.js';
import { toJson } from '../trace/json.js';
import { kernelState, traceSchema } from '../trace/state.js';
import { toText } from '../trace/text.js';
import { exploreOptions, type Flags, int, params, UsageError } from './args.js';
import { progressBar } from './progress.js';
import { loadByName, makeRunner, pickVariants } from './session.js';
import { details, header, row } from './table.js';
import { modelFor } from './worker.js';
import * as exporters from './exporters.js';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const shown = (file: string) => relative(process.cwd(), file) || file;

export function list(flags: Flags): number {
  const items = catalogueFiles().map((f) => {
    const sc = loadScenarioFile(f);
    return {
      name: sc.spec.name,
      description: sc.spec.description.trim(),
      file: shown(f),
      variants: Object.entries(sc.spec.variants).map(([name, v]) => ({ name, description: v.description, expect: v.expect, complete: v.complete ?? false })),
    };
  });
  if (flags.json) out(JSON.stringify(items, null, 2));
  else
    for (const s of items) {
      out(`${s.name}  (${s.file})\n  ${s.description.replace(/\s+/g, ' ')}`);
      for (const v of s.variants) out(`    ${v.name.padEnd(20)} expect: ${v.expect.join(', ') || 'ok'}${v.complete ? ' (proven by DFS)' : ''}`);
    }
  return 0;
}

export function check(pos: string[]): number {
  const sc = loadByName(pos[0]);
  out(`${shown(sc.file)}: valid (${Object.keys(sc.spec.variants).length} variants)`);
  return 0;
}

/** Explore one scenario (or, with --all, the catalogue); exit 1 if any variant's verdicts differ. */
export async function exploreCmd(pos: string[], flags: Flags): Promise<number> {
  const workers = int('workers', flags.workers, 1, 256) ?? 1;
  const targets: Scenario[] = [];
  const failures: string[] = [];
  if (flags.all) {
    if (pos.length) throw new UsageError('explore --all takes no scenario name');
    for (const f of catalogueFiles()) {
      try {
        targets.push(loadScenarioFile(f));
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  } else targets.push(loadByName(pos[0]));
  const ps = params(flags);
  if (flags.all && Object.keys(ps).length) throw new UsageError('--param applies to one generated scenario, not to --all');
  const runner = makeRunner(workers);
  const jobs = targets.flatMap((sc) => pickVariants(sc, flags.all ? undefined : flags.variant).map((variant) => ({ sc, variant })));
  const exploreJob = ({ sc, variant }: (typeof jobs)[number], progress$?: Parameters<typeof explore>[3]) => {
    const v = sc.spec.variants[variant] as { expect: readonly VerdictCode[]; complete?: boolean };
    const target = { file: sc.file, variant, params: ps, model: modelFor(sc.file, variant, ps), expected: v.expect, mustComplete: v.complete === true };
    return explore(target, exploreOptions(flags, sc.spec.explore), runner.run, progress$).catch((e: unknown) => {
      // A model that throws (an internal error in a code path) fails its own variant, not the others.
      if (e instanceof UsageError) throw e;
      crashed.push(`${sc.spec.name}/${variant}: internal error: ${(e as Error)?.message ?? e}`);
      return null;
    });
  };
  const crashed: string[] = [];
  for (const sc of targets) {
    exploreOptions(flags, sc.spec.explore); // bad flags and parameters fail before any output
    withParams(sc, ps);
  }
  const results: { r: ExploreResult; file: string }[] = [];
  if (!flags.json) out(header());
  const report = (r: ExploreResult, file: string) => {
    r.strategy = r.strategy + (workers > 1 ? ` x${workers}` : '');
    results.push({ r, file });
    out(flags.json ? JSON.stringify(r) : row(r));
  };
  try {
    if (workers > 1) {
      // All variants at once: the pool interleaves their tasks; rows still print in catalogue order.
      const bar = progressBar(`${jobs.length} variant${jobs.length === 1 ? '' : 's'}`);
      let done = 0;
      const pending = jobs.map((j) =>
        exploreJob(j).then((r) => {
          bar.progress$.next({ phase: 'explore', done: ++done, total: jobs.length, runs: 0, findings: 0 });
          return r;
        }),
      );
      const all = await Promise.all(pending);
      bar.stop();
      for (let i = 0; i < all.length; i++) {
        const r = all[i];
        if (r) report(r, shown((jobs[i] as (typeof jobs)[number]).sc.file));
      }
    } else {
      for (const j of jobs) {
        const bar = progressBar(`${j.sc.spec.name}/${j.variant}`);
        const r = await exploreJob(j, bar.progress$);
        bar.stop();
        if (r) report(r, shown(j.sc.file));
      }
    }
  } finally {
    await runner.close();
  }
  const mismatch = results.some((x) => !x.r.matchesExpectation);
  if (!flags.json) {
    for (const { r, file } of results) if (r.findings.length) out(`\n${details(r, file)}`);
    out(`\n${results.filter((x) => x.r.matchesExpectation).length} of ${results.length} variants as expected`);
  }
  for (const f of failures) process.stderr.write(`${f}\n`);
  for (const c of crashed) process.stderr.write(`mmsim: ${c}\n`);
  return crashed.length ? 3 : failures.length ? 2 : mismatch ? 1 : 0;
}

export function replay(pos: string[], flags: Flags): number {
  const sc = loadByName(pos[0]);
  const token = pos[1];
  if (!token) throw new UsageError('replay: expected a token after the scenario (as printed by `mmsim explore`)');
  const [variant] = pickVariants(sc, flags.variant ?? Object.keys(sc.spec.variants)[0]) as [string];
  const o = exploreOptions(flags, sc.spec.explore);
  const r = replayToken(modelFor(sc.file, variant, params(flags)), token, o.maxSteps);
  const meta = { scenario: sc.spec.name, variant, token, verdict: r.verdict };
  for (const [flag, fn] of exporters.FILES) {
    const path = flags[flag];
    if (path) writeFileSync(path, fn(r.events, meta));
  }
  const state = kernelState(r.world.layout, (i) => r.world.mem[i] as number);
  if (flags.trace) writeFileSync(flags.trace, toJson(r.events, meta, state));
  if (flags['trace-schema']) writeFileSync(flags['trace-schema'], `${JSON.stringify(traceSchema(r.world.layout), null, 2)}\n`);
  if (flags.json) out(toJson(r.events, meta, state));
  else {
    out(toText(r.events));
    out(`verdict: ${r.verdict ? `${r.verdict.code}: ${r.verdict.message}` : 'ok'}`);
    if (!r.consumed) process.stderr.write('mmsim: the run ended with choices of the token left over: it does not fit this scenario variant\n');
  }
  return r.consumed ? 0 : 2;
}

/** The lock-order graph over all explored runs, and its cycles as lockdep splats. */
export function lockdep(pos: string[], flags: Flags): number {
  const sc = loadByName(pos[0]);
  const graph = new LockGraph();
  let names: readonly string[] = [];
  for (const variant of pickVariants(sc, flags.variant)) {
    const o = exploreOptions(flags, sc.spec.explore);
    const ps = params(flags);
    const model = modelFor(sc.file, variant, ps);
    names = model.classes;
    const base = { file: sc.file, variant, params: ps, seed: o.seed, prefix: [], maxSteps: o.maxSteps, maxStates: o.maxStates, depth: o.depth, k: 0, preemptions: o.preemptions, deadline: Number.POSITIVE_INFINITY, coverage: false, por: o.por };
    graph.merge({ edges: runTask(model, { ...base, kind: 'dfs', runStart: 0, runCount: 0 }).edges });
    graph.merge({ edges: runTask(model, { ...base, kind: 'random', runStart: 0, runCount: Math.min(o.runs, 1000) }).edges });
  }
  const cycles = graph.cycles();
  if (flags.dot) writeFileSync(flags.dot, exporters.dot(graph.edges, names, cycles));
  if (flags.json) out(JSON.stringify({ edges: graph.edges.map((e) => ({ from: names[e.from >> 2], to: names[e.to >> 2], ...e.origin })), cycles: cycles.map((c) => formatCycle(c, names)) }));
  else {
    out(`lock-order graph of ${sc.spec.name}: ${graph.edges.length} dependencies`);
    for (const e of graph.edges) out(`  ${names[e.from >> 2]} -> ${names[e.to >> 2]}   (${e.origin.thread} at ${e.origin.where})`);
    for (const c of cycles) out(`\n${formatCycle(c, names)}`);
    if (!cycles.length) out('no cycles');
  }
  return 0;
}
