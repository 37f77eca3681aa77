/**
 * What a schema cannot see: page numbers past the end of a VMA (an error: the access would fault
 * with SIGSEGV, and the run would explain nothing) or of a memfd (a warning: an ftruncate may grow
 * it first), operations no path of their actor reaches, and locks no operation takes.
 */
import { decodeOps } from './decode-ops.js';
import { formatPath, type Problem } from './issues.js';
import type { ScenarioSpec } from './schema.js';

export interface Checked {
  readonly errors: Problem[];
  readonly warnings: Problem[];
}

/** (VMA field, first-page field) pairs of the operations; `pages` is the count, 1 when absent. */
const VMA_RANGES: readonly [string, string][] = [
  ['vma', 'page'],
  ['dst', 'dst_page'],
  ['src', 'src_page'],
];

type Actor = NonNullable<ScenarioSpec['actors']>[number];

function vmaSizes(spec: ScenarioSpec): Map<string, { pages: number; memfd?: string; offset: number; path: string }> {
  const out = new Map<string, { pages: number; memfd?: string; offset: number; path: string }>();
  for (const [mm, m] of Object.entries(spec.world?.mms ?? {}))
    for (const [name, v] of Object.entries(m.vmas)) out.set(name, { pages: v.pages, memfd: v.memfd, offset: v.offset ?? 0, path: formatPath(['world', 'mms', mm, 'vmas', name]) });
  return out;
}

const span = (first: number, n: number) => (n === 1 ? `page ${first}` : `pages ${first}..${first + n - 1}`);

function pageRanges(spec: ScenarioSpec, a: Actor, ai: number, out: Checked): void {
  const vmas = vmaSizes(spec);
  const memfds = spec.world?.memfds ?? {};
  decodeOps(a.ops, `actors[${ai}]`, []).forEach((d, oi) => {
    if (!d) return;
    const at = `actors[${ai}].ops[${oi}]`;
    const n = typeof d.args.pages === 'number' ? d.args.pages : 1;
    for (const [vf, pf] of VMA_RANGES) {
      const v = vmas.get(String(d.args[vf]));
      const first = d.args[pf];
      if (!v || typeof first !== 'number' || d.spec.refs?.[vf] !== 'vma') continue;
      if (first + n > v.pages)
        out.errors.push({ path: `${at}.${pf}`, message: `${span(first, n)} past the end of VMA "${d.args[vf]}" (${v.pages} pages: 0..${v.pages - 1})` });
    }
    const m = typeof d.args.memfd === 'string' ? memfds[d.args.memfd] : undefined;
    if (m && typeof d.args.page === 'number' && d.args.page + n > m.pages)
      out.warnings.push({ path: `${at}.page`, message: `${span(d.args.page, n)} past the end of memfd "${d.args.memfd}" (${m.pages} pages): nothing is there unless an ftruncate grows it first` });
  });
}

function vmaPastFile(spec: ScenarioSpec, out: Checked): void {
  for (const v of vmaSizes(spec).values()) {
    const m = v.memfd ? spec.world?.memfds?.[v.memfd] : undefined;
    if (m && v.offset + v.pages > m.pages)
      out.warnings.push({ path: `${v.path}.pages`, message: `the VMA maps file pages ${v.offset}..${v.offset + v.pages - 1}, past the end of memfd "${v.memfd}" (${m.pages} pages): an access there is SIGBUS` });
  }
}

/** Operations no path from the actor's first operation reaches (after a `goto`, never jumped to). */
function unreachable(a: Actor, ai: number, out: Checked): void {
  const ops = decodeOps(a.ops, `actors[${ai}]`, []);
  const index = new Map(ops.flatMap((d, i) => (d?.label ? [[d.label, i] as const] : [])));
  const seen = new Set<number>();
  const todo = [0];
  while (todo.length) {
    const i = todo.pop() as number;
    if (i >= ops.length || seen.has(i)) continue;
    seen.add(i);
    const d = ops[i];
    if (!d) continue;
    const jumps = Object.entries(d.spec.refs ?? {}).filter(([, k]) => k === 'label').map(([f]) => index.get(String(d.args[f])));
    for (const j of jumps) if (j !== undefined) todo.push(j);
    if (d.spec.name !== 'goto') todo.push(i + 1);
  }
  for (let i = 0; i < ops.length; i++)
    if (!seen.has(i) && ops[i]) out.warnings.push({ path: `actors[${ai}].ops[${i}]`, message: `unreachable: no path from ${a.name}'s first operation gets here (it follows a goto and nothing jumps to it)` });
}

/** Locks that no operation of any actor, in any variant, names. */
function unusedLocks(specs: readonly ScenarioSpec[], out: Checked): void {
  const used = new Set<string>();
  for (const s of specs)
    for (const [ai, a] of (s.actors ?? []).entries())
      for (const d of decodeOps(a.ops, `actors[${ai}]`, []))
        for (const [f, k] of Object.entries(d?.spec.refs ?? {})) if (k === 'lock' && d) used.add(String(d.args[f]));
  for (const name of Object.keys(specs[0]?.locks ?? {}))
    if (!used.has(name)) out.warnings.push({ path: formatPath(['locks', name]), message: `lock "${name}" is declared but no operation takes it` });
}

/** The semantic checks of one scenario, over its variants' expanded actors. */
export function semanticChecks(expanded: readonly ScenarioSpec[]): Checked {
  const out: Checked = { errors: [], warnings: [] };
  const first = expanded[0];
  if (!first) return out;
  vmaPastFile(first, out);
  // A generated scenario's actors and locks come from its generator, not from the file.
  if (first.generate) return out;
  for (const s of expanded)
    for (const [ai, a] of (s.actors ?? []).entries()) {
      pageRanges(s, a, ai, out);
      unreachable(a, ai, out);
    }
  unusedLocks(expanded, out);
  const key = (p: Problem) => `${p.path}\0${p.message}`;
  const uniq = (ps: Problem[]) => ps.filter((p, i) => ps.findIndex((q) => key(q) === key(p)) === i);
  return { errors: uniq(out.errors), warnings: uniq(out.warnings) };
}
