/**
 * Dynamic partial-order reduction: source sets with sleep sets (Abdulla, Aronis, Jonsson, Sagonas,
 * "Optimal dynamic partial order reduction", POPL 2014, Algorithm 1), stateful. Selected with
 * `--dpor` (DfsOptions.dpor): from each state only the threads the races seen so far ask for are
 * tried, not every enabled one, so unlike the sleep-set POR (./por-order.ts) it skips states too.
 *
 * Terms (DESIGN: a transition is one thread's `invisible* visible` run, src/engine/visibility.ts;
 * run-on steps are inside it, so DPOR sees one event per scheduling point, as the other orders do):
 * - an *event* is one transition on the stack; its footprint is what the transition read and wrote
 *   (memory slots, one mailbox pseudo-slot per thread), plus two additions: it reads its own
 *   thread's status slot (a wake-up writes it, so waking a thread is dependent with the woken
 *   thread's next step: a step that enables another is never independent of it), and it writes the
 *   pseudo-slot INV_g when it wrote a slot read by an invariant of group g (invariant i is in group
 *   i % 32; see "invariants" below). Two events are dependent when one writes what the other reads
 *   or writes (./por-order.ts's relation).
 * - happens-before is one vector clock per stack depth (Int32Array rows indexed by stack position;
 *   no per-step objects). After each transition e, every earlier event e' of another thread that is
 *   dependent with e and not already before it through others is a race e' < e (found from the
 *   topmost writer on the stack of each slot e accesses and, of each slot e writes, each thread's
 *   topmost reader since: every other event dependent with e is before one of those; kept per slot
 *   as events come and go, so no scan of the stack); v = the events after e' not after it, then e. Unless an initial of v (a thread whose first event in v has no
 *   predecessor in v) is in backtrack(pre(e')) already, one is added (an awake one if any). A race
 *   where e' woke e's thread is not reversible and is skipped; any other race with an initial not
 *   enabled at pre(e') (the model would break the status-slot rule) adds every enabled thread.
 * - sleep sets as usual: after exploring thread p from a state, p sleeps in the later siblings'
 *   subtrees until a step dependent with p's step runs.
 *
 * Stateful where sound. States are cached (a 64-bit fingerprint set whose value is the state's
 * index). Meeting a cached state s stops there, as plain DFS does, but s's future races with the
 * stack are still needed (the problem Yang et al., "Efficient stateful dynamic partial order
 * reduction", SPIN 2008, solve with a graph of the visible operations): every state keeps a summary
 * of the subtree explored from it, per thread the slots its events there touched and wrote (exact
 * bit sets over the slots met so far, numbered as they are met: a third of all slots or fewer on
 * the big variants; only when every slot would need more than SUMMARY_WORDS words a row do slots
 * fold onto shared bits, which only adds conflicts). Closed states share interned rows (a table of
 * the distinct summaries: 4-35x fewer than states on the big variants; a node whose row did not
 * change from the one it was entered with takes that row again without interning), so exact rows
 * cost less memory than the 64 folded words a state they replace; folding had cost 10-20% more
 * transitions on the variants with 4-6 threads.
 * On meeting s, a stack event e' may race with a future event of thread u when u
 * is in the summary and not already after e' (e' is not before u's last stack event) and u's set
 * meets a slot of e' (a write of e' against u's touches, a read against u's writes) that no later
 * stack event after e' shadows: a later writer of the slot (e' happens before it: they are
 * dependent) is dependent with any future access and comes between them (for a slot e' only read,
 * the topmost later access if e' happens before it; the topmost writer and accessor of every slot
 * on the stack are kept as events come and go; nodes whose backtrack set already holds every
 * thread enabled there are passed over through pointers, compressed as followed). For such a
 * race, v (the events after e' not after it, then the future event) begins with the stack's events
 * after e' not after it, so their initials are initials of v whatever the future part is: one of
 * them goes into backtrack(pre(e')); when there are none, v's initials are first future events of
 * the candidate threads u, enabled at pre(e'): all of those go in. That is the source-set rule
 * applied to every race between the stack and the events of any run from s, each of which is
 * equivalent to an explored one. A state met with a smaller sleep set than it was explored with is
 * re-entered for the threads that slept then (as ./por-order.ts does).
 *
 * Cycles. A state met while it is still on the stack (at depth k) has a future not yet explored,
 * and so does a state whose subtree met a state still on the stack: for both, the races with the
 * stack are those of a summary in which every thread touches every slot (the rule above with an
 * unknown future; a node whose stack part is empty, such as every node of a one-thread spin loop,
 * gets every enabled thread: the cycle proviso of stateful POR, so no thread is ignored forever on
 * the cycle). The subtree summaries of the nodes above k are then incomplete: as in Tarjan's
 * algorithm, each node keeps the lowest depth its subtree met (lowAt); a node that leaves the stack
 * with a lower one records the state there as the one its summary waits for (dep), and a later
 * meeting takes the unknown-future rule while that state is open, and merges its summary (a
 * superset: it is an ancestor's) once it is closed and complete itself.
 *
 * Where it is sound, and the fall-backs that keep it so:
 * - livelocks: the reduced graph need not keep the cycles livelock detection looks for. A
 *   livelock's cycle C is fair, has no progress (./livelock.ts: no progress label, no change of a
 *   kernel object), and brings every thread that moves on it back to a state of its own (frames,
 *   locals, inbox) each turn, through a loop edge (a jump back: World.backJumps counts them). DPOR
 *   abandons itself and runs plain DFS, the reference search, from the start (not the default
 *   sleep-set DFS: it would meet the same loop and start again as plain DFS itself) when
 *   (a) a transition takes a loop edge and leaves its thread in an own state it had earlier on the
 *   path (the task's prefix included: there without the progress test) with no event of any
 *   thread since then making progress, or
 *   (b) it meets a state still on the stack through a cycle that makes no progress and may be
 *   fair: every thread enabled in all of its states steps in it, or sleeps or was explored
 *   already at one of its states with a step that makes no progress (that step is on another
 *   path, where a fair cycle can take it);
 *   and it keeps the loops sleep sets would hide:
 *   (c) the threads of a cycle of (b) that makes no progress but is unfair are loopers; where every
 *   enabled thread sleeps (the one place where a sleeping step is never taken on any path from
 *   there), loopers whose step makes no progress wake, and a thread learnt as a looper after it
 *   was left asleep at such a state makes the round run again.
 *   The result says so (DporInfo.fellBack) and counts both searches' transitions. Progress is
 *   counted as ./livelock.ts counts it: a write of the value already there changes nothing.
 *   Why (argued, then checked; not proven). A thread's own events and states are the same on every
 *   run equivalent to pi.C^m, so on the one DPOR explores every thread that moves on C repeats an
 *   own state once a turn; the progress events all lie in pi, each in at most one of the disjoint
 *   spans between consecutive repetitions, so within |pi| + 1 turns a span holds none and (a)
 *   fires, unless the path is cut first at a state met before. A cycle DPOR closes on its stack is
 *   a cycle of the full graph; when it is unfair, a thread u enabled all round it does not move on
 *   it, so that cycle is no livelock, and the cycle proviso below makes DPOR run u from its nodes.
 *   A livelock still hidden needs a thread that loops while asleep: as long as other threads are
 *   awake they run, close cycles in which the sleeper counts as moving ((b) fires) or end, and
 *   once every enabled thread sleeps, (c) wakes the loopers. Before (a) looked at p's own events
 *   only and (b) had no fairness test: 23 catalogue variants fell back, 5 do now (the livelock
 *   models trylock-livelock and trylock-backoff, mm-swap-skip-swapcache-race/v6.8 and both
 *   uffd-move-vs-thp-migration variants). What no longer falls back: a retry that runs again
 *   because another thread changed what it read (a pte_offset_map_lock recheck, a fault that found
 *   its pte filled) and a thread spinning while others can run (GUP refaulting until a migration
 *   entry goes). test/explore/dpor.test.ts compares every catalogue variant with plain DFS and has
 *   the shapes that broke weaker rules: a waiter and a thread that sets another flag and exits,
 *   two waiters on flags nobody sets.
 * - invariants: an invariant is judged on the state after every transition, so a verdict depends on
 *   intermediate states, not only on maximal runs. Let R_g be the slots group g's invariants read.
 *   Every write of a slot of R_g writes INV_g, so all writers of R_g are pairwise dependent and run
 *   in the same order on every run of a Mazurkiewicz class. Take any run r and a prefix of it that
 *   ends at state s, and the explored run r' equivalent to r (or to a run extending r's prefix):
 *   the writers of R_g in the prefix are the first m of that order w_1..w_m; in r', right after w_m
 *   (the start if m = 0) exactly w_1..w_m of them have run, each the same event reading the same
 *   values as in r, so every slot of R_g holds what it holds at s, and g's invariants, which read
 *   only R_g, read the same slots and values there and give the same verdict (w_m wrote a kernel
 *   object, so the lazy check of src/engine/exec.ts runs there; for m = 0 the state is the start's
 *   on R_g, judged after the first transition that writes no slot of R_g, as in plain DFS, but
 *   not if every explored run starts with a writer of R_g: an invariant broken on the initial
 *   state is outside this argument, with one INV as with several). Two writes w1, w2 of slots read
 *   only by different groups g and h may go in one order only: the state between them in the
 *   other order (w2 before w1) agrees with the state before both on R_g and with the state after
 *   both on R_h, and both of those are on the explored order. One INV for all invariants (as
 *   before) gave the same argument with one group; per group, 0.7-1.5% fewer transitions on the
 *   catalogue (most of the dependencies of the big variants are through memory the threads share).
 *   R_g is seeded with the slots g's invariants read on the initial state and along 64 seeded random
 *   runs (their reads kept per model and step bound), closed over records (a field read in one record of a region is taken as read in every
 *   record of it: invariants follow pointers, and a late read costs a new round). If a group reads
 *   another slot during the search (the engine's invariant guard marks it and counts the growth)
 *   and a write of it by one thread went unmarked for that group while some other thread wrote that
 *   group's slots, the round is stale: it stops at once and the search runs again with the larger
 *   sets (each round at least one slot more); otherwise every marked footprint differs from the one
 *   the final sets give only in pseudo-slots written by one thread alone, which makes no two
 *   threads' events dependent, so the round is the search with the final sets. The last round thus
 *   ran with every slot any visited state's invariants read (same valuation of those slots, same
 *   reads, same verdict: states not visited cannot read more).
 * - deadlocks (no enabled thread) and step verdicts (bug, lock misuse, lockdep) are properties of
 *   maximal runs and single events: each Mazurkiewicz class of maximal runs is explored.
 * Replay tokens are the same choice lists as DFS (index among the enabled threads at each branch
 * point), so `mmsim replay` replays them unchanged; a fall-back's livelock lasso is plain DFS's.
 */
