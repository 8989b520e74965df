-- Corporate actions: the table and its rules, split- and dividend-adjusted
-- reading (ticks_adjusted, adjustment_factor, bars(adjust => ...)) checked
-- by hand on NVDA's 2024 10-for-1 split and dividend, rolled-up widths
-- against rolling up the adjusted bars, alerts on a split day, and a
-- randomized cross-check against a plain-SQL recomputation.
SET client_min_messages = warning;
SET timezone = 'UTC';
-- The worker of this database evaluates alerts too: holding the lock they
-- take keeps it out until the end of the file.
SELECT pg_advisory_lock('stockext.alert_queue'::regclass::oid::bigint);

-- Each row is refused by the constraint named for its rule (terse: the
-- failing row holds fetched_at, now()).
\set VERBOSITY terse
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to) VALUES ('X', '2024-01-02', 'merger', 1, 2);
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to) VALUES ('X', '2024-01-02', 'split', 0, 2);
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to) VALUES ('X', '2024-01-02', 'split', 1, 'NaN');
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from) VALUES ('X', '2024-01-02', 'split', 1);
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind) VALUES ('X', '2024-01-02', 'dividend');
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to, cash_amount) VALUES ('X', '2024-01-02', 'split', 1, 2, 0.5);
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, cash_amount) VALUES ('X', '2024-01-02', 'dividend', -0.01);
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, cash_amount, split_to) VALUES ('X', '2024-01-02', 'dividend', 1, 2);
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, cash_amount, currency) VALUES ('X', '2024-01-02', 'dividend', 1, 'usd');
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, cash_amount) VALUES ('nvda', '2024-01-02', 'dividend', 1);
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, cash_amount) VALUES ('A B', '2024-01-02', 'dividend', 1);
-- A split and a dividend may share an ex-date; two splits may not.
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to) VALUES ('X', '2024-01-02', 'split', 1, 2);
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, cash_amount, currency) VALUES ('X', '2024-01-02', 'dividend', 0, 'USD');
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to) VALUES ('X', '2024-01-02', 'split', 1, 3);
\set VERBOSITY default
SELECT symbol, ex_date, kind, split_from, split_to, cash_amount, currency, source FROM stockext.corporate_actions;
DELETE FROM stockext.corporate_actions;
SELECT stockext.adjustment_factor('X', now(), 'some');

-- NVDA, daily bars as traded (closes as published; open, high and low
-- made up around them): 10-for-1 split with ex-date 2024-06-10, and the
-- quarterly dividend of 0.01 USD a share (post-split) with ex-date
-- 2024-06-11.
SELECT stockext.upsert_bar('NVDA', d::timestamptz, '1 day', o, h, l, c, v)
FROM (VALUES ('2024-06-06', 1224.88, 1233.00, 1195.00, 1209.98, 41300000),
             ('2024-06-07', 1197.70, 1216.92, 1180.22, 1208.88, 41200000),
             ('2024-06-10', 120.37, 123.10, 117.01, 121.79, 314200000),
             ('2024-06-11', 121.77, 122.87, 118.74, 120.91, 222600000),
             ('2024-06-12', 123.06, 126.88, 122.57, 125.20, 299600000)) AS b(d, o, h, l, c, v);
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to, cash_amount, currency, source)
VALUES ('NVDA', '2024-06-10', 'split', 1, 10, NULL, NULL, 'manual'),
       ('NVDA', '2024-06-11', 'dividend', NULL, NULL, 0.01, 'USD', 'manual');
-- By hand: before 2024-06-10 prices are divided by 10 and volumes
-- multiplied by 10.  The dividend factor is 1 - 0.01 / 121.79 (the close
-- before 2024-06-11) = 0.99991789145250...; adj_close of 2024-06-07 is
-- 1208.88 / 10 * 0.99991789145 = 120.878074...; 2024-06-11 on is as traded.
SELECT to_char(ts, 'YYYY-MM-DD') AS day, open, high, low, close, volume,
       round(adj_close::numeric, 6) AS adj_close,
       round(stockext.adjustment_factor(symbol, ts, 'splits')::numeric, 12) AS splits,
       round(stockext.adjustment_factor(symbol, ts)::numeric, 12) AS "all"
