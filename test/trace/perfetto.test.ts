/** Perfetto/Chrome trace JSON: parses, names every actor, every B has its E on the same thread, deterministic. */
import { describe, expect, it } from 'vitest';
import { toPerfetto } from '../../src/trace/perfetto.js';
import { abbaDeadlock, EVIL_ACTOR, EVIL_LOCK, messagingTrace, type Trace } from './fixtures.js';

interface Ev {
  name?: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: number;
  args?: Record<string, unknown>;
}

const parse = (t: Trace): Ev[] => (JSON.parse(toPerfetto(t.events, t.meta)) as { traceEvents: Ev[] }).traceEvents;

/** Replays the B/E/X events of each thread in file order; returns every slice name opened and the open stacks left. */
function checkNesting(evs: readonly Ev[]): { opened: string[]; left: number } {
  const stacks = new Map<number, { name: string; end: number }[]>();
  const last = new Map<number, number>();
  const opened: string[] = [];
  for (const e of evs) {
    if (!['B', 'E', 'X'].includes(e.ph)) continue;
    const ts = e.ts as number;
    expect(ts, 'timestamps never go back on a thread').toBeGreaterThanOrEqual(last.get(e.tid) ?? 0);
    last.set(e.tid, e.ph === 'X' ? ts + (e.dur as number) : ts);
    const st = stacks.get(e.tid) ?? [];
    stacks.set(e.tid, st);
    if (e.ph === 'B') {
      st.push({ name: e.name as string, end: Number.POSITIVE_INFINITY });
      opened.push(e.name as string);
    } else if (e.ph === 'E') expect(st.pop(), `an E on tid ${e.tid} with no open B`).toBeDefined();
    else expect(e.dur).toBeGreaterThan(0);
  }
  return { opened, left: [...stacks.values()].reduce((n, s) => n + s.length, 0) };
}

describe('toPerfetto', () => {
  it('abba deadlock: valid trace JSON, a thread per actor, balanced slices, the verdict as an instant', () => {
    const t = abbaDeadlock();
    const evs = parse(t);
    const threads = evs.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args?.name);
    expect(threads).toEqual(['T0', 'T1']);
    expect(new Set(evs.map((e) => e.pid))).toEqual(new Set([1]));
    const { opened, left } = checkNesting(evs);
    expect(left).toBe(0);
    expect(opened).toEqual(['A', 'B', 'blocked on B', 'blocked on A']);
    const steps = evs.filter((e) => e.ph === 'X');
    expect(steps.map((e) => e.ts)).toEqual(t.events.filter((e) => e.k === 'step').map((e) => e.i * 1000 + 1));
    const v = evs.filter((e) => e.ph === 'i' && e.name?.startsWith('verdict'));
    expect(v).toHaveLength(1);
    expect(v[0]?.args).toMatchObject({ code: 'deadlock', token: t.meta.token, replay: `mmsim replay abba ${t.meta.token} --variant default` });
  });

  it('a release out of LIFO order, a call returning with a lock held and a message flow all stay balanced', () => {
    const evs = parse(messagingTrace());
    const { opened, left } = checkNesting(evs);
    expect(left).toBe(0);
    // L, the call, M; releasing L closes and reopens the call and M; the return closes and reopens M.
    expect(opened).toEqual([EVIL_LOCK, 'helper & co', 'M', 'helper & co', 'M', 'M']);
    const s = evs.find((e) => e.ph === 's');
    const f = evs.find((e) => e.ph === 'f');
    expect(s?.id).toBe(f?.id);
    expect(evs.find((e) => e.name === 'thread_name' && e.tid === s?.tid)?.args?.name).toBe(EVIL_ACTOR);
    expect(evs.find((e) => e.name === 'thread_name' && e.tid === f?.tid)?.args?.name).toBe('consumer');
    expect(evs.at(-1)).toMatchObject({ name: 'verdict: ok', ph: 'i', s: 'g' });
  });

  it('is byte-identical across two replays', () => {
    const a = abbaDeadlock();
    const b = abbaDeadlock();
    expect(toPerfetto(b.events, b.meta)).toBe(toPerfetto(a.events, a.meta));
    const m = messagingTrace();
    expect(toPerfetto(messagingTrace().events, m.meta)).toBe(toPerfetto(m.events, m.meta));
  });
});
