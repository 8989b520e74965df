-- Randomized cross-checks of the window functions against plain SQL:
-- recursive CTEs for the recursive averages (EMA both seedings, the
-- time-decayed EMA, Wilder's RSI and ATR, TA-Lib's MACD), lag() for
-- pct_change and volume_spike, avg/stddev_pop for bbands.  5 symbols x 1200
-- rows with NULLs, ties in time and flat stretches; every count of
-- mismatches must be 0, and the counts of compared values show what was
-- compared.
SET client_min_messages = warning;
SET timezone = 'UTC';
SELECT setseed(0.2026);

-- a and b differ: one is NULL and not the other, or they are further apart
-- than 1e-9 relative to the larger of them (or to scale, for values that
-- are differences of prices and may be near 0).
CREATE FUNCTION pg_temp.differ(a float8, b float8, scale float8 DEFAULT 0) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (a IS NULL) <> (b IS NULL)
        OR abs(a - b) > 1e-9 * greatest(abs(a), abs(b), scale)
$$;

-- i numbers the rows of a symbol from 1; j numbers its rows with a price.
CREATE TEMP TABLE d (sym text, i int, ts timestamptz, x float8, high float8, low float8, vol float8,
                     PRIMARY KEY (sym, i));
INSERT INTO d (sym, i, ts, x, high, low, vol)
SELECT sym, i,
       '2026-11-20'::timestamptz + sum(gap) OVER (PARTITION BY sym ORDER BY i) * interval '1 second',
       CASE WHEN r_null < 0.05 THEN NULL ELSE x END,
       CASE WHEN r_null < 0.05 THEN NULL ELSE x + spread_hi END,
       CASE WHEN r_null < 0.07 THEN NULL ELSE x - spread_lo END,
       CASE WHEN r_vol < 0.05 THEN NULL ELSE floor(r_vol * 10000) END
FROM (SELECT sym, i, r_null, r_vol, gap, spread_hi, spread_lo,
             100 + sum(step) OVER (PARTITION BY sym ORDER BY i) AS x
      FROM (SELECT s AS sym, i, random() AS r_null, random() AS r_vol,
                   -- about one step in ten is flat, one gap in ten a tie
                   CASE WHEN random() < 0.1 THEN 0 ELSE round((random() - 0.5)::numeric, 2)::float8 END AS step,
                   CASE WHEN random() < 0.1 THEN 0 ELSE floor(random() * 600) END AS gap,
                   random() AS spread_hi, random() AS spread_lo
            FROM unnest(ARRAY['AAA', 'BBB', 'CCC', 'DDD', 'EEE']) s, generate_series(1, 1200) i) r) q;
-- The rows with a price, numbered, for the indicators that skip NULLs.
CREATE TEMP TABLE p AS
SELECT sym, i, row_number() OVER (PARTITION BY sym ORDER BY i)::int AS j, ts, x
FROM d WHERE x IS NOT NULL;
ALTER TABLE p ADD PRIMARY KEY (sym, j);
CREATE TEMP TABLE hlc AS
SELECT sym, i, row_number() OVER (PARTITION BY sym ORDER BY i)::int AS j, high, low, x AS close
FROM d WHERE x IS NOT NULL AND high IS NOT NULL AND low IS NOT NULL;
ALTER TABLE hlc ADD PRIMARY KEY (sym, j);
SELECT count(*) AS rows, count(x) AS prices, count(vol) AS volumes, count(DISTINCT sym) AS symbols,
       count(*) - count(DISTINCT (sym, ts)) AS tied_timestamps
FROM d;

