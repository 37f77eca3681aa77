/**
 * Lock-order findings written the way lockdep prints them (kernel/locking/lockdep.c:
 * print_circular_bug_header, print_circular_bug_entry, print_circular_lock_scenario,
 * lockdep_print_held_locks), so kernel developers read them at a glance. A task is named by its
 * actor; an address by the actor's call stack of `proc:label` steps.
 */
import type { Cycle, Edge, HeldClass, RuleViolation } from './lockdep.js';

/** A class key's name the way lockdep prints it: `name` or `name/subclass` (keys are class * 4 + subclass). */
export const classKeyName = (names: readonly string[], key: number): string => {
  const base = names[key >> 2] ?? `class${key >> 2}`;
  return key & 3 ? `${base}/${key & 3}` : base;
};

/** lockdep's `(class){mode}`: the mode of the acquisition that made the dependency (read or write). */
const cls = (names: readonly string[], key: number, mode: 'r' | 'w' | undefined): string =>
  `(${classKeyName(names, key)}){${mode === 'r' ? 'read' : 'write'}}`;

export const banner = (title: string): string[] => {
  const bar = '='.repeat(Math.max(38, title.length));
  return ['', bar, title, '-'.repeat(bar.length)];
};

/** "N locks held by T:" and one ` #i: (class){mode}, at: lock` line each (lockdep_print_held_locks). */
export function heldLines(task: string, held: readonly HeldClass[], names: readonly string[]): string[] {
  if (!held.length) return [`no locks held by ${task}.`];
  return [
    `${held.length} lock${held.length === 1 ? '' : 's'} held by ${task}:`,
    ...held.map((h, i) => ` #${i}: ${cls(names, h.key, h.mode)}, instance: ${h.name}`),
  ];
}

/** Where an edge was first seen: actor, step, and the code path (innermost step first). */
function seenAt(e: Edge): string[] {
  const o = e.origin;
  const stack = o.stack?.length ? [...o.stack].reverse() : [o.where];
  return [`       first seen: ${o.thread}, step ${o.step}`, ...stack.map((s) => `       ${s}`)];
}

/** The two-CPU table of print_circular_lock_scenario; for a longer chain, "Chain exists of:" first. */
function scenario(source: string, parent: string, target: string): string[] {
  const lines: string[] = [];
  if (parent !== source) lines.push('Chain exists of:', `  ${source} --> ${parent} --> ${target}`, '');
  const col = (s: string) => `  ${s}`.padEnd(33);
  lines.push(
    ' Possible unsafe locking scenario:',
    '',
    `${col('     CPU0')}CPU1`,
    `${col('     ----')}----`,
    col(`lock(${target});`).trimEnd(),
    `${col('')}lock(${parent});`,
    `${col('')}lock(${target});`,
    col(`lock(${source});`).trimEnd(),
    '',
    ' *** DEADLOCK ***',
    '',
  );
  return lines;
}

/**
 * The "possible circular locking dependency" splat of one cycle: the added edge prev → next closes
 * the existing chain next → ... → prev. Entries are numbered as lockdep does: #0 is the lock being
 * taken, #k the held one.
 */
export function formatCycle(c: Cycle, names: readonly string[]): string {
  const a = c.added;
  const o = a.origin;
  const prevMode = o.held?.find((h) => h.key === a.from)?.mode;
  const entries = [...c.chain].reverse();
  const lines = [
    ...banner('WARNING: possible circular locking dependency detected'),
    `${o.thread} is trying to acquire lock:`,
    `${cls(names, a.to, o.mode)}, at: ${o.where}`,
    '',
    'but task is already holding lock:',
    `${cls(names, a.from, prevMode)}, instance: ${o.heldWhere}`,
    '',
    'which lock already depends on the new lock.',
    '',
    'the existing dependency chain (in reverse order) is:',
  ];
  for (const [i, e] of entries.entries()) lines.push('', `-> #${entries.length - i} ${cls(names, e.to, e.origin.mode)}:`, ...seenAt(e));
  lines.push('', `-> #0 ${cls(names, a.to, o.mode)}:`, ...seenAt(a), '', 'other info that might help us debug this:', '');
  const parentKey = c.chain.length ? (c.chain[c.chain.length - 1] as Edge).from : a.to;
  lines.push(...scenario(classKeyName(names, a.to), classKeyName(names, parentKey), classKeyName(names, a.from)));
  lines.push(...heldLines(o.thread, o.held ?? [{ key: a.from, mode: prevMode ?? 'w', name: o.heldWhere }], names));
  return lines.join('\n');
}

/**
 * A blocking acquisition against the model's documented lock hierarchy (the order comments of
 * mm/rmap.c and mm/filemap.c): lockdep would close the cycle against the documented chain, so the
 * splat has the same shape, with that rule as the existing dependency.
 */
export function formatViolation(v: RuleViolation, names: readonly string[]): string {
  const from = classKeyName(names, v.from * 4);
  const to = classKeyName(names, v.to * 4);
  const [rule = ''] = v.message.split('\n');
  const heldMode = v.held?.find((h) => h.key >> 2 === v.from)?.mode;
  return [
    ...banner('WARNING: possible circular locking dependency detected'),
    `${v.thread} is trying to acquire lock:`,
    `${cls(names, v.to * 4, v.mode)}, at: ${v.where}`,
    '',
    'but task is already holding lock:',
    `${cls(names, v.from * 4, heldMode)}, instance: ${v.heldWhere}`,
    '',
    'which lock already depends on the new lock.',
    '',
    'the existing dependency chain (in reverse order) is:',
    '',
    `-> #1 ${cls(names, v.from * 4, heldMode)}:`,
    `       the documented lock order: ${rule}`,
    '',
    `-> #0 ${cls(names, v.to * 4, v.mode)}:`,
    `       first seen: ${v.thread}, step ${v.step}`,
    `       ${v.where}`,
    '',
    'other info that might help us debug this:',
    '',
    ...scenario(to, to, from),
    ...heldLines(v.thread, v.held ?? [], names),
  ].join('\n');
}

/** Class names of a cycle, outermost first (for short summaries). */
export function cycleClasses(c: Cycle, names: readonly string[]): string[] {
  return [c.added, ...c.chain].map((e) => classKeyName(names, e.from));
}
