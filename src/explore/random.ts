/** Seeded random walk: every enabled thread equally likely at every step. */
import { Prng, taskSeed } from './prng.js';
import type { Strategy } from './strategy.js';

export class RandomWalk implements Strategy {
  readonly name = 'random';
  private rng = new Prng(0);

  constructor(private readonly seed: number) {}

  beginRun(run: number): void {
    this.rng = new Prng(taskSeed(this.seed, run));
  }

  choose(_enabled: Int32Array, n: number): number {
    return n === 1 ? 0 : this.rng.below(n);
  }
}
