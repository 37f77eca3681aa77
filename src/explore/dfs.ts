/**
 * Stateful depth-first search, the driver: every interleaving from a start state, pruned by an
 * injected visited set of 64-bit state keys, in the order a search order gives (plain, preemption-
 * bounded or partial-order reduced: ./order.ts). Branching restores snapshots (undo-log positions);
 * the path of choices to any state is its replay token. A step back to a state still on the stack
 * closes a cycle, checked for livelock (./livelock.ts) and reported with a lasso witness; unfair
 * cycles without progress closed at one state are joined into one (joinQuiet).
 *
 * Sleep sets and cycles. Sleep sets with state caching keep every state, deadlock and step
 * verdict, not every cycle: a thread asleep at a state hides its steps there, loops included (T0
 * spins without progress, T1 exits: T0's spin, explored at the start, sleeps in T1's subtree, so
 * the spin after T1's exit is never taken). So the sleep-set search watches for where a livelock
 * may be and there starts again from the start as plain DFS, whose result it returns
 * (DfsResult.fellBack; `steps` and `runs` count both searches), with the rules DPOR uses
 * (./dpor.ts, "livelocks", where the argument is): (a) a step that jumps back (World.backJumps)
 * leaving its thread in an own state (frames, locals, inbox) it had at an earlier state of the
 * path (the task's prefix included) with no step of any thread since then making progress; (b) a
 * step back to a state on the stack through a cycle without progress that may be fair (every
 * thread enabled all round it steps in it, or sleeps or was explored at one of its states with a
 * step without progress). And it keeps the loops sleep sets would hide: (c) the threads of an
 * unfair cycle without progress are loopers; where every enabled thread sleeps, the loopers among
 * those whose step makes no progress wake (PorOrder.wake), and a looper learnt after it was left
 * asleep at such a state makes the sleep-set search run again from the start knowing it. Progress
 * as ./livelock.ts counts it (a progress label; a write that changes a kernel object). Checked,
 * not proven: the catalogue test (test/explore/por.test.ts) compares verdicts with plain DFS on
 * every variant, and test/explore/dpor.test.ts has the waiter, spinner and setter shapes that
 * broke weaker rules. With own-progress-only (a) and no fairness in (b) the search fell back on 23
 * catalogue variants; now on 5 (the livelock models and three retry loops).
 */
import { checkStuck, enabled, step } from '../engine/exec.js';
import type { Verdict } from '../engine/events.js';
import { type KeyFn, reduces, stateKeyOf } from '../engine/state-key.js';
import type { MutableSnapshot, Snapshot, ThreadState, World } from '../engine/world.js';
import { BoundedOrder } from './bounded-order.js';
import { dpor } from './dpor.js';
import { livelockAt, livelockMessage, madeProgress, ownStatesBefore, quietLoop } from './livelock.js';
import { NO_SLEEP, type Node, PlainOrder, type SearchOrder, SKIP, SKIP_CUT, type SleepSet, type VisitedSet } from './order.js';
import { PorOrder } from './por-order.js';
import type { EdgeLog } from './state-graph.js';
import { FingerprintSet } from './visited.js';

export interface DfsOptions {
  readonly maxSteps: number;
  /** Stop after this many distinct states (the search is then incomplete). */
  readonly maxStates: number;
  /** Bound on preemptions (switching away from a thread that could go on), or Infinity. */
  readonly preemptions: number;
  /** Wall-clock deadline (ms since epoch), or Infinity. */
  readonly deadline: number;
  /** Partial-order reduction with sleep sets (default on; ignored when bounded). */
  readonly por?: boolean;
  /** Check the clock every this many states. */
  readonly clockEvery?: number;
  /** Leaves to reach at most, bytes the visited set may take, and a shared stop flag (checked with the clock). */
  readonly maxRuns?: number;
  readonly maxBytes?: number;
  readonly stop?: Int32Array;
  /** Dynamic partial-order reduction instead of the order below (./dpor.ts; ignored when bounded or given an order). */
  readonly dpor?: boolean;
  /** The search order (default: from `preemptions` and `por`). */
  readonly order?: SearchOrder;
  /** The visited set (default: a fresh FingerprintSet). */
  readonly visited?: VisitedSet;
  /** Wall-clock ms (since epoch) each finding's atMs counts from (default: when dfs() starts). */
  readonly t0?: number;
  /**
   * The parallel search (./parallel-dfs.ts): every transition taken is logged by visited-set slot
   * (the set must report lastSlot), a flag set by another worker stops this one, and the root was
   * already claimed in the set by the coordinator (its slot).
   */
  readonly edges?: EdgeLog;
  readonly halt?: Int32Array;
  readonly rootSlot?: number;
  /** Try the enabled threads of every state from this index on, cyclically (parts of a parallel search diverge). */
  readonly rotate?: number;
}

