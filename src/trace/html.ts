/**
 * The trace as one self-contained HTML page (no network: a hash-pinned CSP allows no script but the
 * page's own and loads nothing): a header with the verdict and the replay command; a time-scaled
 * timeline with a lane per actor, lock holds and waits as bars under each lane and an arrow for
 * every message delivery; the event list; the state at the selected step (page tables, folios, page
 * cache, VMAs, locks) diffed against the step before; the run's lock-order graph with the violating
 * edge marked; each protocol actor's machine with its state at the selected step and the transition
 * the selected send/receive took. The failing step is selected and scrolled to; keys move through the trace.
 */
import { createHash } from 'node:crypto';
import type { TraceEvent } from '../engine/events.js';
import type { TraceMeta } from './json.js';
import type { LockOrder } from './lockorder.js';
import { replayCommand } from './shell.js';
import type { StateDelta } from './state.js';
import { eventLabel, timeline } from './timeline.js';
import { VIEWER_SCRIPT } from './viewer-client.js';
import { VIEWER_STYLE } from './viewer-style.js';

/** What a replay can add to the page: the state after each step and the run's lock-order graph. */
export interface ViewerExtras {
  readonly states?: readonly StateDelta[];
  readonly lockOrder?: LockOrder;
}

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a `<script>` element (no `</script>`, no `<!--`, no line separators). */
const scriptJson = (v: unknown): string =>
  JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${createHash('sha256').update(VIEWER_SCRIPT).digest('base64')}'`;

const KEYS = '→/j next event · ←/k previous · n/p next/previous event of this actor · v verdict · Home/End';

function eventRows(events: readonly TraceEvent[]): string {
  return events
    .map((e, n) => {
      const kind = e.k === 'lock' ? e.op : e.k;
      return `<tr data-ev="${n}" class="k-${escapeHtml(kind)}${e.k === 'verdict' ? ' verdict' : ''}"><td class="i">${e.i}</td><td class="a">${escapeHtml(e.t ?? '')}</td><td class="e">${escapeHtml(eventLabel(e))}</td></tr>`;
    })
    .join('\n');
}

/** A self-contained HTML viewer of one replayed run. */
export function toHtml(events: readonly TraceEvent[], meta: TraceMeta, extras: ViewerExtras = {}): string {
  const v = events.find((e) => e.k === 'verdict') ?? (meta.verdict ? { code: meta.verdict.code, message: meta.verdict.message } : null);
  const code = v?.code ?? 'ok';
  const ok = code === 'ok';
  const message = v?.message ?? 'the run ended cleanly';
  const cmd = replayCommand(meta.scenario, meta.token, meta.variant);
  const title = `${meta.scenario}/${meta.variant}: ${code}`;
  const machines = extras.states?.[0]?.machines?.length ? '\n<section id="machines"><h2>protocol machines</h2><div id="machine-cards"></div></section>' : '';
  const data = { meta: { scenario: meta.scenario, variant: meta.variant, token: meta.token, verdict: meta.verdict }, events, timeline: timeline(events), states: extras.states ?? [], lockOrder: extras.lockOrder ?? null };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>mmsim ${escapeHtml(title)}</title>
<style>${VIEWER_STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(meta.scenario)} <span class="var">variant ${escapeHtml(meta.variant)}</span> <span class="badge${ok ? ' ok' : ''}">${escapeHtml(code)}</span></h1>
<dl><dt>token</dt><dd><code id="token">${escapeHtml(meta.token)}</code></dd><dt>replay</dt><dd><code id="replay">${escapeHtml(cmd)}</code></dd><dt>events</dt><dd>${events.length}</dd></dl>
<pre class="msg${ok ? ' ok' : ''}" id="verdict-message">${escapeHtml(message)}</pre>
</header>
<nav><button id="prev" type="button">◀ previous</button><button id="next" type="button">next ▶</button><button id="jump" type="button">jump to verdict</button> <span id="cur"></span> <span class="keys">${escapeHtml(KEYS)}</span></nav>
<main>
<section class="left">
<div id="timeline"><div id="lane-names"></div><div id="lanes"></div></div>${machines}
<div id="list"><table id="events"><thead><tr><th>step</th><th>actor</th><th>event</th></tr></thead><tbody>
${eventRows(events)}
</tbody></table></div>
</section>
<aside>
<h2>state</h2><div id="state"></div>
<h2>lock order of this run</h2><div id="graph"></div>
</aside>
</main>
<script type="application/json" id="mmsim-trace">${scriptJson(data)}</script>
<script>${VIEWER_SCRIPT}</script>
</body>
</html>
`;
}
