-- Rollup metrics: log_returns summaries (volatility that rolls up), the
-- metric states of add_rollup(metrics => ...), and calendar widths.
SET client_min_messages = warning;
SET timezone = 'UTC';
SET extra_float_digits = 0;

-- By hand: prices 100, 110, 99 have the returns ln(1.1) and ln(0.9); the
-- summary's volatility is their sample standard deviation, as the
-- volatility aggregate's.
SELECT stockext.volatility(s) = v AS same_as_aggregate,
       abs(stockext.volatility(s) - abs(ln(1.1) - ln(0.9)) / sqrt(2)) < 1e-15 AS by_hand,
       s::text
FROM (SELECT stockext.log_returns(ts, p ORDER BY ts) AS s, stockext.volatility(p ORDER BY ts) AS v
      FROM (VALUES ('2025-06-02 10:00'::timestamptz, 100::float8), ('2025-06-02 10:01', 110), ('2025-06-02 10:02', 99)) t(ts, p)) x;
-- Two summaries join with the return across their boundary, in either order.
SELECT stockext.volatility(stockext.rollup(s ORDER BY k)) = stockext.volatility(stockext.rollup(s ORDER BY k DESC)) AS either_order,
       abs(stockext.volatility(stockext.rollup(s ORDER BY k)) - abs(ln(1.1) - ln(0.9)) / sqrt(2)) < 1e-15 AS joined
FROM (SELECT 1 AS k, stockext.log_returns(ts, p) AS s FROM (VALUES ('2025-06-02 10:00'::timestamptz, 100::float8), ('2025-06-02 10:01', 110)) t(ts, p)
      UNION ALL
      SELECT 2, stockext.log_returns(ts, p) FROM (VALUES ('2025-06-02 10:02'::timestamptz, 99::float8)) t(ts, p)) x;
-- NULLs skipped, below three prices NULL, empty NULL.
SELECT stockext.volatility(stockext.log_returns(ts, p)) IS NULL AS two_prices_null,
       stockext.log_returns(ts, p) FILTER (WHERE false) IS NULL AS empty_null
FROM (VALUES ('2025-06-02 10:00'::timestamptz, 100::float8), ('2025-06-02 10:01', NULL), ('2025-06-02 10:02', 99)) t(ts, p);
-- Errors: rows out of order, summaries that interleave, non-positive prices.
\set VERBOSITY default
SELECT stockext.log_returns(ts, p ORDER BY ts DESC)
FROM (VALUES ('2025-06-02 10:00'::timestamptz, 100::float8), ('2025-06-02 10:01', 110)) t(ts, p);
SELECT stockext.rollup(s ORDER BY k)
FROM (SELECT 1 AS k, stockext.log_returns(ts, p ORDER BY ts) AS s FROM (VALUES ('2025-06-02 10:00'::timestamptz, 100::float8), ('2025-06-02 10:02', 110)) t(ts, p)
      UNION ALL
      SELECT 2, stockext.log_returns(ts, p) FROM (VALUES ('2025-06-02 10:01'::timestamptz, 99::float8)) t(ts, p)) x;
SELECT stockext.log_returns(now(), 0);
\set VERBOSITY terse

-- The state's text and binary forms round-trip exactly; equality is slot by slot.
CREATE TEMP TABLE states AS
SELECT stockext.log_returns(ts, p ORDER BY ts) AS s, stockext.moments(p) AS m
FROM (SELECT '2025-06-02'::timestamptz + i * interval '1 minute' AS ts, 100 + sin(i) / 3 AS p
      FROM generate_series(1, 50) i) t;
SELECT '/tmp/stockext_rollup_metrics_' || pg_backend_pid() || '.bin' AS binfile \gset
\set out 'cat > ' :binfile
\set in 'cat ' :binfile '; rm -f ' :binfile
COPY states TO PROGRAM :'out' (FORMAT binary);
CREATE TEMP TABLE copied (LIKE states);
COPY copied FROM PROGRAM :'in' (FORMAT binary);
SELECT s::text::stockext.returns_state::text = s::text AS text_round_trip,
       (SELECT c.s OPERATOR(stockext.=) s AND c.m OPERATOR(stockext.=) m AND c.s::text = s::text FROM copied c) AS binary_round_trip,
       s OPERATOR(stockext.=) s AS equal_to_itself,
       (SELECT count(*) FROM (SELECT DISTINCT x FROM (VALUES (s), (s::text::stockext.returns_state)) v(x)) d) AS distinct_states
