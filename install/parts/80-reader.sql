------------------------------------------------------------------------------
-- BI: flat indicator views and the read-only role
------------------------------------------------------------------------------

-- BI tools and client libraries see composite results (stockext.macd,
-- stockext.bbands) as strings such as '(-0.18,-0.16,-0.02)'.  What follows
-- gives every indicator a dashboard wants as plain columns, and a recipe for
-- a role that reads the market data and nothing of keys or webhooks.

-- How many bars before start stockext.indicators() reads so that its first
-- row is right.  Indicators over a fixed number of bars (sma, bbands,
-- volume_spike) need that many; the recursive ones (ema, rsi, macd) depend
-- on every bar since the series began, with a weight that decays
-- geometrically, so they read until the weight of everything older is
-- below 1e-9 (the lookback to their first value plus that decay).
CREATE FUNCTION stockext.indicator_warmup(sma_n integer DEFAULT 20, ema_n integer DEFAULT 20,
                                          rsi_n integer DEFAULT 14, slow_n integer DEFAULT 26,
                                          signal_n integer DEFAULT 9, bb_n integer DEFAULT 20,
                                          spike_n integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    arg record;
BEGIN
    FOR arg IN SELECT * FROM (VALUES ('sma_n', sma_n), ('ema_n', ema_n), ('rsi_n', rsi_n),
                                     ('slow_n', slow_n), ('signal_n', signal_n), ('bb_n', bb_n),
                                     ('spike_n', spike_n)) AS a(name, n)
    LOOP
        IF arg.n IS NULL THEN
            RAISE EXCEPTION '% must not be NULL', arg.name
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
        -- The bound keeps the warm-up, hence the bars read, bounded.
        IF arg.n NOT BETWEEN 1 AND 10000 THEN
            RAISE EXCEPTION '% must be between 1 and 10000, not %', arg.name, arg.n
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    -- Bars after which a weight of (1 - alpha) per bar is below 1e-9.
    RETURN (SELECT max(w.lookback + (SELECT coalesce(sum(CASE WHEN a < 1 THEN ceil(ln(1e-9::float8) / ln(1 - a)) ELSE 0 END), 0)
                                      FROM unnest(w.alphas) AS a))::integer
            FROM (VALUES (sma_n - 1, '{}'::float8[]),
                         (bb_n - 1, '{}'),
                         (spike_n, '{}'),
                         (0, ARRAY[2.0 / (ema_n + 1)]),
                         (rsi_n, ARRAY[1.0 / rsi_n]),
                         (slow_n + signal_n - 2, ARRAY[2.0 / (slow_n + 1), 2.0 / (signal_n + 1)]))
                 AS w(lookback, alphas));
END
$$;
COMMENT ON FUNCTION stockext.indicator_warmup(integer, integer, integer, integer, integer, integer, integer) IS
'bars before start that stockext.indicators() reads: the lookback of sma, bbands and volume_spike, and for ema, rsi and macd the bars after which the weight of older ones is below 1e-9; each length between 1 and 10000';

CREATE FUNCTION stockext.indicators(symbol text, width interval, start timestamptz, stop timestamptz,
                                    sma_n integer DEFAULT 20, ema_n integer DEFAULT 20,
                                    rsi_n integer DEFAULT 14, fast_n integer DEFAULT 12,
                                    slow_n integer DEFAULT 26, signal_n integer DEFAULT 9,
                                    bb_n integer DEFAULT 20, bb_k float8 DEFAULT 2.0,
                                    spike_n integer DEFAULT 3, spike_factor float8 DEFAULT 2.0)
RETURNS TABLE (bucket timestamptz, open double precision, high double precision,
               low double precision, close double precision, volume bigint,
               vwap double precision, sma double precision, ema double precision,
               rsi double precision, macd double precision, macd_signal double precision,
               macd_histogram double precision, bb_middle double precision,
               bb_upper double precision, bb_lower double precision, volume_spike boolean)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    warmup     integer;
    span       interval;
    warm_start timestamptz;
    earliest   timestamptz;
BEGIN
    IF num_nulls(symbol, width, start, stop, bb_k, spike_factor) > 0 THEN
        RAISE EXCEPTION 'arguments of stockext.indicators() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    warmup := stockext.indicator_warmup(sma_n, ema_n, rsi_n, slow_n, signal_n, bb_n, spike_n);

    -- The warm-up starts at the bucket of the warmup-th bar before start.
    -- Buckets without bars (nights, weekends, halts) hold none, so the span
    -- looked at grows until it holds enough bars, the symbol's history
    -- ends, or it reaches the 1,000,000 buckets bars() serves.  bars()
    -- checks the symbol and the width on the first look.
    warm_start := start;
    span := width * warmup;
    WHILE warmup > 0 LOOP
        SELECT b.bucket INTO warm_start
        FROM stockext.bars(symbol, width, start - span, start) b
        ORDER BY b.bucket DESC OFFSET warmup - 1 LIMIT 1;
        EXIT WHEN FOUND;
        IF earliest IS NULL THEN
            -- Upper-cased in "C", compared in the column's collation, so
            -- that the keys serve it in every database.
            earliest := least((SELECT min(t.ts) FROM stockext.ticks t
                               WHERE t.symbol = upper(indicators.symbol COLLATE "C") COLLATE "default"),
                              (SELECT min(r.bucket) FROM stockext.rollups r
                               WHERE r.symbol = upper(indicators.symbol COLLATE "C") COLLATE "default"));
        END IF;
        IF start - span <= earliest
           OR extract(epoch FROM span) * 4 > 1000000 * extract(epoch FROM width) THEN
            warm_start := start - span;   -- every bar there is
            EXIT;
        END IF;
        span := span * 4;
    END LOOP;

    RETURN QUERY
    WITH b AS (
        SELECT w.bucket, w.open, w.high, w.low, w.close, w.volume, w.vwap
        FROM stockext.bars(symbol, width, warm_start, start) w
        UNION ALL
        SELECT w.bucket, w.open, w.high, w.low, w.close, w.volume, w.vwap
        FROM stockext.bars(symbol, width, start, stop) w
    ), x AS (
        SELECT b.*,
               count(*) OVER last_n AS sma_rows,
               stockext.sma(b.close) OVER last_n AS sma_v,
               stockext.ema(b.close, ema_n) OVER series AS ema_v,
               stockext.rsi(b.close, rsi_n) OVER series AS rsi_v,
               stockext.macd(b.close, fast_n, slow_n, signal_n) OVER series AS m,
               stockext.bbands(b.close, bb_n, bb_k) OVER series AS bb,
               stockext.volume_spike(b.volume::float8, spike_n, spike_factor) OVER series AS spike
        FROM b
        WINDOW series AS (ORDER BY b.bucket),
               last_n AS (series ROWS BETWEEN sma_n - 1 PRECEDING AND CURRENT ROW)
    )
    SELECT x.bucket, x.open, x.high, x.low, x.close, x.volume, x.vwap,
           CASE WHEN x.sma_rows = sma_n THEN x.sma_v END,
           x.ema_v, x.rsi_v, (x.m).line, (x.m).signal, (x.m).histogram,
           (x.bb).middle, (x.bb).upper, (x.bb).lower, x.spike
    FROM x
    WHERE x.bucket >= start
    ORDER BY x.bucket;
END
$$;
COMMENT ON FUNCTION stockext.indicators(text, interval, timestamptz, timestamptz, integer, integer, integer, integer, integer, integer, integer, float8, integer, float8) IS
'one row per bar of stockext.bars(symbol, width, start, stop) with its indicators as plain columns: sma, ema, rsi, macd (line, signal, histogram), Bollinger bands and the volume spike flag; reads indicator_warmup() bars before start so that the first row''s values are those of the whole series';

-- What a reader sees of the alerts: no webhook delivery error, which may
-- name the webhook's host.
CREATE VIEW stockext.alert_list AS
SELECT a.id, a.fired_at, a.kind, a.rule_id, r.condition, a.feed_id, a.symbol, a.resolution,
       a.bar_ts, a.observed, a.message, a.forming, a.delivery, a.delivered_at
FROM stockext.alerts a
LEFT JOIN stockext.alert_rules r ON r.id = a.rule_id;
COMMENT ON VIEW stockext.alert_list IS
'fired alerts and feed events with their rule''s condition, without webhook delivery errors: what stockext.grant_reader() lets a reader see';
REVOKE ALL ON stockext.alert_list FROM PUBLIC;

-- The read-only role: SELECT on the bars (the rollups follow), the feeds'
-- status, the alerts and the rules, never on feed_keys or webhooks.  Plain
-- GRANTs run as the caller, who needs the grant option on ticks.
CREATE FUNCTION stockext.grant_reader(reader regrole)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stmt text;
BEGIN
    IF reader IS NULL THEN
        RAISE EXCEPTION 'reader must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT has_table_privilege('stockext.ticks', 'SELECT WITH GRANT OPTION') THEN
        RAISE EXCEPTION 'permission denied to grant reading stockext to role %', reader
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only a role holding SELECT on stockext.ticks with grant option (its owner, a superuser) may.';
    END IF;
    IF has_table_privilege(reader, 'stockext.feed_keys', 'SELECT')
       OR has_table_privilege(reader, 'stockext.webhooks', 'SELECT') THEN
        RAISE WARNING 'role % can read API keys or webhook URLs', reader
            USING DETAIL = 'It is a superuser, a member of pg_read_all_data or was granted stockext.feed_keys or stockext.webhooks; grant_reader() takes nothing away.';
    END IF;
    FOREACH stmt IN ARRAY ARRAY[
        format('GRANT USAGE ON SCHEMA stockext TO %s', reader),
        format('GRANT SELECT ON stockext.ticks, stockext.feed_status, stockext.alert_list, stockext.alert_rule_list TO %s', reader)]
    LOOP
        EXECUTE stmt;
        RETURN NEXT stmt;
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.grant_reader(regrole) IS
'lets a role read the bars, the rollups, stockext.feed_status, stockext.alert_list and stockext.alert_rule_list (and so call bars() and indicators()), nothing of API keys or webhooks; returns the statements it ran';
REVOKE ALL ON FUNCTION stockext.grant_reader(regrole) FROM PUBLIC;

-- stockext.bars() of a width that is not rolled up builds its query with
-- rollup_select_list() (a constant select list), so every role that may
-- read the bars needs to execute it.
GRANT EXECUTE ON FUNCTION stockext.rollup_select_list() TO PUBLIC;
