// The dashboard in a real browser (test/suites/70-api): Debian's headless
// Chromium driven by playwright-core opens it on the simulated feed, waits
// for the chart, checks that the candles it shows are the API's bars of that
// window, that an alert fired during the test shows as a marker and in the
// alerts panel, saves a screenshot, and fails on any console error.
//
//   node browser.mjs BASE_URL SYMBOL WIDTH SCREENSHOT [SCREENSHOT...]
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(new URL('../../api/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const [base, symbol, width, ...shots] = process.argv.slice(2);
const ok = (what) => console.log(`ok - dashboard: ${what}`);
const nok = (what) => console.log(`not ok - dashboard: ${what}`);
const check = (what, cond, detail) => { (cond ? ok : nok)(cond || detail === undefined ? what : `${what} (${detail})`); return cond; };

const profile = mkdtempSync(join(tmpdir(), 'stockext-chromium-'));
// A fresh profile; without the background-networking flags Chromium keeps
// trying to reach Google's hosts, which this machine's network refuses.
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 720 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const consoleErrors = [];
const outside = [];
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  // Everything the page loads comes from the service.
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) outside.push(r.url()); });

  const url = `${base}/?symbol=${encodeURIComponent(symbol)}&width=${encodeURIComponent(width)}&bars=120&refresh=1000`;
  await page.goto(url);
  const ready = await page.waitForFunction(() => window.dashboard && window.dashboard.ready
    && window.dashboard.candles.data().length > 0, null, { timeout: 30000 }).then(() => true, () => false);
  check('the chart is drawn with candles of the chosen symbol and width', ready,
        await page.evaluate(() => window.dashboard && window.dashboard.lastError));
  const startId = await page.evaluate(() => Math.max(0, ...window.dashboard.alerts.map((a) => a.id)));

  // The candles shown are the API's bars of that window.  The newest may
  // still be forming (and change between the two reads): all but it.
  let same = false, detail = '';
  for (let attempt = 0; attempt < 3 && !same; attempt++) {
    const shown = await page.evaluate(() => window.dashboard.candles.data()
      .map((d) => ({ time: d.time, open: d.open, high: d.high, low: d.low, close: d.close })));
    const first = new Date(shown[0].time * 1000).toISOString();
    const last = new Date(shown[shown.length - 1].time * 1000).toISOString();
    const q = new URLSearchParams({ symbol, width, start: first, stop: last, limit: 5000 });
    const { bars } = await (await fetch(`${base}/api/bars?${q}`)).json();
    const api = bars.map((b) => ({ time: Date.parse(b.bucket) / 1000, open: b.open, high: b.high, low: b.low, close: b.close }));
    same = JSON.stringify(api) === JSON.stringify(shown.slice(0, -1)) && api.length >= 100;
    detail = `${api.length} API bars, ${shown.length - 1} shown`;
    if (!same) await page.waitForTimeout(1500);
  }
  check('the candles shown equal the API\'s bars for that window', same, detail);
  check('volume, SMA, EMA and RSI are drawn', await page.evaluate(() => ['volume', 'sma', 'ema', 'rsi']
    .every((k) => window.dashboard[k].data().length > 0)));

  // An alert fired during the test: a marker on its candle, and a line in
  // the alerts panel.
  const fired = await page.waitForFunction((after) => {
    const d = window.dashboard;
    const a = d.alerts.find((x) => x.id > after && x.kind === 'alert' && x.symbol === d.symbol);
    return a && d.markers.some((m) => m.id === String(a.id)) ? a.id : null;
  }, startId, { timeout: 60000, polling: 500 }).then((h) => h.jsonValue(), () => null);
  if (check('an alert fired during the test appears as a marker on the chart (within 60 s)', fired !== null)) {
    const where = await page.evaluate((id) => {
      const d = window.dashboard;
      const a = d.alerts.find((x) => x.id === id);
      const m = d.markers.find((x) => x.id === String(id));
      const times = d.candles.data().map((c) => c.time);
      const bar = Date.parse(a.bar_ts) / 1000;
      const holder = times.filter((t) => t <= bar).pop();
      return { marker: m.time, holder, panel: !!document.querySelector(`#alerts li[data-id="${id}"]`),
               text: document.querySelector(`#alerts li[data-id="${id}"]`)?.textContent || '', message: a.message };
    }, fired);
    check('the marker sits on the candle of the alert\'s bar', where.marker === where.holder, JSON.stringify(where));
    check('the alert is listed in the alerts panel', where.panel && where.text.includes(where.message), JSON.stringify(where));
  }
  check('the feeds panel shows the simulated feed with its lag',
        await page.evaluate(() => /simulated/.test(document.querySelector('#feeds tbody').textContent)
          && /\d+ s/.test(document.querySelector('#feeds tbody').textContent)));
  // Let the chart settle before the picture.
  await page.waitForTimeout(500);
  if (shots.length) {
    await page.screenshot({ path: shots[0] });
    shots.slice(1).forEach((s) => copyFileSync(shots[0], s));
    ok(`screenshot saved (${shots.join(', ')})`);
  }
  check('nothing loaded from outside the service', outside.length === 0, outside.join(' '));
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
check('no console error on the page', consoleErrors.length === 0, consoleErrors.join(' | '));
