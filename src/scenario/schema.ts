/**
 * The scenario file format (YAML or JSON), as Effect Schema. Operations are checked in a second
 * pass against the op vocabulary (src/scenario/ops.ts) so each error names the operation's own
 * fields; names across the file (locks, labels, VMAs, memfds) are checked in a third.
 */
import * as Schema from 'effect/Schema';
import { VERDICT_CODES } from '../engine/events.js';
import { WorldSpec } from './world.js';

const Name = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64));
/** Scenario and variant names go into table cells and shell commands: no `/` and no control characters. */
const PrintableName = Name.check(Schema.isPattern(/^[^/\p{Cc}]*$/u, { expected: 'a value without "/" or control characters' }));
const PositiveInt = (max: number) => Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: max }));

/** The kinds of lock a scenario may declare. */
export const LockKindName = Schema.Literals(['spinlock', 'mutex', 'rwsem', 'folio_lock', 'ww_mutex']);

/** A declared lock: its kind and lockdep class. */
export const LockSpec = Schema.Struct({
  kind: LockKindName.annotate({ description: 'which kernel primitive the lock models' }),
  /** lockdep class; locks of one class share lock-order edges (default: the lock's own name). */
  class: Schema.optional(Name.annotate({ description: "lockdep class; locks of one class share lock-order edges (default: the lock's own name)" })),
});

/** An operation: `op` plus its own fields, checked against the vocabulary in a second pass. */
export const RawOp = Schema.Record(Schema.String, Schema.Unknown).annotate({
  identifier: 'Operation',
  expected: 'an operation (a map with `op:` and its fields)',
});

/** An actor: a thread (or agent) running a list of operations. */
export const ActorSpec = Schema.Struct({
  name: Name,
  /** The process (mm) whose context this actor runs in, for kernel operations. */
  mm: Schema.optional(Name.annotate({ description: 'the process (mm) whose context this actor runs in' })),
  /** The protocol this actor speaks: one of the scenario's `protocols` or a built-in one (rpc-client, rpc-server). */
  protocol: Schema.optional(Name.annotate({ description: "the protocol this actor speaks: one of the scenario's `protocols` or a built-in one (rpc-client, rpc-server)" })),
  ops: Schema.Array(RawOp).check(Schema.isMaxLength(500)).annotate({ description: "the actor's operations in order; each is a scheduling point" }),
});

/** A guarded transition: taken when the message's fields equal every value in `when` (candidates are tried in order). */
export const GuardedTransition = Schema.Struct({
  target: Name,
  when: Schema.optional(Schema.Record(Name, Schema.Int).annotate({ description: "taken only when the message's fields equal these values" })),
});

/** A protocol machine state: its transitions by event (`!Name` sends, `?Name` receives) and whether it is final. */
export const ProtocolStateSpec = Schema.Struct({
  on: Schema.optional(
    Schema.Record(Schema.String.check(Schema.isPattern(/^[!?][A-Za-z_][\w-]*$/)), Schema.Union([Name, Schema.Array(GuardedTransition)])).annotate({
      description: 'event (`!Name` this actor sends Name, `?Name` it receives Name) -> next state, or guarded candidates tried in order',
    }),
  ),
  final: Schema.optional(Schema.Boolean),
  description: Schema.optional(Schema.String),
});

/** One actor kind's conversation as a flat state machine over the scenario's `messages`. */
export const ProtocolSpec = Schema.Struct({
  initial: Name,
  states: Schema.Record(Name, ProtocolStateSpec).annotate({ description: 'the states of the conversation and their message events' }),
});

/** Verdict codes a variant may expect (`ok` is the empty list). */
export const Verdicts = Schema.Array(Schema.Literals(VERDICT_CODES.filter((c) => c !== 'ok')));

/** The exact size of a variant's DFS, pinned as a regression check (`npm run pin` writes it). */
export const DfsCounts = Schema.Struct({
  /** Distinct states the DFS visits. */
  states: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000_000 })).annotate({ description: 'distinct states the DFS visits' }),
  /** Steps (transitions) the DFS executes. */
  transitions: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000_000 })).annotate({ description: 'steps (transitions) the DFS executes' }),
});

/** A variant: switch settings and the verdicts exploration must find. */
export const VariantSpec = Schema.Struct({
  description: Schema.optional(Schema.String),
  /** Model switches (a fix on or off); each must be one the model knows. */
  switches: Schema.optional(Schema.Record(Name, Schema.Boolean).annotate({ description: 'model switches (a fix on or off); each must be one the model knows' })),
  /** The verdicts an exploration of this variant must find (empty: none). */
  expect: Verdicts.annotate({ description: 'the verdicts an exploration of this variant must find (empty: none)' }),
  /** True when DFS must complete (the variant is proven free of the other verdicts within bounds). */
  complete: Schema.optional(Schema.Boolean.annotate({ description: 'true when DFS must complete (proven free of other verdicts within bounds)' })),
  /** The DFS's exact state and transition counts, checked by the catalogue test; re-pinned by `npm run pin`. */
  dfs: Schema.optional(DfsCounts.annotate({ description: "the DFS's exact state and transition counts (POR on, the scenario's maxSteps and maxStates), written by `npm run pin`" })),
});

