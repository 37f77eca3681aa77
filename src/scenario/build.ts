/** From a validated scenario and a variant name to a Model the engine can run. */
import { compileScript } from '../../actors/script.js';
import { ModelBuilder, type Model } from '../engine/model.js';
import { LockKind } from '../locks/space.js';
import type { MmId } from '../kernel/ids.js';
import { expand } from './generate.js';
import { decodeOps } from './decode-ops.js';
import type { Scenario } from './load.js';
import type { CompileEnv, RefKind } from './ops.js';
import { buildWorld } from './world.js';
import { ProtocolSpecError, scenarioProtocols } from './protocols.js';
import { withReduction } from './reduction.js';

const KINDS: Record<string, LockKind> = {
  spinlock: LockKind.Spin,
  mutex: LockKind.Mutex,
  rwsem: LockKind.Rwsem,
  folio_lock: LockKind.Folio,
  ww_mutex: LockKind.WwMutex,
};

/** Asked for a variant the scenario does not have. */
export class UnknownVariant extends Error {}

/** A scenario that validated but whose model cannot be built; `path` is where in the file. */
export class BuildError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The variant names of a scenario, in file order. */
export function variantNames(sc: Scenario): string[] {
  return Object.keys(sc.spec.variants);
}

/** Build the model of one variant (the scenario was validated when loaded). */
export function buildModel(sc: Scenario, variant: string): Model {
  const v = sc.spec.variants[variant];
  if (!v) throw new UnknownVariant(`${sc.spec.name} has no variant "${variant}" (known: ${variantNames(sc).join(', ')})`);
  const switches = v.switches ?? {};
  const spec = expand(sc.spec, switches);
  const b = new ModelBuilder(`${spec.name}/${variant}`, { ...switches });
  let world: ReturnType<typeof buildWorld> = {};
  try {
    if (spec.world) world = buildWorld(b, spec.world);
  } catch (e) {
    const m = messageOf(e);
    throw /^world\b/.test(m) ? e : new BuildError('world', m);
  }
  const lockNames = new Map<string, number>();
  for (const [name, l] of Object.entries(spec.locks ?? {})) lockNames.set(name, b.lock(name, KINDS[l.kind] as LockKind, l.class ?? name));
  const actors = spec.actors ?? [];
  const names: Record<RefKind, Map<string, number>> = {
    lock: lockNames,
    label: new Map(),
    vma: world.vma ?? new Map(),
    memfd: world.memfd ?? new Map(),
    mm: world.mm ?? new Map(),
    actor: new Map(actors.map((a, i) => [a.name, i])),
    fence: new Map((spec.fences ?? []).map((f) => [f, b.fence(f)])),
    switch: new Map(Object.keys(spec.switches ?? {}).map((s, i) => [s, i])),
  };
  let protocols: ReturnType<typeof scenarioProtocols>;
  try {
    protocols = scenarioProtocols(spec);
  } catch (e) {
    throw e instanceof ProtocolSpecError ? new BuildError(e.path, e.message) : e;
  }
  const kinds = () => b.locks.map((l) => l.kind);
  actors.forEach((a, index) => {
    const problems: { path: string; message: string }[] = [];
    const decoded = decodeOps(a.ops, `actors[${index}]`, problems);
    if (problems.length) throw new Error(`internal: ${sc.file} validated but ops do not decode: ${problems[0]?.message}`);
    const protocol = a.protocol === undefined ? null : protocols.get(a.protocol);
    if (protocol === undefined) throw new BuildError(`actors[${index}].protocol`, `no protocol named "${a.protocol}" (known: ${[...protocols.keys()].join(', ')})`);
    const env: CompileEnv = { b, names, actor: { name: a.name, index, mm: (a.mm === undefined ? 0 : (names.mm.get(a.mm) ?? 0)) as MmId, protocol } };
    const ops = decoded.map((d, oi) => {
      try {
        return { ...(d?.spec.compile(d.args, env) as object), label: d?.label } as ReturnType<NonNullable<typeof d>['spec']['compile']>;
      } catch (e) {
        throw new BuildError(`actors[${index}].ops[${oi}]`, messageOf(e));
      }
    });
    const tid = b.thread(a.name, compileScript(a.name, ops, kinds()));
    if (protocol) b.protocol(tid, protocol);
  });
  return withReduction(b.build(), spec);
}
