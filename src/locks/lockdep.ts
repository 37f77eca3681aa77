/**
 * The lock-order graph, lockdep style: an edge A → B is recorded the first time some thread takes
 * a lock of class B (blocking) while holding one of class A. Edges accumulate over every run of an
 * exploration; a cycle is a potential deadlock even if no run deadlocked.
 */

/** Where an edge was first seen: enough to name it and to replay the run that made it. */
export interface EdgeOrigin {
  readonly thread: string;
  /** `proc:label` of the acquiring step, and the name of the held lock instance. */
  readonly where: string;
  readonly heldWhere: string;
  readonly step: number;
  readonly choices: readonly number[];
  /** The acquisition's mode, the class keys and modes the thread held, and its call stack (innermost last). */
  readonly mode?: 'r' | 'w';
  readonly held?: readonly HeldClass[];
  readonly stack?: readonly string[];
}

/** A held lock as lockdep lists it: class key (class * 4 + subclass), mode, lock instance name. */
export interface HeldClass {
  readonly key: number;
  readonly mode: 'r' | 'w';
  readonly name: string;
}

export interface Edge {
  readonly from: number;
  readonly to: number;
  readonly origin: EdgeOrigin;
}

/** A blocking acquisition that breaks the model's documented lock hierarchy (ModelBuilder.orderRule). */
export interface RuleViolation extends EdgeOrigin {
  /** Lock classes: the held one and the one being taken. */
  readonly from: number;
  readonly to: number;
  readonly message: string;
}

export interface SerializedGraph {
  readonly edges: readonly Edge[];
  readonly violations?: readonly RuleViolation[];
}

export interface Cycle {
  /** The dependency whose addition closed the cycle, then the existing chain from its target back to its source. */
  readonly added: Edge;
  readonly chain: readonly Edge[];
}

export class LockGraph {
  private seen = new Set<number>();
  readonly edges: Edge[] = [];
  /** Hierarchy-rule violations, the first of each (held class, taken class) pair. */
  readonly violations: RuleViolation[] = [];
  private seenViolations = new Set<number>();

  /** True if the edge is new (the caller then supplies its origin via record). */
  has(from: number, to: number): boolean {
    return this.seen.has(from * 65536 + to);
  }

  record(from: number, to: number, origin: EdgeOrigin): void {
    const key = from * 65536 + to;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.edges.push({ from, to, origin });
  }

  violation(v: RuleViolation): void {
    const key = v.from * 65536 + v.to;
    if (this.seenViolations.has(key)) return;
    this.seenViolations.add(key);
    this.violations.push(v);
  }

  /** Add another graph's edges after ours, keeping the first origin of each edge. */
  merge(other: SerializedGraph): void {
    for (const e of other.edges) this.record(e.from, e.to, e.origin);
    for (const v of other.violations ?? []) this.violation(v);
  }

  toJSON(): SerializedGraph {
    return { edges: this.edges, violations: this.violations };
  }

  /** Cycles in insertion order: each reported at the edge that first closes it, at most `max`, distinct by class set. */
  cycles(max = 4): Cycle[] {
    const adj = new Map<number, Edge[]>();
    const found: Cycle[] = [];
    const keys = new Set<string>();
    for (const e of this.edges) {
      const path = findPath(adj, e.to, e.from);
      if (path) {
        const key = [e.from, ...path.map((p) => p.to)].sort((a, b) => a - b).join(',');
        if (!keys.has(key)) {
          keys.add(key);
          found.push({ added: e, chain: path });
          if (found.length >= max) break;
        }
      }
      let list = adj.get(e.from);
      if (!list) adj.set(e.from, (list = []));
      list.push(e);
    }
    return found;
  }
}

/** Breadth-first path of edges from `src` to `dst` (empty when src === dst), or null. */
function findPath(adj: Map<number, Edge[]>, src: number, dst: number): Edge[] | null {
  if (src === dst) return [];
  const prev = new Map<number, Edge>();
  const queue = [src];
  const seen = new Set([src]);
  while (queue.length) {
    const n = queue.shift() as number;
    for (const e of adj.get(n) ?? []) {
      if (seen.has(e.to)) continue;
      seen.add(e.to);
      prev.set(e.to, e);
      if (e.to === dst) {
        const path: Edge[] = [];
        for (let c = dst; c !== src; ) {
          const pe = prev.get(c) as Edge;
          path.unshift(pe);
          c = pe.from;
        }
        return path;
      }
      queue.push(e.to);
    }
  }
  return null;
}