FROM states;
SELECT '(1,0,0,0,1,1,1,1)'::stockext.returns_state;

-- Randomized: 10,080 minute bars over 3 symbols.  Hourly volatility, vwap,
-- counts and high/low times read from rollups of 15-minute rollups equal
-- those computed from the bars directly (1e-9).
SELECT stockext.add_rollup('bars_15m', '15 minutes', metrics => ARRAY['volatility', 'vwap', 'bar_count', 'high_low_times']) AS rows;
SELECT setseed(0.16);
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT sym, ts, '1 minute', c, c + random(), greatest(c - random(), 0.5), c, floor(random() * 1000), 'test'
FROM (SELECT sym, ts, round((100 + 5 * sin(i / 50.0) + random())::numeric, 2)::float8 AS c
      FROM unnest(ARRAY['MA', 'MB', 'MC']) sym,
           generate_series(0, 3359) i, LATERAL (SELECT timestamptz '2025-06-29 00:00+00' + i * interval '1 minute' AS ts) t) x;
SELECT (stockext.refresh_rollups()).buckets > 0 AS refreshed;
SELECT count(*) AS hours,
       count(*) FILTER (WHERE abs(r.vol - d.vol) <= 1e-9 * d.vol) AS same_volatility,
       count(*) FILTER (WHERE abs((r.c).vwap - (d.c).vwap) <= 1e-12 * (d.c).vwap AND (r.c).count = (d.c).count) AS same_vwap_count,
       count(*) FILTER (WHERE stockext.high_time(r.c) = stockext.high_time(d.c)
                          AND stockext.low_time(r.c) = stockext.low_time(d.c)) AS same_extreme_times,
       count(*) FILTER (WHERE abs(r.avg - d.avg) <= 1e-12 * d.avg) AS same_avg_close
FROM (SELECT symbol, date_trunc('hour', bucket) AS hour,
             stockext.volatility(stockext.rollup(returns ORDER BY bucket)) AS vol, stockext.rollup(candle) AS c,
             stockext.sma_final(stockext.rollup(close_moments)) AS avg
      FROM stockext.bars_15m GROUP BY 1, 2) r
JOIN (SELECT symbol, date_trunc('hour', ts) AS hour, stockext.volatility(close ORDER BY ts) AS vol,
             stockext.candle(ts, open, high, low, close, volume) AS c, avg(close) AS avg
      FROM stockext.ticks WHERE symbol IN ('MA', 'MB', 'MC') GROUP BY 1, 2) d USING (symbol, hour);
-- The 15-minute rows against plain SQL: volatility by lag(), highs' times by array_agg.
SELECT count(*) AS buckets,
       count(*) FILTER (WHERE abs(stockext.volatility(r.returns) - x.sd) <= 1e-9 * x.sd) AS volatility_matches_sql,
       count(*) FILTER (WHERE stockext.high_time(r.candle) = x.ht AND stockext.low_time(r.candle) = x.lt) AS times_match_sql
FROM stockext.bars_15m r
JOIN (SELECT symbol, bucket, stddev_samp(ret) AS sd,
             (array_agg(ts ORDER BY high DESC, ts))[1] AS ht, (array_agg(ts ORDER BY low, ts))[1] AS lt
      FROM (SELECT symbol, ts, high, low, date_bin('15 minutes', ts, '2000-01-03') AS bucket,
                   ln(close / lag(close) OVER (PARTITION BY symbol, date_bin('15 minutes', ts, '2000-01-03') ORDER BY ts)) AS ret
            FROM stockext.ticks WHERE symbol IN ('MA', 'MB', 'MC')) b
      GROUP BY 1, 2) x USING (symbol, bucket);
-- Every width keeps the candle and the moments of the closes; the returns
-- only with the metric volatility.
SELECT count(*) AS rows,
       count(*) FILTER (WHERE candle IS NOT NULL AND close_moments IS NOT NULL AND returns IS NULL
                          AND (candle).open = open AND (candle).close = close AND (candle).count = n
                          AND stockext.sma_final(close_moments) = avg_close) AS states_without_metrics
