// The dossier page: query, entity pages, search as you type, network and timeline views.
// Hand-written, no build step, no libraries: everything comes from this server.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { lang: null, last: null, graph: { nodes: [], edges: [], byName: new Map() }, busy: 0 };
window.dossier = state; // for the browser test and the curious

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function api(path, options) {
  state.busy++;
  try {
    const r = await fetch(path, options);
    const type = r.headers.get('content-type') || '';
    const body = type.includes('json') ? await r.json() : await r.text();
    if (!r.ok) throw body && body.error ? body.error : { message: String(body) };
    return body;
  } finally {
    state.busy--;
  }
}

// ---- views and routing -------------------------------------------------------------------
function show(view) {
  for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== 'view-' + view;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.view === view);
}

function route() {
  const [view, ...rest] = (location.hash.slice(1) || 'query').split('/');
  const arg = decodeURIComponent(rest.join('/'));
  show(['query', 'entity', 'network', 'timeline'].includes(view) ? view : 'query');
  if (view === 'entity' && arg) openEntity(arg);
  if (view === 'network' && arg) { $('net-entities').value = arg; drawNetwork(); }
  if (view === 'timeline' && !$('timeline').innerHTML) drawTimeline();
}
window.addEventListener('hashchange', route);

function entityLink(name) {
  return el('a', { class: 'entity', href: '#entity/' + encodeURIComponent(name) }, name);
}

// ---- highlighting --------------------------------------------------------------------------
const TOKEN = /(#[^\n]*)|("(?:[^"\\\n]|\\.)*"?)|(\?[A-Za-z_][\w]*)|(\$[A-Za-z_][\w]*)|(@\d{4}|\d{4}-\d{2}(?:-\d{2})?(?![\w-]))|(-?\d+(?:\.\d+)?(?![\w-]))|(<[^>\n]*>?)|([A-Za-z_][\w:.-]*[\w]|[A-Za-z_])/g;

function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}

function highlight(text, error) {
  const lang = state.lang || { keywords: [], functions: [], aggregates: [], predicates: [] };
  const kw = new Set(lang.keywords), fn = new Set([...lang.functions, ...lang.aggregates]);
  const preds = new Set(lang.predicates);
  let out = '', at = 0;
  const cls = (m) => {
    if (m[1]) return 'comment';
    if (m[2]) return 'string';
    if (m[3]) return 'variable';
    if (m[4]) return 'param';
    if (m[5]) return 'date';
    if (m[6]) return 'number';
    if (m[8] && kw.has(m[8])) return 'keyword';
    if (m[8] && fn.has(m[8]) && text[m.index + m[8].length] === '(') return 'function';
    if (m[8] && preds.has(m[8])) return 'predicate';
    return null;
  };
  for (const m of text.matchAll(TOKEN)) {
    out += escapeHtml(text.slice(at, m.index));
    const c = cls(m);
    out += c ? `<span class="tok-${c}">${escapeHtml(m[0])}</span>` : escapeHtml(m[0]);
    at = m.index + m[0].length;
  }
  out += escapeHtml(text.slice(at));
  if (error) out = markError(text, error, out);
  return out + '\n';
}

// Underline the error's place: re-render with the span wrapped (line/column are 1-based,
// columns in characters).
function markError(text, error, fallback) {
  const lines = text.split('\n');
  if (!error.line || error.line > lines.length) return fallback;
  let offset = 0;
  for (let i = 0; i < error.line - 1; i++) offset += lines[i].length + 1;
  const chars = Array.from(text);
  const start = Array.from(text.slice(0, offset)).length + error.column - 1;
  const end = Math.min(chars.length, start + Math.max(1, error.width || 1));
  const before = chars.slice(0, start).join(''), bad = chars.slice(start, end).join(''), after = chars.slice(end).join('');
  return escapeHtml(before) + `<span class="tok-error">${escapeHtml(bad || ' ')}</span>` + escapeHtml(after);
}

function refreshHighlight(error) {
  const q = $('query');
  $('highlight').innerHTML = highlight(q.value, error);
  $('highlight').scrollTop = q.scrollTop;
}

