/**
 * The trace as one self-contained HTML page: a header with the verdict and the replay command, a
 * swim-lane table (a column per actor, a row per event; lock operations coloured, blocked and holding
 * spans shaded), a small inline script to filter actors and jump to the verdict, and the events as
 * JSON. Every name is escaped, and a hash-pinned CSP allows no script but the page's own.
 */
import { createHash } from 'node:crypto';
import { argsText, type TraceEvent } from '../engine/events.js';
import type { TraceMeta } from './json.js';

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a `<script>` element (no `</script>`, no `<!--`, no line separators). */
const scriptJson = (v: unknown): string =>
  JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const STYLE = `
body{font:13px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{padding:12px 18px;background:#fff;border-bottom:1px solid #d8dde6}
h1{font-size:18px;margin:0 0 6px}h1 .var{color:#5a6472;font-weight:400}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;vertical-align:middle;color:#fff;background:#b3261e}
.badge.ok{background:#2e7d32}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:6px 0}dt{color:#5a6472}dd{margin:0;overflow-wrap:anywhere}
code,pre,td{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre.msg{background:#fff4f3;border-left:4px solid #b3261e;padding:6px 10px;margin:6px 0 0;white-space:pre-wrap}
pre.msg.ok{background:#f1f8f1;border-color:#2e7d32}
nav{position:sticky;top:0;z-index:2;padding:6px 18px;background:#eef1f5;border-bottom:1px solid #d8dde6}
nav label{margin-right:12px;white-space:nowrap}nav button{margin-left:8px}
table{border-collapse:collapse;margin:8px 18px;width:calc(100% - 36px);table-layout:fixed}th:first-child{width:48px}
th{position:sticky;top:33px;background:#eef1f5;text-align:left;padding:4px 8px;border-bottom:2px solid #b9c1cd;z-index:1}
td{padding:2px 8px;border-bottom:1px solid #edf0f3;vertical-align:top;overflow-wrap:anywhere}td.i{color:#8a93a0;text-align:right}
tr.step td.ev{color:#8a93a0}
td.acquire{background:#dff3e2;color:#1b5e20}td.release{background:#e1ecfb;color:#0d47a1}
td.block{background:#fde0dd;color:#b3261e;font-weight:600}td.trylock-failed{background:#fff0d6;color:#8a5300}
td.edeadlk{background:#efe1f7;color:#5e2a84}td.note{font-style:italic;color:#444;white-space:pre-wrap}td.msgev{color:#00695c}
td.held{box-shadow:inset 4px 0 #81c784}
td.blk{background:repeating-linear-gradient(135deg,#fde0dd 0 6px,#fff 6px 12px);box-shadow:inset 4px 0 #e57373}
tr#verdict td{background:#fbe3e1;border-top:2px solid #b3261e;border-bottom:2px solid #b3261e}
tr#verdict.ok td{background:#e3f3e4;border-color:#2e7d32}tr#verdict pre{margin:2px 0;white-space:pre-wrap}
tr.flash td{animation:flash 1.2s}@keyframes flash{from{background:#ffe082}}
.hidden{display:none}`;

const SCRIPT = `(function(){
var boxes=document.querySelectorAll('nav input[data-col]');
function apply(){var off={};boxes.forEach(function(b){if(!b.checked)off[b.getAttribute('data-col')]=1});
var steps=document.getElementById('steps').checked;
document.querySelectorAll('[data-col]').forEach(function(el){if(el.tagName!=='INPUT')el.classList.toggle('hidden',!!off[el.getAttribute('data-col')])});
document.querySelectorAll('tr[data-a]').forEach(function(r){r.classList.toggle('hidden',!!off[r.getAttribute('data-a')]||(!steps&&r.classList.contains('step')))})}
boxes.forEach(function(b){b.addEventListener('change',apply)});
document.getElementById('steps').addEventListener('change',apply);
document.getElementById('jump').addEventListener('click',function(){var v=document.getElementById('verdict');
v.scrollIntoView({block:'center'});v.classList.remove('flash');void v.offsetWidth;v.classList.add('flash')})})();`;

const CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'`;

interface Lane {
  at: string;
  held: string[];
  blocked: string | null;
}

