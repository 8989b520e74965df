-- stoch(), willr(), adx(), cci(), mfi(), obv(): TA-Lib's indicators on bars,
-- values worked out by hand, warm-up, NULL/NaN/Infinity, bad arguments.
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

-- Seven bars; bar 4 has no low, so it does not enter stoch, willr, adx,
-- cci or mfi (they repeat bar 3's result) but enters obv, which reads
-- only close and volume.  The complete bars are
--   (h, l, c, v) = (10, 8, 9, 100) (11, 9, 10, 200) (12, 10, 11.5, 150)
--                  (11, 7, 8, 300) (9, 8, 8.5, 50) (10, 8.5, 9.5, 80).
CREATE TEMP TABLE b (i int, h float8, l float8, c float8, v float8);
INSERT INTO b VALUES (1, 10, 8, 9, 100), (2, 11, 9, 10, 200), (3, 12, 10, 11.5, 150),
    (4, 13, NULL, 12, 10), (5, 11, 7, 8, 300), (6, 9, 8, 8.5, 50), (7, 10, 8.5, 9.5, 80);

-- willr(3): -100 * (highest high - close) / (highest high - lowest low)
-- over the last 3 complete bars: bar 3: -100 * 0.5 / 4 = -12.5; bar 5:
-- -100 * 4 / 5 = -80; bar 6: -100 * 3.5 / 5 = -70; bar 7: -100 * 1.5 / 4 = -37.5.
-- stoch(3, 2, 2): fast %K = 100 * (close - lowest) / (highest - lowest):
-- 87.5, 20, 30, 62.5 on bars 3, 5, 6, 7; slow %K their 2-bar means 53.75,
-- 25, 46.25 from bar 5; slow %D the 2-bar means of those, 39.375, 35.625
-- from bar 6, where both fields start.
-- obv: 100, +200, +150, +10 (bar 4: close 12 > 11.5), -300, +50, +80.
SELECT i, stockext.willr(h, l, c, 3) OVER w AS willr, stockext.stoch(h, l, c, 3, 2, 2) OVER w AS stoch,
       stockext.obv(c, v) OVER w AS obv
FROM b WINDOW w AS (ORDER BY i) ORDER BY i;

-- adx(2).  Changes from the previous complete bar: +DM = high - prev high
-- when it is positive and above -DM = prev low - low, and conversely;
-- true range as atr's.
--   bar 2: +DM 1, -DM 0, TR 2       (TA-Lib seeds with the sums of n-1 = 1 change)
--   bar 3: +DM 1, TR 2: smoothed S - S/2 + x: +DM 1.5, -DM 0, TR 3
--          +DI = 100 * 1.5 / 3 = 50, -DI 0, DX = 100 * |50 - 0| / 50 = 100
--   bar 5: -DM 3, TR 4.5: +DM 0.75, -DM 3, TR 6: +DI 12.5, -DI 50, DX 60;
--          first ADX = mean of the first n DX = (100 + 60) / 2 = 80
--   bar 6: no DM, TR 1: +DM 0.375, -DM 1.5, TR 4: +DI 9.375, -DI 37.5, DX 60
--          ADX = (80 * 1 + 60) / 2 = 70
--   bar 7: +DM 1, TR 1.5: +DM 1.1875, -DM 0.75, TR 3.5: +DI 33.9285714,
--          -DI 21.4285714, DX 22.5806452, ADX 46.2903226
-- The DIs start on bar n + 1 (TA-Lib's PLUS_DI/MINUS_DI), the ADX on bar 2n.
SELECT i, round((a).adx::numeric, 7) AS adx, round((a).plus_di::numeric, 7) AS plus_di,
       round((a).minus_di::numeric, 7) AS minus_di
FROM (SELECT i, stockext.adx(h, l, c, 2) OVER (ORDER BY i) AS a FROM b) q ORDER BY i;

-- cci(3): typical prices tp = (h + l + c) / 3: 9, 10, 11.1666667, 8.6666667,
-- 8.5, 9.3333333.  Bar 3: mean 10.0555556, mean deviation
-- (1.0555556 + 0.0555556 + 1.1111111) / 3 = 0.7407407, CCI =
-- 1.1111111 / (0.015 * 0.7407407) = 100.  Bar 5: mean 9.9444444,
-- deviation (0.0555556 + 1.2222222 + 1.2777778) / 3 = 0.8518519,
-- CCI = -1.2777778 / 0.0127778 = -100.  Bar 6: mean 9.4444444, deviation
-- (1.7222222 + 0.7777778 + 0.9444444) / 3 = 1.1481481, CCI = -54.8387097.
-- mfi(2): money flow tp * v, positive when tp rose, negative when it fell:
-- bar 2 +2000, bar 3 +1675, bar 5 -2600, bar 6 -425, bar 7 +746.6666667;
-- over the last 2 flows: 100, 100 * 1675 / 4275 = 39.1812865, 0,
-- 100 * 746.6666667 / 1171.6666667 = 63.7268848.
SELECT i, round(stockext.cci(h, l, c, 3) OVER w::numeric, 7) AS cci,
       round(stockext.mfi(h, l, c, v, 2) OVER w::numeric, 7) AS mfi
FROM b WINDOW w AS (ORDER BY i) ORDER BY i;

-- Flat bars: no range, no move, no flow.  stoch is 50 and willr -50 (the
-- middle of their scales; TA-Lib: 0), cci 0 (as TA-Lib), mfi 50 (TA-Lib:
-- 0), adx 0 with both DIs 0 (no true range: no DX, which counts as 0 in
-- the first ADX, as in TA-Lib).
SELECT i, stockext.stoch(x, x, x, 2, 1, 1) OVER w AS stoch, stockext.willr(x, x, x, 2) OVER w AS willr,
       stockext.cci(x, x, x, 2) OVER w AS cci, stockext.mfi(x, x, x, 10, 2) OVER w AS mfi,
       stockext.adx(x, x, x, 2) OVER w AS adx
FROM (SELECT g AS i, 5.0::float8 AS x FROM generate_series(1, 5) g) v WINDOW w AS (ORDER BY i) ORDER BY i;

-- Period 1: willr and stoch of a single bar; cci of one bar is 0.
SELECT i, stockext.willr(h, l, c, 1) OVER w AS willr, stockext.stoch(h, l, c, 1, 1, 1) OVER w AS stoch,
       stockext.cci(h, l, c, 1) OVER w AS cci
FROM b WHERE l IS NOT NULL WINDOW w AS (ORDER BY i) ORDER BY i;

-- NaN in the sliding ones (willr, stoch, cci, mfi): NaN while a bar with a
-- NaN high, low or close is among the last n (mfi: among the last n flows,
-- the bar's and the next one's), then numbers again.  In the recursive
-- ones it stays: adx is NaN from there on; obv adds a NaN volume for good.
-- A NaN close is no rise or fall for obv (IEEE comparisons), nor for the
-- next bar's.
SELECT i, h, stockext.willr(h, l, c, 2) OVER w AS willr, (stockext.stoch(h, l, c, 2, 1, 1) OVER w).k AS stoch_k,
       stockext.cci(h, l, c, 2) OVER w AS cci, stockext.mfi(h, l, c, v, 1) OVER w AS mfi,
       (stockext.adx(h, l, c, 1) OVER w).adx AS adx
FROM (SELECT i, CASE WHEN i = 3 THEN 'NaN' ELSE h END AS h, l, c, v FROM b WHERE l IS NOT NULL) q
WINDOW w AS (ORDER BY i) ORDER BY i;
SELECT i, c, v, stockext.obv(c, v) OVER (ORDER BY i) AS obv
FROM (VALUES (1, 1.0::float8, 10.0::float8), (2, 2, 10), (3, 'NaN', 10), (4, 3, 10), (5, 4, 10),
             (6, 5, 'NaN'), (7, 6, 10)) v(i, c, v) ORDER BY i;

-- Infinities follow IEEE arithmetic: an infinite high makes the range
-- infinite, so willr is NaN (Infinity / -Infinity) while it is in the window.
SELECT i, stockext.willr(h, l, c, 2) OVER (ORDER BY i) AS willr
FROM (VALUES (1, 10.0::float8, 8.0::float8, 9.0::float8), (2, 'Infinity', 9, 10), (3, 12, 10, 11),
             (4, 12, 10, 11)) v(i, h, l, c) ORDER BY i;

-- Partitions are independent; a single bar has no result but obv's.
SELECT s, i, stockext.willr(h, l, c, 2) OVER w AS willr, stockext.obv(c, v) OVER w AS obv
FROM (SELECT 'A' AS s, * FROM b WHERE i <= 3 UNION ALL SELECT 'B', 1, 5, 4, 4.5, 7) q
WINDOW w AS (PARTITION BY s ORDER BY i) ORDER BY s, i;

-- Warm-up with the defaults: the first non-NULL result is on bar
-- stoch 18 (k + k_smooth + d - 2), willr 14 (n), adx's DIs 15 (n + 1) and
-- adx 28 (2n), cci 20 (n), mfi 15 (n + 1), obv 1.
SELECT min(i) FILTER (WHERE st IS NOT NULL) AS stoch, min(i) FILTER (WHERE wr IS NOT NULL) AS willr,
       min(i) FILTER (WHERE (a).plus_di IS NOT NULL) AS adx_di, min(i) FILTER (WHERE (a).adx IS NOT NULL) AS adx,
       min(i) FILTER (WHERE cc IS NOT NULL) AS cci, min(i) FILTER (WHERE mf IS NOT NULL) AS mfi,
       min(i) FILTER (WHERE ob IS NOT NULL) AS obv
FROM (SELECT i, stockext.stoch(x + 1, x - 1, x) OVER w AS st, stockext.willr(x + 1, x - 1, x) OVER w AS wr,
             stockext.adx(x + 1, x - 1, x) OVER w AS a, stockext.cci(x + 1, x - 1, x) OVER w AS cc,
             stockext.mfi(x + 1, x - 1, x, 100) OVER w AS mf, stockext.obv(x, 100) OVER w AS ob
      FROM (SELECT g AS i, 100 + sin(g) AS x FROM generate_series(1, 50) g) v
      WINDOW w AS (ORDER BY i)) q;

-- Bad arguments, the first in full:
SELECT stockext.stoch(h, l, c, 14, i) OVER (ORDER BY i) FROM b;
SELECT pg_temp.error_of($$SELECT stockext.stoch(h, l, c, 0) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.stoch(h, l, c, 14, 0) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.stoch(h, l, c, 14, 3, NULL) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.stoch(h, l, c, 2000000) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.willr(h, l, c, -1) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.willr(h, l, c, i) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.adx(h, l, c, 0) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.adx(h, l, c, NULL) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.cci(h, l, c, 2000000) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.cci(h, l, c, i) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.mfi(h, l, c, v, 0) OVER (ORDER BY i) FROM b$$);
SELECT pg_temp.error_of($$SELECT stockext.mfi(h, l, c, v, i) OVER (ORDER BY i) FROM b$$);

SELECT p.oid::regprocedure AS function, p.prokind, p.provolatile, p.proparallel, p.proisstrict,
       p.prorettype::regtype AS returns
FROM pg_proc p WHERE p.pronamespace = 'stockext'::regnamespace
  AND p.proname IN ('stoch', 'willr', 'adx', 'cci', 'mfi', 'obv')
ORDER BY p.oid::regprocedure::text;
