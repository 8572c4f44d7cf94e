// nasforge report: draws the model that `nasforge report` embedded in #nf-model. Every number
// is computed by nasforge; this script lays out SVG charts (with the primitives of draw.js),
// the trial table (sort, filter) and the architecture diagrams, and keeps the view in the URL's
// hash (#run=..&sort=..&filter=..&trial=..) so that a view can be shared and reopened.
(function () {
  'use strict';
  const PALETTE = ['#1f6feb', '#d9480f', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#c2255c',
                   '#5c7cfa', '#66a80f', '#e8590c'];
  const BASELINE = '#868e96';
  const OP_COLOURS = {};
  const model = JSON.parse(document.getElementById('nf-model').textContent);
  const root = document.getElementById('nf-report');
  const searches = model.runs.filter((r) => r.kind === 'search');
  const trainings = model.runs.filter((r) => r.kind === 'training');
  let colourIndex = 0;
  for (const r of model.runs) {
    r.colour = r.baseline ? BASELINE : PALETTE[colourIndex++ % PALETTE.length];
    if (r.kind === 'search') r.byId = new Map(r.trials.map((t) => [t.id, t]));
  }

  const { el, svg, fmt, extent, showTip, hideTip, chart, line, legend, card } = nfDraw;
  function metricOf(t, name) {
    if (name in t.metrics) return t.metrics[name];
    if (name in t.report) return t.report[name];
    return null;
  }
  function trialTip(run, t) {
    const lines = [run.name + ' · trial ' + t.id + ' (' + t.status + ')'];
    for (const [k, v] of Object.entries(t.metrics)) lines.push(k + ': ' + fmt(v));
    for (const [k, v] of Object.entries(t.report)) lines.push(k + ' (report): ' + fmt(v));
    lines.push(t.arch);
    return lines.join('\n');
  }

  // ---- view state, kept in the hash ----
  const state = { run: searches.length ? searches[0].name : null, sort: null, filter: 'all', trial: null };
  function readHash() {
    const h = new URLSearchParams(location.hash.replace(/^#/, ''));
    if (h.get('run') && searches.some((r) => r.name === h.get('run'))) state.run = h.get('run');
    if (h.get('sort')) {
      const [col, dir] = h.get('sort').split(':');
      state.sort = { col, dir: dir === 'desc' ? 'desc' : 'asc' };
    }
    if (['all', 'feasible', 'infeasible', 'failed'].includes(h.get('filter'))) state.filter = h.get('filter');
    if (h.get('trial')) state.trial = Number(h.get('trial'));
  }
  function writeHash() {
    const h = new URLSearchParams();
    if (state.run) h.set('run', state.run);
    if (state.sort) h.set('sort', state.sort.col + ':' + state.sort.dir);
    if (state.filter !== 'all') h.set('filter', state.filter);
    if (state.trial !== null) h.set('trial', String(state.trial));
    try {
      history.replaceState(null, '', '#' + h.toString());
    } catch (e) {  // a browser that refuses history on file URLs: the hash alone still works
      location.hash = h.toString();
    }
  }
  const selectedRun = () => searches.find((r) => r.name === state.run);

  // ---- search charts ----
  function objectiveLabel(o) {
    return o.name + (o.unit ? ' [' + o.unit + ']' : '') + (o.direction === 'max' ? ' ↑' : ' ↓');
  }
  // The staircase through a front, sorted along x.
  function frontPath(c, pts, ox, oy) {
    const sorted = pts.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    // The boundary of what the front dominates: when y improves with x (a cost against a
    // gain), across at the previous height and then up; otherwise down first, then across.
    const acrossFirst = (ox.direction === 'min') === (oy.direction === 'max');
    let d = '';
    sorted.forEach((p, i) => {
      const X = c.x(p[0]).toFixed(2), Y = c.y(p[1]).toFixed(2);
      if (i === 0) { d += 'M' + X + ',' + Y; return; }
      const prev = sorted[i - 1];
      d += acrossFirst ? 'L' + X + ',' + c.y(prev[1]).toFixed(2) : 'L' + c.x(prev[0]).toFixed(2) + ',' + Y;
      d += 'L' + X + ',' + Y;
    });
    return d;
  }
  function paretoChart(runs, ox, oy) {
    const xs = [], ys = [];
    const bounds = [];
    for (const r of runs) {
      for (const t of r.trials) { xs.push(metricOf(t, ox.name)); ys.push(metricOf(t, oy.name)); }
      for (const k of r.constraints) {
        for (const side of ['min', 'max']) {
          if (k[side] === null) continue;
          if (k.metric === ox.name) { bounds.push(['x', k[side], side, k.text]); xs.push(k[side]); }
          if (k.metric === oy.name) { bounds.push(['y', k[side], side, k.text]); ys.push(k[side]); }
        }
      }
    }
    const c = chart({ id: 'pareto:' + ox.name + ':' + oy.name, x: extent(xs), y: extent(ys),
                      xLabel: objectiveLabel(ox), yLabel: objectiveLabel(oy) });
    const seen = new Set();
    for (const [axis, v, side, text] of bounds) {
      const key = axis + v + side;
      if (seen.has(key)) continue;
      seen.add(key);
      if (axis === 'x') {
        const X = c.x(v);
        const [a, b] = side === 'max' ? [X, c.px[1]] : [c.px[0], X];
        svg('rect', { class: 'constraint-region', x: a, y: c.py[1], width: Math.max(b - a, 0), height: c.py[0] - c.py[1] }, c.plot);
        svg('line', { class: 'constraint-line', x1: X, x2: X, y1: c.py[0], y2: c.py[1], 'data-axis': 'x', 'data-bound': v }, c.plot);
        svg('text', { x: X + 3, y: c.py[1] + 12, text, fill: '#c4320a' }, c.plot);
      } else {
        const Y = c.y(v);
        const [a, b] = side === 'max' ? [c.py[1], Y] : [Y, c.py[0]];
        svg('rect', { class: 'constraint-region', x: c.px[0], y: a, width: c.px[1] - c.px[0], height: Math.max(b - a, 0) }, c.plot);
        svg('line', { class: 'constraint-line', x1: c.px[0], x2: c.px[1], y1: Y, y2: Y, 'data-axis': 'y', 'data-bound': v }, c.plot);
        svg('text', { x: c.px[0] + 4, y: Y - 4, text, fill: '#c4320a' }, c.plot);
      }
    }
    for (const r of runs) {
      const front = new Set(r.front);
      const frontPts = [];
      for (const t of r.trials) {
        const vx = metricOf(t, ox.name), vy = metricOf(t, oy.name);
        if (vx === null || vy === null) continue;
        const X = c.x(vx), Y = c.y(vy);
        let mark;
        if (t.status === 'infeasible') {
          mark = svg('path', { class: 'infeasible-point', d: 'M' + (X - 4) + ',' + (Y - 4) + 'l8,8m0,-8l-8,8',
                               stroke: r.colour, 'stroke-width': 1.6, 'data-trial': t.id, 'data-run': r.name }, c.plot);
        } else if (front.has(t.id)) {
          continue;  // drawn on top, after the front's line
        } else {
          mark = svg('circle', { class: 'trial-point', cx: X, cy: Y, r: 3, fill: r.colour, 'fill-opacity': 0.35,
                                 'data-trial': t.id, 'data-run': r.name }, c.plot);
        }
        hookPoint(mark, r, t);
      }
      for (const id of r.front) {
        const t = r.byId.get(id);
        frontPts.push([metricOf(t, ox.name), metricOf(t, oy.name), t]);
      }
      if (frontPts.length > 1)
        svg('path', { class: 'front-line', d: frontPath(c, frontPts, ox, oy), stroke: r.colour,
                      'stroke-dasharray': r.baseline ? '6 4' : 'none' }, c.plot);
      for (const [vx, vy, t] of frontPts) {
        const mark = svg('circle', { class: 'front-point', cx: c.x(vx), cy: c.y(vy), r: 5, fill: r.colour,
                                     stroke: '#fff', 'stroke-width': 1.2, 'data-trial': t.id, 'data-run': r.name }, c.plot);
        hookPoint(mark, r, t);
      }
    }
    return c.svg;
  }
  function hookPoint(mark, run, t) {
    mark.addEventListener('mousemove', (ev) => showTip(ev, trialTip(run, t)));
    mark.addEventListener('mouseleave', hideTip);
    mark.addEventListener('click', () => { state.run = run.name; state.trial = t.id; writeHash(); renderTable(); renderSelection(); markSelected(); });
  }
  function markSelected() {
    for (const e of root.querySelectorAll('svg .selected')) e.classList.remove('selected');
    if (state.trial === null) return;
    for (const e of root.querySelectorAll('[data-run="' + CSS.escape(state.run) + '"][data-trial="' + state.trial + '"]'))
      e.classList.add('selected');
  }
  function curveChart(id, runs, title, yLabel, valuesOf) {
    const all = [];
    let n = 1;
    for (const r of runs) { const v = valuesOf(r); all.push(...v); n = Math.max(n, v.length); }
    const c = chart({ id, x: [0, n + 1], y: extent(all), xLabel: 'trial', yLabel });
    for (const r of runs)
      line(c, valuesOf(r).map((v, i) => [i + 1, v]), r.colour, r.baseline, 'series run-' + r.name);
    return card(title, [c.svg, legend(runs.map((r) => [r.name + (r.baseline ? ' (baseline)' : ''), r.colour, r.baseline]))]);
  }
  function predictorCards(run) {
    return run.predictor.map((p) => {
      const c = chart({ id: 'predictor:' + run.name + ':' + p.predicted,
                        x: extent(p.points.map((q) => q[0]).concat(p.points.map((q) => q[1]))),
                        y: extent(p.points.map((q) => q[1]).concat(p.points.map((q) => q[0]))),
                        xLabel: 'predicted ' + p.predicted, yLabel: 'measured ' + p.measured });
      const lo = Math.max(Number(c.svg.getAttribute('data-x-domain').split(' ')[0]), Number(c.svg.getAttribute('data-y-domain').split(' ')[0]));
      const hi = Math.min(Number(c.svg.getAttribute('data-x-domain').split(' ')[1]), Number(c.svg.getAttribute('data-y-domain').split(' ')[1]));
      svg('line', { x1: c.x(lo), y1: c.y(lo), x2: c.x(hi), y2: c.y(hi), stroke: '#98a2b3', 'stroke-dasharray': '4 3' }, c.plot);
      for (const [pv, mv, id] of p.points) {
        const t = run.byId.get(id);
        const mark = svg('circle', { class: 'pred-point', cx: c.x(pv), cy: c.y(mv), r: 3.5, fill: run.colour,
                                     'data-trial': id, 'data-run': run.name }, c.plot);
        hookPoint(mark, run, t);
      }
      return card('Predictor quality: ' + run.name, [c.svg],
                  p.points.length + ' trials; Kendall τ ' + fmt(p.kendall) + ', Spearman ' + fmt(p.spearman) +
                  ', mean relative error ' + (p.mape === null ? '-' : fmt(100 * p.mape) + '%') + ' (' + p.source + ')');
    });
  }
  function searchSection() {
    const sec = el('section', { id: 'search' }, [el('h2', { text: 'Search' })]);
    // Runs with the same objectives share their charts.
    const groups = new Map();
    for (const r of searches) {
      const key = r.objectives.map((o) => o.name + ':' + o.direction).join(' ');
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(r);
    }
    for (const runs of groups.values()) {
      const objs = runs[0].objectives;
      const grid = el('div', { class: 'grid' });
      if (objs.length === 1) {
        grid.appendChild(card('Trials: ' + objs[0].name, [trialsChart(runs, objs[0])]));
      } else {
        for (let i = 0; i < objs.length; ++i)
          for (let j = i + 1; j < objs.length; ++j)
            grid.appendChild(card((objs.length === 2 ? 'Pareto front: ' : 'Pairs: ') + objs[i].name + ' against ' + objs[j].name,
              [paretoChart(runs, objs[j], objs[i]),
               legend(runs.map((r) => [r.name + ' (' + r.strategy + ', ' + r.front.length + ' on the front)', r.colour, r.baseline]))],
              'dots: feasible trials; large dots joined: the feasible front; crosses: infeasible trials; red: constraint bounds'));
      }
      for (const o of objs)
        grid.appendChild(curveChart('best:' + o.name, runs, 'Best so far: ' + o.name, objectiveLabel(o),
                                    (r) => r.best_so_far[o.name]));
      if (objs.length > 1)
        grid.appendChild(curveChart('hypervolume', runs, 'Hypervolume', 'hypervolume', (r) => r.hypervolume));
      for (const r of runs) for (const c of predictorCards(r)) grid.appendChild(c);
      sec.appendChild(grid);
      const refs = runs[0].reference.map((v, m) => objs[m].name + ' ' + fmt(v)).join(', ');
      sec.appendChild(el('p', { class: 'stats', text: 'Hypervolume reference (the worst feasible value of each objective over these runs): ' + refs + '.' }));
    }
    sec.appendChild(el('h3', { text: 'Trials' }));
    sec.appendChild(el('div', { class: 'controls', id: 'table-controls' }));
    sec.appendChild(el('div', { class: 'table-wrap' }, [el('table', { class: 'trials', id: 'trial-table' })]));
    sec.appendChild(el('div', { id: 'selection' }));
    return sec;
  }
  function trialsChart(runs, o) {
    const ys = [];
    let n = 1;
    for (const r of runs) { for (const t of r.trials) ys.push(metricOf(t, o.name)); n = Math.max(n, r.trials.length); }
    const c = chart({ id: 'trials:' + o.name, x: [0, n + 1], y: extent(ys), xLabel: 'trial', yLabel: objectiveLabel(o) });
    for (const r of runs) {
      const front = new Set(r.front);
      r.trials.forEach((t, i) => {
        const v = metricOf(t, o.name);
        if (v === null) return;
        const mark = svg('circle', { class: front.has(t.id) ? 'front-point' : t.status === 'ok' ? 'trial-point' : 'infeasible-point',
                                     cx: c.x(i + 1), cy: c.y(v), r: front.has(t.id) ? 5 : 3, fill: r.colour,
                                     'data-trial': t.id, 'data-run': r.name }, c.plot);
        hookPoint(mark, r, t);
      });
    }
    return c.svg;
  }

  // ---- the trial table ----
  function columnsOf(run) {
    const objs = run.objectives.map((o) => o.name);
    const metrics = new Set(), reports = new Set();
    for (const t of run.trials) {
      for (const k of Object.keys(t.metrics)) if (!objs.includes(k)) metrics.add(k);
      for (const k of Object.keys(t.report)) reports.add(k);
    }
    const cols = [{ key: 'id', label: 'trial', get: (t) => t.id },
                  { key: 'status', label: 'status', get: (t) => t.status }];
    for (const k of objs.concat([...metrics])) cols.push({ key: k, label: k, get: (t) => metricOf(t, k) });
    for (const k of reports) cols.push({ key: k, label: k + ' (report)', get: (t) => metricOf(t, k) });
    cols.push({ key: 'violation', label: 'violation', get: (t) => t.violation });
    cols.push({ key: 'seconds', label: 'seconds', get: (t) => t.seconds });
    cols.push({ key: 'arch', label: 'architecture', get: (t) => t.arch });
    return cols;
  }
  function compare(a, b) {
    if (a === b) return 0;
    if (a === null || a === undefined) return 1;
    if (b === null || b === undefined) return -1;
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return String(a).localeCompare(String(b));
  }
  function copyText(text) {
    const done = () => {};
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text));
    } else {
      fallbackCopy(text);
    }
  }
  function fallbackCopy(text) {
    const area = el('textarea', { style: 'position:fixed;opacity:0' });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); } catch (e) { /* the text stays selectable */ }
    area.remove();
  }
  function renderControls() {
    const box = document.getElementById('table-controls');
    if (!box) return;
    box.textContent = '';
    if (searches.length > 1) {
      const sel = el('select', { id: 'run-select', onchange: (ev) => { state.run = ev.target.value; state.trial = null; state.sort = null; writeHash(); renderTable(); renderSelection(); } },
                     searches.map((r) => el('option', { value: r.name, text: r.name + ' (' + r.strategy + ')' })));
      sel.value = state.run;
      box.appendChild(el('label', {}, [document.createTextNode('run '), sel]));
    }
    const filter = el('select', { id: 'filter-select', onchange: (ev) => { state.filter = ev.target.value; writeHash(); renderTable(); } },
                      ['all', 'feasible', 'infeasible', 'failed'].map((f) => el('option', { value: f, text: f })));
    filter.value = state.filter;
    box.appendChild(el('label', {}, [document.createTextNode('show '), filter]));
    box.appendChild(el('span', { class: 'stats', id: 'table-count' }));
  }
  function renderTable() {
    const table = document.getElementById('trial-table');
    const run = selectedRun();
    if (!table || !run) return;
    table.textContent = '';
    const cols = columnsOf(run);
    const head = el('tr', {}, cols.map((c) => {
      const th = el('th', { 'data-col': c.key, text: c.label, onclick: () => {
        const dir = state.sort && state.sort.col === c.key && state.sort.dir === 'asc' ? 'desc' : 'asc';
        state.sort = { col: c.key, dir };
        writeHash();
        renderTable();
      } });
      if (state.sort && state.sort.col === c.key) th.classList.add('sorted-' + state.sort.dir);
      return th;
    }));
    table.appendChild(el('thead', {}, [head]));
    const keep = (t) => state.filter === 'all' || (state.filter === 'feasible' ? t.status === 'ok' : t.status === state.filter);
    let rows = run.trials.filter(keep);
    const col = state.sort && cols.find((c) => c.key === state.sort.col);
    if (col) {
      rows = rows.slice().sort((a, b) => {
        const r = compare(col.get(a), col.get(b));
        return (state.sort.dir === 'desc' ? -r : r) || a.id - b.id;
      });
    }
    const body = el('tbody');
    for (const t of rows) {
      const tr = el('tr', { 'data-trial': t.id, class: 'status-' + t.status + (t.id === state.trial ? ' selected' : ''),
                            onclick: () => { state.trial = t.id; writeHash(); renderTable(); renderSelection(); markSelected(); } });
      for (const c of cols) {
        const v = c.get(t);
        if (c.key === 'arch') {
          tr.appendChild(el('td', { class: 'arch', title: v }, [
            el('button', { class: 'copy', type: 'button', text: 'copy', onclick: (ev) => { ev.stopPropagation(); copyText(v); } }),
            document.createTextNode(v)]));
        } else {
          tr.appendChild(el('td', { text: typeof v === 'number' ? fmt(v) : (v === null ? '-' : String(v)) }));
        }
      }
      body.appendChild(tr);
    }
    table.appendChild(body);
    const count = document.getElementById('table-count');
    if (count) count.textContent = rows.length + ' of ' + run.trials.length + ' trials';
  }

  // ---- architecture diagrams ----
  function opColour(op) {
    if (!(op in OP_COLOURS)) OP_COLOURS[op] = PALETTE[Object.keys(OP_COLOURS).length % PALETTE.length];
    return OP_COLOURS[op];
  }
  function stripDiagram(strip) {
    const bw = 92, bh = 70, gap = 8;
    const W = Math.max(strip.length * (bw + gap) + gap, 200), H = bh + 40;
    const s = svg('svg', { class: 'chart diagram-strip', viewBox: '0 0 ' + W + ' ' + H, style: 'min-width:' + Math.min(W, 1200) + 'px' });
    strip.forEach((b, i) => {
      const x = gap + i * (bw + gap);
      const g = svg('g', { class: 'block', 'data-kind': b.kind }, s);
      const fill = b.kind === 'cell' ? '#e7f5ff' : b.kind === 'choice' ? '#fff4e6' : b.kind === 'head' ? '#f3f0ff' : '#ebfbee';
      svg('rect', { x, y: 20, width: bw, height: bh, rx: 5, fill }, g);
      svg('text', { x: x + 4, y: 14, text: b.layer, class: 'axis-label' }, g);
      const lines = [b.kind];
      if (b.kind === 'cell') lines.push(b.cell);
      if (b.choice) lines.push('▸ ' + b.choice);
      const spec = [];
      if (b.k) spec.push('k' + b.k);
      if (b.e) spec.push('e' + b.e);
      if (b.heads) spec.push('h' + b.heads);
      if (b.se) spec.push('se');
      if (spec.length) lines.push(spec.join(' '));
      if (b.out) lines.push('w' + b.out + (b.stride > 1 ? ' s' + b.stride : ''));
      lines.slice(0, 4).forEach((t, j) => svg('text', { x: x + bw / 2, y: 36 + j * 14, 'text-anchor': 'middle', text: t }, g));
    });
    return s;
  }
  function cellDiagram(cell) {
    const n = cell.nodes, W = Math.max(120 * (n + (cell.combine === 'concat' ? 1 : 0)), 320), H = 220;
    const s = svg('svg', { class: 'chart diagram-cell', viewBox: '0 0 ' + W + ' ' + H, 'data-cell': cell.name });
    const dead = new Set(cell.dead);
    const pos = (i) => [50 + i * (W - 100) / Math.max(n - (cell.combine === 'concat' ? 0 : 1), 1), H / 2 + (i % 2 ? -40 : 40) * (i > 0 && i < n - 1 ? 1 : 0)];
    cell.edges.forEach((e, k) => {
      const [x1, y1] = pos(e.from), [x2, y2] = pos(e.to);
      const bend = (e.to - e.from - 1) * 28 + 8;
      const mx = (x1 + x2) / 2, my = (y1 + y2) / 2 - bend * (k % 2 ? 1 : -1);
      const path = svg('path', { d: 'M' + x1 + ',' + y1 + 'Q' + mx + ',' + my + ' ' + x2 + ',' + y2, fill: 'none',
                                 stroke: e.live ? opColour(e.op) : '#c0c4cc', 'stroke-width': e.live ? 2 : 1.2,
                                 class: e.live ? 'edge' : 'edge-dead', 'data-op': e.op }, s);
      path.appendChild(svg('title', { text: e.from + ' → ' + e.to + ': ' + e.op + (e.live ? '' : ' (dead: its result never reaches the output)') }));
      svg('text', { x: (x1 + 2 * mx + x2) / 4, y: (y1 + 2 * my + y2) / 4 - 3, 'text-anchor': 'middle', text: e.op,
                    fill: e.live ? opColour(e.op) : '#98a2b3' }, s);
    });
    if (cell.combine === 'concat') {
      const [ox, oy] = pos(n);
      for (let i = cell.inputs; i < n; ++i) {
        const [x1, y1] = pos(i);
        svg('path', { d: 'M' + x1 + ',' + y1 + 'L' + ox + ',' + oy, stroke: '#98a2b3', 'stroke-dasharray': '2 3', fill: 'none' }, s);
      }
      const g = svg('g', { class: 'node' }, s);
      svg('circle', { cx: ox, cy: oy, r: 14 }, g);
      svg('text', { x: ox, y: oy + 4, 'text-anchor': 'middle', text: 'cat' }, g);
    }
    for (let i = 0; i < n; ++i) {
      const [x, y] = pos(i);
      const g = svg('g', { class: dead.has(i) ? 'node node-dead' : 'node', 'data-node': i }, s);
      svg('circle', { cx: x, cy: y, r: 14 }, g);
      svg('text', { x, y: y + 4, 'text-anchor': 'middle', text: i < cell.inputs ? 'in' + (cell.inputs > 1 ? i : '') : String(i) }, g);
    }
    return s;
  }
  function renderSelection() {
    const box = document.getElementById('selection');
    const run = selectedRun();
    if (!box || !run) return;
    box.textContent = '';
    const t = state.trial !== null ? run.byId.get(state.trial) : null;
    if (!t) {
      box.appendChild(el('p', { class: 'muted', text: 'Select a trial (a point or a table row) to see its architecture.' }));
      return;
    }
    const metrics = Object.entries(t.metrics).map(([k, v]) => k + ' ' + fmt(v))
      .concat(Object.entries(t.report).map(([k, v]) => k + ' (report) ' + fmt(v))).join(' · ');
    const parts = [el('h3', { text: run.name + ': trial ' + t.id + ' (' + t.status + ')' }),
                   el('p', { text: metrics + (t.error ? ' · ' + t.error : '') }),
                   el('div', { class: 'arch-text', id: 'selected-arch' }, [
                     el('button', { class: 'copy', type: 'button', text: 'copy', onclick: () => copyText(t.arch) }),
                     document.createTextNode(t.arch)])];
    const d = run.diagrams[String(t.id)];
    if (d) {
      if (d.strip.length) parts.push(el('div', { style: 'overflow-x:auto;margin-top:8px' }, [stripDiagram(d.strip)]));
      for (const cell of d.cells)
        parts.push(card('Cell ' + cell.name + ' (' + cell.layers.length + ' layer' + (cell.layers.length > 1 ? 's' : '') + ', ' + cell.combine + ')',
                        [cellDiagram(cell)], 'none edges are left out; grey: dead nodes and edges, whose result never reaches the output'));
    } else {
      parts.push(el('p', { class: 'muted', text: 'No diagram for this trial (large runs keep diagrams for the front only).' }));
    }
    box.appendChild(el('div', { class: 'card', id: 'selected-trial', 'data-trial': t.id }, parts));
  }

  // ---- training runs ----
  const SERIES_GROUPS = [
    ['Loss', ['loss', 'valid_loss']],
    ['Accuracy', ['accuracy', 'valid_accuracy', 'valid_accuracy_smallest']],
    ['Learning rate', ['lr']],
    ['Throughput', ['images_per_second']],
    ['Temperature', ['temperature']],
    ['Expected cost', ['expected_cost']],
  ];
  const EPOCH_GROUPS = [
    ['Accuracy per epoch', ['train_accuracy', 'valid_accuracy']],
    ['Loss per epoch', ['train_loss', 'valid_loss']],
    ['Architecture entropy', ['entropy']],
    ['Skip (parameter-free) share', ['parameter_free_share']],
    ['Hessian eigenvalue', ['hessian_eigenvalue']],
    ['Expected cost per epoch', ['expected_cost', 'max_cost_ratio']],
  ];
  function seriesCard(id, title, named, xLabel) {
    const present = named.filter(([, pts]) => pts && pts.some((p) => p[1] !== null && Number.isFinite(p[1])));
    if (!present.length) return null;
    const xs = [], ys = [];
    for (const [, pts] of present) for (const p of pts) { xs.push(p[0]); ys.push(p[1]); }
    const c = chart({ id, x: extent(xs, 0.02), y: extent(ys), xLabel, yLabel: title.toLowerCase() });
    present.forEach(([name, pts], i) => {
      const path = line(c, pts, PALETTE[i % PALETTE.length], false, 'series series-' + name);
      if (path && pts.length < 40)
        for (const p of pts) if (p[1] !== null) svg('circle', { cx: c.x(p[0]), cy: c.y(p[1]), r: 2.5, fill: PALETTE[i % PALETTE.length] }, c.plot);
    });
    return card(title, [c.svg, legend(present.map(([name], i) => [name, PALETTE[i % PALETTE.length], false]))]);
  }
  function trainingSection(run) {
    const sec = el('section', { class: 'training', 'data-run': run.name }, [
      el('h2', { text: 'Training: ' + run.name }),
      el('p', { class: run.running ? 'state-running' : 'muted', text: run.state + ' · ' + run.dir })]);
    const grid = el('div', { class: 'grid' });
    for (const [title, names] of SERIES_GROUPS) {
      const c = seriesCard('train:' + run.name + ':' + title, title, names.map((n) => [n, run.series[n]]), 'step');
      if (c) grid.appendChild(c);
    }
    if (run.epochs) {
      const cols = run.epochs.columns;
      const at = (name) => cols.indexOf(name);
      const epochCol = at('epoch');
      for (const [title, names] of EPOCH_GROUPS) {
        const named = names.filter((n) => at(n) >= 0).map((n) => [n, run.epochs.rows.map((row) => [row[epochCol], typeof row[at(n)] === 'number' ? row[at(n)] : null])]);
        const c = seriesCard('epoch:' + run.name + ':' + title, title, named, 'epoch');
        if (c) grid.appendChild(c);
      }
      if (at('argmax') >= 0) {
        const rows = run.epochs.rows.map((row) => el('tr', {}, [el('td', { text: String(row[epochCol]) }), el('td', { class: 'arch', text: String(row[at('argmax')]) })]));
        grid.appendChild(card('The architecture the weights prefer, per epoch', [
          el('table', { class: 'trials' }, [el('thead', {}, [el('tr', {}, [el('th', { text: 'epoch' }), el('th', { text: 'argmax' })])]), el('tbody', {}, rows)])]));
      }
    }
    if (!grid.children.length) grid.appendChild(el('p', { class: 'muted', text: 'No steps logged yet.' }));
    sec.appendChild(grid);
    return sec;
  }

  // ---- the page ----
  function header() {
    const chips = model.runs.map((r) => el('span', { class: 'run-chip' }, [
      el('span', { class: 'swatch' + (r.baseline ? ' dashed' : ''), style: 'background:' + r.colour + ';color:' + r.colour }),
      el('strong', { text: r.name }),
      el('span', { class: r.running ? 'state-running' : 'muted',
                   text: (r.kind === 'search' ? r.strategy + ' on ' + r.space + ', seed ' + r.seed + ' · ' : '') + r.state })]));
    return el('header', {}, [el('h1', { text: model.title }), el('div', { class: 'runs' }, chips)]);
  }
  readHash();
  root.textContent = '';
  root.appendChild(header());
  if (searches.length) root.appendChild(searchSection());
  for (const r of trainings) root.appendChild(trainingSection(r));
  renderControls();
  renderTable();
  renderSelection();
  markSelected();
  window.addEventListener('hashchange', () => { readHash(); renderControls(); renderTable(); renderSelection(); markSelected(); });
  document.documentElement.setAttribute('data-nf-ready', 'true');
})();
