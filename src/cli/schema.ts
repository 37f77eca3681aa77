/**
 * `mmsim schema`: the JSON Schema of scenario files for editors (yaml-language-server), with an
 * `$id`, every model switch named and described, and, for one scenario, its variants described.
 */
import { knownSwitches } from '../scenario/ops.js';
import type { Scenario } from '../scenario/load.js';
import { scenarioJsonSchema } from '../scenario/jsonschema.js';

type Json = Record<string, unknown>;

/** The schema; with `sc`, its `$id` and title name the scenario and its variants are described. */
export function editorSchema(version: string, sc?: Scenario): Json {
  const s = scenarioJsonSchema();
  const props = s.properties as Json;
  const variants = props.variants as Json;
  const variant = variants.additionalProperties as Json;
  const switches = (variant.properties as Json).switches as Json;
  const known = [...knownSwitches()].sort(([a], [b]) => (a < b ? -1 : 1));
  switches.properties = Object.fromEntries(known.map(([name, doc]) => [name, { type: 'boolean', description: doc }]));
  switches.additionalProperties = { type: 'boolean' };
  delete switches.propertyNames;
  // A variant may also set the switches its file declares (a top-level `switches:` read by `branch`
  // ops); without that section, only the model's own switches are allowed.
  const closed = { properties: { variants: { additionalProperties: { properties: { switches: { properties: switches.properties, additionalProperties: false } } } } } };
  const out: Json = { $id: `urn:mmsim:scenario:${version}`, ...s, if: { not: { required: ['switches'] } } };
  // JSON Schema's `then` keyword (biome flags a literal `then` key as a thenable).
  out['then'] = closed;
  if (sc) {
    out.$id = `urn:mmsim:scenario:${version}:${sc.spec.name}`;
    out.title = `mmsim scenario ${sc.spec.name}`;
    variants.properties = Object.fromEntries(
      Object.entries(sc.spec.variants).map(([name, v]) => [name, { ...variant, description: v.description ?? `variant ${name}` }]),
    );
  }
  return out;
}
