/**
 * A portfolio of run-based strategies, itself a strategy: consecutive ranges of run numbers go to
 * each member in turn (e.g. PCT for the first half, random walk for the second), each member
 * seeing its own run numbers from 0. `memberOf` says which member a run belongs to, for findings.
 */
import type { Strategy } from './strategy.js';

export class Portfolio implements Strategy {
  readonly name: string;
  private cur: Strategy;

  /** `members`: each strategy with the number of runs it gets, in order. */
  constructor(private readonly members: readonly (readonly [Strategy, number])[]) {
    if (members.length === 0) throw new Error('a portfolio needs at least one strategy');
    this.name = `portfolio(${members.map(([s]) => s.name).join(',')})`;
    this.cur = (members[0] as readonly [Strategy, number])[0];
  }

  /** Total runs over all members. */
  get runs(): number {
    return this.members.reduce((n, [, r]) => n + r, 0);
  }

  /** The member that run `run` belongs to, and that member's own run number. */
  memberOf(run: number): { strategy: Strategy; run: number } {
    let r = run;
    for (const [s, n] of this.members) {
      if (r < n) return { strategy: s, run: r };
      r -= n;
    }
    const [s, n] = this.members[this.members.length - 1] as readonly [Strategy, number];
    return { strategy: s, run: r + n };
  }

  beginRun(run: number): void {
    const m = this.memberOf(run);
    this.cur = m.strategy;
    m.strategy.beginRun(m.run);
  }

  choose(enabled: Int32Array, n: number, w: Parameters<Strategy['choose']>[2]): number {
    return this.cur.choose(enabled, n, w);
  }
}
