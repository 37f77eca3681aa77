/**
 * Perfetto export against the Trace Event Format's required fields (no trace processor ships in a
 * package here): every event of every phase we write carries what the format requires of it.
 */
import { describe, expect, it } from 'vitest';
import { modelFor } from '../../src/cli/worker.js';
import { replayToken } from '../../src/explore/replayer.js';
import { catalogueFiles } from '../../src/scenario/catalogue.js';
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

  it('fixture traces and every catalogue witness carry the required fields', () => {
    const traces = [abbaDeadlock(), messagingTrace()].map((t) => toPerfetto(t.events, t.meta));
    const witnesses: [string, string, string][] = [
      ['uffd-remap-vs-khugepaged', 'khugepaged-mmap-read', 'v1.0.t.1.6.01.a.01.5.0.4.110.8.'],
      ['mm-hmm-vs-punch', 'no-read-retry', 'v1.0.b.1.a.0.6.'],
      ['uffd-remap-vs-khugepaged', 'khugepaged-mmap-read', 'v1.0.m.1.1d.'],
    ];
    for (const [name, variant, token] of witnesses) {
      const file = catalogueFiles().find((f) => f.endsWith(`/${name}.yaml`)) as string;
      const r = replayToken(modelFor(file, variant), token, 800);
      expect(r.verdict, `${name} ${token}`).not.toBeNull();
      traces.push(toPerfetto(r.events, { scenario: name, variant, token, verdict: r.verdict }));
    }
    for (const t of traces) expect(violations(JSON.parse(t))).toEqual([]);
  });
});
