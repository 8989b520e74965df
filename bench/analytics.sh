#!/usr/bin/env bash
# bench/analytics.sh: the analytics aggregates against the plain-SQL routes
# (run with bash bench/run.sh analytics).  Builds 10 symbols x 1,000,000
# one-minute bars and prints, measured side by side in this run:
#   - sma / mstddev_samp against built-in avg / stddev_samp over the same
#     ROWS frames at W = 3, 20, 200, 2000 and a 1-hour RANGE frame (the O(W)
#     built-ins on a 100k-row slice, compared per row);
#   - stockext at W=2000 against W=20, and against the floor count(*) OVER
#     the same frame, on all 10M bars;
#   - against the O(1) numeric route avg/stddev_samp(close::numeric);
#   - candle() in 30-minute buckets over all 10M bars against the same
#     GROUP BY with only max/min/sum (the floor) and with array_agg(...
#     ORDER BY ts) first/last, on a (symbol, ts)-ordered heap and on a
#     time-ordered heap;
#   - the drift check: a 10M-row rolling mstddev_samp against an exact
#     numeric recomputation of every frame.
# Every measured column is consumed by the outer query.  One backend, no
# parallel workers, so the figures compare work per row.
set -euo pipefail
# BENCH_BARS_PER_SYMBOL scales the data down for a quick trial run.
psql=(psql -X -q -v ON_ERROR_STOP=1 -v n="${BENCH_BARS_PER_SYMBOL:-1000000}" -d postgres)

"${psql[@]}" <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS stockext CASCADE;
CREATE EXTENSION stockext;
DROP TABLE IF EXISTS bench_bars, bench_bars_by_time, bench_slice, bench_result;
DROP FUNCTION IF EXISTS bench, win, nspr;

-- Prices are multiples of 2^-10 near 100 (so close::numeric is exact);
-- hostile_k drives the drift check's prices near 1e5 (computed when read,
-- so the table stays narrow enough for shared buffers to hold it).
CREATE TABLE bench_bars AS
SELECT symbol, ts, o AS open, greatest(o, c) + 0.25 AS high, least(o, c) - 0.25 AS low, c AS close,
       floor(random() * 10000)::float8 AS volume, k AS hostile_k
FROM (SELECT 'SYM' || s AS symbol,
             '2020-01-01'::timestamptz + i * interval '1 minute' AS ts,
             round((100 + 10 * sin(i / 5000.0) + random()) * 1024) / 1024 AS o,
             round((100 + 10 * sin(i / 5000.0) + random()) * 1024) / 1024 AS c,
             floor(random() * 1000)::int AS k
      FROM generate_series(1, 10) s, generate_series(1, :n) i) g;
ALTER TABLE bench_bars ADD PRIMARY KEY (symbol, ts);
VACUUM ANALYZE bench_bars;
CREATE TABLE bench_bars_by_time AS SELECT * FROM bench_bars ORDER BY ts, symbol;
VACUUM ANALYZE bench_bars_by_time;
CREATE TABLE bench_slice AS SELECT * FROM bench_bars WHERE symbol = 'SYM1' ORDER BY ts LIMIT 100000;
ALTER TABLE bench_slice ADD PRIMARY KEY (symbol, ts);
VACUUM ANALYZE bench_slice;

CREATE TABLE bench_result (name text PRIMARY KEY, rows bigint, ms float8);
-- Runs q (one float8 row: the consumed result) and records its time.  On a
-- shared machine one run can be slowed by anything, so quick queries run
-- again and the fastest run counts: three runs under 2 s, two under 20 s.
CREATE FUNCTION bench(name text, rows bigint, q text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    ms float8;
    best float8;
    consumed float8;
BEGIN
    FOR i IN 1..3 LOOP
        t0 := clock_timestamp();
        EXECUTE q INTO consumed;
        ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
        best := least(best, ms);
        EXIT WHEN best > 20000 OR (i = 2 AND best > 2000);
    END LOOP;
    INSERT INTO bench_result VALUES (name, rows, best);
    RAISE NOTICE '% % ms (consumed %)', rpad(name, 34), round(best::numeric, 1), consumed;
END
$$;
-- One window query over table t: sum of expr over frame.
CREATE FUNCTION win(expr text, t text, frame text) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT sum(x)::float8 FROM (SELECT %s OVER (PARTITION BY symbol ORDER BY ts %s) AS x FROM %s) s',
                  expr, frame, t)
