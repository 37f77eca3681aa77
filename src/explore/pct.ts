/**
 * PCT (Burckhardt et al., ASPLOS 2010): random distinct thread priorities, the highest-priority
 * enabled thread runs, and at d-1 random steps the running thread drops below all others. A bug of
 * depth d is found with probability at least 1/(n * k^(d-1)) per run (n threads, k steps).
 */
import { Prng, taskSeed } from './prng.js';
import type { Strategy } from './strategy.js';

export class Pct implements Strategy {
  readonly name: string;
  private rng = new Prng(0);
  private prio: number[] = [];
  private changeAt: number[] = [];
  private stepNo = 0;

  constructor(
    private readonly seed: number,
    private readonly depth: number,
    private readonly nthreads: number,
    /** Estimate of the steps in a run (k); change points are drawn from [1, k]. */
    private readonly k: number,
  ) {
    this.name = `pct(d=${depth})`;
  }

  beginRun(run: number): void {
    this.rng = new Prng(taskSeed(this.seed, run), 0x7c7);
    const order = Array.from({ length: this.nthreads }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.below(i + 1);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    this.prio = new Array(this.nthreads);
    for (let i = 0; i < order.length; i++) this.prio[order[i] as number] = this.depth + i;
    this.changeAt = [];
    for (let i = 1; i < this.depth; i++) this.changeAt.push(1 + this.rng.below(this.k));
    this.stepNo = 0;
  }

  choose(enabled: Int32Array, n: number): number {
    this.stepNo++;
    let best = this.highest(enabled, n);
    const cp = this.changeAt.indexOf(this.stepNo);
    if (cp >= 0) {
      this.prio[enabled[best] as number] = this.depth - 1 - cp;
      best = this.highest(enabled, n);
    }
    return best;
  }

  private highest(enabled: Int32Array, n: number): number {
    let best = 0;
    for (let i = 1; i < n; i++) if ((this.prio[enabled[i] as number] as number) > (this.prio[enabled[best] as number] as number)) best = i;
    return best;
  }
}
