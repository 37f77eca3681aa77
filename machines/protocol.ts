/**
 * Actor protocols. A vocabulary names the messages two actor kinds exchange, each with its integer
 * fields; a protocol is one actor kind's side of the conversation as an xstate v5 machine whose
 * events are `!Name` (this actor sends Name) and `?Name` (this actor receives Name), with optional
 * guards over the message's fields. Each protocol is compiled into a transition table for the hot
 * path; a test proves the table equal to xstate's own interpreter on random event sequences.
 */
import { type AnyStateMachine, setup } from 'xstate';

/** Message name -> its field names, in the order the codec lays them out. */
export type MessageFields = Readonly<Record<string, readonly string[]>>;

/** The typed messages of a vocabulary: a discriminated union on `type` with named integer fields. */
export type MessageOf<M extends MessageFields> = {
  [K in keyof M & string]: { readonly type: K } & { readonly [F in M[K][number]]: number };
}[keyof M & string];

/** A vocabulary: message names, their field lists, and their codes (index in `names`). */
export interface Vocabulary<M extends MessageFields = MessageFields> {
  readonly name: string;
  readonly messages: M;
  readonly names: readonly string[];
  readonly fields: readonly (readonly string[])[];
  /** Message name -> code. */
  readonly code: Readonly<Record<string, number>>;
  /** The largest field count of any message (the mailbox slot width). */
  readonly width: number;
}

/** Declare the messages two (or more) actor kinds exchange. */
export function vocabulary<const M extends MessageFields>(name: string, messages: M): Vocabulary<M> {
  const names = Object.keys(messages);
  const fields = names.map((n) => messages[n] as readonly string[]);
  for (const [i, fs] of fields.entries()) {
    if (new Set(fs).has('type')) throw new Error(`vocabulary ${name}: message ${names[i]} has a field named "type"`);
    if (new Set(fs).size !== fs.length) throw new Error(`vocabulary ${name}: message ${names[i]} repeats a field`);
  }
  const code: Record<string, number> = {};
  names.forEach((n, i) => {
    code[n] = i;
  });
  return { name, messages, names, fields, code, width: Math.max(0, ...fields.map((f) => f.length)) };
}

/** A guard over a message's fields. */
export type Guard = (m: Readonly<Record<string, number>>) => boolean;

/** A transition target: a state name, or guarded candidates tried in order. */
export type TransitionSpec = string | { readonly target?: string; readonly guard?: string } | readonly { readonly target?: string; readonly guard?: string }[];

/** The protocol machine's config (flat: atomic and final states only; events `!Name` / `?Name`). */
export interface ProtocolConfig {
  readonly initial: string;
  readonly states: Readonly<Record<string, { readonly on?: Readonly<Record<string, TransitionSpec>>; readonly type?: 'final'; readonly description?: string }>>;
}

/** One actor kind's protocol, with its xstate machine and its compiled table. */
export interface Protocol<M extends MessageFields = MessageFields> {
  readonly name: string;
  readonly vocab: Vocabulary<M>;
  readonly config: ProtocolConfig;
  readonly machine: AnyStateMachine;
  readonly states: readonly string[];
  /** Event index = code * 2 + (0 send, 1 receive); names `!Name` / `?Name`. */
  readonly events: readonly string[];
  /** table[state * events.length + event]: first candidate index, or -1 when no transition. */
  readonly table: Int32Array;
  /** Candidates: target state (or -1 terminating a candidate run) and guard (or null). */
  readonly candTarget: Int32Array;
  readonly candGuard: readonly (Guard | null)[];
  readonly candGuardName: readonly (string | null)[];
  readonly initial: number;
}

export const SEND = 0;
export const RECV = 1;

