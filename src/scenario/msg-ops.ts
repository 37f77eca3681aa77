/**
 * Messaging operations of the scenario vocabulary: typed send/recv/call/reply checked against the
 * actor's protocol (a scenario's own or a built-in one), fences, and `branch` on a variant switch.
 * `send`/`recv` without a protocol keep the untyped integer messages.
 */
import * as Schema from 'effect/Schema';
import type { MessageOf, Protocol } from '../../machines/protocol.js';
import { type CompileEnv, registerOp } from './ops.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const Value = Schema.Int.check(Schema.isBetween({ minimum: -1_000_000, maximum: 1_000_000 }));
const Fields = Schema.optional(Schema.Record(Name, Value).annotate({ description: "the message's fields by name (each field of the message must be given)" }));

/** The protocol of the actor being compiled (a typed op needs one). */
function protocolOf(env: CompileEnv, op: string): Protocol {
  const p = env.actor.protocol;
  if (!p) throw new Error(`${op} of a named message needs the actor to speak a protocol (give the actor \`protocol:\`)`);
  return p;
}

/** The message object, checked against the vocabulary: a known name and exactly its fields. */
function message(env: CompileEnv, op: string, name: string, fields: Readonly<Record<string, number>> = {}): MessageOf<Record<string, readonly string[]>> {
  const v = protocolOf(env, op).vocab;
  const code = v.code[name];
  if (code === undefined) throw new Error(`no message "${name}" in ${v.name} (known: ${v.names.join(', ')})`);
  const want = v.fields[code] as readonly string[];
  const extra = Object.keys(fields).filter((f) => !want.includes(f));
  if (extra.length) throw new Error(`${name} has no field ${extra.join(', ')} (its fields: ${want.join(', ') || 'none'})`);
  const missing = want.filter((f) => fields[f] === undefined);
  if (missing.length) throw new Error(`${name} needs field ${missing.join(', ')}`);
  return { type: name, ...fields } as MessageOf<Record<string, readonly string[]>>;
}

registerOp({
  name: 'send',
  doc: "send a message to another actor; it waits in that actor's mailbox until a recv. `msg` names a message of the actor's protocol (with `fields`), or is an integer (untyped)",
  fields: { to: Name, msg: Schema.Union([Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000 })), Name]), fields: Fields },
  refs: { to: 'actor' },
  compile: (a: { to: string; msg: number | string; fields?: Record<string, number> }, env) => {
    const to = env.names.actor.get(a.to) as number;
    if (typeof a.msg === 'number') return { op: 'send', to, msg: a.msg };
    return { op: 'msg_send', to, msg: message(env, 'send', a.msg, a.fields) };
  },
});
registerOp({
  name: 'recv',
  doc: "take the oldest message from this actor's mailbox, sleeping until one arrives; with `else`, jump there instead of sleeping when the mailbox is empty (a poll)",
  fields: { else: Schema.optional(Name) },
  refs: { else: 'label' },
  compile: (a: { else?: string }, env) => {
    const p = env.actor.protocol;
    if (!p) {
      if (a.else !== undefined) throw new Error('recv with `else` needs the actor to speak a protocol');
      return { op: 'recv' };
    }
    return a.else === undefined ? { op: 'msg_recv', proto: p } : { op: 'msg_recv', proto: p, else: a.else };
  },
});
registerOp({
  name: 'call',
  doc: "send a request to another actor and wait (lifecycle waitingReply) for its answer, then take the reply from the mailbox",
  fields: { to: Name, msg: Name, fields: Fields },
  refs: { to: 'actor' },
  compile: (a: { to: string; msg: string; fields?: Record<string, number> }, env) => ({
    op: 'msg_call',
    to: env.names.actor.get(a.to) as number,
    msg: message(env, 'call', a.msg, a.fields),
    proto: protocolOf(env, 'call'),
  }),
});
registerOp({
  name: 'reply',
  doc: 'send a message back to the sender of the last message this actor received',
  fields: { msg: Name, fields: Fields },
  compile: (a: { msg: string; fields?: Record<string, number> }, env) => ({ op: 'msg_reply', msg: message(env, 'reply', a.msg, a.fields) }),
});
for (const op of ['fence_signal', 'fence_wait'] as const) {
  registerOp({
    name: op,
    doc: op === 'fence_signal' ? 'signal the named fence (dma_fence_signal): every waiter wakes' : 'wait until the named fence is signalled (dma_fence_wait)',
    fields: { fence: Name },
    refs: { fence: 'fence' },
    compile: (a: { fence: string }, env) => ({ op, fence: env.names.fence.get(a.fence) as number }),
  });
}
registerOp({
  name: 'branch',
  doc: "jump to the label `to` when the variant switch is on (the scenario declares it under `switches:`), else go on",
  fields: { switch: Name, to: Name },
  refs: { switch: 'switch', to: 'label' },
  compile: (a: { switch: string; to: string }) => ({ op: 'branch', switch: a.switch, to: a.to }),
});
