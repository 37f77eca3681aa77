/**
 * The trace as a Mermaid sequence diagram: a participant per actor and per lock, lock operations as
 * arrows to the lock (its activation bar is the hold), calls as self-activations, messages between
 * actors, the model's notes, and the verdict as a final highlighted note. Runs of plain steps are
 * collapsed into one note so a few hundred events stay readable.
 */
import type { TraceEvent } from '../engine/events.js';
import type { TraceMeta } from './json.js';

/** How many step labels a collapsed run of plain steps lists before eliding the rest. */
const RUN_LABELS = 4;

/** Escape text for a Mermaid label: anything outside a small safe set becomes an entity code `#n;`. */
export function mermaidText(s: string): string {
  return s
    .split('\n')
    .map((line) => line.replace(/[^A-Za-z0-9 _.,:()[\]/=+*@!?'-]/gu, (c) => `#${c.codePointAt(0)};`))
    .join('<br/>');
}

type Group = { step?: Extract<TraceEvent, { k: 'step' }>; rest: TraceEvent[] };

/** A Mermaid `sequenceDiagram` of one replayed run. */
export function toMermaid(events: readonly TraceEvent[], meta: TraceMeta): string {
  const actors = new Map<string, string>();
  const locks = new Map<string, string>();
  for (const e of events) {
    if (e.k === 'verdict') continue;
    if (!actors.has(e.t)) actors.set(e.t, `a${actors.size}`);
    if (e.k === 'send' && !actors.has(e.to)) actors.set(e.to, `a${actors.size}`);
    if (e.k === 'lock' && !locks.has(e.lock)) locks.set(e.lock, `l${locks.size}`);
  }
  if (actors.size === 0) actors.set('run', 'a0');
  const cmd = `mmsim replay ${meta.scenario} ${meta.token} --variant ${meta.variant}`;
  const out = ['sequenceDiagram', `  %% ${oneLine(`${meta.scenario}/${meta.variant} — ${cmd}`)}`];
  for (const [name, id] of actors) out.push(`  participant ${id} as ${mermaidText(name)}`);
  for (const [name, id] of locks) out.push(`  participant ${id} as ${mermaidText(`lock ${name}`)}`);
  const A = (t: string) => actors.get(t) ?? 'a0';
  const L = (l: string) => locks.get(l) ?? 'a0';
  const active = new Map<string, number>();
  const calls = new Map<string, string[]>();
  const blockedAt = new Map<string, number>();
  let run: { t: string; first: number; last: number; labels: string[] } | null = null;
  const flush = () => {
    if (!run) return;
    const more = run.labels.length > RUN_LABELS ? `, … (+${run.labels.length - RUN_LABELS})` : '';
    const span = run.first === run.last ? `#${run.first}` : `#${run.first}–${run.last}`;
    out.push(`  Note over ${A(run.t)}: ${mermaidText(`${span} ${run.labels.slice(0, RUN_LABELS).join(', ')}${more}`)}`);
    run = null;
  };
  let verdict: Extract<TraceEvent, { k: 'verdict' }> | null = null;
  for (const e of events) if (e.k === 'verdict') verdict = e;

  for (const g of groups(events)) {
    const s = g.step;
    if (s && g.rest.length === 0) {
      if (run && run.t === s.t) {
        run.last = s.i;
        run.labels.push(s.at);
      } else {
        flush();
        run = { t: s.t, first: s.i, last: s.i, labels: [s.at] };
      }
      continue;
    }
    flush();
    for (const e of g.rest) {
      if (e.k === 'verdict') continue;
      const a = A(e.t);
      const pre = `#${e.i}${s ? ` ${s.at}` : ''}: `;
      const msg = (text: string) => mermaidText(pre + text);
      switch (e.k) {
        case 'lock': {
          const l = L(e.lock);
          const mode = e.mode === 'r' ? ' (read)' : '';
          const since = blockedAt.get(e.t);
          blockedAt.delete(e.t);
          if (e.op === 'acquire') {
            out.push(`  ${a}->>${l}: ${msg(`acquire ${e.lock}${mode}${since === undefined ? '' : ` after waiting since #${since}`}`)}`);
            out.push(`  activate ${l}`);
            active.set(l, (active.get(l) ?? 0) + 1);
          } else if (e.op === 'release') {
            out.push(`  ${a}-->>${l}: ${msg(`release ${e.lock}${mode}`)}`);
            const n = active.get(l) ?? 0;
            if (n > 0) out.push(`  deactivate ${l}`);
            active.set(l, Math.max(0, n - 1));
          } else if (e.op === 'block') {
            blockedAt.set(e.t, since ?? e.i);
            out.push(`  ${a}-x${l}: ${msg(`blocks on ${e.lock}${mode}`)}`);
          } else out.push(`  ${a}--x${l}: ${msg(`${e.op === 'edeadlk' ? 'ww_mutex_lock -EDEADLK on' : e.op} ${e.lock}${mode}`)}`);
          break;
        }
        case 'call':
          out.push(`  ${a}->>+${a}: ${msg(`call ${e.proc}(${e.args.join(', ')})`)}`);
          calls.set(e.t, [...(calls.get(e.t) ?? []), e.proc]);
          break;
        case 'ret': {
          const open = calls.get(e.t) ?? [];
          if (open[open.length - 1] === e.proc) {
            open.pop();
            out.push(`  ${a}-->>-${a}: ${msg(`${e.proc} returned ${e.rv}`)}`);
          } else out.push(`  Note over ${a}: ${msg(`${e.proc} exits (${e.rv})`)}`);
          break;
        }
        case 'send':
          out.push(`  ${a}-)${A(e.to)}: ${msg(`send [${e.msg.join(', ')}]`)}`);
          break;
        case 'recv':
          out.push(`  Note over ${a}: ${msg(`recv [${e.msg.join(', ')}]`)}`);
          break;
        case 'note':
          out.push(`  Note right of ${a}: ${msg(e.text)}`);
          break;
      }
    }
  }
  flush();
  for (const [l, n] of active) for (let k = 0; k < n; k++) out.push(`  deactivate ${l}`);
  const ids = [...actors.values(), ...locks.values()];
  const span = ids.length > 1 ? `${ids[0]},${ids[ids.length - 1]}` : (ids[0] as string);
  const v = verdict ?? (meta.verdict ? { i: meta.verdict.step, code: meta.verdict.code, message: meta.verdict.message } : null);
  const text = v ? `VERDICT ${v.code} at #${v.i}\n${v.message}` : 'VERDICT ok: the run ended cleanly';
  const colour = v && v.code !== 'ok' ? 'rgb(255, 225, 225)' : 'rgb(225, 250, 225)';
  out.push(`  rect ${colour}`, `    Note over ${span}: ${mermaidText(text)}`, '  end');
  return `${out.join('\n')}\n`;
}

/** Events grouped by step: a step event with what it did; verdicts are left out (drawn last). */
function groups(events: readonly TraceEvent[]): Group[] {
  const gs: Group[] = [];
  for (const e of events) {
    const cur = gs[gs.length - 1];
    if (e.k === 'verdict') continue;
    if (e.k === 'step') gs.push({ step: e, rest: [] });
    else if (cur && cur.step?.i === e.i && cur.step.t === e.t) cur.rest.push(e);
    else gs.push({ rest: [e] });
  }
  return gs;
}

const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ');
