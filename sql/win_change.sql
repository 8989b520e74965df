-- pct_change() and volume_spike(): change against previous rows.
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

CREATE TEMP TABLE s (sym text, i int, x float8);
INSERT INTO s VALUES
    ('A', 1, 100), ('A', 2, 110), ('A', 3, NULL), ('A', 4, 99), ('A', 5, 0),
    ('A', 6, 50), ('A', 7, 75),
    ('B', 1, 42);                           -- a single-row partition

-- pct_change, n=1: 110 vs 100: 10; NULL vs 110: NULL; 99 vs NULL: NULL;
-- 0 vs 99: -100; 50 vs 0: NULL (division by zero); 75 vs 50: 50.
-- n=2 uses the row two back (not the second non-NULL value): 3: NULL,
-- 4: 99 vs 110 = -10; 5: 0 vs NULL; 6: 50 vs 99; 7: 75 vs 0: NULL.
-- n=7 reaches before the partition on every row: all NULL.
SELECT sym, i, x,
       stockext.pct_change(x) OVER w AS pct1,
       stockext.pct_change(x, 2) OVER w AS pct2,
       stockext.pct_change(x, 7) OVER w AS pct7
FROM s WINDOW w AS (PARTITION BY sym ORDER BY i)
ORDER BY sym, i;

-- Empty input.
SELECT stockext.pct_change(x) OVER (ORDER BY i) FROM s WHERE false;

-- Negative base, NaN and infinities: IEEE arithmetic, on the rows that use them.
SELECT i, x, stockext.pct_change(x) OVER (ORDER BY i) AS pct
FROM (VALUES (1, -4.0::float8), (2, -2), (3, 'NaN'), (4, 1), (5, 'Infinity'), (6, 2), (7, 3)) v(i, x)
ORDER BY i;

-- volume_spike(v, n=2, factor=1.5): v > 1.5 * mean of the non-NULL volumes
-- of the 2 previous rows; NULL on the first 2 rows, when v is NULL, or when
-- both previous volumes are NULL.
--   3: prev 100, 100 -> mean 100; 151 > 150: true
--   4: prev 100, 151 -> 125.5;   188 > 188.25: false
--   5: v NULL: NULL
--   6: prev 188, NULL -> 188;    283 > 282: true
--   7: prev NULL, 283 -> 283;    0 > 424.5: false
--   8: v NULL: NULL
--   9: prev 0, NULL -> 0;        1 > 0: true
CREATE TEMP TABLE v (sym text, i int, vol float8);
INSERT INTO v VALUES
    ('A', 1, 100), ('A', 2, 100), ('A', 3, 151), ('A', 4, 188), ('A', 5, NULL),
    ('A', 6, 283), ('A', 7, 0), ('A', 8, NULL), ('A', 9, 1),
    ('B', 1, 5), ('B', 2, 50),              -- shorter than n + 1
    ('C', 1, NULL), ('C', 2, NULL), ('C', 3, 10);  -- no previous volume
SELECT sym, i, vol, stockext.volume_spike(vol, 2, 1.5) OVER w AS spike
FROM v WINDOW w AS (PARTITION BY sym ORDER BY i)
ORDER BY sym, i;

-- Defaults n=3, factor=2: rows 4.. compare with twice the mean of 3 rows.
-- 4: prev 100, 100, 151 -> 117, 188 > 234: false;  6: prev 151, 188, NULL
-- -> 169.5, 283 <= 339: false;  9: prev 283, 0, NULL -> 141.5, false.
SELECT i, vol, stockext.volume_spike(vol) OVER (ORDER BY i) AS spike
FROM v WHERE sym = 'A' ORDER BY i;

