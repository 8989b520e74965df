-- mmax, mmin: rolling high and low; plain mode and the moving deque.
SET client_min_messages = warning;
SET timezone = 'UTC';

-- Plain aggregates: max/min, NULLs skipped, NaN above every number.
SELECT stockext.mmax(x), max(x), stockext.mmin(x), min(x)
FROM (VALUES (3.0::float8), (NULL), (-1), (7), (7)) t(x);
SELECT stockext.mmax(x), stockext.mmin(x) FROM (VALUES (1.0::float8)) t(x) WHERE false;
SELECT stockext.mmax(x), stockext.mmin(x) FROM (VALUES (NULL::float8)) t(x);
SELECT stockext.mmax(x), stockext.mmin(x) FROM (VALUES (1.0::float8), ('NaN'), ('-Infinity')) t(x);
SELECT stockext.mmax(x), stockext.mmin(x) FROM (VALUES ('NaN'::float8), ('NaN')) t(x);

-- Sliding frames: ties, NULLs, NaN entering and leaving, a decreasing run
-- (the deque holds the whole frame) and an increasing one (it holds one).
SELECT i, x, stockext.mmax(x) OVER w AS mmax, max(x) OVER w AS max,
       stockext.mmin(x) OVER w AS mmin, min(x) OVER w AS min
FROM (VALUES (1, 5.0::float8), (2, 5), (3, NULL), (4, 4), (5, 3), (6, 2), (7, 'NaN'), (8, 6),
             (9, 7), (10, 8), (11, 8), (12, NULL), (13, NULL), (14, NULL), (15, 1)) t(i, x)
WINDOW w AS (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
ORDER BY i;

-- Frames that are empty for some rows, a single-row partition, RANGE with
-- an interval offset over irregular bars.
SELECT sym, ts, p,
       stockext.mmax(p) OVER w AS high_15min, stockext.mmin(p) OVER w AS low_15min,
       stockext.mmax(p) OVER (PARTITION BY sym ORDER BY ts ROWS BETWEEN 3 PRECEDING AND 2 PRECEDING) AS lagged_high
FROM (VALUES ('A', '2026-11-20 14:30'::timestamptz, 100.0::float8), ('A', '2026-11-20 14:31', 101),
             ('A', '2026-11-20 14:40', 103), ('A', '2026-11-20 14:44', 102), ('A', '2026-11-20 14:46', 99),
             ('A', '2026-11-20 15:20', 98), ('B', '2026-11-20 14:30', 50)) t(sym, ts, p)
WINDOW w AS (PARTITION BY sym ORDER BY ts RANGE BETWEEN '15 minutes' PRECEDING AND CURRENT ROW)
ORDER BY sym, ts;

-- Randomized: 6000 rows in 4 partitions with NULLs, NaN and many ties,
-- against max/min over the same frames, moving and not.
SELECT setseed(0.7);
CREATE TEMP TABLE r AS
SELECT (i % 4) AS part, i,
       CASE WHEN random() < 0.05 THEN NULL WHEN random() < 0.01 THEN 'NaN'::float8
            ELSE floor(random() * 50)::float8 END AS x,
       '2026-11-20'::timestamptz + (i * interval '1 minute') + floor(random() * 50) * interval '1 second' AS ts
FROM generate_series(1, 6000) i;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE a1 IS NOT DISTINCT FROM b1 AND c1 IS NOT DISTINCT FROM d1) AS rows_w1,
       count(*) FILTER (WHERE a7 IS NOT DISTINCT FROM b7 AND c7 IS NOT DISTINCT FROM d7) AS rows_w7,
       count(*) FILTER (WHERE a100 IS NOT DISTINCT FROM b100 AND c100 IS NOT DISTINCT FROM d100) AS rows_w100,
       count(*) FILTER (WHERE ac IS NOT DISTINCT FROM bc AND cc IS NOT DISTINCT FROM dc) AS centered,
       count(*) FILTER (WHERE ar IS NOT DISTINCT FROM br AND cr IS NOT DISTINCT FROM dr) AS range_1h,
       count(*) FILTER (WHERE au IS NOT DISTINCT FROM bu AND cu IS NOT DISTINCT FROM du) AS running,
       count(*) FILTER (WHERE ae IS NOT DISTINCT FROM be AND ce IS NOT DISTINCT FROM de) AS excluding
