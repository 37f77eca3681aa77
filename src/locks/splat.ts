/** A lock-order cycle written the way lockdep reports it, so kernel developers read it at a glance. */
import type { Cycle, Edge } from './lockdep.js';

/** A class key's name the way lockdep prints it: `name` or `name/subclass` (keys are class * 4 + subclass). */
export const classKeyName = (names: readonly string[], key: number): string => {
  const base = names[key >> 2] ?? `class${key >> 2}`;
  return key & 3 ? `${base}/${key & 3}` : base;
};

const origin = (names: readonly string[], e: Edge): string =>
  `  -> #${classKeyName(names, e.from)} -> ${classKeyName(names, e.to)}: first taken by ${e.origin.thread} at ${e.origin.where} (step ${e.origin.step})`;

/** The "possible circular locking dependency" splat of one cycle. */
export function formatCycle(c: Cycle, names: readonly string[]): string {
  const a = c.added;
  const lines = [
    'WARNING: possible circular locking dependency detected',
    `${a.origin.thread} is trying to acquire ${classKeyName(names, a.to)} at ${a.origin.where} while holding ${classKeyName(names, a.from)}`,
    '',
    'which lock already depends on the new lock. The existing dependency chain (in reverse order) is:',
    ...[...c.chain].reverse().map((e) => origin(names, e)),
    '',
    'the new dependency:',
    origin(names, a),
    '',
    'Possible unsafe locking scenario:',
  ];
  if (c.chain.length === 1 || c.chain.length === 0) {
    const x = classKeyName(names, a.from);
    const y = classKeyName(names, a.to);
    lines.push('       CPU0                    CPU1', '       ----                    ----');
    lines.push(`  lock(${x});`.padEnd(26), `${''.padEnd(26)}lock(${y});`, `${''.padEnd(26)}lock(${x});`, `  lock(${y});`);
    lines.push('', ' *** DEADLOCK ***');
  } else {
    lines.push(`  a cycle of ${c.chain.length + 1} lock classes: ${[a, ...c.chain].map((e) => classKeyName(names, e.from)).join(' -> ')} -> ${classKeyName(names, a.from)}`);
  }
  return lines.join('\n');
}

/** Class names of a cycle, outermost first (for short summaries). */
export function cycleClasses(c: Cycle, names: readonly string[]): string[] {
  return [c.added, ...c.chain].map((e) => classKeyName(names, e.from));
}
