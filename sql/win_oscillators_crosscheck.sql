-- Randomized cross-checks of stoch, willr, adx, cci, mfi and obv against
-- plain SQL: max/min/avg/sum over ROWS frames and lag() for the sliding
-- ones, a recursive CTE written as TA-Lib's ADX loop for adx.  5 symbols x
-- 2100 bars with NULLs, flat bars and flat stretches; every count of
-- mismatches must be 0, and the counts of compared values show what was
-- compared.
SET client_min_messages = warning;
SET timezone = 'UTC';
SELECT setseed(0.1606);

-- a and b differ: one is NULL and not the other, or they are further apart
-- than 1e-9 relative to the larger of them or to scale (the indicator's
-- range, for values that may be near 0).
CREATE FUNCTION pg_temp.differ(a float8, b float8, scale float8 DEFAULT 0) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (a IS NULL) <> (b IS NULL)
        OR abs(a - b) > 1e-9 * greatest(abs(a), abs(b), scale)
$$;

-- i numbers the bars of a symbol from 1.  One bar in twenty is flat
-- (high = low = close), one step in ten does not move, and bars 500 to 540
-- are all one price (flat ranges, no true range, no money flow).
CREATE TEMP TABLE d (sym text, i int, high float8, low float8, close float8, vol float8,
                     PRIMARY KEY (sym, i));
INSERT INTO d
SELECT sym, i,
       CASE WHEN r_null < 0.03 THEN NULL WHEN flat THEN x ELSE x + spread_hi END,
       CASE WHEN r_null BETWEEN 0.03 AND 0.05 THEN NULL WHEN flat THEN x ELSE x - spread_lo END,
       CASE WHEN r_null BETWEEN 0.05 AND 0.06 THEN NULL
            WHEN flat THEN x ELSE x - spread_lo + (spread_hi + spread_lo) * r_close END,
       CASE WHEN r_vol < 0.04 THEN NULL ELSE floor(r_vol * 10000) END
FROM (SELECT sym, i, r_null, r_vol, r_close, spread_hi, spread_lo, flat,
             100 + sum(step) OVER (PARTITION BY sym ORDER BY i) AS x
      FROM (SELECT s AS sym, i, random() AS r_null, random() AS r_vol, random() AS r_close,
                   CASE WHEN random() < 0.1 OR i BETWEEN 500 AND 540 THEN 0
                        ELSE round((random() - 0.5)::numeric, 2)::float8 END AS step,
                   round(random()::numeric, 2)::float8 AS spread_hi, round(random()::numeric, 2)::float8 AS spread_lo,
                   random() < 0.05 OR i BETWEEN 500 AND 540 AS flat
            FROM unnest(ARRAY['AAA', 'BBB', 'CCC', 'DDD', 'EEE']) s, generate_series(1, 2100) i) r) q;
-- The complete bars of each indicator, numbered j from 1.
CREATE TEMP TABLE hlc AS
SELECT sym, i, row_number() OVER (PARTITION BY sym ORDER BY i)::int AS j, high, low, close, vol,
       (high + low + close) / 3 AS tp
FROM d WHERE high IS NOT NULL AND low IS NOT NULL AND close IS NOT NULL;
ALTER TABLE hlc ADD PRIMARY KEY (sym, j);
CREATE TEMP TABLE hlcv AS
SELECT sym, i, row_number() OVER (PARTITION BY sym ORDER BY i)::int AS j, tp, vol
FROM hlc WHERE vol IS NOT NULL;
CREATE TEMP TABLE cv AS
SELECT sym, i, row_number() OVER (PARTITION BY sym ORDER BY i)::int AS j, close, vol
FROM d WHERE close IS NOT NULL AND vol IS NOT NULL;
SELECT count(*) AS rows, count(DISTINCT sym) AS symbols,
       (SELECT count(*) FROM hlc) AS complete_bars, (SELECT count(*) FROM hlcv) AS with_volume,
       count(*) FILTER (WHERE high = low) AS flat_bars
FROM d;

