/**
 * The result table `mmsim explore` prints, one row per scenario variant. Rows are printed as variants
 * finish, so the column widths are fixed before the first row (see `layout`).
 */
import type { VerdictCode } from '../engine/events.js';
import type { ExploreResult, StopReason } from '../explore/explore.js';
import { replayCommand } from '../trace/index.js';

const COLS = ['scenario', 'variant', 'expected', 'found', 'ok', 'runs', 'states', 'complete', 'first bug', 'token', 'why'] as const;

/** What is known of a row before its variant is explored. */
export interface RowKey {
  readonly scenario: string;
  readonly variant: string;
  readonly expected: readonly VerdictCode[];
}

const STOPS: readonly StopReason[] = ['signal', 'max-memory', 'budget', 'task-limit', 'max-states', 'max-steps'];

/** Usual widths of the columns only exploring fills: runs, states, first bug, token. */
const USUAL = { runs: 6, states: 7, firstBug: 7, token: 24 };

function cells(r: ExploreResult): string[] {
  const found: string[] = r.findings.map((f) => f.verdict);
  if (r.internal) found.push('internal');
  const bug = r.findings.find((f) => f.verdict !== 'potential-deadlock') ?? r.findings[0];
  return [
    r.scenario,
    r.variant,
    expectedCell(r.expected),
    found.join(',') || 'ok',
    r.matchesExpectation ? 'yes' : 'NO',
    String(r.runs),
    `${r.distinctStates}${r.statesCapped ? '+' : ''}`,
    r.complete ? 'yes' : r.stoppedBy ? `no (${r.stoppedBy})` : 'no',
    r.timeToFirstBugMs === null ? '-' : `${r.timeToFirstBugMs}ms`,
    bug?.token ?? '-',
    r.why,
  ];
}

const expectedCell = (e: readonly VerdictCode[]) => e.join(',') || 'ok';

/**
 * Column widths for the rows to come: names and expectations as wide as the widest of them, `found`
 * as wide as the widest expectation, `complete` as its widest value, the other columns as wide as
 * their header or usual content. A wider cell pushes the rest of its own row right.
 */
export function layout(keys: readonly RowKey[]): number[] {
  const widest = (cs: readonly string[]) => Math.max(0, ...cs.map((c) => c.length));
  const expected = widest(keys.map((k) => expectedCell(k.expected)));
  const known = [
    widest(keys.map((k) => k.scenario)),
    widest(keys.map((k) => k.variant)),
    expected,
    expected,
    3,
    USUAL.runs,
    USUAL.states,
    widest(['yes', ...STOPS.map((s) => `no (${s})`)]),
    USUAL.firstBug,
    USUAL.token,
    0,
  ];
  return COLS.map((c, i) => Math.max(c.length, known[i] as number));
}

function line(cs: readonly string[], width: readonly number[]): string {
  return cs.map((c, i) => (i === cs.length - 1 ? c : c.padEnd(width[i] as number))).join('  ').trimEnd();
}

export function header(width: readonly number[]): string {
  return line(COLS, width);
}

/** One result's row; the last column (why) is unpadded. */
export function row(r: ExploreResult, width: readonly number[]): string {
  return line(cells(r), width);
}

/** For each finding, what it is and the command that replays it. */
export function details(r: ExploreResult, file: string): string {
  const lines: string[] = [];
  for (const f of r.findings) {
    lines.push(`${r.scenario}/${r.variant}: ${f.verdict} (found by ${f.by})`);
    lines.push(...f.message.split('\n').map((l) => `    ${l}`));
    lines.push(`  replay: ${replayCommand(file, f.token, r.variant)}`);
  }
  return lines.join('\n');
}

/** `--coverage`: each procedure's labels reached and not reached over the whole exploration (as TLC's coverage). */
export function coverage(r: ExploreResult): string {
  const lines = [`coverage of ${r.scenario}/${r.variant} (labels reached / all):`];
  for (const c of r.coverage ?? []) {
    const n = c.reached.length + c.unreached.length;
    lines.push(`  ${c.proc} (${c.cite}): ${c.reached.length}/${n}${c.unreached.length ? `; not reached: ${c.unreached.join(', ')}` : ''}`);
  }
  return lines.join('\n');
}