FROM stockext.ticks_adjusted WHERE symbol = 'NVDA' ORDER BY ts;
SELECT abs(adj_close - 1208.88 / 10 * (1 - 0.01 / 121.79)) < 1e-12 AS by_hand
FROM stockext.ticks_adjusted WHERE symbol = 'NVDA' AND ts = '2024-06-07';
-- adjust_price and adjust_volume are the factor's expressions in one call,
-- to the last bit, for each adjust; a NULL volume stays NULL (STRICT), a
-- symbol too long to be valid has no actions, an unknown adjust is refused.
SELECT a AS adjust, count(*) AS bars,
       count(*) FILTER (WHERE stockext.adjust_price(t.close, t.symbol, t.ts, a)
                              IS DISTINCT FROM t.close * stockext.adjustment_factor(t.symbol, t.ts, a)) AS price_differs,
       count(*) FILTER (WHERE stockext.adjust_volume(t.volume, t.symbol, t.ts)
                              IS DISTINCT FROM round(t.volume / stockext.adjustment_factor(t.symbol, t.ts, 'splits'))::bigint) AS volume_differs
FROM stockext.ticks t, unnest(ARRAY['none', 'splits', 'all']) a WHERE t.symbol = 'NVDA' GROUP BY a ORDER BY a;
SELECT stockext.adjust_volume(NULL, 'NVDA', '2024-06-07') AS null_volume,
       stockext.adjust_volume(25, 'NVDA', '2024-06-07') AS volume_250,
       stockext.adjust_price(2.5, repeat('N', 40), '2024-06-07') AS long_symbol;
SELECT stockext.adjust_price(1, 'NVDA', now(), 'dividends');
-- Actions are read once per query, never kept for the next one: a split
-- recorded between two statements of a transaction is in the second.
BEGIN;
SELECT stockext.adjust_price(100, 'NOACT', '2024-01-02', 'splits') AS before_split;
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to) VALUES ('NOACT', '2024-02-01', 'split', 1, 4);
SELECT stockext.adjust_price(100, 'NOACT', '2024-01-02', 'splits') AS after_split;
ROLLBACK;
-- More symbols than a call site's 64 slots, their bars alternating row by
-- row: each bar's split factor against the split written out.
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to)
SELECT 'SL' || i, '2024-03-01', 'split', 1, i FROM generate_series(1, 100) i;
SELECT count(*) AS bars, count(DISTINCT symbol) AS symbols,
       count(*) FILTER (WHERE f IS DISTINCT FROM CASE WHEN ts < '2024-03-01' THEN 1 / i::float8 ELSE 1 END) AS wrong
FROM (SELECT i, 'SL' || i AS symbol, d AS ts, stockext.adjust_price(1, 'SL' || i, d, 'splits') AS f
      FROM generate_series(timestamptz '2024-02-28', '2024-03-02', '1 day') d, generate_series(1, 100) i) x;
DELETE FROM stockext.corporate_actions WHERE symbol LIKE 'SL%';
-- bars() at 2 days, a width no rollup has: computed from the finest
-- resolution the symbol has in the range, here the daily bars.
SELECT to_char(bucket, 'YYYY-MM-DD') AS day, open, close, volume, round(vwap::numeric, 6) AS vwap,
       round(avg_close::numeric, 6) AS avg_close, n
FROM stockext.bars('nvda', '2 days', '2024-06-05', '2024-06-13', adjust => 'splits');
SELECT to_char(bucket, 'YYYY-MM-DD') AS day, round(open::numeric, 6) AS open, round(close::numeric, 6) AS close, volume
FROM stockext.bars('NVDA', '2 days', '2024-06-05', '2024-06-13', adjust => 'all');
SELECT to_char(bucket, 'YYYY-MM-DD') AS day, open, close, volume
FROM stockext.bars('NVDA', '2 days', '2024-06-05', '2024-06-13');
-- fill => 'previous' carries the adjusted close.
SELECT to_char(bucket, 'YYYY-MM-DD') AS day, open, close, volume, n
FROM stockext.bars('NVDA', '1 day 12 hours', '2024-06-07', '2024-06-11', fill => 'previous', adjust => 'splits');
SELECT * FROM stockext.bars('NVDA', '2 days', '2024-06-05', '2024-06-13', adjust => 'both');

