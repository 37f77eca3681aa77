/**
 * `kproc`: `proc` with typed locals, so steps read `l.mm` instead of `l.mm as number`.
 * The locals type must be a plain object type of numbers (same keys on every call).
 */
import type { Ctx } from '../engine/ctx.js';
import { type Next, type Proc, proc, type Step } from '../engine/proc.js';

export function kproc<L extends Record<string, number>>(
  name: string,
  cite: string,
  init: (args: readonly number[]) => L,
  steps: Record<string, (k: Ctx, l: L) => Next>,
): Proc {
  return proc(name, cite, init, steps as unknown as Record<string, Step>);
}

/** Argument i of a call (0 when absent). */
export const arg = (a: readonly number[], i: number): number => a[i] ?? 0;
