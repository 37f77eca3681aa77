/** Generators and the property shared by the loader's fuzz tests. */
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { buildModel, variantNames } from '../../src/scenario/build.js';
import { ScenarioError } from '../../src/scenario/issues.js';
import type { Scenario } from '../../src/scenario/load.js';
import { scenarioJsonSchema } from '../../src/scenario/jsonschema.js';
import { opNames } from '../../src/scenario/ops.js';
import { catalogue } from './helpers.js';

/** Messages a problem with no path may carry: it is about the whole file. */
const WHOLE_FILE = /^(not valid YAML|not YAML text|not UTF-8|not readable|the file is empty|expected a map \(keys name|the key .*appears twice|more than one YAML document|cannot read)/;

const validate = new Ajv2020({ allErrors: false }).compile(scenarioJsonSchema());
// Small documents keep 10,000 runs fast: the catalogue files without their prose descriptions.
const short = (text: string) => text.replace(/^description: >\n(?: {2}.*\n)+/m, 'description: d\n');
/** The catalogue files' text, descriptions shortened. */
export const texts = catalogue.map((c) => short(c.text));
/** The catalogue files as data. */
export const docs = texts.map((t) => parse(t) as unknown);

/** How many documents were accepted and rejected. */
export interface Stats {
  ok: number;
  rejected: number;
}

/**
 * The property: loading accepts (every variant then builds, and the JSON Schema agrees) or throws
 * a ScenarioError whose every problem has a message and, unless about the whole file, a path.
 */
export function outcome(stats: Stats, load: () => Scenario, schemaCheck = false): void {
  let sc: Scenario;
  try {
    sc = load();
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw new Error(`threw ${String(e)}, not a ScenarioError`);
    expect(e.problems.length).toBeGreaterThan(0);
    for (const p of e.problems) {
      expect(typeof p.message === 'string' && p.message.trim() !== '', 'a message').toBe(true);
      expect(p.message).not.toMatch(/internal error|\[object Object\]|^Expected /);
      expect(typeof p.path).toBe('string');
      if (p.path === '') expect(p.message).toMatch(WHOLE_FILE);
    }
    stats.rejected++;
    return;
  }
  for (const v of variantNames(sc)) buildModel(sc, v);
  // The decoded spec equals the input (see the round-trip test), so the JSON Schema must accept it.
  if (schemaCheck) expect(validate(sc.spec), 'the JSON Schema accepts what the loader accepts').toBe(true);
  stats.ok++;
}

const nested = (depth: number, leaf: unknown, asMap: boolean): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asMap ? { k: v } : [v];
  return v;
};

/** Any code point, lone surrogates included (cheaper than `unit: 'binary'`, which builds a 1M-entry table). */
const anyChar = fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c));
/** Values of every awkward kind: wrong types, huge numbers, reserved names, deep nesting, any code point. */
export const weird = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 1 }), weight: 3 },
  {
    arbitrary: fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, 4294967296, -1, 0, 0.5, Infinity, -Infinity, Number.NaN, '', 'exit', 'op3', '<<', '__proto__', 'constructor', true, null, [], {}),
    weight: 4,
  },
  { arbitrary: fc.string({ unit: anyChar, maxLength: 20 }), weight: 2 },
  { arbitrary: fc.tuple(fc.integer({ min: 5, max: 40 }), fc.boolean()).map(([d, m]) => nested(d, 1, m)), weight: 1 },
  { arbitrary: fc.constantFrom(...opNames(), 'lok', 'A', 'B', 'retry', 'fork0', 'default', 'ordered', 'mutex', 'deadlock'), weight: 4 },
);

/** One change to a document: set or delete a key (or item) of some map or list, or add one. */
export type Mutation = { kind: 'set' | 'delete' | 'add'; at: number; key: string; value: unknown };
/** A random Mutation. */
export const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('set', 'delete', 'add'),
  at: fc.nat(),
  key: fc.oneof(fc.constantFrom('name', 'op', 'lock', 'label', 'else', 'nested', 'actorz', 'switches', 'expect', 'seed', 'x'), fc.string({ maxLength: 8 })),
  value: weird,
});