-- Equal to factor times the mean is no spike; NaN sorts above every number
-- (PostgreSQL's float order); a mean with an infinity is infinite, and
-- 2 * 1e308 overflows to Infinity (IEEE) rather than raising an error.
SELECT i, vol, stockext.volume_spike(vol, 1, 2) OVER (ORDER BY i) AS spike
FROM (VALUES (1, 10.0::float8), (2, 20), (3, 'NaN'), (4, 5), (5, 'Infinity'), (6, 1e308), (7, 'Infinity')) t(i, vol)
ORDER BY i;

-- 5000 rows back do not fit in work_mem: the window's store spills to disk,
-- and pct_change reads 5000 rows back through it, as lag() does, and agrees
-- with it.
SET work_mem = '64kB';
SELECT count(*) AS rows, count(p) AS compared,
       count(*) FILTER (WHERE p IS DISTINCT FROM l) AS mismatches
FROM (SELECT stockext.pct_change(x, 5000) OVER w AS p,
             100 * (x - lag(x, 5000) OVER w) / nullif(lag(x, 5000) OVER w, 0) AS l
      FROM (SELECT i, 100 + sin(i) + i / 1000.0 AS x FROM generate_series(1, 20000) i) t
      WINDOW w AS (ORDER BY i)) q;
RESET work_mem;

-- Bad arguments.
SELECT pg_temp.error_of($$SELECT stockext.pct_change(x, 0) OVER (ORDER BY i) FROM s$$);
SELECT pg_temp.error_of($$SELECT stockext.pct_change(x, NULL) OVER (ORDER BY i) FROM s$$);
SELECT pg_temp.error_of($$SELECT stockext.pct_change(x, i) OVER (ORDER BY i) FROM s$$);
SELECT pg_temp.error_of($$SELECT stockext.volume_spike(vol, 0) OVER (ORDER BY i) FROM v$$);
SELECT pg_temp.error_of($$SELECT stockext.volume_spike(vol, 1000001) OVER (ORDER BY i) FROM v$$);
SELECT pg_temp.error_of($$SELECT stockext.volume_spike(vol, 3, 0) OVER (ORDER BY i) FROM v$$);
SELECT pg_temp.error_of($$SELECT stockext.volume_spike(vol, 3, -1) OVER (ORDER BY i) FROM v$$);
SELECT pg_temp.error_of($$SELECT stockext.volume_spike(vol, 3, 'NaN') OVER (ORDER BY i) FROM v$$);
SELECT pg_temp.error_of($$SELECT stockext.volume_spike(vol, 3, 'Infinity') OVER (ORDER BY i) FROM v$$);
SELECT pg_temp.error_of($$SELECT stockext.volume_spike(vol, 3, NULL) OVER (ORDER BY i) FROM v$$);
SELECT pg_temp.error_of($$SELECT stockext.volume_spike(vol, 3, i) OVER (ORDER BY i) FROM v$$);
SELECT pg_temp.error_of($$SELECT stockext.volume_spike(vol, i) OVER (ORDER BY i) FROM v$$);

-- Over stockext.ticks: volume is bigint, cast implicitly.
SELECT stockext.create_partitions('2026-11-01', '2026-11-30') >= 0 AS ok;
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'WIN', '2026-11-20 14:30+00'::timestamptz + g * interval '1 minute', '1 minute',
       100 + g, 100 + g, 100 + g, 100 + g, CASE WHEN g = 4 THEN 5000 ELSE 1000 END, 'test'
FROM generate_series(0, 5) g;
SELECT ts, close, volume,
       round(stockext.pct_change(close) OVER w::numeric, 6) AS pct,
       stockext.volume_spike(volume) OVER w AS spike
FROM stockext.ticks WHERE symbol = 'WIN' AND resolution = '1 minute'
WINDOW w AS (PARTITION BY symbol ORDER BY ts)
ORDER BY ts;
DELETE FROM stockext.ticks WHERE symbol = 'WIN';

SELECT p.oid::regprocedure AS function, p.prokind, p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p WHERE p.pronamespace = 'stockext'::regnamespace
  AND p.proname IN ('pct_change', 'volume_spike')
ORDER BY p.oid::regprocedure::text;