// ---- queries -------------------------------------------------------------------------------
function cellNode(c) {
  if (c === null) return el('td', {}, '');
  switch (c.type) {
    case 'entity': return el('td', {}, entityLink(c.value));
    case 'string': return el('td', { class: 'string' }, c.value);
    case 'date': return el('td', { class: 'date', title: c.precision + ' precision' }, c.value);
    case 'int': case 'float': return el('td', { class: 'number' }, String(c.value));
    default: return el('td', {}, String(c.value));
  }
}

function table(columns, rows) {
  const t = el('table', { class: 'rows' });
  t.append(el('tr', {}, ...columns.map((c) => el('th', {}, c))));
  for (const r of rows) t.append(el('tr', {}, ...r.map(cellNode)));
  return t;
}

async function runQuery() {
  const text = $('query').value;
  $('query-error').hidden = true;
  $('warnings').innerHTML = '';
  $('results').innerHTML = '<p class="empty">running…</p>';
  refreshHighlight(null);
  try {
    const r = await api('/api/query', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: text }),
    });
    $('results').innerHTML = '';
    for (const w of r.warnings) $('warnings').append(el('div', { class: 'warning' }, w));
    for (const res of r.results) {
      if (res.columns) {
        $('results').append(table(res.columns, res.rows),
          el('div', { class: 'count' }, `${res.count} row${res.count === 1 ? '' : 's'}` +
            (res.truncated ? ` (first ${res.rows.length} shown)` : '') + ` · ${r.elapsed_ms.toFixed(1)} ms`));
        state.last = res;
      } else if (res.plan) {
        $('results').append(el('pre', {}, res.plan));
      } else {
        $('results').append(el('p', {}, res.done));
      }
    }
    $('download-csv').disabled = $('download-json').disabled = !state.last;
    document.body.dataset.queryDone = String(Date.now());
  } catch (e) {
    $('results').innerHTML = '';
    $('query-error').hidden = false;
    $('query-error').textContent = e.report || e.message;
    refreshHighlight(e);
    document.body.dataset.queryDone = String(Date.now());
  }
}

