-- BI: stockext.indicators() as plain columns with its warm-up, and the
-- read-only role of stockext.grant_reader().
SET client_min_messages = warning;
SET timezone = 'UTC';
SET extra_float_digits = 0;

-- 1,000 minute bars of the simulated market, a 3-day gap (a long weekend),
-- then 200 more.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'RDR', ts, interval '1 minute', open, high, low, close, volume, 'test'
FROM stockext.simulate_bars('RDR', '2025-03-03 00:00Z', '2025-03-03 00:00Z'::timestamptz + interval '1000 minutes', '1 minute', 7)
UNION ALL
SELECT 'RDR', ts, interval '1 minute', open, high, low, close, volume, 'test'
FROM stockext.simulate_bars('RDR', '2025-03-07 00:00Z', '2025-03-07 00:00Z'::timestamptz + interval '200 minutes', '1 minute', 7);

-- The whole series computed directly with the window functions: what every
-- row of indicators() must equal, whatever its start.
CREATE TEMP TABLE full_series AS
SELECT ts, close,
       CASE WHEN count(*) OVER last20 = 20 THEN stockext.sma(close) OVER last20 END AS sma,
       stockext.ema(close, 20) OVER w AS ema, stockext.rsi(close) OVER w AS rsi,
       (stockext.macd(close) OVER w).line AS macd, (stockext.macd(close) OVER w).signal AS macd_signal,
       (stockext.macd(close) OVER w).histogram AS macd_histogram,
       (stockext.bbands(close) OVER w).middle AS bb_middle, (stockext.bbands(close) OVER w).upper AS bb_upper,
       (stockext.bbands(close) OVER w).lower AS bb_lower,
       stockext.volume_spike(volume::float8) OVER w AS volume_spike
FROM stockext.ticks WHERE symbol = 'RDR' AND resolution = '1 minute'
WINDOW w AS (ORDER BY ts), last20 AS (w ROWS BETWEEN 19 PRECEDING AND CURRENT ROW);

-- bars() at the stored resolution gives the bars themselves (it gave
-- nothing: it read only resolutions below the width).
SELECT count(*) AS bars, count(*) FILTER (WHERE (b.open, b.high, b.low, b.close, b.volume, b.n)
                                              = (t.open, t.high, t.low, t.close, t.volume, 1)) AS equal
FROM stockext.bars('RDR', '1 minute', '2025-03-03', '2025-03-08') b
JOIN stockext.ticks t ON t.symbol = 'RDR' AND t.ts = b.bucket;

-- Plain columns: timestamptz, float8, bigint, boolean; no composite.
SELECT pg_get_function_result('stockext.indicators'::regproc);

-- The warm-up: bars read before start for the default lengths (macd's
-- 24-bar lookback and the decay of its two EMAs: 24 + 269 + 94), and for
-- the finite windows alone.
SELECT stockext.indicator_warmup() AS defaults,
       stockext.indicator_warmup(50, 1, 1, 1, 1, 1, 1) AS sma_50_only,
       stockext.indicator_warmup(1, 1, 1, 1, 1, 1, 5) AS spike_5_only;

-- A window starting in the middle of the series: each value of every row
-- is the whole series' value (the finite windows exactly, the recursive
-- ones within 1e-9 of the price), from the first row on.
CREATE TEMP TABLE mid AS
SELECT * FROM stockext.indicators('RDR', '1 minute', '2025-03-03 10:00Z', '2025-03-03 11:00Z');
SELECT count(*) AS rows, min(bucket), max(bucket),
       count(*) FILTER (WHERE sma IS NULL OR rsi IS NULL OR macd IS NULL OR bb_upper IS NULL OR volume_spike IS NULL) AS rows_with_null
FROM mid;
SELECT count(*) FILTER (WHERE m.close = f.close AND m.sma = f.sma AND m.bb_middle = f.bb_middle
                          AND m.bb_upper = f.bb_upper AND m.bb_lower = f.bb_lower
                          AND m.volume_spike = f.volume_spike) AS finite_windows_equal,
       count(*) FILTER (WHERE abs(m.ema - f.ema) < 1e-9 * f.close AND abs(m.rsi - f.rsi) < 1e-9 * 100
                          AND abs(m.macd - f.macd) < 1e-9 * f.close
                          AND abs(m.macd_signal - f.macd_signal) < 1e-9 * f.close
                          AND abs(m.macd_histogram - f.macd_histogram) < 1e-9 * f.close) AS recursive_within_1e_9
FROM mid m JOIN full_series f ON f.ts = m.bucket;
-- The same window without the bars before start (what a plain query over
-- [start, stop) gives): its first rows have no rsi or macd yet.
SELECT count(*) FILTER (WHERE rsi IS NULL) AS rows_without_rsi, count(*) FILTER (WHERE macd IS NULL) AS rows_without_macd
FROM (SELECT stockext.rsi(close) OVER w AS rsi, (stockext.macd(close) OVER w).line AS macd
      FROM stockext.ticks WHERE symbol = 'RDR' AND ts >= '2025-03-03 10:00Z' AND ts < '2025-03-03 11:00Z'
      WINDOW w AS (ORDER BY ts)) s;

