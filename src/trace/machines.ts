/**
 * The actors' protocol machines as data for the trace viewer, read from each protocol's compiled
 * table (what the engine checks, as `mmsim machines` draws it): states, the initial and final ones,
 * and every transition `from --event [guard]--> to`. Built once per replay with snapshots, never
 * while exploring.
 */
import type { Model } from '../engine/model.js';

export interface MachineEdge {
  readonly from: number;
  readonly to: number;
  /** `!Name` (the actor sends Name) or `?Name` (it receives Name). */
  readonly ev: string;
  readonly guard: string | null;
}

/** One actor's protocol machine. */
export interface MachineView {
  readonly actor: string;
  readonly protocol: string;
  readonly states: readonly string[];
  readonly initial: number;
  readonly final: readonly number[];
  readonly edges: readonly MachineEdge[];
}

/** The protocol machine of every actor that speaks one, in thread order; empty when none does. */
export function machineViews(model: Model): MachineView[] {
  const out: MachineView[] = [];
  model.protocols.forEach((p, tid) => {
    if (!p) return;
    const ne = p.events.length;
    const edges: MachineEdge[] = [];
    for (let s = 0; s < p.states.length; s++)
      for (let e = 0; e < ne; e++)
        for (let c = p.table[s * ne + e] as number; c >= 0 && (p.candTarget[c] as number) >= 0; c++)
          edges.push({ from: s, to: p.candTarget[c] as number, ev: p.events[e] as string, guard: p.candGuardName[c] ?? null });
    const final = p.states.flatMap((s, i) => (p.config.states[s]?.type === 'final' ? [i] : []));
    out.push({ actor: model.threads[tid]?.name ?? `T${tid}`, protocol: p.name, states: p.states, initial: p.initial, final, edges });
  });
  return out;
}
