/**
 * Loading a scenario: bytes → YAML/JSON → Effect Schema → each operation against the vocabulary →
 * names across the file. Every problem found is reported, with its path, in one ScenarioError.
 */
import { readFileSync } from 'node:fs';
import { Result, Schema } from 'effect';
import { parseDocument } from 'yaml';
import { expand } from './generate.js';
import { type Problem, ScenarioError, describeValue, problemsOf } from './issues.js';
import { knownSwitches, opNames, opSpec, type OpSpec, type RefKind } from './ops.js';
import { ScenarioSpec } from './schema.js';
import { worldNames } from './world.js';
import './mm-ops.js';

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

/** Parse and validate scenario text; throws ScenarioError naming every problem. */
export function parseScenario(text: string, file: string): Scenario {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ScenarioError(
      file,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '', message: `not valid YAML/JSON: ${e.message.split('\n')[0]}` })),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const r = Schema.decodeUnknownResult(ScenarioSpec, decodeOpts)(raw);
  if (Result.isFailure(r)) throw new ScenarioError(file, problemsOf(r.failure.issue, raw));
  const spec = r.success;
  const problems = checkVariants(spec);
  for (const [name, v] of Object.entries(spec.variants)) problems.push(...checkActors(expand(spec, v.switches ?? {}), name));
  if (problems.length) throw new ScenarioError(file, dedupe(problems));
  return { file, spec };
}

/** Read and validate a scenario file (bytes must be UTF-8 text). */
export function loadScenarioFile(file: string): Scenario {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new ScenarioError(file, [{ path: '', message: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ScenarioError(file, [{ path: '', message: 'not UTF-8 text (a scenario is a YAML or JSON file)' }]);
  }
  return parseScenario(text, file);
}

function checkVariants(spec: ScenarioSpec): Problem[] {
  const problems: Problem[] = [];
  const known = knownSwitches();
  if (Object.keys(spec.variants).length === 0) problems.push({ path: 'variants', message: 'expected at least one variant, found none' });
  for (const [name, v] of Object.entries(spec.variants)) {
    for (const s of Object.keys(v.switches ?? {})) {
      if (!known.has(s))
        problems.push({ path: `variants.${name}.switches.${s}`, message: `the model has no switch "${s}" (known: ${[...known.keys()].sort().join(', ')})` });
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

function checkActors(spec: ScenarioSpec, variant: string): Problem[] {
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
  return variant ? problems : problems;
}

function refMessage(kind: RefKind, v: string, pool: Set<string>): string {
  const what = { lock: 'lock', label: 'label in this actor', vma: 'VMA', memfd: 'memfd', mm: 'mm', actor: 'actor' }[kind];
  return `no ${what} named "${v}" (known: ${[...pool].sort().join(', ') || 'none'})`;
}

/** Decode each raw op against its vocabulary entry; undefined where it failed (problems recorded). */
export function decodeOps(raw: readonly Record<string, unknown>[], base: string, problems: Problem[]): (DecodedOp | undefined)[] {
  return raw.map((o, oi) => {
    const path = `${base}.ops[${oi}]`;
    const { op, label, ...rest } = o;
    if (typeof op !== 'string') {
      problems.push({ path: `${path}.op`, message: `expected the name of an operation, found ${describeValue(op)}` });
      return undefined;
    }
    const spec = opSpec(op);
    if (!spec) {
      problems.push({ path: `${path}.op`, message: `unknown operation "${op}" (known: ${opNames().join(', ')})` });
      return undefined;
    }
    if (label !== undefined && (typeof label !== 'string' || label.length === 0 || label === 'exit')) {
      problems.push({ path: `${path}.label`, message: `expected a label name (not "exit"), found ${describeValue(label)}` });
      return undefined;
    }
    // biome-ignore lint/suspicious/noExplicitAny: op fields carry no decoding services
    const r = Schema.decodeUnknownResult(Schema.Struct(spec.fields) as any, decodeOpts)(rest);
    if (Result.isFailure(r)) {
      for (const p of problemsOf(r.failure.issue, rest)) problems.push({ path: p.path ? `${path}.${p.path}` : path, message: p.message });
      return undefined;
    }
    return { spec, args: r.success as Record<string, unknown>, label: label as string | undefined };
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
