/** Scenario errors: every problem as `path: expected ..., found ...`, all of them at once. */
import type { SchemaAST, SchemaIssue } from 'effect';
import { describeAst, describeValue, didYouMean, suggest } from './describe.js';

export { describeValue, suggest } from './describe.js';

/** One thing wrong with a scenario file: where (a path, and a line when known) and what. */
export interface Problem {
  /** `actors[1].ops[3].len`; empty for a problem with the whole file (YAML syntax, encoding, top level). */
  readonly path: string;
  readonly message: string;
  /** 1-based line and column in the file, when the YAML text is available. */
  readonly line?: number;
  readonly column?: number;
}

const MAX_SHOWN = 50;
const MAX_CHARS = 200;

/** A path or message cut to MAX_CHARS (a long key or string from the file is not echoed whole). */
const clip = (s: string): string => (s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS)}… (${s.length} characters)` : s);

/** The one error the loader throws: the file and every problem found in it. */
export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    const shown = problems.slice(0, MAX_SHOWN);
    const lines = shown.map((p) => `  ${file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ${clip(p.path) || '(whole file)'}: ${clip(p.message)}`);
    if (problems.length > shown.length) lines.push(`  … and ${problems.length - shown.length} more`);
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${lines.join('\n')}`);
    this.name = 'ScenarioError';
  }
}

const PLAIN_KEY = /^[A-Za-z_][\w-]*$/;

/** `["actors", 1, "ops", 3, "len"]` → `actors[1].ops[3].len` (odd keys quoted: `locks["a.b"]`). */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (PLAIN_KEY.test(String(p))) s += s ? `.${String(p)}` : String(p);
    else s += `[${JSON.stringify(String(p))}]`;
  }
  return s;
}

/** The inverse of formatPath: `actors[1].ops[3].len` → `["actors", 1, "ops", 3, "len"]`. */
export function parsePath(s: string): PropertyKey[] {
  const out: PropertyKey[] = [];
  const re = /\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([A-Za-z_][\w-]*)/gy;
  for (let m = re.exec(s); m && s.length > 0; m = re.exec(s)) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (m[2] !== undefined) out.push(JSON.parse(m[2]) as string);
    else if (m[3] !== undefined) out.push(m[3]);
    if (re.lastIndex >= s.length) break;
  }
  return out;
}

function at(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p as string];
  }
  return v;
}

const ALLOWED = new WeakMap<SchemaAST.AST, string[]>();
const SUGGEST_UP_TO = 200;

interface Ctx {
  readonly input: unknown;
  readonly out: { path: PropertyKey[]; message: string }[];
}

const isContainer = (ast: SchemaAST.AST | undefined): boolean => ast?._tag === 'Objects' || ast?._tag === 'Arrays';

function invalid(ctx: Ctx, path: PropertyKey[], expected: string, ast?: SchemaAST.AST): void {
  const found = at(ctx.input, path);
  const words = ast?._tag === 'Union' ? ast.types.flatMap((t) => (t._tag === 'Literal' && typeof t.literal === 'string' ? [t.literal] : [])) : [];
  const hint = typeof found === 'string' && words.length ? didYouMean(found, words) : '';
  ctx.out.push({ path, message: `expected ${expected}, found ${describeValue(found)}${hint}` });
}

function walk(issue: SchemaIssue.Issue, path: PropertyKey[], parent: SchemaAST.AST | undefined, ctx: Ctx): void {
  switch (issue._tag) {
    case 'Pointer':
      return walk(issue.issue, [...path, ...issue.path], parent, ctx);
    case 'Encoding':
      return walk(issue.issue, path, parent, ctx);
    case 'Composite':
      if (isContainer(issue.ast)) {
        for (const i of issue.issues) walk(i, path, issue.ast, ctx);
        return;
      }
      return invalid(ctx, path, describeAst(issue.ast));
    case 'AnyOf': {
      const inner = issue.issues;
      if (inner.length === 1 && inner[0]) return walk(inner[0], path, parent, ctx);
      return invalid(ctx, path, describeAst(issue.ast), issue.ast);
    }
    case 'Filter':
      // A check on a list or map as a whole (e.g. at most 500 operations); scalar checks arrive in a Composite.
      return invalid(ctx, path, parent ? describeAst(parent) : describeAst(undefined, issue.filter));
    case 'InvalidType':
      return invalid(ctx, path, describeAst(issue.ast));
    case 'InvalidValue': {
      const e = issue.annotations?.expected;
      return invalid(ctx, path, typeof e === 'string' ? e : 'a valid value');
    }
    case 'MissingKey': {
      const key = path[path.length - 1];
      const ps = parent?._tag === 'Objects' ? parent.propertySignatures.find((p) => p.name === key) : undefined;
      ctx.out.push({ path, message: `missing (required)${ps ? `: expected ${describeAst(ps.type)}` : ''}` });
      return;
    }
    case 'UnexpectedKey': {
      const key = String(path[path.length - 1]);
      const ast = issue.ast;
      if (ast._tag === 'Objects' && ast.indexSignatures.length > 0) {
        const param = ast.indexSignatures[0]?.parameter;
        ctx.out.push({ path, message: `${JSON.stringify(key)} is not allowed as a name here: expected ${param ? describeAst(param) : 'a name'}` });
        return;
      }
      if (key === '<<') {
        ctx.out.push({ path, message: 'YAML merge keys (<<) are not supported; write the keys out' });
        return;
      }
      let allowed = ALLOWED.get(ast);
      if (!allowed) ALLOWED.set(ast, (allowed = ast._tag === 'Objects' ? ast.propertySignatures.map((p) => String(p.name)) : []));
      // Past the problems a message shows, skip the suggestion (an edit distance to each allowed key).
      const hint = ctx.out.length < SUGGEST_UP_TO ? suggest(key, allowed) : undefined;
      ctx.out.push({ path, message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; allowed here: ${allowed.join(', ') || 'none'}` });
      return;
    }
    default:
      ctx.out.push({ path, message: `not accepted here (${issue._tag}), found ${describeValue(at(ctx.input, path))}` });
  }
}

/** Turn an Effect Schema issue tree into problems, each saying what was expected and what was found. */
export function problemsOf(issue: SchemaIssue.Issue, input: unknown, prefix: readonly PropertyKey[] = []): Problem[] {
  const ctx: Ctx = { input, out: [] };
  walk(issue, [], undefined, ctx);
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const p of ctx.out) {
    const problem = { path: formatPath([...prefix, ...p.path]), message: p.message };
    const k = `${problem.path}\0${problem.message}`;
    if (!seen.has(k)) problems.push(problem);
    seen.add(k);
  }
  return problems;
}
