-- sma, mstddev_samp, mstddev_pop, vwap: plain and moving (sliding frame) modes.
SET client_min_messages = warning;
SET timezone = 'UTC';
SET extra_float_digits = 0;

-- Plain aggregates against the built-ins; NULLs are skipped.
SELECT stockext.sma(x), avg(x), stockext.mstddev_samp(x), stddev_samp(x),
       stockext.mstddev_pop(x), stddev_pop(x)
FROM (VALUES (1.0::float8), (2), (4), (NULL), (8)) t(x);
-- Empty input, only NULLs, one value: NULL like the built-ins (pop of one is 0).
SELECT stockext.sma(x), stockext.mstddev_samp(x), stockext.mstddev_pop(x) FROM (VALUES (1.0::float8)) t(x) WHERE false;
SELECT stockext.sma(x), stockext.mstddev_samp(x), stockext.mstddev_pop(x) FROM (VALUES (NULL::float8), (NULL)) t(x);
SELECT stockext.sma(x), stockext.mstddev_samp(x), stockext.mstddev_pop(x) FROM (VALUES (42.5::float8)) t(x);
-- The mean is correctly rounded: 7/3 to the nearest double.
SELECT stockext.sma(x) = 7/3.0 AS mean_rounded FROM (VALUES (1.0::float8), (2), (4)) t(x);

-- Sliding ROWS frames, partitions, NULLs and a single-row partition.
CREATE TEMP TABLE s (sym text, i int, x float8);
INSERT INTO s VALUES ('A', 1, 10), ('A', 2, 11), ('A', 3, NULL), ('A', 4, 13), ('A', 5, 9), ('A', 6, 12),
                     ('B', 1, 100), ('C', 1, NULL), ('C', 2, 5);
SELECT sym, i, x,
       stockext.sma(x) OVER w AS sma, avg(x) OVER w AS avg,
       round((stockext.mstddev_samp(x) OVER w)::numeric, 12) AS sd, round((stddev_samp(x) OVER w)::numeric, 12) AS builtin_sd,
       round((stockext.mstddev_pop(x) OVER w)::numeric, 12) AS sd_pop