/**
 * A witness: the choices to the verdict; for a livelock, `cycle` is where in them the loop starts.
 * `atMs`: when the verdict was first recorded, in ms from opts.t0 (the clock is read only then).
 */
export interface DfsFinding {
  verdict: Verdict;
  choices: number[];
  cycle?: number;
  atMs: number;
}

export interface DfsResult {
  /** Leaves of the search tree: ends, verdicts and revisits. */
  runs: number;
  steps: number;
  distinct: number;
  complete: boolean;
  /** The first witness of each verdict code, in search order. */
  findings: DfsFinding[];
  visited: VisitedSet;
  /** What ended the search early, or null. */
  stoppedBy: 'signal' | 'max-memory' | 'budget' | 'max-states' | 'max-steps' | null;
  /** The sleep-set search met a loop without progress and ran again as plain DFS (after porSteps transitions of its own). */
  fellBack?: { porSteps: number };
}

/**
 * The order `opts` asks for: bounded when a preemption bound is given, else POR unless turned off
 * or the scenario asks for symmetry (sleep sets are sets of concrete threads; plain DFS then).
 */
export function orderFor(w: World, opts: DfsOptions): SearchOrder {
  if (opts.order) return opts.order;
  if (Number.isFinite(opts.preemptions)) return new BoundedOrder(opts.preemptions);
  if (opts.por !== false && w.nthreads <= 31 && !w.model.reduction?.groups.length) return new PorOrder(w.nthreads, w.mem.length + w.nthreads);
  return new PlainOrder();
}

/** A stop flag, the memory bound, the deadline or the leaf budget, checked every clockEvery states. */
function stopNow(opts: DfsOptions, res: DfsResult): DfsResult['stoppedBy'] | 'halt' {
  if (opts.stop && Atomics.load(opts.stop, 0) !== 0) return 'signal';
  if (opts.halt && Atomics.load(opts.halt, 0) !== 0) return 'halt';
  if (res.visited.byteLength > (opts.maxBytes ?? Number.POSITIVE_INFINITY)) return 'max-memory';
  if (Date.now() > opts.deadline || res.runs >= (opts.maxRuns ?? Number.POSITIVE_INFINITY)) return 'budget';
  return null;
}

/** The first n entries of buf, starting at index r and wrapping, into out. */
function rotated(buf: Int32Array, n: number, r: number, out: Int32Array): void {
  for (let i = 0; i < n; i++) out[i] = buf[(i + r) % n] as number;
}

/**
 * A state met for the first time: counted, then -1 if it is a leaf (no thread can run: a deadlock
 * is checked; or the step or state bound cuts the search here), else the number of enabled threads
 * (their ids in buf). Shared by the DFS and DPOR (./dpor.ts).
 */
export function firstVisit(w: World, opts: Pick<DfsOptions, 'maxSteps' | 'maxStates'>, res: DfsResult, buf: Int32Array, finding: (v: Verdict) => void): number {
  res.distinct++;
  const n = enabled(w, buf);
  if (n === 0) {
    checkStuck(w);
    if (w.verdict) finding(w.verdict);
  } else if (w.steps >= opts.maxSteps || res.distinct > opts.maxStates) {
    res.complete = false;
    res.stoppedBy = res.distinct > opts.maxStates ? 'max-states' : (res.stoppedBy ?? 'max-steps');
  } else return n;
  res.runs++;
  return -1;
}

