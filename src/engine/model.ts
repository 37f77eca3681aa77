/**
 * A model: everything about a scenario variant that does not change during a run: the memory
 * layout, the locks and their classes, the threads and their entry procedures, the invariants.
 */
import { Layout } from './layout.js';
import type { Proc } from './proc.js';
import { LOCK_FIELDS, type LockDef, type LockKind, THREAD_FIELDS } from '../locks/space.js';
import type { World } from './world.js';
import type { Protocol } from '../../machines/protocol.js';
import { ACTOR_FIELDS, FENCE_FIELDS } from './mailbox-layout.js';

export interface ThreadDef {
  readonly name: string;
  readonly entry: Proc;
  readonly args: readonly number[];
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
  readonly protocols: (Protocol | null)[] = [];
  readonly fences: string[] = [];
  /** Mailbox capacity of protocol actors: a send to a full mailbox is a `protocol` verdict. */
  mailboxCap = 4;

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
  lock(name: string, kind: LockKind, className = name): number {
    return this.locks.push({ name, kind, cls: this.lockClass(className) }) - 1;
  }

  thread(name: string, entry: Proc, args: readonly number[] = []): number {
    return this.threads.push({ name, entry, args }) - 1;
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
      threads: this.threads,
      invariants: this.invariants,
      switches: this.switches,
      objects: this.objects,
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
