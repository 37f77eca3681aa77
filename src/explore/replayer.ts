/**
 * Replaying a token: the same model, the recorded choices, and every observable event published on
 * one RxJS stream. Replays are exact: the same token gives the same events and the same verdict.
 */
import { Subject } from 'rxjs';
import type { TraceEvent, Verdict } from '../engine/events.js';
import type { Model } from '../engine/model.js';
import { World } from '../engine/world.js';
import { LockGraph } from '../locks/lockdep.js';
import { READ } from '../locks/space.js';
import { Replay } from './replay.js';
import { runOnce } from './run.js';
import { decodeToken } from './token.js';

export interface ReplayResult {
  readonly verdict: Verdict | null;
  readonly steps: number;
  /** Every recorded choice was used (the token fits this model exactly). */
  readonly consumed: boolean;
  readonly events: readonly TraceEvent[];
  /** The world at the end of the run. */
  readonly world: World;
}

/** Re-execute `token` on `model`; events go to `trace$` (if given) and are also returned. */
export function replayToken(model: Model, token: string, maxSteps: number, trace$ = new Subject<TraceEvent>()): ReplayResult {
  const events: TraceEvent[] = [];
  const sub = trace$.subscribe((e) => events.push(e));
  const w = new World(model, new LockGraph());
  const initial = w.snapshot();
  w.emit = (e) => trace$.next(e);
  w.lockEvent = (tid, op, lock, mode) =>
    trace$.next({ k: 'lock', i: w.steps, t: w.threadName(tid), op, lock: model.locks[lock]?.name ?? `lock${lock}`, mode: mode === READ ? 'r' : 'w' });
  const s = new Replay(decodeToken(token));
  runOnce(w, initial, s, 0, maxSteps, new Int32Array(w.nthreads));
  sub.unsubscribe();
  return { verdict: w.verdict, steps: w.steps, consumed: s.consumed, events, world: w };
}
