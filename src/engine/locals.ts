/**
 * Copying a frame's locals (the copy-on-write of a top frame, World.topFrame) with one function per
 * procedure that spells its keys out: every call of a procedure's init returns the same keys in the
 * same order and its steps only assign them (./proc.ts), so each copy site sees one object shape; a
 * spread over the hundreds of shapes the procedures have is several times slower. hashFrame
 * (./threads.ts) checks every frame it hashes against the keys, so a procedure that broke the rule
 * fails loudly instead of losing a local.
 */
import type { Locals, Proc } from './proc.js';

export interface LocalsCopy {
  readonly keys: readonly string[];
  readonly copy: (l: Locals) => Locals;
}

/** The copier of `p`'s locals, made from `l` (a frame of p) the first time. */
export function localsCopy(p: Proc, l: Locals): LocalsCopy {
  if (p.locals !== null) return p.locals;
  const keys = Object.keys(l);
  const fields = keys.map((k) => `${JSON.stringify(k)}: l[${JSON.stringify(k)}]`).join(', ');
  const c: LocalsCopy = { keys, copy: new Function('l', `return { ${fields} };`) as (l: Locals) => Locals };
  p.locals = c;
  return c;
}

/** A frame of `p` whose locals do not have the keys its first frame had. */
export function localsChanged(p: Proc, l: Locals): never {
  throw new Error(`${p.name}: locals ${Object.keys(l).join(', ')} differ from ${p.locals?.keys.join(', ')}: init must return the same keys on every call and steps may only assign them`);
}
