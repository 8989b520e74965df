-- candle(ts, price, volume), candle(ts, open, high, low, close, volume), rollup(candle).
SET client_min_messages = warning;
SET timezone = 'UTC';
SET extra_float_digits = 0;

CREATE TEMP TABLE trades (ts timestamptz, price float8, volume float8);
INSERT INTO trades VALUES
    ('2026-11-20 14:30:00', 10.0, 100),
    ('2026-11-20 14:30:00', 9.5, 10),     -- ties the earliest ts: the lower price opens
    ('2026-11-20 14:31:00', 12.0, 50),
    ('2026-11-20 14:32:00', 11.0, 5),
    ('2026-11-20 14:32:00', 11.25, 5),    -- ties the latest ts: the higher price closes
    ('2026-11-20 14:31:30', NULL, 1000),  -- no price: skipped
    (NULL, 99.0, 1000),                   -- no ts: skipped
    ('2026-11-20 14:31:45', 10.5, NULL);  -- no volume: a price, no volume

\x on
SELECT (stockext.candle(ts, price, volume)).* FROM trades;
\x off

-- Arrival order never matters, ties included.
SELECT stockext.candle(ts, price, volume ORDER BY price) = stockext.candle(ts, price, volume ORDER BY price DESC) AS same_either_order,
       stockext.candle(ts, price, volume ORDER BY ts, price DESC) = stockext.candle(ts, price, volume ORDER BY ts DESC, price) AS same_reversed
FROM trades;

-- vwap = sum(price * volume) / sum(volume) over the rows with both.
SELECT (c).vwap = (10.0*100 + 9.5*10 + 12*50 + 11*5 + 11.25*5) / 170 AS vwap_ok,
       (c).turnover = 10.0*100 + 9.5*10 + 12*50 + 11*5 + 11.25*5 AS turnover_ok
FROM (SELECT stockext.candle(ts, price, volume) AS c FROM trades) s;

-- Empty input, only NULLs, one row, no volume at all.
SELECT stockext.candle(ts, price, volume) IS NULL AS empty_is_null FROM trades WHERE false;
SELECT stockext.candle(ts, price, volume) IS NULL AS nulls_only_is_null FROM trades WHERE price IS NULL OR ts IS NULL;
SELECT (stockext.candle('2026-11-20 14:30', 7.5, 3)).*;
SELECT (c).volume IS NULL AS no_volume, (c).vwap IS NULL AS no_vwap, (c).turnover IS NULL AS no_turnover, (c).count
FROM (SELECT stockext.candle(ts, price, NULL) AS c FROM trades) s;
-- A zero volume sum has no vwap.
SELECT (stockext.candle(ts, p, v)).vwap IS NULL AS zero_volume_no_vwap
FROM (VALUES ('2026-11-20 14:30'::timestamptz, 10.0::float8, 5.0::float8), ('2026-11-20 14:31', 11, -5)) t(ts, p, v);

-- The bar form: open of the earliest bar (ties: lowest open), close of the
-- latest (ties: highest close), highest high, lowest low, volume traded at
-- the typical price (high + low + close) / 3.
CREATE TEMP TABLE bars (ts timestamptz, o float8, h float8, l float8, c float8, v float8);
INSERT INTO bars VALUES
    ('2026-11-20 14:30', 100, 101, 99, 100.5, 1000),
    ('2026-11-20 14:30', 100.2, 100.8, 99.9, 100.1, 10),
    ('2026-11-20 14:31', 100.5, 102, 100, 101.5, 2000),
    ('2026-11-20 14:32', 101.5, 101.6, 98, 99, 500),
    ('2026-11-20 14:32', 101, 101.2, 100.9, 101.1, 1),
    ('2026-11-20 14:33', NULL, 200, 1, 150, 9999);   -- missing open: skipped
\x on
SELECT (stockext.candle(ts, o, h, l, c, v)).* FROM bars;
\x off
SELECT (x).vwap = ((101+99+100.5)/3*1000 + (100.8+99.9+100.1)/3*10 + (102+100+101.5)/3*2000
                   + (101.6+98+99)/3*500 + (101.2+100.9+101.1)/3*1) / 3511 AS typical_price_vwap
FROM (SELECT stockext.candle(ts, o, h, l, c, v) AS x FROM bars) s;

