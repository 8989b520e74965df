-- ema(): pandas-seeded, TA-Lib-seeded and time-decayed exponential moving averages.
SET client_min_messages = warning;
SET timezone = 'UTC';
SET extra_float_digits = 0;

-- The SQLSTATE and message of a statement's error, or 'ok'.
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TEMP TABLE s (sym text, i int, x float8);
INSERT INTO s VALUES
    ('A', 1, NULL), ('A', 2, 10), ('A', 3, 12), ('A', 4, NULL), ('A', 5, 11),
    ('A', 6, 13), ('A', 7, 9),
    ('B', 1, 100),                          -- a single-row partition
    ('C', 1, NULL), ('C', 2, NULL);         -- only NULLs

-- span 3: alpha = 0.5.  'first' seeds with the first non-NULL x (10), a NULL
-- repeats the previous value: 10, 11, 11, 11, 12, 10.5.
-- 'sma' seeds with the mean of the first 3 non-NULL x (10, 12, 11 -> 11) on
-- the row of the third, NULL before: 11, then 11 + 0.5 * (13 - 11) = 12,
-- then 12 + 0.5 * (9 - 12) = 10.5.  The default is 'first'.
SELECT sym, i, x,
       stockext.ema(x, 3) OVER w AS ema,
       stockext.ema(x, 3, 'first') OVER w AS ema_first,
       stockext.ema(x, 3, 'sma') OVER w AS ema_sma
FROM s WINDOW w AS (PARTITION BY sym ORDER BY i)
ORDER BY sym, i;

-- span 1: alpha = 1, the EMA is the last non-NULL value, both seedings.
SELECT i, x, stockext.ema(x, 1) OVER w AS first, stockext.ema(x, 1, 'sma') OVER w AS sma
FROM s WHERE sym = 'A' WINDOW w AS (ORDER BY i) ORDER BY i;

-- A partition shorter than span never seeds the 'sma' variant.
SELECT i, stockext.ema(x, 10, 'sma') OVER (ORDER BY i) FROM s WHERE sym = 'A' ORDER BY i;

-- Empty input: no rows.
SELECT stockext.ema(x, 3) OVER (ORDER BY i) FROM s WHERE false;

-- Ties in the window's ORDER BY: the order among peers is the order the
-- rows arrive in, as for every window function; break ties to be sure.
SELECT i, x, stockext.ema(x, 3) OVER (ORDER BY i, x) AS ema
FROM (VALUES (1, 4.0::float8), (1, 2.0), (2, 6.0)) v(i, x);

-- NaN and infinities follow IEEE arithmetic and stay once they entered:
-- 1, NaN, NaN; 1, Infinity, Infinity, then -Infinity makes NaN.
SELECT i, x, stockext.ema(x, 3) OVER (PARTITION BY g ORDER BY i) AS ema
FROM (VALUES ('nan', 1, 1.0::float8), ('nan', 2, 'NaN'), ('nan', 3, 5),
             ('inf', 1, 1.0), ('inf', 2, 'Infinity'), ('inf', 3, 5), ('inf', 4, '-Infinity')) v(g, i, x)
ORDER BY g, i;

-- Time-decayed: w = 0.5^((ts - ts_prev) / half_life), ema = w*prev + (1-w)*x.
-- half_life 1 hour.  Row by row:
--   00:00  x=10  seeds: 10
--   01:00  x=20  w=0.5: 15
--   01:00  x=99  same ts, w=1: stays 15 (a tie adds nothing)
--   01:30  NULL  repeats 15, and does not move ts_prev
--   03:00  x=35  w=0.5^2=0.25 (2 hours since 01:00): 0.25*15 + 0.75*35 = 30
--   next day 00:00  x=0  w=0.5^21 (21 hours): 30 * 0.5^21 = 1.430511474609375e-05
--   ts NULL (sorted last): skipped like a NULL x, repeats the previous value
CREATE TEMP TABLE ticks_irregular (ts timestamptz, x float8);
INSERT INTO ticks_irregular VALUES
    ('2026-11-20 00:00', 10), ('2026-11-20 01:00', 20), ('2026-11-20 01:00', 99),
    ('2026-11-20 01:30', NULL), ('2026-11-20 03:00', 35), (NULL, 1000), ('2026-11-21 00:00', 0);