-- Right after the 3-day gap: the warm-up reaches back over it (the span
-- looked at grows until it holds the bars).
SELECT count(*) AS rows,
       count(*) FILTER (WHERE m.sma = f.sma AND m.bb_upper = f.bb_upper AND m.volume_spike = f.volume_spike
                          AND abs(m.ema - f.ema) < 1e-9 * f.close AND abs(m.rsi - f.rsi) < 1e-9 * 100
                          AND abs(m.macd_signal - f.macd_signal) < 1e-9 * f.close) AS equal_to_whole_series
FROM stockext.indicators('RDR', '1 minute', '2025-03-07 00:00Z', '2025-03-07 00:30Z') m
JOIN full_series f ON f.ts = m.bucket;

-- Near the start of the series there is less history than the warm-up:
-- everything there is, so the rows are exactly the whole series' (NULL
-- while an indicator warms up).
SELECT count(*) AS rows,
       count(*) FILTER (WHERE m.sma IS NOT DISTINCT FROM f.sma AND m.ema = f.ema AND m.rsi IS NOT DISTINCT FROM f.rsi
                          AND m.macd IS NOT DISTINCT FROM f.macd AND m.macd_signal IS NOT DISTINCT FROM f.macd_signal
                          AND m.bb_lower IS NOT DISTINCT FROM f.bb_lower
                          AND m.volume_spike IS NOT DISTINCT FROM f.volume_spike) AS exactly_equal,
       count(*) FILTER (WHERE m.rsi IS NULL) AS warming_rsi, count(*) FILTER (WHERE m.macd IS NULL) AS warming_macd
FROM stockext.indicators('RDR', '1 minute', '2025-03-03 00:10Z', '2025-03-03 01:00Z') m
JOIN full_series f ON f.ts = m.bucket;

-- Other lengths, and a rolled-up width: the OHLCV columns are bars()'s, the
-- 5-hour sma the mean of the last 5 hourly closes.
SELECT i.bucket, i.close = b.close AS close_is_bars, i.volume = b.volume AS volume_is_bars,
       round(i.sma::numeric, 6) = round((SELECT avg(c) FROM (SELECT b2.close AS c FROM stockext.bars('RDR', '1 hour', '2025-03-03', i.bucket + interval '1 hour') b2
                                                             ORDER BY b2.bucket DESC LIMIT 5) l)::numeric, 6) AS sma_5h,
       i.rsi IS NOT NULL AS has_rsi
FROM stockext.indicators('RDR', '1 hour', '2025-03-03 12:00Z', '2025-03-03 16:00Z', sma_n => 5, rsi_n => 3) i
JOIN stockext.bars('RDR', '1 hour', '2025-03-03 12:00Z', '2025-03-03 16:00Z') b USING (bucket)
ORDER BY 1;
-- A width that is not rolled up (7 minutes) and lower-case symbols.
SELECT count(*), count(sma) FROM stockext.indicators('rdr', '7 minutes', '2025-03-03 10:00Z', '2025-03-03 11:00Z', sma_n => 3);

-- Bad arguments, each with its reason.
\set VERBOSITY terse
SELECT * FROM stockext.indicators('NOPE', '1 minute', '2025-03-03', '2025-03-04');
SELECT * FROM stockext.indicators('RDR', '-1 minute', '2025-03-03', '2025-03-04');
SELECT * FROM stockext.indicators('RDR', '1 minute', '2025-03-04', '2025-03-03');
SELECT * FROM stockext.indicators('RDR', '1 second', '2025-01-01', '2026-01-01');
SELECT * FROM stockext.indicators('RDR', '1 minute', NULL, '2025-03-04');
SELECT * FROM stockext.indicators('RDR', '1 minute', '2025-03-03', '2025-03-04', sma_n => 0);
SELECT * FROM stockext.indicators('RDR', '1 minute', '2025-03-03', '2025-03-04', ema_n => 10001);
SELECT * FROM stockext.indicators('RDR', '1 minute', '2025-03-03', '2025-03-04', rsi_n => NULL);
SELECT * FROM stockext.indicators('RDR', '1 minute', '2025-03-03', '2025-03-04', fast_n => 30);
SELECT * FROM stockext.indicators('RDR', '1 minute', '2025-03-03', '2025-03-04', bb_k => -1);
SELECT * FROM stockext.indicators('RDR', '1 minute', '2025-03-03', '2025-03-04', spike_factor => 0);
\set VERBOSITY default