-- Minute bars of SPL across a 2-for-1 split with ex-date 2024-03-05 and a
-- dividend of 0.5 with ex-date 2024-03-06: 2024-03-04 20:00 to 2024-03-06
-- 04:00 UTC, prices halve at midnight of the 5th.
SELECT count(stockext.upsert_bar('SPL', ts, '1 minute', p, p + 0.25, p - 0.25, p + 0.125, 100 + i))
FROM (SELECT ts, i, CASE WHEN ts < '2024-03-05' THEN 2 ELSE 1 END * (50 + (i % 17) * 0.5) AS p
      FROM generate_series(0, 32 * 60 - 1) i,
           LATERAL (SELECT timestamptz '2024-03-04 20:00' + i * interval '1 minute' AS ts) t) b;
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to, cash_amount, currency)
VALUES ('SPL', '2024-03-05', 'split', 1, 2, NULL, NULL), ('SPL', '2024-03-06', 'dividend', NULL, NULL, 0.5, 'USD');
SELECT count(*) AS buckets FROM stockext.refresh_rollups();

-- Rolling up the adjusted bars, written out: the candle of ticks_adjusted
-- (prices times the factor, volume divided by the splits factor) in each
-- bucket of the width's alignment.
CREATE FUNCTION pg_temp.rolled_up(w interval, adj text)
RETURNS TABLE (bucket timestamptz, open float8, high float8, low float8, close float8,
               volume bigint, vwap float8, avg_close float8, n integer)
LANGUAGE sql AS $$
    SELECT b.bucket, (c).open, (c).high, (c).low, (c).close, (c).volume::bigint, (c).vwap, b.avg_close, (c).count::integer
    FROM (SELECT stockext.rollup_bucket(a.ts, w, coalesce(r.origin, '2000-01-03'), coalesce(r.time_zone, 'UTC')) AS bucket,
                 stockext.candle(a.ts, a.open * a.f, a.high * a.f, a.low * a.f, a.close * a.f, a.volume) AS c,
                 avg(a.close * a.f) AS avg_close
          FROM (SELECT t.ts, t.open, t.high, t.low, t.close, t.volume,
                       CASE WHEN adj = 'all' THEN t.adj_close / t.close ELSE 1 END AS f
                FROM stockext.ticks_adjusted t
                WHERE t.symbol = 'SPL' AND t.resolution = '1 minute') a
          LEFT JOIN stockext.rollup_widths r ON r.width = w
          GROUP BY 1) b
$$;
-- How many buckets bars() returns and how many differ from rolling up
-- the adjusted bars by more than 1e-9 relative (or in volume or n), at
-- rolled-up widths (30 minutes, 1 hour, 1 day: the bucket's row times
-- its factor) and others (5 minutes, 2 hours: from the bars).
CREATE FUNCTION pg_temp.mismatches(w interval, adj text, OUT buckets bigint, OUT wrong bigint)
LANGUAGE sql AS $$
    SELECT count(*), count(*) FILTER (WHERE r.bucket IS NULL
           OR abs(b.open - r.open) > 1e-9 * r.open OR abs(b.high - r.high) > 1e-9 * r.high
           OR abs(b.low - r.low) > 1e-9 * r.low OR abs(b.close - r.close) > 1e-9 * r.close
           OR abs(b.vwap - r.vwap) > 1e-9 * r.vwap OR abs(b.avg_close - r.avg_close) > 1e-9 * r.avg_close
           OR b.volume <> r.volume OR b.n <> r.n)
    FROM stockext.bars('SPL', w, '2024-03-04', '2024-03-07', adjust => adj) b
    LEFT JOIN pg_temp.rolled_up(w, adj) r ON r.bucket = b.bucket
