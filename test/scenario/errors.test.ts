import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/issues.js';
import { loadScenarioFile, parseScenario } from '../../src/scenario/load.js';
import { problemAt, problems, withActors } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsim-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileProblems(bytes: Uint8Array | string) {
  const f = join(dir, `f${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, bytes);
  try {
    loadScenarioFile(f);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as ScenarioError).problems;
  }
  throw new Error('expected the file to be rejected');
}

const ok = 'name: t\ndescription: d\nactors: []\nvariants: {d: {expect: []}}\n';

describe('scenario errors name the file, the path, what was expected and what was found', () => {
  it('every line of the message names the file', () => {
    try {
      parseScenario('name: 5\ndescription: [1]\nactors: []\nvariants: {d: {expect: []}}', 'my.yaml');
      expect.unreachable();
    } catch (e) {
      const lines = (e as Error).message.split('\n');
      expect(lines[0]).toMatch(/^my\.yaml: 2 problems$/);
      for (const l of lines.slice(1)) expect(l).toMatch(/^ {2}my\.yaml:\d+:\d+: /);
    }
  });

  it('wrong types', () => {
    const ps = problems('name: 5\ndescription: [1]\nactors: []\nvariants: {d: {expect: []}}');
    expect(problemAt(ps, 'name').message).toMatch(/expected a string.*found 5$/);
    expect(problemAt(ps, 'description').message).toMatch(/expected a string, found a list of 1 item/);
    expect(problemAt(ps, 'description').line).toBe(2);
  });

  it('missing fields say what is missing and what it should be', () => {
    const ps = problems('name: x\nactors: []');
    expect(problemAt(ps, 'description').message).toMatch(/missing.*expected a string/);
    expect(problemAt(ps, 'variants').message).toMatch(/missing.*map/);
  });

  it('extra keys list what is allowed and suggest the nearest', () => {
    const m = problemAt(problems(`${ok}actorz: []`), 'actorz').message;
    expect(m).toMatch(/unknown key/);
    expect(m).toMatch(/did you mean "actors"/);
    expect(m).toMatch(/allowed here: .*variants/);
  });

  it('unions read "expected one of a, b", not Effect syntax', () => {
    const ps = problems('name: x\ndescription: d\nlocks: {A: {kind: mutx}}\nactors: []\nvariants: {d: {expect: [dedlock]}}');
    const kind = problemAt(ps, 'locks.A.kind').message;
    expect(kind).toMatch(/^expected one of spinlock, mutex, rwsem, folio_lock, ww_mutex, found "mutx"; did you mean "mutex"\?$/);
    expect(problemAt(ps, 'variants.d.expect[0]').message).toMatch(/expected one of deadlock, potential-deadlock/);
    for (const p of ps) expect(p.message).not.toMatch(/\||Expected|Missing key/);
  });

  it('unknown operations, missing op, misspelt and invalid op fields', () => {
    const ps = problems(
      withActors(`  - name: T\n    ops:\n      - { op: lok, lock: A }\n      - { lock: A }\n      - { op: lock, lok: A }\n      - { op: lock, lock: A, nested: 7 }\n      - { op: 5 }`),
    );
    const unknown = problemAt(ps, 'actors[0].ops[0].op').message;
    expect(unknown).toMatch(/unknown operation "lok"; did you mean "lock"\?/);
    expect(unknown).toMatch(/known: .*trylock/);
    expect(problemAt(ps, 'actors[0].ops[0].op').line).toBe(9);
    expect(problemAt(ps, 'actors[0].ops[1].op').message).toMatch(/missing.*op:/);
    expect(problemAt(ps, 'actors[0].ops[2].lok').message).toMatch(/unknown key \(did you mean "lock"\?\); allowed here: op, lock, nested, label/);
    expect(problemAt(ps, 'actors[0].ops[2].lock').message).toMatch(/missing/);
    expect(problemAt(ps, 'actors[0].ops[3].nested').message).toBe('expected an integer from 0 to 3, found 7');
    expect(problemAt(ps, 'actors[0].ops[3].nested').line).toBe(12);
    expect(problemAt(ps, 'actors[0].ops[4].op').message).toMatch(/expected the name of an operation, found 5/);
  });

  it('unknown lock and label names, with the names that exist', () => {
    const ps = problems(withActors(`  - name: T\n    ops:\n      - { op: lock, lock: C }\n      - { op: trylock, lock: A, else: nowher }\n      - { op: goto, to: x, label: nowhere }`));
    expect(problemAt(ps, 'actors[0].ops[0].lock').message).toMatch(/no lock named "C" \(known: A, B\)/);
    expect(problemAt(ps, 'actors[0].ops[1].else').message).toMatch(/no label in this actor named "nowher"; did you mean "nowhere"\?/);
    expect(problemAt(ps, 'actors[0].ops[2].to').message).toMatch(/no label .* named "x"/);
  });

  it('reserved and repeated labels', () => {
    const ps = problems(withActors(`  - name: T\n    ops:\n      - { op: lock, lock: A, label: exit }\n      - { op: unlock, lock: A, label: op0 }\n      - { op: might_sleep, label: a }\n      - { op: might_sleep, label: a }`));
    expect(problemAt(ps, 'actors[0].ops[0].label').message).toMatch(/reserved/);
    expect(problemAt(ps, 'actors[0].ops[1].label').message).toMatch(/reserved/);
    expect(problemAt(ps, 'actors[0].ops[3].label').message).toMatch(/"a" a second time/);
  });

  it('bad variant switches', () => {
    const ps = problems('name: x\ndescription: d\nactors: []\nvariants:\n  v: {expect: [], switches: {orderd: true}}\n  w: {expect: [], switches: {ordered: yes}}');
    expect(problemAt(ps, 'variants.w.switches.ordered').message).toBe('expected true or false, found "yes"');
    const ps2 = problems('name: x\ndescription: d\nactors: []\nvariants:\n  v: {expect: [], switches: {orderd: true}}');
    expect(problemAt(ps2, 'variants.v.switches.orderd').message).toMatch(/no switch "orderd"; did you mean "ordered"\?/);
  });

  it('a list with too many items, a name too long', () => {
    const ops = Array.from({ length: 501 }, () => '{op: might_sleep}').join(', ');
    const ps = problems(withActors(`  - name: ${'x'.repeat(65)}\n    ops: [${ops}]`));
    expect(problemAt(ps, 'actors[0].name').message).toMatch(/expected a string of 1 to 64 characters, found "x+…"/);
    expect(problemAt(ps, 'actors[0].ops').message).toMatch(/at most 500 items, found a list of 501 items/);
  });

  it('YAML syntax errors give line and column', () => {
    const [p, ...rest] = problems('name: x\ndescription: [unclosed\nactors: []\n');
    expect(rest).toEqual([]);
    expect(p?.path).toBe('');
    expect(p?.message).toMatch(/not valid YAML/);
    expect(p?.line).toBeGreaterThanOrEqual(2);
    expect(p?.column).toBeGreaterThanOrEqual(1);
  });

  it('duplicate keys', () => {
    const ps = problems('name: x\nname: y\ndescription: d\nactors: []\nvariants: {d: {expect: []}}');
    expect(ps[0]?.message).toMatch(/key "name" appears twice/);
    expect(ps[0]?.line).toBe(2);
  });

  it('an empty file, a comment-only file, a second document', () => {
    expect(problems('')[0]?.message).toMatch(/file is empty.*keys name, description, variants/);
    expect(problems('# nothing here\n  \n')[0]?.message).toMatch(/file is empty/);
    expect(problems(`${ok}---\nname: y\n`)[0]?.message).toMatch(/more than one YAML document/);
  });

  it('a JSON array or a scalar at top level', () => {
    const [p] = problems('[1, 2, 3]', 'x.json');
    expect(p?.path).toBe('');
    expect(p?.message).toMatch(/^expected a map \(keys name, description, variants.*\), found a list of 3 items$/);
    expect(problems('42')[0]?.message).toMatch(/found 42$/);
  });

  it('non-UTF-8 bytes, UTF-16, binary garbage', () => {
    const latin1 = fileProblems(Buffer.concat([Buffer.from('name: x\ndescription: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    expect(latin1[0]?.message).toMatch(/not UTF-8/);
    expect(latin1[0]?.line).toBe(2);
    expect(fileProblems(Buffer.from('\ufeffname: x', 'utf16le'))[0]?.message).toMatch(/UTF-16/);
    const bin = fileProblems(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]));
    expect(bin[0]?.message).toMatch(/control character|binary/);
    expect(problems('name: x\u0000y')[0]?.message).toMatch(/control character U\+0000/);
  });

  it('a missing file', () => {
    expect(() => loadScenarioFile(join(dir, 'nope.yaml'))).toThrow(/cannot read the file \(ENOENT\)/);
  });

  it('enormous numbers: one problem per key, the value shown', () => {
    const ps = problems(`${ok}explore: {seed: 1e400, runs: 99999999999999999999999, depth: 2.5, timeMs: .nan}`);
    expect(problemAt(ps, 'explore.seed').message).toBe('expected an integer from 0 to 4294967295, found Infinity');
    expect(problemAt(ps, 'explore.runs').message).toMatch(/found 1e\+23/);
    expect(problemAt(ps, 'explore.depth').message).toMatch(/integer from 1 to 10, found 2.5/);
    expect(problemAt(ps, 'explore.timeMs').message).toMatch(/found NaN/);
    expect(ps.length).toBe(4);
  });

  it('deep nesting and alias bombs are ScenarioErrors, not crashes', () => {
    const deep = problems(`${ok}x: ${'['.repeat(20000)}${']'.repeat(20000)}`);
    expect(deep).toHaveLength(1);
    expect(deep[0]?.message).toMatch(/nested too deeply/);
    const json = problems(`{"a": ${'{"b": '.repeat(5000)}1${'}'.repeat(5000)}}`);
    expect(json[0]?.message).toMatch(/nested too deeply/);
    const bomb = ['a: &a [x,x,x,x,x,x,x,x,x]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]'];
    expect(problems(bomb.join('\n'))[0]?.message).toMatch(/alias/);
    expect(problems('a: *nowhere')[0]?.message).toMatch(/alias|anchor/i);
  });

  it('what only building can check (world references, op compile errors) is a problem with a path', () => {
    const world = 'world:\n  mms:\n    P:\n      vmas:\n        buf: { memfd: guest, shared: true, pages: 2 }\n';
    const ps = problems(`${ok}${world}`);
    expect(problemAt(ps, 'world.mms.P.vmas.buf.memfd').message).toMatch(/memfd.*"guest"/);
    expect(problemAt(ps, 'world.mms.P.vmas.buf.memfd').line).toBe(9);
  });

  it('a file with very many problems lists the first 50 and counts the rest', () => {
    const keys = Array.from({ length: 80 }, (_, i) => `extra${i}: 1`).join('\n');
    try {
      parseScenario(`${ok}${keys}`, 'many.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as ScenarioError).problems).toHaveLength(80);
      expect((e as Error).message).toMatch(/… and 30 more$/);
    }
  });

  it('YAML oddities: merge keys, binary tags, odd keys are quoted in paths', () => {
    const ps = problems('b: &b {kind: mutex}\nname: x\ndescription: d\nlocks: {A: {<<: *b}, "a.b": {kind: mutex, x: 1}}\nactors: []\nvariants: {d: {expect: []}}');
    expect(problemAt(ps, 'locks.A["<<"]').message).toMatch(/merge keys/);
    expect(problemAt(ps, 'locks["a.b"].x').message).toMatch(/unknown key/);
    expect(problemAt(ps, 'locks["a.b"].x').line).toBe(4);
    expect(problemAt(problems(`${ok.replace('name: t', 'name: !!binary aGVsbG8=')}`), 'name').message).toMatch(/found binary data/);
  });
});
