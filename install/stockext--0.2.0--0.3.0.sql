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


------------------------------------------------------------------------------
-- Latest bars, ASOF and rollups: user-defined metrics, calendar widths
------------------------------------------------------------------------------


------------------------------------------------------------------------------
-- BI: flat indicator views and the read-only role
------------------------------------------------------------------------------

