-- volatility: sample standard deviation of log returns, in frame order.
SET client_min_messages = warning;
SET timezone = 'UTC';
SET extra_float_digits = 0;

-- 100 -> 110 -> 99: returns ln(1.1) and ln(0.9); their sample standard
-- deviation is |ln(1.1) - ln(0.9)| / sqrt(2).
SELECT stockext.volatility(p ORDER BY i) AS vol,
       abs(ln(1.1) - ln(0.9)) / sqrt(2) AS by_hand
FROM (VALUES (1, 100.0::float8), (2, 110), (3, 99)) t(i, p);
-- Order matters: the same prices in another order give another result.
SELECT stockext.volatility(p ORDER BY i DESC) AS reversed,
       stockext.volatility(p ORDER BY p) AS sorted
FROM (VALUES (1, 100.0::float8), (2, 110), (3, 99)) t(i, p);
-- Fewer than three values (two returns): NULL; NULLs are skipped, so the
-- return spans them.
SELECT stockext.volatility(p ORDER BY i) FROM (VALUES (1, 100.0::float8), (2, 110)) t(i, p);
SELECT stockext.volatility(p ORDER BY i) FROM (VALUES (1, 100.0::float8)) t(i, p) WHERE false;
SELECT stockext.volatility(p ORDER BY i) = stockext.volatility(q ORDER BY i) AS nulls_skipped
FROM (VALUES (1, 100.0::float8, 100.0::float8), (2, NULL, 110), (3, 110, 99), (4, 99, NULL)) t(i, p, q);
-- A constant price has zero volatility.
SELECT stockext.volatility(p ORDER BY i) FROM (VALUES (1, 42.0::float8), (2, 42), (3, 42)) t(i, p);

-- Sliding frames against the lag-based SQL route: stddev_samp of
-- ln(p / lag(p)) over the frame's returns (a ROWS frame of W prices holds
-- W - 1 returns), across partitions.
SELECT setseed(0.11);
CREATE TEMP TABLE walk AS
SELECT sym, i, p FROM (
  SELECT sym, i, 100 * exp(sum(0.01 * (random() - 0.5)) OVER (PARTITION BY sym ORDER BY i)) AS p
  FROM unnest(ARRAY['X', 'Y', 'Z']) sym, generate_series(1, 2000) i) s;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE v5 IS NOT DISTINCT FROM r5 OR abs(v5 - r5) <= 1e-9 * r5) AS w5_ok,
       count(*) FILTER (WHERE v60 IS NOT DISTINCT FROM r60 OR abs(v60 - r60) <= 1e-9 * r60) AS w60_ok,
       count(*) FILTER (WHERE v5 IS NULL) AS warmup_nulls
FROM (SELECT stockext.volatility(p) OVER (PARTITION BY sym ORDER BY i ROWS 4 PRECEDING) AS v5,
             stockext.volatility(p) OVER (PARTITION BY sym ORDER BY i ROWS 59 PRECEDING) AS v60,
             CASE WHEN i >= 3 THEN stddev_samp(r) OVER (PARTITION BY sym ORDER BY i ROWS 3 PRECEDING) END AS r5,
             CASE WHEN i >= 3 THEN stddev_samp(r) OVER (PARTITION BY sym ORDER BY i ROWS 58 PRECEDING) END AS r60
      FROM (SELECT sym, i, p, ln(p / lag(p) OVER (PARTITION BY sym ORDER BY i)) AS r FROM walk) w) s;
-- A running frame (plain mode inside a window) and the plain aggregate.
SELECT bool_and(abs(v - r) <= 1e-9 * r) AS running_ok
FROM (SELECT stockext.volatility(p) OVER (PARTITION BY sym ORDER BY i) AS v,
             stddev_samp(r) OVER (PARTITION BY sym ORDER BY i) AS r
      FROM (SELECT sym, i, p, ln(p / lag(p) OVER (PARTITION BY sym ORDER BY i)) AS r FROM walk) w) s
WHERE r IS NOT NULL;
SELECT sym, abs(stockext.volatility(p ORDER BY i) - (SELECT stddev_samp(r) FROM
         (SELECT ln(p / lag(p) OVER (ORDER BY i)) AS r FROM walk w2 WHERE w2.sym = w.sym) x)) < 1e-15 AS plain_ok
FROM walk w GROUP BY sym ORDER BY sym;

-- RANGE frame with an interval offset over irregular bars, with a NULL.
SELECT ts, p, stockext.volatility(p) OVER (ORDER BY ts RANGE BETWEEN '15 minutes' PRECEDING AND CURRENT ROW) AS vol_15min
FROM (VALUES ('2026-11-20 14:30'::timestamptz, 100.0::float8), ('2026-11-20 14:31', 101),
             ('2026-11-20 14:40', 100), ('2026-11-20 14:44', NULL), ('2026-11-20 14:45', 102),
             ('2026-11-20 14:58', 101), ('2026-11-20 15:20', 99)) t(ts, p)
ORDER BY ts;

-- NaN or +Infinity make the returns next to them non-finite: NaN while they
-- are in the frame, finite again after.
SELECT i, p, stockext.volatility(p) OVER (ORDER BY i ROWS 3 PRECEDING) AS vol
FROM (VALUES (1, 100.0::float8), (2, 101), (3, 102), (4, 'NaN'), (5, 100), (6, 101), (7, 103),
             (8, 102), (9, 'Infinity'), (10, 100), (11, 100), (12, 100), (13, 100)) t(i, p)
ORDER BY i;

-- Zero or negative prices have no log return.
SELECT stockext.volatility(p ORDER BY i) FROM (VALUES (1, 100.0::float8), (2, 0)) t(i, p);
\echo :LAST_ERROR_SQLSTATE
SELECT stockext.volatility(p) OVER (ORDER BY i ROWS 2 PRECEDING) FROM (VALUES (1, 100.0::float8), (2, -5)) t(i, p);
\echo :LAST_ERROR_SQLSTATE

-- Annualizing: multiply by sqrt(bars per year), e.g. sqrt(252) for daily
-- bars, sqrt(252 * 390) for 1-minute US equity bars.
SELECT round((stockext.volatility(p ORDER BY i) * sqrt(252 * 390))::numeric, 6) AS annualized_1min
FROM walk WHERE sym = 'X';