$$;
SELECT extract(epoch FROM w)::integer / 60 AS minutes, a AS adjust, (m).buckets, (m).wrong
FROM unnest(ARRAY['5 minutes', '30 minutes', '1 hour', '2 hours', '1 day']::interval[]) AS w,
     unnest(ARRAY['splits', 'all']) AS a,
     LATERAL (SELECT pg_temp.mismatches(w, a) AS m) x
ORDER BY 1, 2;
-- The hour across the split, adjusted and not: 23:00 on the 4th is the
-- last before it, at half its traded price and twice its volume.
SELECT a AS adjust, to_char(bucket, 'MM-DD HH24:MI') AS bucket, open, high, low, close, volume, n
FROM unnest(ARRAY['none', 'splits']) AS a,
     stockext.bars('SPL', '1 hour', '2024-03-04 23:00', '2024-03-05 01:00', adjust => a)
ORDER BY 1, 2;
-- Filled and adjusted from the rolled-up rows: the same hours as above;
-- past the last bar (03:59 on the 6th), the 30-minute buckets carry its
-- close.
SELECT to_char(bucket, 'MM-DD HH24:MI') AS bucket, open, close, volume, n
FROM stockext.bars('SPL', '1 hour', '2024-03-04 23:00', '2024-03-05 01:00', fill => 'previous', adjust => 'splits');
SELECT to_char(bucket, 'MM-DD HH24:MI') AS bucket, open, close, volume, n
FROM stockext.bars('SPL', '30 minutes', '2024-03-06 03:00', '2024-03-06 05:00', fill => 'previous', adjust => 'all');
-- Hours aligned to :30 put the ex-date inside a bucket (23:30 to 00:30):
-- its bars are read on both bases, and the width's adjusted bars are
-- rolled up instead of its rows.
SELECT stockext.set_rollup_alignment('1 hour', '2000-01-03 00:30') > 0 AS realigned;
SELECT a AS adjust, (pg_temp.mismatches('1 hour', a)).* FROM unnest(ARRAY['splits', 'all']) AS a;
SELECT to_char(bucket, 'MM-DD HH24:MI') AS bucket, open, high, low, close, volume, n
FROM stockext.bars('SPL', '1 hour', '2024-03-04 23:30', '2024-03-05 00:31', adjust => 'splits');
SELECT stockext.set_rollup_alignment('1 hour', '2000-01-03 00:00') > 0 AS realigned;

-- Alerts on daily bars of SPA, 2-for-1 split with ex-date 2024-03-06:
-- pct_change down 10 % over a bar and volume_spike (2 bars, 2x), each
-- adjusted (the default) and as traded.
--   as traded  100    102    51.5   51     40.8   volumes 1000 1000 2100 2100 2100
--   adjusted    50     51    51.5   51     40.8   volumes 2000 2000 2100 2100 2100
-- The split day's halving and doubled volume fire only the as-traded
-- rules; the real 20 % drop on the 8th fires both pct_change rules.
SELECT stockext.add_alert('pct_change', 'SPA', resolution => '1 day', direction => 'down', threshold => 10,
                          on_history => true) AS r_pct \gset
SELECT stockext.add_alert('pct_change', 'SPA', resolution => '1 day', direction => 'down', threshold => 10,
                          on_history => true, adjust => 'none') AS r_pct_raw \gset
SELECT stockext.add_alert('volume_spike', 'SPA', resolution => '1 day', bars => 2, on_history => true) AS r_spike \gset
SELECT stockext.add_alert('volume_spike', 'SPA', resolution => '1 day', bars => 2, on_history => true,
                          adjust => 'none') AS r_spike_raw \gset
