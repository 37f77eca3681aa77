/**
 * Thread scripts: the list of operations a scenario gives an actor, compiled into one procedure
 * whose steps are the operations (each a scheduling point). Lock operations run inline; a kernel
 * operation calls the procedure that models it; `else` and `goto` give trylock-backoff loops.
 */
import { LockKind } from '../src/locks/space.js';
import { BLOCKED, type Bound, ENDED, type Next, type NoArgs, proc, type Proc, type Step } from '../src/engine/proc.js';
import type { Ctx } from '../src/engine/ctx.js';
import type { MessageOf, Protocol } from '../machines/protocol.js';

/** A typed message with its (constant) field values, built once when the script compiles. */
type Msg = MessageOf<Record<string, readonly string[]>>;

export type ScriptOp =
  | { readonly op: 'lock' | 'unlock' | 'down_read' | 'down_write' | 'up_read' | 'up_write'; readonly lock: number; readonly nested?: number; readonly label?: string }
  | { readonly op: 'trylock' | 'down_read_trylock' | 'down_write_trylock'; readonly lock: number; readonly else: string; readonly label?: string }
  | { readonly op: 'ww_acquire_init'; readonly stamp: number; readonly label?: string }
  | { readonly op: 'ww_acquire_fini'; readonly label?: string }
  | { readonly op: 'ww_lock'; readonly lock: number; readonly else: string; readonly label?: string }
  | { readonly op: 'rcu_read_lock' | 'rcu_read_unlock'; readonly label?: string }
  | { readonly op: 'might_sleep'; readonly label?: string }
  | { readonly op: 'goto'; readonly to: string; readonly label?: string }
  | { readonly op: 'send'; readonly to: number; readonly msg: number; readonly label?: string }
  | { readonly op: 'recv'; readonly label?: string }
  | { readonly op: 'call'; readonly call: Bound; readonly label?: string }
  | { readonly op: 'msg_send'; readonly to: number; readonly msg: Msg; readonly label?: string }
  | { readonly op: 'msg_reply'; readonly msg: Msg; readonly label?: string }
  | { readonly op: 'msg_recv'; readonly proto: Protocol; readonly else?: string; readonly label?: string }
  | { readonly op: 'msg_call'; readonly to: number; readonly msg: Msg; readonly proto: Protocol; readonly label?: string }
  | { readonly op: 'fence_signal' | 'fence_wait'; readonly fence: number; readonly label?: string }
  | { readonly op: 'branch'; readonly switch: string; readonly to: string; readonly label?: string };

export const labelOf = (ops: readonly ScriptOp[], i: number): string => ops[i]?.label ?? `op${i}`;

/** Compile a script; `kinds[lock]` says which primitive `lock`/`unlock` mean for that lock. */
export function compileScript(name: string, ops: readonly ScriptOp[], kinds: readonly LockKind[]): Proc<NoArgs> {
  const steps: Record<string, Step> = {};
  ops.forEach((op, i) => {
    const next = i + 1 < ops.length ? labelOf(ops, i + 1) : 'exit';
    const label = labelOf(ops, i);
    if (op.op === 'msg_call') {
      // call = send the request and wait in waitingReply, then (a second step) take the reply.
      const reply = `${label}.reply`;
      steps[label] = (k) => (k.msg.call(op.to, op.msg) ? reply : ENDED);
      steps[reply] = compileOp({ op: 'msg_recv', proto: op.proto }, next, kinds);
    } else steps[label] = compileOp(op, next, kinds);
  });
  steps.exit = (k) => k.ret(0);
  return proc(name, 'scenario script', () => ({ from: -1, type: 0, a: 0, b: 0 }), steps);
}

const blocking = (ok: boolean, next: string): Next => (ok ? next : BLOCKED);

function compileOp(op: ScriptOp, next: string, kinds: readonly LockKind[]): Step {
  switch (op.op) {
    case 'lock': {
      const { lock, nested = 0 } = op;
      return kinds[lock] === LockKind.Spin
        ? (k) => blocking(k.spin_lock(lock, nested), next)
        : (k) => blocking(k.mutex_lock(lock, nested), next);
    }
    case 'unlock': {
      const { lock } = op;
      return kinds[lock] === LockKind.Spin ? (k) => (k.spin_unlock(lock) ? next : ENDED) : (k) => (k.mutex_unlock(lock) ? next : ENDED);
    }
    case 'down_read':
      return (k) => blocking(k.down_read(op.lock, op.nested ?? 0), next);
    case 'down_write':
      return (k) => blocking(k.down_write(op.lock, op.nested ?? 0), next);
    case 'up_read':
      return (k) => (k.up_read(op.lock) ? next : ENDED);
    case 'up_write':
      return (k) => (k.up_write(op.lock) ? next : ENDED);
    case 'trylock':
      return kinds[op.lock] === LockKind.Spin
        ? (k) => (k.spin_trylock(op.lock) ? next : op.else)
        : (k) => (k.mutex_trylock(op.lock) ? next : op.else);
    case 'down_read_trylock':
      return (k) => (k.down_read_trylock(op.lock) ? next : op.else);
    case 'down_write_trylock':
      return (k) => (k.down_write_trylock(op.lock) ? next : op.else);
    case 'ww_acquire_init':
      return (k) => {
        k.ww_acquire_init(op.stamp);
        return next;
      };
    case 'ww_acquire_fini':
      return (k) => {
        k.ww_acquire_fini();
        return next;
      };
    case 'ww_lock':
      return (k) => {
        const r = k.ww_mutex_lock(op.lock);
        return r === true ? next : r === false ? BLOCKED : op.else;
      };
    case 'rcu_read_lock':
      return (k) => {
        k.rcu_read_lock();
        return next;
      };
    case 'rcu_read_unlock':
      return (k) => (k.rcu_read_unlock() ? next : ENDED);
    case 'might_sleep':
      return (k) => (k.might_sleep('might_sleep()') ? next : ENDED);
    case 'goto':
      return () => op.to;
    case 'send':
      return (k) => {
        k.send(op.to, op.msg);
        return next;
      };
    case 'recv':
      return (k, l) => (k.recv(l) ? next : BLOCKED);
    case 'call':
      return (k: Ctx) => k.call(op.call.proc as Proc<object>, op.call.args, next);
    case 'msg_send':
      return (k) => (k.msg.send(op.to, op.msg) ? next : ENDED);
    case 'msg_reply':
      return (k, l) => (k.msg.reply(l.from as number, op.msg) ? next : ENDED);
    case 'msg_recv':
      return (k, l) => {
        if (op.else !== undefined && k.msg.pending() === 0) return op.else;
        const m = k.msg.recv(op.proto);
        if (m === null) return BLOCKED;
        l.from = m.from;
        l.type = op.proto.vocab.code[m.type] as number;
        return next;
      };
    case 'msg_call':
      throw new Error('msg_call compiles to two steps');
    case 'fence_signal':
      return (k) => {
        k.fence.signal(op.fence);
        return next;
      };
    case 'fence_wait':
      return (k) => (k.fence.wait(op.fence) ? next : BLOCKED);
    case 'branch':
      return (k) => (k.sw(op.switch) ? op.to : next);
  }
}
