/** Decoding a raw operation against the vocabulary: `op`, its own fields, an optional `label`. */
import * as Result from 'effect/Result';
import * as Schema from 'effect/Schema';
import type * as SchemaIssue from 'effect/SchemaIssue';
import { describeValue, didYouMean } from './describe.js';
import { type Problem, problemsOf } from './issues.js';
import { opNames, opSpec, type OpSpec } from './ops.js';

/** An operation that decoded: its vocabulary entry, its own fields, its label if any. */
export interface DecodedOp {
  readonly spec: OpSpec;
  readonly args: Record<string, unknown>;
  readonly label?: string;
}

const decodeOpts = { errors: 'all', onExcessProperty: 'error' } as const;
const OpLabel = Schema.optional(Schema.String);
const decoders = new WeakMap<OpSpec, (o: unknown) => Result.Result<unknown, { issue: SchemaIssue.Issue }>>();

/** The decoder of one operation's map: `op`, its own fields, an optional `label` (built once per op). */
function opDecoder(spec: OpSpec) {
  let d = decoders.get(spec);
  if (!d) {
    // biome-ignore lint/suspicious/noExplicitAny: op fields carry no decoding services
    const struct = Schema.Struct({ op: Schema.Literal(spec.name), ...spec.fields, label: OpLabel }) as any;
    d = Schema.decodeUnknownResult(struct, decodeOpts) as (o: unknown) => Result.Result<unknown, { issue: SchemaIssue.Issue }>;
    decoders.set(spec, d);
  }
  return d;
}

const RESERVED_LABEL = /^(exit|op\d+)$/;

/** Decode each raw op against its vocabulary entry; undefined where it failed (problems recorded). */
export function decodeOps(raw: readonly Record<string, unknown>[], base: string, problems: Problem[]): (DecodedOp | undefined)[] {
  const labels = new Set<string>();
  return raw.map((o, oi) => {
    const path = `${base}.ops[${oi}]`;
    const { op, label } = o;
    if (typeof op !== 'string') {
      const what = op === undefined ? 'missing: every operation needs `op:`' : `expected the name of an operation, found ${describeValue(op)}`;
      problems.push({ path: `${path}.op`, message: `${what} (known: ${opNames().join(', ')})` });
      return undefined;
    }
    const spec = opSpec(op);
    if (!spec) {
      problems.push({ path: `${path}.op`, message: `unknown operation "${op}"${didYouMean(op, opNames())} (known: ${opNames().join(', ')})` });
      return undefined;
    }
    let ok = true;
    if (typeof label === 'string') {
      const bad = label === '' ? 'an empty label' : RESERVED_LABEL.test(label) ? `"${label}" (exit and op<N> are reserved)` : labels.has(label) ? `"${label}" a second time in this actor` : '';
      if (bad) problems.push({ path: `${path}.label`, message: `expected a new label name, found ${bad}` });
      labels.add(label);
      ok = !bad;
    }
    const r = opDecoder(spec)(o);
    if (Result.isFailure(r)) {
      for (const p of problemsOf(r.failure.issue, o)) problems.push({ path: p.path.startsWith('[') ? `${path}${p.path}` : `${path}.${p.path}`, message: p.message });
      return undefined;
    }
    if (!ok) return undefined;
    const { op: _op, label: _label, ...args } = r.success as Record<string, unknown>;
    return { spec, args, label: label as string | undefined };
  });
}