SELECT stockext.add_alert('pct_change', 'SPA', threshold => 10, adjust => 'some');
SELECT condition, adjust FROM stockext.alert_rules WHERE symbol = 'SPA' ORDER BY id;
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to) VALUES ('SPA', '2024-03-06', 'split', 1, 2);
SELECT count(stockext.upsert_bar('SPA', d::timestamptz, '1 day', c, c, c, c, v))
FROM (VALUES ('2024-03-04', 100, 1000), ('2024-03-05', 102, 1000), ('2024-03-06', 51.5, 2100),
             ('2024-03-07', 51, 2100), ('2024-03-08', 40.8, 2100)) AS b(d, c, v);
SELECT fired FROM stockext.evaluate_alerts();
SELECT r.condition, r.adjust, to_char(a.bar_ts, 'YYYY-MM-DD') AS bar, round(a.observed::numeric, 4) AS observed
FROM stockext.alerts a JOIN stockext.alert_rules r ON r.id = a.rule_id
WHERE r.symbol = 'SPA' ORDER BY r.id, a.bar_ts;
SELECT stockext.remove_alert(id) FROM stockext.alert_rules WHERE symbol = 'SPA';

-- The simulated market's split: SIMS's simulated bars before the ex-date
-- go on the as-traded basis (4 for 1: prices times 4, volumes divided by
-- 4); split-adjusted, they are the walk again.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'SIMS', ts, '1 hour', open, high, low, close, volume, 'simulated'
FROM stockext.simulate_bars('SIMS', '2024-05-01', '2024-05-05', '1 hour');
SELECT stockext.simulate_split('sims', '2024-05-03', 4) AS changed;
SELECT stockext.simulate_split('SIMS', '2024-05-03', 2);
SELECT symbol, ex_date, kind, split_from, split_to, source FROM stockext.corporate_actions WHERE symbol = 'SIMS';
SELECT count(*) AS bars,
       count(*) FILTER (WHERE abs(t.close - w.close * CASE WHEN t.ts < '2024-05-03' THEN 4 ELSE 1 END) > 1e-9 * t.close) AS as_traded_wrong,
       count(*) FILTER (WHERE abs(a.close - w.close) > 1e-9 * w.close OR abs(a.high - w.high) > 1e-9 * w.high
                           OR abs(a.volume - w.volume) > 2) AS adjusted_not_walk
FROM stockext.simulate_bars('SIMS', '2024-05-01', '2024-05-05', '1 hour') w
JOIN stockext.ticks t ON t.symbol = 'SIMS' AND t.ts = w.ts
JOIN stockext.ticks_adjusted a ON a.symbol = 'SIMS' AND a.ts = w.ts;

-- Randomized cross-check: 10,000 hourly bars of 5 symbols with random
-- splits (1 for 2 to 10) and dividends on random dates, against a
-- plain-SQL recomputation (sums of logarithms over the later actions, the
-- previous close looked up per dividend) at 1e-9 relative.
SELECT setseed(0.13);
CREATE TEMP TABLE rnd AS
SELECT 'RND' || s AS symbol, timestamptz '2023-01-02' + i * interval '1 hour' AS ts,
       20 + 80 * random() AS p, (random() * 10000)::bigint AS v
FROM generate_series(1, 5) s, generate_series(0, 1999) i;
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT symbol, ts, '1 hour', p, p * 1.01, p * 0.99, p * 1.005, v, 'test' FROM rnd;
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to, cash_amount, currency)
SELECT DISTINCT ON (symbol, d, kind) symbol, d, kind,
       CASE WHEN kind = 'split' THEN 1 END, CASE WHEN kind = 'split' THEN 2 + floor(random() * 9) END,
       CASE WHEN kind = 'dividend' THEN round((random() * 3)::numeric, 4) END, NULL
FROM (SELECT 'RND' || s AS symbol, date '2023-01-01' + floor(random() * 90)::integer AS d,
             CASE WHEN random() < 0.3 THEN 'split' ELSE 'dividend' END AS kind
      FROM generate_series(1, 5) s, generate_series(1, 12) k) a;
