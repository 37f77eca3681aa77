/**
 * Perfetto export against the Trace Event Format's required fields (no trace processor ships in a
 * package here): every event of every phase we write carries what the format requires of it.
 */
import { describe, expect, it } from 'vitest';
import { exploreOptions } from '../../src/cli/args.js';
import { modelFor } from '../../src/cli/worker.js';
import { explore } from '../../src/explore/explore.js';
import { inlineRunner } from '../../src/explore/pool.js';
import { replayToken } from '../../src/explore/replayer.js';
import { runTask } from '../../src/explore/task.js';
import { catalogueFiles } from '../../src/scenario/catalogue.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { toPerfetto } from '../../src/trace/perfetto.js';
import { abbaDeadlock, messagingTrace } from './fixtures.js';

type Ev = Record<string, unknown>;
const METADATA = ['process_name', 'process_labels', 'process_sort_index', 'thread_name', 'thread_sort_index'];

/** The format's requirements by phase; returns every violation found. */
function violations(doc: unknown): string[] {
  const out: string[] = [];
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { traceEvents?: unknown }).traceEvents)) return ['no traceEvents array'];
  const d = doc as { traceEvents: Ev[]; displayTimeUnit?: unknown };
  if (d.displayTimeUnit !== undefined && d.displayTimeUnit !== 'ms' && d.displayTimeUnit !== 'ns') out.push(`displayTimeUnit ${String(d.displayTimeUnit)}`);
  for (const [n, e] of d.traceEvents.entries()) {
    const bad = (m: string) => out.push(`event ${n} (${JSON.stringify(e).slice(0, 80)}): ${m}`);
    if (typeof e.ph !== 'string' || !/^[BEXiIMbnestfCOPND(),R]$/.test(e.ph)) {
      bad('ph missing or unknown');
      continue;
    }
    if (!Number.isInteger(e.pid)) bad('pid must be an integer');
    if (!Number.isInteger(e.tid)) bad('tid must be an integer');
    if (e.ph !== 'E' && (typeof e.name !== 'string' || e.name === '')) bad('name required');
    if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null || Array.isArray(e.args))) bad('args must be an object');
    if (e.ph === 'M') {
      if (!METADATA.includes(e.name as string)) bad(`unknown metadata ${String(e.name)}`);
      if (typeof e.args !== 'object') bad('metadata needs args');
      continue;
    }
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) bad('ts (microseconds) required');
    if (e.ph === 'X' && (typeof e.dur !== 'number' || e.dur < 0)) bad('X needs dur >= 0');
    if ((e.ph === 'i' || e.ph === 'I') && e.s !== undefined && !['g', 'p', 't'].includes(e.s as string)) bad('instant scope must be g, p or t');
    if ('bnestf'.includes(e.ph) && e.id === undefined && e.id2 === undefined) bad('async and flow events need an id');
    if ('bne'.includes(e.ph) && typeof e.cat !== 'string') bad('async events need a cat');
  }
  return out;
}

describe('Perfetto trace-event format', () => {
  it('the validator rejects what the format forbids', () => {
    expect(violations({})).toEqual(['no traceEvents array']);
    expect(violations({ traceEvents: [{ ph: 'X', pid: 1, tid: 1, name: 'a', ts: 1 }] })).toHaveLength(1);
    expect(violations({ traceEvents: [{ ph: 'B', pid: 1, tid: 1, ts: 1 }] })).toHaveLength(1);
    expect(violations({ traceEvents: [{ ph: 'Q', pid: 1, tid: 1 }] })).toHaveLength(1);
  });

  it('fixture traces and every catalogue witness carry the required fields', async () => {
    const traces = [abbaDeadlock(), messagingTrace()].map((t) => toPerfetto(t.events, t.meta));
    // Every finding of every catalogue variant, replayed from the token explore gives.
    const run = inlineRunner((t) => runTask(modelFor(t.file, t.variant, t.params), t));
    for (const file of catalogueFiles()) {
      const sc = loadScenarioFile(file);
      for (const [variant, v] of Object.entries(sc.spec.variants)) {
        const model = modelFor(file, variant);
        const o = exploreOptions({}, sc.spec.explore);
        const r = await explore({ file, variant, model, expected: v.expect, mustComplete: false }, o, run);
        for (const f of r.findings) {
          const rep = replayToken(model, f.token, o.maxSteps);
          traces.push(toPerfetto(rep.events, { scenario: sc.spec.name, variant, token: f.token, verdict: rep.verdict }));
        }
      }
    }
    expect(traces.length).toBeGreaterThan(10);
    for (const t of traces) expect(violations(JSON.parse(t))).toEqual([]);
  }, 60_000);
});