function containers(v: unknown, out: unknown[] = []): unknown[] {
  if (v && typeof v === 'object') {
    out.push(v);
    for (const c of Object.values(v)) containers(c, out);
  }
  return out;
}

/** Apply mutations to a copy of a document (the document itself may be replaced). */
export function mutate(doc: unknown, ms: Mutation[]): unknown {
  const root = { doc: structuredClone(doc) } as Record<string, unknown>;
  for (const m of ms) {
    const cs = containers(root);
    const c = cs[m.at % cs.length] as Record<string, unknown> | unknown[];
    const keys = Object.keys(c);
    // An empty list has no item to pick: its first index, never a property such as `length` (which throws).
    const key = keys[m.at % Math.max(1, keys.length)] ?? (Array.isArray(c) ? '0' : m.key);
    if (m.kind === 'delete') Array.isArray(c) ? c.splice(Number(key), 1) : delete c[key];
    else if (m.kind === 'set') (c as Record<string, unknown>)[key] = structuredClone(m.value);
    else if (Array.isArray(c)) c.push(structuredClone(m.value));
    else Object.defineProperty(c, m.key, { value: structuredClone(m.value), enumerable: true, writable: true, configurable: true });
  }
  return root.doc;
}

/** A document as YAML or JSON text (empty when it cannot be written). */
export const serialise = (v: unknown, json: boolean): string => {
  try {
    return (json ? JSON.stringify(v) : stringify(v, { aliasDuplicateObjects: false })) ?? '';
  } catch {
    return '';
  }
};

/** One edit of text: delete some characters at a place and insert others. */
export const textEdit = fc.record({
  at: fc.nat(),
  del: fc.integer({ min: 0, max: 4 }),
  ins: fc.oneof(fc.string({ unit: anyChar, maxLength: 4 }), fc.constantFrom(':', '- ', '[', ']', '{', '}', '&a ', '*a', '!!binary ', '\t', '\n', '"', "'", '#', '---\n', '\u0000', '\ufffd', '\ud800')),
});

const op = fc.dictionary(fc.constantFrom('op', 'lock', 'else', 'to', 'label', 'nested', 'stamp', 'vma', 'page', 'zz'), weird, { maxKeys: 4 });
/** Documents shaped like scenarios, with awkward values anywhere. */
export const scenarioShaped = fc.record(
  {
    name: fc.oneof(fc.constant('s'), weird),
    description: fc.oneof(fc.constant('d'), weird),
    locks: fc.oneof(fc.constant({ A: { kind: 'mutex' }, B: { kind: 'spinlock' } }), weird),
    world: fc.oneof(fc.constant({ memfds: { g: { pages: 2 } }, mms: { P: { vmas: { v: { memfd: 'g', shared: true, pages: 2 } } } } }), weird),
    actors: fc.oneof(fc.array(fc.record({ name: fc.constantFrom('T0', 'T1', ''), ops: fc.array(op, { maxLength: 5 }) }), { maxLength: 3 }), weird),
    generate: fc.record({ kind: fc.constantFrom('philosophers', 'x'), n: fc.integer({ min: -2, max: 14 }) }),
    variants: fc.oneof(
      fc.constant({ default: { expect: [] } }),
      fc.dictionary(fc.string({ maxLength: 6 }), fc.record({ expect: fc.array(weird, { maxLength: 2 }), switches: weird }, { requiredKeys: ['expect'] })),
    ),
    explore: fc.dictionary(fc.constantFrom('seed', 'runs', 'depth', 'strategy', 'bogus'), weird),
  },
  { requiredKeys: [] },
);

/** Catalogue files with some bytes overwritten. */
export const corruptedBytes = fc
  .tuple(fc.nat(texts.length - 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }))
  .map(([i, fs]) => {
    const b = Buffer.from(texts[i] ?? '', 'utf8');
    for (const [at, v] of fs) b[at % b.length] = v;
    return b;
  });
