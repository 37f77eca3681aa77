/**
 * The key a search stores for a state. By default the world's fingerprint (./threads.ts). A scenario
 * may ask for a reduction, chosen once per model so that the default path pays nothing:
 * - a view (like TLC's VIEW): only the named memory slots and thread stacks (whole, or just the
 *   procedure and label of each frame) are hashed; states equal on the view are one state;
 * - symmetry: threads of a group run the same operations on the same objects, so a state and the
 *   state with those threads renamed have the same futures up to the renaming. The key is the
 *   fingerprint of the state with each group's threads sorted by a signature: thread records, FOLL_PIN
 *   slots and stacks move with their thread, and every slot that names a thread (lock owners, thread
 *   bitmasks) is renamed. A state whose thread ids sit where they are not renamed (a pending
 *   message, a `from` local) keeps its own numbering: merging less is sound, only slower.
 */
import { fmix32, mixIn, zob0, zob1 } from './hash.js';
import type { Model } from './model.js';
import { fingerprint, hashThreadAt, type ThreadState, threadLanes } from './threads.js';
import type { World } from './world.js';

/** What a symmetric key renames: per-thread blocks (base, stride) and slots that hold thread ids. */
export interface SymmetryLayout {
  /** Per-thread records (base, stride), e.g. lock state and FOLL_PIN slots, moved with their thread. */
  readonly blocks: readonly (readonly [base: number, stride: number])[];
  /** Slots holding tid + 1 of a thread, or 0 (lock owners). */
  readonly owners: Int32Array;
  /** Slots holding a bitmask of threads (wait queues, RCU grace-period masks). */
  readonly masks: Int32Array;
}

/** The reductions a scenario asked for, resolved against its model (src/scenario/reduction.ts). */
export interface Reduction {
  /** Slots in the view (sorted) and per thread 0 hidden, 1 procedure and label of each frame, 2 the whole stack; null: no view. */
  readonly view: { readonly slots: Int32Array; readonly threads: Uint8Array } | null;
  /** Groups of interchangeable threads, each sorted, of two or more. */
  readonly groups: readonly (readonly number[])[];
  readonly symmetry: SymmetryLayout | null;
  /** What the reduction means for the results (printed with every result). */
  readonly warnings: readonly string[];
}

/** Writes the key of `w`'s state into out[0], out[1]. */
export type KeyFn = (w: World, out: Uint32Array) => void;

const plain: KeyFn = (w, out) => fingerprint(w, w.threads, out);

/** Whether the model's key merges states that differ (a view, or a symmetry group). */
export function reduces(model: Model): boolean {
  const r = model.reduction;
  return r !== undefined && (r.view !== null || r.groups.length > 0);
}

/** The key function of a model: the fingerprint unless the scenario asked for a view or symmetry. */
export function stateKeyOf(model: Model): KeyFn {
  const r = model.reduction;
  if (!r) return plain;
  if (r.view) return viewKey(r.view.slots, r.view.threads);
  if (r.symmetry && r.groups.length) return symmetricKey(model.threads.length, r.groups, r.symmetry);
  return plain;
}

/** Lanes of thread i as the fingerprint hashes it (cached on the thread state, as fingerprint() does). */
function cachedLanes(t: ThreadState, i: number, lanes: Uint32Array): void {
  if (!t.hashed) hashThreadAt(t, i);
  lanes[0] = t.ha;
  lanes[1] = t.hb;
}

function viewKey(slots: Int32Array, modes: Uint8Array): KeyFn {
  const lanes = new Uint32Array(2);
  return (w, out) => {
    const mem = w.mem;
    let a = 0;
    let b = 0;
    for (let j = 0; j < slots.length; j++) {
      const i = slots[j] as number;
      const v = mem[i] as number;
      a ^= zob0(i, v);
      b ^= zob1(i, v);
    }
    for (let i = 0; i < modes.length; i++) {
      const m = modes[i] as number;
      if (m === 0) continue;
      const t = w.threads[i] as ThreadState;
      if (m === 2) cachedLanes(t, i, lanes);
      else {
        let x = fmix32(i + 1);
        let y = x ^ 0x2545f491;
        for (const f of t.frames) {
          x = mixIn(mixIn(x, f.proc.key), f.pc);
          y = mixIn(mixIn(y, f.proc.key + 7), f.pc + 13);
        }
        lanes[0] = x;
        lanes[1] = y;
      }
      a ^= fmix32((lanes[0] as number) + i);
      b ^= fmix32((lanes[1] as number) ^ i);
    }
    out[0] = a >>> 0;
    out[1] = b >>> 0;
  };
}