-- NaN sorts above every number (as in max/min): it is the high, never the
-- low; a NaN or infinite volume makes volume, turnover and vwap NaN.
SELECT (c).open, (c).high, (c).low, (c).close, (c).volume, (c).vwap, (c).turnover
FROM (SELECT stockext.candle(ts, p, v) AS c
      FROM (VALUES ('2026-11-20 14:30'::timestamptz, 1.0::float8, 1.0::float8),
                   ('2026-11-20 14:31', 'NaN', 1),
                   ('2026-11-20 14:32', 2, 1)) t(ts, p, v)) s;
SELECT (c).high, (c).low, (c).volume, (c).vwap
FROM (SELECT stockext.candle(ts, p, v) AS c
      FROM (VALUES ('2026-11-20 14:30'::timestamptz, 1.0::float8, 'Infinity'::float8),
                   ('2026-11-20 14:31', 'Infinity', 1),
                   ('2026-11-20 14:32', '-Infinity', 1)) t(ts, p, v)) s;
-- -0 and +0 tie in SQL; the order puts -0 first, so it opens and +0 closes.
SELECT (c).open, (c).close
FROM (SELECT stockext.candle(ts, p, 1 ORDER BY p DESC) AS c
      FROM (VALUES ('2026-11-20 14:30'::timestamptz, '-0'::float8), ('2026-11-20 14:30', 0)) t(ts, p)) s;

-- high_time and low_time: the ts of the trade holding the high (12 at
-- 14:31) and the low (9.5 at 14:30); of a bar, its start (high 102 in the
-- 14:31 bar, low 98 in the 14:32 bar).
SELECT stockext.high_time(c), stockext.low_time(c), (c).high_ts = stockext.high_time(c) AS is_column
FROM (SELECT stockext.candle(ts, price, volume) AS c FROM trades) s;
SELECT stockext.high_time(c), stockext.low_time(c)
FROM (SELECT stockext.candle(ts, o, h, l, c, v) AS c FROM bars) s;
-- Equal extremes: the earliest wins, whatever the order of the rows or of
-- the candles rolled up (highs of 7 at 14:31 and 14:32, lows of 3 at 14:33
-- and 14:34).
CREATE TEMP TABLE ties (ts timestamptz, p float8);
INSERT INTO ties VALUES ('2026-11-20 14:30', 5), ('2026-11-20 14:31', 7), ('2026-11-20 14:32', 7),
                        ('2026-11-20 14:33', 3), ('2026-11-20 14:34', 3);
SELECT stockext.high_time(c), stockext.low_time(c), (c).high, (c).low
FROM (SELECT stockext.candle(ts, p, 1 ORDER BY ts DESC) AS c FROM ties) s;
SELECT count(DISTINCT (stockext.high_time(c), stockext.low_time(c))) AS one_answer
FROM (SELECT stockext.candle(ts, p, 1 ORDER BY ts) AS c FROM ties
      UNION ALL SELECT stockext.candle(ts, p, 1 ORDER BY ts DESC) FROM ties
      UNION ALL SELECT stockext.rollup(c ORDER BY k)
      FROM (SELECT extract(minute FROM ts)::int % 2 AS k, stockext.candle(ts, p, 1) AS c FROM ties GROUP BY 1) h
      UNION ALL SELECT stockext.rollup(c ORDER BY k DESC)
      FROM (SELECT extract(minute FROM ts)::int % 2 AS k, stockext.candle(ts, p, 1) AS c FROM ties GROUP BY 1) h) s;
-- -0 and +0 tie in SQL: +0 is the high, -0 the low, each at its own time.
SELECT (c).high::text, stockext.high_time(c), (c).low::text, stockext.low_time(c)
FROM (SELECT stockext.candle(ts, p, 1 ORDER BY ts DESC) AS c
      FROM (VALUES ('2026-11-20 14:30'::timestamptz, 0::float8), ('2026-11-20 14:31', '-0')) t(ts, p)) s;
