-- demo/queries.sql: example queries the demo prints with their output.
\dx stockext
SELECT count(*) AS bars, count(DISTINCT symbol) AS symbols, min(ts), max(ts) FROM stockext.ticks;

-- Ingestion: the worker, its feeds and the newest bars it stored, and the
-- bars of each feed kept out by another provider's differing ones.
SELECT pid, kind, database, state FROM stockext.worker_status() ORDER BY kind, database;
SELECT id, provider, symbols, resolution, poll_every, last_success, consecutive_failures, bars_stored, lag, idle_reason,
       conflicts, last_conflict
FROM stockext.feed_status;
-- This database is the live one (activated by its first feed): a restored,
-- template or base-backup copy of it stays quiet until stockext.activate().
SELECT database_name, host, activated_at, stockext.idle_reason() IS NULL AS live FROM stockext.activation;
-- Each provider's requests in the last 60 seconds and 24 hours (sliding
-- windows) against its limits (the simulated feed makes none).
SELECT * FROM stockext.provider_requests();
-- The newest bar of every series and its age, one row read per series.
SELECT symbol, resolution, ts, open, high, low, close, volume, age FROM stockext.latest_bars ORDER BY symbol, resolution;
-- Trading calendars: is the NYSE open, when it opens next, its sessions of
-- the coming week (holidays and 13:00 early closes from its rules), and the
-- calendar-aware IBM feed: why it is idle, the polls it skipped.
SELECT stockext.is_open('XNYS', now()) AS nyse_open, stockext.next_open('XNYS', now()) AS nyse_next_open;
SELECT * FROM stockext.sessions('XNYS', now(), now() + interval '7 days');
SELECT id, symbols, calendar, idle_reason, skipped_closed FROM stockext.feed_status WHERE calendar = 'XNYS';

-- Analytics: aggregates.  The last hour of 1-minute bars per symbol: 20-bar
-- and 15-minute moving averages, rolling volatility (annualized for US
-- equity minute bars), the 1-hour high-low range, VWAP.
SELECT symbol, ts, close,
       round(stockext.sma(close) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 19 PRECEDING AND CURRENT ROW)::numeric, 4) AS sma20,
       round(stockext.sma(close) OVER (PARTITION BY symbol ORDER BY ts RANGE BETWEEN '15 minutes' PRECEDING AND CURRENT ROW)::numeric, 4) AS sma_15min,
       round((stockext.volatility(close) OVER h * sqrt(252 * 390))::numeric, 4) AS vol_1h_annualized,
       round((stockext.mmax(high) OVER h - stockext.mmin(low) OVER h)::numeric, 4) AS range_1h,
       round(stockext.vwap((high + low + close) / 3, volume) OVER h::numeric, 4) AS vwap_1h
FROM stockext.ticks
WHERE resolution = '1 minute' AND ts > (SELECT max(ts) FROM stockext.ticks) - interval '1 hour'
WINDOW h AS (PARTITION BY symbol ORDER BY ts RANGE BETWEEN '1 hour' PRECEDING AND CURRENT ROW)
ORDER BY symbol, ts DESC
LIMIT 10;
-- 30-minute candles from 1-minute bars, and hourly candles rolled up from
-- them, with the times of each hour's high and low.
WITH half_hours AS (
    SELECT symbol, date_bin('30 minutes', ts, '2000-01-01') AS bucket,
           stockext.candle(ts, open, high, low, close, volume) AS c
    FROM stockext.ticks WHERE resolution = '1 minute' GROUP BY 1, 2)
SELECT symbol, hour, (r).open, (r).high, (r).low, (r).close, (r).volume,
       round((r).vwap::numeric, 4) AS vwap, (r).count AS bars,
       stockext.high_time(r), stockext.low_time(r)
FROM (SELECT symbol, date_bin('1 hour', bucket, '2000-01-01') AS hour, stockext.rollup(c) AS r
      FROM half_hours GROUP BY 1, 2) s
ORDER BY hour DESC, symbol
LIMIT 10;

-- Monthly bars in New York time (a calendar width), with the volatility of
-- the month's log returns and the time of its high kept as states.
SELECT stockext.add_rollup('bars_1mo', '1 month', time_zone => 'America/New_York',
                           metrics => ARRAY['volatility', 'high_low_times'])
WHERE NOT EXISTS (SELECT FROM stockext.rollup_widths WHERE width = '1 month');
SELECT symbol, bucket, open, close, n, round(stockext.volatility(returns)::numeric, 6) AS volatility,
       stockext.high_time(candle) AS high_at
