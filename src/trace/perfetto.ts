/**
 * The trace as Chrome/Perfetto trace-event JSON: one process, one thread per actor, virtual time of
 * 1000 µs per step. Steps are complete slices; lock holds, calls and blocked waits are B/E slices
 * kept properly nested per thread (a release out of LIFO order closes and reopens what it crosses).
 */
import type { TraceEvent } from '../engine/events.js';
import type { TraceMeta } from './json.js';

const US_PER_STEP = 1000;
const PID = 1;

type Json = Record<string, unknown>;

interface Open {
  readonly kind: 'lock' | 'call' | 'blocked';
  readonly key: string;
  readonly name: string;
  readonly cat: string;
  readonly args: Json;
}

interface Track {
  readonly tid: number;
  cursor: number;
  readonly stack: Open[];
}

/** Perfetto/Chrome trace-event JSON (`{"traceEvents":[...]}`) of one replayed run. */
export function toPerfetto(events: readonly TraceEvent[], meta: TraceMeta): string {
  const out: Json[] = [{ name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: `mmsim ${meta.scenario}/${meta.variant}` } }];
  const tracks = new Map<string, Track>();
  const track = (name: string): Track => {
    let tr = tracks.get(name);
    if (!tr) {
      tr = { tid: tracks.size + 1, cursor: -1, stack: [] };
      tracks.set(name, tr);
      out.push({ name: 'thread_name', ph: 'M', pid: PID, tid: tr.tid, args: { name } });
      out.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: tr.tid, args: { sort_index: tr.tid } });
    }
    return tr;
  };
  const at = (tr: Track, min: number): number => (tr.cursor = Math.max(tr.cursor + 1, min));
  const begin = (tr: Track, o: Open, ts: number) => {
    tr.stack.push(o);
    out.push({ name: o.name, cat: o.cat, ph: 'B', ts: at(tr, ts), pid: PID, tid: tr.tid, args: o.args });
  };
  const end = (tr: Track, ts: number) => {
    tr.stack.pop();
    out.push({ ph: 'E', ts: at(tr, ts), pid: PID, tid: tr.tid });
  };
  /** Close the topmost open slice matching `pred`, reopening any slices above it; false if none. */
  const close = (tr: Track, pred: (o: Open) => boolean, ts: number): boolean => {
    let idx = tr.stack.length - 1;
    while (idx >= 0 && !pred(tr.stack[idx] as Open)) idx--;
    if (idx < 0) return false;
    const above = tr.stack.slice(idx + 1);
    for (let n = tr.stack.length; n > idx; n--) end(tr, ts);
    for (const o of above) begin(tr, o, ts);
    return true;
  };
  const instant = (tr: Track, name: string, cat: string, ts: number, args: Json) =>
    out.push({ name, cat, ph: 'i', s: 't', ts: at(tr, ts), pid: PID, tid: tr.tid, args });
  const inbox = new Map<string, number[]>();
  let flows = 0;
  let last = 0;
  let verdictSeen = false;
  let mid = 0;

  for (const g of groups(events)) {
    const first = g[0] as TraceEvent;
    const base = first.i * US_PER_STEP;
    last = Math.max(last, first.i);
    if (first.k === 'verdict') {
      verdictSeen = true;
      out.push(verdictEvent(first, base, meta));
      continue;
    }
    const tr = track(first.t);
    close(tr, (o) => o.kind === 'blocked', base);
    for (const e of g) {
      if (e.k !== 'lock' || e.op !== 'release') continue;
      if (!close(tr, (o) => o.kind === 'lock' && o.key === `${e.lock}/${e.mode}`, base)) instant(tr, `release ${e.lock} (not open)`, 'lock', base, {});
    }
    const step = g.find((e) => e.k === 'step');
    if (step) {
      const ts = at(tr, base + 1);
      const dur = Math.max(1, base + US_PER_STEP - 100 - ts);
      out.push({ name: step.at, cat: 'step', ph: 'X', ts, dur, pid: PID, tid: tr.tid, args: { step: step.i } });
      tr.cursor = ts + dur;
      mid = ts + Math.floor(dur / 2);
    }
    for (const e of g) {
      switch (e.k) {
        case 'lock':
          if (e.op === 'acquire') begin(tr, { kind: 'lock', key: `${e.lock}/${e.mode}`, name: e.lock, cat: 'lock', args: { mode: e.mode === 'r' ? 'read' : 'write', step: e.i } }, base);
          else if (e.op === 'block') begin(tr, { kind: 'blocked', key: e.lock, name: `blocked on ${e.lock}`, cat: 'wait', args: { lock: e.lock, mode: e.mode === 'r' ? 'read' : 'write', step: e.i } }, base);
          else if (e.op !== 'release') instant(tr, `${e.op} ${e.lock}`, 'lock', base, { lock: e.lock, step: e.i });
          break;
        case 'call':
          begin(tr, { kind: 'call', key: e.proc, name: e.proc, cat: 'call', args: { args: e.args, step: e.i } }, base);
          break;
        case 'ret':
          if (!close(tr, (o) => o.kind === 'call' && o.key === e.proc, base)) instant(tr, `${e.proc} returned ${e.rv}`, 'call', base, { rv: e.rv, step: e.i });
          break;
        case 'send': {
          const id = ++flows;
          const q = inbox.get(e.to) ?? [];
          inbox.set(e.to, [...q, id]);
          out.push({ name: 'message', cat: 'msg', ph: 's', id, ts: mid, pid: PID, tid: tr.tid });
          instant(tr, `send to ${e.to}`, 'msg', base, { msg: e.msg, step: e.i });
          break;
        }
        case 'recv': {
          const id = inbox.get(e.t)?.shift();
          if (id !== undefined) out.push({ name: 'message', cat: 'msg', ph: 'f', bp: 'e', id, ts: mid, pid: PID, tid: tr.tid });
          instant(tr, 'recv', 'msg', base, { msg: e.msg, step: e.i });
          break;
        }
        case 'note':
          instant(tr, e.text, 'note', base, { step: e.i });
          break;
      }
    }
  }
  const endTs = (last + 1) * US_PER_STEP;
  for (const tr of tracks.values()) while (tr.stack.length) end(tr, endTs);
  if (!verdictSeen) {
    const v = meta.verdict;
    out.push(verdictEvent({ k: 'verdict', i: v?.step ?? last + 1, code: v?.code ?? 'ok', message: v?.message ?? 'the run ended cleanly', t: v?.actor, at: v?.at }, endTs, meta));
  }
  const otherData = { scenario: meta.scenario, variant: meta.variant, token: meta.token, verdict: meta.verdict?.code ?? 'ok' };
  return `{"traceEvents":[\n${out.map((e) => JSON.stringify(e)).join(',\n')}\n],"displayTimeUnit":"ms","otherData":${JSON.stringify(otherData)}}\n`;
}

/** Consecutive events of the same step and actor (a verdict is a group of its own). */
function groups(events: readonly TraceEvent[]): TraceEvent[][] {
  const gs: TraceEvent[][] = [];
  let cur: TraceEvent[] = [];
  for (const e of events) {
    const prev = cur[0];
    if (prev && (e.k === 'verdict' || prev.k === 'verdict' || prev.i !== e.i || prev.t !== e.t || e.k === 'step')) {
      gs.push(cur);
      cur = [];
    }
    cur.push(e);
  }
  if (cur.length) gs.push(cur);
  return gs;
}

/** The verdict as a global instant event, with everything needed to reproduce it in its args. */
function verdictEvent(v: Extract<TraceEvent, { k: 'verdict' }>, ts: number, meta: TraceMeta): Json {
  const replay = `mmsim replay ${meta.scenario} ${meta.token} --variant ${meta.variant}`;
  const args = { code: v.code, message: v.message, actor: v.t ?? null, at: v.at ?? null, step: v.i, token: meta.token, replay };
  return { name: `verdict: ${v.code}`, cat: 'verdict', ph: 'i', s: 'g', ts, pid: PID, tid: 0, args };
}
