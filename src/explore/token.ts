/**
 * Replay tokens: a versioned printable string of scheduling choices, one base-36 digit each
 * (`z` + two digits for 35 and more); a run of 4 or more equal choices is written once followed by
 * `.count.` in base 36, e.g. `v1.0.c.1` is twelve 0s and a 1. Shell-safe, no quoting needed.
 */
const PREFIX = 'v1.';

const digit = (c: number): string => (c < 35 ? c.toString(36) : `z${c.toString(36).padStart(2, '0')}`);

export function encodeToken(choices: readonly number[]): string {
  let s = PREFIX;
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

/**
 * The choices of a token. A run can hold no more choices than steps, so decoding stops with
 * BadToken as soon as the total would pass `maxChoices` (the scenario's maxSteps), before it
 * allocates for them: a short token cannot ask for a huge array.
 */
export function decodeToken(token: string, maxChoices = MAX_TOKEN_CHOICES): number[] {
  if (!token.startsWith(PREFIX)) throw new BadToken(`a replay token starts with "${PREFIX}"; got "${token.slice(0, 12)}"`);
  const max = Math.min(maxChoices, MAX_TOKEN_CHOICES);
  const tooMany = () => new BadToken(`the token holds more than ${max} choices, more than a run of this scenario can make (maxSteps ${max})`);
  if (token.length - PREFIX.length > 3 * max) throw tooMany();
  const out: number[] = [];
  const body = token.slice(PREFIX.length);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === '.') {
      const end = body.indexOf('.', i + 1);
      const count = end < 0 ? '' : body.slice(i + 1, end);
      const n = /^[0-9a-z]{1,8}$/.test(count) ? Number.parseInt(count, 36) : Number.NaN;
      if (!(n >= 2) || out.length === 0) throw new BadToken(`bad repeat count at position ${i} of the token`);
      if (out.length + n - 1 > max) throw tooMany();
      const c = out[out.length - 1] as number;
      for (let j = 1; j < n; j++) out.push(c);
      i = end;
      continue;
    }
    if (out.length >= max) throw tooMany();
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