-- A hand-made candle without the times: unknown (NULL) while its extreme
-- wins, replaced by a known time at the same value.
SELECT stockext.high_time(r), stockext.low_time(r)
FROM (SELECT stockext.rollup(c) AS r FROM (VALUES
    (ROW(1, 2, 0.5, 1.5, NULL, NULL, 3, '2026-11-20 10:00', '2026-11-20 10:29', NULL, NULL, NULL, NULL, NULL)::stockext.candle),
    (ROW(1.5, 2, 1, 1.5, NULL, NULL, 2, '2026-11-20 10:30', '2026-11-20 10:59', NULL, NULL, NULL, '2026-11-20 10:40', '2026-11-20 10:50')::stockext.candle)) t(c)) s;
SELECT stockext.high_time(NULL::stockext.candle) IS NULL AS strict;

-- rollup(candle) equals the candle of the raw rows: 1-minute bars into
-- 30-minute candles, then into hours, compared with the hourly candles of
-- the raw bars.  With integer volumes the sums are exact: whole rows,
-- residuals included, are identical.
SELECT setseed(0.31);
CREATE TEMP TABLE minute_bars AS
SELECT sym, ts, o, greatest(o, c) + random() AS h, least(o, c) - random() AS l, c,
       CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 100000) END AS v
FROM (SELECT sym, ts, 100 + 10 * random() AS o, 100 + 10 * random() AS c
      FROM unnest(ARRAY['AAA', 'BBB', 'CCC']) sym,
           generate_series('2026-11-20 00:00'::timestamptz, '2026-11-20 23:59', '1 minute') ts) s;
-- Duplicate timestamps with other prices, so ties cross the buckets' edges.
INSERT INTO minute_bars
SELECT sym, ts, o + 0.5, h + 1, l - 1, c - 0.5, v FROM minute_bars
WHERE extract(minute FROM ts) IN (0, 29, 30, 59) AND sym <> 'CCC';

CREATE TEMP TABLE half_hours AS
SELECT sym, date_bin('30 minutes', ts, '2026-01-01') AS bucket, stockext.candle(ts, o, h, l, c, v) AS c
FROM minute_bars GROUP BY 1, 2;
CREATE TEMP TABLE hours_from_raw AS
SELECT sym, date_bin('1 hour', ts, '2026-01-01') AS bucket, stockext.candle(ts, o, h, l, c, v) AS c
FROM minute_bars GROUP BY 1, 2;
CREATE TEMP TABLE hours_rolled AS
SELECT sym, date_bin('1 hour', bucket, '2026-01-01') AS bucket, stockext.rollup(c ORDER BY bucket DESC) AS c
FROM half_hours GROUP BY 1, 2;
SELECT count(*) AS hours, count(*) FILTER (WHERE r.c = h.c) AS identical
FROM hours_from_raw h JOIN hours_rolled r USING (sym, bucket);
-- The whole day in one candle, from the hours or the raw bars.
SELECT (SELECT stockext.rollup(c) FROM hours_rolled WHERE sym = 'AAA') =
       (SELECT stockext.candle(ts, o, h, l, c, v) FROM minute_bars WHERE sym = 'AAA') AS day_identical;

-- Fractional volumes: the exact sums need more than 106 bits, the rounded
-- fields still agree exactly.
CREATE TEMP TABLE crypto AS
SELECT sym, ts, o, h, l, c, (v * 0.001234567)::float8 AS v FROM minute_bars;
SELECT count(*) AS hours,
       count(*) FILTER (WHERE (r.c).open = (h.c).open AND (r.c).high = (h.c).high
                          AND (r.c).low = (h.c).low AND (r.c).close = (h.c).close
                          AND (r.c).volume = (h.c).volume AND (r.c).vwap = (h.c).vwap
                          AND (r.c).turnover = (h.c).turnover AND (r.c).count = (h.c).count
                          AND (r.c).first_ts = (h.c).first_ts AND (r.c).last_ts = (h.c).last_ts
                          AND (r.c).high_ts = (h.c).high_ts AND (r.c).low_ts = (h.c).low_ts) AS same_fields
FROM (SELECT sym, date_bin('1 hour', ts, '2026-01-01') AS bucket, stockext.candle(ts, o, h, l, c, v) AS c
      FROM crypto GROUP BY 1, 2) h
JOIN (SELECT sym, date_bin('1 hour', bucket, '2026-01-01') AS bucket, stockext.rollup(c) AS c
      FROM (SELECT sym, date_bin('30 minutes', ts, '2026-01-01') AS bucket, stockext.candle(ts, o, h, l, c, v) AS c
            FROM crypto GROUP BY 1, 2) hh GROUP BY 1, 2) r USING (sym, bucket);