$$;
SQL

"${psql[@]}" <<'SQL'
SET client_min_messages = notice;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS full_rows FROM bench_bars \gset
-- Warm the caches: the first pass over a table reads it from disk (and a
-- plain seq scan keeps it out of shared buffers), so run each access path
-- once unmeasured.
SELECT sum(x) FROM (SELECT count(*) OVER (PARTITION BY symbol ORDER BY ts ROWS 1 PRECEDING) AS x FROM bench_bars) s;
SELECT sum(x) FROM (SELECT count(*) OVER (PARTITION BY symbol ORDER BY ts ROWS 1 PRECEDING) AS x FROM bench_slice) s;
SELECT sum(x) FROM (SELECT max(high) AS x FROM bench_bars_by_time GROUP BY symbol, date_bin('30 minutes', ts, '2020-01-01')) s;
SELECT sum(x) FROM (SELECT max(high) AS x FROM bench_bars GROUP BY symbol, date_bin('30 minutes', ts, '2020-01-01')) s;
\o /dev/null
SELECT count(*) AS slice_rows FROM bench_slice \gset
SET jit = off;

-- The O(W) built-ins and stockext on the same 100k-row slice.
SELECT bench('slice ' || fn || ' W=' || w, :slice_rows,
             win(CASE fn WHEN 'floor' THEN 'count(*)' ELSE fn || '(close)' END, 'bench_slice',
                 format('ROWS BETWEEN %s PRECEDING AND CURRENT ROW', w - 1)))
FROM unnest(ARRAY['stockext.sma', 'avg', 'stockext.mstddev_samp', 'stddev_samp', 'floor']) fn,
     unnest(ARRAY[3, 20, 200, 2000]) w;
SELECT bench('slice ' || fn || ' 1h', :slice_rows,
             win(CASE fn WHEN 'floor' THEN 'count(*)' ELSE fn || '(close)' END, 'bench_slice',
                 'RANGE BETWEEN ''1 hour'' PRECEDING AND CURRENT ROW'))
FROM unnest(ARRAY['stockext.sma', 'avg', 'stockext.mstddev_samp', 'stddev_samp', 'floor']) fn;

-- stockext, the floor and the numeric route on all 10M bars.
SELECT bench('full ' || fn || ' W=' || w, :full_rows,
             win(CASE fn WHEN 'floor' THEN 'count(*)' ELSE fn || '(close)' END, 'bench_bars',
                 format('ROWS BETWEEN %s PRECEDING AND CURRENT ROW', w - 1)))
FROM unnest(ARRAY['floor', 'stockext.sma', 'stockext.mstddev_samp']) fn, unnest(ARRAY[20, 2000]) w;
SELECT bench('full ' || fn || ' W=2000', :full_rows,
             win(fn || '(close::numeric)', 'bench_bars', 'ROWS BETWEEN 1999 PRECEDING AND CURRENT ROW'))
FROM unnest(ARRAY['avg', 'stddev_samp']) fn;
SELECT bench('full ' || fn || ' 1h', :full_rows,
             win(CASE fn WHEN 'floor' THEN 'count(*)' ELSE fn || '(close)' END, 'bench_bars',
                 'RANGE BETWEEN ''1 hour'' PRECEDING AND CURRENT ROW'))
FROM unnest(ARRAY['floor', 'stockext.sma', 'stockext.mstddev_samp']) fn;

-- candle in 30-minute buckets, on both heap orders.
SELECT bench(h || ' ' || v, :full_rows, format($q$
    SELECT sum(%s)::float8 FROM (
        SELECT symbol, date_bin('30 minutes', ts, '2020-01-01') AS bucket, %s
        FROM %s GROUP BY 1, 2) s$q$,
    CASE v WHEN 'candle' THEN '(c).open + (c).close + (c).high + (c).low + (c).volume'
           WHEN 'floor' THEN 'hi + lo + vol'
           ELSE 'op + cl + hi + lo + vol' END,
    CASE v WHEN 'candle' THEN 'stockext.candle(ts, open, high, low, close, volume) AS c'
           WHEN 'floor' THEN 'max(high) AS hi, min(low) AS lo, sum(volume) AS vol'
           ELSE '(array_agg(open ORDER BY ts))[1] AS op, (array_agg(close ORDER BY ts DESC))[1] AS cl, max(high) AS hi, min(low) AS lo, sum(volume) AS vol' END,
    CASE h WHEN 'symbol-ordered' THEN 'bench_bars' ELSE 'bench_bars_by_time' END))
