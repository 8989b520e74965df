-- rsi(), macd(), bbands(), atr(): TA-Lib's indicators and warm-up.
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

-- RSI, period 3, over 10 11 10 NULL 12 12 11: changes +1 -1 +2 0 -1.
-- First value on the 4th non-NULL x: gains (1+2)/3 = 1, losses 1/3:
-- 100 * 1 / (4/3) = 75.  Then Wilder: change 0: gain 2/3, loss 2/9: 75;
-- change -1: gain 4/9, loss (4/9 + 1)/3 = 13/27: 100 * 12/25 = 48.
-- Partition F is flat: 50 (no move, neither gains nor losses), then a rise
-- makes it 100.  D only falls: 0.  S has a single row.
CREATE TEMP TABLE r (sym text, i int, x float8);
INSERT INTO r VALUES
    ('A', 1, 10), ('A', 2, 11), ('A', 3, 10), ('A', 4, NULL), ('A', 5, 12), ('A', 6, 12), ('A', 7, 11),
    ('F', 1, 5), ('F', 2, 5), ('F', 3, 5), ('F', 4, 5), ('F', 5, 6),
    ('D', 1, 9), ('D', 2, 8), ('D', 3, 7), ('D', 4, 6),
    ('S', 1, 1);
SELECT sym, i, x, stockext.rsi(x, 3) OVER w AS rsi
FROM r WINDOW w AS (PARTITION BY sym ORDER BY i)
ORDER BY sym, i;

-- An independent reference: the worked RSI(14) example of StockCharts'
-- ChartSchool (33 closes), whose published values from row 15 on are
-- 70.53 66.32 66.55 69.41 66.36 57.97 62.93 63.26 56.06 62.38 54.71 50.42
-- 39.99 41.46 41.87 45.46 37.30 33.08 37.77.
SELECT i, x, round(stockext.rsi(x) OVER (ORDER BY i)::numeric, 2) AS rsi
FROM unnest(ARRAY[44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245,
                  45.8433, 46.0826, 45.8931, 46.0328, 45.6140, 46.2820, 46.2820, 46.0028,
                  46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521, 45.7137, 46.4515,
                  45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628,
                  43.1314]::float8[]) WITH ORDINALITY u(x, i)
ORDER BY i;

-- NaN enters Wilder's averages and stays, as in TA-Lib.
SELECT i, x, stockext.rsi(x, 1) OVER (ORDER BY i) AS rsi
FROM (VALUES (1, 1.0::float8), (2, 2), (3, 'NaN'), (4, 3)) v(i, x) ORDER BY i;

-- ATR, period 2.  True range = max(high - low, |high - prev close|, |low - prev close|):
-- bar 2: max(2, 2, 0) = 2; bar 3: max(2, 2, 0) = 2 -> first ATR (2 + 2)/2 = 2;
-- bar 4 (low NULL) is skipped; bar 5: max(4, 0.5, 4.5) = 4.5 -> (2 + 4.5)/2
-- = 3.25; bar 6: max(1, 1, 0) = 1 -> (3.25 + 1)/2 = 2.125.
SELECT i, high, low, close, stockext.atr(high, low, close, 2) OVER (ORDER BY i) AS atr
FROM (VALUES (1, 10.0::float8, 8.0::float8, 9.0::float8), (2, 11, 9, 10), (3, 12, 10, 11.5),
             (4, 13, NULL, 12), (5, 11, 7, 8), (6, 9, 8, 8.5)) v(i, high, low, close)
ORDER BY i;

-- period 1: the ATR is the true range, from the second bar.
SELECT i, stockext.atr(h, l, c, 1) OVER (ORDER BY i) AS atr
FROM (VALUES (1, 10.0::float8, 8.0::float8, 9.0::float8), (2, 11, 9, 10), (3, 12, 10, 11.5)) v(i, h, l, c)
ORDER BY i;

-- MACD fast 2, slow 3, signal 2 over 1 3 2 5 4 6.  On the 3rd value the slow
-- EMA is seeded with mean(1, 3, 2) = 2 and, as TA-Lib does, the fast one
-- with the mean of the last 2 values, mean(3, 2) = 2.5: line 0.5.  Then
-- (k = 1/2 slow, 2/3 fast, 2/3 signal):
--   5: slow 3.5, fast 4.1666667, line 0.6666667, signal seeded with
--      mean(0.5, 0.6666667) = 0.5833333, histogram 0.0833333
--   4: slow 3.75, fast 4.0555556, line 0.3055556, signal 0.3981481, hist -0.0925926
--   6: slow 4.875, fast 5.3518519, line 0.4768519, signal 0.4506173, hist 0.0262346
-- TA-Lib outputs nothing before line and signal both exist: row slow+signal-1.
SELECT i, x, round((m).line::numeric, 7) AS line, round((m).signal::numeric, 7) AS signal,
       round((m).histogram::numeric, 7) AS histogram
