-- vwma (vwap's moving aggregate under the indicator's name) and twap:
-- values by hand, the boundary rule, order, NULL/NaN/Infinity, sliding ROWS
-- and RANGE frames against plain SQL on 10,500 rows, combine (directly and
-- through partitionwise aggregation), parallel plans.
SET client_min_messages = warning;
SET timezone = 'UTC';
SET extra_float_digits = 0;

CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Observations 10 at 00:00, 20 at 00:01, 30 at 00:04.  Each price weighs
-- until the next one: (10 * 1 + 20 * 3) / 4 minutes = 17.5; the last one
-- weighs nothing.  With stop 00:10 it weighs until then:
-- (10 + 60 + 30 * 6) / 10 = 25.  vwma with volumes 1, 2, 1: 20.
CREATE TEMP TABLE o (ts timestamptz, p float8, v float8);
INSERT INTO o VALUES ('2026-01-01 00:04', 30, 1), ('2026-01-01 00:00', 10, 1), ('2026-01-01 00:01', 20, 2);
SELECT stockext.twap(ts, p ORDER BY ts) AS twap, stockext.twap(ts, p, '2026-01-01 00:10' ORDER BY ts) AS twap_to_10,
       stockext.twap(ts, p, '2026-01-01 00:04' ORDER BY ts) AS twap_to_last, stockext.vwma(p, v) AS vwma
FROM o;
-- No time passes: NULL (one observation, or all at one instant); with a
-- stop after it, one observation is its price.
SELECT stockext.twap(ts, p) AS one, stockext.twap(ts, p, ts) AS stop_at_it,
       stockext.twap(ts, p, '2026-01-02') AS stop_after
FROM o WHERE p = 10;
SELECT stockext.twap(ts, p ORDER BY p) AS same_instant
FROM (VALUES ('2026-01-01'::timestamptz, 1.0::float8), ('2026-01-01', 2)) v(ts, p);
-- Ties: of observations at one instant the last in the order carries on
-- (order ties explicitly): 2 for a minute, then 1.
SELECT stockext.twap(ts, p ORDER BY ts, p) AS tie_2_last, stockext.twap(ts, p ORDER BY ts, p DESC) AS tie_1_last
FROM (VALUES ('2026-01-01 00:00'::timestamptz, 1.0::float8), ('2026-01-01 00:00', 2),
             ('2026-01-01 00:01', 5)) v(ts, p);
-- NULL ts or price: the row is skipped; no rows: NULL.
SELECT stockext.twap(ts, p ORDER BY ts) AS with_nulls
FROM (VALUES ('2026-01-01 00:00'::timestamptz, 10.0::float8), (NULL, 99), ('2026-01-01 00:01', NULL),
             ('2026-01-01 00:02', 20)) v(ts, p);
SELECT stockext.twap(ts, p) AS empty, stockext.vwma(p, v) AS empty_vwma FROM o WHERE false;

-- Rows out of ts order are refused rather than weighed wrongly.
SELECT stockext.twap(ts, p) FROM (SELECT * FROM o ORDER BY ts DESC) q;
SELECT stockext.twap(ts, p, '2026-01-01 00:03' ORDER BY ts) FROM o;
SELECT pg_temp.error_of($$SELECT stockext.twap(ts, p, NULL) FROM o$$);
SELECT pg_temp.error_of($$SELECT stockext.twap(ts, p, 'infinity') FROM o$$);
SELECT pg_temp.error_of($$SELECT stockext.twap(ts, p, ts ORDER BY ts) FROM o$$);
SELECT pg_temp.error_of($$SELECT stockext.twap('infinity', 1)$$);
SELECT pg_temp.error_of($$SELECT stockext.twap(ts, p) OVER (ORDER BY p DESC) FROM o$$);

-- Over a window ordered by ts, with sliding frames: the RANGE frame of 3
-- minutes at 00:04 holds 00:01 (20) and 00:04: 20; at 00:05 it holds 00:04
-- (30) and 00:05: 30.  vwma over 2 rows: (10 + 40) / 3, (40 + 30) / 3, (30 + 40) / 2.
SELECT ts, p, stockext.twap(ts, p) OVER (ORDER BY ts RANGE BETWEEN '3 minutes' PRECEDING AND CURRENT ROW) AS twap_3min,
       stockext.twap(ts, p) OVER (ORDER BY ts ROWS 1 PRECEDING) AS twap_2rows,
       stockext.twap(ts, p) OVER (ORDER BY ts) AS twap_running,
       round(stockext.vwma(p, v) OVER (ORDER BY ts ROWS 1 PRECEDING)::numeric, 7) AS vwma_2rows