/**
 * A thread id of a group member sits where the renaming does not reach: in a pending message, or in
 * the `from` local of a frame that took one (`type` 0: nothing taken yet; message types are nonzero).
 */
function unrenamable(threads: readonly ThreadState[], members: number): boolean {
  for (const t of threads) {
    const inbox = t.inbox;
    for (let k = 0; k < inbox.length; k += 4) if ((members >>> (inbox[k] as number)) & 1) return true;
    for (const f of t.frames) {
      const l = f.l as Record<string, number>;
      if ('from' in l && l.type !== 0 && (members >>> (l.from as number)) & 1) return true;
    }
  }
  return false;
}

function symmetricKey(n: number, groups: readonly (readonly number[])[], L: SymmetryLayout): KeyFn {
  const src = new Int32Array(n); // src[p]: the thread whose state goes to position p
  const to = new Int32Array(n); // to[t]: the position thread t goes to
  const sa = new Uint32Array(n);
  const sb = new Uint32Array(n);
  const lanes = new Uint32Array(2);
  const order: number[] = [];
  let members = 0;
  for (const g of groups) for (const t of g) members |= 1 << t;

  /** An index-free signature of thread t: its stack, its blocks and the masks it is in. */
  const sign = (w: World, t: number) => {
    threadLanes(w.threads[t] as ThreadState, 0x9e3779b9, lanes);
    let a = lanes[0] as number;
    let b = lanes[1] as number;
    for (const [base, stride] of L.blocks) {
      for (let o = 0; o < stride; o++) {
        const v = w.mem[base + t * stride + o] as number;
        a = mixIn(a, v);
        b = mixIn(b, v ^ 0x51ed27);
      }
    }
    for (let j = 0; j < L.masks.length; j++) if (((w.mem[L.masks[j] as number] as number) >>> t) & 1) a = mixIn(a, j + 1);
    sa[t] = a >>> 0;
    sb[t] = b >>> 0;
  };
  const before = (x: number, y: number) => (sa[x] as number) < (sa[y] as number) || (sa[x] === sa[y] && (sb[x] as number) < (sb[y] as number));

  return (w, out) => {
    for (let t = 0; t < n; t++) {
      src[t] = t;
      to[t] = t;
    }
    let moved = false;
    if (!unrenamable(w.threads, members)) {
      for (const g of groups) {
        order.length = 0;
        for (const t of g) {
          sign(w, t);
          let j = order.length;
          order.push(t);
          while (j > 0 && before(t, order[j - 1] as number)) {
            order[j] = order[j - 1] as number;
            j--;
          }
          order[j] = t;
        }
        for (let j = 0; j < g.length; j++) {
          const p = g[j] as number;
          const t = order[j] as number;
          src[p] = t;
          to[t] = p;
          if (p !== t) moved = true;
        }
      }
    }
    const mem = w.mem;
    let a = w.h0;
    let b = w.h1;
    if (moved) {
      for (const [base, stride] of L.blocks) {
        for (let p = 0; p < n; p++) {
          const t = src[p] as number;
          if (t === p) continue;
          for (let o = 0; o < stride; o++) {
            const i = base + p * stride + o;
            const was = mem[i] as number;
            const now = mem[base + t * stride + o] as number;
            if (was !== now) {
              a ^= zob0(i, was) ^ zob0(i, now);
              b ^= zob1(i, was) ^ zob1(i, now);
            }
          }
        }
      }
      for (let j = 0; j < L.owners.length; j++) {
        const i = L.owners[j] as number;
        const v = mem[i] as number;
        if (v > 0 && v <= n && to[v - 1] !== v - 1) {
          const now = (to[v - 1] as number) + 1;
          a ^= zob0(i, v) ^ zob0(i, now);
          b ^= zob1(i, v) ^ zob1(i, now);
        }
      }
      for (let j = 0; j < L.masks.length; j++) {
        const i = L.masks[j] as number;
        const v = mem[i] as number;
        if (v === 0) continue;
        let now = 0;
        for (let t = 0; t < n; t++) if ((v >>> t) & 1) now |= 1 << (to[t] as number);
        if (now !== v) {
          a ^= zob0(i, v) ^ zob0(i, now);
          b ^= zob1(i, v) ^ zob1(i, now);
        }
      }
    }
    for (let p = 0; p < n; p++) {
      const t = src[p] as number;
      if (t === p) cachedLanes(w.threads[p] as ThreadState, p, lanes);
      else threadLanes(w.threads[t] as ThreadState, fmix32(p + 1), lanes);
      a ^= fmix32((lanes[0] as number) + p);
      b ^= fmix32((lanes[1] as number) ^ p);
    }
    out[0] = a >>> 0;
    out[1] = b >>> 0;
  };
}
