/**
 * Replay tokens: a versioned printable string of scheduling choices, one base-36 digit each
 * (`z` + two digits for 35 and more); a run of 4 or more equal choices is written once followed by
 * `.count.` in base 36, e.g. `v1.0.c.1` is twelve 0s and a 1. Shell-safe, no quoting needed.
 * Version 2 adds lassos (a livelock witness): `v2.<prefix>-<loop>`, the choices to the state where
 * the loop starts, then the loop's choices, which lead back to that state. Every v1 token reads
 * the same as before.
 */
const PREFIX = 'v1.';
const LASSO = 'v2.';

const digit = (c: number): string => (c < 35 ? c.toString(36) : `z${c.toString(36).padStart(2, '0')}`);

/** The token of `choices`; with `cycle`, a lasso whose loop is choices[cycle..]. */
export function encodeToken(choices: readonly number[], cycle?: number): string {
  if (cycle !== undefined) return `${LASSO}${body(choices.slice(0, cycle))}-${body(choices.slice(cycle))}`;
  return PREFIX + body(choices);
}

function body(choices: readonly number[]): string {
  let s = '';
  for (let i = 0; i < choices.length; ) {
    const c = choices[i] as number;
    let n = 1;
    while (i + n < choices.length && choices[i + n] === c) n++;
    s += n >= 4 ? `${digit(c)}.${n.toString(36)}.` : digit(c).repeat(n);
    i += n;
  }
  return s;
}

export class BadToken extends Error {}

/** A decoded token: its choices and, for a lasso, where in them the loop starts. */
export interface Decoded {
  readonly choices: number[];
  readonly cycle?: number;
}

export function decodeLasso(token: string): Decoded {
  if (token.startsWith(LASSO)) {
    const rest = token.slice(LASSO.length);
    const dash = rest.indexOf('-');
    if (dash < 0) throw new BadToken('a v2 token has a "-" between the prefix and the loop');
    const prefix = decodeBody(rest.slice(0, dash));
    return { choices: [...prefix, ...decodeBody(rest.slice(dash + 1))], cycle: prefix.length };
  }
  if (!token.startsWith(PREFIX)) throw new BadToken(`a replay token starts with "${PREFIX}" or "${LASSO}"; got "${token.slice(0, 12)}"`);
  return { choices: decodeBody(token.slice(PREFIX.length)) };
}

/** The choices of a token (a lasso's prefix and one turn of its loop). */
export function decodeToken(token: string): number[] {
  return decodeLasso(token).choices;
}

function decodeBody(body: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === '.') {
      const end = body.indexOf('.', i + 1);
      const n = end < 0 ? Number.NaN : Number.parseInt(body.slice(i + 1, end), 36);
      if (!(n >= 2) || out.length === 0 || n > 10_000_000) throw new BadToken(`bad repeat count at position ${i} of the token`);
      const c = out[out.length - 1] as number;
      for (let j = 1; j < n; j++) out.push(c);
      i = end;
    } else if (ch === 'z') {
      const v = Number.parseInt(body.slice(i + 1, i + 3), 36);
      if (Number.isNaN(v) || i + 3 > body.length) throw new BadToken(`bad escape at position ${i} of the token`);
      out.push(v);
      i += 2;
    } else {
      const v = Number.parseInt(ch, 36);
      if (Number.isNaN(v)) throw new BadToken(`"${ch}" at position ${i} is not a token digit`);
      out.push(v);
    }
  }
  return out;
}
