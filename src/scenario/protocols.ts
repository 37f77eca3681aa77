/** A scenario's protocols: its own (over its `messages`) and the built-in ones, by name. */
import { type Guard, type Protocol, type ProtocolConfig, protocol, type TransitionSpec, type Vocabulary, vocabulary } from '../../machines/protocol.js';
import { BUILTIN_PROTOCOLS } from '../../machines/rpc.js';
import { PIPELINE_PROTOCOLS } from '../../machines/virtio-gpu.js';
import type { ScenarioSpec } from './schema.js';

/** Thrown with the path inside the scenario file of a protocol that cannot be compiled. */
export class ProtocolSpecError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Every protocol a scenario's actors may speak: the built-in ones, then the scenario's own (which may shadow them). */
export function scenarioProtocols(spec: ScenarioSpec): Map<string, Protocol> {
  const out = new Map<string, Protocol>([...Object.entries(BUILTIN_PROTOCOLS), ...Object.entries(PIPELINE_PROTOCOLS)]);
  const own = Object.entries(spec.protocols ?? {});
  if (own.length === 0) return out;
  if (!spec.messages) throw new ProtocolSpecError('messages', 'missing: protocols need the messages they exchange');
  const vocab = vocabulary(spec.name, spec.messages);
  for (const [name, p] of own) {
    if (!p.states[p.initial]) throw new ProtocolSpecError(`protocols.${name}.initial`, `no state named "${p.initial}" (known: ${Object.keys(p.states).join(', ')})`);
    const guards: Record<string, Guard> = {};
    const states: Record<string, ProtocolConfig['states'][string]> = {};
    for (const [s, st] of Object.entries(p.states)) {
      const on: Record<string, TransitionSpec> = {};
      for (const [ev, to] of Object.entries(st.on ?? {})) on[ev] = transition(vocab, p.states, `protocols.${name}.states.${s}.on.${ev}`, ev, to, guards);
      states[s] = { ...(st.on ? { on } : {}), ...(st.final ? { type: 'final' as const } : {}), ...(st.description ? { description: st.description } : {}) };
    }
    out.set(name, protocol(name, vocab, { initial: p.initial, states }, guards));
  }
  return out;
}

type StateSpecs = Readonly<Record<string, unknown>>;
type Candidate = { readonly target: string; readonly when?: Readonly<Record<string, number>> };

/** One event's transition, checked against the states and the vocabulary; `when` becomes a named guard (`status=0`). */
function transition(vocab: Vocabulary, states: StateSpecs, path: string, ev: string, to: string | readonly Candidate[], guards: Record<string, Guard>): TransitionSpec {
  const code = vocab.code[ev.slice(1)];
  if (code === undefined) throw new ProtocolSpecError(path, `no message named "${ev.slice(1)}" (known: ${vocab.names.join(', ')})`);
  const target = (t: string, at: string) => {
    if (!states[t]) throw new ProtocolSpecError(at, `no state named "${t}" (known: ${Object.keys(states).join(', ')})`);
    return t;
  };
  if (typeof to === 'string') return target(to, path);
  return to.map((c, i) => {
    const at = `${path}[${i}]`;
    if (!c.when) return { target: target(c.target, `${at}.target`) };
    const fields = vocab.fields[code] as readonly string[];
    const conds = Object.entries(c.when);
    for (const [f] of conds) if (!fields.includes(f)) throw new ProtocolSpecError(`${at}.when.${f}`, `${ev.slice(1)} has no field ${f} (its fields: ${fields.join(', ') || 'none'})`);
    const g = conds.map(([f, v]) => `${f}=${v}`).join(',');
    guards[g] = (m) => {
      for (let k = 0; k < conds.length; k++) if (m[(conds[k] as [string, number])[0]] !== (conds[k] as [string, number])[1]) return false;
      return true;
    };
    return { target: target(c.target, `${at}.target`), guard: g };
  });
}
