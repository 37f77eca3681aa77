/**
 * Counterexample shrinking: the shortest prefix of a witness's choices that still ends in the same
 * verdict when the run continues without preemption after it (the running thread goes on while it
 * can, else the lowest-numbered one). The returned choices are complete (a token replays them exactly).
 */
import type { Verdict } from '../engine/events.js';
import type { Model } from '../engine/model.js';
import { Replay } from './replay.js';
import { World } from '../engine/world.js';
import { runOnce } from './run.js';
import type { Strategy } from './strategy.js';

/** Follow `prefix`, then keep the last thread running (no preemptions). */
class PrefixThenSticky implements Strategy {
  readonly name = 'shrink';
  private pos = 0;
  private last = -1;

  constructor(private readonly prefix: readonly number[]) {}

  beginRun(): void {
    this.pos = 0;
    this.last = -1;
  }

  choose(enabled: Int32Array, n: number): number {
    let c = 0;
    if (n > 1 && this.pos < this.prefix.length) c = Math.min(this.prefix[this.pos++] as number, n - 1);
    else if (n > 1) for (let i = 0; i < n; i++) if (enabled[i] === this.last) c = i;
    this.last = enabled[c] as number;
    return c;
  }
}

/** Shrink `choices` (whose run ends in a verdict `same` accepts) to a short witness that `same` still accepts. */
export function shrink(model: Model, choices: readonly number[], same: (v: Verdict) => boolean, maxSteps: number): number[] {
  const w = new World(model, null);
  const initial = w.snapshot();
  const buf = new Int32Array(w.nthreads);
  const attempt = (len: number): number[] | null => {
    runOnce(w, initial, new PrefixThenSticky(choices.slice(0, len)), 0, maxSteps, buf);
    return w.verdict && same(w.verdict) ? w.choices.slice() : null;
  };
  let lo = 0;
  let hi = choices.length;
  let best = attempt(hi) ?? choices.slice();
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = attempt(mid);
    if (r) {
      best = r.length <= best.length ? r : best;
      hi = mid;
    } else lo = mid + 1;
  }
  return best;
}

/**
 * Each witness shrunk to the shortest that still ends in the same verdict code at the same step
 * (proc:label), with the shrunk run's own verdict; a witness that does not shrink, or a lasso (a
 * livelock's loop must stay as found), is kept as it is.
 */
export function shrinkAll<F extends { readonly verdict: Verdict; readonly choices: readonly number[]; readonly cycle?: number }>(
  model: Model,
  fs: readonly F[],
  maxSteps: number,
): F[] {
  const w = new World(model, null);
  const initial = w.snapshot();
  const buf = new Int32Array(w.nthreads);
  return fs.map((f) => {
    if (f.cycle !== undefined) return f;
    const same = (v: Verdict) => v.code === f.verdict.code && v.at === f.verdict.at;
    const choices = shrink(model, f.choices, same, maxSteps);
    runOnce(w, initial, new Replay(choices), 0, maxSteps, buf);
    return w.verdict && same(w.verdict) ? { ...f, choices, verdict: w.verdict } : f;
  });
}
