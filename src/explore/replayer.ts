/**
 * Replaying a token: the same model, the recorded choices, and every observable event published on
 * one RxJS stream. Replays are exact: the same token gives the same events and the same verdict.
 * A lasso token (a livelock witness) is followed into its loop until the loop's first state comes
 * back; the loop is checked as the DFS checks it (fair, no progress) before the verdict is given.
 */
import { Subject } from 'rxjs';
import type { TraceEvent, Verdict } from '../engine/events.js';
import { checkStuck, enabled, step } from '../engine/exec.js';
import type { Model } from '../engine/model.js';
import { fingerprint, type Snapshot, World } from '../engine/world.js';
import { LockGraph } from '../locks/lockdep.js';
import { READ } from '../locks/space.js';
import { isProgressLabel, livelockMessage, stepLabel } from './livelock.js';
import { Replay } from './replay.js';
import { runOnce } from './run.js';
import { decodeLasso } from './token.js';

export interface ReplayResult {
  readonly verdict: Verdict | null;
  readonly steps: number;
  /** Every recorded choice was used (the token fits this model exactly). */
  readonly consumed: boolean;
  readonly events: readonly TraceEvent[];
  /** The run's own lock-order graph (class keys; names in model.classes). */
  readonly graph: LockGraph;
  /** The world at the end of the run. */
  readonly world: World;
}

/** Re-execute `token` on `model`; events go to `trace$` (if given) and are also returned; `observe` sees the world before each step and at the end. */
export function replayToken(
  model: Model,
  token: string,
  maxSteps: number,
  trace$ = new Subject<TraceEvent>(),
  observe?: (w: World) => void,
): ReplayResult {
  const events: TraceEvent[] = [];
  const sub = trace$.subscribe((e) => events.push(e));
  const graph = new LockGraph();
  const w = new World(model, graph);
  const initial = w.snapshot();
  w.emit = (e) => trace$.next(e);
  w.lockEvent = (tid, op, lock, mode) =>
    trace$.next({ k: 'lock', i: w.steps, t: w.threadName(tid), op, lock: model.locks[lock]?.name ?? `lock${lock}`, mode: mode === READ ? 'r' : 'w' });
  const { choices, cycle } = decodeLasso(token, maxSteps);
  const s = new Replay(choices, cycle);
  const look = observe ? () => observe(w) : null;
  if (cycle === undefined) runOnce(w, initial, s, 0, maxSteps, new Int32Array(w.nthreads), look);
  else runLasso(w, initial, s, cycle, maxSteps, look);
  observe?.(w); // the state the run ended in
  sub.unsubscribe();
  return { verdict: w.verdict, steps: w.steps, consumed: s.consumed, events, graph, world: w };
}

/**
 * Follow the prefix, then the loop, remembering the states the loop passes through (its branch
 * points, or every state of a loop without choices) with their place in the loop; when one comes
 * back at the same place, the cycle is checked and, if fair and without progress, the run ends in
 * a livelock with the same message as the DFS gives.
 */
function runLasso(w: World, initial: Snapshot, s: Replay, cycle: number, maxSteps: number, observe: (() => void) | null): void {
  w.restore(initial);
  w.steps = 0;
  w.choices.length = 0;
  s.beginRun();
  const loop = s.loopLength;
  const buf = new Int32Array(w.nthreads);
  const key = new Uint32Array(2);
  const seen = new Map<string, number>();
  const snaps = new Map<number, Snapshot>();
  const trail: Trail = { enabled: [], stepper: [], progress: [], steps: [] };
  w.startUndo();
  try {
    for (;;) {
      observe?.();
      const n = enabled(w, buf);
      if (n === 0) return checkStuck(w);
      if (w.steps >= maxSteps) return w.fail('livelock', `no end after ${maxSteps} steps (the step bound)`);
      if (s.position >= cycle && (n > 1 || loop === 0)) {
        fingerprint(w, w.threads, key);
        const k = `${key[0]}:${key[1]}:${loop === 0 ? 0 : (s.position - cycle) % loop}`;
        const first = seen.get(k);
        if (first !== undefined && closeLoop(w, snaps.get(first) as Snapshot, first, trail)) return;
        if (first === undefined) {
          seen.set(k, trail.steps.length);
          snaps.set(trail.steps.length, w.snapshot());
        }
      }
      let here = 0;
      for (let i = 0; i < n; i++) here |= 1 << (buf[i] as number);
      const pick = s.choose(buf, n);
      if (n > 1) w.choices.push(pick);
      const tid = buf[pick] as number;
      trail.enabled.push(here);
      trail.stepper.push(tid);
      trail.progress.push(isProgressLabel(stepLabel(w.threads, tid)));
      trail.steps.push(w.steps);
      step(w, tid);
      if (w.verdict) return;
    }
  } finally {
    w.stopUndo();
  }
}

/**
 * Per transition of the run: the threads enabled before it, the one that stepped, whether at a
 * progress label, and the step count before it (a transition may run several steps).
 */
interface Trail {
  readonly enabled: number[];
  readonly stepper: number[];
  readonly progress: boolean[];
  readonly steps: number[];
}

/** The loop from transition `first` (state `start`) back to now: a livelock when fair and without progress. */
function closeLoop(w: World, start: Snapshot, first: number, t: Trail): boolean {
  let always = -1;
  let stepped = 0;
  const at = t.steps[first] as number;
  for (let i = first; i < t.steps.length; i++) {
    if (t.progress[i]) return false;
    always &= t.enabled[i] as number;
    stepped |= 1 << (t.stepper[i] as number);
  }
  if ((always & ~stepped) !== 0 || w.changedBelow(start.undoPos, w.lockBase)) return false;
  w.emit?.({ k: 'note', i: w.steps, t: w.threadName(t.stepper[t.stepper.length - 1] as number), text: `back to the state at step ${at}: the loop repeats from there` });
  w.fail('livelock', livelockMessage(w, start.threads, stepped, w.steps - at));
  return true;
}
