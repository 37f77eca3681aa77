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
import { kernelState, traceSchema } from '../trace/kernel-state.js';
import { toText } from '../trace/text.js';
import { exploreOptions, type Flags, int, params, runLimits, UsageError } from './args.js';
import { type LockdepReport, lockdepText, lockdepVariant, writeDot } from './lockdep.js';
import { version } from './program.js';
import { junit, sarif } from './reports.js';
import { failedResult, out, RowPrinter } from './rows.js';
import { editorSchema } from './schema.js';
import { loadByName, makeRunner, pickVariants, warmTasks } from './session.js';
import { progressBar } from './progress.js';
import { onStopSignals } from './signals.js';
import { loadedOf, modelFor } from './worker.js';
import * as exporters from './exporters.js';
import { protocolMermaid, protocolXstateJson } from '../../machines/draw.js';
import type { Protocol } from '../../machines/protocol.js';
import { BUILTIN_PROTOCOLS } from '../../machines/rpc.js';

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
  const maxBytes = runLimits(flags).maxFileBytes;
  const sc = withParams(loadByName(pos[0], maxBytes), params(flags));
  for (const w of scenarioWarnings(sc, maxBytes))
    process.stderr.write(`${shown(sc.file)}${w.line ? `:${w.line}:${w.column ?? 1}` : ''}: warning: ${w.path}: ${w.message}\n`);
  out(`${shown(sc.file)}: valid (${Object.keys(sc.spec.variants).length} variants)`);
  return 0;
}

/** Explore one scenario (or, with --all, the catalogue); exit 1 if any variant's verdicts differ. */
export async function exploreCmd(pos: string[], flags: Flags): Promise<number> {
  const workers = int('workers', flags.workers, 1, 256) ?? 1;
  const ps = params(flags);
  if (flags.all && pos.length) throw new UsageError('explore --all takes no scenario name');
  if (flags.all && Object.keys(ps).length) throw new UsageError('--param applies to one generated scenario, not to --all');
  const targets: Scenario[] = [];
  // Every worker count runs tasks on pool threads: this thread stays free for signals and task limits.
  // The threads start (and load their modules) while this thread loads and validates the scenarios.
  const runner = makeRunner(workers, { pool: true, scenarios: targets });
  try {
    return await exploreTargets(pos, flags, workers, ps, targets, runner);
  } finally {
    await runner.close();
  }
}

