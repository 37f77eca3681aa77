/**
 * Executing one step of one thread, listing the enabled threads, and the end-of-run checks
 * (deadlock with its wait-for cycle, locks held at exit). Plain code over plain data.
 */
import { DONE, EV_EXIT, RUNNABLE } from '../../machines/lifecycle.js';
import { heldIndex, heldNames } from '../locks/lock.js';
import { heldLock, MAILBOX, READ, T_HELD, T_STATUS, T_NHELD, T_RCU, T_WAIT_LOCK, T_WAIT_MODE, T_WAIT_POS, THREAD_STRIDE, WRITE } from '../locks/space.js';
import { BLOCKED, ENDED, JUMPED } from './proc.js';
import type { FootprintRecorder } from './footprint.js';
import { InvariantGuard, invariantReads, isProgressLabel, LocksetProbe, RUN_ON_LIMIT, VisibilityProbe } from './visibility.js';
import type { Lockset } from './lockset.js';
import type { World } from './world.js';
import { calleeOf, fenceOf, isFenceWait, isReplyWait } from './mailbox-layout.js';

/** Fill `out` with the runnable thread ids in ascending order; returns how many. */
export function enabled(w: World, out: Int32Array): number {
  let n = 0;
  for (let t = 0; t < w.nthreads; t++) if (w.status(t) === RUNNABLE) out[n++] = t;
  return n;
}

/**
 * Switches of the scheduling semantics, for tests and benches: with both off every label is a
 * scheduling point and every invariant runs after every step (the reference semantics). `lockset`
 * (off by default) makes every DFS task use the lockset reduction (./lockset.ts), as
 * `--reduce lockset` does.
 */
export const scheduling = { runOn: true, lazyInvariants: true, lockset: false };

const probe = new VisibilityProbe();
const lsProbe = new LocksetProbe();
/** One guard per model's invariant list (whether they read only kernel objects so far). */
const guards = new WeakMap<object, InvariantGuard>();
let guardOf: object | null = null;
let guard = new InvariantGuard();

/**
 * Run one transition of thread `tid`: its current step and, while that step turned out invisible
 * (./visibility.ts), the steps after it, up to and including the first visible one. Invariants are
 * checked once, on the state the transition reaches, and only if it wrote a kernel object
 * (InvariantGuard says why that is enough).
 */
export function step(w: World, tid: number): void {
  if (w.lockset !== null) return locksetStep(w, tid, w.lockset);
  const outer = w.rec as FootprintRecorder | null;
  const first = w.steps === 0;
  const undo0 = w.undoPos;
  probe.outer = outer;
  probe.base = w.threadBase + tid * THREAD_STRIDE;
  probe.kernelEnd = w.lockBase;
  probe.kernelWrite = false;
  w.rec = probe;
  w.cur = tid;
  w.ctx.tid = tid;
  try {
    for (let n = 0; ; n++) {
      probe.visible = false;
      if (!one(w, tid) || probe.visible || w.verdict || !scheduling.runOn || n >= RUN_ON_LIMIT) break;
    }
  } finally {
    w.rec = outer;
  }
  if (!w.verdict) checkInvariants(w, first || probe.kernelWrite || !scheduling.lazyInvariants, null, first || !scheduling.lazyInvariants ? -1 : undo0);
  w.rec = outer;
  w.cur = -1;
  w.curProc = null;
}

/**
 * step() under the lockset reduction: the transition ends at the first step the lockset probe sees
 * as visible. It spans one or more transitions of the default semantics (their ends are where the
 * default rule would have stopped: ./lockset.ts says why the enabled set is the same at each); when
 * the scheduler recorded a choice for it (more than one thread enabled), the choice is recorded again
 * for each further one, so the run's choices are a token of the default semantics.
 */