-- The functions under test, once.
CREATE TEMP TABLE got AS
SELECT sym, i,
       stockext.willr(high, low, close) OVER w AS willr,
       stockext.stoch(high, low, close) OVER w AS stoch,
       stockext.stoch(high, low, close, 5, 1, 4) OVER w AS stoch_514,
       stockext.adx(high, low, close) OVER w AS adx,
       stockext.adx(high, low, close, 3) OVER w AS adx3,
       stockext.cci(high, low, close) OVER w AS cci,
       stockext.mfi(high, low, close, vol) OVER w AS mfi,
       stockext.obv(close, vol) OVER w AS obv
FROM d WINDOW w AS (PARTITION BY sym ORDER BY i);

-- willr(14) and stoch(14, 3, 3), stoch(5, 1, 4): the range of the last k
-- complete bars, fast %K, then avg() over the last k_smooth and d rows.
CREATE TEMP TABLE ranges AS
SELECT sym, i, j, close, hh14, ll14, hh5, ll5,
       CASE WHEN j >= 14 THEN CASE WHEN hh14 = ll14 THEN -50 ELSE (hh14 - close) / ((hh14 - ll14) / -100) END END AS willr,
       CASE WHEN j >= 14 THEN CASE WHEN hh14 = ll14 THEN 50 ELSE (close - ll14) / ((hh14 - ll14) / 100) END END AS fk14,
       CASE WHEN j >= 5 THEN CASE WHEN hh5 = ll5 THEN 50 ELSE (close - ll5) / ((hh5 - ll5) / 100) END END AS fk5
FROM (SELECT sym, i, j, close,
             max(high) OVER w14 AS hh14, min(low) OVER w14 AS ll14, max(high) OVER w5 AS hh5, min(low) OVER w5 AS ll5
      FROM hlc WINDOW w14 AS (PARTITION BY sym ORDER BY j ROWS 13 PRECEDING),
                      w5 AS (PARTITION BY sym ORDER BY j ROWS 4 PRECEDING)) q;
CREATE TEMP TABLE slow AS
SELECT sym, i, j, willr,
       CASE WHEN j >= 16 THEN avg(fk14) OVER (w ROWS 2 PRECEDING) END AS sk14,
       fk5 AS sk5
FROM ranges WINDOW w AS (PARTITION BY sym ORDER BY j);
CREATE TEMP TABLE slowd AS
SELECT sym, i, j, willr, sk14, sk5,
       CASE WHEN j >= 18 THEN avg(sk14) OVER (w ROWS 2 PRECEDING) END AS sd14,
       CASE WHEN j >= 8 THEN avg(sk5) OVER (w ROWS 3 PRECEDING) END AS sd5
FROM slow WINDOW w AS (PARTITION BY sym ORDER BY j);
SELECT 'willr' AS check, count(s.willr) AS compared,
       count(*) FILTER (WHERE pg_temp.differ(g.willr, s.willr, 100)) AS mismatches,
       count(*) FILTER (WHERE s.willr = -50 AND g.willr = -50) AS flat_ranges
FROM slowd s JOIN got g USING (sym, i);
SELECT 'stoch' AS check, count(s.sd14) + count(s.sd5) AS compared,
       count(*) FILTER (WHERE pg_temp.differ((g.stoch).k, CASE WHEN s.j >= 18 THEN s.sk14 END, 100)
                           OR pg_temp.differ((g.stoch).d, s.sd14, 100)
                           OR pg_temp.differ((g.stoch_514).k, CASE WHEN s.j >= 8 THEN s.sk5 END, 100)
                           OR pg_temp.differ((g.stoch_514).d, s.sd5, 100)) AS mismatches
FROM slowd s JOIN got g USING (sym, i);

-- cci(20): the typical price against avg() of the last 20 and their mean
-- absolute deviation from that average (a join over the 20 bars).  A flat
-- window is 0: avg() of 20 equal values may miss them by an ulp, which
-- would make (tp - avg) / deviation a ratio of rounding errors.
SELECT 'cci' AS check, count(ref) AS compared,
       count(*) FILTER (WHERE pg_temp.differ(g.cci, ref, 100)) AS mismatches
