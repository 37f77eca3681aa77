/** DOT lock-order graph: a node per class key, edges labelled with their first origin, cycle edges red. */
import { describe, expect, it } from 'vitest';
import { dotString, lockGraphToDot } from '../../src/trace/dot.js';
import { LockGraph } from '../../src/locks/lockdep.js';
import { catalogueModel, dfsOf } from '../helpers.js';
import { abbaDeadlock } from './fixtures.js';

const edgeLines = (dot: string) => dot.split('\n').filter((l) => l.includes(' -> k'));

describe('lockGraphToDot', () => {
  it('abba: both edges form the cycle and are red, labelled with thread, step and place', () => {
    const { graph, classes } = abbaDeadlock();
    const dot = lockGraphToDot(graph.edges, classes, graph.cycles());
    expect(dot.startsWith('digraph lock_order {\n')).toBe(true);
    expect(dot.endsWith('}\n')).toBe(true);
    expect(dot).toContain('  k0 [label="A", color="#c62828"');
    expect(dot).toContain('  k4 [label="B", color="#c62828"');
    const edges = edgeLines(dot);
    expect(edges).toHaveLength(2);
    expect(edges[0]).toMatch(/^ {2}k0 -> k4 \[label="first: T0 step \d+\\nat T0:op1\\nheld: [^"]*", color="#c62828"/);
    expect(edges[1]).toMatch(/^ {2}k4 -> k0 \[label="first: T1 step \d+\\nat T1:op1\\nheld: [^"]*", color="#c62828"/);
  });

  it('names nested subclasses class/n and leaves acyclic edges black', () => {
    const model = catalogueModel('rwsem-read-recursion');
    const { graph } = dfsOf(model, { maxSteps: 100 });
    const dot = lockGraphToDot(graph.edges, model.classes, graph.cycles());
    expect(dot).toContain('k1 [label="sem/1"]');
    expect(edgeLines(dot).every((l) => !l.includes('color='))).toBe(true);
  });

  it('quotes hostile names and origins', () => {
    const g = new LockGraph();
    g.record(0, 4, { thread: 'T"0\\', where: 'x\ny', heldWhere: 'h', step: 3, choices: [] });
    const dot = lockGraphToDot(g.edges, ['a"b', 'c\\d'], g.cycles());
    expect(dot).toContain('k0 [label="a\\"b"]');
    expect(dot).toContain('k4 [label="c\\\\d"]');
    expect(dot).toContain('k0 -> k4 [label="first: T\\"0\\\\ step 3\\nat x\\ny\\nheld: h"]');
    expect(dotString('"\\\n')).toBe('"\\"\\\\\\n"');
  });

  it('is byte-identical across two explorations', () => {
    const a = abbaDeadlock();
    const b = abbaDeadlock();
    expect(lockGraphToDot(b.graph.edges, b.classes, b.graph.cycles())).toBe(lockGraphToDot(a.graph.edges, a.classes, a.graph.cycles()));
  });
});
