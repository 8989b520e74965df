-- demo/queries.sql: example queries the demo prints with their output.
\dx stockext
SELECT count(*) AS bars, count(DISTINCT symbol) AS symbols, min(ts), max(ts) FROM stockext.ticks;
-- Analytics: window functions.  The latest indicators of each symbol's
-- one-minute series: RSI(14), MACD(12, 26, 9), Bollinger bands (20, 2),
-- ATR(14), EMA(20) and the half-life-15-minutes EMA.
SELECT DISTINCT ON (symbol) symbol, ts, round(close::numeric, 2) AS close,
       round(rsi::numeric, 2) AS rsi_14,
       round((macd).line::numeric, 4) AS macd, round((macd).signal::numeric, 4) AS signal,
       round((macd).histogram::numeric, 4) AS histogram,
       round((bb).lower::numeric, 2) AS bb_lower, round((bb).upper::numeric, 2) AS bb_upper,
       round(atr::numeric, 4) AS atr_14, round(ema20::numeric, 2) AS ema_20,
       round(ema_hl::numeric, 2) AS ema_15min_half_life
FROM (SELECT symbol, ts, close,
             stockext.rsi(close) OVER w AS rsi, stockext.macd(close) OVER w AS macd,
             stockext.bbands(close) OVER w AS bb, stockext.atr(high, low, close) OVER w AS atr,
             stockext.ema(close, 20) OVER w AS ema20,
             stockext.ema(close, ts, '15 minutes') OVER w AS ema_hl
      FROM stockext.ticks WHERE resolution = '1 minute'
      WINDOW w AS (PARTITION BY symbol ORDER BY ts)) q
ORDER BY symbol, ts DESC;
-- The five latest volume spikes (volume above twice the mean of the three
-- previous bars) with the price change over the bar and over 15 bars.
SELECT symbol, ts, volume, round(pct_1::numeric, 3) AS pct_change_1, round(pct_15::numeric, 3) AS pct_change_15
FROM (SELECT symbol, ts, volume,
             stockext.volume_spike(volume) OVER w AS spike,
             stockext.pct_change(close) OVER w AS pct_1,
             stockext.pct_change(close, 15) OVER w AS pct_15
      FROM stockext.ticks WHERE resolution = '1 minute'
      WINDOW w AS (PARTITION BY symbol ORDER BY ts)) q
WHERE spike
ORDER BY ts DESC, symbol
LIMIT 5;

-- Ingestion: the worker, its feeds and the newest bars it stored.
SELECT pid, kind, database, state FROM stockext.worker_status() ORDER BY kind, database;
SELECT id, provider, symbols, resolution, poll_every, last_success, consecutive_failures, bars_stored, lag
FROM stockext.feed_status;
SELECT DISTINCT ON (symbol) symbol, ts, open, high, low, close, volume
FROM stockext.ticks WHERE resolution = '1 minute' ORDER BY symbol, ts DESC;
