/** Plain-words descriptions of what a schema expects and of a value found, for scenario error messages. */
import type { SchemaAST } from 'effect';

/** A short description of a found value, for "found ..." in messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'nothing (null)';
  if (typeof v === 'string') return v === '' ? 'an empty string' : JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (v instanceof Uint8Array) return `binary data (${v.length} bytes)`;
  if (v instanceof Date) return `a date (${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  if (v instanceof Map || v instanceof Set) return `a YAML ${v instanceof Map ? 'map' : 'set'} with ${v.size} entries`;
  if (typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return 'an empty map';
    return `a map with key${keys.length === 1 ? '' : 's'} ${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}`;
  }
  return typeof v;
}

type Check = SchemaAST.Check<unknown>;

interface Bounds {
  int: boolean;
  min?: number;
  max?: number;
  minLen?: number;
  maxLen?: number;
  other: string[];
}

function collect(checks: readonly Check[] | undefined, b: Bounds): Bounds {
  for (const c of checks ?? []) {
    if (c._tag === 'FilterGroup') {
      collect(c.checks, b);
      continue;
    }
    const rep = c.annotations?.representation as { id?: string; payload?: Record<string, number> } | undefined;
    const p = rep?.payload ?? {};
    if (rep?.id === 'effect/schema/isInt') b.int = true;
    else if (rep?.id === 'effect/schema/isBetween') [b.min, b.max] = [p.minimum, p.maximum];
    else if (rep?.id === 'effect/schema/isMinLength') b.minLen = p.minLength;
    else if (rep?.id === 'effect/schema/isMaxLength') b.maxLen = p.maxLength;
    else {
      const e = c.annotations?.expected;
      b.other.push(typeof e === 'string' ? e.replace(/^a value /, '') : 'passing a check');
    }
  }
  return b;
}

function lengths(b: Bounds, unit: string): string {
  const { minLen, maxLen } = b;
  if (minLen !== undefined && maxLen !== undefined) return ` of ${minLen} to ${maxLen} ${unit}s`;
  if (minLen !== undefined) return ` of at least ${minLen} ${unit}${minLen === 1 ? '' : 's'}`;
  if (maxLen !== undefined) return ` of at most ${maxLen} ${unit}s`;
  return '';
}

const literal = (ast: SchemaAST.AST): string => (ast._tag === 'Literal' ? String(ast.literal) : describeAst(ast));

function base(ast: SchemaAST.AST, b: Bounds): string {
  switch (ast._tag) {
    case 'String':
      return `a string${lengths(b, 'character')}`;
    case 'Number':
      return `${b.int ? 'an integer' : 'a number'}${b.min !== undefined ? ` from ${b.min} to ${b.max}` : ''}`;
    case 'Boolean':
      return 'true or false';
    case 'Null':
      return 'null';
    case 'Undefined':
    case 'Void':
      return 'nothing';
    case 'Literal':
      return String(ast.literal);
    case 'Enum':
      return `one of ${ast.enums.map(([, v]) => String(v)).join(', ')}`;
    case 'Union': {
      const members = ast.types.filter((t) => t._tag !== 'Undefined');
      if (members.length === 1 && members[0]) return describeAst(members[0]);
      if (members.every((t) => t._tag === 'Literal')) return `one of ${members.map(literal).join(', ')}`;
      return members.map((t) => describeAst(t)).join(' or ');
    }
    case 'Arrays':
      return `a list${lengths(b, 'item')}`;
    case 'Objects': {
      const index = ast.indexSignatures[0];
      if (ast.propertySignatures.length === 0) return index ? `a map from names to ${describeAst(index.type)}` : 'a map';
      const opt = (p: SchemaAST.PropertySignature) => p.type.context?.isOptional === true;
      const req = ast.propertySignatures.filter((p) => !opt(p)).map((p) => String(p.name));
      const optional = ast.propertySignatures.filter(opt).map((p) => String(p.name));
      const parts = [req.length ? `keys ${req.join(', ')}` : '', optional.length ? `optional ${optional.join(', ')}` : ''].filter(Boolean);
      return `a map (${parts.join('; ')})`;
    }
    case 'Unknown':
    case 'Any':
      return 'values';
    default:
      return `a ${ast._tag.toLowerCase()}`;
  }
}

/** What a schema node accepts, in plain words: `an integer from 0 to 3`, `one of mutex, rwsem`. */
export function describeAst(ast: SchemaAST.AST | undefined, check?: Check): string {
  if (!ast) {
    const b = collect(check ? [check] : [], { int: false, other: [] });
    return [lengths(b, 'item').trim(), b.min !== undefined ? `from ${b.min} to ${b.max}` : '', ...b.other].filter(Boolean).join(', ') || 'a valid value';
  }
  const e = ast.annotations?.expected;
  if (typeof e === 'string' && !ast.checks) return e;
  const b = collect(ast.checks, { int: false, other: [] });
  const s = base(ast, b);
  return b.other.length ? `${s} (${b.other.join(', ')})` : s;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j] as number;
      d[j] = Math.min(cur + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length] as number;
}

/** The closest known name to a misspelt one (for "did you mean"), if any is close enough. */
export function suggest(name: string, known: Iterable<string>): string | undefined {
  if (name.length > 100) return undefined;
  let best: string | undefined;
  let bestD = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : distance(name, k);
    if (d <= bestD && d < name.length) [best, bestD] = [k, d];
    if (d === 0) return k;
  }
  return best;
}

/** `; did you mean "lock"?` when a known name is close to `name`, else nothing. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const s = suggest(name, known);
  return s ? `; did you mean "${s}"?` : '';
}