FROM stockext.bars_1mo ORDER BY bucket DESC, symbol LIMIT 10;
-- Weekly (ISO weeks, from Monday 00:00) and quarterly bars of AAPL in New
-- York time: calendar widths too.
SELECT stockext.add_rollup('bars_1w', '7 days', time_zone => 'America/New_York')
WHERE NOT EXISTS (SELECT FROM stockext.rollup_widths WHERE width = '7 days');
SELECT stockext.add_rollup('bars_1q', '3 months', time_zone => 'America/New_York')
WHERE NOT EXISTS (SELECT FROM stockext.rollup_widths WHERE width = '3 months');
SELECT width, bucket, round(open::numeric, 2) AS open, round(high::numeric, 2) AS high,
       round(low::numeric, 2) AS low, round(close::numeric, 2) AS close, volume, n
FROM stockext.rollups WHERE symbol = 'AAPL' AND width IN ('7 days', '3 months') ORDER BY width, bucket;

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
-- Oscillators and trend on the same bars: slow stochastic (14, 3, 3),
-- Williams' %R(14), CCI(20), ADX(14) with its DIs, MFI(14), OBV, and the
-- 20-bar VWMA and 1-hour TWAP.
SELECT DISTINCT ON (symbol) symbol, ts,
       round((st).k::numeric, 2) AS stoch_k, round((st).d::numeric, 2) AS stoch_d,
       round(wr::numeric, 2) AS willr_14, round(cc::numeric, 2) AS cci_20,
       round((dm).adx::numeric, 2) AS adx_14, round((dm).plus_di::numeric, 2) AS plus_di,
       round((dm).minus_di::numeric, 2) AS minus_di, round(mf::numeric, 2) AS mfi_14, ob AS obv,
       round(vw::numeric, 2) AS vwma_20, round(tw::numeric, 2) AS twap_1h
