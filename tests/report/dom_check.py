#!/usr/bin/env python3
"""Checks of a report page as headless Chromium left it (its DOM after the scripts ran, and a
screenshot), against the search's own store read here with SQLite. One subcommand per check;
each prints what it found and exits 1 with the reason when the page is wrong.

  dom_check.py front DOM STORE RUN          front points of RUN drawn = the store's front
  dom_check.py constraint DOM STORE RUN     the bound's line where the drawn points put it
  dom_check.py sorted DOM COLUMN DIR        the table ordered by COLUMN (asc|desc)
  dom_check.py rows DOM STORE STATUS        the filtered table has the store's STATUS trials
  dom_check.py selected DOM STORE ID        trial ID's card and its cell diagram
  dom_check.py pairs DOM N                  N distinct pair charts, each with front points
  dom_check.py chart DOM CHART SERIES       a training chart with a drawn series
  dom_check.py colours PNG MIN              a screenshot with more than MIN distinct colours
  dom_check.py pointer JSON STORE           what tests/report/pointer.js saw under the pointer:
                                            the hovered trial's tooltip, its closing, its click
"""
import html.parser
import json
import sqlite3
import struct
import sys
import zlib


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], ''

    def classes(self):
        return self.attrs.get('class', '').split()

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def all_text(self):
        return self.text + ''.join(c.all_text() for c in self.children)


VOID = {'meta', 'link', 'br', 'img', 'input', 'hr', 'col', 'source', 'wbr'}


class Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.root = Node('#root', {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text += data


def dom(path):
    p = Parser()
    with open(path, encoding='utf-8') as f:
        p.feed(f.read())
    return p.root


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def store(path):
    db = sqlite3.connect('file:' + path + '?mode=ro', uri=True)
    config = dict(db.execute('SELECT key, value FROM config'))
    trials = [{'id': i, 'arch': a, 'status': s, 'metrics': json.loads(m)}
              for i, a, s, m in db.execute('SELECT id, arch, status, metrics FROM trials ORDER BY id')]
    objectives = [w.split(':') for w in config['objectives'].split()]
    return config, trials, objectives


def store_front(trials, objectives):
    """Feasible, non-dominated trial ids, by brute force."""
    def signed(t):
        return [t['metrics'][n] * (1 if d == 'max' else -1) for n, d in objectives]
    ok = [t for t in trials if t['status'] == 'ok']
    front = set()
    for t in ok:
        p = signed(t)
        dominated = any(all(a >= b for a, b in zip(signed(u), p)) and signed(u) != p for u in ok)
        if not dominated:
            front.add(t['id'])
    return front


def pareto_svg(root):
    for n in root.walk():
        if n.tag == 'svg' and n.attrs.get('data-chart', '').startswith('pareto:'):
            return n
    fail('no Pareto chart (svg[data-chart^=pareto:]) in the page')


def check_front(dom_path, store_path, run):
    _, trials, objectives = store(store_path)
    want = store_front(trials, objectives)
    got = [int(n.attrs['data-trial']) for n in pareto_svg(dom(dom_path)).walk()
           if 'front-point' in n.classes() and n.attrs.get('data-run') == run]
    if len(got) != len(want) or set(got) != want:
        fail('run %s: %d front points drawn (%s), the store has %d (%s)'
             % (run, len(got), sorted(got), len(want), sorted(want)))
    print('front of %s: %d points drawn, %d in the store' % (run, len(got), len(want)))


def check_constraint(dom_path, store_path, run):
    config, trials, objectives = store(store_path)
    text = config['constraints'].split(';')[0]
    metric, bound = [x.strip() for x in text.split('<=')]
    bound = float(bound)
    svg = pareto_svg(dom(dom_path))
    x_metric = objectives[1][0]
    if metric != x_metric:
        fail('expected the constraint on the x axis (%s), got %s' % (x_metric, metric))
    lines = [n for n in svg.walk() if 'constraint-line' in n.classes()]
    if len(lines) != 1:
        fail('%d constraint lines drawn, want 1' % len(lines))
    x_line = float(lines[0].attrs['x1'])
    # Where the bound must be, from two drawn points of known value (not from the page's axis).
    by_id = {t['id']: t for t in trials}
    drawn = {}
    for n in svg.walk():
        if n.tag == 'circle' and n.attrs.get('data-run') == run and 'cx' in n.attrs:
            v = by_id[int(n.attrs['data-trial'])]['metrics'][x_metric]
            drawn[v] = float(n.attrs['cx'])
    if len(drawn) < 2:
        fail('fewer than two points with distinct %s drawn' % x_metric)
    lo, hi = min(drawn), max(drawn)
    want = drawn[lo] + (bound - lo) * (drawn[hi] - drawn[lo]) / (hi - lo)
    if abs(want - x_line) > 0.05:
        fail('the constraint %s is drawn at x = %.3f, the points put it at %.3f' % (text, x_line, want))
    print('constraint %s drawn at x = %.2f (from the points: %.2f)' % (text.strip(), x_line, want))


def table(root):
    t = next((n for n in root.walk() if n.attrs.get('id') == 'trial-table'), None)
    if t is None:
        fail('no trial table')
    head = [n for n in t.walk() if n.tag == 'th']
    rows = [n for n in t.walk() if n.tag == 'tr' and 'data-trial' in n.attrs]
    return [h.attrs.get('data-col') for h in head], rows


def cells(row):
    return [n for n in row.children if n.tag == 'td']


def check_sorted(dom_path, column, direction):
    cols, rows = table(dom(dom_path))
    if column not in cols:
        fail('no column %s in %s' % (column, cols))
    k = cols.index(column)
    values = [float(cells(r)[k].all_text()) for r in rows]
    ids = [int(r.attrs['data-trial']) for r in rows]
    want = sorted(values, reverse=(direction == 'desc'))
    if values != want:
        fail('the table is not sorted by %s %s: %s...' % (column, direction, values[:8]))
    if ids == sorted(ids):
        fail('sorting by %s left the rows in trial order' % column)
    print('%d rows sorted by %s %s: first %s, last %s' % (len(values), column, direction, values[0], values[-1]))


def check_rows(dom_path, store_path, status):
    _, trials, _ = store(store_path)
    cols, rows = table(dom(dom_path))
    want = sorted(t['id'] for t in trials if t['status'] == status)
    got = sorted(int(r.attrs['data-trial']) for r in rows)
    if got != want:
        fail('filter %s shows %d rows, the store has %d' % (status, len(got), len(want)))
    print('filter %s: %d rows, as in the store' % (status, len(got)))


def check_selected(dom_path, store_path, trial):
    _, trials, _ = store(store_path)
    arch = next(t['arch'] for t in trials if t['id'] == int(trial))
    root = dom(dom_path)
    card = next((n for n in root.walk() if n.attrs.get('id') == 'selected-trial'), None)
    if card is None or card.attrs.get('data-trial') != trial:
        fail('trial %s is not shown as selected' % trial)
    shown = next(n for n in card.walk() if n.attrs.get('id') == 'selected-arch').all_text()
    if arch not in shown:
        fail('the selected card shows %r, not %r' % (shown, arch))
    ops = [tok.split('~')[0] for tok in arch.split('|') if '~' in tok]
    edges = [n for n in card.walk() if n.tag == 'path' and n.attrs.get('data-op')]
    if len(edges) != sum(op != 'none' for op in ops):
        fail('the cell diagram draws %d edges; the arch has %d ops that are not none'
             % (len(edges), sum(op != 'none' for op in ops)))
    print('trial %s selected: its arch and a cell of %d edges (none left out)' % (trial, len(edges)))


def check_pairs(dom_path, count):
    charts = [n for n in dom(dom_path).walk()
              if n.tag == 'svg' and n.attrs.get('data-chart', '').startswith('pareto:')]
    names = sorted(n.attrs['data-chart'] for n in charts)
    if len(charts) != int(count) or len(set(names)) != len(names):
        fail('%d pair charts (%s), want %s distinct' % (len(charts), names, count))
    empty = [n.attrs['data-chart'] for n in charts if not any('front-point' in m.classes() for m in n.walk())]
    if empty:
        fail('pair charts without front points: %s' % empty)
    print('%d pair charts, each with front points: %s' % (len(charts), ', '.join(names)))


def check_chart(dom_path, chart, series):
    svg = next((n for n in dom(dom_path).walk() if n.attrs.get('data-chart') == chart), None)
    if svg is None:
        fail('no chart %s' % chart)
    paths = [n for n in svg.walk() if n.tag == 'path' and 'series-' + series in n.classes()]
    if not paths or paths[0].attrs['d'].count('L') < 1:
        fail('chart %s draws no %s line' % (chart, series))
    print('chart %s draws %s through %d points' % (chart, series, paths[0].attrs['d'].count('L') + 1))


def png_colours(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        fail(path + ' is not a PNG')
    pos, idat = 8, b''
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail('unexpected PNG format (depth %d, colour type %d)' % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours = set()
    i = 0
    for _ in range(height):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp * 2):  # every other pixel is plenty
            colours.add(bytes(line[x:x + 3]))
        prev = line
    return width, height, len(colours)


def check_colours(path, minimum):
    w, h, n = png_colours(path)
    if n <= int(minimum):
        fail('the screenshot (%dx%d) has %d distinct colours, want more than %s: blank?' % (w, h, n, minimum))
    print('screenshot %dx%d: %d distinct colours' % (w, h, n))


def check_pointer(json_path, store_path):
    try:
        with open(json_path, encoding='utf-8') as f:
            seen = json.load(f)
    except (OSError, ValueError) as e:
        fail('pointer.js left no report in %s (%s)' % (json_path, e))
    _, trials, _ = store(store_path)
    trial = next((t for t in trials if str(t['id']) == seen['trial']), None)
    if trial is None:
        fail('the hovered point is trial %s, which the store does not have' % seen['trial'])
    if not seen['tip_shown']:
        fail('hovering trial %s opened no tooltip' % seen['trial'])
    lines = seen['tip'].split('\n')
    head = '%s · trial %d (%s)' % (seen['run'], trial['id'], trial['status'])
    if lines[0] != head:
        fail('the tooltip starts %r, want %r' % (lines[0], head))
    if lines[-1] != trial['arch']:
        fail('the tooltip ends %r, want the trial\'s arch %r' % (lines[-1], trial['arch']))
    for name, value in trial['metrics'].items():
        shown = [l[len(name) + 2:] for l in lines[1:-1] if l.startswith(name + ': ')]
        if not shown:
            fail('the tooltip has no line for the metric %s: %r' % (name, lines))
        # The page prints four or five significant digits (draw.js fmt).
        if abs(float(shown[0]) - value) > 1e-3 * max(abs(value), 1e-12):
            fail('the tooltip shows %s: %s, the store has %r' % (name, shown[0], value))
    if seen['tip_shown_after_leaving']:
        fail('the tooltip stayed open after the pointer left the point')
    if 'trial=%d' % trial['id'] not in seen['hash'] or seen['selected'] != seen['trial']:
        fail('clicking trial %s left hash %r and selected card %r' % (seen['trial'], seen['hash'], seen['selected']))
    if seen['marked'] < 1:
        fail('clicking trial %s marked no point as selected' % seen['trial'])
    if seen['console']:
        fail('the page printed %r' % seen['console'])
    print('pointer on trial %d: tooltip of %d lines with its metrics and arch, closed on leaving; '
          'the click selected it (%d marks)' % (trial['id'], len(lines), seen['marked']))


if __name__ == '__main__':
    checks = {'front': check_front, 'constraint': check_constraint, 'sorted': check_sorted,
              'rows': check_rows, 'selected': check_selected, 'chart': check_chart, 'pairs': check_pairs,
              'colours': check_colours, 'pointer': check_pointer}
    if len(sys.argv) < 2 or sys.argv[1] not in checks:
        fail('usage: dom_check.py ' + '|'.join(checks) + ' ARGS...')
    checks[sys.argv[1]](*sys.argv[2:])
