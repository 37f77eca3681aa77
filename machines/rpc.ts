/**
 * Built-in request/reply protocols (a client calls a server and waits for the reply): the pattern
 * of a guest driver submitting a command to the VMM, or an importer asking an exporter to map.
 */
import { type MessageOf, protocol, vocabulary } from './protocol.js';

/** The messages of a request/reply conversation. */
export const rpc = vocabulary('rpc', { Request: ['id', 'arg'], Reply: ['id', 'status'] });
/** The vocabulary's field lists (the type parameter of k.msg.send / call / reply). */
export type Rpc = typeof rpc.messages;
/** `{ type: 'Request', id, arg } | { type: 'Reply', id, status }`. */
export type RpcMessage = MessageOf<Rpc>;

/** The caller: one request in flight at a time; a reply with a non-zero status leaves it `failed` (it may retry). */
export const rpcClient = protocol(
  'rpc-client',
  rpc,
  {
    initial: 'idle',
    states: {
      idle: { on: { '!Request': 'waiting' } },
      waiting: { on: { '?Reply': [{ target: 'idle', guard: 'succeeded' }, { target: 'failed' }] } },
      failed: { on: { '!Request': 'waiting' } },
    },
  },
  { succeeded: (m) => m.status === 0 },
);

/** The callee: takes a request, then owes exactly one reply before it takes the next. */
export const rpcServer = protocol('rpc-server', rpc, {
  initial: 'idle',
  states: {
    idle: { on: { '?Request': 'serving' } },
    serving: { on: { '!Reply': 'idle' } },
  },
});

/** Built-in protocols by name (a scenario's actor may pick one with `protocol:`). */
export const BUILTIN_PROTOCOLS = { 'rpc-client': rpcClient, 'rpc-server': rpcServer } as const;
