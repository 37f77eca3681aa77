/**
 * The parallel exhaustive search: workers search the parts of one state space at once, sharing a
 * visited set (./shared-visited.ts), so a state is expanded by whichever worker claims it first
 * and no part searches again what another has. The coordinator walks the forced steps from the
 * initial state to the first branch point into the shared set; then every worker searches from
 * there, each trying threads in its own rotation, so they diverge at once and share the work as
 * they go (a split into per-prefix subtrees left most of the states to the first one). Every
 * transition is logged by slot.
 *
 * What it may conclude, and when it leaves the answer to the sequential search:
 * - Which worker claims a state depends on timing, so witnesses found this way would not be
 *   reproducible. The parallel search therefore settles only the case with nothing to report:
 *   complete, no verdict, no lock-order cycle or hierarchy break. Any finding halts every worker
 *   and the caller runs the ordinary sequential search, whose witnesses are the same on any number
 *   of workers. The distinct-state count of a settled search is exact: every reachable state is in
 *   the shared set once.
 * - A livelock is a cycle of states, and a cycle can run through states that different workers
 *   own, which no worker's stack sees. Every cycle contains a step that jumps back (World.backJumps:
 *   other steps move a frame forward or block before any effect), so when none ran the graph is
 *   acyclic; otherwise the logged edges are checked for a cycle (./state-graph.ts), and a cycle
 *   leaves the answer to the sequential search, which checks it for livelock.
 * - A full shared set, the step bound reached, a signal or the budget: not settled either.
 * The parts use the plain order (every enabled thread), so the logged edges are the whole state
 * graph and the cycle check is exact (sleep sets may skip the step that closes a cycle, and the
 * sequential search with them must still give the same answer); the sequential search keeps POR.
 */
import { enabled, step } from '../engine/exec.js';
import type { Model } from '../engine/model.js';
import { stateKeyOf } from '../engine/state-key.js';
import { World } from '../engine/world.js';
import { LockGraph } from '../locks/lockdep.js';
import type { ExploreOptions, Runner } from './explore.js';
import { SharedVisitedSet } from './shared-visited.js';
import { EdgeLog, hasCycle } from './state-graph.js';
import type { Task } from './task.js';

/** The outcome: settled (complete and clean, with its exact states), or why the sequential search must answer. */
export type ParallelOutcome =
  | { readonly settled: true; readonly states: Uint32Array; readonly runs: number; readonly steps: number; readonly memoryBytes: number; readonly graph: LockGraph }
  | { readonly settled: false; readonly why: string };

interface Part {
  readonly prefix: number[];
  readonly slot: number;
}

/**
 * Walk the tree from the initial state down to `split` branch points, claiming each state in `set`
 * and logging each transition. A state already claimed ends its branch (someone expands it); a
 * newly claimed state at the split depth, or a final one, starts a part.
 */
function splitTree(model: Model, split: number, maxSteps: number, set: SharedVisitedSet, log: EdgeLog) {
  const parts: Part[] = [];
  const w = new World(model, null);
  const initial = w.snapshot();
  const buf = new Int32Array(w.nthreads);
  const key = new Uint32Array(2);
  const keyOf = stateKeyOf(model);
  let stop: string | null = null;
  let backJumps = 0;
  const visit = (prefix: number[], from: number): void => {
    w.restore(initial);
    w.steps = 0;
    w.backJumps = 0;
    let used = 0;
    let at = from;
    let fresh = prefix.length === 0;
    for (;;) {
      if (fresh) {
        keyOf(w, key);
        const old = set.put(key[0] as number, key[1] as number, 0);
        const slot = old >= 0 ? old : set.lastSlot;
        if (at >= 0) log.add(at, slot);
        at = slot;
        if (old >= 0) return;
      }
      const n = enabled(w, buf);
      if (fresh && (n === 0 || (n > 1 && prefix.length >= split))) return void parts.push({ prefix, slot: at });
      if (w.steps >= maxSteps) return void (stop ??= 'the step bound was reached in the split');
      if (n > 1 && used === prefix.length) {
        for (let i = 0; i < n && !stop; i++) visit([...prefix, i], at);
        return;
      }
      step(w, buf[n > 1 ? (prefix[used++] as number) : 0] as number);
      if (used === prefix.length) fresh = true;
      backJumps += w.backJumps;
      w.backJumps = 0;
      if (w.verdict) return void (stop ??= 'a verdict in the split');
    }
  };
  visit([], -1);
  return { parts, stop, backJumps };
}

/** Search the variant of `base` on the runner's workers; see the module comment for what it settles. */
export async function parallelDfs(model: Model, o: ExploreOptions, run: Runner, base: Task): Promise<ParallelOutcome> {
  const set = SharedVisitedSet.create(Number.isFinite(o.maxStates) ? o.maxStates : Number.POSITIVE_INFINITY);
  const halt = new Int32Array(new SharedArrayBuffer(4));
  const attached = SharedVisitedSet.attach(set.buffer, halt);
  const log = new EdgeLog();
  const split = splitTree(model, 0, o.maxSteps, attached, log);
  if (split.stop) return { settled: false, why: split.stop };
  // One task per worker from the first branch point, each in its own thread rotation.
  const tasks = split.parts.flatMap((p) =>
    Array.from({ length: o.workers }, (_, rotate) => ({ ...base, prefix: p.prefix, shared: { visited: set.buffer, halt, rootSlot: p.slot, rotate } })),
  );
  const results = await run(tasks, () => {});
  const graph = new LockGraph();
  let runs = 0;
  let steps = 0;
  let backJumps = split.backJumps;
  for (const r of results) {
    if (r.findings.length) return { settled: false, why: `a verdict (${r.findings[0]?.verdict.code})` };
    if (r.stoppedBy) return { settled: false, why: `stopped by ${r.stoppedBy}` };
    if (!r.complete) return { settled: false, why: set.overflowed ? 'the shared visited set is full' : 'a part did not finish' };
    graph.merge({ edges: r.edges, violations: r.violations });
    runs += r.runs;
    steps += r.steps;
    backJumps += r.backJumps ?? 0;
  }
  if (graph.violations.length || graph.cycles().length) return { settled: false, why: 'a lock-order finding' };
  if (backJumps > 0 && hasCycle([log.pairs(), ...results.map((r) => r.stateEdges ?? new Int32Array(0))], set.slots))
    return { settled: false, why: 'the state graph has a cycle (livelock is checked sequentially)' };
  return { settled: true, states: set.entries(), runs, steps, memoryBytes: set.byteLength, graph };
}