SELECT kind, count(*) FROM stockext.corporate_actions WHERE symbol LIKE 'RND%' GROUP BY 1 ORDER BY 1;
CREATE TEMP TABLE expected AS
WITH a AS (
    SELECT a.symbol, a.kind, a.ex_date::timestamp AT TIME ZONE 'UTC' AS cutoff,
           a.split_from::float8 / a.split_to::float8 AS ratio, a.cash_amount::float8 AS cash,
           (SELECT t.close FROM stockext.ticks t
            WHERE t.symbol = a.symbol AND t.ts < a.ex_date::timestamp AT TIME ZONE 'UTC'
            ORDER BY t.ts DESC LIMIT 1) AS prev
    FROM stockext.corporate_actions a WHERE a.symbol LIKE 'RND%'
)
SELECT t.symbol, t.ts, t.open, t.high, t.low, t.close, t.volume,
       exp(coalesce((SELECT sum(ln(a.ratio)) FROM a
                     WHERE a.symbol = t.symbol AND a.kind = 'split' AND a.cutoff > t.ts), 0)) AS sf,
       exp(coalesce((SELECT sum(ln(1 - a.cash / a.prev)) FROM a
                     WHERE a.symbol = t.symbol AND a.kind = 'dividend' AND a.cutoff > t.ts AND a.cash < a.prev), 0)) AS df
FROM stockext.ticks t WHERE t.symbol LIKE 'RND%';
SELECT count(*) AS bars, count(*) FILTER (WHERE e.sf <> 1) AS split_adjusted, count(*) FILTER (WHERE e.df <> 1) AS dividend_adjusted,
       count(*) FILTER (WHERE abs(x.open - e.open * e.sf) > 1e-9 * e.open * e.sf
                           OR abs(x.high - e.high * e.sf) > 1e-9 * e.high * e.sf
                           OR abs(x.low - e.low * e.sf) > 1e-9 * e.low * e.sf
                           OR abs(x.close - e.close * e.sf) > 1e-9 * e.close * e.sf
                           OR x.volume <> round(e.volume / e.sf)
                           OR abs(x.adj_close - e.close * e.sf * e.df) > 1e-9 * e.close * e.sf * e.df) AS wrong
FROM expected e JOIN stockext.ticks_adjusted x USING (symbol, ts);
-- bars(adjust => 'all') at 6 hours against the recomputed bars rolled up.
SELECT count(*) AS buckets,
       count(*) FILTER (WHERE r.bucket IS NULL
           OR abs(b.open - r.open) > 1e-9 * r.open OR abs(b.high - r.high) > 1e-9 * r.high
           OR abs(b.low - r.low) > 1e-9 * r.low OR abs(b.close - r.close) > 1e-9 * r.close
           OR abs(b.vwap - r.vwap) > 1e-9 * r.vwap OR abs(b.avg_close - r.avg_close) > 1e-9 * r.avg_close
           OR b.volume <> r.volume OR b.n <> r.n) AS wrong
FROM generate_series(1, 5) s
CROSS JOIN LATERAL stockext.bars('RND' || s, '6 hours', '2023-01-01', '2023-04-01', adjust => 'all') b
LEFT JOIN (SELECT symbol, date_bin('6 hours', ts, '2000-01-03') AS bucket,
                  (array_agg(open * sf * df ORDER BY ts))[1] AS open, max(high * sf * df) AS high,
                  min(low * sf * df) AS low, (array_agg(close * sf * df ORDER BY ts DESC))[1] AS close,
                  sum(round(volume / sf))::bigint AS volume,
                  sum((high + low + close) * sf * df / 3 * round(volume / sf)) / sum(round(volume / sf)) AS vwap,
                  avg(close * sf * df) AS avg_close, count(*)::integer AS n
           FROM expected GROUP BY 1, 2) r ON r.symbol = 'RND' || s AND r.bucket = b.bucket;

SET client_min_messages = warning;
DELETE FROM stockext.ticks WHERE symbol IN ('NVDA', 'SPL', 'SPA', 'SIMS') OR symbol LIKE 'RND%';
DELETE FROM stockext.corporate_actions;
SELECT count(*) >= 0 AS refreshed FROM stockext.refresh_rollups();
SELECT pg_advisory_unlock('stockext.alert_queue'::regclass::oid::bigint);
