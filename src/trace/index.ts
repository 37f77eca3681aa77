/** The trace exporters: each turns the one event stream of a replayed run (or the lock graph) into a file format. */
export { lockGraphToDot } from './dot.js';
export { toHtml } from './html.js';
export { toJson, type TraceMeta } from './json.js';
export { toMermaid } from './mermaid.js';
export { toPerfetto } from './perfetto.js';
export { type KernelState, kernelState, traceSchema } from './kernel-state.js';
export { toText } from './text.js';
export { replayCommand, shellQuote } from './shell.js';
