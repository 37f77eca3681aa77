/** Follows a recorded list of choices exactly (the replay token); fails loudly if it no longer fits. */
import type { Strategy } from './strategy.js';

export class TokenMismatch extends Error {}

export class Replay implements Strategy {
  readonly name = 'replay';
  private pos = 0;

  constructor(private readonly choices: readonly number[]) {}

  beginRun(): void {
    this.pos = 0;
  }

  choose(_enabled: Int32Array, n: number): number {
    if (n === 1) return 0;
    if (this.pos >= this.choices.length) throw new TokenMismatch(`the token ends after ${this.pos} choices but the run goes on`);
    const c = this.choices[this.pos++] as number;
    if (c >= n) throw new TokenMismatch(`choice ${this.pos} is ${c} but only ${n} threads are enabled there`);
    return c;
  }

  /** True when every recorded choice was used. */
  get consumed(): boolean {
    return this.pos === this.choices.length;
  }
}