/** exploreCmd once its runner is started: load the targets into `targets`, explore their variants. */
async function exploreTargets(pos: string[], flags: Flags, workers: number, ps: Record<string, number>, targets: Scenario[], runner: ReturnType<typeof makeRunner>): Promise<number> {
  const limits = runLimits(flags);
  const failures: string[] = [];
  if (flags.all) {
    for (const f of catalogueFiles()) {
      try {
        targets.push(loadScenarioFile(f, limits.maxFileBytes));
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  } else targets.push(loadByName(pos[0], limits.maxFileBytes));
  for (const sc of targets) {
    exploreOptions(flags, sc.spec.explore); // bad flags and parameters fail before any output
    withParams(sc, ps);
  }
  const jobs = targets.flatMap((sc) => pickVariants(sc, flags.all ? undefined : flags.variant).map((variant) => ({ sc, variant })));
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const keys = jobs.map(({ sc, variant }) => ({ scenario: sc.spec.name, variant, expected: sc.spec.variants[variant]?.expect ?? [] }));
  const rows = new RowPrinter(keys, {
    json: flags.json === true,
    jsonArray: flags['json-array'] === true,
    coverage: flags.coverage === true,
    workers,
    reports: (done) => {
      if (flags.junit) writeFileSync(flags.junit, junit(done));
      if (flags.sarif) writeFileSync(flags.sarif, sarif(done, version()));
    },
  });
  const exploreJob = async (i: number, progress$?: Parameters<typeof explore>[3]): Promise<void> => {
    const { sc, variant } = jobs[i] as (typeof jobs)[number];
    const v = sc.spec.variants[variant] as { expect: readonly VerdictCode[]; complete?: boolean };
    const o = { ...exploreOptions(flags, sc.spec.explore), labels: flags.coverage === true, stop };
    const t0 = Date.now();
    let r: ExploreResult;
    try {
      const model = modelFor(sc.file, variant, ps, loadedOf(sc));
      const built = Date.now() - t0;
      const target = { file: sc.file, variant, params: ps, model, expected: v.expect, mustComplete: v.complete === true };
      r = await explore(target, o, runner.run, progress$);
      r.startupMs = poolStartMs + built;
      if (model.reduction) {
        r.warnings = [...model.reduction.warnings];
        for (const w of r.warnings) process.stderr.write(`mmsim: ${shown(sc.file)} / ${variant}: warning: ${w}\n`);
      }
    } catch (e) {
      // A model that throws or a task past its time limit fails its own variant, not the others.
      if (e instanceof UsageError) throw e;
      r = failedResult(sc.spec.name, variant, v.expect, o, Date.now() - t0, `${(e as Error)?.message ?? e}`);
    }
    // A variant that had not started when a signal came is left out, not shown as explored.
    if (r.stoppedBy === 'signal' && r.runs === 0 && r.findings.length === 0) return;
    rows.done(i, r, shown(sc.file));
  };
  let poolStartMs = 0;
  const signals = onStopSignals(stop, (sig) => rows.finish(failures, sig));
  try {
    if (jobs[0]) {
      // Start the pool and build the models before any clock starts: start-up is reported, not budgeted.
      const t = Date.now();
      await runner.run(warmTasks(workers, jobs.map(({ sc, variant }) => ({ file: sc.file, variant, params: ps, loaded: loadedOf(sc) }))), () => {});
      poolStartMs = Date.now() - t;
      if (workers > 1) process.stderr.write(`mmsim: pool of ${workers} workers started in ${poolStartMs} ms (not counted in the budget)\n`);
    }
    if (workers > 1) {
      // All variants at once: the pool interleaves their tasks; rows print in catalogue order as they finish.
      // Each variant's first tasks go to the pool before the next variant's model and tasks are made.
      const started: Promise<void>[] = [];
      for (let i = 0; i < jobs.length; i++) {
        const job = exploreJob(i);
        job.catch(() => {}); // awaited below; a rejection is not unhandled while the others start
        started.push(job);
        await new Promise<void>((ok) => setImmediate(ok));
      }
      await Promise.all(started);
    } else {
      for (let i = 0; i < jobs.length && !signals.received(); i++) {
        const bar = progressBar(`${jobs[i]?.sc.spec.name}/${jobs[i]?.variant}`);
        await exploreJob(i, bar.progress$).finally(() => bar.stop());
      }
    }
  } finally {
    signals.dispose();
  }
  return rows.finish(failures, signals.received());
}

export function replay(pos: string[], flags: Flags): number {
  const sc = loadByName(pos[0], runLimits(flags).maxFileBytes);
  const token = pos[1];
  if (!token) throw new UsageError('replay: expected a token after the scenario (as printed by `mmsim explore`)');
  const [variant] = pickVariants(sc, flags.variant ?? Object.keys(sc.spec.variants)[0]) as [string];
  const o = exploreOptions(flags, sc.spec.explore);
  const model = modelFor(sc.file, variant, params(flags), loadedOf(sc));
  // The viewer's state panel needs a snapshot per step: recorded only when an HTML file is asked for.
  const rec = flags.html ? stateRecorder() : null;
  const r = replayToken(model, token, o.maxSteps, undefined, rec?.observe);
  const meta = { scenario: sc.spec.name, variant, token, verdict: r.verdict };
  const extras = { states: rec?.states, lockOrder: lockOrder(r.graph, model.classes) };
  for (const [flag, fn] of exporters.FILES) {
    const path = flags[flag];
    if (path) writeFileSync(path, fn(r.events, meta, extras, path));
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

/** One lock-order graph per variant (or per catalogue variant with --all); exit 1 if a splat is not expected. */
export async function lockdep(pos: string[], flags: Flags): Promise<number> {
  if (flags.all && pos.length) throw new UsageError('lockdep --all takes no scenario name');
  const maxBytes = runLimits(flags).maxFileBytes;
  const targets = flags.all ? catalogueFiles().map((f) => loadScenarioFile(f, maxBytes)) : [loadByName(pos[0], maxBytes)];
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
export function schema(pos: string[], flags: Flags = {}): number {
  out(JSON.stringify(editorSchema(version(), pos[0] ? loadByName(pos[0], runLimits(flags).maxFileBytes) : undefined), null, 2));
  return 0;
}

/** Each actor's protocol machine (or, with no scenario, the built-in ones) as Mermaid and as xstate JSON. */
export function machines(pos: string[], flags: Flags): number {
  const items: { actor: string | null; protocol: Protocol }[] = [];
  if (pos[0] === undefined) for (const p of Object.values(BUILTIN_PROTOCOLS)) items.push({ actor: null, protocol: p });
  else {
    const sc = loadByName(pos[0]);
    const [variant] = pickVariants(sc, flags.variant ?? Object.keys(sc.spec.variants)[0]) as [string];
    const model = modelFor(sc.file, variant, params(flags), loadedOf(sc));
    model.protocols.forEach((p, t) => {
      if (p) items.push({ actor: model.threads[t]?.name ?? `thread${t}`, protocol: p });
    });
  }
  const shown = items.map(({ actor, protocol: p }) => ({ actor, protocol: p.name, vocabulary: p.vocab.name, mermaid: protocolMermaid(p), xstate: JSON.parse(protocolXstateJson(p)) }));
  if (flags.json) out(JSON.stringify(shown, null, 2));
  else
    for (const s of shown) {
      out(`## ${s.actor ? `${s.actor}: protocol ${s.protocol}` : `protocol ${s.protocol}`} (messages: ${s.vocabulary})\n`);
      out(`\`\`\`mermaid\n${s.mermaid}\`\`\`\n`);
      out(`\`\`\`json\n${JSON.stringify(s.xstate, null, 2)}\n\`\`\`\n`);
    }
  if (!shown.length) process.stderr.write('mmsim: no actor of this scenario speaks a protocol\n');
  return 0;
}
