/** The trace as JSON: one event per line, keys in a fixed order, so two replays compare byte for byte. */
import type { TraceEvent, Verdict } from '../engine/events.js';

export interface TraceMeta {
  readonly scenario: string;
  readonly variant: string;
  readonly token: string;
  readonly verdict: Verdict | null;
}

export function toJson(events: readonly TraceEvent[], meta: TraceMeta): string {
  const head = JSON.stringify({ scenario: meta.scenario, variant: meta.variant, token: meta.token, verdict: meta.verdict?.code ?? 'ok' });
  return `{"meta":${head},"events":[\n${events.map((e) => JSON.stringify(e)).join(',\n')}\n]}\n`;
}
