/** The result table `mmsim explore` prints, one row per scenario variant. */
import type { ExploreResult } from '../explore/explore.js';
import { replayCommand } from '../trace/index.js';

const COLS = ['scenario', 'variant', 'expected', 'found', 'ok', 'runs', 'states', 'complete', 'first bug', 'token'] as const;
const WIDTH = [24, 16, 30, 30, 3, 8, 9, 16, 9, 0];

export function header(): string {
  return COLS.map((c, i) => c.padEnd(WIDTH[i] as number)).join(' ');
}

export function row(r: ExploreResult): string {
  const found: string[] = r.findings.map((f) => f.verdict);
  if (r.internal) found.push('internal');
  const bug = r.findings.find((f) => f.verdict !== 'potential-deadlock') ?? r.findings[0];
  const cells = [
    r.scenario,
    r.variant,
    r.expected.join(',') || 'ok',
    found.join(',') || 'ok',
    r.matchesExpectation ? 'yes' : 'NO',
    String(r.runs),
    `${r.distinctStates}${r.statesCapped ? '+' : ''}`,
    r.complete ? 'yes' : r.stoppedBy ? `no (${r.stoppedBy})` : 'no',
    r.timeToFirstBugMs === null ? '-' : `${r.timeToFirstBugMs}ms`,
    bug?.token ?? '-',
  ];
  return cells.map((c, i) => c.padEnd(WIDTH[i] as number)).join(' ');
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
