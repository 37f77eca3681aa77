/**
 * Loading a scenario: bytes → YAML/JSON → Effect Schema → each operation against the vocabulary →
 * names across the file. Every problem found is reported, with its path, in one ScenarioError.
 */
import { readFileSync } from 'node:fs';
import { Result, Schema } from 'effect';
import { expand } from './generate.js';
import { type Problem, ScenarioError, describeValue, formatPath, problemsOf, suggest } from './issues.js';
import { type ReadResult, decodeBytes, readYaml } from './read.js';
import { knownSwitches, opNames, opSpec, type OpSpec, type RefKind } from './ops.js';
import { ScenarioSpec } from './schema.js';
import { worldNames } from './world.js';
import './mm-ops.js';
import './uffd-ops.js';

export interface DecodedOp {
  readonly spec: OpSpec;
  readonly args: Record<string, unknown>;
  readonly label?: string;
}

export interface Scenario {
  readonly file: string;
  readonly spec: ScenarioSpec;
}

const decodeOpts = { errors: 'all', onExcessProperty: 'error' } as const;

/** Parse and validate scenario text; throws ScenarioError (and nothing else) naming every problem. */
export function parseScenario(text: string, file: string): Scenario {
  try {
    if (typeof text !== 'string') throw new ScenarioError(file, [{ path: '', message: `not readable: expected the text of a YAML or JSON file, got ${typeof text}` }]);
    return validate(readYaml(text, file), file);
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    const deep = e instanceof RangeError && /call stack/i.test(e.message);
    const message = deep ? 'not readable: nested too deeply' : `could not be read (internal error: ${safeMessage(e)})`;
    throw new ScenarioError(file, [{ path: '', message }]);
  }
}

/** Read and validate a scenario file (bytes must be UTF-8 text); throws ScenarioError only. */
export function loadScenarioFile(file: string): Scenario {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new ScenarioError(file, [{ path: '', message: `cannot read the file (${(e as NodeJS.ErrnoException)?.code ?? 'error'})` }]);
  }
  return parseScenario(decodeBytes(bytes, file), file);
}

function validate(read: ReadResult, file: string): Scenario {
  const byLine = (a: Problem, b: Problem) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0);
  const located = (ps: Problem[]) => ps.map((p) => ({ ...p, ...read.locate(p.path) })).sort(byLine);
  const raw = read.raw;
  const r = Schema.decodeUnknownResult(ScenarioSpec, decodeOpts)(raw);
  if (Result.isFailure(r)) throw new ScenarioError(file, located(problemsOf(r.failure.issue, raw)));
  const spec = r.success;
  const problems = checkVariants(spec);
  for (const v of Object.values(spec.variants)) problems.push(...checkActors(expand(spec, v.switches ?? {})));
  if (problems.length) throw new ScenarioError(file, located(dedupe(problems)));
  return { file, spec };
}

function safeMessage(e: unknown): string {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } catch {
    return 'unknown';
  }
}

function checkVariants(spec: ScenarioSpec): Problem[] {
  const problems: Problem[] = [];
  const known = knownSwitches();
  if (Object.keys(spec.variants).length === 0) problems.push({ path: 'variants', message: 'expected at least one variant, found none' });
  for (const [name, v] of Object.entries(spec.variants)) {
    for (const s of Object.keys(v.switches ?? {})) {
      if (!known.has(s))
        problems.push({ path: formatPath(['variants', name, 'switches', s]), message: `the model has no switch "${s}"${didYouMean(s, known.keys())} (known: ${[...known.keys()].sort().join(', ') || 'none'})` });
    }
  }
  if (!spec.generate && !spec.actors) problems.push({ path: 'actors', message: 'missing (required unless `generate` is given)' });
  if (spec.generate && spec.actors) problems.push({ path: 'actors', message: 'not allowed together with `generate` (the generator makes the actors)' });
  return problems;
}

/** Declared names of each kind, for the cross-reference checks. */
export function declaredNames(spec: ScenarioSpec): Record<RefKind, Set<string>> {
  const w = spec.world ? worldNames(spec.world) : {};
  return {
    lock: new Set(Object.keys(spec.locks ?? {})),
    label: new Set(),
    vma: new Set(w.vma ?? []),
    memfd: new Set(w.memfd ?? []),
    mm: new Set(w.mm ?? []),
    actor: new Set((spec.actors ?? []).map((a) => a.name)),
  };
}

