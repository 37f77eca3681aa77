/** Mermaid: a sequenceDiagram naming every actor and lock, every line a statement Mermaid knows, text escaped. */
import { describe, expect, it } from 'vitest';
import { mermaidText, toMermaid } from '../../src/trace/mermaid.js';
import { abbaDeadlock, EVIL_ACTOR, messagingTrace, replay } from './fixtures.js';
import { catalogueModel } from '../helpers.js';

/** The statements the exporter may write (ids are a0.. and l0..; labels come after `as` or `:`). */
const STATEMENT = [
  /^sequenceDiagram$/,
  /^ {2}%% [^\n]*$/,
  /^ {2}participant [al]\d+ as [^;#\n]+$/,
  /^ {2}a\d+(->>|-->>|-x|--x|-\))[+-]?[al]\d+: [^;#\n]*$/,
  /^ {2}(de)?activate l\d+$/,
  /^ {2}Note (over|right of) a\d+: [^;#\n]*$/,
  /^ {2}rect rgb\(\d+, \d+, \d+\)$/,
  /^ {4}Note over [al]\d+(,[al]\d+)?: [^;#\n]*$/,
  /^ {2}end$/,
];

/** Every line parses as a known statement once entity codes (`#n;`) are taken out. */
const unknownLines = (src: string): string[] =>
  src
    .trimEnd()
    .split('\n')
    .filter((l) => !STATEMENT.some((re) => re.test(l.startsWith('  %%') ? l : l.replace(/#\d+;/g, 'E'))));

describe('toMermaid', () => {
  it('abba deadlock: a sequence diagram with every actor and lock, blocks as crosses, the verdict last', () => {
    const t = abbaDeadlock();
    const src = toMermaid(t.events, t.meta);
    expect(src.startsWith('sequenceDiagram\n')).toBe(true);
    expect(unknownLines(src)).toEqual([]);
    for (const p of ['a0 as T0', 'a1 as T1', 'l0 as lock A', 'l1 as lock B']) expect(src).toContain(`  participant ${p}\n`);
    expect(src).toContain('a0->>l0: #35;0 T0:op0: acquire A');
    expect(src).toContain('a0-xl1: #35;2 T0:op1: blocks on B');
    const lines = src.trimEnd().split('\n');
    expect(lines.slice(-3, -2)[0]).toMatch(/^ {2}rect /);
    expect(lines.at(-2)).toMatch(/^ {4}Note over a0,l1: VERDICT deadlock at #35;4<br\/>deadlock: T0 -#62; T1 -#62; T0<br\/>/);
    expect(lines.filter((l) => /^ {2}activate/.test(l)).length).toBe(lines.filter((l) => /^ {2}deactivate/.test(l)).length);
  });

  it('escapes names and notes: no raw ; # % < > or newline reaches a label', () => {
    const t = messagingTrace();
    const src = toMermaid(t.events, t.meta);
    expect(unknownLines(src)).toEqual([]);
    expect(src).not.toContain(EVIL_ACTOR);
    expect(src).toContain('participant a1 as #60;script#62;alert(1)#60;/script#62;');
    expect(src).toContain('a1-)a0: #35;6 ');
    expect(src).toContain('a1->>+a1: #35;2 #60;script#62;alert(1)#60;/script#62;:b: call helper #38; co(x=1, y=2)');
    expect(src).toContain('a1-->>-a1: ');
    expect(src).toContain('note with #60;b#62;markup#60;/b#62;#59; and #35; and<br/>newline');
    expect(mermaidText('a;b#c%d\ne')).toBe('a#59;b#35;c#37;d<br/>e');
  });

  it('collapses runs of plain steps into one note', () => {
    const t = replay(catalogueModel('trylock-backoff'), 'trylock-backoff', 'default', `v1.1000111${'0'.repeat(20)}`);
    const src = toMermaid(t.events, t.meta);
    expect(unknownLines(src)).toEqual([]);
    expect(src).toContain('Note over a0: #35;15#8211;16 T1:op4, T1:done\n');
    expect(src).toContain('  a0--xl1: #35;3 T1:op1: trylock A failed\n');
    expect(src.trimEnd().split('\n').at(-2)).toBe('    Note over a0,l1: VERDICT ok: the run ended cleanly');
  });

  it('is byte-identical across two replays', () => {
    const a = abbaDeadlock();
    const b = abbaDeadlock();
    expect(toMermaid(b.events, b.meta)).toBe(toMermaid(a.events, a.meta));
  });
});
