/** Scenario errors: every problem as `path: expected ..., found ...`, all of them at once. */
import { SchemaIssue } from 'effect';

export interface Problem {
  readonly path: string;
  readonly message: string;
}

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`).join('\n')}`);
  }
}

/** `["actors", 1, "ops", 3, "len"]` → `actors[1].ops[3].len`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}

/** A short description of a found value, for "found ..." in messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).slice(0, 6).join(', ') || '(none)'}`;
  return typeof v;
}

function at(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p as string];
  }
  return v;
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1();

/** Turn an Effect Schema issue tree into problems, each with the value found at its path. */
export function problemsOf(issue: SchemaIssue.Issue, input: unknown, prefix: readonly PropertyKey[] = []): Problem[] {
  return formatter(issue).issues.map((i) => {
    const path = (i.path ?? []).map((p) => (typeof p === 'object' && p !== null && 'key' in p ? (p as { key: PropertyKey }).key : p)) as PropertyKey[];
    const found = at(input, path);
    const msg = i.message.replace(/^Expected no excess property$/, 'unknown key (not part of the format)');
    const tail = /unknown key|Missing key/.test(msg) ? '' : `, found ${describeValue(found)}`;
    return { path: formatPath([...prefix, ...path]), message: `${msg.replace(/^Missing key$/, 'missing (required)')}${tail}` };
  });
}