-- The functions under test, once.
CREATE TEMP TABLE got AS
SELECT sym, i, x,
       stockext.ema(x, 10) OVER w AS ema_first,
       stockext.ema(x, 10, 'sma') OVER w AS ema_sma,
       stockext.ema(x, ts, '15 minutes') OVER w AS ema_decay,
       stockext.pct_change(x) OVER w AS pct1,
       stockext.pct_change(x, 5) OVER w AS pct5,
       stockext.volume_spike(vol) OVER w AS spike3,
       stockext.volume_spike(vol, 20, 1.5) OVER w AS spike20,
       stockext.rsi(x) OVER w AS rsi,
       stockext.atr(high, low, x) OVER w AS atr,
       stockext.macd(x) OVER w AS macd,
       stockext.bbands(x) OVER w AS bb
FROM d WINDOW w AS (PARTITION BY sym ORDER BY i);

-- EMA seeded with the first value: ema = a*x + (1-a)*prev, a = 2/11.
WITH RECURSIVE e AS (
    SELECT sym, i, x AS ema FROM d WHERE i = 1
    UNION ALL
    SELECT d.sym, d.i,
           CASE WHEN d.x IS NULL THEN e.ema
                WHEN e.ema IS NULL THEN d.x
                ELSE (2.0::float8 / 11) * d.x + (1 - 2.0::float8 / 11) * e.ema END
    FROM e JOIN d ON d.sym = e.sym AND d.i = e.i + 1)
SELECT 'ema first' AS check, count(e.ema) AS compared,
       count(*) FILTER (WHERE pg_temp.differ(g.ema_first, e.ema)) AS mismatches
FROM e JOIN got g USING (sym, i);

-- EMA seeded with the mean of the first 10 prices, then prev + k*(x - prev).
WITH RECURSIVE e AS (
    SELECT sym, i, (x IS NOT NULL)::int AS n, coalesce(x, 0) AS s, NULL::float8 AS ema FROM d WHERE i = 1
    UNION ALL
    SELECT d.sym, d.i,
           e.n + (d.x IS NOT NULL AND e.n < 10)::int,
           CASE WHEN d.x IS NOT NULL AND e.n < 10 THEN e.s + d.x ELSE e.s END,
           CASE WHEN d.x IS NULL THEN e.ema
                WHEN e.n < 9 THEN NULL
                WHEN e.n = 9 THEN (e.s + d.x) / 10
                ELSE (d.x - e.ema) * (2.0::float8 / 11) + e.ema END
    FROM e JOIN d ON d.sym = e.sym AND d.i = e.i + 1)
SELECT 'ema sma' AS check, count(e.ema) AS compared,
       count(*) FILTER (WHERE pg_temp.differ(g.ema_sma, e.ema)) AS mismatches
FROM e JOIN got g USING (sym, i);

-- Time-decayed EMA, half-life 15 minutes.
WITH RECURSIVE e AS (
    SELECT sym, i, ts AS last_ts, x AS ema FROM d WHERE i = 1
    UNION ALL
    SELECT d.sym, d.i,
           CASE WHEN d.x IS NULL THEN e.last_ts ELSE d.ts END,
           CASE WHEN d.x IS NULL THEN e.ema
                WHEN e.ema IS NULL THEN d.x
                ELSE w * e.ema + (1 - w) * d.x END
    FROM e JOIN d ON d.sym = e.sym AND d.i = e.i + 1
    CROSS JOIN LATERAL (SELECT power(0.5::float8, extract(epoch FROM d.ts - e.last_ts)::float8 / 900) AS w) k)
SELECT 'ema half-life' AS check, count(e.ema) AS compared,
       count(*) FILTER (WHERE pg_temp.differ(g.ema_decay, e.ema)) AS mismatches
FROM e JOIN got g USING (sym, i);

-- pct_change against lag().
SELECT 'pct_change' AS check, count(l1) + count(l5) AS compared,
       count(*) FILTER (WHERE pg_temp.differ(pct1, l1) OR pg_temp.differ(pct5, l5)) AS mismatches
