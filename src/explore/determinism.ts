/**
 * The determinism check, a strategy wrapper (after Shuttle's): the first time a run number begins
 * it records, at every step, the enabled threads, the state's fingerprint and the choice; when the
 * same run begins again it checks each against the record and throws `Nondeterminism` at the first
 * difference. A model step that reads ambient state (time, Math.random, a global it mutates) shows
 * up as a second run that leaves the first one's path.
 */
import { fingerprint, type World } from '../engine/world.js';
import type { Strategy } from './strategy.js';

export class Nondeterminism extends Error {}

export class DeterminismCheck implements Strategy {
  readonly name: string;
  private readonly seen = new Map<number, number[]>();
  private readonly ends = new Map<number, string>();
  private trail: number[] = [];
  private checking = false;
  private pos = 0;
  private run = 0;
  private readonly key = new Uint32Array(2);

  constructor(private readonly inner: Strategy) {
    this.name = `determinism(${inner.name})`;
  }

  beginRun(run: number): void {
    this.run = run;
    this.pos = 0;
    const old = this.seen.get(run);
    this.checking = old !== undefined;
    if (old) this.trail = old;
    else this.seen.set(run, (this.trail = []));
    this.inner.beginRun(run);
  }

  choose(enabled: Int32Array, n: number, w: World): number {
    fingerprint(w, w.threads, this.key);
    let mask = 0;
    for (let i = 0; i < n; i++) mask |= 1 << (enabled[i] as number);
    const c = this.inner.choose(enabled, n, w);
    const rec = [mask, this.key[0] as number, this.key[1] as number, c];
    if (!this.checking) this.trail.push(...rec);
    else {
      const at = this.pos;
      for (let i = 0; i < 4; i++) {
        if (this.trail[at + i] === rec[i]) continue;
        const what = ['enabled threads', 'state fingerprint', 'state fingerprint', 'choice'][i];
        throw new Nondeterminism(`run ${this.run} is not deterministic: at step ${w.steps} the ${what} differs from the first execution`);
      }
    }
    this.pos += 4;
    return c;
  }

  /** At the end of a run: a repeated run must end like the first, in the same state with the same verdict. */
  endRun(w: World): void {
    fingerprint(w, w.threads, this.key);
    const end = `${w.steps}:${this.key[0]}:${this.key[1]}:${w.verdict?.code ?? 'ok'}:${w.verdict?.message ?? ''}`;
    const first = this.ends.get(this.run);
    if (first === undefined) this.ends.set(this.run, end);
    else if (this.pos !== this.trail.length || first !== end)
      throw new Nondeterminism(`run ${this.run} is not deterministic: it ends differently from the first execution (after ${w.steps} steps)`);
  }
}
