/** Replay tokens: a versioned printable string of scheduling choices, one base-36 digit each. */
const PREFIX = 'v1.';

export function encodeToken(choices: readonly number[]): string {
  let s = PREFIX;
  for (const c of choices) s += c < 35 ? c.toString(36) : `z${c.toString(36).padStart(2, '0')}`;
  return s;
}

export class BadToken extends Error {}

export function decodeToken(token: string): number[] {
  if (!token.startsWith(PREFIX)) throw new BadToken(`a replay token starts with "${PREFIX}"; got "${token.slice(0, 12)}"`);
  const out: number[] = [];
  const body = token.slice(PREFIX.length);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === 'z') {
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
