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

export function decodeToken(token: string): number[] {
  if (!token.startsWith(PREFIX)) throw new BadToken(`a replay token starts with "${PREFIX}"; got "${token.slice(0, 12)}"`);
  const out: number[] = [];
  const body = token.slice(PREFIX.length);
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