FROM (SELECT c.sym, c.i,
             CASE WHEN c.j < 20 THEN NULL WHEN c.tp - c.m = 0 OR dev.md = 0 OR dev.flat THEN 0
                  ELSE (c.tp - c.m) / (0.015 * dev.md) END AS ref
      FROM (SELECT sym, i, j, tp, avg(tp) OVER (PARTITION BY sym ORDER BY j ROWS 19 PRECEDING) AS m FROM hlc) c
      CROSS JOIN LATERAL (SELECT sum(abs(h.tp - c.m)) / 20 AS md, max(h.tp) = min(h.tp) AS flat FROM hlc h
                          WHERE h.sym = c.sym AND h.j BETWEEN c.j - 19 AND c.j) dev) r
JOIN got g USING (sym, i);

-- mfi(14): money flows from lag() of the typical price, sums of the last 14.
SELECT 'mfi' AS check, count(ref) AS compared,
       count(*) FILTER (WHERE pg_temp.differ(g.mfi, ref, 100)) AS mismatches
FROM (SELECT sym, i, CASE WHEN j >= 15 THEN CASE WHEN pos + neg = 0 THEN 50 ELSE 100 * (pos / (pos + neg)) END END AS ref
      FROM (SELECT sym, i, j, sum(CASE WHEN tp > prev THEN tp * vol ELSE 0 END) OVER w AS pos,
                   sum(CASE WHEN tp < prev THEN tp * vol ELSE 0 END) OVER w AS neg
            FROM (SELECT *, lag(tp) OVER (PARTITION BY sym ORDER BY j) AS prev FROM hlcv) l
            WINDOW w AS (PARTITION BY sym ORDER BY j ROWS 13 PRECEDING)) s) r
JOIN got g USING (sym, i);

-- obv: the first volume, then a running sum of signed volumes (exact: the
-- volumes are integers).
SELECT 'obv' AS check, count(ref) AS compared,
       count(*) FILTER (WHERE g.obv IS DISTINCT FROM ref) AS mismatches
FROM (SELECT sym, i, sum(CASE WHEN j = 1 OR close > prev THEN vol WHEN close < prev THEN -vol ELSE 0 END)
                     OVER (PARTITION BY sym ORDER BY j) AS ref
      FROM (SELECT *, lag(close) OVER (PARTITION BY sym ORDER BY j) AS prev FROM cv) l) r
JOIN got g USING (sym, i);