function checkActors(spec: ScenarioSpec): Problem[] {
  const problems: Problem[] = [];
  const names = declaredNames(spec);
  const seen = new Set<string>();
  (spec.actors ?? []).forEach((a, ai) => {
    const base = `actors[${ai}]`;
    if (seen.has(a.name)) problems.push({ path: `${base}.name`, message: `a second actor named "${a.name}" (names must be unique)` });
    seen.add(a.name);
    if (a.mm !== undefined && !names.mm.has(a.mm)) problems.push({ path: `${base}.mm`, message: refMessage('mm', a.mm, names.mm) });
    const decoded = decodeOps(a.ops, base, problems);
    const labels = new Set(decoded.flatMap((d) => (d?.label ? [d.label] : [])));
    decoded.forEach((d, oi) => {
      if (!d) return;
      for (const [field, kind] of Object.entries(d.spec.refs ?? {})) {
        const v = d.args[field];
        if (v === undefined) continue;
        const pool = kind === 'label' ? labels : names[kind];
        if (!pool.has(String(v))) problems.push({ path: `${base}.ops[${oi}].${field}`, message: refMessage(kind, String(v), pool) });
      }
      if (d.spec.refs && Object.values(d.spec.refs).some((k) => k === 'vma' || k === 'memfd') && a.mm === undefined && names.mm.size > 1)
        problems.push({ path: `${base}.mm`, message: `actor runs kernel operations but names no mm (known: ${[...names.mm].join(', ')})` });
    });
  });
  return problems;
}

function refMessage(kind: RefKind, v: string, pool: Set<string>): string {
  const what = { lock: 'lock', label: 'label in this actor', vma: 'VMA', memfd: 'memfd', mm: 'mm', actor: 'actor' }[kind];
  return `no ${what} named "${v}"${didYouMean(v, pool)} (known: ${[...pool].sort().join(', ') || 'none'})`;
}

function didYouMean(name: string, known: Iterable<string>): string {
  const s = suggest(name, known);
  return s ? `; did you mean "${s}"?` : '';
}

const OpLabel = Schema.optional(Schema.String);
const RESERVED_LABEL = /^(exit|op\d+)$/;

/** Decode each raw op against its vocabulary entry; undefined where it failed (problems recorded). */
export function decodeOps(raw: readonly Record<string, unknown>[], base: string, problems: Problem[]): (DecodedOp | undefined)[] {
  const labels = new Set<string>();
  return raw.map((o, oi) => {
    const path = `${base}.ops[${oi}]`;
    const { op, label } = o;
    if (typeof op !== 'string') {
      const what = op === undefined ? 'missing: every operation needs `op:`' : `expected the name of an operation, found ${describeValue(op)}`;
      problems.push({ path: `${path}.op`, message: `${what} (known: ${opNames().join(', ')})` });
      return undefined;
    }
    const spec = opSpec(op);
    if (!spec) {
      problems.push({ path: `${path}.op`, message: `unknown operation "${op}"${didYouMean(op, opNames())} (known: ${opNames().join(', ')})` });
      return undefined;
    }
    let ok = true;
    if (typeof label === 'string') {
      const bad = label === '' ? 'an empty label' : RESERVED_LABEL.test(label) ? `"${label}" (exit and op<N> are reserved)` : labels.has(label) ? `"${label}" a second time in this actor` : '';
      if (bad) problems.push({ path: `${path}.label`, message: `expected a new label name, found ${bad}` });
      labels.add(label);
      ok = !bad;
    }
    // biome-ignore lint/suspicious/noExplicitAny: op fields carry no decoding services
    const struct = Schema.Struct({ op: Schema.Literal(op), ...spec.fields, label: OpLabel }) as any;
    const r = Schema.decodeUnknownResult(struct, decodeOpts)(o);
    if (Result.isFailure(r)) {
      for (const p of problemsOf(r.failure.issue, o)) problems.push({ path: p.path.startsWith('[') ? `${path}${p.path}` : `${path}.${p.path}`, message: p.message });
      return undefined;
    }
    if (!ok) return undefined;
    const { op: _op, label: _label, ...args } = r.success as Record<string, unknown>;
    return { spec, args, label: label as string | undefined };
  });
}

function dedupe(ps: Problem[]): Problem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.path}\0${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
