-- Randomized cross-checks of every aggregate against its plain-SQL
-- equivalent over the same frames: thousands of rows in several
-- partitions, irregular timestamps, NULLs.
SET client_min_messages = warning;
SET timezone = 'UTC';

SELECT setseed(0.2024);
CREATE TEMP TABLE x AS
SELECT sym, ts, p, v FROM (
  SELECT sym, i,
         '2026-11-20'::timestamptz + i * interval '1 minute' + floor(random() * 40) * interval '1 second'
           + CASE WHEN random() < 0.02 THEN interval '2 hours' * floor(random() * 3) ELSE interval '0' END AS ts,
         CASE WHEN random() < 0.03 THEN NULL
              ELSE (1000 + 50 * sin(i / 40.0) + 10 * random())::float8 END AS p,
         CASE WHEN random() < 0.03 THEN NULL ELSE floor(random() * 5000)::float8 END AS v
  FROM unnest(ARRAY['AAA', 'BBB', 'CCC', 'DDD', 'EEE']) sym, generate_series(1, 1500) i) s;
-- Irregular but unique timestamps per symbol, so frame order is total.
DELETE FROM x a USING x b WHERE a.sym = b.sym AND a.ts = b.ts AND a.ctid > b.ctid;
SELECT count(*) > 7000 AS enough_rows, count(DISTINCT sym) AS partitions FROM x;

CREATE FUNCTION pg_temp.close_enough(a float8, b float8, tol float8) RETURNS bool
LANGUAGE sql IMMUTABLE AS $$
  SELECT (a IS NULL AND b IS NULL) OR abs(a - b) <= tol * greatest(abs(b), 1e-300)
$$;

-- sma, mstddev_*, vwap, mmax, mmin against avg, stddev_*, sum(p*v)/sum(v),
-- max, min at several ROWS widths and RANGE offsets.
CREATE FUNCTION pg_temp.check_frame(frame text, OUT rows bigint, OUT sma_ok bigint, OUT sd_samp_ok bigint,
                                    OUT sd_pop_ok bigint, OUT vwap_ok bigint, OUT extrema_ok bigint)
LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE format($q$
        SELECT count(*),
               count(*) FILTER (WHERE pg_temp.close_enough(sma, avg, 1e-13)),
               count(*) FILTER (WHERE pg_temp.close_enough(sds, ref_sds, 1e-9)),
               count(*) FILTER (WHERE pg_temp.close_enough(sdp, ref_sdp, 1e-9)),
               count(*) FILTER (WHERE pg_temp.close_enough(vw, ref_vw, 1e-12)),
               count(*) FILTER (WHERE hi IS NOT DISTINCT FROM ref_hi AND lo IS NOT DISTINCT FROM ref_lo)
        FROM (SELECT stockext.sma(p) OVER w AS sma, avg(p) OVER w AS avg,
                     stockext.mstddev_samp(p) OVER w AS sds, stddev_samp(p) OVER w AS ref_sds,
                     stockext.mstddev_pop(p) OVER w AS sdp, stddev_pop(p) OVER w AS ref_sdp,
                     stockext.vwap(p, v) OVER w AS vw,
                     sum(p * v) OVER w / nullif(sum(v) FILTER (WHERE p IS NOT NULL) OVER w, 0) AS ref_vw,
                     stockext.mmax(p) OVER w AS hi, max(p) OVER w AS ref_hi,
                     stockext.mmin(p) OVER w AS lo, min(p) OVER w AS ref_lo
              FROM x WINDOW w AS (PARTITION BY sym ORDER BY ts %s)) s
        $q$, frame)
    INTO rows, sma_ok, sd_samp_ok, sd_pop_ok, vwap_ok, extrema_ok;
END
$f$;
SELECT frame, (pg_temp.check_frame(frame)).*
FROM unnest(ARRAY['ROWS 0 PRECEDING', 'ROWS 2 PRECEDING', 'ROWS 19 PRECEDING', 'ROWS 199 PRECEDING',
                  'ROWS BETWEEN 5 PRECEDING AND 5 FOLLOWING',
                  'RANGE BETWEEN ''15 minutes'' PRECEDING AND CURRENT ROW',
                  'RANGE BETWEEN ''1 hour'' PRECEDING AND CURRENT ROW',
                  'RANGE BETWEEN ''10 minutes'' PRECEDING AND ''10 minutes'' FOLLOWING']) frame;

-- volatility against the lag-based route: the returns between consecutive
-- non-NULL prices, their stddev_samp over the frame's returns.  A RANGE
-- frame of prices [t - 1h, t] holds the returns whose earlier price is in
-- it, i.e. the returns stamped (t - 1h, t].
CREATE TEMP TABLE rets AS
SELECT sym, ts, p, ln(p / lag(p) OVER (PARTITION BY sym ORDER BY ts)) AS r,
       lag(ts) OVER (PARTITION BY sym ORDER BY ts) AS prev_ts
FROM x WHERE p IS NOT NULL;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE pg_temp.close_enough(vol, ref, 1e-9)) AS range_1h_ok,
       count(*) FILTER (WHERE vol IS NULL) AS null_frames
FROM (SELECT stockext.volatility(p) OVER (PARTITION BY sym ORDER BY ts RANGE BETWEEN '1 hour' PRECEDING AND CURRENT ROW) AS vol,
             (SELECT stddev_samp(r2.r) FROM rets r2
              WHERE r2.sym = x.sym AND r2.prev_ts >= x.ts - interval '1 hour' AND r2.ts <= x.ts) AS ref
      FROM x WHERE p IS NOT NULL) s;
SELECT count(*) AS rows, count(*) FILTER (WHERE pg_temp.close_enough(vol, ref, 1e-9)) AS rows_30_ok
FROM (SELECT stockext.volatility(p) OVER (PARTITION BY sym ORDER BY ts ROWS 29 PRECEDING) AS vol,
             CASE WHEN row_number() OVER (PARTITION BY sym ORDER BY ts) >= 3
                  THEN stddev_samp(r) OVER (PARTITION BY sym ORDER BY ts ROWS 28 PRECEDING) END AS ref
      FROM rets) s;

-- candle against first/last via array_agg ORDER BY, max, min, sum and
-- sum(p*v)/sum(v), in 30-minute buckets.
SELECT count(*) AS buckets,
       count(*) FILTER (WHERE (c).open = fo AND (c).close = lc AND (c).high = mh AND (c).low = ml
                          AND (c).count = n AND (c).first_ts = ft AND (c).last_ts = lt
                          AND (c).volume IS NOT DISTINCT FROM sv
                          AND pg_temp.close_enough((c).vwap, ref_vwap, 1e-13)) AS candle_ok,
       count(*) FILTER (WHERE c IS NULL AND n = 0) AS no_price_no_candle
FROM (SELECT stockext.candle(ts, p, v) AS c,
             (array_agg(p ORDER BY ts) FILTER (WHERE p IS NOT NULL))[1] AS fo,
             (array_agg(p ORDER BY ts DESC) FILTER (WHERE p IS NOT NULL))[1] AS lc,
             max(p) AS mh, min(p) AS ml, count(p) AS n,
             min(ts) FILTER (WHERE p IS NOT NULL) AS ft, max(ts) FILTER (WHERE p IS NOT NULL) AS lt,
             sum(v) FILTER (WHERE p IS NOT NULL) AS sv,
             sum(p * v) / nullif(sum(v) FILTER (WHERE p IS NOT NULL), 0) AS ref_vwap
      FROM x GROUP BY sym, date_bin('30 minutes', ts, '2026-01-01')) s;
