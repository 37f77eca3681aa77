/**
 * A region of world memory declared once, by one field list: each field is a name with a comment
 * (an int32) or with a comment and a length (an array of int32s). The offsets (`off.refcount`), the
 * stride, the per-slot names a trace or diff prints (`folio[2].refcount`, `pgtable[0].pte3`) and the
 * JSON Schema of a record (for the JSON trace's kernel state) are all generated from it.
 */

/** A field: its comment, or its comment and how many int32s it holds. */
export type FieldSpec = string | readonly [doc: string, length: number];

export type FieldList = Readonly<Record<string, FieldSpec>>;

export interface RegionDef<F extends FieldList = FieldList> {
  readonly name: string;
  readonly doc: string;
  readonly fields: F;
  /** Slot offset of each field inside a record. */
  readonly off: { readonly [K in keyof F]: number };
  /** int32s per record. */
  readonly stride: number;
  /** The name of each slot of a record (`pte0`..`pte3` for an array field). */
  readonly names: readonly string[];
}

/** Declare a region: offsets, stride and slot names follow the order of `fields`. */
export function defineRegion<const F extends FieldList>(name: string, doc: string, fields: F): RegionDef<F> {
  const off: Record<string, number> = {};
  const names: string[] = [];
  for (const [k, spec] of Object.entries(fields)) {
    off[k] = names.length;
    if (typeof spec === 'string') names.push(k);
    else for (let i = 0; i < spec[1]; i++) names.push(`${k}${i}`);
  }
  return { name, doc, fields, off: off as RegionDef<F>['off'], stride: names.length, names };
}

/** One record of a region read back from memory: a number per field, an array per array field. */
export type RegionRecord = Record<string, number | number[]>;

/** Decode `count` records at `base` (for the JSON trace's state section). */
export function decodeRegion(def: RegionDef, base: number, count: number, get: (slot: number) => number): RegionRecord[] {
  const out: RegionRecord[] = [];
  for (let r = 0; r < count; r++) {
    const rec: RegionRecord = {};
    for (const [k, spec] of Object.entries(def.fields)) {
      const at = base + r * def.stride + (def.off[k] as number);
      rec[k] = typeof spec === 'string' ? get(at) : Array.from({ length: spec[1] }, (_, i) => get(at + i));
    }
    out.push(rec);
  }
  return out;
}

/** The JSON Schema (draft 2020-12) of one record of a region. */
export function recordSchema(def: RegionDef): object {
  const properties: Record<string, object> = {};
  for (const [k, spec] of Object.entries(def.fields)) {
    properties[k] =
      typeof spec === 'string'
        ? { type: 'integer', description: spec }
        : { type: 'array', description: spec[0], items: { type: 'integer' }, minItems: spec[1], maxItems: spec[1] };
  }
  return { type: 'object', description: def.doc, properties, required: Object.keys(def.fields), additionalProperties: false };
}
