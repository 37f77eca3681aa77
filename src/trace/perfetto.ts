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
  const w = new Writer(meta);
  let last = 0;
  let verdictSeen = false;
  for (const g of groups(events)) {
    const first = g[0] as TraceEvent;
    last = Math.max(last, first.i);
    if (first.k === 'verdict') {
      verdictSeen = true;
      w.out.push(verdictEvent(first, first.i * US_PER_STEP, meta));
    } else w.group(w.track(first.t), g, first.i * US_PER_STEP);
  }
  const endTs = (last + 1) * US_PER_STEP;
  for (const tr of w.tracks.values()) while (tr.stack.length) w.end(tr, endTs);
  if (!verdictSeen) {
    const v = meta.verdict;
    w.out.push(verdictEvent({ k: 'verdict', i: v?.step ?? last + 1, code: v?.code ?? 'ok', message: v?.message ?? 'the run ended cleanly', t: v?.actor, at: v?.at }, endTs, meta));
  }
  const otherData = { scenario: meta.scenario, variant: meta.variant, token: meta.token, verdict: meta.verdict?.code ?? 'ok' };
  return `{"traceEvents":[\n${w.out.map((e) => JSON.stringify(e)).join(',\n')}\n],"displayTimeUnit":"ms","otherData":${JSON.stringify(otherData)}}\n`;
}

/** The trace events written so far and each thread's open slices; per thread, timestamps only go forward. */
class Writer {
  readonly out: Json[];
  readonly tracks = new Map<string, Track>();
  private readonly inbox = new Map<string, number[]>();
  private flows = 0;
  /** Middle of the current step slice: where message flows attach. */
  private mid = 0;

  constructor(meta: TraceMeta) {
    this.out = [{ name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: `mmsim ${meta.scenario}/${meta.variant}` } }];
  }

  track(name: string): Track {
    let tr = this.tracks.get(name);
    if (!tr) {
      tr = { tid: this.tracks.size + 1, cursor: -1, stack: [] };
      this.tracks.set(name, tr);
      this.out.push({ name: 'thread_name', ph: 'M', pid: PID, tid: tr.tid, args: { name } });
      this.out.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: tr.tid, args: { sort_index: tr.tid } });
    }
    return tr;
  }

  /** One step of one thread: wake-up and releases close slices first, then the step, then what it opened. */
  group(tr: Track, g: readonly TraceEvent[], base: number): void {
    this.close(tr, (o) => o.kind === 'blocked', base);
    for (const e of g) {
      if (e.k === 'lock' && e.op === 'release' && !this.close(tr, (o) => o.kind === 'lock' && o.key === `${e.lock}/${e.mode}`, base))
        this.instant(tr, `release ${e.lock} (not open)`, 'lock', base, {});
    }
    const step = g.find((e) => e.k === 'step');
    if (step) {
      const ts = this.at(tr, base + 1);
      const dur = Math.max(1, base + US_PER_STEP - 100 - ts);
      this.out.push({ name: step.at, cat: 'step', ph: 'X', ts, dur, pid: PID, tid: tr.tid, args: { step: step.i } });
      tr.cursor = ts + dur;
      this.mid = ts + Math.floor(dur / 2);
    }
    for (const e of g) this.event(tr, e, base);
  }

  private event(tr: Track, e: TraceEvent, base: number): void {
    const mode = 'mode' in e && e.mode === 'r' ? 'read' : 'write';
    switch (e.k) {
      case 'lock':
        if (e.op === 'acquire') this.begin(tr, { kind: 'lock', key: `${e.lock}/${e.mode}`, name: e.lock, cat: 'lock', args: { mode, step: e.i } }, base);
        else if (e.op === 'block') this.begin(tr, { kind: 'blocked', key: e.lock, name: `blocked on ${e.lock}`, cat: 'wait', args: { lock: e.lock, mode, step: e.i } }, base);
        else if (e.op !== 'release') this.instant(tr, `${e.op} ${e.lock}`, 'lock', base, { lock: e.lock, mode, step: e.i });
        break;
      case 'call':
        this.begin(tr, { kind: 'call', key: e.proc, name: e.proc, cat: 'call', args: { args: e.args, step: e.i } }, base);
        break;
      case 'ret':
        if (!this.close(tr, (o) => o.kind === 'call' && o.key === e.proc, base)) this.instant(tr, `${e.proc} returned ${e.rv}`, 'call', base, { rv: e.rv, step: e.i });
        break;
      case 'send': {
        const id = ++this.flows;
        this.inbox.set(e.to, [...(this.inbox.get(e.to) ?? []), id]);
        this.out.push({ name: 'message', cat: 'msg', ph: 's', id, ts: this.mid, pid: PID, tid: tr.tid });
        this.instant(tr, e.name ? `${e.reply ? 'reply' : 'send'} ${e.name} to ${e.to}` : `send to ${e.to}`, 'msg', base, e.name ? { ...e.fields, delivery: e.id, step: e.i } : { msg: e.msg, step: e.i });
        break;
      }
      case 'recv': {
        const id = this.inbox.get(e.t)?.shift();
        if (id !== undefined) this.out.push({ name: 'message', cat: 'msg', ph: 'f', bp: 'e', id, ts: this.mid, pid: PID, tid: tr.tid });
        this.instant(tr, e.name ? `recv ${e.name} from ${e.from}` : 'recv', 'msg', base, e.name ? { ...e.fields, delivery: e.id, step: e.i } : { msg: e.msg, step: e.i });
        break;
      }
      case 'fence':
        this.instant(tr, `fence ${e.op} ${e.fence}`, 'fence', base, { step: e.i });
        break;
      case 'note':
        this.instant(tr, e.text, 'note', base, { step: e.i });
        break;
    }
  }

  private at(tr: Track, min: number): number {
    tr.cursor = Math.max(tr.cursor + 1, min);
    return tr.cursor;
  }

  private begin(tr: Track, o: Open, ts: number): void {
    tr.stack.push(o);
    this.out.push({ name: o.name, cat: o.cat, ph: 'B', ts: this.at(tr, ts), pid: PID, tid: tr.tid, args: o.args });
  }

  end(tr: Track, ts: number): void {
    tr.stack.pop();
    this.out.push({ ph: 'E', ts: this.at(tr, ts), pid: PID, tid: tr.tid });
  }

  /** Close the topmost open slice matching `pred`, reopening the slices above it; false if none matches. */
  private close(tr: Track, pred: (o: Open) => boolean, ts: number): boolean {
    let idx = tr.stack.length - 1;
    while (idx >= 0 && !pred(tr.stack[idx] as Open)) idx--;
    if (idx < 0) return false;
    const above = tr.stack.slice(idx + 1);
    for (let n = tr.stack.length; n > idx; n--) this.end(tr, ts);
    for (const o of above) this.begin(tr, o, ts);
    return true;
  }

  private instant(tr: Track, name: string, cat: string, ts: number, args: Json): void {
    this.out.push({ name, cat, ph: 'i', s: 't', ts: this.at(tr, ts), pid: PID, tid: tr.tid, args });
  }
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