SELECT ts, x, stockext.ema(x, ts, '1 hour') OVER (ORDER BY ts NULLS LAST, x) AS ema
FROM ticks_irregular ORDER BY ts NULLS LAST, x;

-- A day counts as 24 hours: '1 day' and '24 hours' agree.
SELECT count(*) FILTER (WHERE a IS DISTINCT FROM b) AS differ
FROM (SELECT stockext.ema(x, ts, '1 day') OVER w AS a, stockext.ema(x, ts, '24 hours') OVER w AS b
      FROM ticks_irregular WINDOW w AS (ORDER BY ts NULLS LAST, x)) q;

-- Half-life 30 minutes over a 30-minute step: w = 0.5 exactly.
SELECT stockext.ema(x, ts, '30 minutes') OVER (ORDER BY ts) AS ema
FROM (VALUES ('2026-11-20 00:00'::timestamptz, 1.0::float8), ('2026-11-20 00:30', 3.0)) v(ts, x);

-- Instants at the ends of the timestamptz range: w underflows to 0, no overflow.
SELECT ts, stockext.ema(x, ts, '1 hour') OVER (ORDER BY ts) AS ema
FROM (VALUES ('4713-01-01 00:00+00 BC'::timestamptz, 1.0::float8), ('294276-12-31 00:00+00', 2)) v(ts, x);

-- Bad arguments.  In full, with their detail and hint:
SELECT stockext.ema(x, i) OVER (ORDER BY i) FROM s;
SELECT stockext.ema(x, 3, 'ta-lib') OVER (ORDER BY i) FROM s;
SELECT stockext.ema(x, ts, '1 mon') OVER (ORDER BY ts) FROM ticks_irregular;
SELECT stockext.ema(x, ts, '1 hour') OVER (ORDER BY x) FROM ticks_irregular WHERE ts IS NOT NULL;
-- and each with its SQLSTATE:
SELECT pg_temp.error_of($$SELECT stockext.ema(x, 0) OVER (ORDER BY i) FROM s$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, -5, 'sma') OVER (ORDER BY i) FROM s$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, NULL) OVER (ORDER BY i) FROM s$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, i) OVER (PARTITION BY sym ORDER BY i) FROM s$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, 3, 'SMA') OVER (ORDER BY i) FROM s$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, 3, NULL) OVER (ORDER BY i) FROM s$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, 3, CASE WHEN i < 3 THEN 'sma' ELSE 'first' END) OVER (ORDER BY i) FROM s$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, ts, '1 month') OVER (ORDER BY ts) FROM ticks_irregular$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, ts, '0') OVER (ORDER BY ts) FROM ticks_irregular$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, ts, '-1 hour') OVER (ORDER BY ts) FROM ticks_irregular$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, ts, NULL) OVER (ORDER BY ts) FROM ticks_irregular$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, ts, make_interval(hours => i)) OVER (ORDER BY i) FROM (VALUES (1, now(), 1.0::float8), (2, now(), 2)) v(i, ts, x)$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(x, ts, '1 hour') OVER (ORDER BY ts DESC) FROM ticks_irregular$$);
SELECT pg_temp.error_of($$SELECT stockext.ema(1.0, 'infinity'::timestamptz, '1 hour') OVER ()$$);
-- The same argument on every row of one partition may differ between partitions.
SELECT sym, stockext.ema(x, length(sym) + 1) OVER (PARTITION BY sym ORDER BY i) AS ema
FROM (VALUES ('A', 1, 1.0::float8), ('A', 2, 4.0), ('BB', 1, 1.0), ('BB', 2, 4.0)) v(sym, i, x)
ORDER BY sym, i;

-- The declared labels.
SELECT p.oid::regprocedure AS function, p.prokind, p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p WHERE p.pronamespace = 'stockext'::regnamespace AND p.proname = 'ema'
ORDER BY p.oid::regprocedure::text;