FROM stockext.bars_30m WHERE symbol = 'MA';

-- Calendar widths: months in New York.  The bars run from Jun 29 to Jul 1
-- 08:00 UTC; New York's July starts at 04:00 UTC.
SELECT stockext.add_rollup('bars_1mo', '1 month', time_zone => 'America/New_York',
                           metrics => ARRAY['volatility']) AS rows;
SELECT symbol, bucket, n, n = (SELECT count(*) FROM stockext.ticks t WHERE t.symbol = r.symbol
                                AND t.ts >= r.bucket AND t.ts < (r.bucket AT TIME ZONE 'America/New_York' + interval '1 month') AT TIME ZONE 'America/New_York') AS all_bars,
       abs(stockext.volatility(returns) - (SELECT stockext.volatility(t.close ORDER BY t.ts) FROM stockext.ticks t WHERE t.symbol = r.symbol
                                AND t.ts >= r.bucket AND t.ts < (r.bucket AT TIME ZONE 'America/New_York' + interval '1 month') AT TIME ZONE 'America/New_York')) < 1e-12 AS volatility
FROM stockext.bars_1mo r ORDER BY symbol, bucket;
-- A late bar in June invalidates June's bucket only; the refresh takes it in.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
VALUES ('MA', '2025-06-10 15:00+00', '1 minute', 90, 300, 80, 95, 5, 'test');
SELECT bucket FROM stockext.rollup_invalidations WHERE width = '1 month';
SELECT n, high FROM stockext.bars_1mo_live WHERE symbol = 'MA' ORDER BY bucket;
SELECT (stockext.refresh_rollups()).buckets AS buckets;
SELECT bucket, n, high, stockext.high_time(candle) FROM stockext.bars_1mo WHERE symbol = 'MA' ORDER BY bucket;
-- bars() serves months, quarters and years, rolled up or not.
SELECT bucket, n FROM stockext.bars('MA', '1 month', '2025-05-01', '2025-08-01');
SELECT bucket, n FROM stockext.bars('MA', '3 months', '2025-01-01', '2026-01-01', 'null');
SELECT bucket, n FROM stockext.bars('MA', '1 year', '2025-01-01', '2026-01-01');
SELECT stockext.calendar_unit(w) FROM (VALUES (interval '1 month'), ('3 months'), ('1 year'), ('30 days'), ('1 month 1 day'), ('2 months')) v(w);

-- Calendar widths (and widths with metrics) refresh by merging: bars
-- appended after a bucket's stored states are added to them, anything else
-- recomputes the bucket.  Months
-- (New York, volatility), quarters (UTC, no metrics: a calendar width
-- keeps the states anyway) and years (Tokyo, high_low_times) of two
-- symbols: 6,000 hourly bars, then random appends (some across a month's
-- end), late bars, changed, unchanged and mixed upserts, deletes of the
-- newest bars and re-appends over them, refreshed at random.  After every
-- refresh each row (and before it each row of the live view, which merges
-- the same way) equals, to the last bit, the one computed from the bars
-- by the aggregates themselves: the candle (prices in quarters and integer
-- volumes keep its sums exact), the columns read from it, avg_close, and
-- the log_returns summary slot by slot (read in ts order either way).
SELECT stockext.add_rollup('bars_1q', '3 months') AS rows,
       stockext.add_rollup('bars_1y', '1 year', time_zone => 'Asia/Tokyo', metrics => ARRAY['high_low_times']) AS rows;
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT sym, timestamptz '2024-11-15 00:00+00' + i * interval '1 hour', '1 minute', o, greatest(o, c) + 0.25, least(o, c) - 0.25, c,
       floor(random() * 1000), 'test'
FROM unnest(ARRAY['CX1', 'CX2']) sym, generate_series(0, 2999) i,
     LATERAL (SELECT round((100 + 5 * sin(i / 50.0) + random()) * 4) / 4 AS o, round((100 + 5 * sin(i / 50.0) + random()) * 4) / 4 AS c) p;
