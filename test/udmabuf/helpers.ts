/** Helpers for the udmabuf tests: explore a variant, take its first finding of a kind, replay it with its trace. */
import { expect } from 'vitest';
import type { TraceEvent } from '../../src/engine/events.js';
import { explore, model, replay } from '../kernel/mm-helpers.js';

export { explore, indexOfNote, notes, rets } from '../kernel/mm-helpers.js';

/** Explore `name`/`variant` (DFS must complete), replay the first finding of `code`, check it reproduces exactly. */
export function witness(name: string, variant: string, code: string, maxSteps = 3000) {
  const r = explore(name, variant, maxSteps);
  expect(r.complete).toBe(true);
  const f = r.findings.find((x) => x.verdict.code === code);
  expect(f, `${name}/${variant} finds ${code}`).toBeDefined();
  const f0 = f as NonNullable<typeof f>;
  const t = replay(model(name, variant), f0.choices, maxSteps);
  expect(t.consumed).toBe(true);
  expect(t.w.verdict?.code).toBe(code);
  expect(t.w.verdict?.message).toBe(f0.verdict.message);
  expect(t.events.at(-1)).toMatchObject({ k: 'verdict', code, message: f0.verdict.message });
  return { r, f: f0, ...t };
}

/** Explore a variant that must complete without any finding. */
export function clean(name: string, variant: string, maxSteps = 3000) {
  const r = explore(name, variant, maxSteps);
  expect(r.findings.map((f) => `${f.verdict.code}: ${f.verdict.message}`)).toEqual([]);
  expect(r.complete).toBe(true);
  return r;
}

/** Index of the first event matching `pred` at or after `from` (-1 if none). */
export function at(events: readonly TraceEvent[], pred: (e: TraceEvent) => boolean, from = 0): number {
  for (let i = from; i < events.length; i++) if (pred(events[i] as TraceEvent)) return i;
  return -1;
}
export const step = (t: string, label: string) => (e: TraceEvent) => e.k === 'step' && e.t === t && e.at === label;
export const note = (re: RegExp, t?: string) => (e: TraceEvent) => e.k === 'note' && re.test(e.text) && (t === undefined || e.t === t);
export const sent = (name: string, from?: string) => (e: TraceEvent) => e.k === 'send' && e.name === name && (from === undefined || e.t === from);