FROM (SELECT g.pct1, g.pct5,
             100 * (d.x - lag(d.x) OVER w) / nullif(lag(d.x) OVER w, 0) AS l1,
             100 * (d.x - lag(d.x, 5) OVER w) / nullif(lag(d.x, 5) OVER w, 0) AS l5
      FROM d JOIN got g USING (sym, i) WINDOW w AS (PARTITION BY d.sym ORDER BY d.i)) q;

-- volume_spike against avg() over the n previous rows (exact: a boolean).
SELECT 'volume_spike' AS check, count(s3) + count(s20) AS compared,
       count(*) FILTER (WHERE spike3 IS DISTINCT FROM s3 OR spike20 IS DISTINCT FROM s20) AS mismatches,
       count(*) FILTER (WHERE s3) AS spikes3, count(*) FILTER (WHERE s20) AS spikes20
FROM (SELECT g.spike3, g.spike20,
             CASE WHEN d.i > 3 THEN d.vol > 2 * avg(d.vol) OVER (w ROWS BETWEEN 3 PRECEDING AND 1 PRECEDING) END AS s3,
             CASE WHEN d.i > 20 THEN d.vol > 1.5 * avg(d.vol) OVER (w ROWS BETWEEN 20 PRECEDING AND 1 PRECEDING) END AS s20
      FROM d JOIN got g USING (sym, i) WINDOW w AS (PARTITION BY d.sym ORDER BY d.i)) q;

-- bbands(20, 2) against avg and stddev_pop over the last 20 prices.
SELECT 'bbands' AS check, count(m) AS compared,
       count(*) FILTER (WHERE pg_temp.differ((bb).middle, m)
                           OR pg_temp.differ(((bb).upper - (bb).middle) / 2, sd)
                           OR pg_temp.differ(((bb).middle - (bb).lower) / 2, sd)) AS mismatches
FROM (SELECT g.bb,
             CASE WHEN p.j >= 20 THEN avg(p.x) OVER w END AS m,
             CASE WHEN p.j >= 20 THEN stddev_pop(p.x) OVER w END AS sd
      FROM p JOIN got g USING (sym, i) WINDOW w AS (PARTITION BY p.sym ORDER BY p.j ROWS 19 PRECEDING)) q;

-- RSI(14), Wilder: sums of the first 14 gains and losses, then (avg*13 + x)/14.
WITH RECURSIVE r AS (
    SELECT sym, j, x, 0 AS n, 0::float8 AS g, 0::float8 AS l, NULL::float8 AS rsi FROM p WHERE j = 1
    UNION ALL
    SELECT p.sym, p.j, p.x, least(r.n + 1, 14), s.g, s.l,
           CASE WHEN r.n + 1 < 14 THEN NULL
                WHEN s.g + s.l = 0 THEN 50
                ELSE 100 * (s.g / (s.g + s.l)) END
    FROM r JOIN p ON p.sym = r.sym AND p.j = r.j + 1
    CROSS JOIN LATERAL (SELECT greatest(p.x - r.x, 0) AS up, greatest(r.x - p.x, 0) AS down) c
    CROSS JOIN LATERAL (
        SELECT CASE WHEN r.n < 13 THEN r.g + c.up WHEN r.n = 13 THEN (r.g + c.up) / 14 ELSE (r.g * 13 + c.up) / 14 END AS g,
               CASE WHEN r.n < 13 THEN r.l + c.down WHEN r.n = 13 THEN (r.l + c.down) / 14 ELSE (r.l * 13 + c.down) / 14 END AS l) s)
SELECT 'rsi' AS check, count(r.rsi) AS compared,
       count(*) FILTER (WHERE pg_temp.differ(g.rsi, r.rsi)) AS mismatches
FROM r JOIN p USING (sym, j) JOIN got g USING (sym, i);

