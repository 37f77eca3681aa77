/**
 * The operation vocabulary of scenario files. Each operation names its fields (an Effect Schema
 * struct), the names it refers to (checked across the file), and how it compiles into a script step.
 * Lock operations are here; kernel operations register themselves from src/scenario/mm-ops.ts.
 */
import * as Schema from 'effect/Schema';
import type { ScriptOp } from '../../actors/script.js';
import type { ModelBuilder } from '../engine/model.js';
import type { MmId } from '../kernel/ids.js';
import type { Protocol } from '../../machines/protocol.js';

/** Kinds of names an operation field may refer to. */
export type RefKind = 'lock' | 'label' | 'vma' | 'memfd' | 'mm' | 'actor' | 'fence' | 'switch';

/** What compiling an operation may look up. */
export interface CompileEnv {
  readonly b: ModelBuilder;
  /** Name → id for each kind of named object the scenario declares. */
  readonly names: Readonly<Record<RefKind, ReadonlyMap<string, number>>>;
  /** The actor being compiled (its index, its mm if it has one, its protocol if it speaks one). */
  readonly actor: { readonly name: string; readonly index: number; readonly mm: MmId; readonly protocol?: Protocol | null };
}

export interface OpSpec {
  readonly name: string;
  readonly doc: string;
  readonly fields: Schema.Struct.Fields;
  readonly refs?: Readonly<Record<string, RefKind>>;
  // biome-ignore lint/suspicious/noExplicitAny: decoded by `fields`
  compile(args: any, env: CompileEnv): ScriptOp;
}

const registry = new Map<string, OpSpec>();

export function registerOp(spec: OpSpec): void {
  if (registry.has(spec.name)) throw new Error(`operation ${spec.name} registered twice`);
  registry.set(spec.name, spec);
}

export function opSpec(name: string): OpSpec | undefined {
  return registry.get(name);
}

export function opNames(): string[] {
  return [...registry.keys()].sort();
}

/** Variant switches a model reads, with what each one changes. */
const switches = new Map<string, string>();

export function registerSwitch(name: string, doc: string): void {
  switches.set(name, doc);
}

export function knownSwitches(): ReadonlyMap<string, string> {
  return switches;
}

const Name = Schema.String.check(Schema.isMinLength(1));
const Subclass = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 3 }));
const lockRef = (env: CompileEnv, name: string): number => env.names.lock.get(name) as number;

for (const op of ['lock', 'unlock', 'down_read', 'down_write', 'up_read', 'up_write'] as const) {
  registerOp({
    name: op,
    doc: `${op} the named lock (lock/unlock pick spin_lock or mutex_lock by the lock's kind)`,
    fields: op.startsWith('up') || op === 'unlock' ? { lock: Name } : { lock: Name, nested: Schema.optional(Subclass) },
    refs: { lock: 'lock' },
    compile: (a: { lock: string; nested?: number }, env) => ({ op, lock: lockRef(env, a.lock), nested: a.nested }),
  });
}
for (const op of ['trylock', 'down_read_trylock', 'down_write_trylock'] as const) {
  registerOp({
    name: op,
    doc: `${op} the named lock; on failure jump to the label given as \`else\``,
    fields: { lock: Name, else: Name },
    refs: { lock: 'lock', else: 'label' },
    compile: (a: { lock: string; else: string }, env) => ({ op, lock: lockRef(env, a.lock), else: a.else }),
  });
}
registerOp({
  name: 'ww_lock',
  doc: 'ww_mutex_lock the named lock; on -EDEADLK (wait-die) jump to `else`',
  fields: { lock: Name, else: Name },
  refs: { lock: 'lock', else: 'label' },
  compile: (a: { lock: string; else: string }, env) => ({ op: 'ww_lock', lock: lockRef(env, a.lock), else: a.else }),
});
registerOp({
  name: 'ww_acquire_init',
  doc: 'begin a ww acquire context; smaller stamps are older and win',
  fields: { stamp: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 })) },
  compile: (a: { stamp: number }) => ({ op: 'ww_acquire_init', stamp: a.stamp }),
});
for (const op of ['ww_acquire_fini', 'rcu_read_lock', 'rcu_read_unlock', 'might_sleep'] as const) {
  registerOp({ name: op, doc: op, fields: {}, compile: () => ({ op }) });
}
registerOp({
  name: 'goto',
  doc: 'jump to a label of this actor',
  fields: { to: Name },
  refs: { to: 'label' },
  compile: (a: { to: string }) => ({ op: 'goto', to: a.to }),
});
