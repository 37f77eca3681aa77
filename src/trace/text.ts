/** The trace as text for a terminal: one line per event, steps numbered, indented by call depth. */
import { argsText, type TraceEvent } from '../engine/events.js';

export function toText(events: readonly TraceEvent[]): string {
  const depth = new Map<string, number>();
  const lines: string[] = [];
  for (const e of events) {
    const d = 't' in e && e.t ? (depth.get(e.t) ?? 0) : 0;
    const pad = '  '.repeat(d);
    const who = 't' in e && e.t ? e.t.padEnd(10) : ''.padEnd(10);
    const n = `#${e.i}`.padStart(6);
    switch (e.k) {
      case 'step':
        lines.push(`${n} ${who} ${pad}${e.at}`);
        break;
      case 'lock':
        lines.push(`${n} ${who} ${pad}  ${e.op} ${e.lock}${e.mode === 'r' ? ' (read)' : ''}`);
        break;
      case 'call':
        lines.push(`${n} ${who} ${pad}  call ${e.proc}(${argsText(e.args)})`);
        depth.set(e.t, d + 1);
        break;
      case 'ret':
        depth.set(e.t, Math.max(0, d - 1));
        lines.push(`${n} ${who} ${'  '.repeat(Math.max(0, d - 1))}  ${e.proc} returned ${e.rv}`);
        break;
      case 'send':
        lines.push(`${n} ${who} ${pad}  ${e.reply ? 'reply' : 'send'} ${e.to} ${messageText(e)}`);
        break;
      case 'recv':
        lines.push(`${n} ${who} ${pad}  recv ${messageText(e)}${e.name && e.from ? ` from ${e.from}` : ''}`);
        break;
      case 'fence':
        lines.push(`${n} ${who} ${pad}  fence ${e.op} ${e.fence}`);
        break;
      case 'note':
        lines.push(`${n} ${who} ${pad}  ${e.text}`);
        break;
      case 'verdict':
        lines.push(`${n} ${''.padEnd(10)} VERDICT ${e.code}: ${e.message.split('\n').join(`\n${''.padEnd(18)}`)}`);
        break;
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A typed message as `Name(field=v, ...)`, an untyped one as its integers. */
function messageText(e: Extract<TraceEvent, { k: 'send' | 'recv' }>): string {
  return e.name && e.fields ? `${e.name}(${Object.entries(e.fields).map(([f, v]) => `${f}=${v}`).join(', ')})` : `[${e.msg.join(', ')}]`;
}
