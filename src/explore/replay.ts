/** Follows a recorded list of choices exactly (the replay token); fails loudly if it no longer fits. */
import type { Strategy } from './strategy.js';

export class TokenMismatch extends Error {}

export class Replay implements Strategy {
  readonly name = 'replay';
  private pos = 0;

  /** `cycle`: a lasso's loop is choices[cycle..], followed again and again once reached. */
  constructor(
    private readonly choices: readonly number[],
    private readonly cycle?: number,
  ) {}

  beginRun(): void {
    this.pos = 0;
  }

  choose(_enabled: Int32Array, n: number): number {
    if (n === 1) return 0;
    const c = this.at(this.pos++);
    if (c >= n) throw new TokenMismatch(`choice ${this.pos} is ${c} but only ${n} threads are enabled there`);
    return c;
  }

  private at(pos: number): number {
    const len = this.choices.length;
    if (pos < len) return this.choices[pos] as number;
    if (this.cycle === undefined || this.cycle === len) throw new TokenMismatch(`the token ends after ${pos} choices but the run goes on`);
    return this.choices[this.cycle + ((pos - this.cycle) % (len - this.cycle))] as number;
  }

  /** Choices used so far. */
  get position(): number {
    return this.pos;
  }

  /** Choices in a lasso's loop (0 without one). */
  get loopLength(): number {
    return this.cycle === undefined ? 0 : this.choices.length - this.cycle;
  }

  /** True when every recorded choice was used. */
  get consumed(): boolean {
    return this.pos >= this.choices.length;
  }
}