import { FootprintRecorder } from '../engine/footprint.js';
import { enabled, step } from '../engine/exec.js';
import type { Model } from '../engine/model.js';
import type { Verdict } from '../engine/events.js';
import { invariantReads, isProgressLabel } from '../engine/visibility.js';
import { fingerprint, type MutableSnapshot, type Snapshot, type ThreadState, World } from '../engine/world.js';
import { T_STATUS, THREAD_STRIDE } from '../locks/space.js';
import { type DfsFinding, type DfsOptions, type DfsResult, firstVisit } from './dfs.js';
import { ownStatesBefore, stepLabel } from './livelock.js';
import { RandomWalk } from './random.js';
import { runOnce } from './run.js';
import { FingerprintSet } from './visited.js';

/** What one DPOR search did besides the usual result. */
export interface DporInfo {
  /** Searches run: one per growth of the invariants' read set. */
  rounds: number;
  /** Why the search fell back to plain DFS, or null. */
  fellBack: 'loop' | null;
  /** Steps taken by DPOR rounds (the rest of `steps`, if any, by the fall-back DFS). */
  dporSteps: number;
}

export type DporResult = DfsResult & { dpor: DporInfo };


/**
 * Footprint record in the arena: touched mask (2 words), written mask (2), #reads, #writes, reads,
 * writes. The masks are 64-bit Bloom masks over the slots' summary bits (bit b is mask bit b & 63:
 * the words of a summary row folded onto two, so a mask meets a folded row where the slots may).
 */
const F_T0 = 0;
const F_T1 = 1;
const F_W0 = 2;
const F_W1 = 3;
const F_NR = 4;
const F_NW = 5;
const F_HEAD = 6;

/** Words per stack event in the future-race check's table (evInfo). */
const EV = 8;

/** Stateful source-set DPOR from the world's current state; `fallback` is the plain DFS. */
export function dpor(w: World, options: DfsOptions, fallback: (w: World, opts: DfsOptions) => DfsResult): DporResult {
  // A run ends at its verdict: started on one (a task's forced prefix reached it), search no further.
  if (w.verdict) return { ...fallback(w, options), dpor: { rounds: 0, fellBack: null, dporSteps: 0 } };
  const opts: DfsOptions = { ...options, t0: options.t0 ?? Date.now() };
  const start = w.snapshot();
  const steps0 = w.steps;
  const depth0 = w.choices.length;
  const slots = w.mem.length + w.nthreads;
  const watched = new Int32Array(slots);
  const info: DporInfo = { rounds: 0, fellBack: null, dporSteps: 0 };
  const prefixLocals = ownStatesBefore(w, steps0); // a loop edge back to one may close a cycle through the task's prefix
  watchInvariants(w, watched, opts.maxSteps);
  const findings: DfsFinding[] = [];
  const seen = new Set<string>();
  const loopers = { mask: 0 };
  let total = 0;
  let runs = 0;
  for (;;) {
    info.rounds++;
    w.restore(start);
    w.steps = steps0;
    w.choices.length = depth0;
    invariantReads.slots = watched;
    let r: Round;
    try {
      r = round(w, opts, watched, slots, findings, seen, prefixLocals, loopers);
    } finally {
      invariantReads.slots = null;
    }
    total += r.res.steps;
    runs += r.res.runs;
    if (r.loop) {
      info.fellBack = 'loop';
      info.dporSteps = total;
      w.restore(start);
      w.steps = steps0;
      w.choices.length = depth0;
      const f = fallback(w, { ...opts, visited: undefined });
      for (const x of f.findings) if (!seen.has(x.verdict.code)) findings.push(x);
      return { ...f, runs: runs + f.runs, steps: total + f.steps, findings, dpor: info };
    }
    if (!r.relearn && (!r.stale || !r.res.complete)) {
      info.dporSteps = total;
      return { ...r.res, steps: total, runs, findings, dpor: info };
    }
  }
}

/** The number of bits set in x. */
function bitCount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
}

