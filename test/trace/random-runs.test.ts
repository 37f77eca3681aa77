/** Every exporter keeps its structure on many seeded random schedules of every catalogue scenario and a busy model. */
import { describe, expect, it } from 'vitest';
import { toHtml, toMermaid, toPerfetto } from '../../src/trace/index.js';
import { catalogueModel } from '../helpers.js';
import { contentionModel, randomToken, replay, wwModel } from './fixtures.js';

const MODELS = [
  ['abba', () => catalogueModel('abba')],
  ['philosophers-3', () => catalogueModel('philosophers-3')],
  ['rwsem-read-recursion', () => catalogueModel('rwsem-read-recursion')],
  ['spin-then-mutex', () => catalogueModel('spin-then-mutex')],
  ['trylock-backoff', () => catalogueModel('trylock-backoff')],
  ['contention', contentionModel],
  ['ww-mutex backoff', wwModel],
] as const;
const SEEDS = 25;

/** Per thread: B/E/X in file order never go back in time, every E closes an open B, nothing is left open. */
function perfettoBalanced(json: string): boolean {
  const evs = (JSON.parse(json) as { traceEvents: { ph: string; ts?: number; dur?: number; tid: number }[] }).traceEvents;
  const depth = new Map<number, number>();
  const last = new Map<number, number>();
  for (const e of evs) {
    if (e.ph !== 'B' && e.ph !== 'E' && e.ph !== 'X') continue;
    const ts = e.ts as number;
    if (ts < (last.get(e.tid) ?? 0)) return false;
    last.set(e.tid, e.ph === 'X' ? ts + (e.dur as number) : ts);
    const d = (depth.get(e.tid) ?? 0) + (e.ph === 'B' ? 1 : e.ph === 'E' ? -1 : 0);
    if (d < 0) return false;
    depth.set(e.tid, d);
  }
  return [...depth.values()].every((d) => d === 0);
}

describe.each(MODELS)('%s under random schedules', (name, make) => {
  it(`${SEEDS} seeds: balanced Perfetto slices, Mermaid activations, one HTML row per event`, () => {
    const model = make();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const t = replay(model, name, 'default', randomToken(model, seed));
      expect(perfettoBalanced(toPerfetto(t.events, t.meta)), `seed ${seed}`).toBe(true);
      const mmd = toMermaid(t.events, t.meta).split('\n');
      expect(mmd.filter((l) => l.startsWith('  activate ')).length).toBe(mmd.filter((l) => l.startsWith('  deactivate ')).length);
      expect(mmd.filter((l) => /^ {2}a\d+->>\+/.test(l)).length).toBeGreaterThanOrEqual(mmd.filter((l) => /^ {2}a\d+-->>-/.test(l)).length);
      const rows = toHtml(t.events, t.meta).match(/<tr[ >]/g) ?? [];
      expect(rows.length).toBe(1 + t.events.length); // the header, then one row per event
    }
  });
});
