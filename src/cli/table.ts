/** The result table `mmsim explore` prints, one row per scenario variant, columns sized to content. */
import type { ExploreResult } from '../explore/explore.js';

const COLS = ['scenario', 'variant', 'expected', 'found', 'ok', 'runs', 'states', 'complete', 'first bug', 'token', 'why'] as const;

function cells(r: ExploreResult): string[] {
  const bug = r.findings.find((f) => f.verdict !== 'potential-deadlock') ?? r.findings[0];
  return [
    r.scenario,
    r.variant,
    r.expected.join(',') || 'ok',
    r.findings.map((f) => f.verdict).join(',') || 'ok',
    r.matchesExpectation ? 'yes' : 'NO',
    String(r.runs),
    String(r.distinctStates),
    r.complete ? 'yes' : 'no',
    r.timeToFirstBugMs === null ? '-' : `${r.timeToFirstBugMs}ms`,
    bug?.token ?? '-',
    r.why,
  ];
}

/** The header and one row per result; every column as wide as its widest cell, the last unpadded. */
export function table(results: readonly ExploreResult[]): string {
  const rows = [[...COLS], ...results.map(cells)];
  const width = COLS.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(width[i] as number))).join('  ').trimEnd()).join('\n');
}

/** For each finding, what it is and the command that replays it. */
export function details(r: ExploreResult, file: string): string {
  const lines: string[] = [];
  for (const f of r.findings) {
    lines.push(`${r.scenario}/${r.variant}: ${f.verdict} (found by ${f.by})`);
    lines.push(...f.message.split('\n').map((l) => `    ${l}`));
    lines.push(`  replay: mmsim replay ${file} ${f.token} --variant ${r.variant}`);
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