SELECT (stockext.refresh_rollups()).buckets > 0 AS refreshed;
CREATE TEMP TABLE calendar_checks (step int, live boolean, rows bigint, differ bigint);
CREATE FUNCTION pg_temp.check_calendar(step int, live boolean DEFAULT false) RETURNS void LANGUAGE sql AS $$
    INSERT INTO calendar_checks
    SELECT step, live, count(*),
           count(*) FILTER (WHERE r.symbol IS NULL OR e.symbol IS NULL
                               OR r.candle IS DISTINCT FROM e.c
                               OR (r.open, r.high, r.low, r.close, r.volume, r.vwap, r.n) IS DISTINCT FROM
                                  ((e.c).open, (e.c).high, (e.c).low, (e.c).close, (e.c).volume::bigint, (e.c).vwap, (e.c).count::integer)
                               OR r.avg_close IS DISTINCT FROM e.avg
                               OR stockext.sma_final(r.close_moments) IS DISTINCT FROM e.avg
                               OR r.returns::text IS DISTINCT FROM e.rt::text)
    FROM (SELECT * FROM (SELECT * FROM stockext.rollups WHERE NOT live
                         UNION ALL
                         SELECT * FROM stockext.rollups_live WHERE live) x
          WHERE symbol LIKE 'CX_' AND width IN (SELECT width FROM stockext.rollup_widths
                                                WHERE stockext.calendar_unit(width) IS NOT NULL OR metrics <> '{}')) r
    FULL JOIN (SELECT w.width, t.symbol, stockext.rollup_bucket(t.ts, w.width, w.origin, w.time_zone) AS bucket,
                      stockext.candle(t.ts, t.open, t.high, t.low, t.close, t.volume) AS c,
                      stockext.log_returns(t.ts, t.close ORDER BY t.ts) FILTER (WHERE 'volatility' = ANY (w.metrics)) AS rt,
                      stockext.sma(t.close) AS avg
               FROM stockext.ticks t JOIN stockext.rollup_widths w ON t.resolution = w.source_resolution
               WHERE t.symbol LIKE 'CX_' AND (stockext.calendar_unit(w.width) IS NOT NULL OR w.metrics <> '{}')
               GROUP BY 1, 2, 3) e USING (width, symbol, bucket);
$$;
SELECT pg_temp.check_calendar(0);
SELECT setseed(0.5);
DO $$
DECLARE
    s text;
    last timestamptz;
    t timestamptz;
    r float8;
