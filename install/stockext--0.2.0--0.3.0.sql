-- stockext 0.2.0 -> 0.3.0 (ALTER EXTENSION stockext UPDATE TO '0.3.0').
\echo Use "ALTER EXTENSION stockext UPDATE" to load this file. \quit

-- Every change to the extension's SQL objects since 0.2.0, in the order
-- made; test/suites/15-upgrade checks that an updated 0.1.0 and an updated
-- 0.2.0 have the same objects as a fresh 0.3.0.

------------------------------------------------------------------------------
-- Providers: one interface, its facts read from the C registry
------------------------------------------------------------------------------

-- The providers and the bar lengths they serve, read from the C registry
-- (src/providers.c), the one place where they are written.
CREATE FUNCTION stockext.providers()
RETURNS TABLE (provider text, http boolean, takes_key boolean, symbols_per_request integer,
               history_bars integer, min_resolution interval, max_resolution interval,
               serves text, default_url text, default_requests_per_minute integer,
               default_requests_per_day integer)
AS 'MODULE_PATHNAME', 'stockext_providers'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION stockext.providers() IS
'the providers stockext knows, from its C registry: whether each is an HTTP provider and takes an API key, the symbols one request names, the bars one history request returns at most, the range of a provider serving any whole number of seconds (with what it serves in words), and an HTTP provider''s default base URL and request limits';

CREATE FUNCTION stockext.provider_intervals()
RETURNS TABLE (provider text, resolution interval, spelling text, history_span interval,
               history_by_month boolean)
AS 'MODULE_PATHNAME', 'stockext_provider_intervals'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 30;
COMMENT ON FUNCTION stockext.provider_intervals() IS
'the bar resolutions each HTTP provider serves, from the C registry: the provider''s spelling, the longest range one history request covers (NULL: history_bars bars of the resolution) and whether history comes one calendar month of UTC per request';

