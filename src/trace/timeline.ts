/**
 * The viewer's timeline as data: a lane per actor, a mark per event at its step (time is the step
 * number), lock holds and blocked waits as bars under the lanes, and an arrow for every message
 * delivery from its send to its receive. A receive is matched to its send by delivery id when the
 * events carry one, else to the oldest unmatched send between the same pair (receiver only when the
 * receive does not name its sender): mailboxes are FIFO.
 */
import { argsText, type TraceEvent } from '../engine/events.js';

export interface Mark {
  /** Index of the event in the trace. */
  readonly ev: number;
  readonly lane: number;
  readonly step: number;
  readonly kind: string;
  readonly label: string;
}

export interface Bar {
  readonly lane: number;
  readonly lock: string;
  readonly from: number;
  /** Step the hold or wait ended at; the run's last step + 1 when it never did. */
  readonly to: number;
  readonly kind: 'held' | 'blocked';
  /** Nesting depth among this lane's bars (0 = outermost). */
  readonly level: number;
}

export interface Arrow {
  readonly from: number;
  readonly to: number;
  readonly sendStep: number;
  readonly recvStep: number;
  readonly send: number;
  readonly recv: number;
  readonly label: string;
}

export interface Timeline {
  readonly actors: readonly string[];
  readonly steps: number;
  readonly marks: readonly Mark[];
  readonly bars: readonly Bar[];
  readonly arrows: readonly Arrow[];
  /** Event index and step of the verdict, if the run ended in one. */
  readonly verdict: { readonly ev: number; readonly step: number } | null;
}

type Msg = {
  readonly name?: string;
  readonly fields?: Readonly<Record<string, number>>;
  readonly id?: number | string;
  readonly from?: string;
  readonly msg?: readonly number[];
};
/** A typed message as `Name(field=v, ...)`, an untyped one as `msg(type,a,b)`. */
const msgLabel = (e: Msg): string =>
  e.name !== undefined
    ? `${e.name}(${Object.entries(e.fields ?? {})
        .map(([f, v]) => `${f}=${v}`)
        .join(', ')})`
    : e.msg
      ? `msg(${e.msg.join(',')})`
      : 'msg';

function label(e: TraceEvent): string {
  switch (e.k) {
    case 'step':
      return e.at;
    case 'lock':
      return `${e.op} ${e.lock}${e.mode === 'r' ? ' (read)' : ''}`;
    case 'call':
      return `call ${e.proc}(${argsText(e.args)})`;
    case 'ret':
      return `ret ${e.proc} = ${e.rv}`;
    case 'send':
      return `send ${msgLabel(e as Msg)} to ${e.to}`;
    case 'recv':
      return `recv ${msgLabel(e as Msg)}`;
    case 'note':
      return e.text;
    case 'fence':
      return `fence ${e.op} ${e.fence}`;
    case 'verdict':
      return `${e.code}: ${e.message}`;
  }
}

interface Open {
  readonly from: number;
  readonly kind: 'held' | 'blocked';
  readonly lock: string;
  readonly level: number;
}

/** Lock holds and waits per lane, from acquire/block/release events. */
function bars(events: readonly TraceEvent[], lane: (a: string) => number, end: number): Bar[] {
  const out: Bar[] = [];
  const open = new Map<number, Open[]>();
  const close = (l: number, lock: string, kind: 'held' | 'blocked', at: number) => {
    const list = open.get(l) ?? [];
    let i = list.length - 1;
    while (i >= 0 && !((list[i] as Open).lock === lock && (list[i] as Open).kind === kind)) i--;
    if (i < 0) return;
    const [o] = list.splice(i, 1) as [Open];
    out.push({ lane: l, lock, from: o.from, to: at, kind, level: o.level });
  };
  const free = (list: readonly Open[]) => {
    let n = 0;
    while (list.some((o) => o.level === n)) n++;
    return n;
  };
  for (const e of events) {
    if (e.k !== 'lock') continue;
    const l = lane(e.t);
    const list = open.get(l) ?? [];
    open.set(l, list);
    if (e.op === 'acquire') {
      close(l, e.lock, 'blocked', e.i);
      list.push({ from: e.i, kind: 'held', lock: e.lock, level: free(list) });
    } else if (e.op === 'block') {
      if (!list.some((o) => o.kind === 'blocked' && o.lock === e.lock)) list.push({ from: e.i, kind: 'blocked', lock: e.lock, level: free(list) });
    } else if (e.op === 'release') close(l, e.lock, 'held', e.i);
  }
  for (const [l, list] of open) for (const o of list) out.push({ lane: l, lock: o.lock, from: o.from, to: end, kind: o.kind, level: o.level });
  return out.sort((a, b) => a.lane - b.lane || a.from - b.from || a.level - b.level);
}

function arrows(events: readonly TraceEvent[], lane: (a: string) => number): Arrow[] {
  const pending: { ev: number; e: TraceEvent & { k: 'send' } }[] = [];
  const out: Arrow[] = [];
  events.forEach((e, ev) => {
    if (e.k === 'send') pending.push({ ev, e });
    if (e.k !== 'recv') return;
    const r = e as Msg & { t: string };
    const i = pending.findIndex(({ e: s }) => {
      const m = s as Msg & { to: string; t: string };
      if (r.id !== undefined && m.id !== undefined) return m.id === r.id;
      return m.to === r.t && (r.from === undefined || m.t === r.from);
    });
    if (i < 0) return;
    const [{ ev: sev, e: s }] = pending.splice(i, 1) as [{ ev: number; e: TraceEvent & { k: 'send' } }];
    out.push({ from: lane(s.t), to: lane(e.t), sendStep: s.i, recvStep: e.i, send: sev, recv: ev, label: msgLabel(s as Msg) });
  });
  return out;
}

/** The timeline of one replayed run. */
export function timeline(events: readonly TraceEvent[]): Timeline {
  const actors: string[] = [];
  const add = (a: string | undefined) => {
    if (a !== undefined && !actors.includes(a)) actors.push(a);
  };
  for (const e of events) {
    if (e.k !== 'verdict') add(e.t);
    if (e.k === 'send') add(e.to);
  }
  const lane = (a: string) => actors.indexOf(a);
  const steps = events.reduce((m, e) => Math.max(m, e.i + 1), 0);
  const marks = events.flatMap((e, ev) => (e.k === 'verdict' && e.t === undefined ? [] : [{ ev, lane: lane(e.t as string), step: e.i, kind: e.k === 'lock' ? e.op : e.k, label: label(e) }]));
  const vi = events.findIndex((e) => e.k === 'verdict');
  return { actors, steps, marks, bars: bars(events, lane, steps), arrows: arrows(events, lane), verdict: vi < 0 ? null : { ev: vi, step: (events[vi] as TraceEvent).i } };
}

/** A one-line description of an event, for the viewer's event list. */
export const eventLabel = label;
