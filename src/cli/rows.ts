/** The rows, findings and closing line of `mmsim explore`, in catalogue order, streamed as variants finish. */
import type { VerdictCode } from '../engine/events.js';
import type { ExploreOptions, ExploreResult } from '../explore/explore.js';
import { details, row } from './table.js';

export const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

/** The exit code: 130/143 after SIGINT/SIGTERM, else `code`. */
export const exitFor = (sig: NodeJS.Signals | null, code: number): number => (sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : code);

/** An exploration that failed with an internal error (a model that throws, a task past its limit). */
export function failedResult(scenario: string, variant: string, expected: readonly VerdictCode[], o: ExploreOptions, ms: number, message: string): ExploreResult {
  return {
    scenario, variant, strategy: o.strategy, seed: o.seed, runs: 0, steps: 0, distinctStates: 0, statesCapped: false,
    complete: false, stoppedBy: null, memoryBytes: 0, elapsedMs: ms, timeToFirstBugMs: null, findings: [], expected: [...expected],
    matchesExpectation: false, internal: message,
  };
}

/**
 * Rows of `mmsim explore`: each printed as soon as it and every row before it are done (catalogue
 * order, the same on any number of workers); on a signal, every finished row at once.
 */
export class RowPrinter {
  private readonly results: ({ r: ExploreResult; file: string } | undefined)[];
  private next = 0;
  private finished = false;

  constructor(
    n: number,
    private readonly json: boolean,
    private readonly workers: number,
  ) {
    this.results = new Array(n);
  }

  done(i: number, r: ExploreResult, file: string): void {
    if (this.finished) return;
    r.strategy = r.strategy + (this.workers > 1 ? ` x${this.workers}` : '');
    this.results[i] = { r, file };
    while (this.next < this.results.length && this.results[this.next]) this.print(this.next++);
  }

  private print(i: number): void {
    const x = this.results[i];
    if (!x) return;
    out(this.json ? JSON.stringify(x.r) : row(x.r));
  }

  /** Print what is left (rows held back, findings, the closing line) once; the exit code. */
  finish(failures: readonly string[], sig: NodeJS.Signals | null): number {
    if (this.finished) return exitFor(sig, 3);
    this.finished = true;
    for (let i = this.next; i < this.results.length; i++) this.print(i);
    const done = this.results.filter((x) => x !== undefined);
    const internal = done.filter((x) => x.r.internal);
    if (this.json) {
      if (sig) out(JSON.stringify({ partial: true, stoppedBy: 'signal', signal: sig, variants: done.length, of: this.results.length }));
    } else {
      for (const { r, file } of done) if (r.findings.length) out(`\n${details(r, file)}`);
      const ok = done.filter((x) => x.r.matchesExpectation).length;
      const extra = internal.length ? `; ${internal.length} failed with an internal error` : '';
      out(`\n${ok} of ${done.length} variants as expected${extra}${sig ? ` (partial: stopped by ${sig} after ${done.length} of ${this.results.length} variants)` : ''}`);
    }
    for (const f of failures) process.stderr.write(`${f}\n`);
    for (const { r } of internal) process.stderr.write(`mmsim: ${r.scenario}/${r.variant}: internal error: ${r.internal}\n`);
    const code = internal.length ? 3 : failures.length ? 2 : done.some((x) => !x.r.matchesExpectation) ? 1 : 0;
    return exitFor(sig, code);
  }
}
