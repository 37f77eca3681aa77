/**
 * The edges of the state graph a parallel search took, by visited-set slot, and whether they close
 * a cycle. Each worker of ./parallel-dfs.ts logs every transition it takes (from-slot, to-slot);
 * a cycle can run through states that different workers own, which no worker's stack sees, so the
 * coordinator looks for one in the union with Kahn's algorithm (a cycle is what is left once every
 * state without predecessors has been removed, repeatedly).
 */

/** A growable log of (from, to) slot pairs. */
export class EdgeLog {
  private data = new Int32Array(1 << 12);
  private n = 0;

  add(from: number, to: number): void {
    if (this.n + 2 > this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = from;
    this.data[this.n++] = to;
  }

  /** The pairs logged (a0, b0, a1, b1, ...), trimmed. */
  pairs(): Int32Array {
    return this.data.slice(0, this.n);
  }
}

/** Whether the edges (pairs of slots below `slots`) contain a cycle. Linear in slots + edges. */
export function hasCycle(logs: readonly Int32Array[], slots: number): boolean {
  const indeg = new Int32Array(slots);
  const start = new Int32Array(slots + 1);
  let edges = 0;
  for (const l of logs) {
    for (let j = 0; j < l.length; j += 2) {
      const f = (l[j] as number) + 1;
      const d = l[j + 1] as number;
      start[f] = (start[f] as number) + 1;
      indeg[d] = (indeg[d] as number) + 1;
    }
    edges += l.length >> 1;
  }
  for (let s = 0; s < slots; s++) start[s + 1] = (start[s + 1] as number) + (start[s] as number);
  const to = new Int32Array(edges);
  const fill = start.slice(0, slots);
  for (const l of logs) {
    for (let j = 0; j < l.length; j += 2) {
      const f = l[j] as number;
      const at = fill[f] as number;
      to[at] = l[j + 1] as number;
      fill[f] = at + 1;
    }
  }
  const queue = new Int32Array(slots);
  let head = 0;
  let tail = 0;
  for (let s = 0; s < slots; s++) if (indeg[s] === 0) queue[tail++] = s;
  let removed = 0;
  while (head < tail) {
    const s = queue[head++] as number;
    for (let e = start[s] as number; e < (start[s + 1] as number); e++) {
      removed++;
      const d = to[e] as number;
      const left = (indeg[d] as number) - 1;
      indeg[d] = left;
      if (left === 0) queue[tail++] = d;
    }
  }
  return removed < edges;
}
