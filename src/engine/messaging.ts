/**
 * What a labelled step uses to talk to other actors (`k.msg`): typed send and receive checked
 * against the actors' protocol machines, call (request/reply through the lifecycle's waitingReply
 * state) and reply. Like Ctx, one per world and reused for every step.
 */
import { EV_REQUEST } from '../../machines/lifecycle.js';
import { type MessageFields, type MessageOf, type Protocol, RECV, step as protocolStep } from '../../machines/protocol.js';
import { MAILBOX, T_WAIT_LOCK, THREAD_STRIDE } from '../locks/space.js';
import type { Ctx } from './ctx.js';
import { aslot, deliver, fieldsOf, protocolFail, receiptId } from './delivery.js';
import { A_LEN, A_MSGS, A_PSTATE, E_FIELDS, E_FROM, E_TYPE, replyWait } from './mailbox-layout.js';

/** A received message: its fields plus who sent it. The object is reused by the next recv: copy what you keep. */
export type Received<M extends MessageFields> = MessageOf<M> & { readonly from: number };

export class Messaging {
  /** Per thread, per message code: the reused object a receipt is decoded into. */
  private readonly scratch: Record<string, number | string>[][];

  constructor(private readonly k: Ctx) {
    this.scratch = k.w.model.protocols.map((p) => (p ? p.vocab.names.map((type, code) => ({ type, from: -1, ...Object.fromEntries((p.vocab.fields[code] as string[]).map((f) => [f, 0])) })) : []));
  }

  /** Send `m` to actor `to`; false when the run ended (the protocol forbids it: return ENDED). */
  send<M extends MessageFields>(to: number, m: MessageOf<M>): boolean {
    return deliver(this.k.w, this.k.tid, to, m, false);
  }

  /** Reply `m` to the actor `to` that called this one (a send the trace marks as a reply). */
  reply<M extends MessageFields>(to: number, m: MessageOf<M>): boolean {
    return deliver(this.k.w, this.k.tid, to, m, true);
  }

  /**
   * call(actor, request): send the request and leave the thread in the lifecycle's waitingReply state
   * until `to` sends it a message; the step returns its next label, whose recv takes the reply.
   * False when the run ended (protocol verdict or sleeping in atomic context).
   */
  call<M extends MessageFields>(to: number, request: MessageOf<M>): boolean {
    const k = this.k;
    const w = k.w;
    if (!k.might_sleep('wait for reply')) return false;
    if (!deliver(w, k.tid, to, request, false)) return false;
    w.set(w.threadBase + k.tid * THREAD_STRIDE + T_WAIT_LOCK, replyWait(to));
    w.transition(k.tid, EV_REQUEST);
    return true;
  }

  /**
   * Take the oldest message of this actor's bounded mailbox (protocol `p`, checked to be its own).
   * null: the mailbox is empty and the thread sleeps (return BLOCKED), or the run ended because the
   * protocol machine does not accept the message in its current state (a `protocol` verdict).
   */
  recv<M extends MessageFields>(p: Protocol<M>): Received<M> | null {
    const k = this.k;
    const w = k.w;
    const tid = k.tid;
    const own = w.model.protocols[tid];
    if (own !== p) {
      protocolFail(w, `${w.threadName(tid)} receives with protocol ${p.name} but speaks ${own?.name ?? 'none'}`);
      return null;
    }
    const len = w.get(aslot(w, tid, A_LEN));
    if (len === 0) {
      if (!k.might_sleep('wait for message')) return null;
      w.set(w.threadBase + tid * THREAD_STRIDE + T_WAIT_LOCK, MAILBOX);
      w.block(tid);
      k.note(() => 'sleeps: mailbox empty');
      return null;
    }
    const e = aslot(w, tid, A_MSGS);
    const code = w.get(e + E_TYPE);
    const m = this.scratch[tid]?.[code] as Record<string, number>;
    const names = p.vocab.fields[code] as readonly string[];
    m.from = w.get(e + E_FROM);
    for (let j = 0; j < names.length; j++) m[names[j] as string] = w.get(e + E_FIELDS + j);
    const ps = aslot(w, tid, A_PSTATE);
    const st = w.get(ps);
    const next = protocolStep(p, st, code * 2 + RECV, m);
    const type = p.vocab.names[code] as string;
    if (next < 0) {
      protocolFail(w, `${w.threadName(tid)} (${p.name}) in state ${p.states[st]} may not receive ${type} from ${w.threadName(m.from as number)}`);
      return null;
    }
    w.set(ps, next);
    const stride = w.entryStride;
    for (let i = 0; i < (len - 1) * stride; i++) w.set(e + i, w.get(e + stride + i));
    for (let i = (len - 1) * stride; i < len * stride; i++) w.set(e + i, 0);
    w.set(aslot(w, tid, A_LEN), len - 1);
    if (w.emit !== null) {
      const id = receiptId(w, tid);
      const fields = fieldsOf(p.vocab, code, m);
      w.emit({ k: 'recv', i: w.steps, t: w.threadName(tid), msg: Object.values(fields), name: type, fields, id, from: w.threadName(m.from as number) });
    }
    return m as unknown as Received<M>;
  }

  /** Messages waiting in this actor's mailbox (a poll; reading it is part of the step's footprint). */
  pending(): number {
    const w = this.k.w;
    return w.model.protocols[this.k.tid] ? w.get(aslot(w, this.k.tid, A_LEN)) : 0;
  }

  /** The current state of this actor's protocol machine (for notes and tests). */
  state(): string {
    const w = this.k.w;
    const p = w.model.protocols[this.k.tid];
    return p ? (p.states[w.get(aslot(w, this.k.tid, A_PSTATE))] as string) : 'none';
  }
}