-- ATR(14): true ranges from the second complete bar, their mean, then Wilder.
WITH RECURSIVE a AS (
    SELECT sym, j, close, 0 AS n, 0::float8 AS atr FROM hlc WHERE j = 1
    UNION ALL
    SELECT h.sym, h.j, h.close, least(a.n + 1, 14),
           CASE WHEN a.n < 13 THEN a.atr + t.tr WHEN a.n = 13 THEN (a.atr + t.tr) / 14 ELSE (a.atr * 13 + t.tr) / 14 END
    FROM a JOIN hlc h ON h.sym = a.sym AND h.j = a.j + 1
    CROSS JOIN LATERAL (SELECT greatest(h.high - h.low, abs(a.close - h.high), abs(a.close - h.low)) AS tr) t)
SELECT 'atr' AS check, count(*) FILTER (WHERE a.n = 14) AS compared,
       count(*) FILTER (WHERE pg_temp.differ(g.atr, CASE WHEN a.n = 14 THEN a.atr END)) AS mismatches
FROM a JOIN hlc USING (sym, j) JOIN got g USING (sym, i);

-- MACD(12, 26, 9), TA-Lib: slow EMA seeded with the mean of prices 1..26,
-- fast with the mean of prices 15..26, signal with the mean of the first 9
-- lines; output from price 34 on.
WITH RECURSIVE m AS (
    SELECT sym, j, x AS slow, 0::float8 AS fast, NULL::float8 AS line, 0::float8 AS sig FROM p WHERE j = 1
    UNION ALL
    SELECT p.sym, p.j, s.slow, s.fast, l.line,
           CASE WHEN p.j < 26 THEN 0
                WHEN p.j < 34 THEN m.sig + l.line
                WHEN p.j = 34 THEN (m.sig + l.line) / 9
                ELSE (l.line - m.sig) * (2.0::float8 / 10) + m.sig END
    FROM m JOIN p ON p.sym = m.sym AND p.j = m.j + 1
    CROSS JOIN LATERAL (
        SELECT CASE WHEN p.j < 26 THEN m.slow + p.x WHEN p.j = 26 THEN (m.slow + p.x) / 26
                    ELSE (p.x - m.slow) * (2.0::float8 / 27) + m.slow END AS slow,
               CASE WHEN p.j < 15 THEN 0 WHEN p.j < 26 THEN m.fast + p.x WHEN p.j = 26 THEN (m.fast + p.x) / 12
                    ELSE (p.x - m.fast) * (2.0::float8 / 13) + m.fast END AS fast) s
    CROSS JOIN LATERAL (SELECT CASE WHEN p.j >= 26 THEN s.fast - s.slow END AS line) l)
SELECT 'macd' AS check, count(*) FILTER (WHERE m.j >= 34) AS compared,
       count(*) FILTER (WHERE (g.macd IS NULL) <> (m.j < 34)
                           OR pg_temp.differ((g.macd).line, m.line, 100)
                           OR pg_temp.differ((g.macd).signal, m.sig, 100)
                           OR pg_temp.differ((g.macd).histogram, m.line - m.sig, 100)) AS mismatches
FROM m JOIN p USING (sym, j) JOIN got g USING (sym, i)
WHERE m.j >= 34 OR g.macd IS NOT NULL;

-- A row whose input is NULL repeats the previous row's result.
SELECT 'null rows repeat' AS check, count(*) AS compared,
       count(*) FILTER (WHERE ema_first IS DISTINCT FROM pe OR ema_sma IS DISTINCT FROM ps
                           OR ema_decay IS DISTINCT FROM pd OR rsi IS DISTINCT FROM pr
                           OR macd IS DISTINCT FROM pm OR bb IS DISTINCT FROM pb) AS mismatches
FROM (SELECT g.*, lag(ema_first) OVER w AS pe, lag(ema_sma) OVER w AS ps, lag(ema_decay) OVER w AS pd,
             lag(rsi) OVER w AS pr, lag(macd) OVER w AS pm, lag(bb) OVER w AS pb
      FROM got g WINDOW w AS (PARTITION BY sym ORDER BY i)) q
WHERE x IS NULL AND i > 1;
