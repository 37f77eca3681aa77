/**
 * A model: everything about a scenario variant that does not change during a run: the memory
 * layout, the locks and their classes, the threads and their entry procedures, the invariants.
 */
import type { LockId } from '../locks/ids.js';
import { Layout } from './layout.js';
import type { NoArgs, Proc } from './proc.js';
import { LOCK_FIELDS, type LockDef, type LockKind, THREAD_FIELDS } from '../locks/space.js';
import type { World } from './world.js';

export interface ThreadDef {
  readonly name: string;
  readonly entry: Proc;
  /** The entry procedure's argument record. */
  readonly args: object;
}

/** The lock-hierarchy oracle: a message when taking class `next` (in `nextMode`) while holding `held` (in `heldMode`) breaks a documented rule. */
export type OrderRule = (held: number, next: number, heldMode: number, nextMode: number) => string | null;

/** A global invariant: null when it holds, else what is wrong. */
export type Invariant = (w: World) => string | null;

export interface Model {
  readonly name: string;
  readonly layout: Layout;
  readonly locks: readonly LockDef[];
  /** Lock class names; a nested subclass s of class c has key c * 4 + s. */
  readonly classes: readonly string[];
  readonly lockBase: number;
  readonly threadBase: number;
  readonly threads: readonly ThreadDef[];
  readonly invariants: readonly Invariant[];
  /** Variant switches the code paths read (e.g. `fix_pmd_recheck`). */
  readonly switches: Readonly<Record<string, boolean>>;
  /** Kernel objects a model wants to find again by name (memfds, VMAs, folios...). */
  readonly objects: Readonly<Record<string, unknown>>;
  /** Optional order oracle: a message when taking `next` while holding `held` breaks a documented rule. */
  readonly orderRule?: OrderRule;
}

/** Builds a model: kernel objects reserve memory and locks first, threads last. */
export class ModelBuilder {
  readonly layout = new Layout();
  readonly locks: LockDef[] = [];
  readonly classes: string[] = [];
  readonly threads: ThreadDef[] = [];
  readonly invariants: Invariant[] = [];
  readonly objects: Record<string, unknown> = {};
  orderRule?: OrderRule;

  constructor(
    readonly name: string,
    readonly switches: Record<string, boolean> = {},
  ) {}

  /** The id of a lock class, created on first use. */
  lockClass(name: string): number {
    let c = this.classes.indexOf(name);
    if (c < 0) c = this.classes.push(name) - 1;
    return c;
  }

  /** Declare a lock instance; returns its id. */
  lock(name: string, kind: LockKind, className = name): LockId {
    return (this.locks.push({ name, kind, cls: this.lockClass(className) }) - 1) as LockId;
  }

  /** A thread running `entry` with `args` (omit them for a procedure taking none). */
  thread<A extends object>(name: string, entry: Proc<A>, ...args: NoArgs extends A ? [] : [NoInfer<A>]): number {
    return this.threads.push({ name, entry: entry as unknown as Proc, args: args[0] ?? {} }) - 1;
  }

  build(): Model {
    const lockBase = this.layout.region('lock', this.locks.length, LOCK_FIELDS);
    const threadBase = this.layout.region('thread', this.threads.length, THREAD_FIELDS);
    return {
      name: this.name,
      layout: this.layout,
      locks: this.locks,
      classes: this.classes,
      lockBase,
      threadBase,
      threads: this.threads,
      invariants: this.invariants,
      switches: this.switches,
      objects: this.objects,
      orderRule: this.orderRule,
    };
  }
}