-- The read-only role.  grant_reader() is closed to PUBLIC and says what
-- it granted.
SELECT has_function_privilege('public', 'stockext.grant_reader(regrole)', 'EXECUTE') AS public_may_grant;
CREATE ROLE regress_reader;
SELECT * FROM stockext.grant_reader('regress_reader');
SELECT * FROM stockext.grant_reader('regress_reader');   -- safe to repeat
\set VERBOSITY terse
SELECT * FROM stockext.grant_reader('regress_nobody');
SELECT * FROM stockext.grant_reader(NULL);
\set VERBOSITY default
-- A superuser reads keys whatever it is granted: said, not hidden.
CREATE ROLE regress_super SUPERUSER;
SELECT * FROM stockext.grant_reader('regress_super');
DROP OWNED BY regress_super;
DROP ROLE regress_super;

-- What the reader may read: catalog view of the schema's relations.
SELECT c.relname, has_table_privilege('regress_reader', c.oid, 'SELECT') AS reads,
       has_table_privilege('regress_reader', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') AS writes
FROM pg_class c
WHERE c.relnamespace = 'stockext'::regnamespace AND c.relkind IN ('r', 'p', 'v')
  AND c.relname IN ('ticks', 'rollups', 'bars_1h', 'bars_1h_live', 'rollups_live', 'feed_status',
                    'alert_list', 'alert_rule_list', 'feeds', 'feed_keys', 'feed_state', 'webhooks',
                    'alerts', 'alert_rules', 'errors', 'rejects', 'raw_replies', 'activation')
ORDER BY c.relname;

-- A feed with a key, a rule with a webhook and an alert whose delivery
-- failed, as the reader sees them.
SELECT stockext.add_feed('twelvedata', ARRAY['RDR'], '5 minutes', '1 minute', 'reader-secret-key') AS feed \gset
SELECT stockext.pause_feed(:feed);
SELECT stockext.add_alert('pct_change', symbol => 'RDR', threshold => 1) AS rule \gset
SELECT stockext.set_alert_webhook(:rule, 'https://hooks.example/secret-token');
INSERT INTO stockext.alerts (kind, rule_id, symbol, resolution, bar_ts, observed, message, delivery, last_error)
VALUES ('alert', :rule, 'RDR', '1 minute', '2025-03-03 10:00Z', 1.5, 'RDR up 1.5%', 'failed',
        'Could not resolve host: hooks.example');

SET ROLE regress_reader;
SELECT count(*) AS bars, max(close) > 0 AS priced FROM stockext.ticks WHERE symbol = 'RDR';
SELECT count(*) > 0 AS hourly_rollups FROM stockext.bars_1h_live WHERE symbol = 'RDR';
SELECT count(*) AS bars_30m FROM stockext.bars('RDR', '30 minutes', '2025-03-03', '2025-03-04');
-- A width that is not rolled up is computed from the ticks with
-- rollup_select_list(), which the reader may run (it could not before).
SELECT count(*) AS bars_5m FROM stockext.bars('RDR', '5 minutes', '2025-03-03', '2025-03-04');
SELECT count(*) AS indicator_rows FROM stockext.indicators('RDR', '5 minutes', '2025-03-03 10:00Z', '2025-03-03 11:00Z');
SELECT provider, symbols, paused, has_api_key FROM stockext.feed_status WHERE id = :feed;
SELECT kind, condition, symbol, bar_ts, observed, message, delivery FROM stockext.alert_list WHERE rule_id = :rule;
SELECT condition, symbol, threshold, has_webhook FROM stockext.alert_rule_list WHERE id = :rule;
\set VERBOSITY terse
-- Nothing of keys or webhooks, nor the tables behind the views.
SELECT * FROM stockext.feed_keys;
SELECT * FROM stockext.webhooks;
SELECT last_error FROM stockext.alerts;
SELECT * FROM stockext.feeds;
SELECT * FROM stockext.errors;
SELECT url FROM stockext.due_deliveries('{}', 10);
-- And no write of any kind.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
VALUES ('RDR', '2025-03-10 00:00Z', '1 minute', 1, 1, 1, 1, 1, 'reader');
SELECT stockext.upsert_bar('RDR', '2025-03-10 00:00Z', '1 minute', 1, 1, 1, 1, 1);
UPDATE stockext.ticks SET close = close WHERE symbol = 'RDR';
DELETE FROM stockext.bars_1h WHERE symbol = 'RDR';
DELETE FROM stockext.alert_list;
SELECT stockext.refresh_rollups();
SELECT stockext.add_feed('simulated', ARRAY['X'], '1 minute', '1 minute');
SELECT stockext.set_api_key(:feed, 'stolen');
SELECT stockext.add_alert('pct_change', symbol => 'RDR', threshold => 1);
SELECT * FROM stockext.grant_reader('regress_reader');
CREATE TABLE stockext.mine (x int);
\set VERBOSITY default
RESET ROLE;

-- Clean up: the feed, the rule and its alert, the bars and their rollups.
SELECT stockext.remove_alert(:rule);
DELETE FROM stockext.alerts WHERE rule_id = :rule;
SELECT stockext.remove_feed(:feed);
DELETE FROM stockext.ticks WHERE symbol = 'RDR';
DELETE FROM stockext.rollup_invalidations WHERE symbol = 'RDR';
DROP OWNED BY regress_reader;
DROP ROLE regress_reader;