FROM s WINDOW w AS (PARTITION BY sym ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
ORDER BY sym, i;

-- RANGE frames with interval offsets over irregularly spaced bars.
CREATE TEMP TABLE irregular (ts timestamptz, p float8, v float8);
INSERT INTO irregular VALUES
    ('2026-11-20 14:30', 100, 10), ('2026-11-20 14:31', 101, 20), ('2026-11-20 14:40', 103, 30),
    ('2026-11-20 14:44', 102, NULL), ('2026-11-20 14:45', 104, 40), ('2026-11-20 15:20', 99, 50),
    ('2026-11-20 15:21', 98, 0);
SELECT ts, p,
       stockext.sma(p) OVER w AS sma_15min, avg(p) OVER w AS avg_15min,
       round((stockext.mstddev_samp(p) OVER w)::numeric, 12) AS sd_15min,
       round((stddev_samp(p) OVER w)::numeric, 12) AS builtin_sd_15min,
       round((stockext.vwap(p, v) OVER w)::numeric, 12) AS vwap_15min,
       round((sum(p * v) OVER w / nullif(sum(v) OVER w, 0))::numeric, 12) AS sql_vwap_15min
FROM irregular WINDOW w AS (ORDER BY ts RANGE BETWEEN '15 minutes' PRECEDING AND CURRENT ROW)
ORDER BY ts;

-- NaN and infinities: sma follows avg (an infinity wins, both or a NaN give
-- NaN), the standard deviations are NaN; once the value leaves the frame
-- the results are finite again.
SELECT i, x, stockext.sma(x) OVER w AS sma, avg(x) OVER w AS avg,
       stockext.mstddev_samp(x) OVER w AS sd, stddev_samp(x) OVER w AS builtin_sd,
       stockext.mstddev_pop(x) OVER w AS sd_pop
FROM (VALUES (1, 1.0::float8), (2, 'Infinity'), (3, 3), (4, '-Infinity'), (5, 5), (6, 'NaN'),
             (7, 7), (8, 8), (9, 9)) t(i, x)
WINDOW w AS (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
ORDER BY i;

-- Hostile magnitudes: prices near 1e5 moving by about 1e-4 (2^-13, so
-- every value is an exact double with an exact numeric twin).  E[x^2] -
-- E[x]^2 would cancel every digit; the reference is exact numeric
-- arithmetic on the same values.
CREATE TEMP TABLE hostile AS
SELECT i, (100000 + k * 0.0001220703125)::float8 AS x, 100000 + k * 0.0001220703125 AS xn
FROM (SELECT i, (i * 7919) % 13 AS k FROM generate_series(1, 2000) i) s;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE abs(sd - ref_sd) <= 1e-12 * ref_sd) AS sd_within_1e12,
       count(*) FILTER (WHERE abs(m - ref_m) <= 1e-15 * ref_m) AS sma_within_1e15
FROM (SELECT stockext.mstddev_samp(x) OVER w AS sd, stddev_samp(xn) OVER w AS ref_sd,
             stockext.sma(x) OVER w AS m, avg(xn) OVER w AS ref_m
      FROM hostile WINDOW w AS (ORDER BY i ROWS BETWEEN 19 PRECEDING AND CURRENT ROW)) s
WHERE ref_sd IS NOT NULL;
SELECT abs(stockext.mstddev_samp(x) - stddev_samp(xn)) <= 1e-12 * stddev_samp(xn) AS plain_within_1e12
FROM hostile;

-- Drift: a long rolling run through regimes that break naive running sums
-- (a trend that walks away from the first value, spikes near 1e12 that
-- come and go, a flat stretch, tiny values, hostile moves) must agree with
-- a fresh recomputation of every frame: exact numeric over the same exact
-- values (k / 2^m), itself O(1) per row.
SELECT setseed(0.5);
CREATE TEMP TABLE drift AS
SELECT i, xn::float8 AS x, xn
FROM (SELECT i, CASE
                  WHEN i % 40000 < 10000 THEN 100000 + i * 0.375 + k * 0.0009765625  -- trend
                  WHEN i % 40000 < 10050 THEN 1e12 + k * 1024 * 0.0009765625        -- spikes
                  WHEN i % 40000 < 20000 THEN 54321.125                             -- flat
                  WHEN i % 40000 < 30000 THEN k * 0.0000000000009094947017729282379150390625  -- tiny: k * 2^-40
                  ELSE 100000 + k * 0.0001220703125                                 -- hostile
                END AS xn
      FROM (SELECT i, floor(random() * 1048576)::numeric AS k FROM generate_series(1, 200000) i) r) s;
SELECT count(*) AS frames,
       count(*) FILTER (WHERE abs(m - ref_m) <= 1e-12 * abs(ref_m)) AS sma_ok,
       count(*) FILTER (WHERE abs(sd - ref_sd) <= 1e-9 * ref_sd OR (ref_sd = 0 AND sd = 0)) AS sd_ok,
       count(*) FILTER (WHERE abs(sdp - ref_sdp) <= 1e-9 * ref_sdp OR (ref_sdp = 0 AND sdp = 0)) AS sd_pop_ok
FROM (SELECT stockext.sma(x) OVER w AS m, avg(xn) OVER w AS ref_m,
             stockext.mstddev_samp(x) OVER w AS sd, stddev_samp(xn) OVER w AS ref_sd,
             stockext.mstddev_pop(x) OVER w AS sdp, stddev_pop(xn) OVER w AS ref_sdp
      FROM drift WINDOW w AS (ORDER BY i ROWS BETWEEN 49 PRECEDING AND CURRENT ROW)) s
WHERE ref_sd IS NOT NULL;

-- vwap: rows with a NULL are skipped, a zero volume sum gives NULL, and a
-- non-finite row makes it NaN only while it is in the frame.
SELECT stockext.vwap(p, v) FROM (VALUES (10.0::float8, 1.0::float8), (20, 3), (NULL, 5), (99, NULL)) t(p, v);
SELECT stockext.vwap(p, v) IS NULL AS empty_null FROM (VALUES (10.0::float8, 1.0::float8)) t(p, v) WHERE false;
SELECT stockext.vwap(p, v) IS NULL AS zero_volume_null FROM (VALUES (10.0::float8, 2.0::float8), (11, -2)) t(p, v);
SELECT i, stockext.vwap(p, v) OVER w
FROM (VALUES (1, 10.0::float8, 1.0::float8), (2, 'NaN', 1), (3, 12, 1), (4, 13, 'Infinity'),
             (5, 14, 1), (6, 15, 3)) t(i, p, v)
WINDOW w AS (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
ORDER BY i;
-- The products are exact: 0.1 * 3 is not rounded up before dividing by 3.
SELECT stockext.vwap(p, v) = 0.1 AS exact, sum(p * v) / sum(v) = 0.1 AS naive_exact
FROM (VALUES (0.1::float8, 3.0::float8)) t(p, v);

-- State types: exact text, read back; bad text is refused.
SELECT s::text, s::text::stockext.moments_state::text = s::text AS round_trip
FROM (SELECT stockext.moments_trans(stockext.moments_trans(NULL, 0.1), 100000.0001) AS s) t;
SELECT s::text, s::text::stockext.vwap_state::text = s::text AS round_trip
FROM (SELECT stockext.vwap_trans(stockext.vwap_trans(NULL, 0.1, 3), 1/3.0, 7) AS s) t;
SELECT stockext.sma_final('(2,0,0,0,10,1,0,1,0)'), stockext.mstddev_samp_final('(2,0,0,0,10,1,0,1,0)');
SELECT '(1,2,3)'::stockext.moments_state;
SELECT '(1,0,0,0,abc,0,0,0,0)'::stockext.moments_state;
SELECT '(1,0,0,0,1e999,0,0,0,0)'::stockext.moments_state;
SELECT '(1,0,0,0,0,0,0,0,0) x'::stockext.moments_state;
