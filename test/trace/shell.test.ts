/** Names printed into shell commands are quoted: what `sh` reads back is the name itself. */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replayCommand, shellQuote, toHtml } from '../../src/trace/index.js';
import { abbaDeadlock } from './fixtures.js';

/** The words `sh` makes of `line` (arguments after the command name). */
function words(line: string): string[] {
  const r = spawnSync('sh', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('shell quoting', () => {
  it('any printable name comes back from sh as one word, unchanged', () => {
    const names = fc.sample(fc.string({ minLength: 1, maxLength: 30, unit: fc.constantFrom(..."ab ;'\"$`\\|&()<>*?[]{}~#!\n\t=./-") }), { numRuns: 60, seed: 3 });
    const got = words(names.map(shellQuote).join(' '));
    expect(got).toEqual(names);
  });

  it('leaves plain names and tokens alone', () => {
    expect(shellQuote('scenarios/abba.yaml')).toBe('scenarios/abba.yaml');
    expect(shellQuote('v1.0.c.1')).toBe('v1.0.c.1');
    expect(shellQuote("x'; touch pwned")).toBe(`'x'\\''; touch pwned'`);
  });

  it("the HTML viewer's replay line is quoted (and then HTML-escaped)", () => {
    const t = abbaDeadlock();
    const html = toHtml(t.events, { ...t.meta, scenario: 'a b; touch pwned', variant: "x';touch pwned" });
    const line = /<code id="replay">([^<]*)<\/code>/.exec(html)?.[1] ?? '';
    const text = line.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
    expect(text).toBe(replayCommand('a b; touch pwned', t.meta.token, "x';touch pwned"));
    expect(words(text.slice('mmsim '.length))).toEqual(['replay', 'a b; touch pwned', t.meta.token, '--variant', "x';touch pwned"]);
  });
});
