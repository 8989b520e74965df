-- Parallel (partial) aggregation gives the serial plan's results, candle
-- open and close included, and the times of the extremes (prices rounded
-- to whole numbers, so that many rows tie for the high and the low).
SET client_min_messages = warning;
SET timezone = 'UTC';
SET extra_float_digits = 3;

-- A plain (not temporary) table: parallel workers cannot read temp tables.
-- Bars arrive shuffled, with equal timestamps at other prices, so each
-- worker sees another slice and the open/close must come from the order,
-- not from arrival.
SELECT setseed(0.42);
CREATE TABLE agg_parallel_bars AS
SELECT sym, ts, p, floor(random() * 10000)::float8 AS v
FROM (SELECT sym, '2026-11-20'::timestamptz + (i / 2) * interval '1 minute' AS ts,
             100 + 10 * random() AS p
      FROM unnest(ARRAY['AAA', 'BBB', 'CCC', 'DDD']) sym, generate_series(1, 40000) i) s
ORDER BY random();
ANALYZE agg_parallel_bars;
CREATE TABLE agg_parallel_half_hours AS
SELECT sym, date_bin('30 minutes', ts, '2026-01-01') AS b, stockext.candle(ts, p, v) AS c
FROM agg_parallel_bars GROUP BY 1, 2 ORDER BY random();
ANALYZE agg_parallel_half_hours;

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN plan;
END
$$;

\set r 'SELECT sym, stockext.rollup(c) AS r FROM agg_parallel_half_hours GROUP BY sym'
\set q 'SELECT sym, stockext.candle(ts, p, v) AS c, stockext.candle(ts, round(p), v) AS cr, stockext.sma(p) AS sma, stockext.mstddev_samp(p) AS sd, stockext.mstddev_pop(p) AS sdp, stockext.vwap(p, v) AS vwap, stockext.mmax(p) AS hi, stockext.mmin(p) AS lo FROM agg_parallel_bars GROUP BY sym'

-- Serial.
SET max_parallel_workers_per_gather = 0;
SELECT pg_temp.plan_of(:'q') LIKE '%Partial%' AS serial_is_partial;
CREATE TEMP TABLE serial AS :q;
CREATE TEMP TABLE serial_rollup AS :r;

-- Forced parallel: PostgreSQL 16 renamed force_parallel_mode.
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', false) AS forced;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET enable_hashagg = off;
SELECT pg_temp.plan_of(:'q') LIKE '%Gather%Partial GroupAggregate%Parallel Seq Scan%' AS parallel_plan;
CREATE TEMP TABLE parallel AS :q;
SELECT pg_temp.plan_of(:'r') LIKE '%Gather%Partial GroupAggregate%Parallel Seq Scan%' AS parallel_rollup_plan;
CREATE TEMP TABLE parallel_rollup AS :r;
RESET enable_hashagg;

SELECT count(*) AS groups,
       count(*) FILTER (WHERE s.c = p.c) AS same_candle,
       count(*) FILTER (WHERE (s.c).open = (p.c).open AND (s.c).close = (p.c).close) AS same_open_close,
       count(*) FILTER (WHERE s.cr = p.cr AND stockext.high_time(s.cr) = stockext.high_time(p.cr)
                          AND stockext.low_time(s.cr) = stockext.low_time(p.cr)) AS same_extreme_times,
       count(*) FILTER (WHERE sr.r = pr.r AND pr.r = p.c) AS same_rollup,
       count(*) FILTER (WHERE s.sma = p.sma AND s.sd = p.sd AND s.sdp = p.sdp) AS same_moments,
       count(*) FILTER (WHERE s.vwap = p.vwap) AS same_vwap,
       count(*) FILTER (WHERE s.hi = p.hi AND s.lo = p.lo) AS same_extrema
FROM serial s JOIN parallel p USING (sym) JOIN serial_rollup sr USING (sym) JOIN parallel_rollup pr USING (sym);

-- The serial results against plain SQL, so the comparison above is of
-- right answers.
SELECT bool_and((c).open = fo AND (c).close = lc AND (c).count = n AND (c).volume = sv
                AND abs(sma - av) <= 1e-12 * av AND abs(sd - sdv) <= 1e-9 * sdv
                AND hi = mx AND lo = mn
                AND stockext.high_time(cr) = hrt AND stockext.low_time(cr) = lrt) AS serial_matches_sql
FROM serial JOIN (SELECT sym, (array_agg(p ORDER BY ts, p))[1] AS fo,
                         (array_agg(p ORDER BY ts DESC, p DESC))[1] AS lc, count(*) AS n, sum(v) AS sv,
                         (array_agg(ts ORDER BY round(p) DESC, ts))[1] AS hrt,
                         (array_agg(ts ORDER BY round(p), ts))[1] AS lrt,
                         avg(p) AS av, stddev_samp(p) AS sdv, max(p) AS mx, min(p) AS mn
                  FROM agg_parallel_bars GROUP BY sym) ref USING (sym);

-- Hash aggregation and 30-minute buckets in parallel too.
SELECT pg_temp.plan_of('SELECT sym, date_bin(''30 minutes'', ts, ''2026-01-01''), stockext.candle(ts, p, v) FROM agg_parallel_bars GROUP BY 1, 2')
       LIKE '%Partial HashAggregate%' AS parallel_hash_plan;
SELECT count(*) AS buckets, count(*) FILTER (WHERE a.c = b.c) AS same
FROM (SELECT sym, date_bin('30 minutes', ts, '2026-01-01') AS b, stockext.candle(ts, p, v) AS c
      FROM agg_parallel_bars GROUP BY 1, 2) a
JOIN (SELECT sym, date_bin('30 minutes', ts, '2026-01-01') AS b,
             stockext.candle(ts, p, v ORDER BY ts) AS c           -- ORDER BY: not partial
      FROM agg_parallel_bars GROUP BY 1, 2) b USING (sym, b);

DROP TABLE agg_parallel_bars, agg_parallel_half_hours;