/** A copy of `a` in a new array of length n (n ≥ a.length; the rest zero). */
function widened(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

interface Round {
  res: DfsResult;
  /** A loop edge was taken: the state graph may have cycles. */
  loop: boolean;
  /** The invariants' read set grew in a way that may have changed the search: run it again. */
  stale: boolean;
  /** A thread learnt to loop was left asleep where every enabled thread slept: run the round again. */
  relearn: boolean;
}

/** One DPOR search with the invariants' read sets `watched` (a bit per invariant group) fixed at its start. */
function round(
  w: World,
  opts: DfsOptions,
  watched: Int32Array,
  slots: number,
  findings: DfsFinding[],
  seen: Set<string>,
  prefixLocals: readonly number[][],
  loopers: { mask: number },
): Round {
  const earlier = prefixLocals.map((x) => x.slice());
  // Threads left asleep where every enabled thread slept; the threads of the last unfair quiet cycle.
  let everSlept = 0;
  let cycleThreads = 0;
  const t0 = opts.t0 as number;
  const T = w.nthreads;
  // Pseudo-slots INV + g, one per invariant group g (invariant i is in group i % 32).
  const INV = slots;
  const G = Math.max(1, Math.min(32, w.model.invariants.length));
  const visited = new FingerprintSet(1 << 12, true);
  const res: DfsResult = { runs: 0, steps: 0, distinct: 0, complete: true, findings, visited, stoppedBy: null };
  const clockEvery = opts.clockEvery ?? 4096;
  const rec = new FootprintRecorder(slots);
  const key = new Uint32Array(2);
  const buf = new Int32Array(T);
  const first = new Int32Array(T);
  const bnd = new Int32Array(T * T);
  const loB = new Int32Array(T);
  const hiB = new Int32Array(T);
  const candHi = new Int32Array(T);
  const fold = new Int32Array(4 * T);
  const statusOf = (t: number) => w.threadBase + t * THREAD_STRIDE + T_STATUS;
  // Per slot, the threads that wrote it and its groups at its first write (groups added since may
  // have missed a write); per group, the threads whose writes were marked with its pseudo-slot.
  const wroteBy = new Int32Array(slots);
  const groupsAtFirst = new Int32Array(slots);
  const invWriters = new Int32Array(G);
  const late = new Int32Array(G);
  // Per slot, the topmost stack event that writes it and the topmost that accesses it (-1: none),
  // kept as events come and go: event k's footprint entry at arena position i saved the values
  // before it in prevW[i] / prevA[i]; events 0..applied-1 are in. Per slot and thread, the topmost
  // stack event of the thread that reads it (saved in prevW[i] of a read entry).
  const topW = new Int32Array(slots + G).fill(-1);
  const topA = new Int32Array(slots + G).fill(-1);
  const topR = new Int32Array((slots + G) * T).fill(-1);
  let prevW = new Int32Array(1 << 14);
  let prevA = new Int32Array(1 << 14);
  // The summary bit of the slot of each footprint entry (bitOf[slot]; a slot's bit never changes).
  let bitAt = new Int32Array(1 << 14);
  let applied = 0;

  // Per stack depth (node d = the state at depth d; event d = the transition taken from it).
  let cap = 64;
  let tid = new Int32Array(cap);
  let en = new Int32Array(cap);
  let sleep = new Int32Array(cap);
  let back = new Int32Array(cap);
  let skip = new Int32Array(cap);
  let done = new Int32Array(cap);
  // Of the sleeping and the explored threads of node d, those whose step from it made progress.
  let sleepProg = new Int32Array(cap);
  let doneProg = new Int32Array(cap);
  let fpOff = new Int32Array(cap);
  // Per stack event, what the future-race check reads of it, side by side: its footprint's masks
  // (4 words), where its reads, writes and end are in the arena, and its thread's event before it.
  let evInfo = new Int32Array(cap * EV);
  let sibTop = new Int32Array(cap);
  let sid = new Int32Array(cap);
  let stepsAt = new Float64Array(cap);
  let depthAt = new Int32Array(cap);
  let lowAt = new Int32Array(cap);
  // Whether event d makes progress (progress(d)), set when it runs.
  let prog = new Uint8Array(cap);
  let clock = new Int32Array(cap * T);
  // The events races() checks against the one that just ran, marked with its stamp.
  let cands = new Int32Array(cap);
  let candMark = new Int32Array(cap);
  let candStamp = 0;
  let ncand = 0;
  let lastPos = new Int32Array(cap * T);
  // Per stack event k, the next event of its thread pushed after it, and per thread its first
  // one: right while that event is on the stack (an event of the thread at that depth whose
  // previous one is k: any later push after k overwrites it, and none can while it is there).
  let nextSame = new Int32Array(cap);
  const headOf = new Int32Array(T).fill(-1);
  let sleepFp = new Int32Array(cap * T);
  let doneFp = new Int32Array(cap * T);
  // One snapshot per depth, refilled (a push allocates none).
  const snaps: MutableSnapshot[] = [];

  const grow = () => {
    const g32 = (a: Int32Array<ArrayBuffer>, k: number) => widened(a, cap * 2 * k);
    tid = g32(tid, 1);
    en = g32(en, 1);
    sleep = g32(sleep, 1);
    back = g32(back, 1);
    skip = g32(skip, 1);
    done = g32(done, 1);
    sleepProg = g32(sleepProg, 1);
    doneProg = g32(doneProg, 1);
    fpOff = g32(fpOff, 1);
    evInfo = g32(evInfo, EV);
    sibTop = g32(sibTop, 1);
    sid = g32(sid, 1);
    depthAt = g32(depthAt, 1);
    lowAt = g32(lowAt, 1);
    work = g32(work, SX);
    workT = g32(workT, 1);
    eqRow = g32(eqRow, 1);
    const c = new Uint8Array(cap * 2);
    c.set(prog);
    prog = c;
    clock = g32(clock, T);
    cands = g32(cands, 1);
    candMark = g32(candMark, 1);
    lastPos = g32(lastPos, T);
    nextSame = g32(nextSame, 1);
    sleepFp = g32(sleepFp, T);
    doneFp = g32(doneFp, T);
    const s = new Float64Array(cap * 2);
    s.set(stepsAt);
    stepsAt = s;
    cap *= 2;
  };

  // Footprints, in a stack-ordered arena: node d's siblings' records stay until d is popped.
  let arena = new Int32Array(1 << 14);
  let top = 0;

  // Per cached state (its index is the visited set's value): sleep set at the smallest visit,
  // subtree summary (a row of the summary table), on-stack mark.
  let scap = 1 << 12;
  let stSleep = new Int32Array(scap);
  let sumId = new Int32Array(scap);
  // Summary rows, per thread: SW words of touched slots then SW words of written slots; SX words a
  // row. A closed state's row is interned (a table of distinct rows, row 0 the empty one: 4-35x
  // fewer rows than states on the big variants); a node on the stack at depth d builds its state's
  // row in work[d]. A slot's bit is bitOf[slot]: slots are numbered as the search first meets them
  // (a third of the slots or fewer on the big variants), SW growing with them (every row is laid
  // out again, a few times a search), so the sets are exact; only when the slots would need more
  // than SUMMARY_WORDS words a row is the bit the slot modulo 32 * SW_MAX instead, from the start
  // (shared bits only add conflicts).
  const SW_MAX = Math.max(1, Math.min((slots + G + 31) >>> 5, Math.floor(SUMMARY_WORDS / (2 * T))));
  const folded = SW_MAX * 32 < slots + G;
  const bitOf = new Int32Array(slots + G).fill(-1);
  if (folded) for (let i = 0; i < slots + G; i++) bitOf[i] = i % (SW_MAX * 32);
  let nbits = 0;
  let SW = folded ? SW_MAX : Math.min(SW_MAX, 2);
  let SX = 2 * SW * T;
  let tcap = 1 << 10;
  let tab = new Int32Array(tcap * SX);
  let tabT = new Int32Array(tcap);
  let tabHash = new Int32Array(tcap);
  let nrows = 0;
  let index = new Int32Array(tcap * 2).fill(-1);
  let scratch = new Int32Array(SX);
  let work = new Int32Array(cap * SX);
  let workT = new Int32Array(cap);
  // While eqRow[d] >= 0, node d's row is that table row and work[d] is not used (no copy, and no
  // interning when it leaves the stack unchanged).
  let eqRow = new Int32Array(cap);
  let open = new Int32Array(scap);
  let posOf = new Int32Array(scap);
  let dep = new Int32Array(scap);
  let nstates = 0;
  const newState = (): number => {
    if (nstates === scap) {
      stSleep = widened(stSleep, scap * 2);
      sumId = widened(sumId, scap * 2);
      open = widened(open, scap * 2);
      posOf = widened(posOf, scap * 2);
      dep = widened(dep, scap * 2);
      scap *= 2;
    }
    return nstates++;
  };

  /** Stack event e becomes a race candidate of the event coming in (once). */
  const addCand = (e: number) => {
    if (candMark[e] === candStamp) return;
    candMark[e] = candStamp;
    cands[ncand++] = e;
  };

  /**
   * Event d (thread p) reads slot s, the arena's entry k: the stack's topmost writer of s is a race
   * candidate (races()); then the event comes in as s's topmost accessor and p's topmost reader.
   */
  const readEntry = (k: number, s: number, d: number, p: number) => {
    arena[k] = s;
    bitAt[k] = bitOf[s] as number;
    const tw = topW[s] as number;
    if (tw >= 0 && tid[tw] !== p) addCand(tw);
    prevA[k] = topA[s] as number;
    topA[s] = d;
    const r = s * T + p;
    prevW[k] = topR[r] as number;
    topR[r] = d;
  };

  /** As readEntry for a slot event d writes: each thread's topmost reader since the topmost writer is a candidate too. */
  const writeEntry = (k: number, s: number, d: number, p: number) => {
    arena[k] = s;
    bitAt[k] = bitOf[s] as number;
    const tw = topW[s] as number;
    if (tw >= 0 && tid[tw] !== p) addCand(tw);
    for (let q = 0, r0 = s * T; q < T; q++) {
      const r = topR[r0 + q] as number;
      if (r > tw && q !== p) addCand(r);
    }
    prevA[k] = topA[s] as number;
    topA[s] = d;
    prevW[k] = tw;
    topW[s] = d;
  };

  /**
   * Append the footprint just recorded for event d (thread p); returns its offset. Slot by slot,
   * the events it may race with are collected (cands[0..ncand)) and it comes in on the stack (the
   * topmost writer, accessor and readers of its slots; apply()'s work).
   */
  const saveFp = (d: number, p: number): number => {
    const need = F_HEAD + rec.nr + rec.nw + 1 + G;
    if (top + need > arena.length) {
      const a = new Int32Array(Math.max(arena.length * 2, top + need));
      a.set(arena);
      arena = a;
      const pw = new Int32Array(a.length);
      pw.set(prevW);
      prevW = pw;
      const pa = new Int32Array(a.length);
      pa.set(prevA);
      prevA = pa;
      const ba = new Int32Array(a.length);
      ba.set(bitAt);
      bitAt = ba;
    }
    const o = top;
    const A = arena;
    candStamp++;
    ncand = 0;
    let t0m = 0;
    let t1m = 0;
    let w0m = 0;
    let w1m = 0;
    let k = o + F_HEAD;
    const st = statusOf(p);
    // A slot the transition writes is an entry of its writes only (the read adds no dependency).
    let hasSt = rec.wrote(st);
    for (let i = 0; i < rec.nr; i++) {
      const s = rec.r[i] as number;
      if (rec.wrote(s)) continue;
      if ((bitOf[s] as number) < 0) numberSlot(s);
      if (s === st) hasSt = true;
      readEntry(k++, s, d, p);
      const b = (bitAt[k - 1] as number) & 63;
      if (b < 32) t0m |= 1 << b;
      else t1m |= 1 << (b - 32);
    }
    if (!hasSt) {
      if ((bitOf[st] as number) < 0) numberSlot(st);
      readEntry(k++, st, d, p);
      const b = (bitAt[k - 1] as number) & 63;
      if (b < 32) t0m |= 1 << b;
      else t1m |= 1 << (b - 32);
    }
    const nr = k - o - F_HEAD;
    let inv = 0;
    for (let i = 0; i < rec.nw; i++) {
      const s = rec.w[i] as number;
      if ((bitOf[s] as number) < 0) numberSlot(s);
      const g = watched[s] as number;
      inv |= g;
      const by = wroteBy[s] as number;
      if (by === 0) groupsAtFirst[s] = g;
      wroteBy[s] = by | (1 << p);
      writeEntry(k++, s, d, p);
      const b = (bitAt[k - 1] as number) & 63;
      const m = b < 32 ? 1 << b : 1 << (b - 32);
      if (b < 32) {
        t0m |= m;
        w0m |= m;
      } else {
        t1m |= m;
        w1m |= m;
      }
    }
    while (inv !== 0) {
      const g = 31 - Math.clz32(inv & -inv);
      inv &= inv - 1;
      invWriters[g] = (invWriters[g] as number) | (1 << p);
      if ((bitOf[INV + g] as number) < 0) numberSlot(INV + g);
      writeEntry(k++, INV + g, d, p);
      const b = (bitAt[k - 1] as number) & 63;
      if (b < 32) {
        t0m |= 1 << b;
        w0m |= 1 << b;
      } else {
        t1m |= 1 << (b - 32);
        w1m |= 1 << (b - 32);
      }
    }
    A[o + F_T0] = t0m;
    A[o + F_T1] = t1m;
    A[o + F_W0] = w0m;
    A[o + F_W1] = w1m;
    A[o + F_NR] = nr;
    A[o + F_NW] = k - o - F_HEAD - nr;
    top = k;
    return o;
  };

  /** Whether footprints at offsets a and b commute (neither writes what the other touches). */
  const independent = (a: number, b: number): boolean => {
    const A = arena;
    if (((A[a + F_W0] as number) & (A[b + F_T0] as number)) === 0 && ((A[a + F_W1] as number) & (A[b + F_T1] as number)) === 0 &&
      ((A[b + F_W0] as number) & (A[a + F_T0] as number)) === 0 && ((A[b + F_W1] as number) & (A[a + F_T1] as number)) === 0)
      return true;
    return !writesMeet(A, a, b) && !writesMeet(A, b, a);
  };

  /** The hash of the summary row with threads `t` and words src[off..off + SX). */
  const rowHash = (src: Int32Array, off: number, t: number): number => {
    let h = Math.imul(t, 0x9e3779b1);
    for (let i = 0; i < SX; i++) h = Math.imul(h ^ (src[off + i] as number), 0x85ebca6b) ^ (h >>> 15);
    return h;
  };

  /** The table's index, rebuilt for `size` places. */
  const reindex = (size: number) => {
    index = new Int32Array(size).fill(-1);
    const mask = size - 1;
    for (let r = 0; r < nrows; r++) {
      let q = (tabHash[r] as number) & mask;
      while (index[q] !== -1) q = (q + 1) & mask;
      index[q] = r;
    }
  };

  /** The summary row (threads `t`, words src[off..off + SX)) in the table: its index. */
  const intern = (src: Int32Array, off: number, t: number): number => {
    const h = rowHash(src, off, t);
    const mask = index.length - 1;
    let pos = h & mask;
    for (let id = index[pos] as number; id >= 0; id = index[pos] as number) {
      if (tabHash[id] === h && tabT[id] === t) {
        let i = 0;
        const b = id * SX;
        while (i < SX && tab[b + i] === src[off + i]) i++;
        if (i === SX) return id;
      }
      pos = (pos + 1) & mask;
    }
    if (nrows === tcap) {
      tab = widened(tab, tcap * 2 * SX);
      tabT = widened(tabT, tcap * 2);
      tabHash = widened(tabHash, tcap * 2);
      tcap *= 2;
    }
    const id = nrows++;
    for (let i = 0, b = id * SX; i < SX; i++) tab[b + i] = src[off + i] as number;
    tabT[id] = t;
    tabHash[id] = h;
    index[pos] = id;
    if (nrows * 2 > index.length) reindex(index.length * 2);
    return id;
  };

  /** Give slot s the next bit, widening every row when the words are full. */
  const numberSlot = (s: number) => {
    bitOf[s] = nbits++;
    if (nbits <= SW * 32) return;
    const nsw = Math.min(SW_MAX, SW * 2);
    const nsx = 2 * nsw * T;
    const move = (src: Int32Array, rows: number, size: number): Int32Array<ArrayBuffer> => {
      const dst = new Int32Array(size * nsx);
      for (let r = 0; r < rows; r++) for (let h = 0; h < 2 * T; h++) dst.set(src.subarray(r * SX + h * SW, r * SX + h * SW + SW), r * nsx + h * nsw);
      return dst;
    };
    tab = move(tab, nrows, tcap);
    work = move(work, cap, cap);
    SW = nsw;
    SX = nsx;
    scratch = new Int32Array(SX);
    for (let r = 0; r < nrows; r++) tabHash[r] = rowHash(tab, r * SX, tabT[r] as number);
    reindex(index.length);
  };
  intern(scratch, 0, 0);

  /** Node d's row in work[d] (it stood for table row eqRow[d] until now). */
  const materialize = (d: number) => {
    const r = eqRow[d] as number;
    workT[d] = tabT[r] as number;
    for (let i = 0, a = r * SX, b = d * SX; i < SX; i++) work[b + i] = tab[a + i] as number;
    eqRow[d] = -1;
  };

  /** OR the words of threads ts of the row at src[off..] (table row rid, or -1) into node dd's row. */
  const orRow = (dd: number, src: Int32Array, off: number, ts: number, rid: number) => {
    const r0 = eqRow[dd] as number;
    if (r0 >= 0) {
      if (r0 === rid) return;
      if (r0 === 0 && rid >= 0) {
        eqRow[dd] = rid;
        return;
      }
      if ((ts & ~(tabT[r0] as number)) === 0) {
        let sub = true;
        for (let t = ts; t !== 0 && sub; t &= t - 1) {
          const u = 31 - Math.clz32(t & -t);
          const a = off + u * 2 * SW;
          const b = r0 * SX + u * 2 * SW;
          for (let i = 0; i < 2 * SW; i++) {
            if (((src[a + i] as number) & ~(tab[b + i] as number)) !== 0) {
              sub = false;
              break;
            }
          }
        }
        if (sub) return;
      }
      materialize(dd);
    }
    const W = work;
    workT[dd] = (workT[dd] as number) | ts;
    for (let t = ts; t !== 0; t &= t - 1) {
      const u = 31 - Math.clz32(t & -t);
      const xb = dd * SX + u * 2 * SW;
      const yb = off + u * 2 * SW;
      for (let i = 0; i < 2 * SW; i++) W[xb + i] = (W[xb + i] as number) | (src[yb + i] as number);
    }
  };

  /** Add event (footprint o, thread p) and, if y >= 0, state y's summary into the row node dd builds. */
  const addToSummary = (dd: number, o: number, p: number, y: number) => {
    if (y >= 0) {
      // An open state's row is the one its (outermost) node builds: partial, and the cycle rule covers it.
      if ((open[y] as number) > 0) {
        const e = posOf[y] as number;
        const r = eqRow[e] as number;
        if (r >= 0) orRow(dd, tab, r * SX, tabT[r] as number, r);
        else orRow(dd, work, e * SX, workT[e] as number, -1);
      } else {
        const r = sumId[y] as number;
        if (r !== 0) orRow(dd, tab, r * SX, tabT[r] as number, r);
      }
    }
    const A = arena;
    const rs = o + F_HEAD;
    const ws = rs + (A[o + F_NR] as number);
    const end = ws + (A[o + F_NW] as number);
    const r0 = eqRow[dd] as number;
    if (r0 >= 0) {
      // Still the table row it stood for if that has every bit of the event already.
      let sub = (((tabT[r0] as number) >>> p) & 1) !== 0;
      const base = r0 * SX + p * 2 * SW;
      for (let i = rs; i < end && sub; i++) {
        const b = bitAt[i] as number;
        const m = 1 << (b & 31);
        if (((tab[base + (b >>> 5)] as number) & m) === 0 || (i >= ws && ((tab[base + SW + (b >>> 5)] as number) & m) === 0)) sub = false;
      }
      if (sub) return;
      materialize(dd);
    }
    const W = work;
    const base = dd * SX + p * 2 * SW;
    workT[dd] = (workT[dd] as number) | (1 << p);
    for (let i = rs; i < end; i++) {
      const b = bitAt[i] as number;
      W[base + (b >>> 5)] = (W[base + (b >>> 5)] as number) | (1 << (b & 31));
      if (i >= ws) W[base + SW + (b >>> 5)] = (W[base + SW + (b >>> 5)] as number) | (1 << (b & 31));
    }
  };

  const finding = (v: Verdict) => {
    if (seen.has(v.code)) return;
    seen.add(v.code);
    findings.push({ verdict: v, choices: w.choices.slice(), atMs: Date.now() - t0 });
  };

  /** Event d (thread p) just ran: its clock, next depth's last positions, and its races. */
  const races = (d: number, p: number) => {
    const row = d * T;
    const m = lastPos[row + p] as number;
    // (Loops: a builtin call costs more than a few threads' worth.)
    if (m >= 0) for (let t = 0; t < T; t++) clock[row + t] = clock[m * T + t] as number;
    else for (let t = 0; t < T; t++) clock[row + t] = 0;
    clock[row + p] = d + 1;
    const nrow = row + T;
    for (let t = 0; t < T; t++) lastPos[nrow + t] = lastPos[row + t] as number;
    lastPos[nrow + p] = d;
    // The events dependent with d that may not be before it (collected by saveFp): per slot d reads,
    // its topmost writer (earlier writers are before that one); per slot d writes, also each
    // thread's topmost reader since then (earlier readers are before it or before the writer).
    const nc = ncand;
    // Topmost first: an event before a racing one is before d through it.
    for (let i = 1; i < nc; i++) {
      const c = cands[i] as number;
      let k = i - 1;
      while (k >= 0 && (cands[k] as number) < c) {
        cands[k + 1] = cands[k] as number;
        k--;
      }
      cands[k + 1] = c;
    }
    for (let i = 0; i < nc; i++) {
      const j = cands[i] as number;
      if ((clock[row + (tid[j] as number)] as number) > j) continue;
      // A full backtrack set cannot grow.
      if (((back[j] as number) | (en[j] as number)) !== back[j]) race(j, d, p);
      const jr = j * T;
      for (let t = 0; t < T; t++) if ((clock[jr + t] as number) > (clock[row + t] as number)) clock[row + t] = clock[jr + t] as number;
    }
  };

  /**
   * backtrack(j) gets `bits`. Once it holds every thread enabled at j it cannot grow: skip[j] then
   * points to an earlier event of event j's thread (skip[j] = j while it can; the nodes below j
   * stay while j is on the stack, and a set that is full stays full, so the pointers, compressed
   * as they are followed, stay right).
   */
  const addBack = (j: number, bits: number) => {
    const b = (back[j] as number) | bits;
    back[j] = b;
    if ((b | (en[j] as number)) === b) skip[j] = lastPos[j * T + (tid[j] as number)] as number;
  };

  /** Event j (the latest of its thread at or below j, or -1), or the latest of that thread before it whose backtrack set can still grow. */
  const growing = (j: number): number => {
    let r = j;
    while (r >= 0 && skip[r] !== r) r = skip[r] as number;
    while (j > r) {
      const n = skip[j] as number;
      skip[j] = r;
      j = n;
    }
    return r;
  };

  /** The race event j < event d (thread p): make sure backtrack(j) holds an initial of v. */
  /** Whether the event at position i (clock row cr) has a predecessor among v's first events so far. */
  const hasPred = (cr: number, i: number): boolean => {
    for (let u = 0; u < T; u++) {
      const f = first[u] as number;
      if (f >= 0 && f < i && (clock[cr + u] as number) > f) return true;
    }
    return false;
  };

  /**
   * The first events of v among stack events j+1..lim (v: those not after event j): per thread t
   * other than j's own (its later events are after j), t's first event after j if that one is not
   * after j (then none of t's later ones is), in first[t] (-1: none); returns the threads whose
   * first event has no predecessor among the others' (v's initials so far).
   */
  const initialsAfter = (j: number, lim: number): number => {
    const q = tid[j] as number;
    const row = (j + 1) * T;
    for (let t = 0; t < T; t++) {
      first[t] = -1;
      if (t === q) continue;
      const k = lastPos[row + t] as number;
      const f = k >= 0 ? (nextSame[k] as number) : (headOf[t] as number);
      // f is t's next event after k while it is on the stack there (nextSame says why).
      if (f > lim || f <= j || tid[f] !== t || lastPos[f * T + t] !== k) continue;
      if ((clock[f * T + q] as number) <= j) first[t] = f;
    }
    let initials = 0;
    for (let t = 0; t < T; t++) {
      const f = first[t] as number;
      if (f >= 0 && !hasPred(f * T, f)) initials |= 1 << t;
    }
    return initials;
  };

  const race = (j: number, d: number, p: number) => {
    let initials = initialsAfter(j, d - 1);
    if ((first[p] as number) < 0 && !hasPred(d * T, d)) initials |= 1 << p;
    const enj = en[j] as number;
    if ((initials & ~enj) !== 0) {
      // p was blocked at j and event j woke it: the race cannot be reversed.
      if ((initials & ~enj) === 1 << p && (first[p] as number) < 0 && writes(arena, fpOff[j] as number, statusOf(p))) return;
      addBack(j, enj);
      return;
    }
    if ((initials & (back[j] as number)) !== 0) return;
    const awake = initials & ~(sleep[j] as number);
    const pick = awake !== 0 ? awake : initials;
    addBack(j, pick & -pick);
  };

  /**
   * Stack event j may race with an event f of a run from the state after event d. With v the
   * events after j not after it, then f, backtrack(j) must hold an initial of v. The stack's part
   * of v (events j+1..d not after j) comes first in v, so its initials are initials of v whatever
   * the future part is: one of them will do. If the stack's part is empty, v's initials are first
   * events of threads in `cand` (in the future's summary and not already after j), enabled at j:
   * all of those.
   */
  const futureRace = (j: number, d: number, cand: number) => {
    const initials = initialsAfter(j, d);
    const enj = en[j] as number;
    if (initials === 0) {
      addBack(j, (cand & enj) !== 0 ? cand & enj : enj);
      return;
    }
    if ((initials & ~enj) !== 0) {
      addBack(j, enj);
      return;
    }
    if ((initials & (back[j] as number)) !== 0) return;
    const awake = initials & ~(sleep[j] as number);
    const pick = awake !== 0 ? awake : initials;
    addBack(j, pick & -pick);
  };

  /**
   * Meeting cached state x after event d: its explored future's races with the stack. Stack event j
   * may race with a future event of thread u only if j is not already before u's last stack event,
   * and only through a slot it accesses that no later stack event after j shadows: a later writer
   * of the slot is dependent with j, so j happens before it, and it is itself dependent with any
   * future access, so between them (the topmost writer is the one to check: earlier writers are
   * before it); a slot j only read is shadowed by the topmost access when j happens before it (a
   * future write meets that access too).
   */
  const futureRaces = (d: number, x: number) => {
    const R = x < 0 ? 0 : (sumId[x] as number);
    const S = x < 0 ? -1 >>> (32 - T) : (tabT[R] as number);
    if (S === 0) return;
    const lrow = (d + 1) * T;
    const A = arena;
    // Thread q's events below bnd[q * T + u] happen before summary thread u's last stack event, so
    // cannot race with u's future: q's event j has candidates {u : bnd[q * T + u] <= j}, all of
    // them from hiB[q] up, none below loB[q].
    for (let q = 0; q < T; q++) {
      let lo = d + 1;
      let hi = -1;
      let all = 0;
      for (let u = 0; u < T; u++) {
        if (u === q || ((S >>> u) & 1) === 0) {
          bnd[q * T + u] = 0x7fffffff;
          continue;
        }
        const m = lastPos[lrow + u] as number;
        const k = m < 0 ? 0 : (clock[m * T + q] as number);
        bnd[q * T + u] = k;
        if (k < lo) lo = k;
        if (k > hi) hi = k;
        all |= 1 << u;
      }
      loB[q] = lo;
      hiB[q] = hi;
      candHi[q] = all;
    }
    // Each thread's events from its latest down to loB, past those whose backtrack set is full.
    const RB = R * SX;
    const S2 = 2 * SW;
    // Each summary thread's touched and written words folded onto 64 bits (as footprint masks are).
    if (x >= 0)
      for (let c = S; c !== 0; c &= c - 1) {
        const u = 31 - Math.clz32(c & -c);
        let t0 = 0;
        let t1 = 0;
        let w0 = 0;
        let w1 = 0;
        for (let i = 0, b = RB + u * S2; i < SW; i += 2) {
          t0 |= tab[b + i] as number;
          w0 |= tab[b + SW + i] as number;
        }
        for (let i = 1, b = RB + u * S2; i < SW; i += 2) {
          t1 |= tab[b + i] as number;
          w1 |= tab[b + SW + i] as number;
        }
        fold[4 * u] = t0;
        fold[4 * u + 1] = t1;
        fold[4 * u + 2] = w0;
        fold[4 * u + 3] = w1;
      }
    for (let q = 0; q < T; q++) {
      const lo = loB[q] as number;
      // cand: the threads u with bnd <= j; thr, the largest of their bounds (j only goes down).
      let cand = candHi[q] as number;
      let thr = hiB[q] as number;
      // The candidates' folded rows (cT: touched, cW: written).
      let cT0 = 0;
      let cT1 = 0;
      let cW0 = 0;
      let cW1 = 0;
      let folded = -1;
      const E = evInfo;
      for (let j = growing(lastPos[lrow + q] as number); j >= lo; j = growing(E[j * EV + 7] as number)) {
        if (j < thr) {
          cand = 0;
          thr = 0;
          for (let u = 0, r = q * T; u < T; u++) {
            const b = bnd[r + u] as number;
            if (b > j) continue;
            cand |= 1 << u;
            if (b > thr) thr = b;
          }
        }
        const e = j * EV;
        if (x >= 0) {
          if (folded !== cand) {
            folded = cand;
            cT0 = cT1 = cW0 = cW1 = 0;
            for (let c = cand; c !== 0; c &= c - 1) {
              const u = 4 * (31 - Math.clz32(c & -c));
              cT0 |= fold[u] as number;
              cT1 |= fold[u + 1] as number;
              cW0 |= fold[u + 2] as number;
              cW1 |= fold[u + 3] as number;
            }
          }
          // No slot of j can meet the candidates' rows.
          const meet = ((E[e + 2] as number) & cT0) | ((E[e + 3] as number) & cT1) | ((E[e] as number) & cW0) | ((E[e + 1] as number) & cW1);
          if (meet === 0) continue;
        }
        const rs = E[e + 4] as number;
        const ws = E[e + 5] as number;
        const end = E[e + 6] as number;
        let met = false;
        // Slots j writes: live while j is their topmost writer; met by a future touch.
        for (let i = ws; i < end; i++) {
          if (topW[A[i] as number] !== j) continue;
          if (x < 0) {
            met = true;
            break;
          }
          const b = bitAt[i] as number;
          const word = RB + (b >>> 5);
          let hit = 0;
          for (let c = cand; c !== 0; c &= c - 1) hit |= tab[word + (31 - Math.clz32(c & -c)) * S2] as number;
          if (((hit >>> (b & 31)) & 1) !== 0) {
            met = true;
            break;
          }
        }
        // Slots j only reads (a footprint lists a slot it writes among its writes only): live below
        // their topmost writer unless the topmost access is after j; met by a future write.
        if (!met)
          for (let i = rs; i < ws; i++) {
            const slot = A[i] as number;
            if ((topW[slot] as number) > j) continue;
            const ta = topA[slot] as number;
            if (ta > j && (clock[ta * T + q] as number) > j) continue;
            if (x < 0) {
              met = true;
              break;
            }
            const b = bitAt[i] as number;
            const word = RB + SW + (b >>> 5);
            let hit = 0;
            for (let c = cand; c !== 0; c &= c - 1) hit |= tab[word + (31 - Math.clz32(c & -c)) * S2] as number;
            if (((hit >>> (b & 31)) & 1) !== 0) {
              met = true;
              break;
            }
          }
        if (met) futureRace(j, d, cand);
      }
    }
  };

  /** Stack event k goes (the last one in): the values before it come back. */
  const unapply = (k: number) => {
    const A = arena;
    const o = fpOff[k] as number;
    const rs = o + F_HEAD;
    const ws = rs + (A[o + F_NR] as number);
    const q = tid[k] as number;
    for (let i = ws + (A[o + F_NW] as number) - 1; i >= rs; i--) {
      const slot = A[i] as number;
      if (i >= ws) topW[slot] = prevW[i] as number;
      else topR[slot * T + q] = prevW[i] as number;
      topA[slot] = prevA[i] as number;
    }
  };

  /**
   * Whether stack event j makes progress as ./livelock.ts counts it: a step at a progress label, or
   * one that changed a kernel object (a write of the value already there is none).
   */
  const progress = (j: number): boolean => prog[j] === 1;

  /**
   * Whether event d's thread p, after event d, is in a state of its own (hash lanes a, b) it had at
   * an earlier state on this path (a stack node's: snapshots share thread states, hashed when the
   * node was expanded; or the prefix's) with no event since then, of any thread, making progress:
   * the shape every thread that moves on a livelock's cycle has, once per turn, on every run
   * equivalent to one that goes round it often enough (rule (a) in the header).
   */
  const repeats = (d: number, a: number, b: number): boolean => {
    const p = tid[d] as number;
    for (let j = d; j >= 0; j--) {
      if (progress(j)) return false;
      const t = (snaps[j] as Snapshot).threads[p] as ThreadState;
      if ((t.ha | 0) === a && (t.hb | 0) === b) return true;
    }
    const e = earlier[p] as number[];
    for (let i = 0; i < e.length; i += 2) if (e[i] === a && e[i + 1] === b) return true;
    return false;
  };

  /**
   * The threads in `m` closed a cycle of states without progress (rule (c) in the header): from
   * now on they wake where every enabled thread sleeps. True when one of them was left asleep at
   * such a state earlier in this round: the round is then run again.
   */
  const learnLoopers = (m: number): boolean => {
    const fresh = m & ~loopers.mask;
    loopers.mask |= fresh;
    return (fresh & everSlept) !== 0;
  };

  /**
   * Event d reached a state whose future is not all explored: one on the stack at depth k (a
   * cycle), or one whose subtree reached the state at depth k still on the stack. Its future's
   * races with the stack are those of a summary in which every thread touches every slot (a
   * stack event gets every enabled thread unless every thread's last stack event is after it or
   * each slot it accesses is shadowed), and the nodes above k will not leave a complete summary
   * (low).
   */
  const cycle = (d: number, k: number) => {
    futureRaces(d, -1);
    if (k < (lowAt[d] as number)) lowAt[d] = k;
  };

  /**
   * The cycle of stack events k..d: 1 when it could be a livelock's (rule (b) in the header: none
   * of them makes progress, and every thread enabled in all of its states takes a step in it, as
   * ./livelock.ts judges fairness, or sleeps or was explored already at one of its states with a
   * step that made no progress: that step is on another path, where a fair cycle may run through
   * it); 0 when it makes no progress but is unfair (its threads are learnt as loopers); -1 when it
   * makes progress.
   */
  const quietCycle = (k: number, d: number): number => {
    let always = -1;
    let stepped = 0;
    let moved = 0;
    for (let j = k; j <= d; j++) {
      if (progress(j)) return -1;
      always &= en[j] as number;
      stepped |= 1 << (tid[j] as number);
      moved |= ((sleep[j] as number) & ~(sleepProg[j] as number)) | ((done[j] as number) & ~(doneProg[j] as number));
    }
    if ((always & ~(stepped | moved)) === 0) return 1;
    cycleThreads = stepped;
    return 0;
  };

  /**
   * Whether cached state y's summary is complete, merging in the summaries it waited for once
   * those are: -1 if so, else the depth of the open state it still waits for (0, the root's, past
   * a long chain of waits).
   */
  const pending = (y: number, hops = 0): number => {
    const r = dep[y] as number;
    if (r < 0) return -1;
    if ((open[r] as number) > 0) return posOf[r] as number;
    if (hops > 64) return 0;
    const k = pending(r, hops + 1);
    if (k >= 0) return k;
    const a = sumId[y] as number;
    const b = sumId[r] as number;
    if (a !== b && b !== 0) {
      for (let i = 0; i < SX; i++) scratch[i] = (tab[a * SX + i] as number) | (tab[b * SX + i] as number);
      sumId[y] = intern(scratch, 0, (tabT[a] as number) | (tabT[b] as number));
    }
    dep[y] = -1;
    return -1;
  };

  /** Node d leaves the stack: a summary still waiting for an open state (at depth lowAt[d] < d) says so. */
  const close = (d: number) => {
    const x = sid[d] as number;
    open[x] = (open[x] as number) - 1;
    const r = eqRow[d] as number;
    if ((open[x] as number) === 0) sumId[x] = r >= 0 ? r : intern(work, d * SX, workT[d] as number);
    else if (r >= 0) orRow(posOf[x] as number, tab, r * SX, tabT[r] as number, r);
    // The state is on the stack further down too: its row there takes this one in.
    else orRow(posOf[x] as number, work, d * SX, workT[d] as number, -1);
    const k = lowAt[d] as number;
    if (k < d) {
      const was = pending(x);
      const r = sid[was >= 0 && was < k ? was : k] as number;
      if (r !== x) dep[x] = r;
    }
    if (d > 0 && k < (lowAt[d - 1] as number)) lowAt[d - 1] = k;
  };

  let depth = -1;
  let at = -1;

  /** Push a node for the state just reached (new, or cached and re-entered) at depth d. */
  const push = (d: number, x: number, n: number, sl: number, bt: number) => {
    if (d >= cap) grow();
    let sn = snaps[d];
    if (sn === undefined) {
      sn = { mem: null, undoPos: -1, h0: 0, h1: 0, threads: [] };
      snaps[d] = sn;
    }
    w.snapshotInto(sn);
    stepsAt[d] = w.steps;
    depthAt[d] = w.choices.length;
    let m = 0;
    for (let i = 0; i < n; i++) m |= 1 << (buf[i] as number);
    en[d] = m;
    sleep[d] = sl;
    back[d] = bt;
    done[d] = 0;
    doneProg[d] = 0;
    sibTop[d] = top;
    sid[d] = x;
    if (open[x] === 0) {
      posOf[x] = d;
      eqRow[d] = sumId[x] as number;
    } else eqRow[d] = 0;
    open[x] = (open[x] as number) + 1;
    lowAt[d] = d;
    depth = d;
    at = d;
  };

  /**
   * The state after event d (or the root when d < 0) with sleep set `sl` (footprints at
   * sleepFp[(d + 1) * T + ...]): push it if there is something to explore. Returns the state's
   * index for the parent's summary when it is a leaf with a summary, -1 otherwise.
   */
  const expand = (d: number, sl0: number, looped: boolean): number => {
    let sl = sl0;
    fingerprint(w, w.threads, key);
    const ka = key[0] as number;
    const kb = key[1] as number;
    if (looped) {
      const th = w.threads[tid[d] as number] as ThreadState;
      if (repeats(d, th.ha | 0, th.hb | 0)) return -2;
    }
    const slot = visited.put(ka, kb, nstates);
    if (slot >= 0) {
      const x = visited.value(slot);
      if ((open[x] as number) > 0) {
        const k = posOf[x] as number;
        const q = quietCycle(k, d);
        if (q === 1) return -2;
        if (q === 0 && learnLoopers(cycleThreads)) return -3;
        cycle(d, k);
      } else if (d >= 0) {
        const k = pending(x);
        if (k >= 0) cycle(d, k);
        else futureRaces(d, x);
      }
      // Threads that slept at the earlier visit and are awake now, if enabled, run from here.
      const n = ((stSleep[x] as number) & ~sl) !== 0 ? enabled(w, buf) : 0;
      let mask = 0;
      for (let i = 0; i < n; i++) mask |= 1 << (buf[i] as number);
      const again = (stSleep[x] as number) & ~sl & mask;
      stSleep[x] = (stSleep[x] as number) & sl;
      if (again !== 0 && w.steps >= opts.maxSteps) {
        res.complete = false;
        res.stoppedBy ??= 'max-steps';
      }
      if (again === 0 || w.steps >= opts.maxSteps) {
        res.runs++;
        return x;
      }
      push(d + 1, x, n, sl, again);
      return -1;
    }
    const x = newState();
    sumId[x] = 0;
    open[x] = 0;
    dep[x] = -1;
    const n = firstVisit(w, opts, res, buf, finding);
    let mask = 0;
    for (let i = 0; i < n; i++) mask |= 1 << (buf[i] as number);
    // Every enabled thread asleep: the loopers among those whose step makes no progress wake (rule (c)).
    if (n > 0 && (mask & ~sl) === 0) {
      const quiet = mask & ~(sleepProg[d + 1] as number);
      sl &= ~(quiet & loopers.mask);
      everSlept |= quiet & ~loopers.mask;
    }
    stSleep[x] = sl;
    if (n < 0) return x;
    // The first thread to try: the lowest awake one (the order the sleep-set DFS tries them in;
    // going on with the thread that just ran costs 10-20% more transitions on the catalogue).
    const awake = mask & ~sl;
    if (awake === 0) {
      res.runs++;
      return x;
    }
    push(d + 1, x, n, sl, awake & -awake);
    return -1;
  };

  /**
   * Whether the round may differ from one run with the read sets as they are now from the start:
   * in some group, a write that may have gone unmarked (its slot joined the group after the slot's
   * first write) could have been dependent with another thread's write through that group.
   */
  const isStale = (): boolean => {
    late.fill(0);
    for (let i = 0; i < slots; i++) {
      const by = wroteBy[i] as number;
      if (by === 0) continue;
      let g = (watched[i] as number) & ~(groupsAtFirst[i] as number);
      while (g !== 0) {
        const k = 31 - Math.clz32(g & -g);
        g &= g - 1;
        late[k] = (late[k] as number) | by;
      }
    }
    for (let g = 0; g < G; g++) {
      const writers = (late[g] as number) | (invWriters[g] as number);
      if (late[g] !== 0 && (writers & (writers - 1)) !== 0) return true;
    }
    return false;
  };

  let loop = false;
  let relearn = false;
  // A read set that grew so that the round is stale already ends it (the next round starts over).
  let stale = false;
  let grown = invariantReads.grown;
  w.startUndo();
  try {
    lastPos.fill(-1, 0, T);
    const r0 = expand(-1, 0, false);
    if (r0 === -2) loop = true;
    while (depth >= 0 && !loop) {
      const d = depth;
      const todo = (back[d] as number) & ~(done[d] as number) & ~(sleep[d] as number) & (en[d] as number);
      if (todo === 0) {
        close(d);
        depth--;
        if (depth >= 0) addToSummary(depth, fpOff[depth] as number, tid[depth] as number, sid[d] as number);
        top = depth >= 0 ? (sibTop[depth] as number) : 0;
        continue;
      }
      const p = 31 - Math.clz32(todo & -todo);
      if (at !== d) {
        w.restore(snaps[d] as Snapshot);
        w.steps = stepsAt[d] as number;
        while (w.choices.length > (depthAt[d] as number)) w.choices.pop();
      }
      at = -1;
      // The choice: p's index among the enabled threads (ascending).
      const e = en[d] as number;
      if ((e & (e - 1)) !== 0) w.choices.push(bitCount(e & ((1 << p) - 1)));
      const lp = w.backJumps;
      rec.begin();
      w.rec = rec;
      step(w, p);
      w.rec = null;
      res.steps++;
      if (invariantReads.grown !== grown) {
        grown = invariantReads.grown;
        if (isStale()) {
          stale = true;
          break;
        }
      }
      const sn = snaps[d] as Snapshot;
      prog[d] = w.changedBelow(sn.undoPos, w.lockBase) || isProgressLabel(stepLabel(sn.threads, p)) ? 1 : 0;
      while (applied > d) unapply(--applied);
      top = sibTop[d] as number;
      const o = saveFp(d, p);
      sibTop[d] = top;
      fpOff[d] = o;
      tid[d] = p;
      skip[d] = d;
      const prevP = lastPos[d * T + p] as number;
      if (prevP >= 0) nextSame[prevP] = d;
      else headOf[p] = d;
      {
        const A = arena;
        const e = d * EV;
        const rs = o + F_HEAD;
        const ws = rs + (A[o + F_NR] as number);
        evInfo[e] = A[o + F_T0] as number;
        evInfo[e + 1] = A[o + F_T1] as number;
        evInfo[e + 2] = A[o + F_W0] as number;
        evInfo[e + 3] = A[o + F_W1] as number;
        evInfo[e + 4] = rs;
        evInfo[e + 5] = ws;
        evInfo[e + 6] = ws + (A[o + F_NW] as number);
        evInfo[e + 7] = prevP;
      }
      if (d + 1 >= cap) grow();
      races(d, p);
      applied = d + 1;
      // The child's sleep set: sleepers and explored siblings whose next step commutes with this one.
      // A sleeper's step is the one explored where it fell asleep: what it wrote, it writes again.
      const both = (sleep[d] as number) | (done[d] as number);
      let sl = 0;
      let slp = 0;
      if (both !== 0) {
        const crow = (d + 1) * T;
        for (let u = 0; u < T; u++) {
          if (((both >>> u) & 1) === 0) continue;
          const asleep = ((sleep[d] as number) >>> u) & 1;
          const f = asleep ? (sleepFp[d * T + u] as number) : (doneFp[d * T + u] as number);
          if (!independent(f, o)) continue;
          sl |= 1 << u;
          slp |= (asleep ? (sleepProg[d] as number) : (doneProg[d] as number)) & (1 << u);
          sleepFp[crow + u] = f;
        }
      }
      sleepProg[d + 1] = slp;
      if (progress(d)) doneProg[d] = (doneProg[d] as number) | (1 << p);
      done[d] = (done[d] as number) | (1 << p);
      doneFp[d * T + p] = o;
      addBack(d, 1 << p);
      if (w.verdict) {
        finding(w.verdict);
        addToSummary(d, o, p, -1);
        res.runs++;
        continue;
      }
      const x = expand(d, sl, w.backJumps !== lp);
      if (x === -2) {
        loop = true;
        break;
      }
      if (x === -3) {
        relearn = true;
        break;
      }
      if (x >= 0) addToSummary(d, o, p, x);
      if (w.verdict) continue;
      if ((res.distinct & (clockEvery - 1)) === 0) {
        const why = stopNow(opts, visited.byteLength + tab.byteLength, res.runs);
        if (why) {
          res.complete = false;
          res.stoppedBy = why;
          break;
        }
      }
    }
  } finally {
    w.stopUndo();
  }
  return { res, loop, stale: stale || isStale(), relearn };
}

/**
 * A first guess at the invariants' read set, so that most searches need one round: the slots they
 * read on `w`'s state and along a few seeded random runs on a world of its own (verdicts there are
 * ignored: the search finds them).
 */
function watchInvariants(w: World, watched: Int32Array, maxSteps: number): void {
  const inv = w.model.invariants;
  if (inv.length === 0) return;
  const rec = w.rec;
  let bit = 0;
  w.rec = { read: (i: number) => void (watched[i] = (watched[i] as number) | bit), write: () => {} };
  try {
    for (let i = 0; i < inv.length; i++) {
      bit = 1 << (i & 31);
      (inv[i] as (w: World) => string | null)(w);
    }
  } finally {
    w.rec = rec;
  }
  const seed = seedReads(w.model, maxSteps);
  for (let i = 0; i < seed.length; i++) watched[i] = (watched[i] as number) | (seed[i] as number);
  // An invariant that read one record's field reads it in other records on other states (the
  // record it looks at follows a pointer): its group gets that field of every record.
  for (const r of w.model.layout.regions) {
    for (let f = 0; f < r.stride; f++) {
      let g = 0;
      for (let i = 0; i < r.count; i++) g |= watched[r.base + i * r.stride + f] as number;
      if (g !== 0) for (let i = 0; i < r.count; i++) watched[r.base + i * r.stride + f] = (watched[r.base + i * r.stride + f] as number) | g;
    }
  }
}

/** The seed runs' reads, per model and step bound (they depend on nothing else). */
const seeds = new WeakMap<Model, Map<number, Int32Array>>();

/**
 * The slots (a bit per invariant group) the invariants read along SEED_RUNS seeded random runs
 * from the model's initial state, computed once per model and step bound (a split search calls
 * DPOR once per task). Running them again would only mark again the bits the engine's invariant
 * guard marked the first time (src/engine/visibility.ts), so nothing else changes.
 */
function seedReads(model: Model, maxSteps: number): Int32Array {
  let byBound = seeds.get(model);
  if (byBound === undefined) {
    byBound = new Map();
    seeds.set(model, byBound);
  }
  const known = byBound.get(maxSteps);
  if (known !== undefined) return known;
  const v = new World(model, null);
  const reads = new Int32Array(v.mem.length + v.nthreads);
  const init = v.snapshot();
  const buf = new Int32Array(v.nthreads);
  const walk = new RandomWalk(0x5eed);
  invariantReads.slots = reads;
  try {
    for (let run = 0; run < SEED_RUNS; run++) runOnce(v, init, walk, run, maxSteps, buf);
  } finally {
    invariantReads.slots = null;
  }
  byBound.set(maxSteps, reads);
  return reads;
}

/** Words of a summary row at most, over all threads (past that, slots beyond a thread's share of bits share them: conservative). */
const SUMMARY_WORDS = 4096;

/** Random runs that seed the invariants' read set. */
const SEED_RUNS = 64;

/** Whether writes of footprint a meet reads or writes of footprint b (exact; after the masks met). */
function writesMeet(A: Int32Array, a: number, b: number): boolean {
  const aw = a + F_HEAD + (A[a + F_NR] as number);
  const awEnd = aw + (A[a + F_NW] as number);
  const bs = b + F_HEAD;
  const bEnd = bs + (A[b + F_NR] as number) + (A[b + F_NW] as number);
  for (let i = aw; i < awEnd; i++) {
    const s = A[i] as number;
    for (let k = bs; k < bEnd; k++) if (A[k] === s) return true;
  }
  return false;
}

/** Whether footprint a writes slot s. */
function writes(A: Int32Array, a: number, s: number): boolean {
  const aw = a + F_HEAD + (A[a + F_NR] as number);
  const end = aw + (A[a + F_NW] as number);
  for (let i = aw; i < end; i++) if (A[i] === s) return true;
  return false;
}

/** A stop flag, the memory bound, the deadline or the leaf budget. */
function stopNow(opts: DfsOptions, bytes: number, runs: number): DfsResult['stoppedBy'] {
  if (opts.stop && Atomics.load(opts.stop, 0) !== 0) return 'signal';
  if (bytes > (opts.maxBytes ?? Number.POSITIVE_INFINITY)) return 'max-memory';
  if (Date.now() > opts.deadline || runs >= (opts.maxRuns ?? Number.POSITIVE_INFINITY)) return 'budget';
  return null;
}
