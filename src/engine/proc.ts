/**
 * Kernel code paths as labelled steps (PlusCal style). Each label is a scheduling point: the step
 * function runs atomically, performs at most one visible operation, and returns the next label.
 * A step that blocks (a contended lock, an empty mailbox) must block before any other side effect,
 * so that re-running it after the wake-up is exact.
 *
 * Typing: a procedure takes a named argument record `A` (fields are numbers or branded ids, see
 * ../kernel/ids.ts) and its labels `S` are the keys of its step table, so returning or jumping to a
 * label that does not exist fails the compiler.
 */
import type { Ctx } from './ctx.js';
import type { LocalsCopy } from './locals.js';

export type Locals = Record<string, number>;

/** The argument record of a procedure that takes none: call it with `{}`. */
export type NoArgs = Record<string, never>;

/** The thread blocked; re-run this step when woken. */
export const BLOCKED = -1;
/** Control passed to a callee frame or back to a caller (set by k.call / k.ret). */
export const JUMPED = -2;
/** The run ended with a verdict (set by k.bug, k.warn, k.invariant). */
export const ENDED = -3;

/** A control value instead of a label. */
export type Ctl = typeof BLOCKED | typeof JUMPED | typeof ENDED;

/** Step result: a label of the procedure (one of `S`), or a control value. */
export type Next<S extends string = string> = S | Ctl;

/** One labelled step: `k` knows the procedure's labels (for k.call's return label). */
export type Step<L = Locals, S extends string = string> = (k: Ctx<S>, l: L) => Next<S>;

/**
 * A procedure taking the argument record `A`. `Proc` (A = never) is any procedure: it can be stored
 * and run, but only a `Proc<A>` with a known `A` can be called.
 */
export interface Proc<A extends object = never> {
  readonly id: number;
  /** A hash of name, citation and labels: the same in every process (ids depend on load order). */
  readonly key: number;
  readonly name: string;
  /** The kernel function this models, e.g. `mm/userfaultfd.c: move_pages_pte`. */
  readonly cite: string;
  readonly labels: readonly string[];
  readonly steps: readonly Step[];
  readonly index: ReadonlyMap<string, number>;
  /** Fresh locals from the call arguments; every call must return the same keys in the same order. */
  readonly init: (args: A) => Locals;
  /** The copier of its frames' locals, made at the first copy (./locals.ts). */
  locals: LocalsCopy | null;
}

/** A procedure paired with its arguments, for a caller that does not know `A` (scripts, threads). */
export interface Bound {
  readonly proc: Proc;
  readonly args: object;
}

/** Pair `p` with arguments of its own type. */
export function bind<A extends object>(p: Proc<A>, args: NoInfer<A>): Bound {
  if (Array.isArray(args)) throw new Error(`${p.name}: bound to positional arguments (an array); pass its named argument record`);
  return { proc: p as unknown as Proc, args };
}

/** Fresh locals of a bound procedure. */
export function initOf(p: Proc, args: object): Locals {
  return (p.init as unknown as (a: object) => Locals)(args);
}

let nextId = 0;

/**
 * Define a procedure from its labelled steps (the first label is the entry). `init` builds the locals
 * from the argument record; annotate its parameter (`(a: { mm: MmId }) => ...`) or omit it.
 */
export function proc<A extends object = NoArgs, L extends Locals = Locals, S extends string = string>(
  name: string,
  cite: string,
  init: (args: A) => L,
  steps: { readonly [K in S]: Step<L, NoInfer<S>> },
): Proc<A> {
  const labels = Object.keys(steps);
  if (labels.length === 0) throw new Error(`proc ${name} has no steps`);
  const table = steps as unknown as Record<string, Step>;
  const p: Proc<A> = {
    id: nextId++,
    key: stringHash(`${name}\0${cite}\0${labels.join(',')}`),
    name,
    cite,
    labels,
    steps: labels.map((k) => table[k] as Step),
    index: new Map(labels.map((k, i) => [k, i])),
    init,
    locals: null,
  };
  return p;
}

export const noLocals = (): Locals => ({});

/** FNV-1a of a string, as an unsigned 32-bit integer. */
function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
