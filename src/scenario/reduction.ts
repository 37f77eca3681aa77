/**
 * A scenario's `view:` and `symmetric:` resolved against its built model into the state-key
 * reduction of src/engine/state-key.ts. Names that do not exist, groups whose actors differ and
 * worlds where renaming threads is not known to be sound are build errors (file, path, expectation).
 */
import type { Model } from '../engine/model.js';
import type { Region } from '../engine/layout.js';
import type { Reduction, SymmetryLayout } from '../engine/state-key.js';
import { MAX_PINS } from '../kernel/defs.js';
import { L_OWNER, LockKind, LOCK_STRIDE, THREAD_STRIDE } from '../locks/space.js';
import { BuildError } from './build.js';
import type { ScenarioSpec } from './schema.js';

/** Regions whose slots hold no thread id, or only where SymmetryLayout renames it. */
const SYMMETRIC_REGIONS = /^(mm|pmd\..*|vma|pgtable|folio|mapping|mirror|pins|thp|lock|thread|reader)$/;
/** Fields that hold a bitmask of threads, by region. */
const MASK_FIELDS: Readonly<Record<string, readonly string[]>> = { mm: ['waitq', 'uffd_wq'], mapping: ['waitq'], pgtable: ['gp'] };

const list = (xs: readonly string[], max = 12): string => (xs.length > max ? `${xs.slice(0, max).join(', ')}, ...` : xs.join(', '));

/** The model with the reduction the scenario asks for (the model itself when it asks for none). */
export function withReduction(model: Model, spec: ScenarioSpec): Model {
  if (!spec.view && !spec.symmetric) return model;
  if (spec.view && spec.symmetric) throw new BuildError('symmetric', 'not allowed together with `view` (use one reduction at a time)');
  const reduction = spec.view ? viewOf(model, spec.view) : symmetryOf(model, spec);
  // A script procedure's key hashes its actor's name: members hash as their group's first actor.
  const lead = new Map(reduction.groups.flatMap((g) => g.map((t) => [t, g[0] as number] as const)));
  const threads = model.threads.map((d, t) => (lead.has(t) ? { ...d, entry: { ...d.entry, key: (model.threads[lead.get(t) as number] as typeof d).entry.key } } : d));
  return { ...model, threads, reduction };
}

function viewOf(model: Model, entries: readonly string[]): Reduction {
  const slots = new Set<number>();
  const threads = new Uint8Array(model.threads.length);
  const names = model.threads.map((t) => t.name);
  entries.forEach((e, i) => {
    const path = `view[${i}]`;
    if (e === 'actors' || e === 'actors.pc') {
      threads.fill(e === 'actors' ? 2 : 1);
      return;
    }
    if (e.startsWith('actor:')) {
      const pc = e.endsWith('.pc') && !names.includes(e.slice(6));
      const name = pc ? e.slice(6, -3) : e.slice(6);
      const t = names.indexOf(name);
      if (t < 0) throw new BuildError(path, `no actor "${name}" (actors: ${list(names)})`);
      threads[t] = Math.max(threads[t] as number, pc ? 1 : 2);
      return;
    }
    if (e.startsWith('lock:')) {
      const l = model.locks.findIndex((x) => x.name === e.slice(5));
      if (l < 0) throw new BuildError(path, `no lock "${e.slice(5)}" (locks: ${list(model.locks.map((x) => x.name))})`);
      for (let o = 0; o < LOCK_STRIDE; o++) slots.add(model.lockBase + l * LOCK_STRIDE + o);
      return;
    }
    for (const s of regionSlots(model.layout.regions, e, path)) slots.add(s);
  });
  // A lock's read holds are per-thread counts (../locks/space.ts); they go with its owner slot.
  const nlocks = model.locks.length;
  for (let l = 0; l < nlocks; l++)
    if (slots.has(model.lockBase + l * LOCK_STRIDE + L_OWNER)) for (let t = 0; t < model.threads.length; t++) slots.add(model.readerBase + t * nlocks + l);
  const memory = model.layout.length;
  const shown = [...threads].filter((m) => m > 0).length;
  return {
    view: { slots: Int32Array.from([...slots].sort((a, b) => a - b)), threads },
    groups: [],
    symmetry: null,
    warnings: [
      `view: only ${slots.size} of ${memory} memory slots and ${shown} of ${threads.length} thread stacks are hashed; states equal on the view are explored once. This is an abstraction that may hide bugs: "complete" means complete with respect to the view`,
    ],
  };
}

