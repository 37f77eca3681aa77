/** HTML viewer: self-contained, carries the token and replay command, escapes every name, embeds the events. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { escapeHtml, toHtml } from '../../src/trace/html.js';
import { abbaDeadlock, EVIL_ACTOR, EVIL_LOCK, evilAbbaModel, messagingTrace, replay } from './fixtures.js';

const embedded = (html: string): unknown => {
  const m = /<script type="application\/json" id="mmsim-trace">([^<]*)<\/script>/.exec(html);
  return JSON.parse(m?.[1] ?? 'null');
};

describe('toHtml', () => {
  it('abba deadlock: header, a lane per actor, coloured lock rows, the verdict row, the events as JSON', () => {
    const t = abbaDeadlock();
    const html = toHtml(t.events, t.meta);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<code id="token">${t.meta.token}</code>`);
    expect(html).toContain(`<code id="replay">mmsim replay abba ${t.meta.token} --variant default</code>`);
    expect(html).toContain('<th data-col="0">T0</th><th data-col="1">T1</th>');
    expect(html.match(/<td class="ev acquire[^"]*"/g)).toHaveLength(2);
    expect(html.match(/<td class="ev block"/g)).toHaveLength(2);
    expect(html).toContain('<td class="blk" data-col="0" title="blocked on B"></td>');
    expect(html).toMatch(/<tr id="verdict" class="bad"><td class="i">4<\/td><td colspan="2"><b>VERDICT deadlock<\/b>/);
    expect(html.match(/<tr[ >]/g)).toHaveLength(1 + t.events.length);
    expect(embedded(html)).toEqual({ meta: JSON.parse(JSON.stringify(t.meta)), events: t.events });
  });

  it('loads nothing from outside and allows only its own script (hash-pinned CSP)', () => {
    const t = abbaDeadlock();
    const html = toHtml(t.events, t.meta);
    expect(html).not.toMatch(/\b(src|href)=|@import|url\(|https?:/);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] as string);
    expect(scripts).toHaveLength(1);
    const hash = createHash('sha256').update(scripts[0] as string).digest('base64');
    expect(html).toContain(`script-src 'sha256-${hash}'`);
  });

  it('escapes hostile actor, lock, note, scenario and variant names', () => {
    for (const t of [replay(evilAbbaModel(), 'evil</title>', '"><i>', 'v1.010'), messagingTrace()]) {
      const html = toHtml(t.events, t.meta);
      expect(html.match(/<script/g)).toHaveLength(2);
      expect(html).not.toContain(EVIL_ACTOR);
      expect(html).not.toContain('<img');
      expect(html).not.toContain('<i>');
      expect(html).not.toContain('<b>markup');
      expect(html.match(/<\/title>/g)).toHaveLength(1);
      expect(html).toContain(escapeHtml(EVIL_ACTOR));
      expect(html).toContain(escapeHtml(EVIL_LOCK));
      expect(embedded(html)).toEqual({ meta: JSON.parse(JSON.stringify(t.meta)), events: t.events });
    }
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  });

  it('shows an ok run with a green verdict row at the end', () => {
    const t = messagingTrace();
    const html = toHtml(t.events, t.meta);
    expect(html).toContain('<span class="badge ok">ok</span>');
    expect(html).toMatch(/<tr id="verdict" class="ok">.*the run ended cleanly.*<\/tr>\n<\/tbody>/);
  });

  it('is byte-identical across two replays', () => {
    const a = abbaDeadlock();
    const b = abbaDeadlock();
    expect(toHtml(b.events, b.meta)).toBe(toHtml(a.events, a.meta));
  });
});
