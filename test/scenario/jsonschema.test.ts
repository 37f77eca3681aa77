import Ajv2020 from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchema } from '../../src/scenario/jsonschema.js';
import { opNames } from '../../src/scenario/ops.js';
import { catalogue } from './helpers.js';

type Json = Record<string, unknown>;

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

const schema = scenarioJsonSchema();
const ajv = new Ajv2020({ strict: true, allErrors: true });
const validate = ajv.compile(schema);
const check = (doc: unknown) => ({ ok: validate(doc), errors: validate.errors ?? [] });
const abba = catalogue.find((c) => c.name === 'abba.yaml');

describe('scenarioJsonSchema', () => {
  it('is a draft 2020-12 document whose references all resolve', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    const defs = schema.$defs as Json;
    const all = refs(schema);
    expect(all).toContain('#/$defs/Operation');
    for (const r of all) {
      expect(r).toMatch(/^#\/\$defs\//);
      expect(defs[decodeURIComponent(r.slice('#/$defs/'.length))], r).toBeDefined();
    }
    expect(ajv.validateSchema(schema)).toBe(true);
  });

  it('refines operations into a oneOf over every registered operation', () => {
    const branches = ((schema.$defs as Json).Operation as { oneOf: Json[] }).oneOf;
    expect(branches.map((b) => (b.properties as Json & { op: { const: string } }).op.const)).toEqual(opNames());
    for (const b of branches) {
      expect(b.required).toContain('op');
      expect(b.additionalProperties).toBe(false);
      expect((b.properties as Json).label).toBeDefined();
    }
  });

  it.each(catalogue)('accepts $name', ({ text }) => {
    const r = check(parse(text));
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('rejects a typo in a key, an unknown operation, a misspelt op field, null for an optional key', () => {
    const base = () => parse(abba?.text ?? '') as Json & { actors: { ops: Json[] }[]; locks: Record<string, Json> };
    const typo = base();
    typo.actorz = typo.actors;
    expect(check(typo).ok).toBe(false);
    expect(check(typo).errors.some((e) => e.keyword === 'additionalProperties')).toBe(true);
    const unknownOp = base();
    (unknownOp.actors[0] as { ops: Json[] }).ops[0] = { op: 'lok', lock: 'A' };
    expect(check(unknownOp).ok).toBe(false);
    const field = base();
    (field.actors[1] as { ops: Json[] }).ops[1] = { op: 'lock', lok: 'A' };
    expect(check(field).ok).toBe(false);
    const nul = base();
    (nul.locks.A as Json).class = null;
    expect(check(nul).ok).toBe(false);
    const exitLabel = base();
    (exitLabel.actors[0] as { ops: Json[] }).ops[0] = { op: 'lock', lock: 'A', label: 'exit' };
    expect(check(exitLabel).ok).toBe(false);
  });

  it('is generated at call time, so it is a fresh object each call', () => {
    expect(scenarioJsonSchema()).toEqual(schema);
    expect(scenarioJsonSchema()).not.toBe(schema);
  });
});