/** Exploration strategies a scenario may ask for. */
export const StrategyName = Schema.Literals(['portfolio', 'dfs', 'bounded', 'random', 'pct']);

/** Exploration settings and budgets. */
export const ExploreSpec = Schema.Struct({
  strategy: Schema.optional(StrategyName),
  seed: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 2 ** 32 - 1 }))),
  runs: Schema.optional(PositiveInt(100_000_000)),
  maxSteps: Schema.optional(PositiveInt(1_000_000)),
  maxStates: Schema.optional(PositiveInt(100_000_000)),
  depth: Schema.optional(PositiveInt(10)),
  preemptions: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 100 }))),
  timeMs: Schema.optional(PositiveInt(86_400_000)),
  /** `lockset`: the DFS's lockset reduction of scheduling points (src/engine/lockset.ts). */
  reduce: Schema.optional(Schema.Literals(['lockset']).annotate({ description: 'lockset: accesses every thread makes under a common lock are not scheduling points in the DFS' })),
});

/** A generator of locks and actors (a family of scenarios with a size). */
export const GenerateSpec = Schema.Struct({
  kind: Schema.Literals(['philosophers']),
  n: PositiveInt(12),
});

/** One part of the state a `view:` hashes: a region, a field or record of one, a lock, an actor's stack. */
export const ViewEntry = Schema.String.check(
  Schema.isPattern(/^(actors(\.pc)?|actor:[^\s:]+?(\.pc)?|lock:\S+|[A-Za-z_][\w.-]*(\[\d+\])?(\.[A-Za-z_]\w*)?)$/, {
    expected: 'a region (`folio`), a field of every record (`folio.refcount`), a record (`pgtable[0]`), `lock:NAME`, `actors`, `actors.pc`, `actor:NAME` or `actor:NAME.pc`',
  }),
);

/** Groups of interchangeable actors: one group as a list of names, several as a list of lists, or `auto`. */
export const SymmetricSpec = Schema.Union([Schema.Literal('auto'), Schema.Array(Name).check(Schema.isMinLength(2)), Schema.Array(Schema.Array(Name).check(Schema.isMinLength(2)))]);

/** A scenario file, as a whole. */
export const ScenarioSpec = Schema.Struct({
  name: PrintableName,
  description: Schema.String,
  locks: Schema.optional(Schema.Record(Name, LockSpec)),
  world: Schema.optional(WorldSpec),
  /** Generate locks and actors instead of listing them (e.g. N dining philosophers). */
  generate: Schema.optional(GenerateSpec.annotate({ description: 'generate locks and actors instead of listing them' })),
  /** The messages the scenario's protocols exchange: name -> field names (integers). */
  messages: Schema.optional(Schema.Record(Name, Schema.Array(Name)).annotate({ description: "the messages the scenario's protocols exchange: name -> its integer field names" })),
  /** Protocols actors may speak (`actors[].protocol`), each a state machine over `messages`. */
  protocols: Schema.optional(Schema.Record(Name, ProtocolSpec).annotate({ description: 'protocols actors may speak, each a state machine over `messages`' })),
  /** Fences (DMA-fence-like objects) actors signal and wait on. */
  fences: Schema.optional(Schema.Array(Name).annotate({ description: 'fences (DMA-fence-like objects) actors signal and wait on' })),
  /** Switches this scenario's `branch` operations read, with what each one changes. */
  switches: Schema.optional(Schema.Record(Name, Schema.String).annotate({ description: "switches this scenario's `branch` operations read, with what each one changes" })),
  actors: Schema.optional(Schema.Array(ActorSpec).check(Schema.isMaxLength(16)).annotate({ description: 'the threads and agents, each a list of operations' })),
  variants: Schema.Record(PrintableName, VariantSpec).annotate({ description: 'named variants (switch settings) and the verdicts each must find' }),
  explore: Schema.optional(ExploreSpec),
  /** Hash only these parts of the state (like TLC's VIEW): an abstraction that may hide bugs. */
  view: Schema.optional(
    Schema.Array(ViewEntry).check(Schema.isMinLength(1), Schema.isMaxLength(200)).annotate({ description: "hash only these parts of the state (like TLC's VIEW): an abstraction that may hide bugs; `complete` then means complete with respect to the view" }),
  ),
  /** Actors that run the same operations on the same objects: states that differ by renaming them are one. */
  symmetric: Schema.optional(
    SymmetricSpec.annotate({ description: 'interchangeable actors (the same operations with the same arguments): a list of names, a list of such lists, or `auto` (detected from the actors)' }),
  ),
});

export type ScenarioSpec = typeof ScenarioSpec.Type;
export type ActorSpec = typeof ActorSpec.Type;
export type VariantSpec = typeof VariantSpec.Type;
export type DfsCounts = typeof DfsCounts.Type;
export type ExploreSpec = typeof ExploreSpec.Type;