BEGIN
    FOR step IN 1..60 LOOP
        r := random();
        s := 'CX' || (1 + floor(random() * 2)::int);
        SELECT max(ts) INTO last FROM stockext.ticks WHERE symbol = s;
        IF r < 0.4 THEN
            -- appended bars, hourly or a few days on (across a month's end)
            INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
            SELECT s, last + CASE WHEN random() < 0.1 THEN interval '9 days' ELSE interval '0' END + i * interval '1 hour',
                   '1 minute', p, p + 0.5, p - 0.25, p + 0.25, floor(random() * 1000), 'test'
            FROM generate_series(1, 1 + floor(random() * 20)::int) i, LATERAL (SELECT round((98 + random() * 4) * 4) / 4 AS p) x;
        ELSIF r < 0.5 THEN
            -- a late bar between two stored ones
            t := last - floor(random() * 2000) * interval '1 hour' - interval '30 minutes';
            PERFORM stockext.upsert_bar(s, t, '1 minute', 99, 101, 98, 100.5, 7, 'test');
        ELSIF r < 0.6 THEN
            -- a stored bar re-polled: changed, or unchanged (no key at all)
            t := last - floor(random() * 200) * interval '1 hour';
            UPDATE stockext.ticks SET close = CASE WHEN random() < 0.5 THEN close ELSE low END, volume = volume
            WHERE symbol = s AND ts = t AND resolution = '1 minute';
        ELSIF r < 0.67 THEN
            -- one upsert that changes the newest bar and appends two
            INSERT INTO stockext.ticks AS k (symbol, ts, resolution, open, high, low, close, volume, source)
            SELECT s, last + i * interval '1 hour', '1 minute', 100, 101, 99, 100.25, 5, 'test'
            FROM generate_series(0, 2) i
            ON CONFLICT (symbol, ts, resolution) DO UPDATE
               SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
                   volume = excluded.volume
            WHERE (k.open, k.high, k.low, k.close, k.volume) IS DISTINCT FROM
                  (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume);
        ELSIF r < 0.75 THEN
            -- the newest bars deleted; appends may bring the same times back
            DELETE FROM stockext.ticks WHERE symbol = s AND ts > last - floor(random() * 5) * interval '1 hour';
        ELSE
            PERFORM pg_temp.check_calendar(step, true);
            PERFORM stockext.refresh_rollups();
            PERFORM pg_temp.check_calendar(step);
        END IF;
    END LOOP;
    PERFORM stockext.refresh_rollups();
    PERFORM pg_temp.check_calendar(-1);
END $$;
SELECT live, count(*) >= 10 AS checked_often, min(rows) >= 6018 AS all_buckets, max(rows) > min(rows) AS grew,
       sum(differ) AS differ
FROM calendar_checks GROUP BY live ORDER BY live;
-- Merging near a DST change: 20-minute buckets in New York (with a metric,
-- so they keep states) across the fall-back of 2025-11-02, where each
-- local 01:xx bucket takes bars from two separate UTC hours.  Minute bars
-- appended 7 at a time, refreshed after each statement.
SELECT stockext.add_rollup('bars_20m', '20 minutes', time_zone => 'America/New_York', metrics => ARRAY['vwap']) > 0 AS added;
DO $$
BEGIN
    FOR i IN 0..25 LOOP
        INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
        SELECT 'CX3', timestamptz '2025-11-02 04:30+00' + (7 * i + j) * interval '1 minute', '1 minute',
               100 + j, 101 + j, 99 + j, 100.5 + j, 10 + i, 'test'
        FROM generate_series(0, 6) j;
        PERFORM stockext.refresh_rollups();
    END LOOP;
END $$;
DELETE FROM calendar_checks;
SELECT pg_temp.check_calendar(0);
SELECT rows > 6018 AS more_rows, differ FROM calendar_checks;
SELECT bucket, n FROM stockext.bars_20m WHERE symbol = 'CX3' AND bucket BETWEEN '2025-11-02 05:00+00' AND '2025-11-02 06:40+00' ORDER BY bucket;
-- The merge is what ran: a stored state doctored on purpose (a high of
-- 1000) survives an append to its month and shows in the row's high; a
-- late bar recomputes the month and drops it.
UPDATE stockext.bars_1mo SET candle.high = 1000, candle.high_ts = (candle).first_ts
WHERE symbol = 'CX1' AND bucket = (SELECT max(bucket) FROM stockext.bars_1mo WHERE symbol = 'CX1');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'CX1', max(ts) + interval '1 minute', '1 minute', 100, 101, 99, 100, 1, 'test' FROM stockext.ticks WHERE symbol = 'CX1';
SELECT (stockext.refresh_rollups()).buckets AS buckets;
SELECT high, (candle).high FROM stockext.bars_1mo WHERE symbol = 'CX1' ORDER BY bucket DESC LIMIT 1;
SELECT stockext.upsert_bar('CX1', (SELECT max(ts) - interval '2 minutes' FROM stockext.ticks WHERE symbol = 'CX1'),
                           '1 minute', 100, 101, 99, 100, 1, 'test') AS late;
SELECT (stockext.refresh_rollups()).buckets AS buckets;
SELECT high < 1000 AS recomputed, (candle).high < 1000 AS state_recomputed
FROM stockext.bars_1mo WHERE symbol = 'CX1' ORDER BY bucket DESC LIMIT 1;
SELECT stockext.drop_rollup('3 months'), stockext.drop_rollup('1 year'), stockext.drop_rollup('20 minutes');
DELETE FROM stockext.ticks WHERE symbol LIKE 'CX_';
-- Errors.
\set VERBOSITY default
SELECT stockext.add_rollup('bars_2mo', '2 months');
SELECT stockext.add_rollup('bars_4h', '4 hours', metrics => ARRAY['sharpe']);
SELECT stockext.add_rollup('bars_4h', '4 hours', metrics => ARRAY[NULL]);
\set VERBOSITY terse
SELECT stockext.drop_rollup('15 minutes'), stockext.drop_rollup('1 month');
DELETE FROM stockext.ticks WHERE symbol IN ('MA', 'MB', 'MC');
SELECT stockext.refresh_rollups() IS NOT NULL AS refreshed;
