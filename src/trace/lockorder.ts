/** A run's lock-order graph for the viewer: class names, edges with where they were first seen, the violating ones marked. */
import type { LockGraph } from '../locks/lockdep.js';
import { classKeyName } from '../locks/splat.js';

export interface LockOrder {
  readonly classes: readonly string[];
  readonly edges: readonly { from: number; to: number; actor: string; step: number; at: string; bad: boolean }[];
}

/** Edges of a cycle, or that break the documented hierarchy, are `bad`; a hierarchy break adds its edge if lockdep had not. */
export function lockOrder(graph: LockGraph, names: readonly string[]): LockOrder {
  const keys: number[] = [];
  const node = (k: number) => (keys.includes(k) ? keys.indexOf(k) : keys.push(k) - 1);
  const bad = new Set<string>();
  for (const c of graph.cycles()) for (const e of [c.added, ...c.chain]) bad.add(`${e.from}>${e.to}`);
  for (const v of graph.violations) bad.add(`${v.from * 4}>${v.to * 4}`);
  const edges = graph.edges.map((e) => ({ from: node(e.from), to: node(e.to), actor: e.origin.thread, step: e.origin.step, at: e.origin.where, bad: bad.has(`${e.from}>${e.to}`) }));
  for (const v of graph.violations)
    if (!graph.edges.some((e) => e.from >> 2 === v.from && e.to >> 2 === v.to))
      edges.push({ from: node(v.from * 4), to: node(v.to * 4), actor: v.thread, step: v.step, at: v.where, bad: true });
  return { classes: keys.map((k) => classKeyName(names, k)), edges };
}