function download(name, type, text) {
  const a = el('a', { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

function plain(c) { return c === null ? '' : String(c.value); }

function toCsv(res) {
  const q = (s) => /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  return [res.columns.map(q).join(','), ...res.rows.map((r) => r.map((c) => q(plain(c))).join(','))].join('\n') + '\n';
}

function toJson(res) {
  const rows = res.rows.map((r) => Object.fromEntries(res.columns.map((c, i) => [c, r[i] === null ? null : r[i].value])));
  return JSON.stringify(rows, null, 2) + '\n';
}

// ---- search as you type ----------------------------------------------------------------------
let searchTimer = null, searchSeq = 0;
async function search() {
  const q = $('search').value.trim();
  const list = $('search-hits');
  if (!q) { list.hidden = true; return; }
  const seq = ++searchSeq;
  try {
    const r = await api('/api/search?q=' + encodeURIComponent(q));
    if (seq !== searchSeq) return; // a newer keystroke's answer wins
    list.innerHTML = '';
    for (const h of r.hits) {
      list.append(el('li', { 'data-name': h.name, onmousedown: () => pick(h.name) },
        h.label || h.name, el('span', { class: 'name' }, h.label ? h.name : '')));
    }
    if (r.total > r.hits.length) list.append(el('li', { class: 'count' }, `${r.total - r.hits.length} more…`));
    list.hidden = r.hits.length === 0;
  } catch (e) {
    list.hidden = true;
  }
}
function pick(name) {
  $('search-hits').hidden = true;
  location.hash = '#entity/' + encodeURIComponent(name);
}

// ---- entity pages --------------------------------------------------------------------------
async function openEntity(name) {
  const box = $('entity');
  box.innerHTML = '<p class="empty">loading…</p>';
  try {
    const e = await api('/api/entity/' + encodeURIComponent(name));
    box.innerHTML = '';
    box.append(el('h2', {}, e.label || e.name),
      el('div', { class: 'types' }, el('code', {}, e.name), ' ', ...e.types.map((t) => el('span', {}, t))),
      el('div', { class: 'toolbar' },
        el('a', { href: '#network/' + encodeURIComponent(e.name) }, 'network around it'), ' · ',
        el('a', { href: '#query', onclick: () => { $('query').value = `describe ${e.name}.`; refreshHighlight(); } }, 'describe in the query box')));
    const facts = (title, list, total, subjectSide) => {
      box.append(el('h3', {}, `${title} (${total}${total > list.length ? `, first ${list.length} shown` : ''})`));
      const t = el('table', { class: subjectSide ? 'incoming' : 'outgoing' });
      t.append(el('tr', {}, el('th', {}, subjectSide ? 'subject' : 'predicate'), el('th', {}, subjectSide ? 'predicate' : 'value'), el('th', {}, 'sources')));
      for (const f of list) {
        const v = cellNode(f.value);
        const p = el('td', {}, f.predicate);
        t.append(el('tr', {}, ...(subjectSide ? [v, p] : [p, v]), el('td', { class: 'sources' }, f.sources.length ? f.sources.join(', ') : '—')));
      }
      box.append(t);
    };
    facts('Facts about it', e.outgoing, e.outgoing_total, false);
    facts('Facts that point to it', e.incoming, e.incoming_total, true);
    document.body.dataset.entity = e.name;
  } catch (err) {
    box.innerHTML = '';
    box.append(el('pre', { class: 'error' }, err.message));
  }
}

// ---- network -----------------------------------------------------------------------------
const SVGNS = 'http://www.w3.org/2000/svg';
const view = { x: 0, y: 0, k: 1 };
function svgEl(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

// One colour per group for the whole view: the first answer that names a group decides,
// and a later answer's colour is taken only if no other group has it.
function colourOf(group, suggested) {
  const G = state.graph;
  if (!group) return suggested;
  if (G.legend.has(group)) return G.legend.get(group);
  const used = new Set(G.legend.values());
  const palette = (state.lang && state.lang.palette) || [];
  const colour = !used.has(suggested) ? suggested : palette.find((c) => !used.has(c)) || suggested;
  G.legend.set(group, colour);
  return colour;
}

function mergeGraph(g, around) {
  const G = state.graph;
  for (const l of g.legend) colourOf(l.group, l.colour);
  const index = g.nodes.map((n) => {
    let have = G.byName.get(n.name);
    if (!have) {
      have = Object.assign({}, n);
      have.colour = colourOf(n.group, n.colour);
      if (around) { // new neighbours start around the node that was expanded
        const a = Math.random() * 2 * Math.PI, r = 90 + Math.random() * 60;
        have.x = around.x + r * Math.cos(a);
        have.y = around.y + r * Math.sin(a);
      }
      G.byName.set(n.name, have);
      G.nodes.push(have);
    } else {
      have.hidden = n.hidden;
    }
    return have;
  });
  const key = (e) => `${e.from.name}\u0000${e.predicate}\u0000${e.to.name}`;
  const seen = new Set(G.edges.map(key));
  for (const e of g.edges) {
    const edge = { from: index[e.from], to: index[e.to], predicate: e.predicate, sources: e.sources };
    if (edge.from && edge.to && !seen.has(key(edge))) { seen.add(key(edge)); G.edges.push(edge); }
  }
  G.notes = g.notes;
}

// A few steps of force relaxation, moving only the nodes that are new.
function relax(fresh, steps) {
  const G = state.graph;
  for (let s = 0; s < steps; s++) {
    for (const n of fresh) {
      let fx = 0, fy = 0;
      for (const m of G.nodes) {
        if (m === n) continue;
        const dx = n.x - m.x, dy = n.y - m.y, d2 = Math.max(dx * dx + dy * dy, 25);
        fx += dx / d2 * 3000; fy += dy / d2 * 3000;
      }
      for (const e of G.edges) {
        const o = e.from === n ? e.to : e.to === n ? e.from : null;
        if (!o) continue;
        fx += (o.x - n.x) * 0.05; fy += (o.y - n.y) * 0.05;
      }
      n.x += Math.max(-20, Math.min(20, fx)); n.y += Math.max(-20, Math.min(20, fy));
    }
  }
}

function renderGraph() {
  const G = state.graph, vp = $('viewport');
  vp.innerHTML = '';
  vp.setAttribute('transform', `translate(${view.x},${view.y}) scale(${view.k})`);
  const defs = svgEl('defs');
  const marker = svgEl('marker', { id: 'arr', viewBox: '0 0 10 10', refX: '20', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto' });
  marker.append(svgEl('path', { d: 'M0,0L10,5L0,10z', fill: '#8a8a8a' }));
  defs.append(marker);
  vp.append(defs);
  const small = G.nodes.length <= 60;
  for (const e of G.edges) {
    const g = svgEl('g', { class: 'edge' });
    const t = svgEl('title'); t.textContent = `${e.from.name} ${e.predicate || ''} ${e.to.name}\nsource: ${e.sources.length ? e.sources.join(', ') : 'none'}`;
    g.append(t, svgEl('line', { x1: e.from.x, y1: e.from.y, x2: e.to.x, y2: e.to.y, stroke: '#a0a0a0', 'marker-end': 'url(#arr)' }));
    if (small && e.predicate) {
      const l = svgEl('text', { x: (e.from.x + e.to.x) / 2, y: (e.from.y + e.to.y) / 2, 'font-size': 10, fill: '#666', 'text-anchor': 'middle' });
      l.textContent = e.predicate;
      g.append(l);
    }
    vp.append(g);
  }
  for (const n of G.nodes) {
    const g = svgEl('g', { class: 'node', 'data-name': n.name, transform: `translate(${n.x},${n.y})` });
    const t = svgEl('title');
    t.textContent = (n.label ? `${n.label} (${n.name})` : n.name) + (n.kind ? `\ntype: ${n.kind}` : '') +
      (n.hidden ? `\n+${n.hidden} neighbours not shown: click to add` : '');
    g.append(t, svgEl('circle', { r: n.depth === 0 ? 10 : 8, fill: n.entity ? n.colour : '#fff', stroke: n.hidden ? '#222' : '#666', 'stroke-width': n.hidden ? 2 : 1 }));
    const label = svgEl('text', { y: 22, 'text-anchor': 'middle' });
    label.textContent = (n.label || n.name).slice(0, 32) + (n.hidden ? ' +' : '');
    g.append(label);
    g.addEventListener('click', (ev) => { ev.stopPropagation(); expand(n); });
    g.addEventListener('dblclick', (ev) => { ev.stopPropagation(); if (n.entity) location.hash = '#entity/' + encodeURIComponent(n.name); });
    vp.append(g);
  }
  $('net-notes').textContent = (G.notes || []).join(' · ');
  $('net-legend').innerHTML = '';
  for (const [group, colour] of G.legend) {
    const i = el('i'); i.style.background = colour;
    $('net-legend').append(el('span', {}, i, group));
  }
  document.body.dataset.nodes = String(G.nodes.length);
}

function graphQuery(params) {
  const q = new URLSearchParams(params);
  return api('/api/graph?' + q.toString());
}

async function drawNetwork() {
  const entities = $('net-entities').value.split(/[\s,]+/).filter(Boolean).join(',');
  if (!entities) return;
  try {
    const g = await graphQuery({ entity: entities, depth: $('net-depth').value || 1,
      follow: $('net-follow').value, exclude: $('net-exclude').value });
    state.graph = { nodes: [], edges: [], byName: new Map(), legend: new Map(), notes: [] };
    mergeGraph(g, null);
    $('net-cap').textContent = g.max_nodes;
    fit();
    renderGraph();
  } catch (e) {
    $('net-notes').textContent = e.message;
  }
}

async function expand(n) {
  if (!n.entity) return;
  try {
    const g = await graphQuery({ entity: n.name, depth: 1, follow: $('net-follow').value, exclude: $('net-exclude').value });
    const before = new Set(state.graph.nodes);
    mergeGraph(g, n);
    n.hidden = 0;
    relax(state.graph.nodes.filter((m) => !before.has(m)), 60);
    renderGraph();
    document.body.dataset.expanded = n.name;
  } catch (e) {
    $('net-notes').textContent = e.message;
  }
}

function fit() {
  const G = state.graph, svg = $('network');
  if (!G.nodes.length) return;
  const xs = G.nodes.map((n) => n.x), ys = G.nodes.map((n) => n.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const w = svg.clientWidth || 900, h = svg.clientHeight || 600;
  view.k = Math.min(2, Math.min(w / (x1 - x0 + 120), h / (y1 - y0 + 120)));
  view.x = w / 2 - (x0 + x1) / 2 * view.k;
  view.y = h / 2 - (y0 + y1) / 2 * view.k;
}

function panZoom() {
  const svg = $('network');
  let drag = null;
  svg.addEventListener('mousedown', (e) => { drag = { x: e.clientX - view.x, y: e.clientY - view.y }; });
  window.addEventListener('mousemove', (e) => {
    if (!drag) return;
    view.x = e.clientX - drag.x; view.y = e.clientY - drag.y;
    $('viewport').setAttribute('transform', `translate(${view.x},${view.y}) scale(${view.k})`);
  });
  window.addEventListener('mouseup', () => { drag = null; });
  svg.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = svg.getBoundingClientRect(), px = e.clientX - r.left, py = e.clientY - r.top;
    const f = Math.exp(-e.deltaY * 0.0015), k = Math.max(0.05, Math.min(8, view.k * f));
    view.x = px - (px - view.x) * (k / view.k); view.y = py - (py - view.y) * (k / view.k); view.k = k;
    $('viewport').setAttribute('transform', `translate(${view.x},${view.y}) scale(${view.k})`);
  }, { passive: false });
}

function networkSvg() {
  const svg = $('network').cloneNode(true);
  svg.setAttribute('xmlns', SVGNS);
  svg.setAttribute('width', $('network').clientWidth);
  svg.setAttribute('height', $('network').clientHeight);
  svg.setAttribute('font-family', 'Helvetica, Arial, sans-serif');
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(svg);
}

// ---- timeline ------------------------------------------------------------------------------
async function drawTimeline() {
  const q = new URLSearchParams({ query: $('tl-query').value, from: $('tl-from').value, to: $('tl-to').value });
  $('tl-error').hidden = true;
  try {
    const svg = await api('/api/timeline?' + q.toString());
    $('timeline').innerHTML = svg;
    document.body.dataset.timeline = String($('timeline').querySelectorAll('.event').length);
  } catch (e) {
    $('tl-error').hidden = false;
    $('tl-error').textContent = e.report || e.message;
    document.body.dataset.timeline = 'error';
  }
}

// ---- start -----------------------------------------------------------------------------------
async function start() {
  panZoom();
  $('query').addEventListener('input', () => refreshHighlight(null));
  $('query').addEventListener('scroll', () => { $('highlight').scrollTop = $('query').scrollTop; });
  $('query').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runQuery(); } });
  $('run').addEventListener('click', runQuery);
  $('download-csv').addEventListener('click', () => state.last && download('dossier.csv', 'text/csv', toCsv(state.last)));
  $('download-json').addEventListener('click', () => state.last && download('dossier.json', 'application/json', toJson(state.last)));
  $('search').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 120); });
  $('search').addEventListener('keydown', (e) => {
    const items = [...$('search-hits').querySelectorAll('li[data-name]')];
    const at = items.findIndex((i) => i.classList.contains('sel'));
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      items.forEach((i) => i.classList.remove('sel'));
      const next = items[(at + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length];
      if (next) next.classList.add('sel');
    } else if (e.key === 'Enter') {
      const chosen = items[at] || items[0];
      if (chosen) pick(chosen.dataset.name);
    } else if (e.key === 'Escape') {
      $('search-hits').hidden = true;
    }
  });
  $('search').addEventListener('blur', () => setTimeout(() => { $('search-hits').hidden = true; }, 150));
  $('net-draw').addEventListener('click', drawNetwork);
  $('net-download').addEventListener('click', () => download('network.svg', 'image/svg+xml', networkSvg()));
  $('tl-draw').addEventListener('click', drawTimeline);
  $('tl-download').addEventListener('click', () => download('timeline.svg', 'image/svg+xml', $('timeline').innerHTML));
  try {
    state.lang = await api('/api/language');
    const s = await api('/api/status');
    $('mode').textContent = s.writable ? 'writable' : 'read-only';
  } catch (e) {
    $('mode').textContent = 'the server does not answer';
  }
  refreshHighlight(null);
  route();
  document.body.dataset.ready = 'true';
}
start();
