/**
 * The lock-order graph as Graphviz DOT: a node per lock class key (`class*4+subclass`), an edge per
 * recorded dependency labelled with the thread, step and place that first made it; the edges and
 * nodes of every reported cycle drawn in red.
 */
import type { Cycle, Edge } from '../locks/lockdep.js';
import { classKeyName } from '../locks/splat.js';

/** Quote a string as a DOT ID (double-quoted, backslashes and quotes escaped, newlines as `\n`). */
export function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

const className = classKeyName;

/** Graphviz DOT of the lock-order graph; edges on a cycle are red. */
export function lockGraphToDot(edges: readonly Edge[], classNames: readonly string[], cycles: readonly Cycle[]): string {
  const onCycle = new Set<string>();
  const hot = new Set<number>();
  for (const c of cycles) {
    for (const e of [c.added, ...c.chain]) {
      onCycle.add(`${e.from}>${e.to}`);
      hot.add(e.from).add(e.to);
    }
  }
  const nodes: number[] = [];
  for (const e of edges) for (const k of [e.from, e.to]) if (!nodes.includes(k)) nodes.push(k);
  const out = [
    'digraph lock_order {',
    '  graph [rankdir=LR, fontname="monospace", label="lock-order graph: X -> Y means Y was first taken while X was held", labelloc=t];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f4f6f9", fontname="monospace"];',
    '  edge [fontname="monospace", fontsize=10];',
  ];
  for (const k of nodes) {
    const red = hot.has(k) ? ', color="#c62828", fillcolor="#fde0dd", penwidth=2' : '';
    out.push(`  k${k} [label=${dotString(className(classNames, k))}${red}];`);
  }
  for (const e of edges) {
    const o = e.origin;
    const label = `first: ${o.thread} step ${o.step}\nat ${o.where}\nheld: ${o.heldWhere}`;
    const red = onCycle.has(`${e.from}>${e.to}`) ? ', color="#c62828", fontcolor="#c62828", penwidth=2' : '';
    out.push(`  k${e.from} -> k${e.to} [label=${dotString(label)}${red}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
