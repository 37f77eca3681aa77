/** The `mmsim` commands. Each returns its exit code; output goes to stdout, diagnostics to stderr. */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { VerdictCode } from '../engine/events.js';
import { explore, type ExploreResult } from '../explore/explore.js';
import { replayToken } from '../explore/replayer.js';
import { catalogueFiles } from '../scenario/catalogue.js';
import { withParams } from '../scenario/generate.js';
import { loadScenarioFile, type Scenario, scenarioWarnings } from '../scenario/load.js';
import { toJson } from '../trace/json.js';
import { lockOrder } from '../trace/lockorder.js';
import { stateRecorder } from '../trace/state.js';
import { toText } from '../trace/text.js';
import { type LockdepReport, lockdepText, lockdepVariant, writeDot } from './lockdep.js';
import { exploreOptions, type Flags, int, params, UsageError } from './args.js';
import { progressBar } from './progress.js';
import { loadByName, makeRunner, pickVariants, warmTask } from './session.js';
import { version } from './program.js';
import { editorSchema } from './schema.js';
import { junit, type Reported, sarif } from './reports.js';
import { coverage, details, table } from './table.js';
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

export function check(pos: string[], flags: Flags): number {
  const sc = withParams(loadByName(pos[0]), params(flags));
  for (const w of scenarioWarnings(sc))
    process.stderr.write(`${shown(sc.file)}${w.line ? `:${w.line}:${w.column ?? 1}` : ''}: warning: ${w.path}: ${w.message}\n`);
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
    return explore(target, { ...exploreOptions(flags, sc.spec.explore), labels: flags.coverage === true }, runner.run, progress$).catch((e: unknown) => {
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
  const results: Reported[] = [];
  const report = (r: ExploreResult, file: string) => {
    r.strategy = r.strategy + (workers > 1 ? ` x${workers}` : '');
    results.push({ r, file });
    if (flags.json && !flags['json-array']) out(JSON.stringify(r));
  };
  if (workers > 1 && jobs[0]) {
    // Start the pool and build the models before any clock starts: start-up is reported, not budgeted.
    const t = Date.now();
    await runner.run(jobs.map(({ sc, variant }) => warmTask(sc.file, variant, ps)), () => {});
    process.stderr.write(`mmsim: pool of ${workers} workers started in ${Date.now() - t} ms (not counted in the budget)\n`);
  }
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
  if (flags['json-array']) out(JSON.stringify(results.map((x) => x.r)));
  else if (!flags.json) {
    out(table(results.map((x) => x.r)));
    for (const { r, file } of results) if (r.findings.length) out(`\n${details(r, file)}`);
    if (flags.coverage) for (const { r } of results) out(`\n${coverage(r)}`);
    out(`\n${results.filter((x) => x.r.matchesExpectation).length} of ${results.length} variants as expected`);
  }
  if (flags.junit) writeFileSync(flags.junit, junit(results));
  if (flags.sarif) writeFileSync(flags.sarif, sarif(results, version()));
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
  const model = modelFor(sc.file, variant, params(flags));
  // The viewer's state panel needs a snapshot per step: recorded only when an HTML file is asked for.
  const rec = flags.html ? stateRecorder() : null;
  const r = replayToken(model, token, o.maxSteps, undefined, rec?.observe);
  const meta = { scenario: sc.spec.name, variant, token, verdict: r.verdict };
  const extras = { states: rec?.states, lockOrder: lockOrder(r.graph, model.classes) };
  for (const [flag, fn] of exporters.FILES) {
    const path = flags[flag];
    if (path) writeFileSync(path, fn(r.events, meta, extras, path));
  }
  if (flags.trace) writeFileSync(flags.trace, toJson(r.events, meta));
  if (flags.json) out(toJson(r.events, meta));
  else {
    out(toText(r.events));
    out(`verdict: ${r.verdict ? `${r.verdict.code}: ${r.verdict.message}` : 'ok'}`);
    if (!r.consumed) process.stderr.write('mmsim: the run ended with choices of the token left over: it does not fit this scenario variant\n');
  }
  return r.consumed ? 0 : 2;
}

/** One lock-order graph per variant (or per catalogue variant with --all); exit 1 if a splat is not expected. */
export async function lockdep(pos: string[], flags: Flags): Promise<number> {
  if (flags.all && pos.length) throw new UsageError('lockdep --all takes no scenario name');
  const targets = flags.all ? catalogueFiles().map((f) => loadScenarioFile(f)) : [loadByName(pos[0])];
  const ps = params(flags);
  if (flags.all && Object.keys(ps).length) throw new UsageError('--param applies to one generated scenario, not to --all');
  for (const sc of targets) {
    exploreOptions(flags, sc.spec.explore);
    withParams(sc, ps);
  }
  const reports: LockdepReport[] = [];
  for (const sc of targets)
    for (const variant of pickVariants(sc, flags.all ? undefined : flags.variant)) {
      const r = await lockdepVariant(sc, variant, exploreOptions(flags, sc.spec.explore), ps);
      reports.push(r);
      if (flags.json) {
        const { dot: _, ...rec } = r;
        out(JSON.stringify(rec));
      } else out(`${lockdepText(r)}\n`);
    }
  if (flags.dot) writeDot(flags.dot, reports);
  return reports.every((r) => r.asExpected) ? 0 : 1;
}

/** The JSON Schema of scenario files; with a scenario, its variants described. */
export function schema(pos: string[]): number {
  out(JSON.stringify(editorSchema(version(), pos[0] ? loadByName(pos[0]) : undefined), null, 2));
  return 0;
}
