/**
 * Drawing a protocol: a Mermaid `stateDiagram-v2` (from the compiled table, so it shows exactly what
 * the engine checks) and the xstate machine config as JSON, which Stately's editor imports.
 */
import type { Protocol } from './protocol.js';

/** A Mermaid stateDiagram-v2 of the protocol: `!Name` sends, `?Name` receives, `[guard]` guards. */
export function protocolMermaid(p: Protocol): string {
  const id = (s: number) => `s${s}`;
  const out = ['stateDiagram-v2', '  direction LR'];
  p.states.forEach((s, i) => {
    out.push(`  state "${s}" as ${id(i)}`);
  });
  out.push(`  [*] --> ${id(p.initial)}`);
  const ne = p.events.length;
  for (let s = 0; s < p.states.length; s++) {
    for (let e = 0; e < ne; e++) {
      let c = p.table[s * ne + e] as number;
      if (c < 0) continue;
      for (; (p.candTarget[c] as number) >= 0; c++) {
        const g = p.candGuardName[c];
        out.push(`  ${id(s)} --> ${id(p.candTarget[c] as number)}: ${p.events[e]}${g ? ` [${g}]` : ''}`);
      }
    }
    if (p.config.states[p.states[s] as string]?.type === 'final') out.push(`  ${id(s)} --> [*]`);
  }
  return `${out.join('\n')}\n`;
}

/** The xstate v5 machine config (id, initial, states, guards by name) as JSON. */
export function protocolXstateJson(p: Protocol): string {
  return `${JSON.stringify({ id: p.name, ...p.config }, null, 2)}\n`;
}
