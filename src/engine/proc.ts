/**
 * Kernel code paths as labelled steps (PlusCal style). Each label is a scheduling point: the step
 * function runs atomically, performs at most one visible operation, and returns the next label.
 * A step that blocks (a contended lock, an empty mailbox) must block before any other side effect,
 * so that re-running it after the wake-up is exact.
 */
import type { Ctx } from './ctx.js';

export type Locals = Record<string, number>;

/** Step result: the next label, or one of the control values below. */
export type Next = string | number;

/** The thread blocked; re-run this step when woken. */
export const BLOCKED = -1;
/** Control passed to a callee frame or back to a caller (set by k.call / k.ret). */
export const JUMPED = -2;
/** The run ended with a verdict (set by k.bug, k.warn, k.invariant). */
export const ENDED = -3;

export type Step = (k: Ctx, l: Locals) => Next;

export interface Proc {
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
  readonly init: (args: readonly number[]) => Locals;
}

let nextId = 0;

/** Define a procedure from its labelled steps (the first label is the entry). */
export function proc(
  name: string,
  cite: string,
  init: (args: readonly number[]) => Locals,
  steps: Record<string, Step>,
): Proc {
  const labels = Object.keys(steps);
  if (labels.length === 0) throw new Error(`proc ${name} has no steps`);
  const p: Proc = {
    id: nextId++,
    key: stringHash(`${name}\0${cite}\0${labels.join(',')}`),
    name,
    cite,
    labels,
    steps: labels.map((k) => steps[k] as Step),
    index: new Map(labels.map((k, i) => [k, i])),
    init,
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
