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

/** Choices a token may hold at most, whatever the scenario's maxSteps (the largest maxSteps allowed). */
export const MAX_TOKEN_CHOICES = 1_000_000;

/** A decoded token: its choices and, for a lasso, where in them the loop starts. */
export interface Decoded {
  readonly choices: number[];
  readonly cycle?: number;
}

/**
 * A token's choices (and a lasso's loop start). A run can hold no more choices than steps, so
 * decoding stops with BadToken as soon as the total would pass `maxChoices` (the scenario's
 * maxSteps), before it allocates for them: a short token cannot ask for a huge array.
 */
export function decodeLasso(token: string, maxChoices = MAX_TOKEN_CHOICES): Decoded {
  const max = Math.min(maxChoices, MAX_TOKEN_CHOICES);
  if (token.length > 3 * max + LASSO.length + 1) throw tooMany(max);
  if (token.startsWith(LASSO)) {
    const rest = token.slice(LASSO.length);
    const dash = rest.indexOf('-');
    if (dash < 0) throw new BadToken('a v2 token has a "-" between the prefix and the loop');
    const prefix = decodeBody(rest.slice(0, dash), max, max);
    return { choices: [...prefix, ...decodeBody(rest.slice(dash + 1), max - prefix.length, max)], cycle: prefix.length };
  }
  if (!token.startsWith(PREFIX)) throw new BadToken(`a replay token starts with "${PREFIX}" or "${LASSO}"; got "${token.slice(0, 12)}"`);
  return { choices: decodeBody(token.slice(PREFIX.length), max, max) };
}

/** The choices of a token (a lasso's prefix and one turn of its loop), at most `maxChoices`. */
export function decodeToken(token: string, maxChoices = MAX_TOKEN_CHOICES): number[] {
  return decodeLasso(token, maxChoices).choices;
}

const tooMany = (max: number) => new BadToken(`the token holds more than ${max} choices, more than a run of this scenario can make (maxSteps ${max})`);

/** One run of choices, at most `left` of them (of `max` in the whole token). */
function decodeBody(body: string, left: number, max: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === '.') {
      const end = body.indexOf('.', i + 1);
      const count = end < 0 ? '' : body.slice(i + 1, end);
      const n = /^[0-9a-z]{1,8}$/.test(count) ? Number.parseInt(count, 36) : Number.NaN;
      if (!(n >= 2) || out.length === 0) throw new BadToken(`bad repeat count at position ${i} of the token`);
      if (out.length + n - 1 > left) throw tooMany(max);
      const c = out[out.length - 1] as number;
      for (let j = 1; j < n; j++) out.push(c);
      i = end;
      continue;
    }
    if (out.length >= left) throw tooMany(max);
    if (ch === 'z') {
      const v = Number.parseInt(body.slice(i + 1, i + 3), 36);
      if (Number.isNaN(v) || i + 3 > body.length || !/^[0-9a-z]{2}$/.test(body.slice(i + 1, i + 3))) throw new BadToken(`bad escape at position ${i} of the token`);
      out.push(v);
      i += 2;
    } else {
      const v = /[0-9a-y]/.test(ch) ? Number.parseInt(ch, 36) : Number.NaN;
      if (Number.isNaN(v)) throw new BadToken(`"${ch.length === 1 && ch >= ' ' && ch <= '~' ? ch : `U+${ch.charCodeAt(0).toString(16).padStart(4, '0')}`}" at position ${i} is not a token digit`);
      out.push(v);
    }
  }
  return out;
}
