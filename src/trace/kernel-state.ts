/**
 * The kernel state section of the JSON trace and the JSON Schema of the whole trace file. Both are
 * generated from the layout's declared regions (src/engine/region.ts), so the field names, array
 * lengths and comments are the ones the subsystem modules declare.
 */
import { decodeRegion, type RegionRecord, recordSchema } from '../engine/region.js';
import type { Layout } from '../engine/layout.js';
import { VERDICT_CODES } from '../engine/events.js';

/** Every declared region's records, by region name (`mm`, `pmd.P`, `pgtable`, `folio`, ...). */
export type KernelState = Record<string, RegionRecord[]>;

/** Decode the declared regions of `layout` from memory. */
export function kernelState(layout: Layout, get: (slot: number) => number): KernelState {
  const out: KernelState = {};
  for (const r of layout.regions) if (r.def) out[r.name] = decodeRegion(r.def, r.base, r.count, get);
  return out;
}

/** The JSON Schema (draft 2020-12) of a JSON trace (toJson) of a model with this layout. */
export function traceSchema(layout: Layout): object {
  const state: Record<string, object> = {};
  for (const r of layout.regions) {
    if (r.def) state[r.name] = { type: 'array', description: r.def.doc, items: recordSchema(r.def), minItems: r.count, maxItems: r.count };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'mmsim JSON trace',
    type: 'object',
    required: ['meta', 'events'],
    additionalProperties: false,
    properties: {
      meta: {
        type: 'object',
        required: ['scenario', 'variant', 'token', 'verdict'],
        additionalProperties: false,
        properties: {
          scenario: { type: 'string' },
          variant: { type: 'string' },
          token: { type: 'string' },
          verdict: { enum: [...VERDICT_CODES] },
        },
      },
      events: { type: 'array', items: { type: 'object', required: ['k', 'i'], properties: { k: { type: 'string' }, i: { type: 'integer' } } } },
      state: { type: 'object', description: 'kernel state at the end of the run', required: Object.keys(state), additionalProperties: false, properties: state },
    },
  };
}