FROM (SELECT i, x, stockext.macd(x, 2, 3, 2) OVER (ORDER BY i) AS m
      FROM (VALUES (1, 1.0::float8), (2, 3), (3, 2), (4, NULL), (5, 5), (6, 4), (7, 6)) v(i, x)) q
ORDER BY i;

-- fast = slow makes a zero line.
SELECT DISTINCT (stockext.macd(x, 3, 3, 1) OVER (ORDER BY i)).line
FROM (SELECT g AS i, (g * 37 % 11)::float8 AS x FROM generate_series(1, 10) g) v
ORDER BY 1;

-- Bollinger bands, period 3, k 2, population standard deviation:
-- 1 2 3: mean 2, sd sqrt(2/3) = 0.8164966 -> (2, 3.6329932, 0.3670068);
-- 2 3 4: (3, 4.6329932, 1.3670068); NULL repeats; 3 4 10: mean 5.6666667,
-- variance 86/9 = 9.5555556, sd 3.0912062 -> (5.6666667, 11.8490790, -0.5157457).
SELECT i, x, round((b).middle::numeric, 7) AS middle, round((b).upper::numeric, 7) AS upper,
       round((b).lower::numeric, 7) AS lower
FROM (SELECT i, x, stockext.bbands(x, 3) OVER (ORDER BY i) AS b
      FROM (VALUES (1, 1.0::float8), (2, 2), (3, 3), (4, 4), (5, NULL), (6, 10)) v(i, x)) q
ORDER BY i;

-- A flat series has zero width; k = 0 too.
SELECT (stockext.bbands(x, 2, 1) OVER (ORDER BY i)).*, (stockext.bbands(x + i, 2, 0) OVER (ORDER BY i)).*
FROM (VALUES (1, 5.0::float8), (2, 5), (3, 5)) v(i, x) ORDER BY i;

-- NaN or an infinity inside the window: the middle is NaN or infinite and
-- the bands NaN, only while that value is among the last period values.
SELECT g, i, x, stockext.bbands(x, 2, 1) OVER (PARTITION BY g ORDER BY i) AS b
FROM (VALUES ('nan', 1, 1.0::float8), ('nan', 2, 'NaN'), ('nan', 3, 3), ('nan', 4, 5),
             ('inf', 1, 1.0), ('inf', 2, 'Infinity'), ('inf', 3, 3), ('inf', 4, 5),
             ('both', 1, '-Infinity'), ('both', 2, 'Infinity'), ('both', 3, 3), ('both', 4, 5)) v(g, i, x)
ORDER BY g, i;

-- Warm-up with the defaults: the first non-NULL result is on row
-- rsi 15 (period + 1), atr 15, bbands 20 (period), macd 34 (slow + signal - 1),
-- ema 'sma' 20 (span), ema 'first' 1.
SELECT min(i) FILTER (WHERE rsi IS NOT NULL) AS rsi, min(i) FILTER (WHERE atr IS NOT NULL) AS atr,
       min(i) FILTER (WHERE bb IS NOT NULL) AS bbands, min(i) FILTER (WHERE m IS NOT NULL) AS macd,
       min(i) FILTER (WHERE e_sma IS NOT NULL) AS ema_sma, min(i) FILTER (WHERE e IS NOT NULL) AS ema
FROM (SELECT i, stockext.rsi(x) OVER w AS rsi, stockext.atr(x + 1, x - 1, x) OVER w AS atr,
             stockext.bbands(x) OVER w AS bb, stockext.macd(x) OVER w AS m,
             stockext.ema(x, 20, 'sma') OVER w AS e_sma, stockext.ema(x, 20) OVER w AS e
      FROM (SELECT g AS i, 100 + sin(g) AS x FROM generate_series(1, 50) g) v
      WINDOW w AS (ORDER BY i)) q;