/** `loopers`: threads an earlier round of this sleep-set search learnt to loop (rule (c) in the header). */
export function dfs(w: World, opts: DfsOptions, loopers = 0): DfsResult {
  if (opts.dpor && !opts.order && !opts.visited && !Number.isFinite(opts.preemptions) && w.nthreads <= 31) return dpor(w, opts, (v, o) => dfs(v, { ...o, dpor: false, por: false }));
  const t0 = opts.t0 ?? Date.now();
  const s = new Search(w, opts, t0, loopers);
  s.run();
  const res = s.res;
  if ((!s.loop && !s.relearn) || s.start === null) return res;
  w.restore(s.start);
  w.steps = s.steps0;
  w.choices.length = s.depth0;
  if (!s.loop) {
    const again = dfs(w, { ...opts, t0 }, s.learnt);
    return { ...again, runs: res.runs + again.runs, steps: res.steps + again.steps };
  }
  const plain = dfs(w, { ...opts, por: false, t0 });
  return { ...plain, runs: res.runs + plain.runs, steps: res.steps + plain.steps, fellBack: { porSteps: res.steps } };
}

/** Plain DFS: an unfair cycle without progress closed at a branch point, joined with the earlier ones there (Search.joinQuiet). */
interface QuietLoop {
  always: number;
  stepped: number;
  len: number;
  choices: number[];
}

/**
 * One search's state, every field set in the constructor, and its steps as methods: one shape and
 * one set of functions for every search in a process (closures made per dfs() call were
 * re-optimised, and deoptimised on "wrong call target", on each new search: see bench/jit.ts).
 * Fields that change during a search get their first value in the constructor, not where they are
 * declared: V8 takes a field written once for a constant, and its first change deoptimises every
 * function that read it (measured: the loop, expand and the order's methods at once, mid-catalogue).
 */
class Search {
  readonly order: SearchOrder;
  /** Under a view or symmetry a key names several states: a back edge is no concrete cycle. */
  readonly cycles: boolean;
  /** The sleep-set order this search chose (not one given with its own visited set) watches for loops. */
  readonly watch: boolean;
  readonly por: PorOrder | null;
  readonly start: Snapshot | null;
  readonly steps0: number;
  readonly depth0: number;
  loop: boolean;
  /**
   * Rule (c): threads learnt to loop; those left asleep where every enabled thread slept; a
   * looper learnt after it was left so: the search runs again knowing it.
   */
  learnt: number;
  everSlept: number;
  relearn: boolean;
  readonly visited: VisitedSet;
  readonly res: DfsResult;
  readonly seen = new Set<string>();
  readonly key = new Uint32Array(2);
  readonly buf: Int32Array;
  readonly limits: { readonly maxSteps: number; readonly maxStates: number };
  readonly clockEvery: number;
  readonly edges: EdgeLog | null;
  readonly rotate: number;
  /** The root was claimed in the visited set by the parallel search's coordinator (at rootSlot). */
  readonly claimedRoot: boolean;
  readonly rootSlot: number;
  readonly halt: Int32Array | null;
  readonly keyOf: KeyFn;
  readonly stack: Node[] = [];
  /** Stack nodes are kept for reuse by depth (with their snapshot and enabled arrays): a step allocates none. */
  readonly pool: Node[] = [];
  /** Plain DFS: per stack depth, the unfair cycles without progress closed so far at that state (a branch point), joined. */
  readonly quiet: (QuietLoop | null)[] = [];
  readonly loopMasks = new Int32Array(2);
  /** How many stack nodes have a key with these low bits: a revisit whose count is 0 is not on the stack. */
  readonly onStack = new Int32Array(1 << 12);
  livelockFound: boolean;
  /** Loop watch (sleep sets): whether the step taken from each stack node made progress, by depth. */
  readonly prog: number[] = [];
  /** Each thread's own states on the task's prefix (computed when first needed). */
  prefix: number[][] | null;
  /** The node whose state the world is in (null: restore before stepping from the top node). */
  at: Node | null;
  /** finding() for firstVisit, made once. */
  readonly onVerdict: (v: Verdict) => void;

  constructor(
    readonly w: World,
    readonly opts: DfsOptions,
    readonly t0: number,
    loopers: number,
  ) {
    this.order = orderFor(w, opts);
    this.cycles = w.nthreads <= 31 && !reduces(w.model);
    this.watch = this.cycles && this.order instanceof PorOrder && !opts.order && !opts.visited;
    this.por = this.watch ? (this.order as PorOrder) : null;
    this.start = this.watch ? w.snapshot() : null;
    this.steps0 = w.steps;
    this.depth0 = w.choices.length;
    this.loop = false;
    this.learnt = loopers;
    this.everSlept = 0;
    this.relearn = false;
    this.visited = opts.visited ?? new FingerprintSet(1 << 12, this.order.withValues);
    this.res = { runs: 0, steps: 0, distinct: 0, complete: true, findings: [], visited: this.visited, stoppedBy: null };
    this.buf = new Int32Array(w.nthreads);
    this.limits = { maxSteps: opts.maxSteps, maxStates: opts.maxStates };
    this.clockEvery = opts.clockEvery ?? 4096;
    this.edges = opts.edges ?? null;
    this.rotate = opts.rotate ?? 0;
    this.claimedRoot = opts.rootSlot !== undefined;
    this.rootSlot = opts.rootSlot ?? -1;
    this.halt = opts.halt ?? null;
    this.keyOf = stateKeyOf(w.model);
    this.livelockFound = false;
    this.prefix = null;
    this.at = null;
    this.onVerdict = (v) => this.finding(v);
  }