/** The slots of `REGION`, `REGION.FIELD`, `REGION[i]` or `REGION[i].FIELD` (a region family such as `pmd` names every `pmd.*`). */
function regionSlots(regions: readonly Region[], e: string, path: string): number[] {
  const m = /^(.*?)(?:\[(\d+)\])?(?:\.([A-Za-z_]\w*))?$/.exec(e) as RegExpExecArray;
  const byName = (n: string) => regions.filter((r) => r.name === n || r.name.startsWith(`${n}.`));
  // `pmd.P` is a region name; `folio.refcount` is a region and a field: try the longer name first.
  let hit = byName(e);
  let index: number | undefined;
  let field: string | undefined;
  if (!hit.length) {
    hit = byName(m[1] as string);
    index = m[2] === undefined ? undefined : Number(m[2]);
    field = m[3];
  }
  if (!hit.length) {
    const known = [...new Set(regions.map((r) => r.name))];
    throw new BuildError(path, `no region "${m[1]}" (regions: ${list(known, 30)}; or lock:NAME, actors, actors.pc, actor:NAME, actor:NAME.pc)`);
  }
  const out: number[] = [];
  for (const r of hit) {
    if (index !== undefined && index >= r.count) throw new BuildError(path, `region "${r.name}" has ${r.count} records: expected an index from 0 to ${r.count - 1}`);
    const f = field === undefined ? -1 : r.fields.indexOf(field);
    if (field !== undefined && f < 0) throw new BuildError(path, `region "${r.name}" has no field "${field}" (fields: ${list(r.fields as string[], 30)})`);
    for (let k = index ?? 0; k < (index === undefined ? r.count : index + 1); k++)
      for (let o = 0; o < r.stride; o++) if (f < 0 || o === f) out.push(r.base + k * r.stride + o);
  }
  return out;
}

/** The groups `symmetric:` names (or `auto` detects), checked to run the same operations. */
function symmetryOf(model: Model, spec: ScenarioSpec): Reduction {
  const actors = spec.actors ?? [];
  const names = actors.map((a) => a.name);
  const sameness = (i: number) => JSON.stringify({ mm: actors[i]?.mm, protocol: actors[i]?.protocol, ops: actors[i]?.ops });
  let groups: number[][];
  const s = spec.symmetric;
  if (s === 'auto') {
    const by = new Map<string, number[]>();
    actors.forEach((_, i) => {
      by.set(sameness(i), [...(by.get(sameness(i)) ?? []), i]);
    });
    groups = [...by.values()].filter((g) => g.length > 1);
  } else {
    const lists = (s as readonly (string | readonly string[])[]).every((x) => typeof x === 'string') ? [s as readonly string[]] : (s as readonly (readonly string[])[]);
    const flat = lists !== s;
    const seen = new Set<number>();
    groups = lists.map((g, gi) =>
      g.map((n, ni) => {
        const path = flat ? `symmetric[${ni}]` : `symmetric[${gi}][${ni}]`;
        const t = names.indexOf(n);
        if (t < 0) throw new BuildError(path, `no actor "${n}" (actors: ${list(names)})`);
        if (seen.has(t)) throw new BuildError(path, `actor "${n}" is named twice (each actor may be in one group)`);
        seen.add(t);
        return t;
      }),
    );
    groups.forEach((g, gi) => {
      for (const t of g.slice(1))
        if (sameness(t) !== sameness(g[0] as number))
          throw new BuildError(flat ? 'symmetric' : `symmetric[${gi}]`, `actors "${names[g[0] as number]}" and "${names[t]}" do not run the same operations with the same arguments in the same mm: renaming them is no symmetry`);
    });
  }
  groups = groups.map((g) => [...g].sort((a, b) => a - b));
  const symmetry = groups.length ? symmetryLayout(model) : null;
  const shown = groups.map((g) => g.map((t) => names[t]).join(', ')).join('; ');
  return {
    view: null,
    groups,
    symmetry,
    warnings: [
      groups.length
        ? `symmetric: interchangeable actors (${shown}): states that differ only by renaming them are explored once (distinct states count those classes); DFS runs without POR and without livelock detection`
        : 'symmetric: auto found no two actors with the same operations: no reduction',
    ],
  };
}

/** Where thread ids sit in this model's memory, or a build error where renaming them is not known to be sound. */
function symmetryLayout(model: Model): SymmetryLayout {
  const refuse = (why: string) => new BuildError('symmetric', `not supported in this scenario: ${why}; remove \`symmetric\``);
  if (model.actorBase >= 0 || model.fences.length) throw refuse('actors with protocols or fences (mailboxes hold sender ids)');
  if (model.locks.some((l) => l.kind === LockKind.WwMutex)) throw refuse('a ww_mutex (acquire stamps order threads)');
  const other = model.layout.regions.find((r) => !SYMMETRIC_REGIONS.test(r.name));
  if (other) throw refuse(`region "${other.name}" may hold thread ids that are not renamed`);
  const blocks: [number, number][] = [[model.threadBase, THREAD_STRIDE]];
  if (model.locks.length) blocks.push([model.readerBase, model.locks.length]);
  const masks: number[] = [];
  for (const r of model.layout.regions) {
    if (r.name === 'pins') blocks.push([r.base, MAX_PINS]);
    for (const f of MASK_FIELDS[r.name] ?? []) {
      const o = r.fields.indexOf(f);
      if (o >= 0) for (let k = 0; k < r.count; k++) masks.push(r.base + k * r.stride + o);
    }
  }
  const owners = Int32Array.from(model.locks, (_, l) => model.lockBase + l * LOCK_STRIDE + L_OWNER);
  return { blocks, owners, masks: Int32Array.from(masks) };
}
