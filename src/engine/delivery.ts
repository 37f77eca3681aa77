/**
 * The one delivery choke point. A typed message is checked against the sender's protocol machine,
 * encoded into the receiver's bounded mailbox in world memory (so it is hashed, undone by DFS and
 * replayed like any other state) and its arrival wakes a receiver sleeping in recv or waiting for
 * this reply; an untyped message (the kernel's wait-queue wake-ups) goes to the thread's inbox.
 * Each delivery is a trace event and, when someone subscribes, an item on the world's RxJS bus.
 */
import { EV_REPLY, WAITING_REPLY } from '../../machines/lifecycle.js';
import { type Protocol, step as protocolStep, SEND, type Vocabulary } from '../../machines/protocol.js';
import { MAILBOX, T_WAIT_LOCK, THREAD_STRIDE } from '../locks/space.js';
import { A_LEN, A_MSGS, A_PSTATE, E_FIELDS, E_FROM, E_TYPE, replyWait } from './mailbox-layout.js';
import type { World } from './world.js';

/** One delivery as the bus publishes it. `id` pairs a send with its receipt (`<receiver>.<n>`). */
export interface Delivery {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly name: string;
  readonly fields: Readonly<Record<string, number>>;
}

/** Slot of field `f` of thread `tid`'s actor record. */
export const aslot = (w: World, tid: number, f: number): number => w.model.actorBase + tid * w.actorStride + f;

/** A message's fields as a plain record (for traces; built only when someone listens). */
export function fieldsOf(v: Vocabulary, code: number, m: Readonly<Record<string, number>>): Record<string, number> {
  const r: Record<string, number> = {};
  for (const f of v.fields[code] as readonly string[]) r[f] = m[f] as number;
  return r;
}

/**
 * Send typed message `m` from `from` to `to`: the sender's machine must allow `!type` in its
 * current state, the receiver must speak the same vocabulary and have room. False when the run
 * ended with a `protocol` verdict.
 */
export function deliver(w: World, from: number, to: number, m: { readonly type: string }, reply: boolean): boolean {
  const p = w.model.protocols[from] as Protocol | null | undefined;
  const who = w.threadName(from);
  if (!p) return protocolFail(w, `${who} speaks no protocol; it cannot send ${m.type}`);
  const v = p.vocab;
  const code = v.code[m.type];
  const fields = m as unknown as Readonly<Record<string, number>>;
  if (code === undefined) return protocolFail(w, `${who} (${p.name}) sends ${m.type}, not a message of ${v.name}`);
  const ps = aslot(w, from, A_PSTATE);
  const st = w.get(ps);
  const next = protocolStep(p, st, code * 2 + SEND, fields);
  if (next < 0) return protocolFail(w, `${who} (${p.name}) in state ${p.states[st]} may not send ${m.type}`);
  if (to < 0) return protocolFail(w, `${who} (${p.name}) replies ${m.type} but has received no request`);
  const rp = w.model.protocols[to];
  if (!rp || rp.vocab !== v) return protocolFail(w, `${w.threadName(to)} does not speak ${v.name}; ${who} sends it ${m.type}`);
  const len = w.get(aslot(w, to, A_LEN));
  if (len >= w.model.mailboxCap) return protocolFail(w, `${w.threadName(to)}'s mailbox is full (${w.model.mailboxCap} messages) when ${who} sends ${m.type}`);
  w.set(ps, next);
  const e = aslot(w, to, A_MSGS + len * w.entryStride);
  w.set(e + E_FROM, from);
  w.set(e + E_TYPE, code);
  const names = v.fields[code] as readonly string[];
  for (let j = 0; j < names.length; j++) w.set(e + E_FIELDS + j, fields[names[j] as string] as number);
  w.set(aslot(w, to, A_LEN), len + 1);
  if (w.emit !== null || w.bus.observed) published(w, from, to, m.type, fieldsOf(v, code, fields), reply);
  arrived(w, from, to);
  return true;
}

/** An untyped message (type, a, b) into the receiver's inbox: the kernel's wait-queue wake-ups. */
export function deliverUntyped(w: World, from: number, to: number, type: number, a: number, b: number): void {
  w.rec?.write(w.mem.length + to);
  w.mutable(to).inbox.push(from, type, a, b);
  if (w.emit !== null || w.bus.observed) published(w, from, to, String(type), { a, b }, false, [type, a, b]);
  arrived(w, from, to);
}

/** Wake a receiver that sleeps in recv, or a caller waiting for this callee's reply. */
function arrived(w: World, from: number, to: number): void {
  const slot = w.threadBase + to * THREAD_STRIDE + T_WAIT_LOCK;
  const wl = w.get(slot);
  if (wl === MAILBOX) {
    w.set(slot, 0);
    w.wake(to);
  } else if (wl === replyWait(from) && w.status(to) === WAITING_REPLY) {
    w.set(slot, 0);
    w.transition(to, EV_REPLY);
  }
}

function published(w: World, from: number, to: number, name: string, fields: Record<string, number>, reply: boolean, raw?: number[]): void {
  const id = `${to}.${w.sentTo[to]}`;
  w.sentTo[to] = (w.sentTo[to] as number) + 1;
  const t = w.threadName(from);
  const toName = w.threadName(to);
  if (w.emit) {
    if (raw) w.emit({ k: 'send', i: w.steps, t, to: toName, msg: raw, id });
    else w.emit({ k: 'send', i: w.steps, t, to: toName, msg: Object.values(fields), name, fields, id, ...(reply ? { reply } : {}) });
  }
  if (w.bus.observed) w.bus.next({ id, from: t, to: toName, name, fields });
}

/** The receipt's pairing id (the receiver's n-th taken message pairs with the n-th sent to it). */
export function receiptId(w: World, tid: number): string {
  const id = `${tid}.${w.takenBy[tid]}`;
  w.takenBy[tid] = (w.takenBy[tid] as number) + 1;
  return id;
}

/** End the run with a `protocol` verdict; returns false for the caller to pass on. */
export function protocolFail(w: World, message: string): false {
  w.fail('protocol', message);
  return false;
}
