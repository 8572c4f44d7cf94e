#!/usr/bin/env node
// The report under a real pointer: drives headless Chromium over its DevTools pipe (no npm
// package: --remote-debugging-pipe reads NUL-terminated JSON commands on fd 3 and answers on
// fd 4), loads a report page, and then, with Input.dispatchMouseEvent, as a user would:
//   1. moves the pointer onto RUN's first front point and reads the tooltip it opens;
//   2. moves it away and reads whether the tooltip closed;
//   3. clicks the point and reads the page's hash and its selected-trial card.
// Prints one JSON object with what it saw; tests/report/dom_check.py `pointer` compares it with
// the store. Any console message or uncaught exception of the page is reported in `console`.
// usage: node pointer.js CHROMIUM URL RUN PROFILE_DIR
'use strict';
const { spawn } = require('child_process');

const [chromePath, url, run, profile] = process.argv.slice(2);
if (!profile) {
  console.error('usage: pointer.js CHROMIUM URL RUN PROFILE_DIR');
  process.exit(2);
}

const chrome = spawn(chromePath, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--user-data-dir=' + profile, '--remote-debugging-pipe', '--window-size=1280,1600', 'about:blank'],
{ stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
const toChrome = chrome.stdio[3], fromChrome = chrome.stdio[4];

const guard = setTimeout(() => finish(3, 'no answer from Chromium within 60 s'), 60000);
let finished = false;
function finish(code, message) {
  if (finished) return;
  finished = true;
  clearTimeout(guard);
  if (message) console.error('pointer.js: ' + message);
  chrome.kill('SIGKILL');
  process.exit(code);
}
chrome.on('error', (e) => finish(3, 'cannot start ' + chromePath + ': ' + e.message));
toChrome.on('error', (e) => finish(3, 'Chromium closed its DevTools pipe (' + e.message + ')'));
chrome.on('exit', (code) => finish(3, 'Chromium exited (' + code + ') before the checks ended'));

let nextId = 1, buffer = '';
const pending = new Map();
const consoleLines = [];
fromChrome.on('data', (chunk) => {
  buffer += chunk.toString('utf8');
  let end;
  while ((end = buffer.indexOf('\0')) >= 0) {
    const msg = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject, method } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(method + ': ' + msg.error.message));
      else resolve(msg.result);
    } else if (msg.method === 'Runtime.consoleAPICalled') {
      consoleLines.push(msg.params.type + ': ' + msg.params.args.map((a) => a.value).join(' '));
    } else if (msg.method === 'Runtime.exceptionThrown') {
      consoleLines.push('exception: ' + msg.params.exceptionDetails.text);
    }
  }
});

function send(method, params, sessionId) {
  const id = nextId++;
  const msg = { id, method, params: params || {} };
  if (sessionId) msg.sessionId = sessionId;
  toChrome.write(JSON.stringify(msg) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  const value = async (expression) => {
    const r = await page('Runtime.evaluate', { expression, returnByValue: true });
    if (r.exceptionDetails) throw new Error('evaluating ' + expression + ': ' + r.exceptionDetails.text);
    return r.result.value;
  };
  await page('Runtime.enable');
  await page('Page.enable');
  await page('Page.navigate', { url });
  // While the page loads, an evaluation can land in the document being replaced: try again.
  for (let i = 0; ; ++i) {
    const ready = await value("document.documentElement.getAttribute('data-nf-ready') === 'true'")
      .catch(() => false);
    if (ready) break;
    if (i > 200) throw new Error('the page never set data-nf-ready within 10 s');
    await sleep(50);
  }
  // The point's centre on screen, after scrolling it into view.
  const point = await value(`(() => {
    const m = document.querySelector('.front-point[data-run="' + ${JSON.stringify(run)} + '"]');
    if (!m) return null;
    m.scrollIntoView({ block: 'center' });
    const r = m.getBoundingClientRect();
    return { trial: m.getAttribute('data-trial'), x: r.left + r.width / 2, y: r.top + r.height / 2 };
  })()`);
  if (!point) throw new Error('no front point of run ' + run + ' in the page');
  const tip = "(() => { const t = document.querySelector('.tooltip');" +
              " return { shown: !!t && getComputedStyle(t).display !== 'none', text: t ? t.textContent : '' }; })()";
  const mouse = (type, x, y, extra) => page('Input.dispatchMouseEvent', Object.assign({ type, x, y }, extra || {}));

  await mouse('mouseMoved', point.x, point.y);
  const over = await value(tip);
  await mouse('mouseMoved', 2, 2);
  const away = await value(tip);
  await mouse('mouseMoved', point.x, point.y);
  await mouse('mousePressed', point.x, point.y, { button: 'left', clickCount: 1 });
  await mouse('mouseReleased', point.x, point.y, { button: 'left', clickCount: 1 });
  const clicked = await value(`({ hash: location.hash,
    selected: (document.getElementById('selected-trial') || { dataset: {} }).dataset.trial || null,
    marked: document.querySelectorAll('svg .selected').length })`);
  console.log(JSON.stringify({ run, trial: point.trial, tip_shown: over.shown, tip: over.text,
    tip_shown_after_leaving: away.shown, hash: clicked.hash, selected: clicked.selected,
    marked: clicked.marked, console: consoleLines }));
  finish(0);  // kills Chromium: its profile is the test's own temporary folder
}

main().catch((e) => finish(1, e.message));
