/**
 * Where actor protocol state, bounded mailboxes and fences live in the world's memory. A mailbox
 * entry is (from, type, field0..fieldW-1); the codec (./delivery.ts) places a message's fields in
 * the order of its vocabulary's field list, so no offset is written by hand.
 */
export const A_PSTATE = 0; // protocol machine state (index into Protocol.states)
export const A_LEN = 1; // messages waiting in the mailbox
export const A_MSGS = 2; // first entry; entries are FIFO, oldest first
export const E_FROM = 0;
export const E_TYPE = 1; // message code in the receiver's vocabulary (legacy: the integer type)
export const E_FIELDS = 2;

/** Field names of one actor record with `cap` mailbox entries of `width` message fields. */
export function ACTOR_FIELDS(cap: number, width: number): string[] {
  const f = ['pstate', 'len'];
  for (let k = 0; k < cap; k++) {
    f.push(`m${k}.from`, `m${k}.type`);
    for (let j = 0; j < width; j++) f.push(`m${k}.f${j}`);
  }
  return f;
}

export const FENCE_FIELDS = ['signalled'] as const;

/** Encodings of what a blocked thread waits for (T_WAIT_LOCK), besides a lock (id + 1) and MAILBOX (-1). */
export const fenceWait = (fence: number): number => -2 - fence;
export const replyWait = (callee: number): number => -(1 << 20) - callee;
export const isFenceWait = (wl: number): boolean => wl <= -2 && wl > -(1 << 20);
export const isReplyWait = (wl: number): boolean => wl <= -(1 << 20);
export const fenceOf = (wl: number): number => -2 - wl;
export const calleeOf = (wl: number): number => -(1 << 20) - wl;