  /** Keep the first witness of each verdict code (the path to here, unless given), stamped with the time it was found. */
  finding(v: Verdict, cycle = -1, choices: number[] | null = null): void {
    if (this.seen.has(v.code)) return;
    this.seen.add(v.code);
    if (this.halt) Atomics.store(this.halt, 0, 1); // a parallel search leaves findings to the sequential one
    const atMs = Date.now() - this.t0;
    const path = choices ?? this.w.choices.slice();
    this.res.findings.push(cycle < 0 ? { verdict: v, choices: path, atMs } : { verdict: v, choices: path, cycle, atMs });
  }

  node(n: number, last: number, preemptions: number, sleep: SleepSet, only: number, slot: number): Node {
    const w = this.w;
    const depth = this.stack.length;
    let x = this.pool[depth];
    if (x === undefined) {
      x = { snap: { mem: null, undoPos: -1, h0: 0, h1: 0, threads: [] }, steps: 0, depth: 0, ka: 0, kb: 0, enabled: new Int32Array(w.nthreads), n: 0, next: 0, last: 0, preemptions: 0, sleep: NO_SLEEP, doneMask: 0, doneProg: 0, done: -1, mark: 0, only: -1, slot: 0 };
      this.pool[depth] = x;
    }
    w.snapshotInto(x.snap as MutableSnapshot);
    x.steps = w.steps;
    x.depth = w.choices.length;
    x.ka = this.key[0] as number;
    x.kb = this.key[1] as number;
    if (this.rotate) rotated(this.buf, n, this.rotate % n, x.enabled);
    else for (let i = 0; i < n; i++) x.enabled[i] = this.buf[i] as number;
    x.n = n;
    x.next = 0;
    x.last = last;
    x.preemptions = preemptions;
    x.sleep = sleep;
    x.doneMask = 0;
    x.doneProg = 0;
    x.done = -1;
    x.mark = this.order.mark();
    x.only = only;
    x.slot = slot;
    this.quiet[depth] = null;
    return x;
  }

  /**
   * Rule (a): thread p, after its step from stack[ti], is in an own state (frames, locals, inbox)
   * it had at an earlier state of this path, with no step of any thread since then making progress.
   */
  repeats(p: number, ti: number): boolean {
    const t = this.w.threads[p] as ThreadState;
    const a = t.ha | 0;
    const b = t.hb | 0;
    for (let j = ti; j >= 0; j--) {
      const x = this.stack[j] as Node;
      if (this.prog[j] === 1) return false;
      const s = x.snap.threads[p] as ThreadState;
      if ((s.ha | 0) === a && (s.hb | 0) === b) return true;
    }
    this.prefix ??= ownStatesBefore(this.w, this.steps0);
    const e = this.prefix[p] as number[];
    for (let i = 0; i < e.length; i += 2) if (e[i] === a && e[i + 1] === b) return true;
    return false;
  }

  /**
   * Rule (b): the cycle stack[from..] makes no progress and may be fair (every thread enabled in all
   * of its states steps in it, or sleeps or was explored at one of its states with a step without
   * progress): the search gives up. Unfair, its threads are learnt as loopers (rule (c)).
   */
  quietCycle(from: number): void {
    const por = this.por as PorOrder;
    let always = -1;
    let stepped = 0;
    let moved = 0;
    for (let x = from; x < this.stack.length; x++) {
      if (this.prog[x] === 1) return;
      const nd = this.stack[x] as Node;
      let en = 0;
      for (let i = 0; i < nd.n; i++) en |= 1 << (nd.enabled[i] as number);
      always &= en;
      stepped |= 1 << (nd.enabled[nd.next - 1] as number);
      moved |= (por.sleepMask(nd.sleep) & ~por.sleepProgress(nd.sleep)) | (nd.doneMask & ~nd.doneProg);
    }
    if ((always & ~(stepped | moved)) === 0) {
      this.loop = true;
      return;
    }
    const fresh = stepped & ~this.learnt;
    this.learnt |= fresh;
    if ((fresh & this.everSlept) !== 0) this.relearn = true;
  }

