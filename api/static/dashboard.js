// stockext's live dashboard: candles, volume, SMA/EMA, RSI and alert
// markers of one symbol and width from the read-only API, refreshed every
// few seconds as the worker stores bars; feeds and alerts beside it; alerts
// arrive live over Server-Sent Events.  window.dashboard exposes the state
// (the browser test reads it).
'use strict';
(() => {
  const LC = window.LightweightCharts;
  const params = new URLSearchParams(location.search);
  const BARS = Math.min(Number(params.get('bars')) || 300, 5000);
  const REFRESH_MS = Number(params.get('refresh')) || 2000;
  const $ = (id) => document.getElementById(id);
  const state = window.dashboard = {
    ready: false, symbol: null, width: params.get('width') || '1 minute',
    alerts: [], markers: [], refreshes: 0, lastError: null,
  };

  const chart = LC.createChart($('chart'), {
    autoSize: true,
    layout: { background: { color: '#ffffff' }, textColor: '#333', panes: { separatorColor: '#ddd' } },
    timeScale: { timeVisible: true, secondsVisible: false },
    grid: { vertLines: { color: '#f3f3f3' }, horzLines: { color: '#f3f3f3' } },
  });
  const candles = chart.addSeries(LC.CandlestickSeries, {});
  const volume = chart.addSeries(LC.HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' }, color: '#94a3b8' });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  const sma = chart.addSeries(LC.LineSeries, { color: '#2563eb', lineWidth: 1, priceLineVisible: false, lastValueVisible: false });
  const ema = chart.addSeries(LC.LineSeries, { color: '#f59e0b', lineWidth: 1, priceLineVisible: false, lastValueVisible: false });
  const rsi = chart.addSeries(LC.LineSeries, { color: '#7c3aed', lineWidth: 1, priceLineVisible: false }, 1);
  rsi.createPriceLine({ price: 70, color: '#aaa', lineStyle: LC.LineStyle.Dashed, axisLabelVisible: false });
  rsi.createPriceLine({ price: 30, color: '#aaa', lineStyle: LC.LineStyle.Dashed, axisLabelVisible: false });
  chart.panes()[1].setStretchFactor(0.3);
  const markers = LC.createSeriesMarkers(candles, []);
  Object.assign(state, { chart, candles, volume, sma, ema, rsi, markersPlugin: markers });

  const epoch = (iso) => Math.floor(Date.parse(iso) / 1000);
  const api = async (path) => {
    const r = await fetch(path);
    const body = await r.json();
    if (!r.ok) throw new Error(`${path}: ${body.error || r.status}`);
    return body;
  };
  const status = (text) => { $('status').textContent = text; };
  const text = (tag, s, cls) => { const e = document.createElement(tag); e.textContent = s; if (cls) e.className = cls; return e; };

  // Candles and indicators: the whole window on a change of symbol or
  // width, then only the newest rows (update() takes the last bar again
  // while it forms).
  let lastTime = null;
  async function refresh(full) {
    const q = new URLSearchParams({ symbol: state.symbol, width: state.width, limit: BARS, ema_n: 50 });
    const { rows } = await api(`/api/indicators?${q}`);
    const c = rows.map((r) => ({ time: epoch(r.bucket), open: r.open, high: r.high, low: r.low, close: r.close }));
    const v = rows.map((r) => ({ time: epoch(r.bucket), value: r.volume ?? 0, color: r.volume_spike ? '#dc2626' : '#94a3b8' }));
    const line = (k) => rows.filter((r) => r[k] !== null).map((r) => ({ time: epoch(r.bucket), value: r[k] }));
    if (full || lastTime === null) {
      candles.setData(c); volume.setData(v);
      sma.setData(line('sma')); ema.setData(line('ema')); rsi.setData(line('rsi'));
      chart.timeScale().scrollToRealTime();
    } else {
      const fresh = (p) => p.time >= lastTime;
      c.filter(fresh).forEach((p) => candles.update(p));
      v.filter(fresh).forEach((p) => volume.update(p));
      line('sma').filter(fresh).forEach((p) => sma.update(p));
      line('ema').filter(fresh).forEach((p) => ema.update(p));
      line('rsi').filter(fresh).forEach((p) => rsi.update(p));
    }
    if (c.length) lastTime = c[c.length - 1].time;
    placeMarkers();
    state.refreshes++;
  }

  // An alert's marker sits on the candle holding its bar.
  function placeMarkers() {
    const times = candles.data().map((d) => d.time);
    if (!times.length) return;
    const seen = new Set();
    state.markers = [];
    for (const a of state.alerts) {
      if (a.kind !== 'alert' || a.symbol !== state.symbol || !a.bar_ts || seen.has(a.id)) continue;
      const t = epoch(a.bar_ts);
      let lo = 0, hi = times.length - 1;
      if (t < times[0]) continue;
      while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (times[mid] <= t) lo = mid; else hi = mid - 1; }
      seen.add(a.id);
      state.markers.push({ time: times[lo], position: 'aboveBar', color: '#dc2626', shape: 'arrowDown',
                           text: a.condition || 'alert', id: String(a.id) });
    }
    state.markers.sort((x, y) => x.time - y.time);
    markers.setMarkers(state.markers);
  }

  function addAlert(a, top) {
    if (state.alerts.some((x) => x.id === a.id)) return;
    if (top) state.alerts.unshift(a); else state.alerts.push(a);
    const li = text('li', a.message, a.kind === 'alert' ? 'alert' : 'feed');
    li.dataset.id = a.id;
    li.prepend(text('time', new Date(a.fired_at || Date.now()).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'));
    if (top) $('alerts').prepend(li); else $('alerts').append(li);
  }

  async function loadAlerts() {
    $('alerts').replaceChildren();
    state.alerts = [];
    const { alerts } = await api('/api/alerts?limit=200');
    alerts.forEach((a) => addAlert(a, false));
    placeMarkers();
  }

  async function loadFeeds() {
    const { feeds } = await api('/api/feeds');
    const rows = feeds.map((f) => {
      const tr = document.createElement('tr');
      const st = f.idle_reason ? ['idle', f.idle_reason] : f.paused ? ['paused', 'paused']
        : f.consecutive_failures > 0 ? ['failing', `failing (${f.consecutive_failures})`] : ['ok', 'ok'];
      tr.append(text('td', `${f.id} ${f.provider}`), text('td', f.symbols.join(' ')), text('td', st[1], st[0]),
                text('td', f.lag === null ? '–' : `${Math.round(f.lag)} s`), text('td', f.last_error_message || ''));
      return tr;
    });
    $('feeds').tBodies[0].replaceChildren(...rows);
    state.feeds = feeds;
  }

  function listen() {
    const es = new EventSource('/api/alerts/stream');
    // The payload lacks the rule's condition and the firing time: the
    // list's row has them.
    es.addEventListener('alert', async (e) => {
      const p = JSON.parse(e.data);
      let row = { id: p.id, kind: p.kind, symbol: p.symbol, bar_ts: p.bar_ts, message: p.message, condition: null };
      try {
        const { alerts } = await api(`/api/alerts?after=${p.id - 1}&before=${p.id + 1}`);
        if (alerts.length) row = alerts[0];
      } catch (err) { state.lastError = String(err); }
      addAlert(row, true);
      placeMarkers();
    });
    es.onopen = () => { state.streaming = true; };
    state.eventSource = es;
  }

  async function tick() {
    try {
      await Promise.all([refresh(false), loadFeeds()]);
      status(`live · updated ${new Date().toISOString().slice(11, 19)} UTC`);
      state.lastError = null;
    } catch (err) {
      state.lastError = String(err);
      status(`error: ${err.message}`);
    }
    setTimeout(tick, REFRESH_MS);
  }

  async function start() {
    const { symbols } = await api('/api/symbols');
    for (const s of symbols) $('symbol').append(new Option(s.symbol, s.symbol));
    state.symbol = symbols.some((s) => s.symbol === params.get('symbol')) ? params.get('symbol') : symbols[0]?.symbol;
    if (!state.symbol) { status('no bars stored yet'); return; }
    $('symbol').value = state.symbol;
    if (![...$('width').options].some((o) => o.value === state.width)) $('width').append(new Option(state.width, state.width));
    $('width').value = state.width;
    const change = async () => {
      state.symbol = $('symbol').value; state.width = $('width').value; lastTime = null;
      await refresh(true);
    };
    $('symbol').addEventListener('change', change);
    $('width').addEventListener('change', change);
    await Promise.all([loadAlerts(), loadFeeds()]);
    await refresh(true);
    listen();
    state.ready = true;
    status('live');
    setTimeout(tick, REFRESH_MS);
  }
  start().catch((err) => { state.lastError = String(err); status(`error: ${err.message}`); });
})();
