/** HTML viewer: self-contained, carries the token and replay command, escapes every name, embeds the events and the timeline. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { escapeHtml, toHtml } from '../../src/trace/html.js';
import { timeline } from '../../src/trace/timeline.js';
import { abbaDeadlock, EVIL_ACTOR, EVIL_LOCK, evilAbbaModel, messagingTrace, replay } from './fixtures.js';

const embedded = (html: string): { meta: unknown; events: unknown; timeline: ReturnType<typeof timeline> } => {
  const m = /<script type="application\/json" id="mmsim-trace">([^<]*)<\/script>/.exec(html);
  return JSON.parse(m?.[1] ?? 'null');
};

describe('toHtml', () => {
  it('abba deadlock: header, one event row each, the verdict row, the events and timeline as JSON', () => {
    const t = abbaDeadlock();
    const html = toHtml(t.events, t.meta);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<code id="token">${t.meta.token}</code>`);
    expect(html).toContain(`<code id="replay">mmsim replay abba ${t.meta.token} --variant default</code>`);
    expect(html.match(/<tr data-ev="\d+"/g)).toHaveLength(t.events.length);
    expect(html.match(/<tr data-ev="\d+" class="k-acquire"/g)).toHaveLength(2);
    expect(html.match(/<tr data-ev="\d+" class="k-block"/g)).toHaveLength(2);
    expect(html).toMatch(/<tr data-ev="\d+" class="k-verdict verdict"><td class="i">4<\/td><td class="a"><\/td><td class="e">deadlock: deadlock: T0 -&#62; T1 -&#62; T0/);
    const data = embedded(html);
    expect(data.events).toEqual(t.events);
    expect(data.timeline.actors).toEqual(['T0', 'T1']);
    expect(data.timeline.verdict).toEqual({ ev: t.events.length - 1, step: 4 });
  });

  it('loads nothing from outside and allows only its own script (hash-pinned CSP)', () => {
    const t = abbaDeadlock();
    const html = toHtml(t.events, t.meta);
    // The SVG namespace is a name, not a load; the browser test also watches for requests.
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/\b(src|href)=|@import|url\(https?:|https?:\/\//);
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
      expect(embedded(html).events).toEqual(t.events);
    }
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  });

  it('shows an ok run with a green badge and message', () => {
    const t = messagingTrace();
    const html = toHtml(t.events, t.meta);
    expect(html).toContain('<span class="badge ok">ok</span>');
    expect(html).toContain('<pre class="msg ok" id="verdict-message">the run ended cleanly</pre>');
  });

  it('is byte-identical across two replays', () => {
    const a = abbaDeadlock();
    const b = abbaDeadlock();
    expect(toHtml(b.events, b.meta)).toBe(toHtml(a.events, a.meta));
  });
});

describe('timeline', () => {
  it('abba: each lane holds its first lock until the end and blocks on the second', () => {
    const tl = timeline(abbaDeadlock().events);
    expect(tl.bars.map((b) => `${tl.actors[b.lane]} ${b.kind} ${b.lock} ${b.from}..${b.to} L${b.level}`)).toEqual([
      `T0 held A 0..${tl.steps} L0`,
      `T0 blocked B 2..${tl.steps} L1`,
      `T1 held B 1..${tl.steps} L0`,
      `T1 blocked A 3..${tl.steps} L1`,
    ]);
    expect(tl.arrows).toEqual([]);
  });

  it('a delivery is an arrow from the send to the matching receive (in order per pair without ids)', () => {
    const t = messagingTrace();
    const tl = timeline(t.events);
    const sends = t.events.flatMap((e, i) => (e.k === 'send' ? [i] : []));
    const recvs = t.events.flatMap((e, i) => (e.k === 'recv' ? [i] : []));
    expect(sends.length).toBeGreaterThan(0);
    expect(tl.arrows.map((a) => [a.send, a.recv])).toEqual(sends.map((s, i) => [s, recvs[i]]));
    expect(tl.arrows[0]).toMatchObject({ from: tl.actors.indexOf(EVIL_ACTOR), to: tl.actors.indexOf('consumer') });
  });

  it('matches by delivery id when the events carry one, whatever their order', () => {
    const ev = [
      { k: 'send', i: 0, t: 'A', to: 'B', msg: [1], id: 1 },
      { k: 'send', i: 1, t: 'A', to: 'B', msg: [2], id: 2 },
      { k: 'recv', i: 2, t: 'B', msg: [2], id: 2 },
      { k: 'recv', i: 3, t: 'B', msg: [1], id: 1 },
    ] as never;
    expect(timeline(ev).arrows.map((a) => [a.send, a.recv])).toEqual([
      [1, 2],
      [0, 3],
    ]);
  });
});