  /**
   * Rule (c): at a new state (its n enabled threads in buf) where every enabled thread sleeps (no
   * path from here takes a sleeping step), the loopers among those whose step makes no progress
   * wake; the state's value in the visited set is its sleep set's mask.
   */
  wakeLoopers(sleep: SleepSet, n: number): void {
    const p = this.por as PorOrder;
    const asleep = p.sleepMask(sleep);
    if (asleep === 0) return;
    let en = 0;
    for (let i = 0; i < n; i++) en |= 1 << (this.buf[i] as number);
    if ((en & ~asleep) !== 0) return;
    const quiet = en & ~p.sleepProgress(sleep);
    this.everSlept |= quiet & ~this.learnt;
    if ((quiet & this.learnt) === 0) return;
    p.wake(sleep, quiet & this.learnt);
    this.visited.setValue(this.visited.put(this.key[0] as number, this.key[1] as number, 0), p.sleepMask(sleep));
  }

  /** A step back to a state on the stack: a livelock if the cycle is fair and makes no progress. */
  backEdge(a: number, b: number): void {
    const stack = this.stack;
    if ((this.livelockFound && !this.watch) || this.onStack[a & 4095] === 0) return;
    let from = stack.length - 1;
    while (from >= 0 && ((stack[from] as Node).ka !== a || (stack[from] as Node).kb !== b)) from--;
    if (from < 0) return;
    if (this.watch) {
      this.quietCycle(from);
      return;
    }
    const w = this.w;
    const start = livelockAt(w, stack, from);
    if (start < 0) {
      this.joinQuiet(from);
      return;
    }
    let stepped = 0;
    for (let x = from; x < stack.length; x++) stepped |= 1 << ((stack[x] as Node).enabled[(stack[x] as Node).next - 1] as number);
    const at = stack[start] as Node;
    const len = w.steps - (stack[from] as Node).steps;
    // The witness's loop starts at `at`; its verdict is given where the loop first comes back there.
    this.finding({ code: 'livelock', message: livelockMessage(w, at.snap.threads, stepped, len), step: at.steps + len }, at.depth);
    this.livelockFound = true;
  }

  /**
   * A cycle back to stack[from] (a branch point) without progress but unfair: a thread enabled all
   * round it did not step. Cycles through the same state run one after the other are a cycle too,
   * enabled-throughout the intersection and stepping the union: two threads each spinning alone on
   * a flag nobody sets close two unfair one-state loops whose join is a livelock. The witness's loop
   * is the joined loops' choices (the replayer checks a loop by its position in the loop, so the
   * state met again halfway does not end it).
   */
  joinQuiet(from: number): void {
    const w = this.w;
    const masks = this.loopMasks;
    const at = this.stack[from] as Node;
    if (at.n < 2 || !quietLoop(w, this.stack, from, masks)) return;
    const len = w.steps - at.steps;
    const loop = w.choices.slice(at.depth);
    const q = this.quiet[from] ?? null;
    if (q === null) {
      this.quiet[from] = { always: masks[0] as number, stepped: masks[1] as number, len, choices: loop };
      return;
    }
    const always = q.always & (masks[0] as number);
    const stepped = q.stepped | (masks[1] as number);
    if ((always & ~stepped) === (q.always & ~q.stepped)) return; // nothing gained: at most a loop a thread is kept
    q.always = always;
    q.stepped = stepped;
    q.len += len;
    for (const c of loop) q.choices.push(c);
    if ((q.always & ~q.stepped) !== 0) return;
    const choices = [...w.choices.slice(0, at.depth), ...q.choices];
    this.finding({ code: 'livelock', message: livelockMessage(w, at.snap.threads, q.stepped, q.len), step: at.steps + q.len }, at.depth, choices);
    this.livelockFound = true;
  }