FROM (SELECT * FROM o UNION ALL SELECT '2026-01-01 00:05', 40, 1) q ORDER BY ts;

-- NaN and infinities: NaN while such a price is in the frame (it weighs or
-- is the last observation), then numbers again once it has left.
SELECT ts, p, stockext.twap(ts, p) OVER (ORDER BY ts ROWS 1 PRECEDING) AS twap_2rows,
       stockext.twap(ts, p) OVER (ORDER BY ts) AS twap_running
FROM (VALUES ('2026-01-01 00:00'::timestamptz, 10.0::float8), ('2026-01-01 00:01', 'NaN'),
             ('2026-01-01 00:02', 20), ('2026-01-01 00:03', 'Infinity'), ('2026-01-01 00:04', 30),
             ('2026-01-01 00:05', 40)) v(ts, p) ORDER BY ts;

-- Combine: two states whose observations do not interleave join as one
-- pass would, in either order (the earlier one's last price weighs until
-- the later one's first); interleaving ones are refused.
CREATE TEMP TABLE parts AS
SELECT stockext.twap_trans(stockext.twap_trans(NULL, '2026-01-01 00:00', 10), '2026-01-01 00:01', 20) AS a,
       stockext.twap_trans(stockext.twap_trans(NULL, '2026-01-01 00:04', 30), '2026-01-01 00:06', 40) AS b,
       stockext.twap_trans(stockext.twap_trans(NULL, '2026-01-01 00:00:30', 1), '2026-01-01 00:05', 2) AS c;
SELECT stockext.twap_final(stockext.twap_combine(a, b)) AS a_then_b, stockext.twap_final(stockext.twap_combine(b, a)) AS b_then_a,
       (SELECT stockext.twap(ts, p ORDER BY ts)
        FROM (VALUES ('2026-01-01 00:00'::timestamptz, 10.0::float8), ('2026-01-01 00:01', 20),
                     ('2026-01-01 00:04', 30), ('2026-01-01 00:06', 40)) v(ts, p)) AS one_pass,
       stockext.twap_combine(a, b) AS state
FROM parts;
SELECT stockext.twap_combine(a, c) FROM parts;
SELECT pg_temp.error_of($$SELECT stockext.twap_combine(a, stockext.twap_stop_trans(NULL, '2026-01-02', 1, '2026-01-03')) FROM parts$$);

-- 10,500 rows in 5 symbols: irregular unique timestamps, NULL prices, a
-- NaN, integer volumes.  The reference twap of a frame is exact: with the
-- frame's observations numbered k, C(k) the numeric running sum of
-- price * (next ts - ts) over the observations before k, a frame from
-- observation a to b is (C(b) - C(a)) / (ts(b) - ts(a)).
SELECT setseed(0.0616);
CREATE TEMP TABLE x AS
SELECT sym, ts, p, v FROM (
  SELECT sym, i,
         '2026-11-20'::timestamptz + i * interval '1 minute' + floor(random() * 50) * interval '1 second'
           + CASE WHEN random() < 0.02 THEN interval '1 hour' * floor(random() * 3) ELSE interval '0' END AS ts,
         CASE WHEN random() < 0.04 THEN NULL
              ELSE round((1000 + 50 * sin(i / 40.0) + 10 * random())::numeric, 4)::float8 END AS p,
         CASE WHEN random() < 0.03 THEN NULL ELSE floor(random() * 5000)::float8 END AS v
  FROM unnest(ARRAY['AAA', 'BBB', 'CCC', 'DDD', 'EEE']) sym, generate_series(1, 2100) i) s;
DELETE FROM x a USING x b WHERE a.sym = b.sym AND a.ts = b.ts AND a.ctid > b.ctid;
SELECT count(*) >= 10000 AS enough_rows, count(DISTINCT sym) AS partitions, count(*) - count(p) AS null_prices FROM x;
CREATE TEMP TABLE obs AS
SELECT sym, ts, k,
       coalesce(sum(seg) OVER (PARTITION BY sym ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS c
FROM (SELECT sym, ts, k,
             p::numeric * (extract(epoch FROM lead(ts) OVER (PARTITION BY sym ORDER BY k)) - extract(epoch FROM ts)) AS seg
      FROM (SELECT sym, ts, p, row_number() OVER (PARTITION BY sym ORDER BY ts) AS k FROM x WHERE p IS NOT NULL) n) s;
CREATE INDEX ON obs (sym, k);

CREATE FUNCTION pg_temp.check_frame(frame text, OUT rows bigint, OUT twap_compared bigint, OUT twap_bad bigint,
                                    OUT vwma_compared bigint, OUT vwma_bad bigint)
LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE format($q$
        SELECT count(*), count(ref), count(*) FILTER (WHERE got IS DISTINCT FROM ref AND NOT abs(got - ref) <= 1e-9 * abs(ref)),
               count(ref_vw), count(*) FILTER (WHERE vw IS DISTINCT FROM ref_vw AND NOT abs(vw - ref_vw) <= 1e-12 * abs(ref_vw))
        FROM (SELECT f.got, f.vw, f.ref_vw,
                     CASE WHEN ob.ts > oa.ts THEN ((ob.c - oa.c) / (extract(epoch FROM ob.ts) - extract(epoch FROM oa.ts)))::float8 END AS ref
              FROM (SELECT sym, stockext.twap(ts, p) OVER w AS got,
                           min(ts) FILTER (WHERE p IS NOT NULL) OVER w AS first_ts,
                           max(ts) FILTER (WHERE p IS NOT NULL) OVER w AS last_ts,
                           stockext.vwma(p, v) OVER w AS vw,
                           sum(p * v) OVER w / nullif(sum(v) FILTER (WHERE p IS NOT NULL) OVER w, 0) AS ref_vw
                    FROM x WINDOW w AS (PARTITION BY sym ORDER BY ts %s)) f
              LEFT JOIN obs oa ON oa.sym = f.sym AND oa.ts = f.first_ts
              LEFT JOIN obs ob ON ob.sym = f.sym AND ob.ts = f.last_ts) s
        $q$, frame)
    INTO rows, twap_compared, twap_bad, vwma_compared, vwma_bad;
END
$f$;
SELECT frame, (pg_temp.check_frame(frame)).*
FROM unnest(ARRAY['ROWS 1 PRECEDING', 'ROWS 19 PRECEDING', 'ROWS 1999 PRECEDING',
                  'ROWS BETWEEN 5 PRECEDING AND 5 FOLLOWING',
                  'RANGE BETWEEN ''15 minutes'' PRECEDING AND CURRENT ROW',
                  'RANGE BETWEEN ''1 hour'' PRECEDING AND CURRENT ROW',
                  'RANGE BETWEEN ''10 minutes'' PRECEDING AND ''10 minutes'' FOLLOWING',
                  'ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW']) frame;

-- Plain twap per symbol and hour, with and without a stop at the hour's
-- end, against the same exact sums; the stop adds the last price times
-- the time left in the hour.
SELECT count(*) AS buckets,
       count(*) FILTER (WHERE abs(t - ref) > 1e-9 * abs(ref) OR (t IS NULL) <> (ref IS NULL)) AS twap_bad,
       count(*) FILTER (WHERE abs(t_stop - ref_stop) > 1e-9 * abs(ref_stop)) AS twap_stop_bad
FROM (SELECT g.sym, g.t, g.t_stop,
             CASE WHEN r.last_ts > r.first_ts THEN (r.s / (extract(epoch FROM r.last_ts) - extract(epoch FROM r.first_ts)))::float8 END AS ref,
             ((r.s + r.last_p * (extract(epoch FROM g.b + interval '1 hour') - extract(epoch FROM r.last_ts)))
              / (extract(epoch FROM g.b + interval '1 hour') - extract(epoch FROM r.first_ts)))::float8 AS ref_stop
      FROM (SELECT sym, date_trunc('hour', ts) AS b, stockext.twap(ts, p ORDER BY ts) AS t,
                   stockext.twap(ts, p, date_trunc('hour', ts) + interval '1 hour' ORDER BY ts) AS t_stop
            FROM x GROUP BY 1, 2) g
      CROSS JOIN LATERAL (
          SELECT min(ts) AS first_ts, max(ts) AS last_ts, (array_agg(p ORDER BY ts DESC))[1]::numeric AS last_p,
                 coalesce(sum(seg), 0) AS s
          FROM (SELECT ts, p, p::numeric * (extract(epoch FROM lead(ts) OVER (ORDER BY ts)) - extract(epoch FROM ts)) AS seg
                FROM x WHERE x.sym = g.sym AND date_trunc('hour', x.ts) = g.b AND p IS NOT NULL) q) r) c;

-- Partial aggregation: partitioned by day, each partition's partial twap
-- covers its own hours and the Finalize step combines them, in any order,
-- into the one-pass result.  (Within one partition a parallel scan would
-- hand interleaved rows to the workers: the ORDER BY form is computed in
-- one piece and never split.)
CREATE TABLE agg_vwma_twap_days (sym text, ts timestamptz, p float8, v float8) PARTITION BY RANGE (ts);
CREATE TABLE agg_vwma_twap_d1 PARTITION OF agg_vwma_twap_days FOR VALUES FROM ('2026-11-20') TO ('2026-11-21');
CREATE TABLE agg_vwma_twap_d2 PARTITION OF agg_vwma_twap_days FOR VALUES FROM ('2026-11-21') TO ('2026-11-22');
CREATE TABLE agg_vwma_twap_d3 PARTITION OF agg_vwma_twap_days FOR VALUES FROM ('2026-11-22') TO ('2026-11-23');
INSERT INTO agg_vwma_twap_days SELECT * FROM x ORDER BY ts;
ANALYZE agg_vwma_twap_days;
SET enable_partitionwise_aggregate = on;
SET max_parallel_workers_per_gather = 0;
\set q 'SELECT sym, stockext.twap(ts, p) AS t, stockext.vwma(p, v) AS vw FROM agg_vwma_twap_days GROUP BY sym'
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
SELECT (SELECT count(*) FROM regexp_matches(pg_temp.plan_of(:'q'), 'Partial \w*Aggregate', 'g')) AS partial_aggregates,
       pg_temp.plan_of(:'q') LIKE 'Finalize%' AS finalized;
CREATE TEMP TABLE partial AS :q;
RESET enable_partitionwise_aggregate;
SELECT count(*) AS symbols, count(*) FILTER (WHERE pa.t = o.t) AS same_twap, count(*) FILTER (WHERE pa.vw = o.vw) AS same_vwma
FROM partial pa JOIN (SELECT sym, stockext.twap(ts, p ORDER BY ts) AS t, stockext.vwap(p, v) AS vw FROM x GROUP BY sym) o USING (sym);
RESET max_parallel_workers_per_gather;

-- Forced parallel plans (Partial Aggregate in the workers): vwma combines
-- partial states like vwap; twap with ORDER BY ts is not split.
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', false) AS forced;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET enable_hashagg = off;
CREATE TABLE agg_vwma_twap_x AS SELECT * FROM x ORDER BY random();
ANALYZE agg_vwma_twap_x;
\set pq 'SELECT sym, stockext.vwma(p, v) AS vw, stockext.twap(ts, p ORDER BY ts) AS t FROM agg_vwma_twap_x GROUP BY sym'
\set vq 'SELECT sym, stockext.vwma(p, v) AS vw FROM agg_vwma_twap_x GROUP BY sym'
SELECT pg_temp.plan_of(:'vq') LIKE '%Gather%Partial GroupAggregate%Parallel Seq Scan%' AS parallel_plan;
CREATE TEMP TABLE par AS :vq;
CREATE TEMP TABLE par_twap AS :pq;
RESET enable_hashagg;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS symbols, count(*) FILTER (WHERE p.vw = s.vw) AS same_vwma, count(*) FILTER (WHERE pt.t = s.t) AS same_twap
FROM par p JOIN par_twap pt USING (sym) JOIN (:pq) s USING (sym);

DROP TABLE agg_vwma_twap_days, agg_vwma_twap_x;