function locksetStep(w: World, tid: number, ls: Lockset): void {
  const outer = w.rec as FootprintRecorder | null;
  const first = w.steps === 0;
  let n = 0;
  let idx = 0;
  for (let t = 0; t < w.nthreads; t++) {
    if (w.mem[w.threadBase + t * THREAD_STRIDE + T_STATUS] !== RUNNABLE) continue;
    if (t === tid) idx = n;
    n++;
  }
  const p = lsProbe;
  p.outer = outer;
  p.base = w.threadBase + tid * THREAD_STRIDE;
  p.tid = tid;
  p.mem = w.mem;
  p.ls = ls;
  p.kernelEnd = w.lockBase;
  p.kernelWrite = false;
  w.rec = p;
  w.cur = tid;
  w.ctx.tid = tid;
  let extra = 0;
  try {
    for (let k = 0, nd = 0; ; k++) {
      p.visible = false;
      p.plain = false;
      if (!one(w, tid) || p.visible || w.verdict) break;
      if (p.plain || !scheduling.runOn || nd >= RUN_ON_LIMIT) {
        if (k >= LOCKSET_LIMIT) break;
        extra++;
        nd = 0;
      } else nd++;
      ls.commit();
    }
  } finally {
    ls.discard();
    w.rec = outer;
  }
  if (n > 1) for (let k = 0; k < extra; k++) w.choices.push(idx);
  if (!w.verdict) checkInvariants(w, first || p.kernelWrite || !scheduling.lazyInvariants, ls);
  w.rec = outer;
  w.cur = -1;
  w.curProc = null;
}

/** Steps one transition of the lockset reduction may run (it still ends where a default one does). */
const LOCKSET_LIMIT = 16 * RUN_ON_LIMIT;

/**
 * Run the model's invariants (unless `must` is false and the guard allows skipping them); with
 * `since`, an undo-log position, only those that read a slot changed since (InvariantGuard).
 */
function checkInvariants(w: World, must: boolean, ls: Lockset | null = null, since = -1): void {
  const inv = w.model.invariants;
  if (inv.length === 0) return;
  if (guardOf !== inv) {
    guardOf = inv;
    guard = guards.get(inv) ?? new InvariantGuard();
    guards.set(inv, guard);
  }
  if (!must && guard.kernelOnly) return;
  let groups = -1;
  if (guard.groups === null) guard.groups = new Int32Array(w.mem.length);
  else if (since >= 0) {
    groups = w.changedMask(since, guard.groups);
    if (groups === 0) return;
  }
  // Invariants observe the state; they are not part of the step's footprint.
  guard.kernelEnd = w.lockBase;
  guard.lockset = ls;
  w.rec = guard;
  for (let i = 0; i < inv.length; i++) {
    if (((groups >>> (i & 31)) & 1) === 0) continue;
    invariantReads.bit = 1 << (i & 31);
    const m = (inv[i] as (w: World) => string | null)(w);
    if (m) {
      w.rec = null;
      w.fail('invariant', m);
      break;
    }
  }
}

/**
 * Run the current step of thread `tid` (one label). False when the thread must yield whatever the
 * step touched: it jumped back (a loop keeps a scheduling point, so a local spin is a cycle, not an
 * endless transition) or its next label is a progress label (livelock detection sees labels at
 * scheduling points only).
 */
function one(w: World, tid: number): boolean {
  const t = w.mutable(tid);
  const f = w.topFrame(t);
  w.curProc = f.proc;
  const pc0 = f.pc;
  const depth = t.frames.length;
  w.curPc = pc0;
  w.emit?.({ k: 'step', i: w.steps, t: w.threadName(tid), at: w.where(tid) });
  const r = (f.proc.steps[f.pc] as (k: unknown, l: unknown) => string | number)(w.ctx, f.l);
  w.steps++;
  if (typeof r === 'string') {
    const pc = f.proc.index.get(r);
    if (pc === undefined) throw new Error(`${f.proc.name}: step ${f.proc.labels[f.pc]} jumps to unknown label ${r}`);
    const forward = pc > f.pc;
    f.pc = pc;
    if (!forward) w.backJumps++;
    return forward && !isProgressLabel(r);
  }
  if (r === JUMPED && t.frames.length === 0) {
    exit(w, tid);
  } else if (r !== BLOCKED && r !== JUMPED && r !== ENDED) {
    throw new Error(`${f.proc.name}: step ${f.proc.labels[f.pc]} returned ${r}`);
  }
  // A call (whose caller resumes at a later label) or a return: run on unless the label control
  // reaches is a progress label.
  const fs = t.frames;
  const g = fs[fs.length - 1];
  if (g === undefined || r !== JUMPED) return false;
  if (fs.length > depth && f.pc <= pc0) {
    w.backJumps++;
    return false;
  }
  return !isProgressLabel(g.proc.labels[g.pc] as string);
}

