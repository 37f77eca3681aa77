/** Which trace exporter each `mmsim replay` flag writes, and the lock graph's DOT. */
import type { TraceEvent } from '../engine/events.js';
import type { ViewerExtras } from '../trace/html.js';
import { lockGraphToDot, toHtml, toMermaid, toPerfetto, type TraceMeta } from '../trace/index.js';

type Exporter = (events: readonly TraceEvent[], meta: TraceMeta, extras: ViewerExtras, path: string) => string;

/** A Mermaid diagram written to a Markdown file is fenced, so the Markdown renders it. */
const mermaid: Exporter = (events, meta, _extras, path) => {
  const m = toMermaid(events, meta);
  return /\.(md|markdown)$/i.test(path) ? `\`\`\`mermaid\n${m.endsWith('\n') ? m : `${m}\n`}\`\`\`\n` : m;
};

export const FILES: [('html' | 'perfetto' | 'mermaid'), Exporter][] = [
  ['html', (events, meta, extras) => toHtml(events, meta, extras)],
  ['perfetto', (events, meta) => toPerfetto(events, meta)],
  ['mermaid', mermaid],
];

export const dot = lockGraphToDot;
