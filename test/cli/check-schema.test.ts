/** `mmsim check`'s semantic checks (errors and warnings with file:line:col) and `mmsim schema` for editors. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { editorSchema } from '../../src/cli/schema.js';
import { catalogueFiles } from '../../src/scenario/catalogue.js';
import { ScenarioError } from '../../src/scenario/issues.js';
import { loadScenarioFile, scenarioWarnings } from '../../src/scenario/load.js';
import { knownSwitches } from '../../src/scenario/ops.js';
import { readFileSync } from 'node:fs';

/** A nested value of a JSON document. */
const dig = (o: unknown, ...keys: string[]): Record<string, unknown> => keys.reduce((x, k) => (x as Record<string, unknown>)[k], o) as Record<string, unknown>;
const tmp = mkdtempSync(join(tmpdir(), 'mmsim-check-'));
const file = (name: string, text: string) => {
  const f = join(tmp, name);
  writeFileSync(f, text);
  return f;
};

const WORLD = `world:
  memfds: { guest: { kind: shmem, pages: 4 } }
  mms:
    vm:
      vmas:
        ram: { memfd: guest, shared: true, pages: 2 }
`;

describe('semantic checks', () => {
  it('a page past the end of a VMA is an error at its line and column', () => {
    const f = file('vma.yaml', `name: v\ndescription: d\n${WORLD}actors:\n  - { name: cpu0, mm: vm, ops: [ { op: write, vma: ram, page: 2 } ] }\nvariants: { default: { expect: [] } }\n`);
    let err: unknown;
    try {
      loadScenarioFile(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as Error).message).toContain(`${f}:10:57: actors[0].ops[0].page: page 2 past the end of VMA "ram" (2 pages: 0..1)`);
  });

  it('past a memfd, unreachable operations and unused locks are warnings with line and column', () => {
    const f = file(
      'warn.yaml',
      `name: w\ndescription: d\nlocks:\n  A: { kind: mutex }\n  C: { kind: spinlock }\n${WORLD}actors:\n  - name: cpu0\n    ops:\n      - { op: lock, lock: A }\n      - { op: goto, to: out }\n      - { op: lock, lock: A }\n      - { op: unlock, lock: A, label: out }\n  - { name: qemu, mm: vm, ops: [ { op: punch_hole, memfd: guest, page: 3, pages: 2 } ] }\nvariants: { default: { expect: [] } }\n`,
    );
    const w = scenarioWarnings(loadScenarioFile(f)).map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
    expect(w).toEqual([
      '5:3 locks.C: lock "C" is declared but no operation takes it',
      "17:9 actors[0].ops[2]: unreachable: no path from cpu0's first operation gets here (it follows a goto and nothing jumps to it)",
      '19:66 actors[1].ops[0].page: pages 3..4 past the end of memfd "guest" (4 pages): nothing is there unless an ftruncate grows it first',
    ].sort((a, b) => Number(a.split(':')[0]) - Number(b.split(':')[0])));
  });

  it('an expect naming no verdict kind is an error at its line', () => {
    const f = file('expect.yaml', 'name: e\ndescription: d\nlocks: { A: { kind: mutex } }\nactors:\n  - { name: T, ops: [ { op: lock, lock: A } ] }\nvariants:\n  default: { expect: [dedlock] }\n');
    expect(() => loadScenarioFile(f)).toThrow(/expect\.yaml:7:\d+: variants\.default\.expect\[0\]/);
  });

  it('the catalogue has no semantic warnings', () => {
    for (const f of catalogueFiles()) expect(scenarioWarnings(loadScenarioFile(f)), f).toEqual([]);
  });
});

describe('mmsim schema', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  it('has an $id, every switch named and described, and validates the catalogue', () => {
    const s = editorSchema('9.9.9');
    expect(s.$id).toBe('urn:mmsim:scenario:9.9.9');
    const sw = dig(s, 'properties', 'variants', 'additionalProperties', 'properties', 'switches', 'properties') as Record<string, { description: string }>;
    expect(Object.keys(sw).sort()).toEqual([...knownSwitches().keys()].sort());
    for (const [n, d] of Object.entries(sw)) expect(d.description, n).toMatch(/\w{3}/);
    const validate = ajv.compile(s);
    for (const f of catalogueFiles()) expect(validate(parse(readFileSync(f, 'utf8'))), `${f} ${JSON.stringify(validate.errors)}`).toBe(true);
    expect(validate({ ...parse(readFileSync(catalogueFiles()[0] as string, 'utf8')), variants: { x: { expect: [], switches: { no_such_switch: true } } } })).toBe(false);
  });

  it('for one scenario: its name in $id and its variants described', () => {
    const sc = loadScenarioFile(catalogueFiles().find((f) => f.endsWith('uffd-move-vs-gup.yaml')) as string);
    const s = editorSchema('1.0.0', sc);
    expect(s.$id).toBe('urn:mmsim:scenario:1.0.0:uffd-move-vs-gup');
    const vs = dig(s, 'properties', 'variants', 'properties');
    expect(Object.keys(vs).sort()).toEqual(Object.keys(sc.spec.variants).sort());
  });
});

describe('catalogue descriptions', () => {
  it('a description that names a variant (`x` variant, the `x` variant) names one that exists', () => {
    for (const f of catalogueFiles()) {
      const sc = loadScenarioFile(f);
      const text = [sc.spec.description, ...Object.values(sc.spec.variants).map((v) => v.description ?? '')].join(' ');
      for (const m of text.matchAll(/`([\w-]+)`\s+variant|variant\s+`([\w-]+)`/g))
        expect(Object.keys(sc.spec.variants), `${f}: ${m[0]}`).toContain(m[1] ?? m[2]);
    }
  });
});
