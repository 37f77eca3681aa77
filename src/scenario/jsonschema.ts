/**
 * The scenario format as JSON Schema (draft 2020-12), for editors: generated from the Effect schema,
 * with each operation (`actors[].ops[]`) refined into a `oneOf` over the registered vocabulary.
 */
import * as Schema from 'effect/Schema';
import { opNames, opSpec } from './ops.js';
import { ScenarioSpec } from './schema.js';
// Every module that registers operations (load.ts imports them all).
import './load.js';

type Json = Record<string, unknown>;

const opts = { onExcessProperty: 'error' } as const;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The loader decodes with the schema itself, not its JSON codec, so an optional key is absent or
 * valid but never `null`: drop the `null` branch the JSON codec adds to optional properties.
 */
function stripOptionalNull(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripOptionalNull);
  if (!isObj(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = stripOptionalNull(v);
  if (isObj(out.properties)) {
    const required = new Set(Array.isArray(out.required) ? out.required : []);
    const props: Json = {};
    for (const [k, v] of Object.entries(out.properties)) props[k] = required.has(k) ? v : withoutNull(v);
    out.properties = props;
  }
  return out;
}

function withoutNull(s: unknown): unknown {
  if (!isObj(s) || !Array.isArray(s.anyOf)) return s;
  const branches = s.anyOf.filter((b) => !(isObj(b) && b.type === 'null' && Object.keys(b).length === 1));
  const { anyOf: _, ...rest } = s;
  if (branches.length === 1 && isObj(branches[0])) return { ...branches[0], ...rest };
  return { ...rest, anyOf: branches };
}

function merge(defs: Json, more: Json): void {
  for (const [k, v] of Object.entries(more)) {
    if (k in defs && JSON.stringify(defs[k]) !== JSON.stringify(v)) throw new Error(`JSON Schema definition ${k} generated twice, differently`);
    defs[k] = v;
  }
}

/** One `oneOf` branch: the operation's own fields, `op` fixed to its name, and an optional `label`. */
function opBranch(name: string, defs: Json): Json {
  const spec = opSpec(name);
  if (!spec) throw new Error(`no operation ${name}`);
  const doc = Schema.toJsonSchemaDocument(Schema.Struct(spec.fields), opts);
  merge(defs, doc.definitions as Json);
  const own = doc.schema as Json;
  return {
    type: 'object',
    title: name,
    description: spec.doc,
    properties: {
      op: { const: name },
      ...(isObj(own.properties) ? own.properties : {}),
      label: { type: 'string', minLength: 1, not: { pattern: '^(exit|op[0-9]+)$' }, description: 'a name for this step, to jump to (goto, else)' },
    },
    required: ['op', ...(Array.isArray(own.required) ? own.required : [])],
    additionalProperties: false,
  };
}

/** The JSON Schema of scenario files, built now from the schema and the operations registered so far. */
export function scenarioJsonSchema(): Json {
  const doc = Schema.toJsonSchemaDocument(ScenarioSpec, opts);
  const defs: Json = { ...(doc.definitions as Json) };
  if (!('Operation' in defs)) throw new Error('the scenario schema has no Operation definition to refine');
  const ops = opNames().map((n) => opBranch(n, defs));
  defs.Operation = { description: 'an operation: `op` names it, the other keys are its fields', oneOf: ops };
  return stripOptionalNull({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'mmsim scenario',
    description: 'A scenario for mmsim: locks, actors and their operations, variants and the verdicts each must find.',
    ...(doc.schema as Json),
    $defs: defs,
  }) as Json;
}
