/** Which trace exporter each `mmsim replay` flag writes. PLACEHOLDER until src/trace exporters land. */
import type { TraceEvent } from '../engine/events.js';
import type { Cycle, Edge } from '../locks/lockdep.js';
import type { TraceMeta } from '../trace/json.js';

type Exporter = (events: readonly TraceEvent[], meta: TraceMeta) => string;
export const FILES: [('html' | 'perfetto' | 'mermaid'), Exporter][] = [];
export const dot = (_e: readonly Edge[], _n: readonly string[], _c: readonly Cycle[]): string => 'digraph locks {}\n';
