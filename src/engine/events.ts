/** Everything observable about a run: verdicts and trace events (one stream, consumed by exporters). */

export const VERDICT_CODES = [
  'ok',
  'deadlock',
  'potential-deadlock',
  'sleep-in-atomic',
  'lock-misuse',
  'bug',
  'warn',
  'livelock',
  'invariant',
  'protocol',
] as const;
export type VerdictCode = (typeof VERDICT_CODES)[number];

export interface Verdict {
  readonly code: VerdictCode;
  readonly message: string;
  /** The thread and `proc:label` whose step produced it (absent for whole-run verdicts). */
  readonly actor?: string;
  readonly at?: string;
  readonly step: number;
}

/** A call's named arguments as the trace shows them. */
export type CallArgs = Readonly<Record<string, number>>;

/** `mm=0, dst_vma=1`: a call's arguments for text exporters. */
export const argsText = (a: CallArgs): string =>
  Object.keys(a)
    .map((n) => `${n}=${a[n]}`)
    .join(', ');

export type TraceEvent =
  | { readonly k: 'step'; readonly i: number; readonly t: string; readonly at: string }
  | { readonly k: 'lock'; readonly i: number; readonly t: string; readonly op: string; readonly lock: string; readonly mode: 'r' | 'w' }
  | { readonly k: 'call'; readonly i: number; readonly t: string; readonly proc: string; readonly args: CallArgs }
  | { readonly k: 'ret'; readonly i: number; readonly t: string; readonly proc: string; readonly rv: number }
  | {
      readonly k: 'send';
      readonly i: number;
      readonly t: string;
      readonly to: string;
      readonly msg: readonly number[];
      /** The message's name and fields, and the delivery id its `recv` repeats (`<receiver>.<n>`). */
      readonly name?: string;
      readonly fields?: Readonly<Record<string, number>>;
      readonly id?: string;
      /** Sent by `reply` (an answer to a call). */
      readonly reply?: boolean;
    }
  | {
      readonly k: 'recv';
      readonly i: number;
      readonly t: string;
      readonly msg: readonly number[];
      readonly name?: string;
      readonly fields?: Readonly<Record<string, number>>;
      readonly id?: string;
      readonly from?: string;
    }
  | { readonly k: 'fence'; readonly i: number; readonly t: string; readonly op: 'signal' | 'wait' | 'waited'; readonly fence: string }
  | { readonly k: 'note'; readonly i: number; readonly t: string; readonly text: string }
  | { readonly k: 'verdict'; readonly i: number; readonly code: VerdictCode; readonly message: string; readonly t?: string; readonly at?: string };
