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
-- Widths without metrics store none.
SELECT count(*) FILTER (WHERE candle IS NOT NULL OR returns IS NOT NULL OR close_moments IS NOT NULL) AS states_without_metrics
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
-- Errors.
\set VERBOSITY default
SELECT stockext.add_rollup('bars_2mo', '2 months');
SELECT stockext.add_rollup('bars_4h', '4 hours', metrics => ARRAY['sharpe']);
SELECT stockext.add_rollup('bars_4h', '4 hours', metrics => ARRAY[NULL]);
\set VERBOSITY terse
SELECT stockext.drop_rollup('15 minutes'), stockext.drop_rollup('1 month');
DELETE FROM stockext.ticks WHERE symbol IN ('MA', 'MB', 'MC');
SELECT stockext.refresh_rollups() IS NOT NULL AS refreshed;
