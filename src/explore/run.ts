/** One execution under a strategy, from the initial state to a verdict or a clean end. */
import { checkStuck, enabled, step } from '../engine/exec.js';
import type { World, Snapshot } from '../engine/world.js';
import type { Strategy } from './strategy.js';

/** Reset `w` to `initial` and run it to the end; the verdict (or null for ok) is left in w.verdict. */
export function runOnce(
  w: World,
  initial: Snapshot,
  s: Strategy,
  run: number,
  maxSteps: number,
  buf: Int32Array,
  observe: (() => void) | null = null,
): void {
  w.restore(initial);
  w.steps = 0;
  w.choices.length = 0;
  s.beginRun(run);
  for (;;) {
    if (observe) observe();
    const n = enabled(w, buf);
    if (n === 0) {
      checkStuck(w);
      return;
    }
    if (w.steps >= maxSteps) {
      w.fail('livelock', `no end after ${maxSteps} steps (the step bound): ${describeRunning(w, buf, n)}`);
      return;
    }
    const pick = s.choose(buf, n, w);
    if (n > 1) w.choices.push(pick);
    step(w, buf[pick] as number);
    if (w.verdict) return;
  }
}

function describeRunning(w: World, buf: Int32Array, n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`${w.threadName(buf[i] as number)} at ${w.where(buf[i] as number)}`);
  return parts.join('; ');
}