/** A self-contained HTML viewer of one replayed run. */
export function toHtml(events: readonly TraceEvent[], meta: TraceMeta): string {
  const actors: string[] = [];
  for (const e of events) {
    if (e.k !== 'verdict' && !actors.includes(e.t)) actors.push(e.t);
    if (e.k === 'send' && !actors.includes(e.to)) actors.push(e.to);
  }
  const verdictEv = events.find((e) => e.k === 'verdict');
  const v = verdictEv ?? (meta.verdict ? { k: 'verdict' as const, i: meta.verdict.step, code: meta.verdict.code, message: meta.verdict.message } : null);
  const code = v?.code ?? 'ok';
  const ok = code === 'ok';
  const cmd = `mmsim replay ${meta.scenario} ${meta.token} --variant ${meta.variant}`;
  const verdictRow = (i: number | string, message: string) =>
    `<tr id="verdict" class="${ok ? 'ok' : 'bad'}"><td class="i">${i}</td><td colspan="${Math.max(1, actors.length)}"><b>VERDICT ${escapeHtml(code)}</b><pre>${escapeHtml(message)}</pre></td></tr>`;
  const rows = events.map((e) => (e.k === 'verdict' ? verdictRow(e.i, e.message) : ''));
  laneRows(events, actors, rows);
  if (!verdictEv) rows.push(verdictRow(v?.i ?? '', v?.message ?? 'the run ended cleanly'));
  const title = `${meta.scenario}/${meta.variant}: ${code}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>mmsim ${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(meta.scenario)} <span class="var">variant ${escapeHtml(meta.variant)}</span> <span class="badge${ok ? ' ok' : ''}">${escapeHtml(code)}</span></h1>
<dl><dt>token</dt><dd><code id="token">${escapeHtml(meta.token)}</code></dd><dt>replay</dt><dd><code id="replay">${escapeHtml(cmd)}</code></dd><dt>events</dt><dd>${events.length}</dd></dl>
<pre class="msg${ok ? ' ok' : ''}">${escapeHtml(v?.message ?? 'the run ended cleanly')}</pre>
</header>
<nav>actors: ${actors.map((a, c) => `<label><input type="checkbox" data-col="${c}" checked> ${escapeHtml(a)}</label>`).join('')}<label><input type="checkbox" id="steps" checked> step labels</label><button id="jump" type="button">jump to verdict</button></nav>
<table id="lanes">
<thead><tr><th>#</th>${actors.map((a, c) => `<th data-col="${c}">${escapeHtml(a)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<script type="application/json" id="mmsim-trace">${scriptJson({ meta: { scenario: meta.scenario, variant: meta.variant, token: meta.token, verdict: meta.verdict }, events })}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** Fill in the row of every non-verdict event: its cell in the actor's lane, the other lanes shaded by state. */
function laneRows(events: readonly TraceEvent[], actors: readonly string[], rows: string[]): void {
  const lanes: Lane[] = actors.map(() => ({ at: '', held: [], blocked: null }));
  events.forEach((e, n) => {
    if (e.k === 'verdict') return;
    const me = actors.indexOf(e.t);
    const lane = lanes[me] as Lane;
    if (e.k === 'step') {
      lane.blocked = null;
      lane.at = e.at;
    }
    const [cls, text] = describe(e);
    applyLock(lane, e);
    const cells = lanes.map((l, c) => {
      if (c === me) {
        const title = e.k === 'step' ? '' : ` title="${escapeHtml(`at ${l.at}`)}"`;
        return `<td class="ev ${cls}${l.held.length && l.blocked === null ? ' held' : ''}" data-col="${c}"${title}>${escapeHtml(text)}</td>`;
      }
      if (l.blocked !== null) return `<td class="blk" data-col="${c}" title="${escapeHtml(`blocked on ${l.blocked}`)}"></td>`;
      if (l.held.length) return `<td class="held" data-col="${c}" title="${escapeHtml(`holds ${l.held.join(', ')}`)}"></td>`;
      return `<td data-col="${c}"></td>`;
    });
    rows[n] = `<tr class="${e.k}" data-a="${me}"><td class="i">${e.i}</td>${cells.join('')}</tr>`;
  });
}

const LOCK_VERBS: Readonly<Record<string, string>> = { block: 'blocked on', 'trylock-failed': 'trylock failed:', edeadlk: '-EDEADLK on' };

/** Cell class and text of one (non-verdict) event. */
function describe(e: Exclude<TraceEvent, { k: 'verdict' }>): [string, string] {
  switch (e.k) {
    case 'step':
      return ['at', e.at];
    case 'lock': {
      const mode = e.mode === 'r' ? ' (read)' : '';
      const verb = LOCK_VERBS[e.op] ?? e.op;
      return [/^[a-z-]+$/.test(e.op) ? e.op : 'lock', `${verb} ${e.lock}${mode}`];
    }
    case 'call':
      return ['call', `→ ${e.proc}(${argsText(e.args)})`];
    case 'ret':
      return ['ret', `← ${e.proc} = ${e.rv}`];
    case 'send':
      return ['msgev', `send → ${e.to} [${e.msg.join(', ')}]`];
    case 'recv':
      return ['msgev', `recv [${e.msg.join(', ')}]`];
    case 'note':
      return ['note', e.text];
  }
}

/** Track what a lane holds and waits for after a lock event. */
function applyLock(lane: Lane, e: TraceEvent): void {
  if (e.k !== 'lock') return;
  const name = `${e.lock}${e.mode === 'r' ? ' (read)' : ''}`;
  if (e.op === 'acquire') lane.held.push(name);
  else if (e.op === 'release') {
    const k = lane.held.lastIndexOf(name);
    if (k >= 0) lane.held.splice(k, 1);
  } else if (e.op === 'block') lane.blocked = name;
}
