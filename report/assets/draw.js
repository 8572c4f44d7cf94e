// nasforge report: the drawing primitives of report.js (DOM and SVG elements, number format,
// axis ticks, a chart's axes and scales, lines, legends, cards, the tooltip). They know nothing
// of runs or trials. CMake puts this file before report.js in the page's one script.
const nfDraw = (function () {
  'use strict';
  const SVGNS = 'http://www.w3.org/2000/svg';

  // ---- small helpers ----
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children || []) if (c) e.appendChild(c);
    return e;
  }
  function svg(tag, attrs, parent) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return '-';
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
    if (Number.isInteger(v)) return String(v);
    return String(Number(v.toPrecision(5)));
  }
  function niceStep(span, count) {
    const raw = span / Math.max(count, 1);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const r = raw / mag;
    return (r >= 5 ? 10 : r >= 2 ? 5 : r >= 1 ? 2 : 1) * mag;
  }
  function ticks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const step = niceStep(hi - lo, count);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  }
  // [lo, hi] of the finite values, padded by 5% (a flat range gets a unit's width).
  function extent(values, pad) {
    const vs = values.filter((v) => v !== null && Number.isFinite(v));
    if (!vs.length) return [0, 1];
    let lo = Math.min(...vs), hi = Math.max(...vs);
    if (hi === lo) { const d = Math.abs(lo) * 0.05 || 0.5; lo -= d; hi += d; }
    const p = (hi - lo) * (pad === undefined ? 0.05 : pad);
    return [lo - p, hi + p];
  }

  const tooltip = el('div', { class: 'tooltip' });
  document.body.appendChild(tooltip);
  function showTip(ev, text) {
    tooltip.textContent = text;
    tooltip.style.display = 'block';
    tooltip.style.left = Math.min(ev.clientX + 12, window.innerWidth - 540) + 'px';
    tooltip.style.top = (ev.clientY + 12) + 'px';
  }
  function hideTip() { tooltip.style.display = 'none'; }

  // A chart: axes, grid and labels; returns the scales. The SVG carries its domains and pixel
  // ranges as data attributes, so that a test can check where a value was drawn.
  function chart(opts) {
    const W = opts.width || 460, H = opts.height || 300;
    const m = { l: 62, r: 14, t: 10, b: 42 };
    const s = svg('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    if (opts.id) s.setAttribute('data-chart', opts.id);
    const [x0, x1] = opts.x, [y0, y1] = opts.y;
    const px = [m.l, W - m.r], py = [H - m.b, m.t];
    const x = (v) => px[0] + (v - x0) / (x1 - x0) * (px[1] - px[0]);
    const y = (v) => py[0] + (v - y0) / (y1 - y0) * (py[1] - py[0]);
    s.setAttribute('data-x-domain', x0 + ' ' + x1);
    s.setAttribute('data-x-range', px[0] + ' ' + px[1]);
    s.setAttribute('data-y-domain', y0 + ' ' + y1);
    s.setAttribute('data-y-range', py[0] + ' ' + py[1]);
    const axes = svg('g', { class: 'axis' }, s);
    for (const v of ticks(x0, x1, 6)) {
      svg('line', { class: 'gridline', x1: x(v), x2: x(v), y1: py[0], y2: py[1] }, axes);
      svg('text', { x: x(v), y: py[0] + 14, 'text-anchor': 'middle', text: fmt(v) }, axes);
    }
    for (const v of ticks(y0, y1, 5)) {
      svg('line', { class: 'gridline', x1: px[0], x2: px[1], y1: y(v), y2: y(v) }, axes);
      svg('text', { x: px[0] - 4, y: y(v) + 4, 'text-anchor': 'end', text: fmt(v) }, axes);
    }
    svg('path', { d: 'M' + px[0] + ',' + py[1] + 'V' + py[0] + 'H' + px[1], fill: 'none' }, axes);
    svg('text', { class: 'axis-label', x: (px[0] + px[1]) / 2, y: H - 6, 'text-anchor': 'middle', text: opts.xLabel || '' }, s);
    svg('text', { class: 'axis-label', x: 12, y: (py[0] + py[1]) / 2, 'text-anchor': 'middle',
                  transform: 'rotate(-90 12 ' + (py[0] + py[1]) / 2 + ')', text: opts.yLabel || '' }, s);
    const plot = svg('g', { class: 'plot' }, s);
    return { svg: s, plot, x, y, px, py };
  }
  function line(c, points, colour, dashed, cls) {
    const pts = points.filter((p) => p[1] !== null && Number.isFinite(p[1]));
    if (!pts.length) return null;
    const d = pts.map((p, i) => (i ? 'L' : 'M') + c.x(p[0]).toFixed(2) + ',' + c.y(p[1]).toFixed(2)).join('');
    return svg('path', { d, fill: 'none', stroke: colour, 'stroke-width': 1.8,
                         'stroke-dasharray': dashed ? '6 4' : 'none', class: cls || 'series' }, c.plot);
  }
  function legend(items) {
    return el('div', { class: 'legend' }, items.map(([name, colour, dashed]) =>
      el('span', { class: 'run-chip' }, [
        el('span', { class: 'swatch' + (dashed ? ' dashed' : ''), style: 'background:' + colour + ';color:' + colour }),
        el('span', { text: name })])));
  }
  function card(title, children, note) {
    return el('div', { class: 'card' }, [el('h3', { text: title })].concat(children,
      note ? [el('div', { class: 'stats', text: note })] : []));
  }

  return { el, svg, fmt, ticks, extent, showTip, hideTip, chart, line, legend, card };
})();