-- adx(n) as TA-Lib's loop, bar b = j - 1 from 0: DMs and true ranges summed
-- over bars 1 .. n-1, smoothed as s - s/n + x from bar n on; DIs from bar
-- n; DX summed over bars n .. 2n-1 (a missing DX counts 0), first ADX on
-- bar 2n-1, then (adx (n-1) + dx) / n, unchanged when DX is missing.
CREATE FUNCTION pg_temp.adx_mismatches(n int, OUT compared bigint, OUT mismatches bigint)
LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE format($q$
    WITH RECURSIVE a AS (
        SELECT sym, j, high, low, close, 0::float8 AS pdm, 0::float8 AS mdm, 0::float8 AS tr,
               0::float8 AS sdx, NULL::float8 AS adx, NULL::float8 AS pdi, NULL::float8 AS mdi
        FROM hlc WHERE j = 1
        UNION ALL
        SELECT h.sym, h.j, h.high, h.low, h.close, s.pdm, s.mdm, s.tr,
               CASE WHEN h.j - 1 BETWEEN %1$s AND 2 * %1$s - 1 THEN a.sdx + coalesce(x.dx, 0) ELSE a.sdx END,
               CASE WHEN h.j - 1 = 2 * %1$s - 1 THEN (a.sdx + coalesce(x.dx, 0)) / %1$s
                    WHEN h.j - 1 > 2 * %1$s - 1 THEN coalesce(((a.adx * (%1$s - 1)) + x.dx) / %1$s, a.adx) END,
               di.pdi, di.mdi
        FROM a JOIN hlc h ON h.sym = a.sym AND h.j = a.j + 1
        CROSS JOIN LATERAL (SELECT h.high - a.high AS dp, a.low - h.low AS dm,
                                   greatest(h.high - h.low, abs(a.close - h.high), abs(a.close - h.low)) AS tr) c
        CROSS JOIN LATERAL (SELECT CASE WHEN c.dm > 0 AND c.dp < c.dm THEN c.dm ELSE 0 END AS m,
                                   CASE WHEN c.dm > 0 AND c.dp < c.dm THEN 0
                                        WHEN c.dp > 0 AND c.dp > c.dm THEN c.dp ELSE 0 END AS p) v
        CROSS JOIN LATERAL (
            SELECT CASE WHEN h.j - 1 < %1$s THEN a.pdm + v.p ELSE (a.pdm - a.pdm / %1$s) + v.p END AS pdm,
                   CASE WHEN h.j - 1 < %1$s THEN a.mdm + v.m ELSE (a.mdm - a.mdm / %1$s) + v.m END AS mdm,
                   CASE WHEN h.j - 1 < %1$s THEN a.tr + c.tr ELSE a.tr - (a.tr / %1$s) + c.tr END AS tr) s
        CROSS JOIN LATERAL (
            SELECT CASE WHEN h.j - 1 < %1$s THEN NULL WHEN s.tr <> 0 THEN 100 * (s.pdm / s.tr) ELSE 0 END AS pdi,
                   CASE WHEN h.j - 1 < %1$s THEN NULL WHEN s.tr <> 0 THEN 100 * (s.mdm / s.tr) ELSE 0 END AS mdi) di
        CROSS JOIN LATERAL (
            SELECT CASE WHEN s.tr <> 0 AND di.pdi + di.mdi <> 0
                        THEN 100 * (abs(di.mdi - di.pdi) / (di.mdi + di.pdi)) END AS dx) x)
    SELECT count(a.adx) + count(a.pdi),
           count(*) FILTER (WHERE pg_temp.differ((g.%2$I).adx, a.adx, 100)
                               OR pg_temp.differ((g.%2$I).plus_di, a.pdi, 100)
                               OR pg_temp.differ((g.%2$I).minus_di, a.mdi, 100))
    FROM a JOIN hlc USING (sym, j) JOIN got g USING (sym, i)
    $q$, n, CASE n WHEN 14 THEN 'adx' ELSE 'adx' || n END)
    INTO compared, mismatches;
END
$f$;
SELECT 'adx(' || n || ')' AS check, (pg_temp.adx_mismatches(n)).* FROM unnest(ARRAY[14, 3]) n;
-- No result before the (n + 1)-th complete bar (the rows above are complete bars only).
SELECT 'adx before its first bar' AS check, count(*) AS compared,
       count(*) FILTER (WHERE g.adx IS NOT NULL) AS mismatches
FROM got g WHERE i < (SELECT min(i) FROM hlc h WHERE h.sym = g.sym AND h.j = 15);

-- A bar with a NULL input repeats the previous row's result.
SELECT 'null rows repeat' AS check, count(*) AS compared,
       count(*) FILTER (WHERE ((high IS NULL OR low IS NULL OR close IS NULL)
                               AND (willr IS DISTINCT FROM pw OR stoch IS DISTINCT FROM ps
                                    OR adx IS DISTINCT FROM pa OR cci IS DISTINCT FROM pc))
                           OR ((high IS NULL OR low IS NULL OR close IS NULL OR vol IS NULL)
                               AND mfi IS DISTINCT FROM pm)
                           OR ((close IS NULL OR vol IS NULL) AND obv IS DISTINCT FROM po)) AS mismatches
FROM (SELECT d.*, g.willr, g.stoch, g.adx, g.cci, g.mfi, g.obv,
             lag(g.willr) OVER w AS pw, lag(g.stoch) OVER w AS ps, lag(g.adx) OVER w AS pa,
             lag(g.cci) OVER w AS pc, lag(g.mfi) OVER w AS pm, lag(g.obv) OVER w AS po
      FROM d JOIN got g USING (sym, i) WINDOW w AS (PARTITION BY d.sym ORDER BY d.i)) q
WHERE (high IS NULL OR low IS NULL OR close IS NULL OR vol IS NULL) AND i > 1;