FROM (SELECT symbol, ts,
             stockext.stoch(high, low, close) OVER w AS st, stockext.willr(high, low, close) OVER w AS wr,
             stockext.cci(high, low, close) OVER w AS cc, stockext.adx(high, low, close) OVER w AS dm,
             stockext.mfi(high, low, close, volume) OVER w AS mf, stockext.obv(close, volume) OVER w AS ob,
             stockext.vwma(close, volume) OVER (w ROWS 19 PRECEDING) AS vw,
             stockext.twap(ts, close) OVER (w RANGE BETWEEN '1 hour' PRECEDING AND CURRENT ROW) AS tw
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

-- Alerts: the rules, and the latest alerts fired on the live feed.  A rule
-- evaluates a bar once it has closed (forming bars only with on_forming),
-- and bars that land late (backfill, gap fill) are history: no alert.
SELECT id, condition, feed_id, symbol, bars, threshold, factor, cooldown, on_forming, on_history, max_age, adjust, skip_open,
       fired, last_fired
FROM stockext.alert_rule_list ORDER BY id;
SELECT fired_at, kind, symbol, bar_ts, round(observed::numeric, 4) AS observed, forming, message, delivery
FROM stockext.alerts ORDER BY id DESC LIMIT 10;
-- Evaluating now: alerts fired, bars skipped as history, bars still forming.
SELECT * FROM stockext.evaluate_alerts();
-- ASOF join: the bar in effect when each of the latest alerts fired (one
-- probe of the ticks key per alert).
SELECT a.fired_at, a.symbol, b.ts AS bar_in_effect, b.close
FROM stockext.alert_list a CROSS JOIN LATERAL stockext.asof(a.symbol, a.fired_at, a.resolution) b
ORDER BY a.fired_at DESC LIMIT 5;

-- Safety: bars sit on their resolution's grid, symbols are upper case, and
-- DROP EXTENSION is refused while bars are stored (caught here).
SELECT stockext.ts_problem('2026-12-06 23:33:02.77+00', '1 minute') AS off_grid;
SELECT count(*) AS bars_of_aapl FROM stockext.bars('aapl', '1 day', now() - interval '3 days', now());
DO $$
BEGIN
    DROP EXTENSION stockext;
EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'DROP EXTENSION stockext: %', SQLERRM;
END
$$;
-- Rollups: pg_cron refreshes them every minute (stockext:stockext:refresh).
SELECT jobname, schedule, command FROM cron.job WHERE jobname LIKE 'stockext:%' ORDER BY jobname;
SELECT * FROM stockext.refresh_rollups();
SELECT symbol, count(*) AS buckets, max(bucket) AS newest FROM stockext.bars_30m GROUP BY symbol ORDER BY symbol;
SELECT symbol, bucket, open, high, low, close, volume, round(vwap::numeric, 2) AS vwap, n
FROM stockext.bars_1h_live ORDER BY bucket DESC, symbol LIMIT 10;
-- A late bar: AAPL's bar of yesterday 12:07 UTC goes missing, then comes
-- in late, alone in its statement.  Its keys name it (bars = 1), so the
-- refresh adds it to the stored rows of its 30 minutes, hour, day, week,
-- month and quarter instead of reading their bars again (30 + 60 + 1,440
-- + ...); the day has its 1,440 bars.
CREATE TEMP TABLE late_bar AS
SELECT * FROM stockext.ticks
WHERE symbol = 'AAPL' AND resolution = '1 minute'
  AND ts = date_trunc('day', now(), 'UTC') - interval '11 hours 53 minutes';
DELETE FROM stockext.ticks t USING late_bar l WHERE t.symbol = l.symbol AND t.ts = l.ts AND t.resolution = l.resolution;
SELECT * FROM stockext.refresh_rollups();
SELECT stockext.upsert_bar(symbol, ts, resolution, open, high, low, close, volume, source) FROM late_bar;
SELECT width, bucket, since, bars FROM stockext.rollup_invalidations
WHERE symbol = 'AAPL' AND bucket < date_trunc('day', now(), 'UTC') ORDER BY width;
SELECT * FROM stockext.refresh_rollups();
SELECT bucket, n, open, close FROM stockext.bars_1d
WHERE symbol = 'AAPL' AND bucket = date_trunc('day', now(), 'UTC') - interval '1 day';
-- Gap-filled 30-minute bars of the last 6 hours: empty buckets carried
-- forward as a flat candle at the previous close.
SELECT * FROM stockext.bars(coalesce((SELECT symbol FROM stockext.ticks ORDER BY ts DESC LIMIT 1), 'AAPL'), '30 minutes',
                            date_bin('30 minutes', now(), '2000-01-03') - interval '6 hours', now(), 'previous');
-- Gap-filled 30-minute bars around the newest bar: buckets without bars
-- come back as a flat candle at the previous close, volume 0.
SELECT t.symbol, b.bucket, b.open, b.high, b.low, b.close, b.volume, b.n
FROM (SELECT symbol, date_bin('30 minutes', ts, '2000-01-03') AS last
      FROM stockext.ticks ORDER BY ts DESC, symbol LIMIT 1) t,
     stockext.bars(t.symbol, '30 minutes', t.last - interval '90 minutes', t.last + interval '90 minutes', 'previous') b;

-- BI: every indicator as a plain column (what Metabase or Grafana charts,
-- and the dashboard draws): 15-minute bars of the last hours, the first
-- rows' indicators warmed up on the bars before.
SELECT bucket, round(close::numeric, 2) AS close, round(sma::numeric, 2) AS sma_20,
       round(ema::numeric, 2) AS ema_20, round(rsi::numeric, 1) AS rsi_14,
       round(macd_histogram::numeric, 4) AS macd_hist, round(bb_upper::numeric, 2) AS bb_upper,
       volume_spike
FROM stockext.indicators('AAPL', '15 minutes', now() - interval '2 hours', now())
ORDER BY bucket DESC LIMIT 6;

-- Corporate actions: SPLT split 10 for 1 (simulated).  As traded its daily
-- close drops 90 % at the ex-date; split-adjusted it does not; bars are
-- stored as traded and adjusted when read.
SELECT symbol, ex_date, kind, split_from, split_to, source FROM stockext.corporate_actions;
SELECT x.bucket::date AS day, round(x.as_traded::numeric, 2) AS as_traded, round(x.adjusted::numeric, 2) AS split_adjusted
FROM stockext.corporate_actions a
CROSS JOIN LATERAL (
    SELECT b.bucket, b.close AS as_traded, s.close AS adjusted
    FROM stockext.bars(a.symbol, '1 day', a.ex_date - 3, a.ex_date + 3) b
    JOIN stockext.bars(a.symbol, '1 day', a.ex_date - 3, a.ex_date + 3, adjust => 'splits') s USING (bucket)) x
WHERE a.symbol = 'SPLT' ORDER BY x.bucket;
-- HTTP providers' splits and dividends are refetched on a schedule of their
-- own (none here: the simulated market reports none), and another
-- provider's bar never overwrites a stored one unless its provider is the
-- symbol's preferred one (disagreements: stockext.conflicts).
SELECT current_setting('stockext.actions_refresh_interval') AS actions_refresh_interval,
       current_setting('stockext.conflict_tolerance') AS conflict_tolerance;
SELECT provider, symbol, last_refresh, actions_stored, next_refresh_at, last_error_message FROM stockext.action_refreshes;
SELECT * FROM stockext.preferred_sources;
SELECT count(*) AS conflicts FROM stockext.conflicts;

-- Scale-out: this demo is one node; `make demo-citus` runs the same
-- pipeline with stockext.distribute() over a coordinator and two Citus
-- workers (bars, rollups and alert queue sharded by symbol, refreshed on
-- the nodes holding them).
SELECT stockext.is_distributed() AS distributed_over_citus;