/** Declare one actor kind's protocol: its vocabulary and its conversation as an xstate v5 machine. */
export function protocol<M extends MessageFields>(name: string, vocab: Vocabulary<M>, config: ProtocolConfig, guards: Readonly<Record<string, Guard>> = {}): Protocol<M> {
  const xguards: Record<string, (a: { event: Record<string, number> }) => boolean> = {};
  for (const [g, fn] of Object.entries(guards)) xguards[g] = ({ event }) => fn(event);
  const explicit = withSelfTargets(config);
  const machine = setup({ guards: xguards }).createMachine({ id: name, ...(explicit as object) } as never) as unknown as AnyStateMachine;
  return compileProtocol(name, vocab, explicit, machine, guards);
}

/** A targetless transition (`{ guard }`) stays in its state: give it that state as target, so xstate counts it as taken. */
function withSelfTargets(config: ProtocolConfig): ProtocolConfig {
  const states: Record<string, ProtocolConfig['states'][string]> = {};
  for (const [s, node] of Object.entries(config.states)) {
    const on: Record<string, TransitionSpec> = {};
    for (const [ev, t] of Object.entries(node.on ?? {})) {
      const fix = (c: { readonly target?: string; readonly guard?: string }) => ({ ...c, target: c.target ?? s });
      on[ev] = typeof t === 'string' ? t : Array.isArray(t) ? t.map(fix) : fix(t as { target?: string; guard?: string });
    }
    states[s] = node.on ? { ...node, on } : node;
  }
  return { initial: config.initial, states };
}

/** Compile a protocol machine into its transition table, reading xstate's own transition definitions. */
function compileProtocol<M extends MessageFields>(name: string, vocab: Vocabulary<M>, config: ProtocolConfig, machine: AnyStateMachine, guards: Readonly<Record<string, Guard>>): Protocol<M> {
  const states = Object.keys(config.states);
  const events = vocab.names.flatMap((n) => [`!${n}`, `?${n}`]);
  const table = new Int32Array(states.length * events.length).fill(-1);
  const targets: number[] = [];
  const cg: (Guard | null)[] = [];
  const cgn: (string | null)[] = [];
  const root = machine.root as unknown as { states: Record<string, { transitions: Map<string, { target?: { key: string }[]; guard?: unknown }[]>; states: object }> };
  states.forEach((s, si) => {
    const node = root.states[s];
    if (!node) throw new Error(`protocol ${name}: no state ${s}`);
    if (Object.keys(node.states).length) throw new Error(`protocol ${name}: state ${s} is compound (protocol machines are flat)`);
    for (const [ev, ts] of node.transitions) {
      const ei = events.indexOf(ev);
      if (ei < 0) throw new Error(`protocol ${name}: state ${s} has event ${ev}, not a message of vocabulary ${vocab.name} (events are !Name and ?Name)`);
      table[si * events.length + ei] = targets.length;
      for (const t of ts) {
        const tgt = t.target?.[0]?.key ?? s;
        const g = t.guard === undefined ? null : typeof t.guard === 'string' ? t.guard : (t.guard as { type?: string }).type;
        if (g !== null && (typeof g !== 'string' || !guards[g])) throw new Error(`protocol ${name}: state ${s} event ${ev} uses an undeclared guard`);
        targets.push(states.indexOf(tgt));
        cg.push(g === null ? null : (guards[g] as Guard));
        cgn.push(g);
      }
      targets.push(-1);
      cg.push(null);
      cgn.push(null);
    }
  });
  const initial = states.indexOf(config.initial);
  if (initial < 0) throw new Error(`protocol ${name}: initial state ${config.initial} is not a state`);
  return { name, vocab, config, machine, states, events, table, candTarget: Int32Array.from(targets), candGuard: cg, candGuardName: cgn, initial };
}

/** The next state after event `ev` (code * 2 + direction) with message fields `m`, or -1 if the machine does not allow it. */
export function step(p: Protocol, state: number, ev: number, m: Readonly<Record<string, number>>): number {
  let c = p.table[state * p.events.length + ev] as number;
  if (c < 0) return -1;
  for (;;) {
    const t = p.candTarget[c] as number;
    if (t < 0) return -1;
    const g = p.candGuard[c];
    if (g === null || (g as Guard)(m)) return t;
    c++;
  }
}
