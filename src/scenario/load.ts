/**
 * Loading a scenario: bytes → YAML/JSON → Effect Schema → each operation against the vocabulary →
 * names across the file. Every problem found is reported, with its path, in one ScenarioError.
 */
import { closeSync, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import * as Result from 'effect/Result';
import * as Schema from 'effect/Schema';
import { BuildError, buildModel } from './build.js';
import { decodeOps } from './decode-ops.js';
import { didYouMean } from './describe.js';
import { expand } from './generate.js';
import { type Problem, ScenarioError, formatPath, problemsOf } from './issues.js';
import { knownSwitches, type RefKind } from './ops.js';
import { type ReadResult, decodeBytes, readYaml } from './read.js';
import { ScenarioSpec } from './schema.js';
import { semanticChecks } from './semantic.js';
import { worldNames } from './world.js';
// Every module that registers operations, so that loading knows the whole vocabulary.
import './mm-ops.js';
import './migrate-ops.js';
import './vma-lock-ops.js';
import './ptreclaim-ops.js';
import './filemap-ops.js';
import './uffd-ops.js';
import './thp-ops.js';
import './msg-ops.js';
import './udmabuf-ops.js';
import './pipeline-ops.js';
import './test-ops.js';
import './swap-ops.js';

export { type DecodedOp, decodeOps } from './decode-ops.js';

/** A validated scenario: the file it came from and its decoded contents. */
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

/** Scenario files larger than this are refused (`--max-file-size` raises it). */
export const DEFAULT_MAX_FILE_BYTES = 1 << 20;

/**
 * Read and validate a scenario file (a regular file of at most `maxBytes` bytes of UTF-8 text);
 * throws ScenarioError only. A FIFO, device or directory is refused before it is opened.
 */
export function loadScenarioFile(file: string, maxBytes = DEFAULT_MAX_FILE_BYTES): Scenario {
  return parseScenario(decodeBytes(readBounded(file, maxBytes), file), file);
}

function readBounded(file: string, maxBytes: number): Buffer {
  const fail = (message: string): never => {
    throw new ScenarioError(file, [{ path: '', message }]);
  };
  const tooBig = (n: string) => `the file is ${n} bytes, more than the limit of ${maxBytes} (raise it with --max-file-size)`;
  let fd = -1;
  try {
    const st = statSync(file);
    if (!st.isFile()) fail(`not a regular file (${fileKind(st)}); a scenario is a YAML or JSON file`);
    if (st.size > maxBytes) fail(tooBig(String(st.size)));
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let n = 0;
    for (let k = 1; k > 0 && n < buf.length; n += k) k = readSync(fd, buf, n, buf.length - n, null);
    if (n > maxBytes) fail(tooBig(`more than ${maxBytes}`));
    if (n === buf.length) fail('the file grew while it was read');
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    return fail(`cannot read the file (${(e as NodeJS.ErrnoException)?.code ?? 'error'})`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

function validate(read: ReadResult, file: string): Scenario {
  const byLine = (a: Problem, b: Problem) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0);
  const located = (ps: Problem[]) => ps.map((p) => ({ ...p, ...read.locate(p.path) })).sort(byLine);
  const raw = read.raw;
  const r = Schema.decodeUnknownResult(ScenarioSpec, decodeOpts)(raw);
  if (Result.isFailure(r)) throw new ScenarioError(file, located(problemsOf(r.failure.issue, raw)));
  const spec = r.success;
  const count = Object.keys(spec.variants).length;
  if (count > MAX_VARIANTS) throw new ScenarioError(file, located([{ path: 'variants', message: `expected at most ${MAX_VARIANTS} variants, found ${count}` }]));
  const problems = checkVariants(spec);
  // Variants with the same switches make the same actors and model: check and build each once.
  const bySwitches = new Map(Object.entries(spec.variants).map(([name, v]) => [switchKey(v.switches), name] as const));
  const expanded = [...new Set([...bySwitches.values()].map((name) => expand(spec, spec.variants[name]?.switches ?? {})))];
  for (const e of expanded) problems.push(...checkActors(e));
  if (!problems.length) problems.push(...semanticChecks(expanded).errors);
  if (problems.length) throw new ScenarioError(file, located(dedupe(problems)));
  const built = trialBuild({ file, spec }, [...bySwitches.values()]);
  if (built.length) throw new ScenarioError(file, located(dedupe(built)));
  return { file, spec };
}

/** The semantic warnings of a valid scenario (they do not stop it), each located in its file. */
export function scenarioWarnings(sc: Scenario, maxBytes = DEFAULT_MAX_FILE_BYTES): Problem[] {
  const read = readYaml(decodeBytes(readBounded(sc.file, maxBytes), sc.file), sc.file);
  const bySwitches = new Map(Object.values(sc.spec.variants).map((v) => [switchKey(v.switches), v.switches ?? {}] as const));
  const expanded = [...new Set([...bySwitches.values()].map((sw) => expand(sc.spec, sw)))];
  const reductions: Problem[] = [];
  if (sc.spec.view) reductions.push({ path: 'view', message: "an abstraction that may hide bugs: only the parts of the state it names are hashed, and a complete search is complete with respect to the view" });
  if (sc.spec.symmetric) reductions.push({ path: 'symmetric', message: 'states that differ only by renaming interchangeable actors are explored once; DFS runs without POR and without livelock detection' });
  return [...semanticChecks(expanded).warnings, ...reductions]
    .map((p) => ({ ...p, ...read.locate(p.path) }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** Variants a scenario may declare (each is explored separately). */
export const MAX_VARIANTS = 1000;

const switchKey = (sw: Readonly<Record<string, boolean>> | undefined): string =>
  JSON.stringify(Object.entries(sw ?? {}).filter(([, on]) => on).map(([k]) => k).sort());

const PATH_PREFIX = /^((?:world|actors|locks|generate|variants)\b[\w.[\]"-]*): (.+)$/s;

/** Build every variant once, so that what the schema cannot check (pool sizes, world references) is a problem too. */
function trialBuild(sc: Scenario, variants: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (const v of variants) {
    try {
      buildModel(sc, v);
    } catch (e) {
      if (e instanceof BuildError) problems.push({ path: e.path, message: e.message });
      else {
        const m = safeMessage(e, false);
        const at = PATH_PREFIX.exec(m);
        problems.push(at?.[1] && at[2] ? { path: at[1], message: at[2] } : { path: formatPath(['variants', v]), message: `the model of this variant cannot be built: ${m}` });
      }
    }
  }
  return problems;
}

function safeMessage(e: unknown, withName = true): string {
  try {
    return e instanceof Error ? (withName ? `${e.name}: ${e.message}` : e.message) : String(e);
  } catch {
    return 'unknown';
  }
}

function checkVariants(spec: ScenarioSpec): Problem[] {
  const problems: Problem[] = [];
  const known = new Map([...knownSwitches(), ...Object.entries(spec.switches ?? {})]);
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
    fence: new Set(spec.fences ?? []),
    switch: new Set([...knownSwitches().keys(), ...Object.keys(spec.switches ?? {})]),
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
  const what = { lock: 'lock', label: 'label in this actor', vma: 'VMA', memfd: 'memfd', mm: 'mm', actor: 'actor', fence: 'fence', switch: 'switch' }[kind];
  return `no ${what} named "${v}"${didYouMean(v, pool)} (known: ${[...pool].sort().join(', ') || 'none'})`;
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