/** A thread's entry procedure returned: no lock may still be held. */
function exit(w: World, tid: number): void {
  const base = w.threadBase + tid * THREAD_STRIDE;
  if (w.get(base + T_NHELD) > 0)
    w.fail('lock-misuse', `${w.threadName(tid)} exits holding ${heldNames(w, tid).join(', ')}`);
  else if (w.get(base + T_RCU) > 0) w.fail('lock-misuse', `${w.threadName(tid)} exits inside rcu_read_lock`);
  w.transition(tid, EV_EXIT);
}

/** Called when no thread is enabled: every thread done is a clean end, otherwise a deadlock. */
export function checkStuck(w: World): void {
  const stuck: number[] = [];
  for (let t = 0; t < w.nthreads; t++) if (w.status(t) !== DONE) stuck.push(t);
  if (stuck.length === 0 || w.verdict) return;
  w.fail('deadlock', describeDeadlock(w, stuck));
}

/**
 * Who a blocked thread waits for: the other holders of its lock (itself too when it wants the lock
 * for write: recursive locking), and for a reader any writer queued ahead of it.
 */
export function waitsFor(w: World, tid: number): number[] {
  const me = w.threadBase + tid * THREAD_STRIDE;
  const wl = w.get(me + T_WAIT_LOCK);
  if (isReplyWait(wl)) return [calleeOf(wl)];
  if (wl <= 0) return [];
  const lock = wl - 1;
  const reading = w.get(me + T_WAIT_MODE) !== WRITE;
  const out: number[] = [];
  for (let t = 0; t < w.nthreads; t++) {
    if (t === tid && reading) continue;
    const base = w.threadBase + t * THREAD_STRIDE;
    const n = w.get(base + T_NHELD);
    for (let i = 0; i < n; i++) if (heldLock(w.get(base + T_HELD + i)) === lock && !out.includes(t)) out.push(t);
  }
  if (!reading) return out;
  const myPos = w.get(me + T_WAIT_POS);
  for (let t = 0; t < w.nthreads; t++) {
    const base = w.threadBase + t * THREAD_STRIDE;
    if (t !== tid && w.get(base + T_WAIT_LOCK) === wl && w.get(base + T_WAIT_MODE) === WRITE && w.get(base + T_WAIT_POS) < myPos && !out.includes(t))
      out.push(t);
  }
  return out;
}

function waitText(w: World, tid: number): string {
  const wl = w.get(w.threadBase + tid * THREAD_STRIDE + T_WAIT_LOCK);
  if (wl === MAILBOX) return 'waits for a message';
  if (isFenceWait(wl)) return `waits for fence ${w.model.fences[fenceOf(wl)]} at ${w.where(tid)}`;
  if (isReplyWait(wl)) return `waits for a reply from ${w.threadName(calleeOf(wl))} at ${w.where(tid)}`;
  if (wl <= 0) return `is ${w.status(tid) === RUNNABLE ? 'runnable' : 'stuck'}`;
  const by = waitsFor(w, tid).map((t) => `${w.threadName(t)}${heldIndex(w, t, wl - 1, WRITE) < 0 && heldIndex(w, t, wl - 1, READ) < 0 ? ' queued ahead' : ''}`);
  const mode = w.get(w.threadBase + tid * THREAD_STRIDE + T_WAIT_MODE) === READ ? ' for read' : '';
  return `waits for ${w.model.locks[wl - 1]?.name}${mode} (blocked by ${by.join(', ') || 'nobody'}) at ${w.where(tid)}`;
}

/** The wait-for cycle if there is one, then who holds what. */
export function describeDeadlock(w: World, stuck: number[]): string {
  const cycle = findWaitCycle(w, stuck);
  const lines = [`deadlock: ${cycle ? cycle.map((t) => w.threadName(t)).join(' -> ') : 'no thread can run'}`];
  for (const t of cycle ? cycle.slice(0, -1) : stuck) lines.push(`  ${w.threadName(t)} ${waitText(w, t)}`);
  for (const t of stuck) {
    const held = heldNames(w, t);
    if (held.length) lines.push(`  ${w.threadName(t)} holds ${held.join(', ')}`);
  }
  return lines.join('\n');
}

function findWaitCycle(w: World, stuck: number[]): number[] | null {
  for (const start of stuck) {
    const path = [start];
    let cur = start;
    for (let hop = 0; hop <= w.nthreads; hop++) {
      const next = waitsFor(w, cur)[0];
      if (next === undefined) break;
      const at = path.indexOf(next);
      if (at >= 0) return [...path.slice(at), next];
      path.push(next);
      cur = next;
    }
  }
  return null;
}
