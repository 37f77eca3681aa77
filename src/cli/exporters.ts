/** Which trace exporter each `mmsim replay` flag writes, and the lock graph's DOT. */
import type { TraceEvent } from '../engine/events.js';
import { lockGraphToDot, toHtml, toMermaid, toPerfetto, type TraceMeta } from '../trace/index.js';

type Exporter = (events: readonly TraceEvent[], meta: TraceMeta) => string;

export const FILES: [('html' | 'perfetto' | 'mermaid'), Exporter][] = [
  ['html', toHtml],
  ['perfetto', toPerfetto],
  ['mermaid', toMermaid],
];

export const dot = lockGraphToDot;