FROM unnest(ARRAY['symbol-ordered', 'time-ordered']) h, unnest(ARRAY['floor', 'candle', 'array_agg']) v;
SQL

"${psql[@]}" <<'SQL'
SET max_parallel_workers_per_gather = 0;
\pset footer off
\echo
\echo '== per-row cost, ns (slice: 100k rows of one symbol; full: all 10M bars)'
SELECT name, rows, round(ms::numeric, 1) AS ms, round((ms * 1e6 / rows)::numeric, 1) AS ns_per_row
FROM bench_result ORDER BY name;

CREATE FUNCTION nspr(n text) RETURNS float8 LANGUAGE sql AS $$ SELECT ms * 1e6 / rows FROM bench_result WHERE name = n $$;
\echo '== ratios (higher = stockext faster, except where said)'
SELECT w AS frame,
       round((nspr('slice avg W=' || w) / nspr('slice stockext.sma W=' || w))::numeric, 1) AS avg_over_sma,
       round((nspr('slice stddev_samp W=' || w) / nspr('slice stockext.mstddev_samp W=' || w))::numeric, 1) AS stddev_over_mstddev,
       round((nspr('slice avg W=' || w) / nspr('full stockext.sma W=2000'))::numeric, 1) AS avg_slice_over_sma_full_w2000
FROM unnest(ARRAY['3', '20', '200', '2000']) w
UNION ALL
SELECT '1h RANGE',
       round((nspr('slice avg 1h') / nspr('slice stockext.sma 1h'))::numeric, 1),
       round((nspr('slice stddev_samp 1h') / nspr('slice stockext.mstddev_samp 1h'))::numeric, 1),
       round((nspr('slice avg 1h') / nspr('full stockext.sma 1h'))::numeric, 1);

SELECT fn,
       round((nspr('full ' || fn || ' W=2000') / nspr('full ' || fn || ' W=20'))::numeric, 2) AS w2000_over_w20_target_le_1_3,
       round((nspr('full ' || fn || ' W=2000') / nspr('full floor W=2000'))::numeric, 2) AS w2000_over_floor_target_le_1_5,
       round((nspr('full ' || fn || ' 1h') / nspr('full floor 1h'))::numeric, 2) AS range_1h_over_floor,
       round((nspr('full ' || CASE fn WHEN 'stockext.sma' THEN 'avg' ELSE 'stddev_samp' END || ' W=2000')
              / nspr('full ' || fn || ' W=2000'))::numeric, 1) AS numeric_over_stockext_target_ge_3
FROM unnest(ARRAY['stockext.sma', 'stockext.mstddev_samp']) fn;

SELECT h AS heap,
       round((nspr(h || ' candle') / nspr(h || ' floor'))::numeric, 2) AS candle_over_floor_target_le_1_3,
       round((nspr(h || ' array_agg') / nspr(h || ' floor'))::numeric, 2) AS array_agg_over_floor,
       round((nspr(h || ' array_agg') / nspr(h || ' candle'))::numeric, 2) AS array_agg_over_candle
FROM unnest(ARRAY['symbol-ordered', 'time-ordered']) h;

\echo '== drift: 10M-row rolling mstddev_samp / sma (W=20, one stream through all symbols, prices near 1e5 moving by 2^-13) against exact numeric'
SELECT count(*) AS frames,
       max(abs(sd - ref_sd) / ref_sd) AS max_rel_err_mstddev,
       max(abs(m - ref_m) / ref_m) AS max_rel_err_sma,
       bool_and(abs(sd - ref_sd) <= 1e-9 * ref_sd) AS within_1e9
FROM (SELECT stockext.mstddev_samp((100000 + hostile_k * 0.0001220703125)::float8) OVER w AS sd,
             stddev_samp(100000 + hostile_k * 0.0001220703125) OVER w AS ref_sd,
             stockext.sma((100000 + hostile_k * 0.0001220703125)::float8) OVER w AS m,
             avg(100000 + hostile_k * 0.0001220703125) OVER w AS ref_m
      FROM bench_bars WINDOW w AS (ORDER BY symbol, ts ROWS BETWEEN 19 PRECEDING AND CURRENT ROW)) s
WHERE ref_sd > 0;
SQL
