/**
 * `mmsim lockdep`: one lock-order graph per scenario variant, built by the same exploration as
 * `mmsim explore` (so both agree), its cycles and hierarchy breaks as lockdep splats, and the
 * sleep-in-atomic and lock-misuse verdicts as the kernel prints them.
 */
import { writeFileSync } from 'node:fs';
import type { VerdictCode } from '../engine/events.js';
import { explore, type ExploreOptions, type ExploreResult } from '../explore/explore.js';
import { inlineRunner } from '../explore/pool.js';
import { replayToken } from '../explore/replayer.js';
import { runTask } from '../explore/task.js';
import { encodeToken } from '../explore/token.js';
import { LockGraph } from '../locks/lockdep.js';
import { classKeyName, formatCycle, formatViolation } from '../locks/splat.js';
import type { Scenario } from '../scenario/load.js';
import { verdictSplat } from '../trace/splats.js';
import { lockGraphToDot } from '../trace/index.js';
import { loadedOf, modelFor } from './worker.js';

/** The verdict kinds lockdep and might_sleep report. */
export const LOCKDEP_KINDS: readonly VerdictCode[] = ['potential-deadlock', 'sleep-in-atomic', 'lock-misuse'];

export interface LockdepReport {
  readonly scenario: string;
  readonly variant: string;
  readonly edges: { from: string; to: string; actor: string; step: number; at: string; stack: readonly string[] }[];
  /** Kernel-format splats: lock-order cycles, hierarchy breaks, then run verdicts. */
  readonly splats: { verdict: VerdictCode; text: string; token: string }[];
  /** Lockdep kinds found, and those the variant expects. */
  readonly found: VerdictCode[];
  readonly expected: VerdictCode[];
  readonly asExpected: boolean;
  readonly complete: boolean;
  /** The DOT of the graph (cycle edges marked), for --dot. */
  readonly dot: string;
}

/** Explore one variant as `mmsim explore` does and report its lock graph and lockdep findings. */
export async function lockdepVariant(sc: Scenario, variant: string, o: ExploreOptions, ps: Record<string, number>): Promise<LockdepReport> {
  const loaded = loadedOf(sc);
  const model = modelFor(sc.file, variant, ps, loaded);
  const v = sc.spec.variants[variant] as { expect: readonly VerdictCode[]; complete?: boolean };
  const graph = new LockGraph();
  const run = inlineRunner((t) => runTask(modelFor(t.file, t.variant, t.params, loaded), t));
  const target = { file: sc.file, variant, params: ps, model, expected: v.expect, mustComplete: v.complete === true, graph };
  const r: ExploreResult = await explore(target, o, run);
  const names = model.classes;
  const cycles = graph.cycles();
  const splats: LockdepReport['splats'] = [];
  for (const c of cycles) splats.push({ verdict: 'potential-deadlock', text: formatCycle(c, names), token: encodeToken(c.added.origin.choices) });
  for (const x of graph.violations) splats.push({ verdict: 'potential-deadlock', text: formatViolation(x, names), token: encodeToken(x.choices) });
  for (const f of r.findings) {
    if (f.verdict !== 'sleep-in-atomic' && f.verdict !== 'lock-misuse') continue;
    const rep = replayToken(model, f.token, o.maxSteps);
    const text = rep.verdict && verdictSplat(rep.verdict, rep.events);
    if (text) splats.push({ verdict: f.verdict, text, token: f.token });
  }
  const found = LOCKDEP_KINDS.filter((k) => splats.some((s) => s.verdict === k));
  const expected = LOCKDEP_KINDS.filter((k) => v.expect.includes(k));
  return {
    scenario: sc.spec.name,
    variant,
    edges: graph.edges.map((e) => ({
      from: classKeyName(names, e.from),
      to: classKeyName(names, e.to),
      actor: e.origin.thread,
      step: e.origin.step,
      at: e.origin.where,
      stack: e.origin.stack ?? [e.origin.where],
    })),
    splats,
    found,
    expected,
    asExpected: found.length === expected.length && found.every((k) => expected.includes(k)),
    complete: r.complete,
    dot: lockGraphToDot(graph.edges, names, cycles),
  };
}

/** The text `mmsim lockdep` prints for one variant. */
export function lockdepText(r: LockdepReport): string {
  const lines = [`lock-order graph of ${r.scenario}/${r.variant}: ${r.edges.length} dependenc${r.edges.length === 1 ? 'y' : 'ies'}${r.complete ? ' (every state explored)' : ''}`];
  for (const e of r.edges) lines.push(`  ${e.from} -> ${e.to}   (first seen: ${e.actor}, step ${e.step}, ${[...e.stack].reverse().join(' <- ')})`);
  for (const s of r.splats) lines.push(s.text, '', `  witness: ${s.token}`);
  if (!r.splats.length) lines.push('no cycles, no lock misuse, no sleeping in atomic context');
  const want = r.expected.join(', ') || 'none';
  lines.push(r.asExpected ? `as expected (${want})` : `NOT as expected: found ${r.found.join(', ') || 'none'}, the scenario expects ${want}`);
  return lines.join('\n');
}

/** Write the DOT of one or several variants' graphs (one `digraph` each). */
export function writeDot(file: string, reports: readonly LockdepReport[]): void {
  writeFileSync(file, reports.map((r) => r.dot).join('\n'));
}