FROM (SELECT stockext.mmax(x) OVER (p ROWS 0 PRECEDING) a1, max(x) OVER (p ROWS 0 PRECEDING) b1,
             stockext.mmin(x) OVER (p ROWS 0 PRECEDING) c1, min(x) OVER (p ROWS 0 PRECEDING) d1,
             stockext.mmax(x) OVER (p ROWS 6 PRECEDING) a7, max(x) OVER (p ROWS 6 PRECEDING) b7,
             stockext.mmin(x) OVER (p ROWS 6 PRECEDING) c7, min(x) OVER (p ROWS 6 PRECEDING) d7,
             stockext.mmax(x) OVER (p ROWS 99 PRECEDING) a100, max(x) OVER (p ROWS 99 PRECEDING) b100,
             stockext.mmin(x) OVER (p ROWS 99 PRECEDING) c100, min(x) OVER (p ROWS 99 PRECEDING) d100,
             stockext.mmax(x) OVER (p ROWS BETWEEN 5 PRECEDING AND 5 FOLLOWING) ac,
             max(x) OVER (p ROWS BETWEEN 5 PRECEDING AND 5 FOLLOWING) bc,
             stockext.mmin(x) OVER (p ROWS BETWEEN 5 PRECEDING AND 5 FOLLOWING) cc,
             min(x) OVER (p ROWS BETWEEN 5 PRECEDING AND 5 FOLLOWING) dc,
             stockext.mmax(x) OVER (pt RANGE BETWEEN '1 hour' PRECEDING AND CURRENT ROW) ar,
             max(x) OVER (pt RANGE BETWEEN '1 hour' PRECEDING AND CURRENT ROW) br,
             stockext.mmin(x) OVER (pt RANGE BETWEEN '1 hour' PRECEDING AND CURRENT ROW) cr,
             min(x) OVER (pt RANGE BETWEEN '1 hour' PRECEDING AND CURRENT ROW) dr,
             stockext.mmax(x) OVER (p ROWS UNBOUNDED PRECEDING) au, max(x) OVER (p ROWS UNBOUNDED PRECEDING) bu,
             stockext.mmin(x) OVER (p ROWS UNBOUNDED PRECEDING) cu, min(x) OVER (p ROWS UNBOUNDED PRECEDING) du,
             stockext.mmax(x) OVER (p ROWS 3 PRECEDING EXCLUDE CURRENT ROW) ae,
             max(x) OVER (p ROWS 3 PRECEDING EXCLUDE CURRENT ROW) be,
             stockext.mmin(x) OVER (p ROWS 3 PRECEDING EXCLUDE CURRENT ROW) ce,
             min(x) OVER (p ROWS 3 PRECEDING EXCLUDE CURRENT ROW) de
      FROM r WINDOW p AS (PARTITION BY part ORDER BY i), pt AS (PARTITION BY part ORDER BY ts)) s;

-- GROUP BY and the state type.
SELECT part, stockext.mmax(x) = max(x) AS max_ok, stockext.mmin(x) = min(x) AS min_ok
FROM r GROUP BY part ORDER BY part;
SELECT s::text, s::text::stockext.extremum_state::text = s::text AS round_trip
FROM (SELECT stockext.mmax_trans(stockext.mmax_trans(NULL, 0.1), 1/3.0) AS s) t;
SELECT stockext.extremum_final('(-0)'), stockext.extremum_final('(-Infinity)');
SELECT '(1,2)'::stockext.extremum_state;
