/**
 * Subsystem regions: offsets, slot names and the JSON trace's state section and schema all come from
 * each module's one field list.
 */
import { describe, expect, it } from 'vitest';
import { defineRegion } from '../../src/engine/region.js';
import { replayToken } from '../../src/explore/replayer.js';
import { PTRS_PER_PTE } from '../../src/kernel/defs.js';
import { F_MAPCOUNT, F_REF, KERNEL, PT_PTE } from '../../src/kernel/kernel.js';
import { FOLIO } from '../../src/kernel/sys/folio.js';
import { MAPPING } from '../../src/kernel/sys/memfd.js';
import { PGTABLE } from '../../src/kernel/sys/pgtable.js';
import { toJson } from '../../src/trace/json.js';
import { kernelState, traceSchema } from '../../src/trace/kernel-state.js';
import { catalogueModel } from '../helpers.js';

type Schema = { properties: Record<string, Schema>; required?: string[]; additionalProperties?: boolean; items?: Schema; minItems?: number; maxItems?: number; type?: string };

/** A minimal JSON Schema check for what traceSchema emits: closed or open objects, arrays with lengths, integers. */
function conforms(v: unknown, s: Schema, path: string, errors: string[]): void {
  if (s.type === 'integer') {
    if (!Number.isInteger(v)) errors.push(`${path}: not an integer`);
  } else if (s.type === 'array') {
    if (!Array.isArray(v)) return void errors.push(`${path}: not an array`);
    if (s.minItems !== undefined && v.length < s.minItems) errors.push(`${path}: ${v.length} < ${s.minItems} items`);
    if (s.maxItems !== undefined && v.length > s.maxItems) errors.push(`${path}: ${v.length} > ${s.maxItems} items`);
    for (const [i, x] of v.entries()) conforms(x, s.items as Schema, `${path}[${i}]`, errors);
  } else if (s.type === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    for (const k of s.required ?? []) if (!(k in o)) errors.push(`${path}.${k}: missing`);
    for (const k of keys) {
      const p = s.properties[k];
      if (!p) {
        if (s.additionalProperties === false) errors.push(`${path}.${k}: not in the schema`);
      } else conforms(o[k], p, `${path}.${k}`, errors);
    }
  }
}

describe('region declarations', () => {
  it('generate offsets, stride and slot names from one field list', () => {
    const r = defineRegion('t', 'test', { a: 'one', b: ['four', 4], c: 'after' });
    expect(r.off).toEqual({ a: 0, b: 1, c: 5 });
    expect(r.stride).toBe(6);
    expect(r.names).toEqual(['a', 'b0', 'b1', 'b2', 'b3', 'c']);
    expect(PGTABLE.stride).toBe(3 + PTRS_PER_PTE);
    expect(PT_PTE).toBe(PGTABLE.off.pte);
    expect([F_REF, F_MAPCOUNT]).toEqual([1, 2]);
  });

  it('name the slots of a built model after the declared fields', () => {
    const m = catalogueModel('uffd-move-vs-gup', 'v6.8');
    const K = KERNEL.of(m);
    expect(m.layout.nameOf(K.pteSlot(1, 3))).toBe('pgtable[1].pte3');
    expect(m.layout.nameOf(K.fSlot(2, F_REF))).toBe('folio[2].refcount');
    expect(m.layout.nameOf(K.pmdSlot(0, 1))).toBe('pmd.P[1].val');
  });
});

describe('the JSON trace state section', () => {
  const m = catalogueModel('uffd-move-vs-gup', 'no-pin-recheck');
  const r = replayToken(m, 'v1.0.11.1.7.', 500);
  const K = KERNEL.of(m);
  const state = kernelState(m.layout, (i) => r.world.get(i));

  it('decodes every declared region with the values the kernel API reads', () => {
    expect(r.verdict?.code).toBe('invariant');
    expect(Object.keys(state)).toEqual(['mm', 'pmd.P', 'vma', 'pgtable', 'folio', 'mapping', 'mirror', 'pins']);
    for (let f = 0; f < K.nfolios; f++) {
      const rec = state.folio?.[f] as Record<string, number>;
      expect(rec.refcount).toBe(r.world.get(K.fSlot(f, F_REF)));
      expect(rec.mapcount).toBe(r.world.get(K.fSlot(f, F_MAPCOUNT)));
    }
    for (let t = 0; t < K.ntables; t++) {
      const ptes = (state.pgtable as Record<string, number[]>[])[t]?.pte;
      expect(ptes).toEqual(Array.from({ length: PTRS_PER_PTE }, (_, i) => r.world.get(K.pteSlot(t, i))));
    }
    expect(state.mapping).toEqual([]);
    expect(Object.keys(MAPPING.off)).toEqual(Object.keys(MAPPING.fields));
    expect(Object.keys(state.folio?.[0] ?? {})).toEqual(Object.keys(FOLIO.fields));
  });

  it('conforms to the generated trace schema, which rejects a record with a field too many', () => {
    const json = JSON.parse(toJson(r.events, { scenario: 'uffd-move-vs-gup', variant: 'no-pin-recheck', token: 'v1.0.11.1.7.', verdict: r.verdict }, state));
    const schema = traceSchema(m.layout) as Schema;
    const errors: string[] = [];
    conforms(json, schema, '$', errors);
    expect(errors).toEqual([]);
    (json.state.folio[0] as Record<string, number>).extra = 1;
    json.state.pgtable[0].pte.push(0);
    conforms(json, schema, '$', errors);
    expect(errors).toEqual(['$.state.pgtable[0].pte: 5 > 4 items', '$.state.folio[0].extra: not in the schema']);
  });
});