  /** The node for the state just reached, or null if there is nothing (more) to explore from it. */
  expand(last: number, preemptions: number, sleep: SleepSet, from: number): Node | null {
    const w = this.w;
    const key = this.key;
    const order = this.order;
    const res = this.res;
    this.keyOf(w, key);
    order.key(key, preemptions, last);
    const root = from < 0 && this.claimedRoot;
    const slot = root ? -1 : this.visited.put(key[0] as number, key[1] as number, order.sleepMask(sleep));
    const at = slot >= 0 ? slot : root ? this.rootSlot : (this.visited.lastSlot ?? -1);
    if (this.edges && from >= 0) this.edges.add(from, at);
    if (slot >= 0) {
      if (this.cycles) this.backEdge(key[0] as number, key[1] as number);
      const cut = w.steps >= this.limits.maxSteps;
      const skipped = order.revisit(this.visited, slot, sleep, cut);
      if (skipped !== 0 && cut) {
        res.complete = false;
        res.stoppedBy ??= 'max-steps';
      }
      if (skipped === 0 || cut) {
        res.runs++;
        return null;
      }
      return this.node(enabled(w, this.buf), last, preemptions, sleep, skipped, at);
    }
    const n = firstVisit(w, this.limits, res, this.buf, this.onVerdict);
    if (n < 0) return null;
    if (this.watch) this.wakeLoopers(sleep, n);
    return this.node(n, last, preemptions, sleep, -1, at);
  }

  /** Push a node: count its key's low bits on the stack. */
  push(x: Node): void {
    this.stack.push(x);
    this.onStack[x.ka & 4095] = (this.onStack[x.ka & 4095] as number) + 1;
  }

  /** The search from the current state. Backtracking follows the stack, so snapshots are undo-log positions rather than memory copies. */
  run(): void {
    const w = this.w;
    w.startUndo();
    try {
      const root = this.expand(-1, 0, NO_SLEEP, -1);
      if (w.verdict) return;
      if (root) this.push(root);
      this.at = root;
      while (this.advance());
    } finally {
      w.stopUndo();
    }
  }

  /**
   * One turn of the search: the next admitted thread of the top node steps (or the node is done and
   * popped); false when the search is over (the stack is empty, a loop was met, or it must stop).
   * A call per step, not one loop for the whole search: V8 compiled such a loop twice after each
   * deoptimisation (on the stack, then for the next search): on the catalogue (one worker) 8
   * compiles, 4 of them on the stack, against 3.
   */
  advance(): boolean {
    const { w, order, res, stack, watch, prog } = this;
    if (stack.length === 0) return false;
    const top = stack[stack.length - 1] as Node;
    if (top.next >= top.n) {
      stack.pop();
      this.onStack[top.ka & 4095] = (this.onStack[top.ka & 4095] as number) - 1;
      return true;
    }
    const i = top.next++;
    const tid = top.enabled[i] as number;
    const pre = order.admit(top, i, tid);
    if (pre === SKIP) return true;
    if (pre === SKIP_CUT) {
      res.complete = false;
      return true;
    }
    if (this.at !== top) {
      w.restore(top.snap);
      w.steps = top.steps;
      while (w.choices.length > top.depth) w.choices.pop();
    }
    this.at = null;
    if (top.n > 1) w.choices.push(i);
    const rec = order.recorder(top, i);
    rec?.begin();
    w.rec = rec;
    const jumps = w.backJumps;
    const undo0 = watch ? w.undoPos : 0;
    step(w, tid);
    w.rec = null;
    res.steps++;
    const ti = stack.length - 1;
    if (watch) prog[ti] = madeProgress(w, top.snap.threads, tid, undo0) ? 1 : 0;
    const sleep = order.after(top, tid, rec);
    if (watch && prog[ti] === 1) top.doneProg |= 1 << tid;
    if (w.verdict) {
      this.finding(w.verdict);
      res.runs++;
      return true;
    }
    const child = this.expand(tid, pre, sleep, top.slot);
    if (watch) {
      this.loop ||= w.backJumps !== jumps && prog[ti] === 0 && this.repeats(tid, ti);
      if (this.loop) return false;
    }
    if (this.relearn) return false;
    if (w.verdict) return true;
    if (child) {
      this.push(child);
      this.at = child;
    }
    if ((res.distinct & (this.clockEvery - 1)) === 0) {
      const why = stopNow(this.opts, res);
      if (why) {
        res.complete = false;
        res.stoppedBy = why === 'halt' ? null : why;
        return false;
      }
    }
    return true;
  }
}
