/**
 * The trace as a Mermaid sequence diagram: a participant per actor and per lock, lock operations as
 * arrows to the lock (its activation bar is the hold), calls as self-activations, messages between
 * actors, the model's notes, and the verdict as a final highlighted note. Runs of plain steps are
 * collapsed into one note so a few hundred events stay readable.
 */
import { argsText, type TraceEvent } from '../engine/events.js';
import type { TraceMeta } from './json.js';

/** How many step labels a collapsed run of plain steps lists before eliding the rest. */
const RUN_LABELS = 4;

/** How a lock operation that did not take the lock reads on its arrow. */
const FAILED: Readonly<Record<string, string>> = { 'trylock-failed': 'trylock', edeadlk: 'ww_mutex_lock -EDEADLK on' };

/** Escape text for a Mermaid label: anything outside a small safe set becomes an entity code `#n;`. */
export function mermaidText(s: string): string {
  return s
    .split('\n')
    .map((line) => line.replace(/[^A-Za-z0-9 _.,:()[\]/=+*@!?'-]/gu, (c) => `#${c.codePointAt(0)};`))
    .join('<br/>');
}

type Step = Extract<TraceEvent, { k: 'step' }>;
type Action = Exclude<TraceEvent, { k: 'step' | 'verdict' }>;
interface Group {
  readonly step?: Step;
  readonly rest: Action[];
}

/** A Mermaid `sequenceDiagram` of one replayed run. */
export function toMermaid(events: readonly TraceEvent[], meta: TraceMeta): string {
  const d = new Diagram(events, meta);
  for (const g of groups(events)) {
    if (g.step && g.rest.length === 0) d.plain(g.step);
    else d.actions(g.step, g.rest);
  }
  let verdict: Extract<TraceEvent, { k: 'verdict' }> | null = null;
  for (const e of events) if (e.k === 'verdict') verdict = e;
  return d.finish(verdict ?? (meta.verdict ? { i: meta.verdict.step, code: meta.verdict.code, message: meta.verdict.message } : null));
}

/** The diagram being written: participant ids, open activations and calls, the pending run of plain steps. */
class Diagram {
  private readonly out: string[];
  private readonly actors = new Map<string, string>();
  private readonly locks = new Map<string, string>();
  private readonly active = new Map<string, number>();
  private readonly calls = new Map<string, string[]>();
  private readonly blockedAt = new Map<string, number>();
  private run: { t: string; first: number; last: number; labels: string[] } | null = null;

  constructor(events: readonly TraceEvent[], meta: TraceMeta) {
    for (const e of events) {
      if (e.k === 'verdict') continue;
      if (!this.actors.has(e.t)) this.actors.set(e.t, `a${this.actors.size}`);
      if (e.k === 'send' && !this.actors.has(e.to)) this.actors.set(e.to, `a${this.actors.size}`);
      if (e.k === 'lock' && !this.locks.has(e.lock)) this.locks.set(e.lock, `l${this.locks.size}`);
    }
    if (this.actors.size === 0) this.actors.set('run', 'a0');
    const cmd = `mmsim replay ${meta.scenario} ${meta.token} --variant ${meta.variant}`;
    this.out = ['sequenceDiagram', `  %% ${`${meta.scenario}/${meta.variant} — ${cmd}`.replace(/[\r\n]+/g, ' ')}`];
    for (const [name, id] of this.actors) this.out.push(`  participant ${id} as ${mermaidText(name)}`);
    for (const [name, id] of this.locks) this.out.push(`  participant ${id} as ${mermaidText(`lock ${name}`)}`);
  }

  /** A step that did nothing else visible: joins the pending run of the same actor. */
  plain(s: Step): void {
    if (this.run && this.run.t === s.t) {
      this.run.last = s.i;
      this.run.labels.push(s.at);
      return;
    }
    this.flush();
    this.run = { t: s.t, first: s.i, last: s.i, labels: [s.at] };
  }

  /** What one step did, each action prefixed with the step number and label. */
  actions(s: Step | undefined, rest: readonly Action[]): void {
    this.flush();
    for (const e of rest) {
      const a = this.A(e.t);
      const msg = (text: string) => mermaidText(`#${e.i}${s ? ` ${s.at}` : ''}: ${text}`);
      if (e.k === 'lock') this.lock(e, a, msg);
      else if (e.k === 'call') {
        this.out.push(`  ${a}->>+${a}: ${msg(`call ${e.proc}(${argsText(e.args)})`)}`);
        this.calls.set(e.t, [...(this.calls.get(e.t) ?? []), e.proc]);
      } else if (e.k === 'ret') {
        const open = this.calls.get(e.t) ?? [];
        if (open[open.length - 1] === e.proc) {
          open.pop();
          this.out.push(`  ${a}-->>-${a}: ${msg(`${e.proc} returned ${e.rv}`)}`);
        } else this.out.push(`  Note over ${a}: ${msg(`${e.proc} exits (${e.rv})`)}`);
      } else if (e.k === 'send') this.out.push(`  ${a}-)${this.A(e.to)}: ${msg(`${e.reply ? 'reply' : 'send'} ${messageText(e)}`)}`);
      else if (e.k === 'recv') this.out.push(`  Note over ${a}: ${msg(`recv ${messageText(e)}${e.from ? ` from ${e.from}` : ''}`)}`);
      else if (e.k === 'fence') this.out.push(`  Note right of ${a}: ${msg(`fence ${e.op} ${e.fence}`)}`);
      else this.out.push(`  Note right of ${a}: ${msg(e.text)}`);
    }
  }

  private lock(e: Extract<TraceEvent, { k: 'lock' }>, a: string, msg: (text: string) => string): void {
    const l = this.locks.get(e.lock) ?? 'a0';
    const mode = e.mode === 'r' ? ' (read)' : '';
    const since = this.blockedAt.get(e.t);
    this.blockedAt.delete(e.t);
    const n = this.active.get(l) ?? 0;
    if (e.op === 'acquire') {
      this.out.push(`  ${a}->>${l}: ${msg(`acquire ${e.lock}${mode}${since === undefined ? '' : ` after waiting since #${since}`}`)}`, `  activate ${l}`);
      this.active.set(l, n + 1);
    } else if (e.op === 'release') {
      this.out.push(`  ${a}-->>${l}: ${msg(`release ${e.lock}${mode}`)}`);
      if (n > 0) this.out.push(`  deactivate ${l}`);
      this.active.set(l, Math.max(0, n - 1));
    } else if (e.op === 'block') {
      this.blockedAt.set(e.t, since ?? e.i);
      this.out.push(`  ${a}-x${l}: ${msg(`blocks on ${e.lock}${mode}`)}`);
    } else this.out.push(`  ${a}--x${l}: ${msg(`${FAILED[e.op] ?? e.op} ${e.lock}${mode}${e.op === 'trylock-failed' ? ' failed' : ''}`)}`);
  }

  /** Close what is still active (Mermaid draws a bar only once it ends) and add the verdict note. */
  finish(v: { i: number; code: string; message: string } | null): string {
    this.flush();
    for (const [l, n] of this.active) for (let k = 0; k < n; k++) this.out.push(`  deactivate ${l}`);
    const ids = [...this.actors.values(), ...this.locks.values()];
    const span = ids.length > 1 ? `${ids[0]},${ids[ids.length - 1]}` : (ids[0] as string);
    const text = v ? `VERDICT ${v.code} at #${v.i}\n${v.message}` : 'VERDICT ok: the run ended cleanly';
    const colour = v && v.code !== 'ok' ? 'rgb(255, 225, 225)' : 'rgb(225, 250, 225)';
    this.out.push(`  rect ${colour}`, `    Note over ${span}: ${mermaidText(text)}`, '  end');
    return `${this.out.join('\n')}\n`;
  }

  private A(t: string): string {
    return this.actors.get(t) ?? 'a0';
  }

  private flush(): void {
    const r = this.run;
    if (!r) return;
    const more = r.labels.length > RUN_LABELS ? `, … (+${r.labels.length - RUN_LABELS})` : '';
    const span = r.first === r.last ? `#${r.first}` : `#${r.first}–${r.last}`;
    this.out.push(`  Note over ${this.A(r.t)}: ${mermaidText(`${span} ${r.labels.slice(0, RUN_LABELS).join(', ')}${more}`)}`);
    this.run = null;
  }
}

/** A delivery's text: `Name(field=v, ...) d<id>` for a typed message, the raw integers otherwise. */
function messageText(e: Extract<TraceEvent, { k: 'send' | 'recv' }>): string {
  const body = e.name && e.fields ? `${e.name}(${Object.entries(e.fields).map(([f, v]) => `${f}=${v}`).join(', ')})` : `[${e.msg.join(', ')}]`;
  return e.id ? `${body} d${e.id}` : body;
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