CREATE FUNCTION stockext.provider_known(provider text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN EXISTS (SELECT FROM stockext.providers() p WHERE p.provider = provider_known.provider);
COMMENT ON FUNCTION stockext.provider_known(text) IS
'whether stockext.providers() lists the provider';

ALTER TABLE stockext.feeds DROP CONSTRAINT feeds_provider_known,
    ADD CONSTRAINT feeds_provider_known CHECK (stockext.provider_known(provider));

CREATE OR REPLACE FUNCTION stockext.provider_resolutions(provider text)
RETURNS interval[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT array_agg(i.resolution ORDER BY i.resolution) FROM stockext.provider_intervals() i
        WHERE i.provider = provider_resolutions.provider);

CREATE OR REPLACE FUNCTION stockext.check_feed(provider text, symbols text[], resolution interval,
                                    poll_every interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s   text;
    why text;
    p   record;
BEGIN
    IF provider IS NULL THEN
        RAISE EXCEPTION 'provider must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO p FROM stockext.providers() x WHERE x.provider = check_feed.provider;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown provider "%"', provider
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = (SELECT 'Use one of ' || string_agg(x.provider, ', ' ORDER BY x.ordinality) || '.'
                          FROM stockext.providers() WITH ORDINALITY AS x);
    END IF;
    IF symbols IS NULL OR cardinality(symbols) = 0 THEN
        RAISE EXCEPTION 'a feed needs at least one symbol'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH s IN ARRAY symbols LOOP
        IF s IS NULL THEN
            RAISE EXCEPTION 'symbols must not contain NULL'
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
        why := stockext.symbol_problem(s);
        IF why IS NOT NULL THEN
            RAISE EXCEPTION 'invalid symbol "%"', s
                USING ERRCODE = 'invalid_parameter_value', DETAIL = initcap(left(why, 1)) || substr(why, 2) || '.';
        END IF;
    END LOOP;
    -- Symbols are case-insensitive: "aapl" repeats "AAPL".
    IF cardinality(symbols) <> (SELECT count(DISTINCT upper(x COLLATE "C")) FROM unnest(symbols) x) THEN
        RAISE EXCEPTION 'symbols must not repeat'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Symbols are compared in upper case.';
    END IF;
    IF resolution IS NULL THEN
        RAISE EXCEPTION 'resolution must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p.min_resolution IS NOT NULL THEN
        IF extract(month FROM resolution) <> 0 OR extract(year FROM resolution) <> 0
           OR resolution < p.min_resolution OR resolution > p.max_resolution
           OR extract(epoch FROM resolution) <> trunc(extract(epoch FROM resolution)) THEN
            RAISE EXCEPTION 'resolution "%" is not supported by provider "%"', resolution, provider
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The %s feed serves %s.', provider, p.serves);
        END IF;
    ELSIF NOT resolution = ANY (stockext.provider_resolutions(provider)) THEN
        RAISE EXCEPTION 'resolution "%" is not supported by provider "%"', resolution, provider
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Provider "%s" serves %s.', provider,
                                  array_to_string(stockext.provider_resolutions(provider), ', '));
    END IF;
    IF poll_every IS NULL OR poll_every < interval '1 second' THEN
        RAISE EXCEPTION 'poll_every must be at least 1 second'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('poll_every is %s.', coalesce(poll_every::text, 'NULL'));
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION stockext.set_api_key(feed integer, api_key text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT (SELECT p.takes_key FROM stockext.providers() p
            WHERE p.provider = stockext.feed_provider(feed)) THEN
        RAISE EXCEPTION 'provider "%" takes no API key', stockext.feed_provider(feed)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF api_key IS NULL OR api_key = '' THEN
        DELETE FROM stockext.feed_keys k WHERE k.feed_id = feed;
    ELSE
        INSERT INTO stockext.feed_keys AS k (feed_id, api_key) VALUES (feed, api_key)
        ON CONFLICT (feed_id) DO UPDATE SET api_key = excluded.api_key;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION stockext.backfill(provider text, symbol text, start timestamptz,
                                  stop timestamptz, resolution interval)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chunk  interval;
    lo     timestamptz;
    hi     timestamptz;
    total  bigint := 0;
    feed_seed bigint;
    newest timestamptz;
    iv     record;
BEGIN
    IF symbol IS NULL THEN
        RAISE EXCEPTION 'symbol must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM stockext.check_feed(provider, ARRAY[symbol], resolution, resolution);
    symbol := upper(symbol COLLATE "C");
    IF start IS NULL OR stop IS NULL OR stop <= start THEN
        RAISE EXCEPTION 'backfill range must be non-empty'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', coalesce(start::text, 'NULL'),
                                  coalesce(stop::text, 'NULL'));
    END IF;
    -- The seed of the symbol's simulated feed, so history and live agree.
    SELECT f.seed INTO feed_seed FROM stockext.feeds f
     WHERE f.provider = 'simulated' AND symbol = ANY (f.symbols) AND f.resolution = backfill.resolution
     ORDER BY f.id LIMIT 1;
    -- Chunks: what one request can return, from the C registry (history_bars
    -- bars, or the resolution's own span: Yahoo minute bars 7 days; Alpha
    -- Vantage intraday history a UTC month per request).
    SELECT i.history_span, coalesce(i.history_by_month, false) AS by_month, p.history_bars INTO iv
    FROM stockext.providers() p
    LEFT JOIN stockext.provider_intervals() i
           ON i.provider = p.provider AND i.resolution = backfill.resolution
    WHERE p.provider = backfill.provider;
    chunk := coalesce(iv.history_span, resolution * iv.history_bars);
    IF start >= now() THEN
        RAISE NOTICE 'backfill of "%" from %: nothing to fetch, the range starts after now', symbol, provider;
        RETURN 0;
    END IF;
    stop := least(stop, now());
    lo := start;
    WHILE lo < stop LOOP
        hi := least(lo + chunk, stop);
        IF iv.by_month THEN
            hi := least((date_trunc('month', lo AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC', stop);
        END IF;
        IF provider = 'simulated' THEN
            total := total + stockext.ingest_simulated(symbol, lo, hi, resolution, coalesce(feed_seed, 0));
            RAISE NOTICE 'backfill of "%" from %: % bars stored up to %', symbol, provider, total, hi;
        ELSE
            total := total + stockext.fetch_history(provider, symbol, lo, hi, resolution);
            -- A provider sends what it has, which may end before the chunk
            -- (no trading, a plan's limits): report the newest bar stored.
            SELECT max(t.ts) INTO newest FROM stockext.ticks t
            WHERE t.symbol = backfill.symbol AND t.resolution = backfill.resolution AND t.ts < hi;
            RAISE NOTICE 'backfill of "%" from %: % bars stored, newest bar %', symbol, provider, total,
                coalesce('at ' || newest, 'none yet');
        END IF;
        lo := hi;
    END LOOP;
    RETURN total;
END
$$;


------------------------------------------------------------------------------
-- Market reference data: trading calendars and corporate actions
------------------------------------------------------------------------------


------------------------------------------------------------------------------
-- Indicators: stochastics, Williams %R, ADX, CCI, MFI, OBV, VWMA, TWAP, candle extremes' times
------------------------------------------------------------------------------

-- vwma: the volume-weighted moving average is vwap over a sliding frame;
-- the same state and support functions (O(1) per row with the inverse).
CREATE AGGREGATE stockext.vwma(price float8, volume float8) (
    SFUNC = stockext.vwap_trans, STYPE = stockext.vwap_state,
    FINALFUNC = stockext.vwap_final, COMBINEFUNC = stockext.vwap_combine,
    MSFUNC = stockext.vwap_mtrans, MINVFUNC = stockext.vwap_minv,
    MSTYPE = internal, MFINALFUNC = stockext.vwap_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.vwma(float8, float8) IS
'volume-weighted moving average sum(price*volume)/sum(volume) over the frame (vwap under the name of the indicator, OVER (ROWS n-1 PRECEDING)); O(1) per row in sliding frames';

-- twap: time-weighted average, each price weighing until the next
-- observation; rows must come in ts order.  Two states combine when their
-- observations do not interleave in time (src/agg_twap.c).
CREATE TYPE stockext.twap_state;
CREATE FUNCTION stockext.twap_state_in(cstring) RETURNS stockext.twap_state
AS 'MODULE_PATHNAME', 'stockext_twap_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.twap_state_out(stockext.twap_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_twap_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.twap_state_recv(internal) RETURNS stockext.twap_state
AS 'MODULE_PATHNAME', 'stockext_twap_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.twap_state_send(stockext.twap_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_twap_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.twap_state (
    INPUT = stockext.twap_state_in, OUTPUT = stockext.twap_state_out,
    RECEIVE = stockext.twap_state_recv, SEND = stockext.twap_state_send,
    INTERNALLENGTH = 64, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.twap_state IS
'partial state of twap: (observations, non-finite intervals, first ts, last ts, stop (9223372036854775807: none) in microseconds since 2000, last price, sum of price x microseconds hi, lo)';
COMMENT ON FUNCTION stockext.twap_state_in(cstring) IS 'text input of stockext.twap_state';
COMMENT ON FUNCTION stockext.twap_state_out(stockext.twap_state) IS 'text output of stockext.twap_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.twap_state_recv(internal) IS 'binary input of stockext.twap_state';
COMMENT ON FUNCTION stockext.twap_state_send(stockext.twap_state) IS 'binary output of stockext.twap_state';

CREATE FUNCTION stockext.twap_trans(stockext.twap_state, timestamptz, float8) RETURNS stockext.twap_state
AS 'MODULE_PATHNAME', 'stockext_twap_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_trans(stockext.twap_state, timestamptz, float8) IS
'transition of twap(ts, price): adds an observation at or after the last one (rows with a NULL skipped)';
CREATE FUNCTION stockext.twap_stop_trans(stockext.twap_state, timestamptz, float8, timestamptz) RETURNS stockext.twap_state
AS 'MODULE_PATHNAME', 'stockext_twap_stop_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_stop_trans(stockext.twap_state, timestamptz, float8, timestamptz) IS
'transition of twap(ts, price, stop): adds an observation at or after the last one and not after stop';
CREATE FUNCTION stockext.twap_combine(stockext.twap_state, stockext.twap_state) RETURNS stockext.twap_state
AS 'MODULE_PATHNAME', 'stockext_twap_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_combine(stockext.twap_state, stockext.twap_state) IS
'combine of twap: joins two partial states whose observations do not interleave in time';
CREATE FUNCTION stockext.twap_mtrans(internal, timestamptz, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_twap_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_mtrans(internal, timestamptz, float8) IS
'moving-aggregate transition of twap: adds the observation entering the frame';
CREATE FUNCTION stockext.twap_minv(internal, timestamptz, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_twap_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_minv(internal, timestamptz, float8) IS
'inverse transition of twap: removes the oldest observation and the interval it weighed';
CREATE FUNCTION stockext.twap_final(stockext.twap_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_twap_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_final(stockext.twap_state) IS 'final of twap: sum(price x duration) / total duration';
CREATE FUNCTION stockext.twap_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_twap_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_mfinal(internal) IS 'moving-aggregate final of twap: sum(price x duration) / total duration';

CREATE AGGREGATE stockext.twap(ts timestamptz, price float8) (
    SFUNC = stockext.twap_trans, STYPE = stockext.twap_state,
    FINALFUNC = stockext.twap_final, COMBINEFUNC = stockext.twap_combine,
    MSFUNC = stockext.twap_mtrans, MINVFUNC = stockext.twap_minv,
    MSTYPE = internal, MFINALFUNC = stockext.twap_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.twap(timestamptz, float8) IS
'time-weighted average price: each price weighs until the next observation, the last one nothing; rows in ts order (twap(ts, price ORDER BY ts), or a window ordered by ts); NULL when no time passes; O(1) per row in sliding frames';
CREATE AGGREGATE stockext.twap(ts timestamptz, price float8, stop timestamptz) (
    SFUNC = stockext.twap_stop_trans, STYPE = stockext.twap_state,
    FINALFUNC = stockext.twap_final, COMBINEFUNC = stockext.twap_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.twap(timestamptz, float8, timestamptz) IS
'time-weighted average price up to stop: as twap(ts, price), the last price weighing until stop (the same on every row, not before any ts)';

CREATE TYPE stockext.stoch AS (k float8, d float8);
COMMENT ON TYPE stockext.stoch IS
'result of stockext.stoch(): slow %K (the mean of the last k_smooth fast %K) and slow %D (the mean of the last d slow %K)';

CREATE FUNCTION stockext.stoch(high float8, low float8, close float8, k integer DEFAULT 14,
                               k_smooth integer DEFAULT 3, d integer DEFAULT 3)
RETURNS stockext.stoch
AS 'MODULE_PATHNAME', 'stockext_stoch'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.stoch(float8, float8, float8, integer, integer, integer) IS
'window function: slow stochastic oscillator (TA-Lib STOCH, SMA smoothing) as (k, d), 0 to 100; first value on the (k+k_smooth+d-2)-th complete bar';

CREATE FUNCTION stockext.willr(high float8, low float8, close float8, n integer DEFAULT 14)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_willr'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.willr(float8, float8, float8, integer) IS
'window function: Williams'' %R (TA-Lib WILLR), -100 to 0, over the last n complete bars; first value on the n-th';

CREATE TYPE stockext.adx AS (adx float8, plus_di float8, minus_di float8);
COMMENT ON TYPE stockext.adx IS
'result of stockext.adx(): average directional index and the plus and minus directional indicators';

CREATE FUNCTION stockext.adx(high float8, low float8, close float8, n integer DEFAULT 14)
RETURNS stockext.adx
AS 'MODULE_PATHNAME', 'stockext_adx'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.adx(float8, float8, float8, integer) IS
'window function: Wilder''s directional movement (TA-Lib ADX, PLUS_DI, MINUS_DI) as (adx, plus_di, minus_di); the DIs from the (n+1)-th complete bar, adx from the 2n-th';

CREATE FUNCTION stockext.cci(high float8, low float8, close float8, n integer DEFAULT 20)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_cci'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.cci(float8, float8, float8, integer) IS
'window function: commodity channel index (TA-Lib CCI): (typical price - its mean) / (0.015 * mean deviation) over the last n complete bars; first value on the n-th';

CREATE FUNCTION stockext.mfi(high float8, low float8, close float8, volume float8, n integer DEFAULT 14)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mfi'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.mfi(float8, float8, float8, float8, integer) IS
'window function: money flow index (TA-Lib MFI), 0 to 100, over the money flows of the last n changes of the typical price; first value on the (n+1)-th complete bar';

CREATE FUNCTION stockext.obv(close float8, volume float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_obv'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.obv(float8, float8) IS
'window function: on-balance volume (TA-Lib OBV): starts at the first volume, then adds the volume when the close rises and subtracts it when it falls';

-- Candles keep the times of their high and low: two more columns of
-- stockext.candle and two more slots of stockext.candle_state.  A base
-- type's length cannot change, so the state type is made again with its
-- functions and aggregates.  stockext.rollups_live calls candle(): it reads
-- the rollups alone meanwhile (the same columns, so the width views on it
-- stay), and is made again afterwards.  A view of the user's calling
-- candle() or rollup(candle) stops the update (no CASCADE): drop it first.
CREATE OR REPLACE VIEW stockext.rollups_live AS
SELECT r.symbol, r.bucket, r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.width
FROM stockext.rollups r;
DROP AGGREGATE stockext.candle(timestamptz, float8, float8);
DROP AGGREGATE stockext.candle(timestamptz, float8, float8, float8, float8, float8);
DROP AGGREGATE stockext.rollup(stockext.candle);
DROP FUNCTION stockext.candle_trans(stockext.candle_state, timestamptz, float8, float8);
DROP FUNCTION stockext.candle_bar_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8, float8);
DROP FUNCTION stockext.candle_rollup_trans(stockext.candle_state, stockext.candle);
DROP FUNCTION stockext.candle_combine(stockext.candle_state, stockext.candle_state);
DROP FUNCTION stockext.candle_final(stockext.candle_state);
-- CASCADE for its I/O functions, which depend on it as it on them; it
-- would also take the user's columns and functions of the type, so those
-- stop the update instead.
DO $do$
DECLARE
    user_object text;
BEGIN
    SELECT pg_describe_object(d.classid, d.objid, d.objsubid) INTO user_object
    FROM pg_depend d
    WHERE d.refclassid = 'pg_type'::regclass AND d.refobjid = 'stockext.candle_state'::regtype
      AND d.deptype = 'n'
      AND NOT EXISTS (SELECT FROM pg_depend e
                      WHERE e.classid = d.classid AND e.objid = d.objid AND e.deptype = 'e')
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot update stockext: % uses type stockext.candle_state', user_object
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'The type is made again with two more slots (the times of the high and the low).',
                  HINT = 'Drop it, update, and make it again.';
    END IF;
END
$do$;
DROP TYPE stockext.candle_state CASCADE;

ALTER TYPE stockext.candle ADD ATTRIBUTE high_ts timestamptz, ADD ATTRIBUTE low_ts timestamptz;
COMMENT ON TYPE stockext.candle IS
'an OHLCV candle: open at the earliest ts, close at the latest, high, low, volume, vwap, row count, first and last ts, turnover sum(price*volume), the rounding residuals of volume and turnover that keep rollup() exact, and the times of the high and the low';

CREATE TYPE stockext.candle_state;
CREATE FUNCTION stockext.candle_state_in(cstring) RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_state_v3_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.candle_state_out(stockext.candle_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_candle_state_v3_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.candle_state_recv(internal) RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_state_v3_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.candle_state_send(stockext.candle_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_candle_state_v3_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.candle_state (
    INPUT = stockext.candle_state_in, OUTPUT = stockext.candle_state_out,
    RECEIVE = stockext.candle_state_recv, SEND = stockext.candle_state_send,
    INTERNALLENGTH = 112, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.candle_state IS
'partial state of candle and rollup: (count, has volume, first ts, last ts, open, close, high, low, volume hi, lo, turnover hi, lo, high ts, low ts (9223372036854775807: unknown)) with timestamps in microseconds since 2000';
COMMENT ON FUNCTION stockext.candle_state_in(cstring) IS 'text input of stockext.candle_state';
COMMENT ON FUNCTION stockext.candle_state_out(stockext.candle_state) IS 'text output of stockext.candle_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.candle_state_recv(internal) IS 'binary input of stockext.candle_state';
COMMENT ON FUNCTION stockext.candle_state_send(stockext.candle_state) IS 'binary output of stockext.candle_state';

CREATE FUNCTION stockext.candle_trans(stockext.candle_state, timestamptz, float8, float8)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_trans_v3' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_trans(stockext.candle_state, timestamptz, float8, float8) IS
'transition of candle(ts, price, volume): adds a trade (rows without ts or price skipped)';
CREATE FUNCTION stockext.candle_bar_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8, float8)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_bar_trans_v3' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_bar_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8, float8) IS
'transition of candle(ts, open, high, low, close, volume): adds a bar (rows without ts or a price skipped)';
CREATE FUNCTION stockext.candle_rollup_trans(stockext.candle_state, stockext.candle)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_rollup_trans_v3' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_rollup_trans(stockext.candle_state, stockext.candle) IS
'transition of rollup(candle): merges a candle (NULL skipped)';
CREATE FUNCTION stockext.candle_combine(stockext.candle_state, stockext.candle_state)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_combine_v3' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_combine(stockext.candle_state, stockext.candle_state) IS
'combine of candle and rollup: merges two partial candles';
CREATE FUNCTION stockext.candle_final(stockext.candle_state) RETURNS stockext.candle
AS 'MODULE_PATHNAME', 'stockext_candle_final_v3' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_final(stockext.candle_state) IS 'final of candle and rollup: the candle';

CREATE AGGREGATE stockext.candle(ts timestamptz, price float8, volume float8) (
    SFUNC = stockext.candle_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, COMBINEFUNC = stockext.candle_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.candle(timestamptz, float8, float8) IS
'OHLCV candle of trades: open/close are the prices at the earliest/latest ts (ties: lowest price opens, highest closes), high, low, volume sum, vwap, count';
CREATE AGGREGATE stockext.candle(ts timestamptz, open float8, high float8, low float8, close float8, volume float8) (
    SFUNC = stockext.candle_bar_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, COMBINEFUNC = stockext.candle_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.candle(timestamptz, float8, float8, float8, float8, float8) IS
'OHLCV candle of bars: open of the earliest bar, close of the latest (ties: lowest open, highest close), highest high, lowest low, volume sum, vwap at the typical price (high+low+close)/3, count';
CREATE AGGREGATE stockext.rollup(stockext.candle) (
    SFUNC = stockext.candle_rollup_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, COMBINEFUNC = stockext.candle_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.rollup(stockext.candle) IS
'merges candles into one, equal to the candle of all their rows (30-minute candles into an hour)';

-- The times of the extremes: of equal highs (lows) the earliest, so they
-- do not depend on the order rows arrive in or parallel workers split them.
CREATE FUNCTION stockext.high_time(stockext.candle) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ($1).high_ts;
COMMENT ON FUNCTION stockext.high_time(stockext.candle) IS
'time of the candle''s high: the ts of the trade (or the start of the bar) holding it, the earliest of equal highs; NULL when unknown (a candle made by hand without it)';
CREATE FUNCTION stockext.low_time(stockext.candle) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ($1).low_ts;
COMMENT ON FUNCTION stockext.low_time(stockext.candle) IS
'time of the candle''s low: the ts of the trade (or the start of the bar) holding it, the earliest of equal lows; NULL when unknown (a candle made by hand without it)';


DO $do$
BEGIN
    EXECUTE format($v$
CREATE OR REPLACE VIEW stockext.rollups_live AS
SELECT r.symbol, r.bucket, r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.width
FROM stockext.rollups r
WHERE NOT EXISTS (SELECT FROM stockext.rollup_invalidations i
                  WHERE i.width = r.width AND i.symbol = r.symbol AND i.bucket = r.bucket)
UNION ALL
%s$v$, stockext.rollup_fresh_sql('(SELECT DISTINCT symbol, width, bucket FROM stockext.rollup_invalidations)'));
END
$do$;


------------------------------------------------------------------------------
-- Latest bars, ASOF and rollups: user-defined metrics, calendar widths
------------------------------------------------------------------------------

-- User-defined metrics: log_returns summaries (volatility that rolls up),
-- moments as a value, equality for both state types (rollups store them).
-- log_returns: volatility's summary for rollups, order-dependent like it,
-- but a fixed-size state with the first and last price and their times:
-- summaries of periods that do not interleave join exactly (the return
-- across their boundary included), so rollup() of half-hour summaries is
-- the hour's.  Rows in ts order; a combine for shards of different periods.
CREATE TYPE stockext.returns_state;
CREATE FUNCTION stockext.returns_state_in(cstring) RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.returns_state_out(stockext.returns_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_returns_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.returns_state_recv(internal) RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.returns_state_send(stockext.returns_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_returns_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.returns_state (
    INPUT = stockext.returns_state_in, OUTPUT = stockext.returns_state_out,
    RECEIVE = stockext.returns_state_recv, SEND = stockext.returns_state_send,
    INTERNALLENGTH = 112, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.returns_state IS
'summary of log_returns: the moments of the log returns as stockext.moments_state (9 slots), then (prices, first ts, last ts in microseconds since 2000, first price, last price)';
COMMENT ON FUNCTION stockext.returns_state_in(cstring) IS 'text input of stockext.returns_state';
COMMENT ON FUNCTION stockext.returns_state_out(stockext.returns_state) IS 'text output of stockext.returns_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.returns_state_recv(internal) IS 'binary input of stockext.returns_state';
COMMENT ON FUNCTION stockext.returns_state_send(stockext.returns_state) IS 'binary output of stockext.returns_state';

CREATE FUNCTION stockext.returns_trans(stockext.returns_state, timestamptz, float8) RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_trans(stockext.returns_state, timestamptz, float8) IS
'transition of log_returns(ts, price): adds the log return from the previous price (rows in ts order, NULLs skipped)';
CREATE FUNCTION stockext.returns_combine(stockext.returns_state, stockext.returns_state) RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_combine(stockext.returns_state, stockext.returns_state) IS
'combine of log_returns and rollup: joins two summaries whose prices do not interleave in time, with the return across their boundary';
CREATE FUNCTION stockext.returns_rollup_trans(stockext.returns_state, stockext.returns_state) RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_rollup_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_rollup_trans(stockext.returns_state, stockext.returns_state) IS
'transition of rollup(returns_state): joins a summary (NULL skipped)';
CREATE AGGREGATE stockext.log_returns(ts timestamptz, price float8) (
    SFUNC = stockext.returns_trans, STYPE = stockext.returns_state,
    COMBINEFUNC = stockext.returns_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.log_returns(timestamptz, float8) IS
'summary of the log returns between consecutive prices, for volatility(summary) and rollup(summary); rows in ts order: log_returns(ts, price ORDER BY ts)';
CREATE AGGREGATE stockext.rollup(stockext.returns_state) (
    SFUNC = stockext.returns_rollup_trans, STYPE = stockext.returns_state,
    COMBINEFUNC = stockext.returns_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.rollup(stockext.returns_state) IS
'joins log_returns summaries of periods that do not interleave, in time order (rollup(summary ORDER BY bucket)), into the summary of all their prices';
-- The summary starts with the returns' moments: mstddev_samp's final applies.
CREATE FUNCTION stockext.volatility(stockext.returns_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_samp_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volatility(stockext.returns_state) IS
'sample standard deviation of the log returns of a log_returns summary (as the volatility aggregate); NULL below three prices';

-- Equality slot by slot, bit for bit, and a hash: rollups store
-- moments_state values, and EXCEPT, DISTINCT and IS DISTINCT FROM on their
-- rows need them.
CREATE FUNCTION stockext.moments_state_eq(stockext.moments_state, stockext.moments_state) RETURNS boolean
AS 'MODULE_PATHNAME', 'stockext_moments_state_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_state_eq(stockext.moments_state, stockext.moments_state) IS
'whether two stockext.moments_state values are identical slot by slot (their text forms are equal)';
CREATE FUNCTION stockext.moments_state_hash(stockext.moments_state) RETURNS integer
AS 'MODULE_PATHNAME', 'stockext_moments_state_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_state_hash(stockext.moments_state) IS 'hash of a stockext.moments_state value, for the hash operator class';
CREATE OPERATOR stockext.= (
    LEFTARG = stockext.moments_state, RIGHTARG = stockext.moments_state, FUNCTION = stockext.moments_state_eq,
    COMMUTATOR = OPERATOR(stockext.=), HASHES);
COMMENT ON OPERATOR stockext.= (stockext.moments_state, stockext.moments_state) IS 'identical slot by slot';
CREATE OPERATOR CLASS stockext.moments_state_ops DEFAULT FOR TYPE stockext.moments_state USING hash AS
    OPERATOR 1 stockext.= (stockext.moments_state, stockext.moments_state),
    FUNCTION 1 stockext.moments_state_hash(stockext.moments_state);
COMMENT ON OPERATOR CLASS stockext.moments_state_ops USING hash IS 'identical stockext.moments_state values';

-- Equality slot by slot, bit for bit, and a hash: as for moments_state.
CREATE FUNCTION stockext.returns_state_eq(stockext.returns_state, stockext.returns_state) RETURNS boolean
AS 'MODULE_PATHNAME', 'stockext_returns_state_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_state_eq(stockext.returns_state, stockext.returns_state) IS
'whether two stockext.returns_state values are identical slot by slot (their text forms are equal)';
CREATE FUNCTION stockext.returns_state_hash(stockext.returns_state) RETURNS integer
AS 'MODULE_PATHNAME', 'stockext_returns_state_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_state_hash(stockext.returns_state) IS 'hash of a stockext.returns_state value, for the hash operator class';
CREATE OPERATOR stockext.= (
    LEFTARG = stockext.returns_state, RIGHTARG = stockext.returns_state, FUNCTION = stockext.returns_state_eq,
    COMMUTATOR = OPERATOR(stockext.=), HASHES);
COMMENT ON OPERATOR stockext.= (stockext.returns_state, stockext.returns_state) IS 'identical slot by slot';
CREATE OPERATOR CLASS stockext.returns_state_ops DEFAULT FOR TYPE stockext.returns_state USING hash AS
    OPERATOR 1 stockext.= (stockext.returns_state, stockext.returns_state),
    FUNCTION 1 stockext.returns_state_hash(stockext.returns_state);
COMMENT ON OPERATOR CLASS stockext.returns_state_ops USING hash IS 'identical stockext.returns_state values';

-- moments, rollup(moments_state): the state of sma and mstddev_* as a
-- value, so that rollups can store it and merge more rows into it; read it
-- with sma_final, mstddev_samp_final or mstddev_pop_final.
CREATE AGGREGATE stockext.moments(float8) (
    SFUNC = stockext.moments_trans, STYPE = stockext.moments_state,
    COMBINEFUNC = stockext.moments_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.moments(float8) IS
'the moments_state of the non-NULL values (what sma, mstddev_samp and mstddev_pop finish), for storing and rolling up';
CREATE AGGREGATE stockext.rollup(stockext.moments_state) (
    SFUNC = stockext.moments_combine, STYPE = stockext.moments_state,
    COMBINEFUNC = stockext.moments_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.rollup(stockext.moments_state) IS
'merges moments_state values into the state of all their values';

-- Calendar widths (1 month, 3 months, 1 year), bucketed with date_trunc in
-- the width's time zone.
-- Calendar widths: 1 month, 3 months (a quarter) and 1 year, which date_bin
-- cannot bin (months differ in length); NULL for any other width.  Not
-- STRICT, so that rollup_bucket() stays inlinable.
CREATE FUNCTION stockext.calendar_unit(width interval)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN width - date_trunc('month', width) = interval '0'
            THEN CASE date_part('year', width) * 12 + date_part('month', width)
                      WHEN 1 THEN 'month' WHEN 3 THEN 'quarter' WHEN 12 THEN 'year' END END;
COMMENT ON FUNCTION stockext.calendar_unit(interval) IS
'the date_trunc field of a calendar width: month (1 month), quarter (3 months), year (1 year); NULL for other widths';

-- The bucket of an instant: date_bin in the width's local time zone, so a
-- session-aligned bucket (origin 09:30, America/New_York) starts at 09:30
-- local on both sides of a DST change; a 1-day bucket in a DST zone lasts
-- 23 or 25 hours on the change days.  In UTC it is plain date_bin on
-- instants (the same result, without two time zone conversions per bar).
-- A calendar width is date_trunc in the time zone (the origin unused): a
-- month of America/New_York starts at its first midnight there.
-- NULL in, NULL out, but not declared STRICT: PostgreSQL inlines a SQL
-- function into the calling query only if its body is as strict as the
-- declaration, and a CASE is not provably strict.
CREATE OR REPLACE FUNCTION stockext.rollup_bucket(ts timestamptz, width interval,
                                       origin timestamp, time_zone text)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN stockext.calendar_unit(width) IS NOT NULL
            THEN date_trunc(stockext.calendar_unit(width), ts, time_zone)
            WHEN time_zone = 'UTC' THEN date_bin(width, ts, origin AT TIME ZONE 'UTC')
            ELSE date_bin(width, ts AT TIME ZONE time_zone, origin) AT TIME ZONE time_zone END;
COMMENT ON FUNCTION stockext.rollup_bucket(timestamptz, interval, timestamp, text) IS
'start of the bucket of the given width holding ts: date_bin(width, ts in time_zone, origin) converted back to an instant; for a calendar width (1 month, 3 months, 1 year) date_trunc(field, ts, time_zone)';

ALTER TABLE stockext.rollup_widths DROP CONSTRAINT rollup_widths_width_valid,
    ADD CONSTRAINT rollup_widths_width_valid
        CHECK (width > interval '0' AND ((date_part('month', width) = 0 AND date_part('year', width) = 0)
                                         OR stockext.calendar_unit(width) IS NOT NULL)),
    ADD COLUMN metrics text[],
    ADD CONSTRAINT rollup_widths_metrics_known
        CHECK (metrics <@ ARRAY['volatility', 'vwap', 'bar_count', 'high_low_times']);
-- Filled, not defaulted, in ADD COLUMN: a fresh install's column has no
-- "missing value", so neither may this one.
UPDATE stockext.rollup_widths SET metrics = '{}';
ALTER TABLE stockext.rollup_widths ALTER COLUMN metrics SET DEFAULT '{}',
    ALTER COLUMN metrics SET NOT NULL;

-- The metric states of each rollup row.
ALTER TABLE stockext.rollups ADD COLUMN candle stockext.candle,
    ADD COLUMN returns stockext.returns_state, ADD COLUMN close_moments stockext.moments_state;
COMMENT ON COLUMN stockext.rollups.candle IS 'with any metric (vwap, bar_count, high_low_times, volatility): the bucket''s stockext.candle, exact vwap, count and high_time()/low_time(), rolled up with rollup(candle)';
COMMENT ON COLUMN stockext.rollups.returns IS 'with the metric volatility: the log_returns summary of the closes, read with volatility(returns), rolled up with rollup(returns ORDER BY bucket)';
COMMENT ON COLUMN stockext.rollups.close_moments IS 'with any metric: the moments of the closes (avg_close = sma_final(close_moments)), so that a refresh merges new bars into the bucket';

-- The select list of the metric states (candle, returns, close_moments),
-- for rows s of a width w.  The candle() and the moments of the closes
-- share their transition states with rollup_select_list()'s candle() and
-- sma(); a width without metrics stores NULLs, and log_returns sorts no
-- rows for it.
CREATE FUNCTION stockext.rollup_metrics_select_list()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN $sql$
       CASE WHEN w.metrics <> '{}' THEN stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume) END AS candle,
       stockext.log_returns(s.ts, s.close ORDER BY s.ts) FILTER (WHERE 'volatility' = ANY (w.metrics)) AS returns,
       CASE WHEN w.metrics <> '{}' THEN stockext.moments(s.close) END AS close_moments
$sql$;
COMMENT ON FUNCTION stockext.rollup_metrics_select_list() IS
'internal: the aggregate select list computing the metric states (candle, returns, close_moments) of a rollup row from rows s of a width w';
REVOKE ALL ON FUNCTION stockext.rollup_metrics_select_list() FROM PUBLIC;

CREATE OR REPLACE FUNCTION stockext.rollup_fresh_sql(keys text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
SELECT f.symbol, f.bucket, f.open, f.high, f.low, f.close, f.volume, f.vwap, f.avg_close, f.n, f.width,
       f.candle, f.returns, f.close_moments
FROM (
SELECT r.symbol, b.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.avg_close, b.n, r.width,
       b.candle, b.returns, b.close_moments
FROM (SELECT symbol, width, min(bucket) AS lo, max(bucket) AS hi
      FROM (SELECT k.symbol, k.width, k.bucket,
                   k.bucket - w.span * row_number() OVER (PARTITION BY k.symbol, k.width ORDER BY k.bucket) AS run
            FROM %1$s k JOIN stockext.rollup_widths w ON w.width = k.width) x
      GROUP BY symbol, width, run) r
JOIN stockext.rollup_widths w ON w.width = r.width
CROSS JOIN LATERAL (
    SELECT stockext.rollup_bucket(s.ts, w.width, w.origin, w.time_zone) AS bucket, %2$s, %3$s
    FROM stockext.ticks s
    WHERE s.symbol = r.symbol AND s.resolution = w.source_resolution
      AND s.ts >= r.lo - w.slack
      AND s.ts < (r.hi AT TIME ZONE w.time_zone + w.width) AT TIME ZONE w.time_zone + w.slack
    GROUP BY 1) b
WHERE b.bucket BETWEEN r.lo AND r.hi
OFFSET 0) f
WHERE (f.symbol, f.width, f.bucket) IN (SELECT k.symbol, k.width, k.bucket FROM %1$s k)
$sql$, keys, stockext.rollup_select_list(), stockext.rollup_metrics_select_list());

DO $do$
BEGIN
    EXECUTE format($v$
CREATE OR REPLACE VIEW stockext.rollups_live AS
SELECT r.symbol, r.bucket, r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.width,
       r.candle, r.returns, r.close_moments
FROM stockext.rollups r
WHERE NOT EXISTS (SELECT FROM stockext.rollup_invalidations i
                  WHERE i.width = r.width AND i.symbol = r.symbol AND i.bucket = r.bucket)
UNION ALL
%s$v$, stockext.rollup_fresh_sql('(SELECT DISTINCT symbol, width, bucket FROM stockext.rollup_invalidations)'));
END
$do$;

DO $do$
BEGIN
    EXECUTE format($f$
CREATE OR REPLACE FUNCTION stockext.refresh_rollups(OUT buckets bigint, OUT upserted bigint, OUT deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    w       interval;
    rebuilt bigint := 0;
BEGIN
    PERFORM stockext.rollup_lock();
    -- Widths a restore loaded are computed from the bars, once the restore
    -- has put the primary key of ticks back (until then it may still be
    -- loading bars).
    IF EXISTS (SELECT FROM stockext.rollup_rebuilds)
       AND EXISTS (SELECT FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid
                   WHERE c.conrelid = 'stockext.ticks'::regclass AND c.contype = 'p' AND i.indisvalid) THEN
        FOR w IN SELECT r.width FROM stockext.rollup_rebuilds r ORDER BY r.width LOOP
            rebuilt := rebuilt + stockext.rebuild_rollups(w);
        END LOOP;
    END IF;
    IF NOT EXISTS (SELECT FROM stockext.rollup_invalidations) THEN
        buckets := 0; upserted := rebuilt; deleted := 0;
        RETURN;
    END IF;
WITH claimed AS (
    DELETE FROM stockext.rollup_invalidations RETURNING symbol, width, bucket
), keys AS (
    SELECT DISTINCT symbol, width, bucket FROM claimed
), fresh AS (%s
), upserted AS (
    INSERT INTO stockext.rollups AS r SELECT * FROM fresh
    ON CONFLICT (symbol, bucket, width) DO UPDATE
        SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
            volume = excluded.volume, vwap = excluded.vwap, avg_close = excluded.avg_close, n = excluded.n,
            candle = excluded.candle, returns = excluded.returns, close_moments = excluded.close_moments
        WHERE (r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n,
               r.candle, r.returns::text, r.close_moments::text)
              IS DISTINCT FROM
              (excluded.open, excluded.high, excluded.low, excluded.close,
               excluded.volume, excluded.vwap, excluded.avg_close, excluded.n,
               excluded.candle, excluded.returns::text, excluded.close_moments::text)
    RETURNING 1
), emptied AS (
    DELETE FROM stockext.rollups r USING keys k
    WHERE r.width = k.width AND r.symbol = k.symbol AND r.bucket = k.bucket
      AND NOT EXISTS (SELECT FROM fresh f
                      WHERE f.width = k.width AND f.symbol = k.symbol AND f.bucket = k.bucket)
    RETURNING 1
)
SELECT (SELECT count(*) FROM keys), (SELECT count(*) FROM upserted) + rebuilt, (SELECT count(*) FROM emptied)
    INTO buckets, upserted, deleted;
END
$$
$f$, stockext.rollup_fresh_sql('keys'));
END
$do$;

CREATE OR REPLACE FUNCTION stockext.rebuild_rollups(width interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    part  name;
    made  bigint;
BEGIN
    PERFORM stockext.rollup_lock();
    IF width IS NULL THEN
        DELETE FROM stockext.rollup_invalidations;
        TRUNCATE stockext.rollups;
    ELSE
        SELECT w.name INTO part FROM stockext.rollup_widths w WHERE w.width = rebuild_rollups.width;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no rollup of width "%"', width
                USING ERRCODE = 'undefined_object',
                      HINT = 'The rolled-up widths are listed in stockext.rollup_widths.';
        END IF;
        DELETE FROM stockext.rollup_invalidations i WHERE i.width = rebuild_rollups.width;
        EXECUTE format('TRUNCATE stockext.%I', part);
    END IF;
    DELETE FROM stockext.rollup_rebuilds r WHERE rebuild_rollups.width IS NULL OR r.width = rebuild_rollups.width;
    EXECUTE format($q$
INSERT INTO stockext.rollups
SELECT s.symbol, s.bucket, %s, w.width, %s
FROM stockext.rollup_source s JOIN stockext.rollup_widths w ON w.width = s.width
WHERE $1 IS NULL OR s.width = $1
GROUP BY w.width, s.symbol, s.bucket
$q$, stockext.rollup_select_list(), stockext.rollup_metrics_select_list()) USING width;
    GET DIAGNOSTICS made = ROW_COUNT;
    RETURN made;
END
$$;

DROP FUNCTION stockext.add_rollup(name, interval, timestamp, text, interval);
-- Adds a rolled-up width: its partition stockext.<name>, its real-time view
-- stockext.<name>_live, filled from the ticks already stored.  metrics
-- adds re-aggregatable states to its rows (the columns candle, returns,
-- close_moments of stockext.rollups).
CREATE FUNCTION stockext.add_rollup(name name, width interval,
                                    origin timestamp DEFAULT '2000-01-03 00:00',
                                    time_zone text DEFAULT 'UTC',
                                    source_resolution interval DEFAULT '1 minute',
                                    metrics text[] DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    taken      text;
BEGIN
    IF name IS NULL OR width IS NULL OR origin IS NULL OR time_zone IS NULL OR source_resolution IS NULL
       OR metrics IS NULL OR array_position(metrics, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'arguments of stockext.add_rollup() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT m INTO taken FROM unnest(metrics) m
    WHERE m <> ALL (ARRAY['volatility', 'vwap', 'bar_count', 'high_low_times']) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown rollup metric "%"', taken
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The metrics are volatility, vwap, bar_count and high_low_times.';
    END IF;
    IF name !~ '^[a-z][a-z0-9_]{0,50}$' THEN
        RAISE EXCEPTION 'invalid rollup name "%"', name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A rollup name is 1 to 51 lowercase letters, digits or underscores, starting with a letter.';
    END IF;
    IF width <= interval '0' OR ((date_part('month', width) <> 0 OR date_part('year', width) <> 0)
                                  AND stockext.calendar_unit(width) IS NULL) THEN
        RAISE EXCEPTION 'invalid rollup width "%"', width
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A width is positive and made of days, hours, minutes and seconds only, or is 1 month, 3 months or 1 year.';
    END IF;
    IF source_resolution <= interval '0' OR source_resolution >= width THEN
        RAISE EXCEPTION 'source resolution "%" is not finer than the width "%"', source_resolution, width
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_timezone_names WHERE pg_timezone_names.name = time_zone)
       AND upper(time_zone) <> 'UTC' THEN
        RAISE EXCEPTION 'time zone "%" not recognized', time_zone
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use a name from pg_timezone_names, such as America/New_York.';
    END IF;
    PERFORM stockext.rollup_lock();
    SELECT w.name INTO taken FROM stockext.rollup_widths w WHERE w.width = add_rollup.width;
    IF FOUND THEN
        RAISE EXCEPTION 'a rollup of width "%" already exists', width
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('It is stockext.%I.', taken),
                  HINT = 'Realign it with stockext.set_rollup_alignment(), or remove it with stockext.drop_rollup() first.';
    END IF;
    SELECT c.relname INTO taken FROM pg_class c
    WHERE c.relnamespace = 'stockext'::regnamespace AND c.relname IN (name, name || '_live');
    IF FOUND THEN
        RAISE EXCEPTION 'rollup name "%" is already taken', name
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('stockext.%I already exists.', taken),
                  HINT = 'Choose another name.';
    END IF;
    -- A width added is a change: the insert is no restore's load (even in
    -- an extension script, where check_function_bodies is off).  The
    -- row's trigger makes the table and the view.
    DELETE FROM stockext.rollup_widths_installed;
    INSERT INTO stockext.rollup_widths (width, name, origin, time_zone, source_resolution, metrics)
    VALUES (width, name, origin, CASE WHEN upper(time_zone) = 'UTC' THEN 'UTC' ELSE time_zone END,
            source_resolution, (SELECT coalesce(array_agg(DISTINCT m ORDER BY m), '{}') FROM unnest(metrics) m));
    RETURN stockext.rebuild_rollups(width);
END
$$;
COMMENT ON FUNCTION stockext.add_rollup(name, interval, timestamp, text, interval, text[]) IS
'adds a rolled-up width: table stockext.<name> and view stockext.<name>_live, buckets aligned to origin (local time in time_zone; calendar widths 1 month, 3 months, 1 year start at the first midnight of their period there), read from bars of source_resolution, with the metrics (volatility, vwap, bar_count, high_low_times) kept as re-aggregatable states; returns the rows computed';
REVOKE ALL ON FUNCTION stockext.add_rollup(name, interval, timestamp, text, interval, text[]) FROM PUBLIC;


------------------------------------------------------------------------------
-- BI: flat indicator views and the read-only role
------------------------------------------------------------------------------

-- bars() serves a width equal to the stored resolution (the 1-minute bars
-- of a 1-minute series), which it left out before.
CREATE OR REPLACE FUNCTION stockext.bars(symbol text, width interval, start timestamptz, stop timestamptz,
                              fill text DEFAULT 'none')
RETURNS TABLE (bucket timestamptz, open double precision, high double precision,
               low double precision, close double precision, volume bigint,
               vwap double precision, avg_close double precision, n integer)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    origin    timestamp := '2000-01-03 00:00';
    tz        text := 'UTC';
    src       interval;
    rolled    boolean;
    data_sql  text;
    prev      double precision;
BEGIN
    IF symbol IS NULL OR width IS NULL OR start IS NULL OR stop IS NULL OR fill IS NULL THEN
        RAISE EXCEPTION 'arguments of stockext.bars() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF fill NOT IN ('none', 'null', 'previous', 'locf') THEN
        RAISE EXCEPTION 'invalid fill "%"', fill
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use none, null, previous or locf.';
    END IF;
    IF width <= interval '0' OR ((date_part('month', width) <> 0 OR date_part('year', width) <> 0)
                                  AND stockext.calendar_unit(width) IS NULL) THEN
        RAISE EXCEPTION 'invalid bar width "%"', width
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A width is positive and made of days, hours, minutes and seconds only, or is 1 month, 3 months or 1 year.';
    END IF;
    IF stop < start THEN
        RAISE EXCEPTION 'bar range ends before it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', start, stop);
    END IF;
    IF extract(epoch FROM stop - start) / extract(epoch FROM width) > 1000000 THEN
        RAISE EXCEPTION 'bar range holds more than 1000000 buckets of "%"', width
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Ask for a shorter range or a wider bucket.';
    END IF;
    symbol := upper(symbol COLLATE "C");
    -- A symbol never stored is a typo more often than an empty range, and
    -- would fill every bucket with NULLs.
    IF NOT EXISTS (SELECT FROM stockext.ticks t WHERE t.symbol = bars.symbol)
       AND NOT EXISTS (SELECT FROM stockext.rollups r WHERE r.symbol = bars.symbol) THEN
        RAISE EXCEPTION 'symbol "%" has no bars', symbol
            USING ERRCODE = 'no_data_found',
                  DETAIL = 'Neither stockext.ticks nor the rollups hold a bar of it, at any resolution.',
                  HINT = 'SELECT DISTINCT symbol FROM stockext.ticks lists the stored symbols.';
    END IF;

    SELECT w.origin, w.time_zone, w.source_resolution INTO origin, tz, src
    FROM stockext.rollup_widths w WHERE w.width = bars.width;
    rolled := FOUND;
    IF rolled THEN
        data_sql := $q$
            SELECT l.bucket, l.open, l.high, l.low, l.close, l.volume, l.vwap, l.avg_close, l.n
            FROM stockext.rollups_live l
            WHERE l.width = $2 AND l.symbol = $1 AND l.bucket >= $3 AND l.bucket < $4$q$;
    ELSE
        origin := '2000-01-03 00:00';
        tz := 'UTC';
        SELECT min(t.resolution) INTO src FROM stockext.ticks t
        WHERE t.symbol = bars.symbol AND t.ts >= start AND t.ts < stop + width AND t.resolution <= width;
        data_sql := format($q$
            SELECT s.bucket, %s
            FROM (SELECT stockext.rollup_bucket(t.ts, $2, $5, $6) AS bucket, t.*
                  FROM stockext.ticks t
                  WHERE t.symbol = $1 AND t.resolution = $7 AND t.ts >= $3 AND t.ts < $4 + $2) s
            WHERE s.bucket >= $3 AND s.bucket < $4
            GROUP BY s.bucket$q$, stockext.rollup_select_list());
    END IF;

    IF fill = 'none' THEN
        RETURN QUERY EXECUTE data_sql || ' ORDER BY 1' USING symbol, width, start, stop, origin, tz, src;
        RETURN;
    END IF;

    -- The close before the first bucket seeds 'previous'.
    IF fill IN ('previous', 'locf') AND src IS NOT NULL THEN
        SELECT t.close INTO prev FROM stockext.ticks t
        WHERE t.symbol = bars.symbol AND t.resolution = src
          AND t.ts < stockext.rollup_bucket(start, width, origin, tz)
          AND stockext.rollup_bucket(t.ts, width, origin, tz) < start
        ORDER BY t.ts DESC LIMIT 1;
    END IF;

    RETURN QUERY EXECUTE format($q$
        WITH data AS (%s),
        grid AS (
            SELECT DISTINCT g AT TIME ZONE $6 AS bucket
            FROM generate_series(stockext.rollup_bucket($3, $2, $5, $6) AT TIME ZONE $6, $4 AT TIME ZONE $6, $2) g
        ),
        cells AS (
            SELECT g.bucket, d.open, d.high, d.low, d.close, d.volume, d.vwap, d.avg_close, d.n,
                   count(d.close) OVER (ORDER BY g.bucket) AS run
            FROM grid g LEFT JOIN data d ON d.bucket = g.bucket
            WHERE g.bucket >= $3 AND g.bucket < $4
        ),
        carried AS (
            SELECT c.*, coalesce(first_value(c.close) OVER (PARTITION BY c.run ORDER BY c.bucket), $8) AS last_close
            FROM cells c
        )
        SELECT c.bucket,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.open ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.high ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.low ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.close ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 OR c.last_close IS NULL THEN c.volume ELSE 0 END,
               c.vwap,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.avg_close ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 OR c.last_close IS NULL THEN c.n ELSE 0 END
        FROM carried c ORDER BY c.bucket$q$, data_sql)
    USING symbol, width, start, stop, origin, tz, src, prev, fill IN ('previous', 'locf');
END
$$;

-- bars() of a width that is not rolled up builds its query with
-- rollup_select_list(), so a reader needs to execute it.
GRANT EXECUTE ON FUNCTION stockext.rollup_select_list() TO PUBLIC;

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
            earliest := least((SELECT min(t.ts) FROM stockext.ticks t
                               WHERE t.symbol = upper(indicators.symbol COLLATE "C")),
                              (SELECT min(r.bucket) FROM stockext.rollups r
                               WHERE r.symbol = upper(indicators.symbol COLLATE "C")));
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

