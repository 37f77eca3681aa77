/**
 * A model: everything about a scenario variant that does not change during a run: the memory
 * layout, the locks and their classes, the threads and their entry procedures, the invariants.
 */
import type { LockId } from '../locks/ids.js';
import { Layout } from './layout.js';
import type { NoArgs, Proc } from './proc.js';
import { LOCK_FIELDS, type LockDef, type LockKind, THREAD_FIELDS } from '../locks/space.js';
import type { Reduction } from './state-key.js';
import type { World } from './world.js';
import type { Protocol } from '../../machines/protocol.js';
import { ACTOR_FIELDS, FENCE_FIELDS } from './mailbox-layout.js';

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
  /** Per thread, one read-hold count per lock (../locks/space.ts: rslot). */
  readonly readerBase: number;
  readonly threads: readonly ThreadDef[];
  readonly invariants: readonly Invariant[];
  /** Variant switches the code paths read (e.g. `fix_pmd_recheck`). */
  readonly switches: Readonly<Record<string, boolean>>;
  /** Subsystem states (kernel objects, THP deposits, ...), indexed by Subsystem.id: read them with `S.of(model)`. */
  readonly subsystems: readonly unknown[];
  /** Optional order oracle: a message when taking `next` while holding `held` breaks a documented rule. */
  readonly orderRule?: OrderRule;
  /** Each thread's protocol (null: it speaks none); empty when no thread has one. */
  readonly protocols: readonly (Protocol | null)[];
  /** Base of the per-thread actor records (protocol state, bounded mailbox); -1 when no thread has a protocol. */
  readonly actorBase: number;
  /** Mailbox capacity (messages) and slot width (fields per message) of the actor records. */
  readonly mailboxCap: number;
  readonly mailboxWidth: number;
  /** Fence names (index = fence id) and the base of their records; -1 when none. */
  readonly fences: readonly string[];
  readonly fenceBase: number;
  /** The scenario's `view:` or `symmetric:` reduction of the state key (./state-key.ts), if any. */
  readonly reduction?: Reduction;
}

/**
 * A typed key for one subsystem's state in a model: a subsystem registers its state while the model
 * is built (`b.provide(S, state)`) and code paths read it back with `S.of(k.w.model)`.
 */
export class Subsystem<T> {
  private static count = 0;
  /** Index into Model.subsystems (per process; never serialised). */
  readonly id = Subsystem.count++;
  declare private readonly phantom?: T;

  constructor(readonly name: string) {}

  /** The state registered in `m`; throws if there is none. */
  of(m: Model): T {
    const v = m.subsystems[this.id];
    if (v === undefined) throw new Error(`model ${m.name} has no ${this.name} subsystem`);
    return v as T;
  }

  /** The state registered in a model or builder, if any. */
  find(m: Model | ModelBuilder): T | undefined {
    return m.subsystems[this.id] as T | undefined;
  }
}

/** Builds a model: kernel objects reserve memory and locks first, threads last. */
export class ModelBuilder {
  readonly layout = new Layout();
  readonly locks: LockDef[] = [];
  readonly classes: string[] = [];
  readonly threads: ThreadDef[] = [];
  readonly invariants: Invariant[] = [];
  readonly subsystems: unknown[] = [];
  orderRule?: OrderRule;
  readonly protocols: (Protocol | null)[] = [];
  readonly fences: string[] = [];
  /** Mailbox capacity of protocol actors: a send to a full mailbox is a `protocol` verdict. */
  mailboxCap = 4;

  constructor(
    readonly name: string,
    readonly switches: Record<string, boolean> = {},
  ) {}

  /** Register a subsystem's state (once per model); returns it. */
  provide<T>(s: Subsystem<T>, state: T): T {
    if (this.subsystems[s.id] !== undefined) throw new Error(`model ${this.name}: ${s.name} registered twice`);
    this.subsystems[s.id] = state;
    return state;
  }

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
    if (Array.isArray(args[0])) throw new Error(`thread ${name}: positional arguments (an array); pass ${entry.name}'s named argument record`);
    return this.threads.push({ name, entry: entry as unknown as Proc, args: args[0] ?? {} }) - 1;
  }

  /** Thread `tid` speaks protocol `p`: its sends and receives are checked against p's machine. */
  protocol(tid: number, p: Protocol): void {
    while (this.protocols.length < this.threads.length) this.protocols.push(null);
    this.protocols[tid] = p;
  }

  /** Declare a fence (a DMA-fence-like object actors signal and wait on); returns its id. */
  fence(name: string): number {
    return this.fences.push(name) - 1;
  }

  build(): Model {
    const lockBase = this.layout.region('lock', this.locks.length, LOCK_FIELDS);
    const threadBase = this.layout.region('thread', this.threads.length, THREAD_FIELDS);
    const readerBase = this.layout.region('reader', this.threads.length, this.locks.map((l) => l.name));
    const speaking = this.protocols.some((p) => p !== null);
    while (speaking && this.protocols.length < this.threads.length) this.protocols.push(null);
    const mailboxWidth = Math.max(0, ...this.protocols.map((p) => p?.vocab.width ?? 0));
    const actorFields = ACTOR_FIELDS(this.mailboxCap, mailboxWidth);
    const actorBase = speaking ? this.layout.region('actor', this.threads.length, actorFields) : -1;
    for (let t = 0; speaking && t < this.threads.length; t++) {
      const p = this.protocols[t];
      if (p) this.layout.initial(actorBase + t * actorFields.length, p.initial);
    }
    const fenceBase = this.fences.length ? this.layout.region('fence', this.fences.length, FENCE_FIELDS) : -1;
    return {
      name: this.name,
      layout: this.layout,
      locks: this.locks,
      classes: this.classes,
      lockBase,
      threadBase,
      readerBase,
      threads: this.threads,
      invariants: this.invariants,
      switches: this.switches,
      subsystems: this.subsystems,
      orderRule: this.orderRule,
      protocols: speaking ? this.protocols : [],
      actorBase,
      mailboxCap: this.mailboxCap,
      mailboxWidth,
      fences: this.fences,
      fenceBase,
    };
  }
}
