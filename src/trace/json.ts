/** The trace as JSON: one event per line, keys in a fixed order, so two replays compare byte for byte. */
import type { TraceEvent, Verdict } from '../engine/events.js';
import type { KernelState } from './kernel-state.js';

export interface TraceMeta {
  readonly scenario: string;
  readonly variant: string;
  readonly token: string;
  readonly verdict: Verdict | null;
}

/** The trace file; with `state`, the kernel state at the end of the run (trace/kernel-state.ts). */
export function toJson(events: readonly TraceEvent[], meta: TraceMeta, state?: KernelState): string {
  const head = JSON.stringify({ scenario: meta.scenario, variant: meta.variant, token: meta.token, verdict: meta.verdict?.code ?? 'ok' });
  const tail = state ? `,\n"state":${JSON.stringify(state)}` : '';
  return `{"meta":${head},"events":[\n${events.map((e) => JSON.stringify(e)).join(',\n')}\n]${tail}}\n`;
}