-- Numerics: prices near 1e5 moving by 1e-4, a random walk of 2^17 + k * 2^-13
-- (exact in float8 and in numeric).  With period 2 the standard deviation
-- of {a, b} is |a - b| / 2, exact; with period 20 the reference is
-- stddev_pop over the exact numeric values.  Both agree within 1e-9
-- relative on 20000 rows, where sqrt(avg(x^2) - avg(x)^2) in float8 is off
-- by far more on nearly every row.  (k = 1e6 puts the bands far enough from
-- the middle that upper - middle keeps the standard deviation's digits.)
SELECT setseed(0.42);
CREATE TEMP TABLE walk AS
SELECT i, 131072 + k * 2 ^ -13 AS x, 131072 + k * 0.0001220703125 AS xn
FROM (SELECT i, sum(CASE WHEN random() < 0.5 THEN -1 ELSE 1 END) OVER (ORDER BY i) AS k
      FROM generate_series(1, 20000) i) q;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE abs(w2 - abs(x - px) / 2) > 1e-9 * abs(x - px) / 2) AS bad_period2,
       count(*) FILTER (WHERE abs(w20 - sd20) > 1e-9 * sd20) AS bad_period20,
       count(*) FILTER (WHERE abs(naive20 - sd20) > 1e-9 * sd20) AS naive_bad_period20
FROM (SELECT i, x, lag(x) OVER w AS px,
             ((stockext.bbands(x, 2, 1e6) OVER w).upper - (stockext.bbands(x, 2, 1e6) OVER w).middle) / 1e6 AS w2,
             ((stockext.bbands(x, 20, 1e6) OVER w).upper - (stockext.bbands(x, 20, 1e6) OVER w).middle) / 1e6 AS w20,
             stddev_pop(xn) OVER (w ROWS 19 PRECEDING)::float8 AS sd20,
             sqrt(greatest(avg(x * x) OVER (w ROWS 19 PRECEDING) - avg(x) OVER (w ROWS 19 PRECEDING) ^ 2, 0)) AS naive20
      FROM walk WINDOW w AS (ORDER BY i)) q
WHERE i >= 20;

-- A bad tick: one price of 1e9 among prices near 100.  While it is in the
-- window the bands are huge; once it has left, the standard deviation is
-- again that of the prices near 100 to 1e-9 (subtracting its square from
-- the running sums would have cancelled every digit of theirs; the window
-- is recomputed instead).  Reference: stddev_pop over numeric.
SELECT setseed(0.1);
CREATE TEMP TABLE outlier AS
SELECT i, CASE WHEN i = 30 THEN 1e9 ELSE 100 + round((random() * 10)::numeric, 2) END::float8 AS x
FROM generate_series(1, 200) i;
SELECT count(*) AS rows, count(*) FILTER (WHERE abs(sd - ref) > 1e-9 * ref) AS bad
FROM (SELECT i, (stockext.bbands(x, 20, 1) OVER w).upper - (stockext.bbands(x, 20, 1) OVER w).middle AS sd,
             stddev_pop(x::numeric) OVER (w ROWS 19 PRECEDING)::float8 AS ref
      FROM outlier WINDOW w AS (ORDER BY i)) q
WHERE i >= 20;

-- Bad arguments, the first in full:
SELECT stockext.macd(x, 26, 12) OVER (ORDER BY i) FROM r;
SELECT stockext.bbands(x, 2000000) OVER (ORDER BY i) FROM r;
SELECT pg_temp.error_of($$SELECT stockext.rsi(x, 0) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.rsi(x, NULL) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.rsi(x, i) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.atr(x, x, x, -1) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.atr(x, x, x, i) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.macd(x, 0) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.macd(x, 12, 26, 0) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.macd(x, 26, 12) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.macd(x, 12, 26, i) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.bbands(x, 0) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.bbands(x, 2000000) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.bbands(x, 20, -1) OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.bbands(x, 20, 'NaN') OVER (ORDER BY i) FROM r$$);
SELECT pg_temp.error_of($$SELECT stockext.bbands(x, 20, i) OVER (ORDER BY i) FROM r$$);

SELECT p.oid::regprocedure AS function, p.prokind, p.provolatile, p.proparallel, p.proisstrict,
       p.prorettype::regtype AS returns
FROM pg_proc p WHERE p.pronamespace = 'stockext'::regnamespace
  AND p.proname IN ('rsi', 'macd', 'bbands', 'atr')
ORDER BY p.oid::regprocedure::text;
