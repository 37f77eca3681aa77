/**
 * The viewer's own script (pinned by hash in the page's CSP). It reads the embedded trace and draws
 * the timeline (a lane per actor, lock bars, message arrows), the state panel diffed against the
 * previous step, the run's lock-order graph, and each protocol actor's machine (states as boxes in a
 * row, forward transitions as arcs above, backward ones below) with the state it is in at the
 * selected step and the transition the selected send/receive took; keys move through the trace. Every scenario string
 * reaches the page through textContent or setAttribute, never as markup.
 */
export const VIEWER_SCRIPT = `(function () {
'use strict';
var data = JSON.parse(document.getElementById('mmsim-trace').textContent);
var events = data.events, tl = data.timeline, NS = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs, text) {
  var e = document.createElementNS(NS, tag);
  for (var k in attrs) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = text;
  return e;
}
function h(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function tip(node, text) { node.appendChild(svgEl('title', {}, text)); return node; }

/* States: deltas in, snapshots out. stateAt(n) is the world after n steps. */
var snaps = [], acc = {};
(data.states || []).forEach(function (d) {
  var next = Object.assign({}, acc);
  Object.keys(d.d).forEach(function (k) { if (d.d[k] === null) delete next[k]; else next[k] = d.d[k]; });
  snaps.push({ i: d.i, s: next });
  acc = next;
});
function stateAt(n) {
  var r = null;
  for (var j = 0; j < snaps.length && snaps[j].i <= n; j++) r = snaps[j].s;
  return r;
}

/* Timeline: lane names in a fixed column, the lanes themselves scroll. */
var TOP = 26, BAR = 12;
var W = Math.max(14, Math.min(44, Math.floor(1400 / Math.max(1, tl.steps))));
var depth = tl.actors.map(function () { return 0; });
tl.bars.forEach(function (b) { depth[b.lane] = Math.max(depth[b.lane], b.level + 1); });
var laneTop = [], acc0 = TOP;
tl.actors.forEach(function (a, l) { laneTop.push(acc0); acc0 += 30 + depth[l] * BAR; });
var width = (tl.steps + 1) * W + 16, height = acc0 + 4;
function x(step) { return step * W + W / 2; }
function y(lane) { return laneTop[lane] + 12; }
var names = svgEl('svg', { width: 118, height: height, class: 'tl names' });
var svg = svgEl('svg', { width: width, height: height, class: 'tl', role: 'img', 'aria-label': 'timeline: a lane per actor' });
var defs = svgEl('defs', {});
var marker = svgEl('marker', { id: 'arrowhead', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
marker.appendChild(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: 'ah' }));
defs.appendChild(marker);
svg.appendChild(defs);
for (var s = 0; s <= tl.steps; s += (W < 20 ? 10 : 5)) {
  svg.appendChild(svgEl('line', { x1: x(s), x2: x(s), y1: TOP - 6, y2: height, class: 'grid' }));
  svg.appendChild(svgEl('text', { x: x(s), y: TOP - 10, class: 'tick' }, String(s)));
}
if (tl.verdict) svg.appendChild(tip(svgEl('rect', { x: x(tl.verdict.step) - W / 2, y: TOP - 6, width: W, height: height - TOP + 6, class: 'vband', id: 'vband' }), 'verdict at step ' + tl.verdict.step));
tl.actors.forEach(function (a, l) {
  svg.appendChild(svgEl('line', { x1: 0, x2: width, y1: y(l), y2: y(l), class: 'lane' }));
  names.appendChild(tip(svgEl('text', { x: 6, y: y(l) + 4, class: 'lname' }, a.length > 15 ? a.slice(0, 14) + '…' : a), a));
});
tl.bars.forEach(function (b) {
  var x0 = x(b.from) - W / 2 + 1, w = Math.max(4, (b.to - b.from) * W - 2), yy = y(b.lane) + 9 + b.level * BAR;
  var g = svgEl('g', { class: 'bar ' + b.kind });
  g.appendChild(tip(svgEl('rect', { x: x0, y: yy, width: w, height: BAR - 2, rx: 2 }), (b.kind === 'held' ? 'holds ' : 'blocked on ') + b.lock + ' (steps ' + b.from + '..' + b.to + ')'));
  if (w > 8 * b.lock.length) g.appendChild(svgEl('text', { x: x0 + 3, y: yy + 8, class: 'blabel' }, b.lock));
  svg.appendChild(g);
});
tl.arrows.forEach(function (a) {
  var line = svgEl('line', { x1: x(a.sendStep), y1: y(a.from), x2: x(a.recvStep), y2: y(a.to), class: 'arrow', 'marker-end': 'url(#arrowhead)', 'data-send': a.send, 'data-recv': a.recv });
  svg.appendChild(tip(line, a.label + ': ' + tl.actors[a.from] + ' → ' + tl.actors[a.to]));
});
var markEls = {};
tl.marks.forEach(function (m) {
  var c = svgEl('circle', { cx: x(m.step), cy: y(m.lane), r: m.kind === 'step' ? 3 : 5, class: 'mark k-' + m.kind.replace(/[^a-z-]/g, ''), 'data-ev': m.ev });
  tip(c, 'step ' + m.step + ': ' + m.label);
  c.addEventListener('click', function () { select(m.ev, true); });
  markEls[m.ev] = c;
  svg.appendChild(c);
});
var cursor = svgEl('line', { x1: 0, x2: 0, y1: TOP - 6, y2: height, class: 'cursor' });
svg.appendChild(cursor);
var tlBox = document.getElementById('lanes');
document.getElementById('lane-names').appendChild(names);
tlBox.appendChild(svg);

/* State panel. */
var SECTIONS = [['pmd', 'page tables (pmd → table → PTEs)'], ['table', 'PTE tables not linked from a pmd'], ['folio', 'folios'], ['cache', 'page cache'], ['vma', 'VMAs'], ['mirror', 'HMM mirrors (device page tables)'], ['lock', 'locks (holders, waiters)'], ['protocol', 'protocol states'], ['mailbox', 'mailboxes (oldest first)']];
function row(list, key, now, before) {
  var li = h('li', '');
  li.setAttribute('data-key', key);
  if (before === undefined) li.classList.add('new');
  else if (now === undefined) li.classList.add('del');
  else if (before !== now) li.classList.add('chg');
  li.appendChild(h('span', 'key', key));
  li.appendChild(document.createTextNode(' '));
  li.appendChild(h('span', 'val', now === undefined ? before : now));
  if (before !== undefined && now !== undefined && before !== now) li.appendChild(h('span', 'was', 'was: ' + before));
  list.appendChild(li);
  return li;
}
function renderState(step) {
  var box = document.getElementById('state');
  box.textContent = '';
  var now = stateAt(step + 1), before = stateAt(step) || {};
  if (!now) { box.appendChild(h('p', 'none', 'no state recorded (replay with --html to record it)')); return; }
  box.appendChild(h('p', 'where', 'after step ' + step + ' (changes from the step before are marked)'));
  var linked = {};
  Object.keys(now).forEach(function (k) { if (k.indexOf('pmd ') === 0 && /^table \\d+$/.test(now[k])) linked[now[k]] = k; });
  SECTIONS.forEach(function (sec) {
    var keys = Object.keys(now).concat(Object.keys(before)).filter(function (k, i, all) { return k.indexOf(sec[0] + ' ') === 0 && all.indexOf(k) === i; });
    if (sec[0] === 'table') keys = keys.filter(function (k) { return !linked[k]; });
    if (!keys.length) return;
    var sb = h('section', 'sec sec-' + sec[0]);
    sb.appendChild(h('h3', '', sec[1]));
    var ul = h('ul', '');
    keys.forEach(function (k) {
      row(ul, k, now[k], before[k]);
      if (sec[0] === 'pmd' && linked[now[k]] === k) {
        var t = now[k];
        var sub = h('ul', 'nested');
        row(sub, t, now[t], before[t]);
        ul.lastChild.appendChild(sub);
      }
    });
    sb.appendChild(ul);
    box.appendChild(sb);
  });
}

/* Lock-order graph. */
function renderGraph() {
  var g = data.lockOrder, box = document.getElementById('graph');
  if (!g) { box.appendChild(h('p', 'none', 'not recorded')); return; }
  if (!g.classes.length) { box.appendChild(h('p', 'none', 'no lock was taken while holding another')); return; }
  var n = g.classes.length, R = Math.max(60, n * 22), cx = R + 70, cy = R + 24;
  var gs = svgEl('svg', { width: 2 * cx, height: 2 * cy, class: 'lo', role: 'img', 'aria-label': 'lock-order graph' });
  var pos = g.classes.map(function (c, i) { var t = 2 * Math.PI * i / n - Math.PI / 2; return [cx + R * Math.cos(t), cy + R * Math.sin(t)]; });
  g.edges.forEach(function (e) {
    var a = pos[e.from], b = pos[e.to], dx = b[0] - a[0], dy = b[1] - a[1], len = Math.sqrt(dx * dx + dy * dy) || 1;
    var line = svgEl('line', { x1: a[0] + dx / len * 16, y1: a[1] + dy / len * 16, x2: b[0] - dx / len * 16, y2: b[1] - dy / len * 16, class: 'dep' + (e.bad ? ' bad' : ''), 'marker-end': 'url(#arrowhead)' });
    gs.appendChild(tip(line, g.classes[e.from] + ' → ' + g.classes[e.to] + ': first seen ' + e.actor + ', step ' + e.step + ', ' + e.at + (e.bad ? ' (closes a cycle or breaks the lock order)' : '')));
  });
  g.classes.forEach(function (c, i) {
    gs.appendChild(svgEl('circle', { cx: pos[i][0], cy: pos[i][1], r: 14, class: 'node' }));
    gs.appendChild(svgEl('text', { x: pos[i][0], y: pos[i][1] - 18, class: 'nlabel' }, c));
  });
  box.appendChild(gs);
}

/* Protocol machines: one card per actor, laid out here (no library). */
var machines = (data.states && data.states[0] && data.states[0].machines) || [], cards = [];
var CH = 6.8, LCH = 6.1, BH = 22, LVL = 14;
function edgeText(m, ed) { return m.states[ed.from] + ' --' + ed.ev + (ed.guard ? ' [' + ed.guard + ']' : '') + '--> ' + m.states[ed.to]; }
function drawMachine(m, n) {
  var order = [m.initial].concat(m.states.map(function (_, i) { return i; }).filter(function (i) { return i !== m.initial; }));
  var pos = {}; order.forEach(function (s, k) { pos[s] = k; });
  var groups = {}, keys = [];
  m.edges.forEach(function (ed, j) {
    var key = ed.from + '>' + ed.to;
    if (!groups[key]) { groups[key] = { from: ed.from, to: ed.to, labels: [], edges: [] }; keys.push(key); }
    var lab = ed.ev + (ed.guard ? ' [' + ed.guard + ']' : '');
    if (groups[key].labels.indexOf(lab) < 0) groups[key].labels.push(lab);
    groups[key].edges.push(j);
  });
  var bw = order.map(function (s) { return Math.max(40, m.states[s].length * CH + 14); });
  var gap = order.map(function () { return 30; });
  keys.forEach(function (key) {
    var g = groups[key], a = pos[g.from], b = pos[g.to];
    g.text = g.labels.join(' / ');
    g.span = Math.abs(a - b);
    if (g.span === 1) gap[Math.min(a, b)] = Math.max(gap[Math.min(a, b)], g.text.length * LCH + 16);
  });
  var xs = [], cx = 8;
  order.forEach(function (s, k) { xs.push(cx); cx += bw[k] + gap[k]; });
  function mid(s) { return xs[pos[s]] + bw[pos[s]] / 2; }
  /* Each label gets the lowest level (arc height) from its span up where it overlaps no label placed before. */
  var placed = { up: [], down: [] }, above = 0, below = 0;
  keys.slice().sort(function (p, q) { return groups[p].span - groups[q].span; }).forEach(function (key) {
    var g = groups[key], side = pos[g.from] <= pos[g.to] ? 'up' : 'down', lx = (mid(g.from) + mid(g.to)) / 2, half = g.text.length * LCH / 2 + 4;
    var lvl = Math.max(1, g.span);
    while (placed[side].some(function (o) { return o.lvl === lvl && o.l < lx + half && lx - half < o.r; })) lvl++;
    placed[side].push({ lvl: lvl, l: lx - half, r: lx + half });
    g.lvl = LVL * lvl;
    if (side === 'up') above = Math.max(above, g.lvl); else below = Math.max(below, g.lvl);
  });
  var top = above + 16, bot = top + BH, width = Math.max(cx - gap[order.length - 1] + 8, 120), height = bot + below + 16;
  var svg = svgEl('svg', { width: width, height: height, class: 'pm', role: 'img', 'aria-label': 'protocol machine of ' + m.actor });
  var defs = svgEl('defs', {});
  ['', '-on'].forEach(function (suf) {
    var mk = svgEl('marker', { id: 'pm-ah' + suf + '-' + n, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' });
    mk.appendChild(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: 'pah' + suf }));
    defs.appendChild(mk);
  });
  svg.appendChild(defs);
  var arcs = {};
  keys.forEach(function (key) {
    var g = groups[key], a = pos[g.from], b = pos[g.to], d, lx, ly;
    if (a === b) {
      var c = mid(g.from);
      d = 'M' + (c - 8) + ',' + top + ' C' + (c - 16) + ',' + (top - 4 * g.lvl / 3) + ' ' + (c + 16) + ',' + (top - 4 * g.lvl / 3) + ' ' + (c + 8) + ',' + top;
      lx = c; ly = top - g.lvl - 3;
    } else if (a < b) {
      var x1 = mid(g.from) + 8, x2 = mid(g.to) - 8;
      d = 'M' + x1 + ',' + top + ' Q' + (x1 + x2) / 2 + ',' + (top - 2 * g.lvl) + ' ' + x2 + ',' + top;
      lx = (x1 + x2) / 2; ly = top - g.lvl - 3;
    } else {
      var y1 = mid(g.from) - 8, y2 = mid(g.to) + 8;
      d = 'M' + y1 + ',' + bot + ' Q' + (y1 + y2) / 2 + ',' + (bot + 2 * g.lvl) + ' ' + y2 + ',' + bot;
      lx = (y1 + y2) / 2; ly = bot + g.lvl + 10;
    }
    var path = svgEl('path', { d: d, class: 'pedge', 'marker-end': 'url(#pm-ah-' + n + ')' });
    var label = svgEl('text', { x: lx, y: ly, class: 'plabel' }, g.text);
    svg.appendChild(tip(path, g.edges.map(function (j) { return edgeText(m, m.edges[j]); }).join('\\n')));
    svg.appendChild(label);
    arcs[key] = { path: path, label: label };
  });
  var boxes = {};
  order.forEach(function (s, k) {
    var g = svgEl('g', { class: 'pstate' + (s === m.initial ? ' initial' : '') + (m.final.indexOf(s) >= 0 ? ' final' : ''), 'data-state': m.states[s] });
    g.appendChild(svgEl('rect', { x: xs[k], y: top, width: bw[k], height: BH, rx: 6 }));
    g.appendChild(svgEl('text', { x: xs[k] + bw[k] / 2, y: top + 15, class: 'sname' }, m.states[s]));
    svg.appendChild(tip(g, m.states[s] + (s === m.initial ? ' (initial)' : '') + (m.final.indexOf(s) >= 0 ? ' (final)' : '')));
    boxes[s] = g;
  });
  var card = h('div', 'machine');
  card.setAttribute('data-actor', m.actor);
  card.appendChild(h('h3', '', m.actor + ' · ' + m.protocol));
  card.appendChild(svg);
  var now = h('p', 'pnow', '');
  card.appendChild(now);
  var more = h('details', ''), ul = h('ul', 'pedges'), lis = [];
  more.appendChild(h('summary', '', m.edges.length + ' transitions'));
  m.edges.forEach(function (ed) { var li = h('li', '', edgeText(m, ed)); ul.appendChild(li); lis.push(li); });
  more.appendChild(ul);
  card.appendChild(more);
  return { m: m, n: n, card: card, boxes: boxes, arcs: arcs, lis: lis, now: now };
}
/* The protocol event a send/receive is for this actor: '!Name' or '?Name'. */
function protoEv(e) { return (e.k === 'send' || e.k === 'recv') && e.name !== undefined ? (e.k === 'send' ? '!' : '?') + e.name : null; }
/* The transition event i took: from the actor's state before its step, through the actor's earlier sends/receives of that step. */
function taken(m, i) {
  var e = events[i], key = 'protocol ' + m.actor;
  if (e.t !== m.actor || !protoEv(e)) return -1;
  var before = stateAt(e.i), after = stateAt(e.i + 1);
  var cur = before && key in before ? m.states.indexOf(before[key]) : m.initial;
  var to = after && key in after ? m.states.indexOf(after[key]) : -1;
  var mine = [];
  for (var j = 0; j < events.length; j++) if (events[j].i === e.i && events[j].t === m.actor && protoEv(events[j])) mine.push(j);
  for (var q = 0; q < mine.length; q++) {
    var ev = protoEv(events[mine[q]]), pick = -1;
    m.edges.forEach(function (ed, k) { if (ed.from === cur && ed.ev === ev && (pick < 0 || (q === mine.length - 1 && ed.to === to && m.edges[pick].to !== to))) pick = k; });
    if (pick < 0 || mine[q] === i) return pick;
    cur = m.edges[pick].to;
  }
  return -1;
}
function renderMachines(i) {
  var e = events[i];
  var now = stateAt(e.i + 1) || {};
  cards.forEach(function (c) {
    var m = c.m, st = m.states.indexOf(now['protocol ' + m.actor]), t = taken(m, i);
    Object.keys(c.boxes).forEach(function (s) { c.boxes[s].classList.toggle('cur', Number(s) === st); });
    Object.keys(c.arcs).forEach(function (key) {
      var on = t >= 0 && key === m.edges[t].from + '>' + m.edges[t].to;
      c.arcs[key].path.classList.toggle('taken', on);
      c.arcs[key].label.classList.toggle('taken', on);
      c.arcs[key].path.setAttribute('marker-end', 'url(#pm-ah' + (on ? '-on' : '') + '-' + c.n + ')');
    });
    c.lis.forEach(function (li, k) { li.classList.toggle('taken', k === t); });
    var refused = e.k === 'verdict' && e.code === 'protocol' && e.t === m.actor;
    c.card.classList.toggle('refused', refused);
    c.card.classList.toggle('active', t >= 0 || refused);
    c.now.textContent = 'state: ' + (st >= 0 ? m.states[st] : '?') + (t >= 0 ? ' — took ' + edgeText(m, m.edges[t]) : '') + (refused ? ' — refused: ' + e.message : '');
  });
}
var mBox = document.getElementById('machine-cards');
if (mBox) machines.forEach(function (m, n) { var c = drawMachine(m, n); cards.push(c); mBox.appendChild(c.card); });

/* Selection and keys. */
var rows = document.querySelectorAll('#events tr[data-ev]');
var rowOf = {};
rows.forEach(function (r) { rowOf[r.getAttribute('data-ev')] = r; r.addEventListener('click', function () { select(Number(r.getAttribute('data-ev')), false); }); });
var sel = -1;
function select(i, fromTimeline) {
  if (i < 0 || i >= events.length) return;
  if (sel >= 0) { if (rowOf[sel]) rowOf[sel].classList.remove('sel'); if (markEls[sel]) markEls[sel].classList.remove('sel'); }
  sel = i;
  var e = events[i];
  if (rowOf[i]) { rowOf[i].classList.add('sel'); if (!fromTimeline) centre(rowOf[i]); }
  if (markEls[i]) markEls[i].classList.add('sel');
  cursor.setAttribute('x1', x(e.i)); cursor.setAttribute('x2', x(e.i));
  var left = x(e.i) - tlBox.clientWidth / 2;
  tlBox.scrollLeft = left > 0 ? left : 0;
  document.getElementById('cur').textContent = 'event ' + (i + 1) + '/' + events.length + ', step ' + e.i + (e.t ? ', ' + e.t : '');
  renderState(e.i);
  if (cards.length) renderMachines(i);
}
function actorStep(dir) {
  var a = events[sel] && events[sel].t;
  for (var j = sel + dir; j >= 0 && j < events.length; j += dir) if (events[j].t === a && events[j].k !== 'step') return select(j, false);
}
/* Scroll the event list (not the page) so that a row is in the middle. */
function centre(r) {
  var list = document.getElementById('list');
  list.scrollTop = r.offsetTop - list.clientHeight / 2;
}
function toVerdict() { select(tl.verdict ? tl.verdict.ev : events.length - 1, false); }
document.addEventListener('keydown', function (ev) {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  var k = ev.key;
  if (k === 'ArrowRight' || k === 'ArrowDown' || k === 'j') select(sel + 1, false);
  else if (k === 'ArrowLeft' || k === 'ArrowUp' || k === 'k') select(sel - 1, false);
  else if (k === 'n') actorStep(1);
  else if (k === 'p') actorStep(-1);
  else if (k === 'v') toVerdict();
  else if (k === 'Home') select(0, false);
  else if (k === 'End') select(events.length - 1, false);
  else return;
  ev.preventDefault();
});
document.getElementById('prev').addEventListener('click', function () { select(sel - 1, false); });
document.getElementById('next').addEventListener('click', function () { select(sel + 1, false); });
document.getElementById('jump').addEventListener('click', toVerdict);
renderGraph();
toVerdict();
document.body.setAttribute('data-ready', '1');
})();`;