-- And vwap against plain SQL.
SELECT bool_and(abs((c).vwap - ref) <= 1e-12 * ref) AS vwap_matches_sql
FROM (SELECT sym, date_bin('1 hour', ts, '2026-01-01') AS bucket,
             stockext.candle(ts, o, h, l, c, v) AS c,
             sum((h + l + c) / 3 * v) / sum(v) AS ref
      FROM minute_bars GROUP BY 1, 2) s;
-- open/close against first/last via array_agg ordered by (ts, price).
SELECT bool_and((c).open = fo AND (c).close = lc AND (c).high = mh AND (c).low = ml
                AND (c).first_ts = ft AND (c).last_ts = lt AND (c).count = n
                AND stockext.high_time(c) = ht AND stockext.low_time(c) = lti) AS ohlc_matches_sql
FROM (SELECT stockext.candle(ts, o, h, l, c, v) AS c,
             (array_agg(ts ORDER BY h DESC, ts))[1] AS ht, (array_agg(ts ORDER BY l, ts))[1] AS lti,
             (array_agg(o ORDER BY ts, o))[1] AS fo,
             (array_agg(c ORDER BY ts DESC, c DESC))[1] AS lc,
             max(h) AS mh, min(l) AS ml, min(ts) AS ft, max(ts) AS lt, count(*) AS n
      FROM minute_bars GROUP BY sym, date_bin('30 minutes', ts, '2026-01-01')) s;

-- rollup skips NULL candles and refuses candles no aggregate makes.
SELECT stockext.rollup(c) IS NULL AS all_null FROM (VALUES (NULL::stockext.candle)) t(c);
SELECT stockext.rollup(ROW(1, 2, 1, 2, NULL, NULL, 0, '2026-11-20', '2026-11-20', NULL, NULL, NULL, NULL, NULL)::stockext.candle);
\echo :LAST_ERROR_SQLSTATE
SELECT stockext.rollup(ROW(NULL, 2, 1, 2, NULL, NULL, 1, '2026-11-20', '2026-11-20', NULL, NULL, NULL, NULL, NULL)::stockext.candle);
\echo :LAST_ERROR_SQLSTATE
SELECT stockext.rollup(ROW(1, 2, 1, 2, NULL, NULL, 1, '2026-11-21', '2026-11-20', NULL, NULL, NULL, NULL, NULL)::stockext.candle);
\echo :LAST_ERROR_SQLSTATE
SELECT stockext.rollup(ROW(1, 2, 1, 2, 10, 1.5, 1, '2026-11-20', '2026-11-20', NULL, NULL, NULL, NULL, NULL)::stockext.candle);
\echo :LAST_ERROR_SQLSTATE
SELECT stockext.rollup(ROW(1, 2, 1, 2, NULL, NULL, 1, '2026-11-20', '2026-11-20', NULL, NULL, NULL, '2026-11-21', NULL)::stockext.candle);
\echo :LAST_ERROR_SQLSTATE
-- A hand-made candle without residuals rolls up as if they were zero.
SELECT (stockext.rollup(c)).* FROM (VALUES
    (ROW(1, 2, 0.5, 1.5, 10, 1.2, 3, '2026-11-20 10:00', '2026-11-20 10:29', 12, NULL, NULL, NULL, NULL)::stockext.candle),
    (ROW(1.5, 3, 1, 2.5, 30, 2, 2, '2026-11-20 10:30', '2026-11-20 10:59', 60, NULL, NULL, NULL, NULL)::stockext.candle)) t(c);

-- The state type's text form is exact and reads back.
SELECT s::text AS state, s::text::stockext.candle_state::text = s::text AS round_trip
FROM (SELECT stockext.candle_trans(stockext.candle_trans(NULL, '2026-11-20 10:00', 0.1, 1/3.0), '2026-11-20 10:01', 0.3, 0.7) AS s) t;
SELECT '(1,0,0,0,1,1,1,1,0,0,0,0,0,0'::stockext.candle_state;
SELECT '(1,0,0,0,1,1,1,1,0,0,0,0)'::stockext.candle_state;   -- 0.2.0's twelve slots
SELECT '(-1,0,0,0,1,1,1,1,0,0,0,0,0,0)'::stockext.candle_state;
