/** The rows, findings and closing line of `mmsim explore`, in catalogue order, streamed as variants finish. */
import type { VerdictCode } from '../engine/events.js';
import type { ExploreOptions, ExploreResult } from '../explore/explore.js';
import type { Reported } from './reports.js';
import { coverage, details, header, layout, type RowKey, row } from './table.js';

export const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

/** The exit code: 130/143 after SIGINT/SIGTERM, else `code`. */
export const exitFor = (sig: NodeJS.Signals | null, code: number): number => (sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : code);

/** An exploration that failed with an internal error (a model that throws, a task past its limit). */
export function failedResult(scenario: string, variant: string, expected: readonly VerdictCode[], o: ExploreOptions, ms: number, message: string): ExploreResult {
  return {
    scenario, variant, strategy: o.strategy, seed: o.seed, runs: 0, steps: 0, distinctStates: 0, statesCapped: false,
    complete: false, stoppedBy: null, memoryBytes: 0, startupMs: 0, elapsedMs: ms, timeToFirstBugMs: null, findings: [], expected: [...expected],
    matchesExpectation: false, why: `internal error: ${message.split('\n')[0]}`, internal: message,
  };
}

/** How `mmsim explore` prints: JSON Lines, one JSON array at the end, or the table (with --coverage). */
export interface RowFormat {
  readonly json: boolean;
  readonly jsonArray: boolean;
  readonly coverage: boolean;
  readonly workers: number;
  /** Called once with every finished variant (JUnit and SARIF files), also after a signal. */
  readonly reports?: (done: readonly Reported[]) => void;
}

/**
 * Rows of `mmsim explore`: each printed as soon as it and every row before it are done (catalogue
 * order, the same on any number of workers); on a signal, every finished row at once.
 */
export class RowPrinter {
  private readonly results: (Reported | undefined)[];
  private readonly width: number[];
  private next = 0;
  private finished = false;

  constructor(
    keys: readonly RowKey[],
    private readonly f: RowFormat,
  ) {
    this.results = new Array(keys.length);
    this.width = layout(keys);
    if (!f.json && !f.jsonArray) out(header(this.width));
  }

  done(i: number, r: ExploreResult, file: string): void {
    if (this.finished) return;
    r.strategy = r.strategy + (this.f.workers > 1 ? ` x${this.f.workers}` : '');
    this.results[i] = { r, file };
    while (this.next < this.results.length && this.results[this.next]) this.print(this.next++);
  }

  private print(i: number): void {
    const x = this.results[i];
    if (!x || this.f.jsonArray) return;
    out(this.f.json ? JSON.stringify(x.r) : row(x.r, this.width));
  }

  /** Print what is left (rows held back, findings, the closing line) once; the exit code. */
  finish(failures: readonly string[], sig: NodeJS.Signals | null): number {
    if (this.finished) return exitFor(sig, 3);
    this.finished = true;
    for (let i = this.next; i < this.results.length; i++) this.print(i);
    const done = this.results.filter((x) => x !== undefined);
    const internal = done.filter((x) => x.r.internal);
    const partial = `partial: stopped by ${sig} after ${done.length} of ${this.results.length} variants`;
    if (this.f.jsonArray) {
      out(JSON.stringify(done.map((x) => x.r)));
      if (sig) process.stderr.write(`mmsim: ${partial}\n`);
    } else if (this.f.json) {
      if (sig) out(JSON.stringify({ partial: true, stoppedBy: 'signal', signal: sig, variants: done.length, of: this.results.length }));
    } else {
      for (const { r, file } of done) if (r.findings.length) out(`\n${details(r, file)}`);
      if (this.f.coverage) for (const { r } of done) if (!r.internal) out(`\n${coverage(r)}`);
      const ok = done.filter((x) => x.r.matchesExpectation).length;
      const extra = internal.length ? `; ${internal.length} failed with an internal error` : '';
      out(`\n${ok} of ${done.length} variants as expected${extra}${sig ? ` (${partial})` : ''}`);
    }
    this.f.reports?.(done);
    for (const f of failures) process.stderr.write(`${f}\n`);
    for (const { r } of internal) process.stderr.write(`mmsim: ${r.scenario}/${r.variant}: internal error: ${r.internal}\n`);
    const code = internal.length ? 3 : failures.length ? 2 : done.some((x) => !x.r.matchesExpectation) ? 1 : 0;
    return exitFor(sig, code);
  }
}
