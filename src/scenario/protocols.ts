/** A scenario's protocols: its own (over its `messages`) and the built-in ones, by name. */
import { type Protocol, type ProtocolConfig, protocol, vocabulary } from '../../machines/protocol.js';
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
    const config: ProtocolConfig = {
      initial: p.initial,
      states: Object.fromEntries(Object.entries(p.states).map(([s, st]) => [s, { ...(st.on ? { on: st.on } : {}), ...(st.final ? { type: 'final' as const } : {}), ...(st.description ? { description: st.description } : {}) }])),
    };
    for (const [s, st] of Object.entries(p.states))
      for (const [ev, to] of Object.entries(st.on ?? {})) {
        if (!p.states[to]) throw new ProtocolSpecError(`protocols.${name}.states.${s}.on.${ev}`, `no state named "${to}" (known: ${Object.keys(p.states).join(', ')})`);
        if (!vocab.names.includes(ev.slice(1))) throw new ProtocolSpecError(`protocols.${name}.states.${s}.on.${ev}`, `no message named "${ev.slice(1)}" (known: ${vocab.names.join(', ')})`);
      }
    if (!p.states[p.initial]) throw new ProtocolSpecError(`protocols.${name}.initial`, `no state named "${p.initial}" (known: ${Object.keys(p.states).join(', ')})`);
    out.set(name, protocol(name, vocab, config));
  }
  return out;
}
