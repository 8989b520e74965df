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
    actions bigint;
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
    -- The symbol's splits and dividends first, all of them (a chart's
    -- events cover only its range, and fetch_history undoes Yahoo's
    -- adjustment for the later splits recorded), unless fetched within
    -- stockext.actions_refresh_interval (0: never here): at most the
    -- provider's actions requests a day.  Failing fetches the bars anyway.
    IF coalesce(current_setting('stockext.actions_refresh_interval', true), '1d') <> '0'
       AND NOT EXISTS (SELECT FROM stockext.action_refreshes r
                   WHERE r.provider = backfill.provider AND r.symbol = backfill.symbol
                     AND r.next_refresh_at > now()) THEN
        BEGIN
            actions := stockext.fetch_actions(provider, symbol);
            IF actions IS NOT NULL THEN
                RAISE NOTICE 'backfill of "%" from %: % corporate actions added', symbol, provider, actions;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'backfill of "%" from %: corporate actions not fetched: %', symbol, provider, SQLERRM;
        END;
    END IF;
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
COMMENT ON FUNCTION stockext.backfill(text, text, timestamptz, timestamptz, interval) IS
'fetches the corporate actions of a symbol (stored in upper case) from a provider unless fetched within stockext.actions_refresh_interval (0: not at all), then the bars of [start, stop) in chunks (NOTICE per chunk), and upserts them; safe to re-run; returns rows changed';


------------------------------------------------------------------------------
-- Market reference data: trading calendars and corporate actions
------------------------------------------------------------------------------

-- Splits and cash dividends per symbol and ex-date.  Bars stay as traded;
-- the adjusted series are derived from these rows at read time (README,
-- "Corporate actions").  A split turns split_from shares into split_to
-- (NVDA 2024-06-10: 1 and 10); a dividend pays cash_amount per share held
-- before the ex-date, in the currency the bars are quoted in.  Providers'
-- rows and a user's own (source 'manual', the default) live side by side;
-- the symbol is stored in upper case, as in stockext.ticks.
CREATE TABLE stockext.corporate_actions (
    symbol      text        NOT NULL,
    ex_date     date        NOT NULL,
    kind        text        NOT NULL,
    split_from  numeric,
    split_to    numeric,
    cash_amount numeric,
    currency    text,
    source      text        NOT NULL DEFAULT 'manual',
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT corporate_actions_pkey PRIMARY KEY (symbol, ex_date, kind),
    CONSTRAINT corporate_actions_kind_known CHECK (kind IN ('split', 'dividend')),
    -- numeric orders NaN above 'Infinity': "< 'Infinity'" refuses both.
    CONSTRAINT corporate_actions_dividend_amount
        CHECK (kind <> 'dividend' OR (cash_amount IS NOT NULL AND cash_amount >= 0 AND cash_amount < 'Infinity'
                                     AND split_from IS NULL AND split_to IS NULL)),
    CONSTRAINT corporate_actions_split_ratio
        CHECK (kind <> 'split' OR (split_from IS NOT NULL AND split_to IS NOT NULL
                                  AND split_from > 0 AND split_from < 'Infinity'
                                  AND split_to > 0 AND split_to < 'Infinity'
                                  AND cash_amount IS NULL AND currency IS NULL)),
    CONSTRAINT corporate_actions_currency_valid CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT corporate_actions_symbol_upper CHECK (symbol = upper(symbol COLLATE "C")),
    CONSTRAINT corporate_actions_symbol_valid CHECK (stockext.symbol_problem(symbol) IS NULL)
);
COMMENT ON TABLE stockext.corporate_actions IS
'splits and cash dividends per symbol and ex-date, from providers or entered by hand; the adjusted series (stockext.ticks_adjusted, bars(adjust => ...)) are derived from them at read time';
COMMENT ON COLUMN stockext.corporate_actions.ex_date IS
'first trading date on the new basis: the action adjusts the bars before 00:00 UTC of this date';
COMMENT ON COLUMN stockext.corporate_actions.split_from IS
'a split turns split_from shares into split_to (NVDA 2024-06-10: 1 and 10); NULL for a dividend';
COMMENT ON COLUMN stockext.corporate_actions.split_to IS
'a split turns split_from shares into split_to; NULL for a dividend';
COMMENT ON COLUMN stockext.corporate_actions.cash_amount IS
'cash paid per share held before the ex-date, as traded then (not split-adjusted); NULL for a split';
COMMENT ON COLUMN stockext.corporate_actions.currency IS
'ISO 4217 code of cash_amount, informative: the amount is taken to be in the currency of the bars';
COMMENT ON COLUMN stockext.corporate_actions.source IS
'provider that reported the action, or manual';
COMMENT ON COLUMN stockext.corporate_actions.fetched_at IS
'when the row was stored or last refreshed';
-- Reference data that every reader of adjusted bars reads.
REVOKE ALL ON stockext.corporate_actions FROM PUBLIC;
GRANT SELECT ON stockext.corporate_actions TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.corporate_actions', '');

-- When each (provider, symbol) had its corporate actions fetched: the
-- worker's schedule (stockext.actions_refresh_interval), and what
-- refresh_corporate_actions() and backfill did.
CREATE TABLE stockext.action_refreshes (
    provider           text        NOT NULL,
    symbol             text        NOT NULL,
    last_refresh       timestamptz,
    actions_stored     bigint      NOT NULL DEFAULT 0,
    last_error         timestamptz,
    last_error_message text,
    next_refresh_at    timestamptz NOT NULL,
    CONSTRAINT action_refreshes_pkey PRIMARY KEY (provider, symbol)
);
COMMENT ON TABLE stockext.action_refreshes IS
'per provider and symbol: the last successful fetch of its corporate actions and the rows it added, the last failure, and when the worker fetches them next (stockext.actions_refresh_interval after a success, within the hour after a failure)';
REVOKE ALL ON stockext.action_refreshes FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.action_refreshes', '');

-- One provider's corporate actions of a symbol, all of its history: its
-- requests (TwelveData /splits and /dividends, Alpha Vantage SPLITS and
-- DIVIDENDS, Yahoo's chart events over its whole range) within the request
-- limits, with the key of the provider's first keyed feed.
CREATE FUNCTION stockext.fetch_actions(provider text, symbol text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'stockext_fetch_actions'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION stockext.fetch_actions(text, text) IS
'fetches every split and dividend of a symbol from a provider and stores them in stockext.corporate_actions (rows already there are kept); returns the rows added, or NULL when the provider offers none (used by refresh_corporate_actions and backfill)';
REVOKE ALL ON FUNCTION stockext.fetch_actions(text, text) FROM PUBLIC;

-- Fetches the corporate actions of one symbol, or of every feed's symbol,
-- from the providers of the feeds that poll it.  For one symbol a failure
-- is an error; for all, a WARNING per symbol and the rest go on.
CREATE FUNCTION stockext.refresh_corporate_actions(symbol text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wanted text := upper(symbol COLLATE "C");
    pair   record;
    got    bigint;
    total  bigint := 0;
BEGIN
    IF wanted IS NOT NULL AND NOT EXISTS (SELECT FROM stockext.feeds f WHERE wanted = ANY (f.symbols)) THEN
        RAISE EXCEPTION 'symbol "%" is polled by no feed', wanted
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Corporate actions are fetched from the providers of the feeds that poll a symbol; enter others into stockext.corporate_actions.';
    END IF;
    FOR pair IN SELECT DISTINCT f.provider, s.symbol
                FROM stockext.feeds f CROSS JOIN unnest(f.symbols) AS s(symbol)
                WHERE wanted IS NULL OR s.symbol = wanted
                ORDER BY 1, 2 LOOP
        IF wanted IS NOT NULL THEN
            got := stockext.fetch_actions(pair.provider, pair.symbol);
        ELSE
            BEGIN
                got := stockext.fetch_actions(pair.provider, pair.symbol);
            EXCEPTION WHEN OTHERS THEN
                RAISE WARNING 'corporate actions of "%" from % not refreshed: %', pair.symbol, pair.provider, SQLERRM;
                CONTINUE;
            END;
        END IF;
        total := total + coalesce(got, 0);
    END LOOP;
    RETURN total;
END
$$;
COMMENT ON FUNCTION stockext.refresh_corporate_actions(text) IS
'fetches the splits and dividends of a symbol (NULL: of every feed symbol) from the providers of its feeds that offer them, within their request limits, into stockext.corporate_actions (rows already there, such as corrections, are kept); returns the rows added';
REVOKE ALL ON FUNCTION stockext.refresh_corporate_actions(text) FROM PUBLIC;

-- The factor that turns a bar's as-traded prices into adjusted ones, from
-- the actions whose ex-date is after the bar (README, "Corporate actions").
-- A query reads a symbol's actions once, for all its calls.
CREATE FUNCTION stockext.adjustment_factor(symbol text, ts timestamptz, adjust text DEFAULT 'all')
RETURNS double precision
AS 'MODULE_PATHNAME', 'stockext_adjustment_factor'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.adjustment_factor(text, timestamptz, text) IS
'what the prices of symbol''s bar at ts are multiplied by to adjust them: adjust splits (product of split_from / split_to of the splits with a later ex-date), all (that times 1 - cash / previous close of each later dividend) or none (1); volumes are divided by the splits factor';

-- The adjusted price and volume in one call each: what the view and
-- bars() read per bar (bench/adjust.sh), equal to the expressions with
-- adjustment_factor() that their comments give.
CREATE FUNCTION stockext.adjust_price(price double precision, symbol text, ts timestamptz,
                                      adjust text DEFAULT 'all')
RETURNS double precision
AS 'MODULE_PATHNAME', 'stockext_adjust_price'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.adjust_price(double precision, text, timestamptz, text) IS
'price of symbol''s bar at ts adjusted: price * stockext.adjustment_factor(symbol, ts, adjust)';

CREATE FUNCTION stockext.adjust_volume(volume bigint, symbol text, ts timestamptz)
RETURNS bigint
AS 'MODULE_PATHNAME', 'stockext_adjust_volume'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.adjust_volume(bigint, text, timestamptz) IS
'volume of symbol''s bar at ts split-adjusted to whole shares: (volume / stockext.adjustment_factor(symbol, ts, ''splits''))::bigint, rounded half to even';

-- The bars with OHLC and volume split-adjusted and adj_close adjusted for
-- splits and dividends.  security_invoker: reading it takes the right to
-- read stockext.ticks.
CREATE VIEW stockext.ticks_adjusted WITH (security_invoker = true) AS
SELECT t.symbol, t.ts, t.resolution,
       stockext.adjust_price(t.open, t.symbol, t.ts, 'splits') AS open,
       stockext.adjust_price(t.high, t.symbol, t.ts, 'splits') AS high,
       stockext.adjust_price(t.low, t.symbol, t.ts, 'splits') AS low,
       stockext.adjust_price(t.close, t.symbol, t.ts, 'splits') AS close,
       stockext.adjust_volume(t.volume, t.symbol, t.ts) AS volume,
       t.source, t.ingested_at,
       stockext.adjust_price(t.close, t.symbol, t.ts, 'all') AS adj_close
FROM stockext.ticks t;
COMMENT ON VIEW stockext.ticks_adjusted IS
'stockext.ticks with open, high, low, close and volume adjusted for splits (volumes to whole shares) and adj_close adjusted for splits and dividends, from stockext.corporate_actions';
REVOKE ALL ON stockext.ticks_adjusted FROM PUBLIC;
GRANT SELECT ON stockext.ticks_adjusted TO PUBLIC;

-- The simulated market's split: the random walk is the adjusted series, so
-- the simulated bars of symbol before the ex-date are put on the basis
-- they traded at (prices times split_to / split_from, volumes divided by
-- it) and the split is recorded.  The as-traded series then drops at the
-- ex-date and ticks_adjusted (or bars(adjust => 'splits')) is the walk.
-- Bars a live feed stores later are after the ex-date, on the new basis.
CREATE FUNCTION stockext.simulate_split(symbol text, ex_date date, split_to numeric,
                                        split_from numeric DEFAULT 1)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ratio float8;
    moved bigint;
BEGIN
    IF symbol IS NULL OR ex_date IS NULL OR split_to IS NULL OR split_from IS NULL THEN
        RAISE EXCEPTION 'arguments of stockext.simulate_split() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    symbol := upper(symbol COLLATE "C");
    -- The row's constraints check the ratio; a second split that day is a
    -- unique violation before any bar moves.
    INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to, source)
    VALUES (symbol, ex_date, 'split', split_from, split_to, 'simulated');
    ratio := split_to::float8 / split_from::float8;
    UPDATE stockext.ticks t
       SET open = t.open * ratio, high = t.high * ratio, low = t.low * ratio, close = t.close * ratio,
           volume = round(t.volume / ratio)::bigint
     WHERE t.symbol = simulate_split.symbol AND t.source = 'simulated'
       AND t.ts < simulate_split.ex_date::timestamp AT TIME ZONE 'UTC';
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$$;
COMMENT ON FUNCTION stockext.simulate_split(text, date, numeric, numeric) IS
'simulates a split_from-for-split_to split of a simulated symbol at ex_date (00:00 UTC): its simulated bars before then are put on the as-traded basis (prices times split_to / split_from, volumes divided) and the split is recorded in stockext.corporate_actions; returns the bars changed';
REVOKE ALL ON FUNCTION stockext.simulate_split(text, date, numeric, numeric) FROM PUBLIC;

-- Alert rules evaluate split-adjusted prices unless told otherwise: a
-- split day is no price move.  Rules made before 0.3.0 get the default.
-- Added without a default and filled, so that the table has no "missing
-- value" that a fresh one has not.
ALTER TABLE stockext.alert_rules ADD COLUMN adjust text;
UPDATE stockext.alert_rules SET adjust = 'splits';
ALTER TABLE stockext.alert_rules
    ALTER COLUMN adjust SET DEFAULT 'splits',
    ALTER COLUMN adjust SET NOT NULL,
    ADD CONSTRAINT alert_rules_adjust_known CHECK (adjust IN ('none', 'splits', 'all'));
COMMENT ON COLUMN stockext.alert_rules.adjust IS
'prices (and for splits volumes) the rule evaluates: splits (the default: a split is no price move), all (dividends too) or none (as traded), on the basis of the bar evaluated';

-- add_alert takes adjust: a new signature, so the old one goes.
DROP FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text, boolean, boolean, interval);
CREATE FUNCTION stockext.add_alert(condition text, symbol text DEFAULT NULL,
                                   feed integer DEFAULT NULL,
                                   resolution interval DEFAULT NULL,
                                   direction text DEFAULT NULL,
                                   threshold float8 DEFAULT NULL,
                                   bars integer DEFAULT NULL,
                                   slow integer DEFAULT NULL,
                                   factor float8 DEFAULT NULL,
                                   level float8 DEFAULT NULL,
                                   cooldown interval DEFAULT '0',
                                   webhook_url text DEFAULT NULL,
                                   on_forming boolean DEFAULT false,
                                   on_history boolean DEFAULT false,
                                   max_age interval DEFAULT NULL,
                                   adjust text DEFAULT 'splits',
                                   skip_open boolean DEFAULT true)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f    stockext.feeds;
    rule integer;
    why  text;
BEGIN
    -- Defaults that depend on the condition.
    IF condition IN ('pct_change', 'price_cross', 'sma_cross') THEN
        direction := coalesce(direction, 'either');
    END IF;
    IF condition = 'pct_change' THEN
        bars := coalesce(bars, 1);
    ELSIF condition = 'volume_spike' THEN
        bars := coalesce(bars, 3);
        factor := coalesce(factor, 2.0);
    ELSIF condition = 'volatility' THEN
        bars := coalesce(bars, 20);
    END IF;
    PERFORM stockext.check_alert(condition, direction, threshold, bars, slow, factor, level, cooldown);
    IF symbol IS NULL AND feed IS NULL THEN
        RAISE EXCEPTION 'an alert rule needs a symbol or a feed'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF symbol IS NOT NULL THEN
        why := stockext.symbol_problem(symbol);
        IF why IS NOT NULL THEN
            RAISE EXCEPTION 'invalid symbol "%"', symbol
                USING ERRCODE = 'invalid_parameter_value', DETAIL = initcap(left(why, 1)) || substr(why, 2) || '.';
        END IF;
    END IF;
    IF feed IS NOT NULL THEN
        PERFORM stockext.feed_provider(feed);
        SELECT * INTO f FROM stockext.feeds WHERE id = feed;
        IF symbol IS NOT NULL AND NOT upper(symbol COLLATE "C") = ANY (f.symbols) THEN
            RAISE EXCEPTION 'feed % has no symbol "%"', feed, symbol
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Feed %s polls %s.', feed, array_to_string(f.symbols, ', '));
        END IF;
        IF resolution IS NOT NULL AND resolution <> f.resolution THEN
            RAISE EXCEPTION 'feed % polls % bars, not %', feed, f.resolution, resolution
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Leave resolution out: a rule on a feed watches the feed''s bars.';
        END IF;
        resolution := f.resolution;
    END IF;
    resolution := coalesce(resolution, interval '1 minute');
    IF resolution <= interval '0' THEN
        RAISE EXCEPTION 'resolution must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF on_forming IS NULL OR on_history IS NULL OR skip_open IS NULL THEN
        RAISE EXCEPTION 'on_forming, on_history and skip_open must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF max_age <= interval '0' THEN
        RAISE EXCEPTION 'max_age must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('max_age is %s.', max_age);
    END IF;
    IF adjust IS NULL OR adjust NOT IN ('none', 'splits', 'all') THEN
        RAISE EXCEPTION 'invalid adjust "%"', coalesce(adjust, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use splits (the default), all or none.';
    END IF;
    IF max_age IS NOT NULL AND on_history THEN
        RAISE EXCEPTION 'a rule with on_history takes no max_age'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A rule with on_history evaluates bars however late they land.';
    END IF;
    INSERT INTO stockext.alert_rules (symbol, feed_id, resolution, condition, direction, threshold,
                                      bars, slow, factor, level, cooldown, on_forming, on_history, max_age, adjust,
                                      skip_open)
    VALUES (upper(symbol COLLATE "C"), feed, resolution, condition, direction, threshold, bars, slow, factor, level, cooldown,
            on_forming, on_history, max_age, adjust, skip_open)
    RETURNING id INTO rule;
    IF webhook_url IS NOT NULL THEN
        PERFORM stockext.set_webhook(rule, NULL, webhook_url);
    END IF;
    PERFORM stockext.activate_on_first_use();
    RETURN rule;
END
$$;
COMMENT ON FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text, boolean, boolean, interval, text, boolean) IS
'adds an alert rule on a symbol (stored in upper case) or on the symbols of a feed and returns its id; conditions pct_change, volume_spike, price_cross, sma_cross, volatility; it evaluates closed bars that land within max_age of their close, unless on_forming or on_history, on prices adjusted for splits unless adjust says all or none; volume_spike leaves out the first bar of each session unless skip_open is false; a webhook URL needs a superuser';
REVOKE ALL ON FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text, boolean, boolean, interval, text, boolean) FROM PUBLIC;


-- Calendars are data, so that a user adds an exchange with INSERTs: a time
-- zone, a regular session per weekday, holiday and early-close rules that
-- give the dates of any year, and one-off dated exceptions.  Sessions are
-- wall times of the exchange's zone, so they follow its DST changes.
-- Public reference data: anyone may read them (is_open, bars() of a
-- reader); changing them takes the owner or a superuser.
CREATE TABLE stockext.calendars (
    name        text PRIMARY KEY,
    time_zone   text NOT NULL,
    description text,
    -- An unknown zone fails here with PostgreSQL's own message.
    CONSTRAINT calendars_time_zone_known CHECK ((timestamptz '2000-01-01 00:00+00' AT TIME ZONE time_zone) IS NOT NULL),
    CONSTRAINT calendars_name_valid CHECK (name ~ '^[A-Za-z0-9_.+-]{1,32}$')
);
COMMENT ON TABLE stockext.calendars IS
'trading calendars (XNYS, 24x5, 24x7 and the user''s): name, time zone of the sessions; sessions in calendar_sessions, holiday and early-close rules in calendar_holidays, one-off days in calendar_exceptions';
GRANT SELECT ON stockext.calendars TO PUBLIC;

-- The regular session of each weekday of a trading date, as offsets from
-- that date's local midnight: 09:30 to 16:00 for NYSE; -07:00 (17:00 the day
-- before) to 17:00 for the forex session of a 24x5 Monday.  No row: closed.
CREATE TABLE stockext.calendar_sessions (
    calendar text     NOT NULL REFERENCES stockext.calendars ON UPDATE CASCADE ON DELETE CASCADE,
    weekday  integer  NOT NULL,
    opens    interval NOT NULL,
    closes   interval NOT NULL,
    PRIMARY KEY (calendar, weekday),
    CONSTRAINT calendar_sessions_weekday_iso CHECK (weekday BETWEEN 1 AND 7),
    CONSTRAINT calendar_sessions_opens_before_closes CHECK (opens < closes),
    CONSTRAINT calendar_sessions_within_a_day_each_side
        CHECK (opens >= interval '-24 hours' AND closes <= interval '48 hours')
);
COMMENT ON TABLE stockext.calendar_sessions IS
'regular session per ISO weekday (1 Monday .. 7 Sunday) of the trading date: opens and closes as offsets from its local midnight, either may cross midnight; no row: no session that weekday';
GRANT SELECT ON stockext.calendar_sessions TO PUBLIC;

-- Rules giving a date in every year: a full-day holiday (closes NULL) or an
-- early close at closes.  kind: fixed (month, day), nth_weekday (the nth
-- ISO weekday of month), last_weekday (the last one), easter (Easter
-- Sunday); offset_days moves the date (Good Friday: easter, -2; the day
-- after Thanksgiving: nth_weekday, +1).  observed moves a date falling on a
-- weekend: nearest (Saturday to Friday, Sunday to Monday),
-- nearest_same_month (the same, but a Saturday whose Friday is in the month
-- before is not observed: NYSE's New Year's Day), none.
CREATE TABLE stockext.calendar_holidays (
    calendar    text     NOT NULL REFERENCES stockext.calendars ON UPDATE CASCADE ON DELETE CASCADE,
    name        text     NOT NULL,
    kind        text     NOT NULL,
    month       integer,
    day         integer,
    weekday     integer,
    nth         integer,
    offset_days integer  NOT NULL DEFAULT 0,
    observed    text     NOT NULL DEFAULT 'none',
    closes      interval,
    first_year  integer,
    last_year   integer,
    PRIMARY KEY (calendar, name),
    CONSTRAINT calendar_holidays_kind_known CHECK (kind IN ('fixed', 'nth_weekday', 'last_weekday', 'easter')),
    CONSTRAINT calendar_holidays_observed_known CHECK (observed IN ('none', 'nearest', 'nearest_same_month')),
    CONSTRAINT calendar_holidays_fields CHECK (CASE kind
        WHEN 'fixed' THEN month IS NOT NULL AND day IS NOT NULL AND weekday IS NULL AND nth IS NULL
        WHEN 'nth_weekday' THEN month IS NOT NULL AND day IS NULL AND weekday IS NOT NULL AND nth IS NOT NULL
        WHEN 'last_weekday' THEN month IS NOT NULL AND day IS NULL AND weekday IS NOT NULL AND nth IS NULL
        ELSE month IS NULL AND day IS NULL AND weekday IS NULL AND nth IS NULL END),
    CONSTRAINT calendar_holidays_month CHECK (month BETWEEN 1 AND 12),
    CONSTRAINT calendar_holidays_day CHECK (day BETWEEN 1 AND 31),
    CONSTRAINT calendar_holidays_weekday_iso CHECK (weekday BETWEEN 1 AND 7),
    CONSTRAINT calendar_holidays_nth CHECK (nth BETWEEN 1 AND 5)
);
COMMENT ON TABLE stockext.calendar_holidays IS
'holiday (closes NULL) and early-close (closes: the early close, an offset from local midnight) rules of the calendars: fixed dates, nth or last weekday of a month, Easter-based, moved by offset_days and, for weekends, by observed; in force from first_year to last_year';
GRANT SELECT ON stockext.calendar_holidays TO PUBLIC;

-- One-off days, which win over the rules: a closure (opens and closes
-- NULL: the NYSE's national day of mourning of 2025-01-09) or a session of
-- its own (a late open, an extra session).
CREATE TABLE stockext.calendar_exceptions (
    calendar text     NOT NULL REFERENCES stockext.calendars ON UPDATE CASCADE ON DELETE CASCADE,
    day      date     NOT NULL,
    opens    interval,
    closes   interval,
    note     text,
    PRIMARY KEY (calendar, day),
    CONSTRAINT calendar_exceptions_both_or_neither CHECK ((opens IS NULL) = (closes IS NULL)),
    CONSTRAINT calendar_exceptions_opens_before_closes CHECK (opens < closes)
);
COMMENT ON TABLE stockext.calendar_exceptions IS
'one-off trading dates of a calendar, over its rules: closed all day (opens and closes NULL) or a session of their own (offsets from local midnight)';
GRANT SELECT ON stockext.calendar_exceptions TO PUBLIC;

-- The shipped calendars.  pg_dump keeps what a user adds (calendars,
-- rules, exceptions, also of the shipped calendars) but not the shipped
-- rows, which CREATE EXTENSION makes: a change to a shipped row is lost by
-- a dump and restore (add an exception or a rule instead).  The filters
-- are registered in 99-config-dumps.sql.
INSERT INTO stockext.calendars VALUES
    ('XNYS', 'America/New_York', 'NYSE and Nasdaq: 09:30-16:00 New York, NYSE holidays, 13:00 early closes'),
    ('24x5', 'America/New_York', 'forex: Sunday 17:00 to Friday 17:00 New York'),
    ('24x7', 'UTC', 'crypto: always open');
INSERT INTO stockext.calendar_sessions
SELECT 'XNYS', d, interval '09:30', interval '16:00' FROM generate_series(1, 5) d
UNION ALL SELECT '24x5', d, '-07:00', '17:00' FROM generate_series(1, 5) d
UNION ALL SELECT '24x7', d, '00:00', '24:00' FROM generate_series(1, 7) d;
-- NYSE Rule 7.2 and its holiday page: when a holiday falls on a Saturday
-- the Exchange closes the Friday before, unless that Friday ends a monthly
-- or yearly accounting period (New Year's Day); on a Sunday, the Monday
-- after.  Early closes at 13:00 on July 3 (a weekday that is not the
-- observed holiday), the day after Thanksgiving and December 24.
INSERT INTO stockext.calendar_holidays
    (calendar, name, kind, month, day, weekday, nth, offset_days, observed, closes, first_year) VALUES
    ('XNYS', 'New Year''s Day', 'fixed', 1, 1, NULL, NULL, 0, 'nearest_same_month', NULL, NULL),
    ('XNYS', 'Martin Luther King Jr. Day', 'nth_weekday', 1, NULL, 1, 3, 0, 'none', NULL, NULL),
    ('XNYS', 'Washington''s Birthday', 'nth_weekday', 2, NULL, 1, 3, 0, 'none', NULL, NULL),
    ('XNYS', 'Good Friday', 'easter', NULL, NULL, NULL, NULL, -2, 'none', NULL, NULL),
    ('XNYS', 'Memorial Day', 'last_weekday', 5, NULL, 1, NULL, 0, 'none', NULL, NULL),
    ('XNYS', 'Juneteenth', 'fixed', 6, 19, NULL, NULL, 0, 'nearest_same_month', NULL, 2022),
    ('XNYS', 'Independence Day', 'fixed', 7, 4, NULL, NULL, 0, 'nearest_same_month', NULL, NULL),
    ('XNYS', 'Labor Day', 'nth_weekday', 9, NULL, 1, 1, 0, 'none', NULL, NULL),
    ('XNYS', 'Thanksgiving Day', 'nth_weekday', 11, NULL, 4, 4, 0, 'none', NULL, NULL),
    ('XNYS', 'Christmas Day', 'fixed', 12, 25, NULL, NULL, 0, 'nearest_same_month', NULL, NULL),
    ('XNYS', 'Independence Day eve (early close)', 'fixed', 7, 3, NULL, NULL, 0, 'none', '13:00', NULL),
    ('XNYS', 'day after Thanksgiving (early close)', 'nth_weekday', 11, NULL, 4, 4, 1, 'none', '13:00', NULL),
    ('XNYS', 'Christmas Eve (early close)', 'fixed', 12, 24, NULL, NULL, 0, 'none', '13:00', NULL);
INSERT INTO stockext.calendar_exceptions VALUES
    ('XNYS', '2025-01-09', NULL, NULL, 'national day of mourning for President Jimmy Carter');
-- Easter Sunday of a Gregorian year, by the anonymous algorithm (Meeus,
-- Astronomical Algorithms, ch. 8), and the date a rule gives in a year:
-- in C (src/calendar.c), as every session lookup evaluates each rule for
-- each year it spans.
CREATE FUNCTION stockext.easter(year integer)
RETURNS date
AS 'MODULE_PATHNAME', 'stockext_easter'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.easter(integer) IS
'Easter Sunday of a year of the Gregorian calendar (1583 to 9999), by the anonymous Gregorian computus (Meeus)';

CREATE FUNCTION stockext.holiday_date(rule stockext.calendar_holidays, year integer)
RETURNS date
AS 'MODULE_PATHNAME', 'stockext_holiday_date'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.holiday_date(stockext.calendar_holidays, integer) IS
'the date a holiday or early-close rule gives in a year, moved by offset_days and by its weekend rule (observed); NULL when not in force that year, when the month lacks the day, or when not observed';

-- Raises undefined_object for a calendar that does not exist; returns its
-- time zone.
CREATE FUNCTION stockext.calendar_zone(calendar text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tz text;
BEGIN
    SELECT c.time_zone INTO tz FROM stockext.calendars c WHERE c.name = calendar;
    IF tz IS NULL THEN
        RAISE EXCEPTION 'calendar "%" does not exist', calendar
            USING ERRCODE = 'undefined_object',
                  HINT = (SELECT 'Use one of ' || string_agg(c.name, ', ' ORDER BY c.name)
                                 || ', or add it to stockext.calendars.' FROM stockext.calendars c);
    END IF;
    RETURN tz;
END
$$;
COMMENT ON FUNCTION stockext.calendar_zone(text) IS
'the time zone of a calendar; raises undefined_object for an unknown one';

-- The session of each trading date in [from_day, to_day]: the exception of the
-- day if any, else the weekday's session unless a holiday rule gives the
-- date, closing at the earliest early close a rule gives it.
CREATE FUNCTION stockext.calendar_days(calendar text, from_day date, to_day date)
RETURNS TABLE (day date, opens timestamptz, closes timestamptz)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    WITH rules AS (
        SELECT stockext.holiday_date(h, y) AS d, h.closes
        FROM stockext.calendar_holidays h,
             generate_series(extract(year FROM from_day)::int, extract(year FROM to_day)::int + 1) y
        WHERE h.calendar = $1
    )
    SELECT g.d, (g.d + o.opens) AT TIME ZONE c.time_zone, (g.d + o.closes) AT TIME ZONE c.time_zone
    FROM stockext.calendars c
    CROSS JOIN LATERAL (SELECT x::date AS d FROM generate_series(from_day, to_day, interval '1 day') x) g
    LEFT JOIN stockext.calendar_exceptions e ON e.calendar = c.name AND e.day = g.d
    LEFT JOIN stockext.calendar_sessions s ON s.calendar = c.name AND s.weekday = extract(isodow FROM g.d)
    CROSS JOIN LATERAL (
        SELECT CASE WHEN e.day IS NOT NULL THEN e.opens ELSE s.opens END AS opens,
               CASE WHEN e.day IS NOT NULL THEN e.closes
                    ELSE least(s.closes, (SELECT min(r.closes) FROM rules r WHERE r.d = g.d)) END AS closes) o
    WHERE c.name = $1 AND o.opens < o.closes
      AND (e.day IS NOT NULL OR NOT EXISTS (SELECT FROM rules r WHERE r.d = g.d AND r.closes IS NULL))
$$;
COMMENT ON FUNCTION stockext.calendar_days(text, date, date) IS
'the session of each trading date from from_day to to_day of a calendar (holidays and closed days give no row), before sessions that touch are joined';

-- Sessions overlapping [start, stop), those that touch joined into one (a
-- 24x5 week, Sunday 17:00 to Friday 17:00).  The trading dates read reach
-- 8 days beyond each end; a session reaching that far is longer than a
-- week, and its ends are shown as -infinity and infinity (24x7).
CREATE FUNCTION stockext.sessions(calendar text, start timestamptz, stop timestamptz)
RETURNS TABLE (open timestamptz, close timestamptz)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 20
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tz    text := stockext.calendar_zone(calendar);
    from_day date;
    to_day   date;
BEGIN
    IF stop < start THEN
        RAISE EXCEPTION 'session range ends before it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', start, stop);
    END IF;
    IF NOT isfinite(start) OR NOT isfinite(stop) THEN
        RAISE EXCEPTION 'session range must be finite'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    from_day := (start AT TIME ZONE tz)::date - 8;
    to_day := (stop AT TIME ZONE tz)::date + 8;
    RETURN QUERY
    WITH days AS (
        SELECT d.opens, d.closes, d.day = from_day AS first_day, d.day = to_day AS last_day
        FROM stockext.calendar_days(calendar, from_day, to_day) d
    ),
    runs AS (
        SELECT d.*, count(*) FILTER (WHERE d.opens > d.prev_close OR d.prev_close IS NULL)
                        OVER (ORDER BY d.opens) AS run
        FROM (SELECT x.*, max(x.closes) OVER (ORDER BY x.opens ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_close
              FROM days x) d
    )
    SELECT CASE WHEN bool_or(r.first_day) THEN '-infinity' ELSE min(r.opens) END,
           CASE WHEN bool_or(r.last_day) THEN 'infinity' ELSE max(r.closes) END
    FROM runs r
    GROUP BY r.run
    HAVING max(r.closes) > start AND min(r.opens) < stop
    ORDER BY 1;
END
$$;
COMMENT ON FUNCTION stockext.sessions(text, timestamptz, timestamptz) IS
'trading sessions of a calendar overlapping [start, stop): open and close instants, sessions that touch joined (a 24x5 week is one session); -infinity / infinity for a market that never closes';

CREATE FUNCTION stockext.is_open(calendar text, at timestamptz)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN EXISTS (SELECT FROM stockext.sessions(calendar, at, at + interval '1 microsecond'));
COMMENT ON FUNCTION stockext.is_open(text, timestamptz) IS
'whether the market of a calendar is open at an instant (a session''s open included, its close excluded)';

-- Looks ahead a year at most, 8 weeks at a time.
CREATE FUNCTION stockext.next_open(calendar text, at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_open timestamptz;
BEGIN
    FOR i IN 0 .. 6 LOOP
        SELECT min(s.open) INTO found_open
        FROM stockext.sessions(calendar, at + i * interval '8 weeks', at + (i + 1) * interval '8 weeks') s
        WHERE s.open >= at;
        IF found_open IS NOT NULL THEN
            RETURN found_open;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.next_open(text, timestamptz) IS
'the next session open of a calendar at or after an instant (the next one, if the market is open then); NULL if none within a year (24x7)';

-- The close of the last session that closed at or before an instant (the
-- worker's closing poll follows it); NULL if none in the 8 weeks before.
CREATE FUNCTION stockext.last_close(calendar text, at timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN (SELECT max(s.close) FROM stockext.sessions(calendar, at - interval '8 weeks', at) s
        WHERE s.close <= at);
COMMENT ON FUNCTION stockext.last_close(text, timestamptz) IS
'the close of the last session of a calendar that closed at or before an instant; NULL if none in the 8 weeks before (24x7)';

-- Whether a bar of the resolution starting at ts is the first of its
-- session: the session opened within the bar's width before it.
CREATE FUNCTION stockext.opens_session(calendar text, ts timestamptz, resolution interval)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN EXISTS (SELECT FROM stockext.sessions(calendar, ts, ts + resolution) s
               WHERE s.open <= ts AND s.open > ts - resolution);
COMMENT ON FUNCTION stockext.opens_session(text, timestamptz, interval) IS
'whether a bar of the resolution starting at ts is the first bar of a session of the calendar (for volume_spike''s skip_open)';

-- Trading calendars (37-calendars.sql): what a user adds, not the shipped rows.
SELECT pg_catalog.pg_extension_config_dump('stockext.calendars', $$WHERE name NOT IN ('XNYS', '24x5', '24x7')$$);
SELECT pg_catalog.pg_extension_config_dump('stockext.calendar_sessions', $$WHERE calendar NOT IN ('XNYS', '24x5', '24x7')$$);
SELECT pg_catalog.pg_extension_config_dump('stockext.calendar_holidays',
    $$WHERE calendar <> 'XNYS' OR name NOT IN ('New Year''s Day', 'Martin Luther King Jr. Day', 'Washington''s Birthday',
        'Good Friday', 'Memorial Day', 'Juneteenth', 'Independence Day', 'Labor Day', 'Thanksgiving Day', 'Christmas Day',
        'Independence Day eve (early close)', 'day after Thanksgiving (early close)', 'Christmas Eve (early close)')$$);
SELECT pg_catalog.pg_extension_config_dump('stockext.calendar_exceptions', $$WHERE calendar <> 'XNYS' OR day <> '2025-01-09'$$);

-- The calendar a feed gets unless add_feed names one: the setting
-- stockext.feed_calendar if set; else per symbol, 24x5 for a forex pair of
-- two currencies (EUR/USD, Yahoo's EURUSD=X), 24x7 for another pair
-- (BTC/USD, Yahoo's BTC-USD) and for a provider without HTTP (the
-- simulated market trades around the clock), XNYS for the rest; a feed
-- mixing them gets the one open longest, so none of its symbols is missed.
CREATE FUNCTION stockext.default_calendar(provider text, symbols text[])
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce(
    nullif(current_setting('stockext.feed_calendar', true), ''),
    (SELECT CASE WHEN bool_or(k = '24x7') THEN '24x7' WHEN bool_or(k = '24x5') THEN '24x5' ELSE 'XNYS' END
     FROM (SELECT CASE
                  WHEN NOT coalesce((SELECT p.http FROM stockext.providers() p
                                     WHERE p.provider = default_calendar.provider), true) THEN '24x7'
                  WHEN upper(s) ~ '^[A-Z]{6}=X$' THEN '24x5'
                  WHEN upper(s) ~ '^[A-Z]{3}/[A-Z]{3}$'
                       AND split_part(upper(s), '/', 1) = ANY (c.fiat)
                       AND split_part(upper(s), '/', 2) = ANY (c.fiat) THEN '24x5'
                  WHEN upper(s) ~ '^[A-Z0-9]+/[A-Z0-9]+$' THEN '24x7'
                  WHEN upper(s) ~ '^[A-Z0-9]{2,}-[A-Z]{3,4}$'
                       AND split_part(upper(s), '-', 2) = ANY (c.fiat || ARRAY['USDT', 'USDC']) THEN '24x7'
                  ELSE 'XNYS' END AS k
           FROM unnest(symbols) s,
                (SELECT ARRAY['USD', 'EUR', 'JPY', 'GBP', 'CHF', 'AUD', 'CAD', 'NZD', 'SEK', 'NOK', 'DKK',
                              'HKD', 'SGD', 'CNY', 'CNH', 'MXN', 'ZAR', 'TRY', 'PLN', 'HUF', 'CZK', 'INR',
                              'KRW', 'BRL', 'ILS', 'THB', 'TWD'] AS fiat) c) x));
COMMENT ON FUNCTION stockext.default_calendar(text, text[]) IS
'the calendar add_feed gives a feed that names none: stockext.feed_calendar if set, else 24x5 for forex pairs (EUR/USD, EURUSD=X), 24x7 for other pairs (BTC/USD, BTC-USD) and the simulated market, XNYS otherwise; for mixed symbols the one open longest';

-- Feeds take a calendar; those of 0.2.0 get the default of their provider
-- and symbols.
ALTER TABLE stockext.feeds ADD COLUMN calendar text REFERENCES stockext.calendars ON UPDATE CASCADE;
COMMENT ON COLUMN stockext.feeds.calendar IS
'trading calendar of the symbols: the worker polls while it is open, once after each close, and at the next open (NULL: around the clock)';
UPDATE stockext.feeds SET calendar = stockext.default_calendar(provider, symbols);

-- The calendar of a symbol: that of the first feed polling it with one.
-- SECURITY DEFINER: readers of bars() cannot read feeds, and the name of
-- a calendar tells nothing secret.
CREATE FUNCTION stockext.symbol_calendar(symbol text)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT f.calendar FROM stockext.feeds f
    WHERE upper(symbol COLLATE "C") = ANY (f.symbols) AND f.calendar IS NOT NULL
    ORDER BY f.id LIMIT 1
$$;
COMMENT ON FUNCTION stockext.symbol_calendar(text) IS
'the trading calendar of a symbol: that of the first feed (by id) that polls it and has one; NULL if none';

-- Added, filled and then given its default, as a fresh install has it
-- (a default given by ADD COLUMN would be kept apart as a "missing value").
ALTER TABLE stockext.feed_state ADD COLUMN skipped_closed bigint;
UPDATE stockext.feed_state SET skipped_closed = 0;
ALTER TABLE stockext.feed_state ALTER COLUMN skipped_closed SET DEFAULT 0, ALTER COLUMN skipped_closed SET NOT NULL;
COMMENT ON TABLE stockext.feed_state IS
'per feed: when it was last polled, last succeeded and failed, its failure streak, when it is due next, and the polls skipped while its market was closed';

DROP FUNCTION stockext.add_feed(text, text[], interval, interval, text);
-- Adds a feed and returns its id.  Pass the key as a bound parameter, not
-- a literal: see "API keys" in the README.  Symbols are stored in upper
-- case; feed changes take turns (the lock), so two cannot add one symbol.
CREATE FUNCTION stockext.add_feed(provider text, symbols text[], resolution interval,
                                  poll_every interval, api_key text DEFAULT NULL,
                                  calendar text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    feed integer;
BEGIN
    PERFORM stockext.check_feed(provider, symbols, resolution, poll_every);
    symbols := ARRAY(SELECT upper(s COLLATE "C") FROM unnest(symbols) WITH ORDINALITY AS u(s, n) ORDER BY n);
    calendar := coalesce(calendar, stockext.default_calendar(provider, symbols));
    PERFORM stockext.calendar_zone(calendar);
    LOCK TABLE stockext.feeds IN SHARE ROW EXCLUSIVE MODE;
    PERFORM stockext.check_feed_unique(NULL, provider, symbols, resolution);
    INSERT INTO stockext.feeds (provider, symbols, resolution, poll_every, calendar)
    VALUES (provider, symbols, resolution, poll_every, calendar)
    RETURNING id INTO feed;
    IF api_key IS NOT NULL THEN
        PERFORM stockext.set_api_key(feed, api_key);
    END IF;
    PERFORM stockext.activate_on_first_use();
    RETURN feed;
END
$$;
COMMENT ON FUNCTION stockext.add_feed(text, text[], interval, interval, text, text) IS
'adds a feed polled by the ingestion worker while its calendar is open (default: stockext.default_calendar) and returns its id; symbols are stored in upper case, each polled by one feed per provider and resolution; the key is stored apart, readable by superusers only';
REVOKE ALL ON FUNCTION stockext.add_feed(text, text[], interval, interval, text, text) FROM PUBLIC;

DROP FUNCTION stockext.change_feed(integer, text[], interval, interval, bigint, boolean, interval);
-- NULL arguments keep the current value.  The feed is due at once.  The
-- result is checked as add_feed checks a new feed.
CREATE FUNCTION stockext.change_feed(feed integer, symbols text[] DEFAULT NULL,
                                     resolution interval DEFAULT NULL,
                                     poll_every interval DEFAULT NULL,
                                     seed bigint DEFAULT NULL,
                                     keep_raw boolean DEFAULT NULL,
                                     raw_retention interval DEFAULT NULL,
                                     calendar text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f stockext.feeds;
BEGIN
    PERFORM stockext.feed_provider(feed);
    LOCK TABLE stockext.feeds IN SHARE ROW EXCLUSIVE MODE;
    SELECT * INTO f FROM stockext.feeds WHERE id = feed FOR UPDATE;
    f.symbols := coalesce(symbols, f.symbols);
    f.resolution := coalesce(resolution, f.resolution);
    f.poll_every := coalesce(poll_every, f.poll_every);
    f.seed := coalesce(seed, f.seed);
    f.keep_raw := coalesce(keep_raw, f.keep_raw);
    f.raw_retention := coalesce(raw_retention, f.raw_retention);
    f.calendar := coalesce(calendar, f.calendar);
    IF f.calendar IS NOT NULL THEN
        PERFORM stockext.calendar_zone(f.calendar);
    END IF;
    PERFORM stockext.check_feed(f.provider, f.symbols, f.resolution, f.poll_every);
    f.symbols := ARRAY(SELECT upper(s COLLATE "C") FROM unnest(f.symbols) WITH ORDINALITY AS u(s, n) ORDER BY n);
    PERFORM stockext.check_feed_unique(feed, f.provider, f.symbols, f.resolution);
    IF f.raw_retention <= interval '0' THEN
        RAISE EXCEPTION 'raw_retention must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE stockext.feeds
       SET symbols = f.symbols, resolution = f.resolution,
           poll_every = f.poll_every, seed = f.seed,
           keep_raw = f.keep_raw, raw_retention = f.raw_retention, calendar = f.calendar
     WHERE id = feed;
    UPDATE stockext.feed_state SET next_poll_at = '-infinity' WHERE feed_id = feed;
END
$$;
COMMENT ON FUNCTION stockext.change_feed(integer, text[], interval, interval, bigint, boolean, interval, text) IS
'changes the symbols, resolution, poll interval, simulation seed, raw-reply keeping or calendar of a feed (NULL keeps a value); the feed is due at once';
REVOKE ALL ON FUNCTION stockext.change_feed(integer, text[], interval, interval, bigint, boolean, interval, text) FROM PUBLIC;

-- Whether a feed's market is closed for polling at an instant: its calendar
-- is closed and the feed has succeeded since the last close plus
-- stockext.alert_close_grace (the provider's delay for a bar's final
-- values), so the closing bar is fetched once; a feed not polled since then
-- is polled once.  NULL calendar: never closed.
CREATE FUNCTION stockext.feed_closed(calendar text, last_success timestamptz, at timestamptz)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN calendar IS NOT NULL AND NOT stockext.is_open(calendar, at)
           AND coalesce(last_success, '-infinity')
               >= coalesce(stockext.last_close(calendar, at) + (SELECT a.close_grace FROM stockext.alert_settings() a),
                           '-infinity');
END
$$;
COMMENT ON FUNCTION stockext.feed_closed(text, timestamptz, timestamptz) IS
'whether the worker skips a feed of the calendar at an instant: the market is closed and the feed succeeded after the last close (plus stockext.alert_close_grace)';

-- The feeds due now, in order of due time, for the worker.  A due feed whose
-- market is closed is returned with closed set and is not polled: it is
-- due again after poll_every, or at the next open if sooner, and counted in
-- feed_state.skipped_closed.
CREATE FUNCTION stockext.due_feeds()
RETURNS TABLE (id integer, provider text, symbols text[], resolution interval, seed bigint,
               keep_raw boolean, closed boolean)
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH due AS (
        SELECT f.id, f.provider, f.symbols, f.resolution, f.seed, f.keep_raw, f.poll_every, f.calendar,
               coalesce(s.next_poll_at, '-infinity') AS due_at,
               stockext.feed_closed(f.calendar, s.last_success, now()) AS closed
        FROM stockext.feeds f
        LEFT JOIN stockext.feed_state s ON s.feed_id = f.id
        WHERE NOT f.paused AND coalesce(s.next_poll_at, '-infinity') <= now()
    ), skipped AS (
        INSERT INTO stockext.feed_state AS s (feed_id, next_poll_at, skipped_closed)
        SELECT d.id, least(now() + d.poll_every, stockext.next_open(d.calendar, now())), 1
        FROM due d WHERE d.closed
        ON CONFLICT (feed_id) DO UPDATE
        SET next_poll_at = excluded.next_poll_at, skipped_closed = s.skipped_closed + 1
    )
    SELECT d.id, d.provider, d.symbols, d.resolution, d.seed, d.keep_raw, d.closed
    FROM due d ORDER BY d.due_at, d.id
$$;
COMMENT ON FUNCTION stockext.due_feeds() IS
'the feeds due for a poll now, for the worker; those whose market is closed (closed) are not polled but put off to their next poll or the next open, and counted in feed_state.skipped_closed';
REVOKE ALL ON FUNCTION stockext.due_feeds() FROM PUBLIC;

-- Which provider's bars a symbol keeps when providers disagree: the
-- ingest path lets a symbol's preferred source overwrite another source's
-- bar, and no other source overwrite it (README, "Cross-provider
-- conflicts").  Every resolution of the symbol.
CREATE TABLE stockext.preferred_sources (
    symbol text PRIMARY KEY,
    source text NOT NULL,
    CONSTRAINT preferred_sources_symbol_upper CHECK (symbol = upper(symbol COLLATE "C")),
    CONSTRAINT preferred_sources_symbol_valid CHECK (stockext.symbol_problem(symbol) IS NULL),
    CONSTRAINT preferred_sources_source_known CHECK (stockext.provider_known(source))
);
COMMENT ON TABLE stockext.preferred_sources IS
'the provider whose bars win for a symbol (every resolution): the ingest path lets it overwrite another provider''s bar, and no other provider overwrite its bars';
REVOKE ALL ON stockext.preferred_sources FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.preferred_sources', '');

-- Bars the ingest path did not store because another source's bar of the
-- key was there and differed by more than stockext.conflict_tolerance:
-- one row per key and offering source, with both sides as they stood at
-- the last offer; a later offer that agrees (or is stored) removes it.
CREATE TABLE stockext.conflicts (
    symbol         text             NOT NULL,
    ts             timestamptz      NOT NULL,
    resolution     interval         NOT NULL,
    kept_source    text             NOT NULL,
    kept_open      double precision NOT NULL,
    kept_high      double precision NOT NULL,
    kept_low       double precision NOT NULL,
    kept_close     double precision NOT NULL,
    kept_volume    bigint,
    offered_source text             NOT NULL,
    offered_open   double precision NOT NULL,
    offered_high   double precision NOT NULL,
    offered_low    double precision NOT NULL,
    offered_close  double precision NOT NULL,
    offered_volume bigint,
    feed_id        integer,
    detected_at    timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT conflicts_pkey PRIMARY KEY (symbol, ts, resolution, offered_source)
);
COMMENT ON TABLE stockext.conflicts IS
'bars a provider offered that the ingest path did not store, because another provider''s bar of the same (symbol, ts, resolution) was stored and differed by more than stockext.conflict_tolerance: both sides as of the last offer; a later offer that agrees or is stored removes the row';
COMMENT ON COLUMN stockext.conflicts.feed_id IS 'the feed whose poll offered the bar (NULL: backfill)';
COMMENT ON COLUMN stockext.conflicts.detected_at IS 'when the disagreement was first seen as shown (an offer with other values, or against other kept values, sets it again)';
REVOKE ALL ON stockext.conflicts FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.conflicts', '');

CREATE OR REPLACE VIEW stockext.feed_status AS
SELECT f.id, f.provider, f.symbols, f.resolution, f.poll_every, f.paused,
       EXISTS (SELECT 1 FROM stockext.feed_keys k WHERE k.feed_id = f.id) AS has_api_key,
       s.last_poll, s.last_success, s.last_error, s.last_error_message,
       coalesce(s.consecutive_failures, 0) AS consecutive_failures,
       s.next_poll_at, coalesce(s.bars_stored, 0) AS bars_stored,
       newest.ts AS newest_bar, now() - newest.ts AS lag,
       coalesce((SELECT stockext.idle_reason()),
                CASE WHEN stockext.feed_closed(f.calendar, s.last_success, now())
                     THEN format('market closed (calendar %s) until %s', f.calendar,
                                 coalesce(stockext.next_open(f.calendar, now())::text, 'further notice')) END)
           AS idle_reason,
       f.calendar, coalesce(s.skipped_closed, 0) AS skipped_closed,
       conflict.n AS conflicts, conflict.last AS last_conflict
FROM stockext.feeds f
LEFT JOIN stockext.feed_state s ON s.feed_id = f.id
LEFT JOIN LATERAL (
    SELECT max(last.ts) AS ts
    FROM unnest(f.symbols) AS sym
    CROSS JOIN LATERAL (SELECT t.ts FROM stockext.ticks t
                        WHERE t.symbol = sym AND t.resolution = f.resolution
                        ORDER BY t.ts DESC LIMIT 1) AS last
) AS newest ON true
-- The feed's provider's bars of its symbols and resolution that were not
-- stored: a feed is the one of its provider for them (check_feed_unique),
-- so its backfills count too.
CROSS JOIN LATERAL (
    SELECT count(*) AS n, max(c.detected_at) AS last
    FROM stockext.conflicts c
    WHERE c.symbol = ANY (f.symbols) AND c.resolution = f.resolution AND c.offered_source = f.provider
) AS conflict;
COMMENT ON VIEW stockext.feed_status IS
'per feed: last poll, last success, last error, failure streak, next poll, bars stored, newest stored bar and its lag behind now, why it is not polled (this database is quiet: a copy, or not activated; or its market is closed), its calendar, the polls skipped while that was closed, and its provider''s bars of its symbols kept out by another provider''s (stockext.conflicts: how many, the latest)';

-- Bars missing from the sessions of each feed symbol, so that a gap in the
-- data can be told from a holiday (a holiday has no session).  A session
-- expects a bar at each multiple of the resolution from its open (from
-- 1970 for a market that never closes) before its close, once the bar has
-- ended and a poll has had time to fetch it; looked at from the symbol's
-- first bar at the resolution, over the last stockext.max_gap_fill days
-- (those the worker fills itself after a pause).  Intraday feeds with a
-- calendar only: daily bars stand at midnight, not at the open.
CREATE VIEW stockext.gaps AS
SELECT f.id AS feed_id, sym AS symbol, f.resolution, f.calendar,
       s.open AS session_open, s.close AS session_close,
       count(*) AS missing, min(e.ts) AS first_missing
FROM stockext.feeds f
CROSS JOIN LATERAL unnest(f.symbols) AS sym
CROSS JOIN LATERAL (
    SELECT greatest(now() - make_interval(days => current_setting('stockext.max_gap_fill')::integer),
                    m.first) AS since
    FROM (SELECT min(t.ts) AS first FROM stockext.ticks t
          WHERE t.symbol = sym AND t.resolution = f.resolution) m
    WHERE m.first IS NOT NULL
) AS h
CROSS JOIN LATERAL stockext.sessions(f.calendar, h.since, now()) AS s
CROSS JOIN LATERAL generate_series(
    date_bin(f.resolution, greatest(s.open, h.since) - interval '1 microsecond',
             CASE WHEN isfinite(s.open) THEN s.open ELSE 'epoch' END) + f.resolution,
    least(s.close, now() - f.poll_every - f.resolution) - interval '1 microsecond',
    f.resolution) AS e(ts)
WHERE f.calendar IS NOT NULL AND f.resolution < interval '1 day'
  AND NOT EXISTS (SELECT FROM stockext.ticks t
                  WHERE t.symbol = sym AND t.ts = e.ts AND t.resolution = f.resolution)
GROUP BY f.id, sym, f.resolution, f.calendar, s.open, s.close;
COMMENT ON VIEW stockext.gaps IS
'per feed symbol (intraday feeds with a calendar), the sessions of the last stockext.max_gap_fill days since its first bar whose expected bars are missing: how many, and the first; a holiday has no session, so it is never a gap';
REVOKE ALL ON stockext.gaps FROM PUBLIC;

-- provider_requests() counts the requests spared while markets were closed.
DROP FUNCTION stockext.provider_requests();
CREATE FUNCTION stockext.provider_requests()
RETURNS TABLE (provider text, minute_requests integer, per_minute integer,
               day_requests integer, per_day integer, skipped_closed bigint)
AS 'MODULE_PATHNAME', 'stockext_provider_requests'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION stockext.provider_requests() IS
'requests made to each provider in the last 60 seconds and the last 24 hours (sliding windows, to the second and the minute) by all databases of the server (kept across restarts), beside the limits stockext.<provider>_requests_per_minute and _per_day, which hold in every such window, and the requests not made since the server started because a feed''s market was closed';

-- skip_open: true on the rows to leave out, a session's first bars
-- (stockext.opens_session(calendar, ts, resolution)).
CREATE FUNCTION stockext.volume_spike(volume float8, n integer, factor float8, skip_open boolean)
RETURNS boolean
AS 'MODULE_PATHNAME', 'stockext_volume_spike'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volume_spike(float8, integer, float8, boolean) IS
'window function: volume_spike(volume, n, factor), leaving out the rows where skip_open is true (a session''s first bar: stockext.opens_session): they give NULL and do not count in the means of the rows after them';

-- The volume_spike alert leaves out the first bar of a session (skip_open).
ALTER TABLE stockext.alert_rules ADD COLUMN skip_open boolean;
UPDATE stockext.alert_rules SET skip_open = true;
ALTER TABLE stockext.alert_rules ALTER COLUMN skip_open SET DEFAULT true, ALTER COLUMN skip_open SET NOT NULL;
COMMENT ON COLUMN stockext.alert_rules.skip_open IS
'volume_spike: leave out the first bar of each session of the symbol''s calendar (stockext.symbol_calendar), whose opening auction trades several times a usual bar''s volume';
-- The rule list shows adjust and skip_open; appended, so grants to readers stay.
CREATE OR REPLACE VIEW stockext.alert_rule_list AS
SELECT r.id, r.symbol, r.feed_id, r.resolution, r.condition, r.direction, r.threshold,
       r.bars, r.slow, r.factor, r.level, r.cooldown, r.on_forming, r.on_history, r.max_age,
       r.paused, r.created_at,
       EXISTS (SELECT FROM stockext.webhooks w WHERE w.rule_id = r.id) AS has_webhook,
       (SELECT count(*) FROM stockext.alerts a WHERE a.rule_id = r.id) AS fired,
       (SELECT max(a.fired_at) FROM stockext.alerts a WHERE a.rule_id = r.id) AS last_fired,
       r.adjust, r.skip_open
FROM stockext.alert_rules r;

-- alert_check reads the bars adjusted as the rule says.
CREATE OR REPLACE FUNCTION stockext.alert_check(r stockext.alert_rules, sym text, bar timestamptz,
                                     OUT observed float8, OUT fires boolean, OUT what text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    prev float8;
    slow_now float8;
    slow_prev float8;
    rows_read integer;
    adj text := r.adjust;
    vadj text;
    pbase float8;
    vbase float8;
    cal text;
    opens timestamptz[];
BEGIN
    fires := false;
    -- Most symbols have no actions: their bars are read as traded.
    IF adj <> 'none' AND NOT EXISTS (SELECT FROM stockext.corporate_actions a WHERE a.symbol = sym) THEN
        adj := 'none';
    END IF;
    vadj := CASE WHEN adj = 'none' THEN 'none' ELSE 'splits' END;
    pbase := stockext.adjustment_factor(sym, bar, adj);
    vbase := stockext.adjustment_factor(sym, bar, vadj);
    IF r.condition = 'pct_change' THEN
        SELECT x.v INTO observed
        FROM (SELECT t.ts, stockext.pct_change(t.close, r.bars) OVER (ORDER BY t.ts) AS v
              FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT r.bars + 1) t) x
        ORDER BY x.ts DESC LIMIT 1;
        fires := CASE r.direction WHEN 'up' THEN observed >= r.threshold
                                  WHEN 'down' THEN observed <= -r.threshold
                                  ELSE abs(observed) >= r.threshold END;
        what := format('%s %s%% over %s bar%s (threshold %s%%)',
                       CASE WHEN observed >= 0 THEN 'up' ELSE 'down' END,
                       round(abs(observed)::numeric, 2), r.bars,
                       CASE WHEN r.bars = 1 THEN '' ELSE 's' END, r.threshold);
    ELSIF r.condition = 'volume_spike' THEN
        -- skip_open: the first bar of a session of the symbol's calendar is
        -- left out (volume_spike's skip_open); the sessions are read once,
        -- over the bars the rule reads.
        cal := CASE WHEN r.skip_open THEN stockext.symbol_calendar(sym) END;
        IF cal IS NOT NULL THEN
            SELECT array_agg(s.open) INTO opens
            FROM stockext.sessions(cal, (SELECT min(t.ts) FROM (SELECT ts FROM stockext.ticks
                                                                WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                                                                ORDER BY ts DESC LIMIT r.bars + 1) t),
                                   bar + r.resolution) s
            WHERE isfinite(s.open);
        END IF;
        SELECT x.v, x.spike INTO observed, fires
        FROM (SELECT t.ts, t.volume AS v,
                     stockext.volume_spike(t.volume, r.bars, r.factor,
                                           EXISTS (SELECT FROM unnest(opens) o
                                                   WHERE o <= t.ts AND o > t.ts - r.resolution))
                         OVER (ORDER BY t.ts) AS spike
              FROM (SELECT ts, volume * (vbase / stockext.adjustment_factor(symbol, ts, vadj)) AS volume FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT r.bars + 1) t) x
        ORDER BY x.ts DESC LIMIT 1;
        what := format('volume %s is over %s times the mean of the %s bars before', observed,
                       r.factor, r.bars);
    ELSIF r.condition = 'price_cross' THEN
        SELECT x.close, x.prev INTO observed, prev
        FROM (SELECT t.ts, t.close, lag(t.close) OVER (ORDER BY t.ts) AS prev
              FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT 2) t) x
        ORDER BY x.ts DESC LIMIT 1;
        fires := (r.direction IN ('up', 'either') AND prev < r.level AND observed >= r.level)
              OR (r.direction IN ('down', 'either') AND prev > r.level AND observed <= r.level);
        what := format('close %s crossed %s through %s from %s', observed,
                       CASE WHEN observed > prev THEN 'up' ELSE 'down' END, r.level, prev);
    ELSIF r.condition = 'sma_cross' THEN
        SELECT x.fast, x.slow, lag(x.fast) OVER w - lag(x.slow) OVER w, x.n
          INTO observed, slow_now, prev, rows_read
        FROM (SELECT t.ts,
                     stockext.sma(t.close) OVER (ORDER BY t.ts ROWS BETWEEN r.bars - 1 PRECEDING AND CURRENT ROW) AS fast,
                     stockext.sma(t.close) OVER (ORDER BY t.ts ROWS BETWEEN r.slow - 1 PRECEDING AND CURRENT ROW) AS slow,
                     count(*) OVER (ORDER BY t.ts) AS n
              FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT r.slow + 1) t) x
        WINDOW w AS (ORDER BY x.ts)
        ORDER BY x.ts DESC LIMIT 1;
        -- prev is fast - slow on the bar before; both averages full there.
        IF rows_read = r.slow + 1 THEN
            fires := (r.direction IN ('up', 'either') AND prev <= 0 AND observed > slow_now)
                  OR (r.direction IN ('down', 'either') AND prev >= 0 AND observed < slow_now);
        END IF;
        what := format('SMA(%s) %s crossed %s SMA(%s) %s', r.bars, round(observed::numeric, 4),
                       CASE WHEN observed > slow_now THEN 'above' ELSE 'below' END,
                       r.slow, round(slow_now::numeric, 4));
    ELSIF r.condition = 'volatility' THEN
        SELECT stockext.volatility(t.close ORDER BY t.ts) INTO observed
        FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
              WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
              ORDER BY ts DESC LIMIT r.bars) t;
        fires := observed > r.threshold;
        what := format('volatility %s of the last %s bars is above %s',
                       round(observed::numeric, 6), r.bars, r.threshold);
    END IF;
    fires := coalesce(fires, false);
END
$$;
COMMENT ON FUNCTION stockext.alert_check(stockext.alert_rules, text, timestamptz) IS
'internal: evaluates an alert rule on the bar of a symbol at ts: observed value, whether it fires, and the message';
REVOKE ALL ON FUNCTION stockext.alert_check(stockext.alert_rules, text, timestamptz) FROM PUBLIC;


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

-- The bar in effect at an instant: the last bar of the symbol (in any case)
-- and resolution that starts at or before it, and no earlier than
-- tolerance before it when tolerance is given.  A plain SQL function,
-- neither STRICT nor given SET, so the planner inlines it: a LATERAL call
-- per row becomes one backward scan of the primary key, stopped by LIMIT 1,
-- on each monthly partition at or before the instant (run-time pruning
-- skips the later ones).  The collation is put back to the column's after
-- upper-casing in "C", or the key could not serve the comparison.  A NULL
-- symbol, instant or resolution finds no bar; a NULL tolerance is none.
CREATE FUNCTION stockext.asof(symbol text, at timestamptz, resolution interval DEFAULT '1 minute',
                              tolerance interval DEFAULT NULL)
RETURNS TABLE (ts timestamptz, open double precision, high double precision,
               low double precision, close double precision, volume bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT t.ts, t.open, t.high, t.low, t.close, t.volume
    FROM stockext.ticks t
    WHERE t.symbol = upper(asof.symbol COLLATE "C") COLLATE "default"
      AND t.resolution = asof.resolution
      AND t.ts <= asof.at
      AND (asof.tolerance IS NULL OR t.ts >= asof.at - asof.tolerance)
    ORDER BY t.ts DESC
    LIMIT 1;
END;
COMMENT ON FUNCTION stockext.asof(text, timestamptz, interval, interval) IS
'the bar in effect at an instant: the last bar of the symbol (in any case) and resolution starting at or before at, and not before at - tolerance when tolerance is given; no row when there is none or an argument other than tolerance is NULL; inlined, so a LATERAL call per row is one index probe of stockext.ticks per partition';

-- The newest bar of every (symbol, resolution) of stockext.ticks, kept in
-- the write path so that stockext.latest_bars reads one row per series.
-- The key of ticks leads with (symbol, ts), so no index finds the
-- resolutions of a symbol: a skip scan would read every bar of a series
-- to learn that it has no other resolution.  Dumped by pg_dump with the
-- bars, from the same snapshot.
CREATE TABLE stockext.latest_ticks (
    symbol     text             NOT NULL,
    resolution interval         NOT NULL,
    ts         timestamptz      NOT NULL,
    open       double precision NOT NULL,
    high       double precision NOT NULL,
    low        double precision NOT NULL,
    close      double precision NOT NULL,
    volume     bigint,
    PRIMARY KEY (symbol, resolution)
);
COMMENT ON TABLE stockext.latest_ticks IS
'the newest bar of each (symbol, resolution) of stockext.ticks, kept by its triggers; read it through stockext.latest_bars';
SELECT pg_catalog.pg_extension_config_dump('stockext.latest_ticks', '');
REVOKE ALL ON stockext.latest_ticks FROM PUBLIC;

-- Sets the rows of stockext.latest_ticks that still show the bar
-- (symbols[i], resolutions[i], stale[i]), which is gone, to the newest bar
-- of their series, or deletes them when none is left.  A row whose bar a
-- concurrent writer replaced since is no longer stale: the UPDATE and the
-- DELETE re-check "l.ts = stale" on its new version and leave it alone.
CREATE FUNCTION stockext.latest_ticks_renew(symbols text[], resolutions interval[], stale timestamptz[])
RETURNS void
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
BEGIN ATOMIC
    WITH gone AS (
        SELECT DISTINCT g.symbol, g.resolution, g.ts
        FROM unnest(symbols, resolutions, stale) AS g(symbol, resolution, ts)
    ), newest AS (
        SELECT g.symbol, g.resolution, g.ts AS stale, n.ts, n.open, n.high, n.low, n.close, n.volume
        FROM gone g
        LEFT JOIN LATERAL (SELECT t.ts, t.open, t.high, t.low, t.close, t.volume
                           FROM stockext.ticks t
                           WHERE t.symbol = g.symbol AND t.resolution = g.resolution
                           ORDER BY t.ts DESC LIMIT 1) n ON true
    ), renewed AS (
        UPDATE stockext.latest_ticks l
           SET ts = n.ts, open = n.open, high = n.high, low = n.low, close = n.close, volume = n.volume
          FROM newest n
         WHERE l.symbol = n.symbol AND l.resolution = n.resolution AND l.ts = n.stale AND n.ts IS NOT NULL
    )
    DELETE FROM stockext.latest_ticks l
     USING newest n
     WHERE l.symbol = n.symbol AND l.resolution = n.resolution AND l.ts = n.stale AND n.ts IS NULL;
END;
COMMENT ON FUNCTION stockext.latest_ticks_renew(text[], interval[], timestamptz[]) IS
'internal: replaces the rows of stockext.latest_ticks still showing the given (symbol, resolution, ts) bars, which are gone, with the newest bar left in their series, or deletes them';
REVOKE ALL ON FUNCTION stockext.latest_ticks_renew(text[], interval[], timestamptz[]) FROM PUBLIC;

-- Keeps stockext.latest_ticks current (src/latest.c).  Statement level
-- with transition tables, like the rollup invalidation: one statement per
-- write statement.  New and updated bars replace the row of their series
-- when they are at least as new (a late bar changes nothing); a deleted bar
-- that the row shows, or an updated one whose key changed, is replaced by
-- the newest bar left.  SECURITY DEFINER: whoever may write bars keeps the
-- table current, without rights on it.
CREATE FUNCTION stockext.latest_ticks_track()
RETURNS trigger
AS 'MODULE_PATHNAME', 'stockext_latest_ticks_track'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION stockext.latest_ticks_track() IS
'trigger: keeps stockext.latest_ticks the newest bar of each (symbol, resolution) through the inserts, updates, deletes and truncations of stockext.ticks';

CREATE TRIGGER latest_ticks_insert AFTER INSERT ON stockext.ticks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.latest_ticks_track();
CREATE TRIGGER latest_ticks_update AFTER UPDATE ON stockext.ticks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.latest_ticks_track();
CREATE TRIGGER latest_ticks_delete AFTER DELETE ON stockext.ticks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.latest_ticks_track();
CREATE TRIGGER latest_ticks_truncate AFTER TRUNCATE ON stockext.ticks
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.latest_ticks_track();

-- Recomputes stockext.latest_ticks from the bars, for what its triggers
-- do not see: statements on a partition of ticks rather than on ticks
-- (TRUNCATE, DELETE, DROP or DETACH of a month), and the restore of a dump
-- made before 0.3.0.  Blocks writers of bars while it runs.
CREATE FUNCTION stockext.rebuild_latest_bars()
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    LOCK TABLE stockext.ticks IN SHARE MODE;
    DELETE FROM stockext.latest_ticks;
    INSERT INTO stockext.latest_ticks (symbol, resolution, ts, open, high, low, close, volume)
    SELECT DISTINCT ON (t.symbol, t.resolution)
           t.symbol, t.resolution, t.ts, t.open, t.high, t.low, t.close, t.volume
    FROM stockext.ticks t
    ORDER BY t.symbol, t.resolution, t.ts DESC;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION stockext.rebuild_latest_bars() IS
'recomputes the newest bar of every series (stockext.latest_bars) from stockext.ticks, for changes made to a partition of ticks directly; returns the series; blocks writers of bars while it runs';
REVOKE ALL ON FUNCTION stockext.rebuild_latest_bars() FROM PUBLIC;

-- The newest bar of every (symbol, resolution): one row read per series,
-- whatever the number of bars.
CREATE VIEW stockext.latest_bars AS
SELECT l.symbol, l.resolution, l.ts, l.open, l.high, l.low, l.close, l.volume, now() - l.ts AS age
FROM stockext.latest_ticks l;
COMMENT ON VIEW stockext.latest_bars IS
'the newest bar of each (symbol, resolution) in stockext.ticks and its age (now minus its start), read from stockext.latest_ticks: one row per series, whatever the number of bars';
REVOKE ALL ON stockext.latest_bars FROM PUBLIC;

-- The latest bars follow stockext.ticks like the rollups.
CREATE OR REPLACE FUNCTION stockext.rollup_privilege_fixes()
RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH ticks AS (
        SELECT c.relowner, c.relacl FROM pg_class c WHERE c.oid = 'stockext.ticks'::regclass
    ), readers AS (
        SELECT DISTINCT a.grantee FROM ticks t, aclexplode(t.relacl) a
        WHERE a.privilege_type = 'SELECT' AND a.grantee <> t.relowner
    ), rels AS (
        SELECT c.oid, c.relname, c.relowner, c.relacl FROM pg_class c
        WHERE c.relnamespace = 'stockext'::regnamespace
          AND (c.relname IN ('rollups', 'rollups_live', 'rollup_source', 'rollup_invalidations',
                             'latest_ticks', 'latest_bars')
               OR c.relname IN (SELECT w.name FROM stockext.rollup_widths w
                                UNION ALL
                                SELECT w.name || '_live' FROM stockext.rollup_widths w))
    ), held AS (
        SELECT r.oid, r.relname, a.grantee,
               bool_and(a.privilege_type = 'SELECT' AND NOT a.is_grantable) AS plain_select
        FROM rels r, aclexplode(r.relacl) a
        WHERE a.grantee <> r.relowner
        GROUP BY r.oid, r.relname, a.grantee
    ), wanted AS (
        SELECT r.oid, r.relname, d.grantee FROM rels r, readers d WHERE d.grantee <> r.relowner
    )
    SELECT f.statement FROM (
        -- A default ACL (NULL) is written out, so that a width added now and
        -- one updated from 0.1.0 (which granted SELECT to PUBLIC) carry the
        -- same privileges.
        SELECT 0 AS step, r.relname, 0::oid AS grantee,
               format('REVOKE ALL ON stockext.%I FROM PUBLIC', r.relname) AS statement
        FROM rels r
        WHERE r.relacl IS NULL
        UNION ALL
        SELECT 1, h.relname, h.grantee,
               format('REVOKE ALL ON stockext.%I FROM %s CASCADE', h.relname,
                      CASE WHEN h.grantee = 0 THEN 'PUBLIC' ELSE h.grantee::regrole::text END)
        FROM held h
        WHERE NOT h.plain_select
           OR NOT EXISTS (SELECT FROM wanted w WHERE w.oid = h.oid AND w.grantee = h.grantee)
        UNION ALL
        SELECT 2, w.relname, w.grantee,
               format('GRANT SELECT ON stockext.%I TO %s', w.relname,
                      CASE WHEN w.grantee = 0 THEN 'PUBLIC' ELSE w.grantee::regrole::text END)
        FROM wanted w
        WHERE NOT EXISTS (SELECT FROM held h WHERE h.oid = w.oid AND h.grantee = w.grantee AND h.plain_select)
    ) f
    ORDER BY f.step, f.relname, f.grantee;
END;
COMMENT ON FUNCTION stockext.rollup_privilege_fixes() IS
'internal: the REVOKE and GRANT statements that would give the rollups, their live views, the invalidation keys and the latest bars the SELECT grants of stockext.ticks';
SELECT stockext.sync_rollup_privileges();

-- Retention: drops the monthly ticks partitions that ended more than
-- drop_ticks_after ago, once no invalidation is pending (their rollups are
-- current and keep the history), and renews the newest bar of the series
-- whose newest bar went with them; then deletes the raw provider replies
-- older than their feed's raw_retention.  Returns how many partitions it
-- dropped.
CREATE OR REPLACE FUNCTION stockext.apply_retention()
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keep    interval;
    part    record;
    dropped integer := 0;
BEGIN
    SELECT m.drop_ticks_after INTO keep FROM stockext.maintenance_settings m;
    IF keep IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock('stockext.ticks'::regclass::oid::bigint);
        FOR part IN
            SELECT c.oid::regclass AS rel,
                   (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS hi
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'stockext.ticks'::regclass
              AND c.oid <> 'stockext.ticks_default'::regclass
            ORDER BY 2
        LOOP
            EXIT WHEN part.hi > now() - keep;
            CONTINUE WHEN EXISTS (SELECT 1 FROM stockext.rollup_invalidations WHERE bucket < part.hi);
            EXECUTE format('DROP TABLE %s', part.rel);
            -- Dropping a partition fires no trigger: the series whose
            -- newest bar it held fall back to an older one, or go.
            PERFORM stockext.latest_ticks_renew(array_agg(l.symbol), array_agg(l.resolution), array_agg(l.ts))
            FROM stockext.latest_ticks l
            WHERE l.ts < part.hi
            HAVING count(*) > 0;
            dropped := dropped + 1;
        END LOOP;
    END IF;
    -- The worker prunes a feed's replies when it polls it; a paused feed's
    -- are pruned here, and those of a removed feed after the default 7 days.
    DELETE FROM stockext.raw_replies r
     WHERE r.at < now() - coalesce((SELECT f.raw_retention FROM stockext.feeds f WHERE f.id = r.feed_id),
                                   interval '7 days');
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION stockext.apply_retention() IS
'drops monthly ticks partitions older than maintenance_settings.drop_ticks_after once rolled up, and raw replies older than their feed''s raw_retention; returns the partitions dropped';
REVOKE ALL ON FUNCTION stockext.apply_retention() FROM PUBLIC;

-- The newest bar of every series already stored.
SELECT stockext.rebuild_latest_bars();

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

-- Seeded forms of moments, log_returns and candle: the state of some rows
-- (seed, stored earlier; taken from a group's first row) continued with
-- more rows, each added as if it had followed the seed's own rows.  A
-- rollup refresh merges new bars into a stored bucket this way: the
-- result is what a recompute reading the bucket's bars in that order
-- gives, bit for bit (log_returns, read in ts order, is then identical to
-- the recompute's; combining two states would re-express one of them).
-- No combine function: every partial state would carry the seed.
CREATE FUNCTION stockext.moments_seeded_trans(stockext.moments_state, float8, stockext.moments_state)
RETURNS stockext.moments_state
AS 'MODULE_PATHNAME', 'stockext_moments_seeded_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_seeded_trans(stockext.moments_state, float8, stockext.moments_state) IS
'transition of moments(x, seed): adds a value to the seed''s (NULLs skipped)';
CREATE AGGREGATE stockext.moments(x float8, seed stockext.moments_state) (
    SFUNC = stockext.moments_seeded_trans, STYPE = stockext.moments_state, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.moments(float8, stockext.moments_state) IS
'the moments_state seed continued with the non-NULL values (seed of the first row; NULL: none)';

CREATE FUNCTION stockext.returns_seeded_trans(stockext.returns_state, timestamptz, float8, stockext.returns_state)
RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_seeded_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_seeded_trans(stockext.returns_state, timestamptz, float8, stockext.returns_state) IS
'transition of log_returns(ts, price, seed): adds the log return from the previous price, the seed''s last one first';
CREATE AGGREGATE stockext.log_returns(ts timestamptz, price float8, seed stockext.returns_state) (
    SFUNC = stockext.returns_seeded_trans, STYPE = stockext.returns_state, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.log_returns(timestamptz, float8, stockext.returns_state) IS
'the log_returns summary seed continued with prices after its last one, in ts order: log_returns(ts, price, seed ORDER BY ts) (seed of the first row; NULL: none)';

CREATE FUNCTION stockext.candle_bar_seeded_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8,
                                                 float8, stockext.candle)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_bar_seeded_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_bar_seeded_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8, float8, stockext.candle) IS
'transition of candle(ts, open, high, low, close, volume, seed): adds a bar to the seed candle (rows without ts or a price skipped)';
CREATE AGGREGATE stockext.candle(ts timestamptz, open float8, high float8, low float8, close float8, volume float8,
                                 seed stockext.candle) (
    SFUNC = stockext.candle_bar_seeded_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.candle(timestamptz, float8, float8, float8, float8, float8, stockext.candle) IS
'the candle seed continued with bars, as candle(ts, open, high, low, close, volume) of the seed''s bars and these (seed of the first row; NULL: none)';

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
COMMENT ON COLUMN stockext.rollups.candle IS 'with any metric (vwap, bar_count, high_low_times, volatility) and in a calendar width: the bucket''s stockext.candle, exact vwap, count and high_time()/low_time(), rolled up with rollup(candle)';
COMMENT ON COLUMN stockext.rollups.returns IS 'with the metric volatility: the log_returns summary of the closes, read with volatility(returns), rolled up with rollup(returns ORDER BY bucket)';
COMMENT ON COLUMN stockext.rollups.close_moments IS 'with any metric and in a calendar width: the moments of the closes (avg_close = sma_final(close_moments)), so that a refresh merges new bars into the bucket';

-- since: the earliest ts an INSERT added to a bucket, NULL for an UPDATE
-- or DELETE (and for the keys pending at the update, which are recomputed);
-- a refresh merges a bucket's appended bars into its stored states.
ALTER TABLE stockext.rollup_invalidations ADD COLUMN since timestamptz;
COMMENT ON COLUMN stockext.rollup_invalidations.since IS
'the earliest ts the statement inserted into the bucket; NULL when it updated or deleted bars';

-- Records the buckets a statement on stockext.ticks touched, with the
-- earliest bar an INSERT added to each.  Statement level with transition
-- tables: one INSERT ... SELECT per statement, whatever its size.  Rows
-- an upsert's WHERE ... IS DISTINCT FROM left alone are in no transition
-- table, so unchanged re-polls invalidate nothing.  SECURITY DEFINER:
-- whoever may write bars records their invalidations, without rights on
-- the log itself.
CREATE OR REPLACE FUNCTION stockext.ticks_invalidate()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stockext.rollup_invalidations (symbol, width, bucket, since)
        SELECT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone), min(r.ts)
        FROM new_rows r JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution
        GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO stockext.rollup_invalidations (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM old_rows r JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution;
    ELSE
        INSERT INTO stockext.rollup_invalidations (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM (SELECT symbol, ts, resolution FROM old_rows
              UNION ALL
              SELECT symbol, ts, resolution FROM new_rows) r
        JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.ticks_invalidate() IS
'trigger: records the (symbol, width, bucket) keys a statement on stockext.ticks changed in stockext.rollup_invalidations';

-- The columns open .. n of a rollup row from the expressions of its candle
-- and its mean close: rollup_select_list() computes both from the bars, a
-- refresh that merges new bars into a stored row continues its states.
-- Left executable by PUBLIC: it only formats text, and bars() runs
-- rollup_select_list(), which calls it, as any reader of the bars.
CREATE FUNCTION stockext.rollup_columns_sql(candle text, avg_close text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
       (%1$s).open AS open, (%1$s).high AS high, (%1$s).low AS low, (%1$s).close AS close,
       (%1$s).volume::bigint AS volume, (%1$s).vwap AS vwap, %2$s AS avg_close,
       (%1$s).count::integer AS n
$sql$, candle, avg_close);
COMMENT ON FUNCTION stockext.rollup_columns_sql(text, text) IS
'internal: the select list of a rollup row''s columns open .. n from the expressions of its candle and its mean close';

-- The select list of the fixed columns, now formatted by rollup_columns_sql().
CREATE OR REPLACE FUNCTION stockext.rollup_select_list()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN stockext.rollup_columns_sql('stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume)',
                                   'stockext.sma(s.close)');

-- The select list of the metric states (candle, returns, close_moments),
-- for rows s of a width w.  A width with metrics keeps the candle and the
-- moments of the closes, and so does a calendar width, whose refresh
-- merges new bars into them (refresh_rollups); the returns come with the
-- metric volatility.  Other widths store NULLs, and log_returns sorts no
-- rows for them.  The candle() and the moments share their transition
-- states with rollup_select_list()'s candle() and sma().  seeds, when not
-- NULL, names a relation holding a stored row's states, which the seeded
-- aggregates continue with the rows s.
CREATE FUNCTION stockext.rollup_metrics_select_list(seeds text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN format($sql$
       CASE WHEN w.metrics <> '{}' OR stockext.calendar_unit(w.width) IS NOT NULL
            THEN stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume%1$s) END AS candle,
       stockext.log_returns(s.ts, s.close%2$s ORDER BY s.ts) FILTER (WHERE 'volatility' = ANY (w.metrics)) AS returns,
       CASE WHEN w.metrics <> '{}' OR stockext.calendar_unit(w.width) IS NOT NULL
            THEN stockext.moments(s.close%3$s) END AS close_moments
$sql$, ', ' || seeds || '.candle', ', ' || seeds || '.returns', ', ' || seeds || '.close_moments');
COMMENT ON FUNCTION stockext.rollup_metrics_select_list(text) IS
'internal: the aggregate select list computing the metric states (candle, returns, close_moments) of a rollup row from rows s of a width w, continuing those of the relation seeds when given';
REVOKE ALL ON FUNCTION stockext.rollup_metrics_select_list(text) FROM PUBLIC;

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
                   k.bucket AT TIME ZONE w.time_zone
                   - w.width * row_number() OVER (PARTITION BY k.symbol, k.width ORDER BY k.bucket) AS run
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

-- The rollup rows of the buckets whose bars were only appended since they
-- were rolled up, from the relation invalidations of (symbol, width,
-- bucket, since) keys: a bucket whose stored row has states (candle,
-- close_moments: a calendar width or one with metrics) and whose keys all
-- come from INSERTs of bars after its stored last bar ((candle).last_ts).
-- Only the bars after that one are read (a short index range scan) and
-- added to the stored states by the seeded aggregates, as a recompute
-- reading them last would.  That is exact because a stored row covers
-- every bar of its bucket committed before the refresh that wrote it, and
-- every later bar comes with a key of its own, committed with it: a bar
-- committed late with an earlier ts (a concurrent ingester's) has a since
-- before the stored last bar, and its bucket is recomputed.  A bar farther
-- than slack (which bounds DST shifts) from both ends of the bucket lies
-- in it: only the bars near its ends pay for rollup_bucket(), which costs
-- more than the aggregates (it is not inlined: its date_trunc() with a
-- time zone is STABLE).  OFFSET 0 computes the bucket's end once.
CREATE FUNCTION stockext.rollup_merged_sql(invalidations text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
SELECT k.symbol, k.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.avg_close, b.n, k.width,
       b.candle, b.returns, b.close_moments
FROM (SELECT i.symbol, i.width, i.bucket, min(i.since) AS since FROM %1$s i
      GROUP BY i.symbol, i.width, i.bucket HAVING count(i.since) = count(*)) k
JOIN stockext.rollups r ON r.width = k.width AND r.symbol = k.symbol AND r.bucket = k.bucket
JOIN stockext.rollup_widths w ON w.width = k.width
CROSS JOIN LATERAL (SELECT (k.bucket AT TIME ZONE w.time_zone + w.width) AT TIME ZONE w.time_zone AS stop OFFSET 0) e
CROSS JOIN LATERAL (
    SELECT %2$s, %3$s
    FROM stockext.ticks s
    WHERE s.symbol = k.symbol AND s.resolution = w.source_resolution
      AND s.ts > (r.candle).last_ts AND s.ts < e.stop + w.slack
      AND (s.ts >= k.bucket + w.slack AND s.ts < e.stop - w.slack
           OR stockext.rollup_bucket(s.ts, w.width, w.origin, w.time_zone) = k.bucket)
    HAVING count(*) > 0) b
WHERE k.since > (r.candle).last_ts
$sql$, invalidations,
    stockext.rollup_columns_sql('stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume, r.candle)',
                                'stockext.sma_final(stockext.moments(s.close, r.close_moments))'),
    stockext.rollup_metrics_select_list('r'));
COMMENT ON FUNCTION stockext.rollup_merged_sql(text) IS
'internal: the query merging into their stored states the bars appended to the buckets of the (symbol, width, bucket, since) keys in the relation invalidations whose keys all come after the stored bars';
REVOKE ALL ON FUNCTION stockext.rollup_merged_sql(text) FROM PUBLIC;

DO $do$
BEGIN
    EXECUTE format($v$
CREATE OR REPLACE VIEW stockext.rollups_live AS
WITH merged AS (%s)
SELECT r.symbol, r.bucket, r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.width,
       r.candle, r.returns, r.close_moments
FROM stockext.rollups r
WHERE NOT EXISTS (SELECT FROM stockext.rollup_invalidations i
                  WHERE i.width = r.width AND i.symbol = r.symbol AND i.bucket = r.bucket)
UNION ALL
SELECT * FROM merged
UNION ALL
%s$v$, stockext.rollup_merged_sql('stockext.rollup_invalidations'),
       stockext.rollup_fresh_sql('(SELECT DISTINCT i.symbol, i.width, i.bucket FROM stockext.rollup_invalidations i
                                   WHERE NOT EXISTS (SELECT FROM merged m
                                                     WHERE m.width = i.width AND m.symbol = i.symbol AND m.bucket = i.bucket))'));
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
    DELETE FROM stockext.rollup_invalidations RETURNING symbol, width, bucket, since
), merged AS (%s
), keys AS (
    SELECT DISTINCT c.symbol, c.width, c.bucket FROM claimed c
    WHERE NOT EXISTS (SELECT FROM merged m WHERE m.width = c.width AND m.symbol = c.symbol AND m.bucket = c.bucket)
), fresh AS (%s
), upserted AS (
    INSERT INTO stockext.rollups AS r SELECT * FROM fresh UNION ALL SELECT * FROM merged
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
SELECT (SELECT count(*) FROM keys) + (SELECT count(*) FROM merged), (SELECT count(*) FROM upserted) + rebuilt,
       (SELECT count(*) FROM emptied)
    INTO buckets, upserted, deleted;
END
$$
$f$, stockext.rollup_merged_sql('claimed'), stockext.rollup_fresh_sql('keys'));
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
-- of a 1-minute series), which it left out before, and takes adjust
-- (corporate actions): a new signature, so the old one goes.
DROP FUNCTION stockext.bars(text, interval, timestamptz, timestamptz, text);
CREATE FUNCTION stockext.bars(symbol text, width interval, start timestamptz, stop timestamptz,
                              fill text DEFAULT 'none', adjust text DEFAULT 'none')
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
    IF symbol IS NULL OR width IS NULL OR start IS NULL OR stop IS NULL OR fill IS NULL OR adjust IS NULL THEN
        RAISE EXCEPTION 'arguments of stockext.bars() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF fill NOT IN ('none', 'null', 'previous', 'locf') THEN
        RAISE EXCEPTION 'invalid fill "%"', fill
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use none, null, previous or locf.';
    END IF;
    IF adjust NOT IN ('none', 'splits', 'all') THEN
        RAISE EXCEPTION 'invalid adjust "%"', adjust
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use none, splits or all.';
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
    -- A bucket holding an ex-date mixes two bases: its rolled-up row cannot
    -- be adjusted by one factor, so the width's adjusted bars are rolled up.
    IF rolled AND adjust <> 'none'
       AND EXISTS (SELECT FROM stockext.corporate_actions a
                   CROSS JOIN LATERAL (SELECT a.ex_date::timestamp AT TIME ZONE 'UTC' AS cutoff) c
                   WHERE a.symbol = bars.symbol
                     AND stockext.rollup_bucket(c.cutoff, width, origin, tz) <> c.cutoff) THEN
        rolled := false;
    ELSIF NOT rolled THEN
        origin := '2000-01-03 00:00';
        tz := 'UTC';
        SELECT min(t.resolution) INTO src FROM stockext.ticks t
        WHERE t.symbol = bars.symbol AND t.ts >= start AND t.ts < stop + width AND t.resolution <= width;
    END IF;
    -- Prices times the factor p, volumes divided by the splits factor v.
    IF rolled AND adjust = 'none' THEN
        data_sql := $q$
            SELECT l.bucket, l.open, l.high, l.low, l.close, l.volume, l.vwap, l.avg_close, l.n
            FROM stockext.rollups_live l
            WHERE l.width = $2 AND l.symbol = $1 AND l.bucket >= $3 AND l.bucket < $4$q$;
    ELSIF rolled THEN
        data_sql := $q$
            SELECT l.bucket, stockext.adjust_price(l.open, l.symbol, l.bucket, $10) AS open,
                   stockext.adjust_price(l.high, l.symbol, l.bucket, $10) AS high,
                   stockext.adjust_price(l.low, l.symbol, l.bucket, $10) AS low,
                   stockext.adjust_price(l.close, l.symbol, l.bucket, $10) AS close,
                   stockext.adjust_volume(l.volume, l.symbol, l.bucket) AS volume,
                   stockext.adjust_price(l.vwap, l.symbol, l.bucket, $10) AS vwap,
                   stockext.adjust_price(l.avg_close, l.symbol, l.bucket, $10) AS avg_close, l.n
            FROM stockext.rollups_live l
            WHERE l.width = $2 AND l.symbol = $1 AND l.bucket >= $3 AND l.bucket < $4$q$;
    ELSE
        data_sql := format($q$
            SELECT s.bucket, %s
            FROM (SELECT stockext.rollup_bucket(t.ts, $2, $5, $6) AS bucket, %s
                  FROM stockext.ticks t
                  WHERE t.symbol = $1 AND t.resolution = $7 AND t.ts >= $3 AND t.ts < $4 + $2) s
            WHERE s.bucket >= $3 AND s.bucket < $4
            GROUP BY s.bucket$q$, stockext.rollup_select_list(),
            CASE WHEN adjust = 'none' THEN 't.*'
                 ELSE 't.ts, stockext.adjust_price(t.open, t.symbol, t.ts, $10) AS open,
                       stockext.adjust_price(t.high, t.symbol, t.ts, $10) AS high,
                       stockext.adjust_price(t.low, t.symbol, t.ts, $10) AS low,
                       stockext.adjust_price(t.close, t.symbol, t.ts, $10) AS close,
                       stockext.adjust_volume(t.volume, t.symbol, t.ts) AS volume' END);
    END IF;

    IF fill = 'none' THEN
        RETURN QUERY EXECUTE data_sql || ' ORDER BY 1'
        USING symbol, width, start, stop, origin, tz, src, NULL::float8, false, adjust;
        RETURN;
    END IF;

    -- The close before the first bucket seeds 'previous': the last bar of
    -- a bucket starting before start, the one holding start included (a
    -- bar's bucket starts before start only if the bar is before start +
    -- width, the bound the index uses).
    IF fill IN ('previous', 'locf') AND src IS NOT NULL THEN
        SELECT stockext.adjust_price(t.close, t.symbol, t.ts, adjust) INTO prev FROM stockext.ticks t
        WHERE t.symbol = bars.symbol AND t.resolution = src
          AND t.ts < start + width
          AND stockext.rollup_bucket(t.ts, width, origin, tz) < start
        ORDER BY t.ts DESC LIMIT 1;
    END IF;

    -- With a calendar, empty buckets are filled only within its sessions.
    RETURN QUERY EXECUTE format($q$
        WITH data AS (%s),
        cal AS MATERIALIZED (SELECT stockext.symbol_calendar($1) AS name),
        sessions AS MATERIALIZED (SELECT s.* FROM cal, stockext.sessions(cal.name, $3, $4) s),
        grid AS (
            SELECT DISTINCT g AT TIME ZONE $6 AS bucket
            FROM generate_series(stockext.rollup_bucket($3, $2, $5, $6) AT TIME ZONE $6, $4 AT TIME ZONE $6, $2) g
        ),
        cells AS (
            SELECT g.bucket, d.open, d.high, d.low, d.close, d.volume, d.vwap, d.avg_close, d.n,
                   count(d.close) OVER (ORDER BY g.bucket) AS run
            FROM grid g LEFT JOIN data d ON d.bucket = g.bucket
            WHERE g.bucket >= $3 AND g.bucket < $4
              AND (d.bucket IS NOT NULL OR (SELECT c.name FROM cal c) IS NULL
                   OR EXISTS (SELECT FROM sessions s WHERE s.open < g.bucket + $2 AND s.close > g.bucket))
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
    USING symbol, width, start, stop, origin, tz, src, prev, fill IN ('previous', 'locf'), adjust;
END
$$;
COMMENT ON FUNCTION stockext.bars(text, interval, timestamptz, timestamptz, text, text) IS
'one bar per bucket of width starting in [start, stop) for symbol (in any case); fill none (empty buckets absent), null (NULL rows) or previous/locf (flat candle at the previous close, volume 0); adjust none (as traded), splits or all (splits and dividends, from stockext.corporate_actions)';

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


------------------------------------------------------------------------------
-- Citus: stockext.distribute(), the triggers of ticks on shards, the refresh
-- on the nodes holding the shards, Citus-plannable live rollups
------------------------------------------------------------------------------
-- Whether stockext.distribute() has distributed stockext.ticks over a Citus
-- cluster (install/parts/90-citus.sql).
CREATE FUNCTION stockext.is_distributed()
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = 'stockext.ticks'::regclass);
END
$$;
COMMENT ON FUNCTION stockext.is_distributed() IS
'whether stockext''s bars are distributed over a Citus cluster (stockext.distribute())';

DROP FUNCTION stockext.rollup_fresh_sql(text);

-- The rollup rows of a set of (symbol, width, bucket) keys, the relation
-- named by keys, in stockext.rollups column order; a key whose bucket has
-- no bars yields no row.  Runs of consecutive buckets of a symbol and width
-- are read with one index range scan each (CROSS JOIN LATERAL, whatever
-- the planner estimates): an append of new bars is a few long scans, late
-- bars scattered over the history are many short ones.  Buckets are
-- counted in local time, where consecutive ones lie exactly one width
-- apart (months included; in absolute time months and DST days differ in
-- length, and runs told apart by absolute spans could overlap and yield a
-- bucket twice).  A run ends where its last bucket does in local time (a
-- calendar month's own length).  OFFSET 0 keeps the planner from joining
-- the keys in before the scans, which would repeat each run's scan once
-- per key of its symbol and width.
CREATE FUNCTION stockext.rollup_fresh_sql(keys text, ticks text DEFAULT 'stockext.ticks')
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
                   k.bucket AT TIME ZONE w.time_zone
                   - w.width * row_number() OVER (PARTITION BY k.symbol, k.width ORDER BY k.bucket) AS run
            FROM %1$s k JOIN stockext.rollup_widths w ON w.width = k.width) x
      GROUP BY symbol, width, run) r
JOIN stockext.rollup_widths w ON w.width = r.width
CROSS JOIN LATERAL (
    SELECT stockext.rollup_bucket(s.ts, w.width, w.origin, w.time_zone) AS bucket, %2$s, %3$s
    FROM %4$s s
    WHERE s.symbol = r.symbol AND s.resolution = w.source_resolution
      AND s.ts >= r.lo - w.slack
      AND s.ts < (r.hi AT TIME ZONE w.time_zone + w.width) AT TIME ZONE w.time_zone + w.slack
    GROUP BY s.symbol, 1) b
WHERE b.bucket BETWEEN r.lo AND r.hi
OFFSET 0) f
WHERE (f.symbol, f.width, f.bucket) IN (SELECT k.symbol, k.width, k.bucket FROM %1$s k)
$sql$, keys, stockext.rollup_select_list(), stockext.rollup_metrics_select_list(), ticks);
COMMENT ON FUNCTION stockext.rollup_fresh_sql(text, text) IS
'internal: the query computing from the bars ticks (stockext.ticks or a shard of it) the rollup rows of the (symbol, width, bucket) keys in the relation keys';
REVOKE ALL ON FUNCTION stockext.rollup_fresh_sql(text, text) FROM PUBLIC;

DROP FUNCTION stockext.rollup_merged_sql(text);

-- The rollup rows of the buckets whose bars were only appended since they
-- were rolled up, from the relation invalidations of (symbol, width,
-- bucket, since) keys: a bucket whose stored row has states (candle,
-- close_moments: a calendar width or one with metrics) and whose keys all
-- come from INSERTs of bars after its stored last bar ((candle).last_ts).
-- Only the bars after that one are read (a short index range scan) and
-- added to the stored states by the seeded aggregates, as a recompute
-- reading them last would.  That is exact because a stored row covers
-- every bar of its bucket committed before the refresh that wrote it, and
-- every later bar comes with a key of its own, committed with it: a bar
-- committed late with an earlier ts (a concurrent ingester's) has a since
-- before the stored last bar, and its bucket is recomputed.  A bar farther
-- than slack (which bounds DST shifts) from both ends of the bucket lies
-- in it: only the bars near its ends pay for rollup_bucket(), which costs
-- more than the aggregates (it is not inlined: its date_trunc() with a
-- time zone is STABLE).  OFFSET 0 computes the bucket's end once.
CREATE FUNCTION stockext.rollup_merged_sql(invalidations text, ticks text DEFAULT 'stockext.ticks',
                                            rollups text DEFAULT 'stockext.rollups')
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
SELECT k.symbol, k.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.avg_close, b.n, k.width,
       b.candle, b.returns, b.close_moments
FROM (SELECT i.symbol, i.width, i.bucket, min(i.since) AS since FROM %1$s i
      GROUP BY i.symbol, i.width, i.bucket HAVING count(i.since) = count(*)) k
JOIN %5$s r ON r.width = k.width AND r.symbol = k.symbol AND r.bucket = k.bucket
JOIN stockext.rollup_widths w ON w.width = k.width
CROSS JOIN LATERAL (SELECT (k.bucket AT TIME ZONE w.time_zone + w.width) AT TIME ZONE w.time_zone AS stop OFFSET 0) e
CROSS JOIN LATERAL (
    SELECT %2$s, %3$s
    FROM %4$s s
    WHERE s.symbol = k.symbol AND s.resolution = w.source_resolution
      AND s.ts > (r.candle).last_ts AND s.ts < e.stop + w.slack
      AND (s.ts >= k.bucket + w.slack AND s.ts < e.stop - w.slack
           OR stockext.rollup_bucket(s.ts, w.width, w.origin, w.time_zone) = k.bucket)
    GROUP BY s.symbol) b
WHERE k.since > (r.candle).last_ts
$sql$, invalidations,
    stockext.rollup_columns_sql('stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume, r.candle)',
                                'stockext.sma_final(stockext.moments(s.close, r.close_moments))'),
    stockext.rollup_metrics_select_list('r'), ticks, rollups);
COMMENT ON FUNCTION stockext.rollup_merged_sql(text, text, text) IS
'internal: the query merging into their stored states (in rollups: stockext.rollups or a shard of it) the bars of ticks appended to the buckets of the (symbol, width, bucket, since) keys in the relation invalidations whose keys all come after the stored bars';
REVOKE ALL ON FUNCTION stockext.rollup_merged_sql(text, text, text) FROM PUBLIC;

-- Records the buckets a statement on stockext.ticks touched, with the
-- earliest bar an INSERT added to each, in the relation invalidations.
-- Statement level with transition tables: one INSERT ... SELECT per
-- statement, whatever its size.  Rows an upsert's WHERE ... IS DISTINCT
-- FROM left alone are in no transition table, so unchanged re-polls
-- invalidate nothing.
CREATE FUNCTION stockext.ticks_invalidate_sql(op text, invalidations text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE op
    WHEN 'INSERT' THEN format($sql$
        INSERT INTO %s (symbol, width, bucket, since)
        SELECT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone), min(r.ts)
        FROM new_rows r JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution
        GROUP BY 1, 2, 3$sql$, invalidations)
    WHEN 'DELETE' THEN format($sql$
        INSERT INTO %s (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM old_rows r JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution$sql$, invalidations)
    ELSE format($sql$
        INSERT INTO %s (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM (SELECT symbol, ts, resolution FROM old_rows
              UNION ALL
              SELECT symbol, ts, resolution FROM new_rows) r
        JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution$sql$, invalidations) END;
COMMENT ON FUNCTION stockext.ticks_invalidate_sql(text, text) IS
'internal: the statement a trigger on stockext.ticks (or a shard of it) runs for a statement op (INSERT, UPDATE, DELETE) to record the keys it changed in invalidations';
REVOKE ALL ON FUNCTION stockext.ticks_invalidate_sql(text, text) FROM PUBLIC;

-- The trigger: the statements above, static (planned once) on
-- stockext.ticks.  Fired on a shard of ticks on a Citus node, it records
-- the keys in the co-located shard of rollup_invalidations: a statement of
-- Citus's naming the distributed table from inside a shard's trigger
-- could not see the transition tables.  SECURITY DEFINER: whoever may
-- write bars records their invalidations, without rights on the log
-- itself.
DO $do$
BEGIN
    EXECUTE format($f$
CREATE OR REPLACE FUNCTION stockext.ticks_invalidate()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'stockext.ticks'::regclass THEN
        EXECUTE stockext.ticks_invalidate_sql(TG_OP, stockext.colocated_shard('stockext.rollup_invalidations', TG_RELID)::text);
    ELSIF TG_OP = 'INSERT' THEN %s;
    ELSIF TG_OP = 'DELETE' THEN %s;
    ELSE %s;
    END IF;
    RETURN NULL;
END
$$
$f$, stockext.ticks_invalidate_sql('INSERT', 'stockext.rollup_invalidations'),
     stockext.ticks_invalidate_sql('DELETE', 'stockext.rollup_invalidations'),
     stockext.ticks_invalidate_sql('UPDATE', 'stockext.rollup_invalidations'));
END
$do$;
COMMENT ON FUNCTION stockext.ticks_invalidate() IS
'trigger: records the (symbol, width, bucket) keys a statement on stockext.ticks changed in stockext.rollup_invalidations';

-- Real-time rollups: the rolled-up rows of every width whose bucket has no
-- pending invalidation, plus the pending buckets computed now, as the next
-- refresh will: appended bars merged into the stored states, the other
-- buckets from the ticks.  Reads one snapshot, in which a refresh's claim
-- and its upserts are either both visible or neither.
DO $do$
BEGIN
    EXECUTE format($v$
CREATE OR REPLACE VIEW stockext.rollups_live AS
WITH merged AS (%s)
SELECT r.symbol, r.bucket, r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.width,
       r.candle, r.returns, r.close_moments
FROM stockext.rollups r
WHERE NOT EXISTS (SELECT 1 FROM stockext.rollup_invalidations i
                  WHERE i.width = r.width AND i.symbol = r.symbol AND i.bucket = r.bucket)
UNION ALL
SELECT * FROM merged
UNION ALL
%s$v$, stockext.rollup_merged_sql('stockext.rollup_invalidations'),
       stockext.rollup_fresh_sql('(SELECT DISTINCT i.symbol, i.width, i.bucket FROM stockext.rollup_invalidations i
                                   WHERE NOT EXISTS (SELECT 1 FROM merged m
                                                     WHERE m.width = i.width AND m.symbol = i.symbol AND m.bucket = i.bucket))'));
END
$do$;
COMMENT ON VIEW stockext.rollups_live IS
'stockext.rollups with the buckets not refreshed yet computed from stockext.ticks: always current';
REVOKE ALL ON stockext.rollups_live FROM PUBLIC;

-- The statement of a refresh over the bars ticks, the rollups rollups and
-- the invalidations invalidations (the tables, or co-located shards of
-- them on a Citus node): claims every pending invalidation (DELETE ...
-- RETURNING, so a key written by a transaction still in progress stays for
-- the next refresh), re-aggregates exactly those (symbol, width, bucket)
-- keys from the bars in the same snapshot, upserts them (rewriting only
-- rows whose values changed) and deletes the buckets that have no bars
-- left.  Buckets whose bars were only appended since are not
-- re-aggregated: the new bars are merged into their stored states
-- (rollup_merged_sql).  Its one row is (keys claimed, rows written, empty
-- buckets deleted).
CREATE FUNCTION stockext.rollup_refresh_sql(ticks text, rollups text, invalidations text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
WITH claimed AS (
    DELETE FROM %3$s RETURNING symbol, width, bucket, since
), merged AS (%4$s
), keys AS (
    SELECT DISTINCT c.symbol, c.width, c.bucket FROM claimed c
    WHERE NOT EXISTS (SELECT FROM merged m WHERE m.width = c.width AND m.symbol = c.symbol AND m.bucket = c.bucket)
), fresh AS (%5$s
), upserted AS (
    INSERT INTO %2$s AS r SELECT * FROM fresh UNION ALL SELECT * FROM merged
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
    DELETE FROM %2$s r USING keys k
    WHERE r.width = k.width AND r.symbol = k.symbol AND r.bucket = k.bucket
      AND NOT EXISTS (SELECT FROM fresh f
                      WHERE f.width = k.width AND f.symbol = k.symbol AND f.bucket = k.bucket)
    RETURNING 1
)
SELECT (SELECT count(*) FROM keys) + (SELECT count(*) FROM merged), (SELECT count(*) FROM upserted),
       (SELECT count(*) FROM emptied)
$sql$, ticks, rollups, invalidations, stockext.rollup_merged_sql('claimed', ticks, rollups),
    stockext.rollup_fresh_sql('keys', ticks));
COMMENT ON FUNCTION stockext.rollup_refresh_sql(text, text, text) IS
'internal: the statement refreshing the rollups rollups from the bars ticks through the invalidations invalidations (the tables, or co-located shards of them); returns (keys claimed, rows written, empty buckets deleted)';
REVOKE ALL ON FUNCTION stockext.rollup_refresh_sql(text, text, text) FROM PUBLIC;

-- First recomputes the widths a restore loaded (rollup_rebuilds), then
-- runs the refresh statement above over the tables: one statement,
-- grouped by symbol and bucket.  With stockext distributed over a Citus
-- cluster (stockext.distribute()) each node runs it over each group of
-- co-located shards it holds instead (refresh_local_shards), so a shard's
-- bars never leave its node.  JIT off: the statement is many small index
-- range scans whose cost the planner cannot know beforehand, and compiling
-- it costs seconds.  Created through format() so that the statement is
-- static and its plan cached.
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
    IF stockext.is_distributed() THEN
        SELECT * INTO buckets, upserted, deleted FROM stockext.refresh_rollup_shards();
        RETURN;
    END IF;
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
%s
    INTO buckets, upserted, deleted;
    upserted := upserted + rebuilt;
END
$$
$f$, stockext.rollup_refresh_sql('stockext.ticks', 'stockext.rollups', 'stockext.rollup_invalidations'));
END
$do$;
COMMENT ON FUNCTION stockext.refresh_rollups() IS
'recomputes the widths a restore loaded, then re-aggregates the (symbol, width, bucket) keys invalidated since the last refresh; returns how many keys it claimed, rows it wrote and empty buckets it deleted';
REVOKE ALL ON FUNCTION stockext.refresh_rollups() FROM PUBLIC;

CREATE OR REPLACE FUNCTION stockext.rollup_widths_sync()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ext_member boolean;
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        IF TG_WHEN = 'AFTER' THEN
            DELETE FROM stockext.rollup_widths_installed;
            -- The triggers of the shards of ticks read the widths on their nodes.
            IF stockext.is_distributed() THEN
                PERFORM stockext.copy_rollup_widths();
            END IF;
        ELSIF NOT current_setting('check_function_bodies')::boolean
              AND EXISTS (SELECT FROM stockext.rollup_widths_installed) THEN
            DELETE FROM stockext.rollup_widths;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM stockext.rollup_invalidations i WHERE i.width = OLD.width;
        EXECUTE format('ALTER EXTENSION stockext DROP VIEW stockext.%I', OLD.name || '_live');
        EXECUTE format('ALTER EXTENSION stockext DROP TABLE stockext.%I', OLD.name);
        EXECUTE format('DROP VIEW stockext.%I', OLD.name || '_live');
        EXECUTE format('DROP TABLE stockext.%I', OLD.name);
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE stockext.%I PARTITION OF stockext.rollups FOR VALUES IN (%L)', NEW.name, NEW.width);
    EXECUTE format('COMMENT ON TABLE stockext.%I IS %L', NEW.name,
                   format('%s bars per symbol and bucket; see stockext.rollups', NEW.width));
    EXECUTE format('CREATE VIEW stockext.%I AS
                    SELECT symbol, bucket, open, high, low, close, volume, vwap, avg_close, n
                    FROM stockext.rollups_live WHERE width = %L', NEW.name || '_live', NEW.width);
    EXECUTE format('COMMENT ON VIEW stockext.%I IS %L', NEW.name || '_live',
                   format('%s bars including the buckets not refreshed yet (real-time)', NEW.width));
    -- Inside CREATE EXTENSION the new objects belong to the extension by
    -- themselves; added later they are made members, so DROP EXTENSION
    -- takes them along.
    SELECT EXISTS (SELECT FROM pg_depend
                   WHERE classid = 'pg_class'::regclass
                     AND objid = format('stockext.%I', NEW.name)::regclass
                     AND refclassid = 'pg_extension'::regclass AND deptype = 'e')
      INTO ext_member;
    IF NOT ext_member THEN
        EXECUTE format('ALTER EXTENSION stockext ADD TABLE stockext.%I', NEW.name);
        EXECUTE format('ALTER EXTENSION stockext ADD VIEW stockext.%I', NEW.name || '_live');
    END IF;
    -- Readable by the roles that can read the bars.
    PERFORM stockext.sync_rollup_privileges();
    INSERT INTO stockext.rollup_rebuilds (width) VALUES (NEW.width);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.rollup_widths_sync() IS
'trigger: makes and drops the table and view of each width of stockext.rollup_widths with its row, and lets a restore''s rows replace the ones CREATE EXTENSION wrote';

DROP FUNCTION stockext.latest_ticks_renew(text[], interval[], timestamptz[]);

-- Sets the rows of latest (stockext.latest_ticks) that still show the bar
-- (symbols[i], resolutions[i], stale[i]), which is gone, to the newest bar
-- of their series in ticks (stockext.ticks), or deletes them when none is
-- left.  On a Citus node the two are co-located shards; on a distributed
-- coordinator (retention) they are the distributed tables, and each
-- statement below names one symbol, so Citus sends it to that symbol's
-- shard.  A row whose bar a concurrent writer replaced since is no longer
-- stale: the UPDATE and the DELETE re-check "ts = stale" on its new
-- version and leave it alone.
CREATE FUNCTION stockext.latest_ticks_renew(symbols text[], resolutions interval[], stale timestamptz[],
                                            ticks regclass DEFAULT 'stockext.ticks',
                                            latest regclass DEFAULT 'stockext.latest_ticks')
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    g record;
    n record;
BEGIN
    FOR g IN SELECT DISTINCT u.symbol, u.resolution, u.ts
             FROM unnest(symbols, resolutions, stale) AS u(symbol, resolution, ts)
             ORDER BY 1, 2, 3
    LOOP
        EXECUTE format('SELECT t.ts, t.open, t.high, t.low, t.close, t.volume FROM %s t
                        WHERE t.symbol = $1 AND t.resolution = $2 ORDER BY t.ts DESC LIMIT 1', ticks)
            INTO n USING g.symbol, g.resolution;
        IF n.ts IS NOT NULL THEN
            EXECUTE format('UPDATE %s l SET ts = $4, open = $5, high = $6, low = $7, close = $8, volume = $9
                            WHERE l.symbol = $1 AND l.resolution = $2 AND l.ts = $3', latest)
                USING g.symbol, g.resolution, g.ts, n.ts, n.open, n.high, n.low, n.close, n.volume;
        ELSE
            EXECUTE format('DELETE FROM %s l WHERE l.symbol = $1 AND l.resolution = $2 AND l.ts = $3', latest)
                USING g.symbol, g.resolution, g.ts;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.latest_ticks_renew(text[], interval[], timestamptz[], regclass, regclass) IS
'internal: replaces the rows of latest (stockext.latest_ticks or a shard of it) still showing the given (symbol, resolution, ts) bars, which are gone, with the newest bar left in their series in ticks, or deletes them';
REVOKE ALL ON FUNCTION stockext.latest_ticks_renew(text[], interval[], timestamptz[], regclass, regclass) FROM PUBLIC;

-- On a Citus node, the shard of rel co-located with shard, a shard of
-- another table of the same co-location group (stockext.ticks_102008 ->
-- stockext.rollup_invalidations_102040); NULL when there is none.  Shards
-- are named <table>_<shard id>, and co-located shards cover the same hash
-- range.  Reads Citus's catalogs, which exist only where Citus is
-- installed: PL/pgSQL plans the query on the first call.
CREATE FUNCTION stockext.colocated_shard(rel regclass, shard regclass)
RETURNS regclass
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT pg_catalog.shard_name(rel, o.shardid)::regclass
            FROM pg_catalog.pg_dist_shard me
            JOIN pg_catalog.pg_dist_shard o ON o.shardminvalue = me.shardminvalue
            WHERE me.shardid = substring(shard::text FROM '_(\d+)$')::bigint
              AND o.logicalrelid = rel);
END
$$;
COMMENT ON FUNCTION stockext.colocated_shard(regclass, regclass) IS
'internal: on a Citus node, the shard of rel co-located with the shard shard of another table';
REVOKE ALL ON FUNCTION stockext.colocated_shard(regclass, regclass) FROM PUBLIC;

-- On a Citus node, the table to read symbol's rows of rel from: the shard
-- of rel that holds them when this node has a placement of it (every node
-- has one of a reference table's), else rel itself, through Citus.  A
-- function that runs inside the query of a shard (adjust_price() on a
-- worker) can read only its node's tables: a distributed query from there
-- fails.  As text, schema-qualified and quoted.  Every reader of adjusted
-- bars calls it: it reads only Citus's catalogs.  Citus gives a reference
-- table's one shard whatever the symbol.
CREATE FUNCTION stockext.local_shard(rel regclass, symbol text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    shard bigint := pg_catalog.get_shard_id_for_distribution_column(rel, symbol);
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_dist_placement p
               WHERE p.shardid = shard
                 AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)) THEN
        RETURN pg_catalog.shard_name(rel, shard);
    END IF;
    RETURN rel::text;
END
$$;
COMMENT ON FUNCTION stockext.local_shard(regclass, text) IS
'internal: on a Citus node, the shard of rel holding symbol''s rows if this node has it, else rel';

-- The refresh on one Citus node: the refresh statement over each group of
-- co-located shards of ticks, rollups and rollup_invalidations this node
-- holds, under a lock of its own per group.
CREATE FUNCTION stockext.refresh_local_shards(OUT buckets bigint, OUT upserted bigint, OUT deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    shard regclass;
    b     bigint;
    u     bigint;
    d     bigint;
BEGIN
    buckets := 0; upserted := 0; deleted := 0;
    FOR shard IN
        SELECT pg_catalog.shard_name('stockext.ticks', s.shardid)::regclass
        FROM pg_catalog.pg_dist_shard s
        JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
        WHERE s.logicalrelid = 'stockext.ticks'::regclass
          AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)
        ORDER BY s.shardid
    LOOP
        PERFORM pg_advisory_xact_lock('stockext.rollups'::regclass::oid::integer, shard::oid::integer);
        EXECUTE stockext.rollup_refresh_sql(shard::text,
                                            stockext.colocated_shard('stockext.rollups', shard)::text,
                                            stockext.colocated_shard('stockext.rollup_invalidations', shard)::text)
            INTO b, u, d;
        buckets := buckets + b; upserted := upserted + u; deleted := deleted + d;
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.refresh_local_shards() IS
'internal: on a Citus node, refreshes the rollups of the shards of stockext.ticks it holds; returns how many keys it claimed, rows it wrote and empty buckets it deleted';
REVOKE ALL ON FUNCTION stockext.refresh_local_shards() FROM PUBLIC;

-- The refresh of distributed rollups: when keys are pending, every node of
-- the cluster (the coordinator too, which may hold shards) refreshes the
-- shards it holds,
-- all at once, each in a transaction of its own; the counts are summed.
-- A node's failure is this function's error.
CREATE FUNCTION stockext.refresh_rollup_shards(OUT buckets bigint, OUT upserted bigint, OUT deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    failed text;
BEGIN
    -- Nothing pending: a query through Citus's cached connections, rather
    -- than a new connection to every node.
    IF NOT EXISTS (SELECT 1 FROM stockext.rollup_invalidations) THEN
        buckets := 0; upserted := 0; deleted := 0;
        RETURN;
    END IF;
    CREATE TEMPORARY TABLE IF NOT EXISTS stockext_node_refreshes (nodeid integer, success boolean, result text);
    TRUNCATE stockext_node_refreshes;
    INSERT INTO stockext_node_refreshes
    SELECT r.nodeid, r.success, r.result
    FROM pg_catalog.run_command_on_all_nodes(
        $q$SELECT concat_ws(',', buckets, upserted, deleted) FROM stockext.refresh_local_shards()$q$) r;
    SELECT string_agg(format('node %s: %s', r.nodeid, r.result), '; ') INTO failed
    FROM stockext_node_refreshes r WHERE NOT r.success;
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION 'refreshing the rollups failed on a node of the Citus cluster'
            USING ERRCODE = 'external_routine_exception', DETAIL = failed;
    END IF;
    SELECT coalesce(sum(split_part(r.result, ',', 1)::bigint), 0),
           coalesce(sum(split_part(r.result, ',', 2)::bigint), 0),
           coalesce(sum(split_part(r.result, ',', 3)::bigint), 0)
      INTO buckets, upserted, deleted
    FROM stockext_node_refreshes r;
END
$$;
COMMENT ON FUNCTION stockext.refresh_rollup_shards() IS
'internal: refreshes distributed rollups on every node of the Citus cluster (stockext.refresh_local_shards()); returns the summed counts';
REVOKE ALL ON FUNCTION stockext.refresh_rollup_shards() FROM PUBLIC;

-- Runs command on every Citus worker, in the calling transaction (Citus
-- commits the workers' changes with it), and raises "<what> failed",
-- naming each worker that failed and why.
CREATE FUNCTION stockext.run_on_workers(command text, what text)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    failed text;
BEGIN
    SELECT string_agg(format('%s:%s: %s', r.nodename, r.nodeport, r.result), '; ') INTO failed
    FROM pg_catalog.run_command_on_workers(command) r
    WHERE NOT r.success;
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION '% failed', what
            USING ERRCODE = 'external_routine_exception', DETAIL = failed;
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.run_on_workers(text, text) IS
'internal: runs a command on every Citus worker in the calling transaction; raises "<what> failed" naming the workers that failed';
REVOKE ALL ON FUNCTION stockext.run_on_workers(text, text) FROM PUBLIC;

-- The rolled-up widths as the statements that give a node's own
-- stockext.rollup_widths the coordinator's rows.  The triggers of a shard
-- of ticks read the widths on its node.  They are written there with
-- triggers off (session_replication_role = replica): the table of a width
-- is the coordinator's to make, which Citus propagates.
CREATE FUNCTION stockext.rollup_widths_copy_sql()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT format('SET LOCAL session_replication_role = replica; DELETE FROM stockext.rollup_widths; %s',
                  CASE WHEN count(*) > 0
                       THEN format('INSERT INTO stockext.rollup_widths (width, name, origin, time_zone, source_resolution, metrics) VALUES %s',
                                   string_agg(format('(%L, %L, %L, %L, %L, %L)', w.width, w.name, w.origin, w.time_zone,
                                                     w.source_resolution, w.metrics), ', ' ORDER BY w.width))
                       ELSE '' END)
    FROM stockext.rollup_widths w;
END;
COMMENT ON FUNCTION stockext.rollup_widths_copy_sql() IS
'internal: the statements that give a Citus worker''s stockext.rollup_widths the rows of this node''s';
REVOKE ALL ON FUNCTION stockext.rollup_widths_copy_sql() FROM PUBLIC;

-- Copies the widths to every worker, in the calling transaction (run by
-- distribute() and after every change of stockext.rollup_widths on a
-- distributed coordinator).
CREATE FUNCTION stockext.copy_rollup_widths()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.run_on_workers(stockext.rollup_widths_copy_sql(),
                                    'copying stockext.rollup_widths to the Citus workers');
END
$$;
COMMENT ON FUNCTION stockext.copy_rollup_widths() IS
'internal: gives every Citus worker''s stockext.rollup_widths the coordinator''s rows';
REVOKE ALL ON FUNCTION stockext.copy_rollup_widths() FROM PUBLIC;

-- Distributes stockext over the Citus cluster this database's coordinator
-- leads.  stockext.ticks and the tables that follow its bars are hash
-- distributed by symbol and co-located, so a symbol's bars, rollups,
-- pending invalidations and newest bar lie in one group of shards on one
-- node: ticks (with its partitions), rollups (with the table of each
-- width), rollup_invalidations and latest_ticks.  Everything else stays on
-- the coordinator, where the ingestion worker, the alerts and pg_cron run.
-- The triggers of ticks run on the shards (Citus copies them when
-- citus.enable_unsafe_triggers is on, which is set for this call only) and
-- write into the co-located shards.
CREATE FUNCTION stockext.distribute(shard_count integer DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.enable_unsafe_triggers = on
SET client_min_messages = warning
AS $$
DECLARE
    rel   text;
    added text[];
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension e WHERE e.extname = 'citus') THEN
        RAISE EXCEPTION 'Citus is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Run CREATE EXTENSION citus on the coordinator, add the workers with citus_add_node(), then stockext.distribute().';
    END IF;
    IF NOT pg_catalog.citus_is_coordinator() THEN
        RAISE EXCEPTION 'stockext.distribute() must run on the Citus coordinator'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Set the coordinator with citus_set_coordinator_host() and call stockext.distribute() there.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.citus_get_active_worker_nodes()) THEN
        RAISE EXCEPTION 'the Citus cluster has no workers'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add them with citus_add_node() first.';
    END IF;
    IF stockext.is_distributed() THEN
        RAISE EXCEPTION 'stockext is already distributed'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF shard_count IS NOT NULL AND shard_count < 1 THEN
        RAISE EXCEPTION 'shard_count must be at least 1, not %', shard_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM stockext.alert_rules) THEN
        RAISE WARNING 'alert rules do not fire on distributed bars'
            USING DETAIL = 'The bars written after stockext.distribute() are not queued for the alert rules.';
    END IF;
    PERFORM stockext.copy_rollup_widths();
    -- Citus expects an extension's tables on every node, but the table of
    -- a width added since CREATE EXTENSION is on the coordinator alone: it
    -- leaves the extension while Citus distributes it (and makes it on the
    -- workers), and comes back.
    SELECT array_agg(c.relname) INTO added
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'stockext.rollups'::regclass
      AND EXISTS (SELECT 1 FROM pg_catalog.run_command_on_workers(format('SELECT to_regclass(%L) IS NULL',
                                                                         format('stockext.%I', c.relname))) r
                  WHERE r.result = 't');
    FOREACH rel IN ARRAY coalesce(added, '{}') LOOP
        EXECUTE format('ALTER EXTENSION stockext DROP TABLE stockext.%I', rel);
    END LOOP;
    PERFORM pg_catalog.create_distributed_table('stockext.ticks', 'symbol',
                                                shard_count => coalesce(shard_count, current_setting('citus.shard_count')::integer));
    FOREACH rel IN ARRAY ARRAY['rollups', 'rollup_invalidations', 'latest_ticks'] LOOP
        PERFORM pg_catalog.create_distributed_table(format('stockext.%I', rel)::regclass, 'symbol',
                                                    colocate_with => 'stockext.ticks');
    END LOOP;
    FOREACH rel IN ARRAY coalesce(added, '{}') LOOP
        EXECUTE format('ALTER EXTENSION stockext ADD TABLE stockext.%I', rel);
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.distribute(integer) IS
'distributes stockext.ticks and the tables that follow its bars (rollups, rollup_invalidations, latest_ticks) by symbol over the Citus cluster, co-located; run on the coordinator after CREATE EXTENSION citus and citus_add_node()';
REVOKE ALL ON FUNCTION stockext.distribute(integer) FROM PUBLIC;

-- Monthly partitions, [first of month, first of next month) in UTC, named
-- ticks_pYYYYMM.  Rows already in the default partition for a new month are
-- moved into it, so this is safe to call at any time and any number of times.
--
-- Locking: when every month exists it returns at once, taking no lock.
-- Otherwise it serializes creators with an advisory lock and then takes the
-- default partition in ACCESS EXCLUSIVE mode before moving rows (ATTACH needs
-- that lock anyway; taking it first keeps a concurrent writer from putting a
-- row of the new month into the default partition between the move and the
-- attach).  A writer that already holds locks on ticks in its transaction
-- (the ingest path) must not wait for those locks, or two of them deadlock:
-- with wait => false it gives up instead, returns NULL, and its bars land in
-- the default partition until a later call moves them.
CREATE OR REPLACE FUNCTION stockext.create_partitions(start timestamptz, stop timestamptz,
                                           wait boolean DEFAULT true)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
-- Citus reports each month it distributes (on a distributed coordinator).
SET client_min_messages = warning
AS $$
DECLARE
    first   timestamp := date_trunc('month', start AT TIME ZONE 'UTC');
    month   timestamp;
    created integer := 0;
    name    text;
    lo      timestamptz;
    hi      timestamptz;
    distributed boolean;
BEGIN
    IF start IS NULL OR stop IS NULL OR wait IS NULL THEN
        RAISE EXCEPTION 'partition range and wait must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF stop < start THEN
        RAISE EXCEPTION 'partition range ends before it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', start, stop);
    END IF;
    IF stop - start > interval '100 years' THEN
        RAISE EXCEPTION 'partition range is longer than 100 years'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF NOT EXISTS (SELECT FROM generate_series(first, stop AT TIME ZONE 'UTC', interval '1 month') m
                   WHERE to_regclass(format('stockext.%I', 'ticks_p' || to_char(m, 'YYYYMM'))) IS NULL) THEN
        RETURN 0;
    END IF;

    IF wait THEN
        PERFORM pg_advisory_xact_lock('stockext.ticks'::regclass::oid::bigint);
    ELSIF NOT pg_try_advisory_xact_lock('stockext.ticks'::regclass::oid::bigint) THEN
        RETURN NULL;
    END IF;
    -- While a restore has taken the primary key off ticks (see
    -- stockext.restore_drop_key) a new partition would get none: put it
    -- back first.  That takes ticks exclusively, so not while holding the
    -- default partition (a reader of ticks may be waiting for it), and not
    -- for a writer calling without waiting.
    IF NOT EXISTS (SELECT FROM pg_constraint c
                   WHERE c.conrelid = 'stockext.ticks'::regclass AND c.contype = 'p') THEN
        IF NOT wait THEN
            RETURN NULL;
        END IF;
        PERFORM stockext.restore_add_key('stockext.ticks', 'ticks_pkey');
    END IF;
    IF wait THEN
        LOCK TABLE stockext.ticks_default IN ACCESS EXCLUSIVE MODE;
    ELSE
        BEGIN
            LOCK TABLE stockext.ticks_default IN ACCESS EXCLUSIVE MODE NOWAIT;
        EXCEPTION WHEN lock_not_available THEN
            RETURN NULL;
        END;
    END IF;

    distributed := stockext.is_distributed();
    month := first;
    WHILE month <= stop AT TIME ZONE 'UTC' LOOP
        name := 'ticks_p' || to_char(month, 'YYYYMM');
        lo := month AT TIME ZONE 'UTC';
        hi := (month + interval '1 month') AT TIME ZONE 'UTC';
        IF to_regclass(format('stockext.%I', name)) IS NULL THEN
            EXECUTE format('CREATE TABLE stockext.%I (LIKE stockext.ticks INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
            EXECUTE format('WITH moved AS (DELETE FROM stockext.ticks_default WHERE ts >= $1 AND ts < $2 RETURNING *)
                            INSERT INTO stockext.%I SELECT * FROM moved', name)
                USING lo, hi;
            EXECUTE format('ALTER TABLE stockext.ticks ATTACH PARTITION stockext.%I FOR VALUES FROM (%L) TO (%L)',
                           name, lo, hi);
            -- On a distributed coordinator Citus distributed the month as it
            -- was attached, copying its bars into the shards: the copy left
            -- on the coordinator goes.
            IF distributed THEN
                PERFORM pg_catalog.truncate_local_data_after_distributing_table(format('stockext.%I', name));
            END IF;
            created := created + 1;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION stockext.create_partitions(timestamptz, timestamptz, boolean) IS
'creates the monthly ticks partitions covering [start, stop], moving matching rows out of the default partition; returns how many it created, or NULL when wait is false and another transaction holds the locks it needs or a restore has yet to put the primary key of ticks back';
REVOKE ALL ON FUNCTION stockext.create_partitions(timestamptz, timestamptz, boolean) FROM PUBLIC;


------------------------------------------------------------------------------
-- Citus: writes through the coordinator.  feed_status reads the newest bars
-- with stockext.newest_bar()
------------------------------------------------------------------------------

-- The newest stored bar of any of symbols at resolution, for feed_status.
-- Where Citus distributes the bars, from stockext.latest_ticks, which the
-- triggers of the shards keep: Citus plans no lateral join of a local table
-- or a function to a distributed table, and a function's query is planned
-- on its own.
CREATE FUNCTION stockext.newest_bar(symbols text[], resolution interval)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF stockext.is_distributed() THEN
        RETURN (SELECT max(l.ts) FROM stockext.latest_ticks l
                WHERE l.symbol = ANY (newest_bar.symbols) AND l.resolution = newest_bar.resolution);
    END IF;
    RETURN (SELECT max(last.ts)
            FROM unnest(newest_bar.symbols) AS sym
            CROSS JOIN LATERAL (SELECT t.ts FROM stockext.ticks t
                                WHERE t.symbol = sym AND t.resolution = newest_bar.resolution
                                ORDER BY t.ts DESC LIMIT 1) AS last);
END
$$;
COMMENT ON FUNCTION stockext.newest_bar(text[], interval) IS
'internal: the newest stored bar of any of the symbols at the resolution (stockext.feed_status''s newest_bar)';

CREATE OR REPLACE VIEW stockext.feed_status AS
SELECT f.id, f.provider, f.symbols, f.resolution, f.poll_every, f.paused,
       EXISTS (SELECT 1 FROM stockext.feed_keys k WHERE k.feed_id = f.id) AS has_api_key,
       s.last_poll, s.last_success, s.last_error, s.last_error_message,
       coalesce(s.consecutive_failures, 0) AS consecutive_failures,
       s.next_poll_at, coalesce(s.bars_stored, 0) AS bars_stored,
       newest.ts AS newest_bar, now() - newest.ts AS lag,
       coalesce((SELECT stockext.idle_reason()),
                CASE WHEN stockext.feed_closed(f.calendar, s.last_success, now())
                     THEN format('market closed (calendar %s) until %s', f.calendar,
                                 coalesce(stockext.next_open(f.calendar, now())::text, 'further notice')) END)
           AS idle_reason,
       f.calendar, coalesce(s.skipped_closed, 0) AS skipped_closed,
       conflict.n AS conflicts, conflict.last AS last_conflict
FROM stockext.feeds f
LEFT JOIN stockext.feed_state s ON s.feed_id = f.id
CROSS JOIN LATERAL (SELECT stockext.newest_bar(f.symbols, f.resolution) AS ts) AS newest
-- The feed's provider's bars of its symbols and resolution that were not
-- stored: a feed is the one of its provider for them (check_feed_unique),
-- so its backfills count too.
CROSS JOIN LATERAL (
    SELECT count(*) AS n, max(c.detected_at) AS last
    FROM stockext.conflicts c
    WHERE c.symbol = ANY (f.symbols) AND c.resolution = f.resolution AND c.offered_source = f.provider
) AS conflict;
COMMENT ON VIEW stockext.feed_status IS
'per feed: last poll, last success, last error, failure streak, next poll, bars stored, newest stored bar and its lag behind now, why it is not polled (this database is quiet: a copy, or not activated; or its market is closed), its calendar, the polls skipped while that was closed, and its provider''s bars of its symbols kept out by another provider''s (stockext.conflicts: how many, the latest)';
REVOKE ALL ON stockext.feed_status FROM PUBLIC;

------------------------------------------------------------------------------
-- Citus: alerts on distributed bars.  alert_queue is distributed with the
-- bars; the shards of ticks queue the series in each node's copy of the
-- watched series (alert_series); evaluate_alerts claims the distributed
-- queue on the coordinator; alert_check routes its queries with custom
-- plans there.
------------------------------------------------------------------------------

-- Queues the watched bars a statement inserted or changed.  Rows an
-- upsert's WHERE ... IS DISTINCT FROM left alone are in no transition
-- table: an unchanged re-poll queues nothing.  SECURITY DEFINER: whoever
-- may write bars queues them, without rights on the queue.
-- Fired on a shard of ticks on a Citus node (stockext.distribute()), it
-- queues into the co-located shard of alert_queue the bars of the series
-- in the node's own stockext.alert_series, the coordinator's watched
-- series as stockext.copy_alert_series() copied them there: the rules are
-- on the coordinator alone, and a statement naming a distributed table
-- could not see the transition table.
CREATE OR REPLACE FUNCTION stockext.alert_enqueue()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'stockext.ticks'::regclass THEN
        IF EXISTS (SELECT 1 FROM stockext.alert_series) THEN
            EXECUTE format('INSERT INTO %s (symbol, resolution, ts)
                            SELECT n.symbol, n.resolution, n.ts
                            FROM new_rows n
                            JOIN stockext.alert_series w ON w.symbol = n.symbol AND w.resolution = n.resolution',
                           stockext.colocated_shard('stockext.alert_queue', TG_RELID));
        END IF;
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT FROM stockext.alert_rules r WHERE NOT r.paused) THEN
        RETURN NULL;
    END IF;
    -- The watched series once, joined by hash to the statement's rows.
    INSERT INTO stockext.alert_queue (symbol, resolution, ts)
    SELECT n.symbol, n.resolution, n.ts
    FROM new_rows n
    JOIN (SELECT DISTINCT a.symbol, a.resolution FROM stockext.alert_targets a) w
      ON w.symbol = n.symbol AND w.resolution = n.resolution;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.alert_enqueue() IS
'trigger: queues the bars of a statement on stockext.ticks that an active alert rule watches';

-- The condition of a rule on the bar of symbol at ts: the observed value,
-- whether it fires, and what it says.  Reads only the bars the condition
-- needs (the last bars+1, or slow+1), newest first through the primary key.
-- One generic plan per query (runtime partition pruning): planning each
-- bar's custom plan over the partitions cost two thirds of the time.
-- Prices and volumes are adjusted as the rule says, relative to the bar
-- evaluated (its own values as traded), so that a split between the bars
-- read is no move and a level keeps its meaning.
-- With the bars distributed over a Citus cluster (stockext.distribute())
-- each query runs whole on the node holding the symbol's shard, which
-- Citus can only route with the parameters' values: custom plans there;
-- adjustment_factor() runs there too, on that node's shards.
CREATE OR REPLACE FUNCTION stockext.alert_check(r stockext.alert_rules, sym text, bar timestamptz,
                                     OUT observed float8, OUT fires boolean, OUT what text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    prev float8;
    slow_now float8;
    slow_prev float8;
    rows_read integer;
    adj text := r.adjust;
    vadj text;
    pbase float8;
    vbase float8;
    cal text;
    opens timestamptz[];
BEGIN
    fires := false;
    IF stockext.is_distributed() THEN
        PERFORM pg_catalog.set_config('plan_cache_mode', 'force_custom_plan', true);
    END IF;
    -- Most symbols have no actions: their bars are read as traded.
    IF adj <> 'none' AND NOT EXISTS (SELECT FROM stockext.corporate_actions a WHERE a.symbol = sym) THEN
        adj := 'none';
    END IF;
    vadj := CASE WHEN adj = 'none' THEN 'none' ELSE 'splits' END;
    pbase := stockext.adjustment_factor(sym, bar, adj);
    vbase := stockext.adjustment_factor(sym, bar, vadj);
    IF r.condition = 'pct_change' THEN
        SELECT x.v INTO observed
        FROM (SELECT t.ts, stockext.pct_change(t.close, r.bars) OVER (ORDER BY t.ts) AS v
              FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT r.bars + 1) t) x
        ORDER BY x.ts DESC LIMIT 1;
        fires := CASE r.direction WHEN 'up' THEN observed >= r.threshold
                                  WHEN 'down' THEN observed <= -r.threshold
                                  ELSE abs(observed) >= r.threshold END;
        what := format('%s %s%% over %s bar%s (threshold %s%%)',
                       CASE WHEN observed >= 0 THEN 'up' ELSE 'down' END,
                       round(abs(observed)::numeric, 2), r.bars,
                       CASE WHEN r.bars = 1 THEN '' ELSE 's' END, r.threshold);
    ELSIF r.condition = 'volume_spike' THEN
        -- skip_open: the first bar of a session of the symbol's calendar is
        -- left out (volume_spike's skip_open); the sessions are read once,
        -- over the bars the rule reads.
        cal := CASE WHEN r.skip_open THEN stockext.symbol_calendar(sym) END;
        IF cal IS NOT NULL THEN
            SELECT array_agg(s.open) INTO opens
            FROM stockext.sessions(cal, (SELECT min(t.ts) FROM (SELECT ts FROM stockext.ticks
                                                                WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                                                                ORDER BY ts DESC LIMIT r.bars + 1) t),
                                   bar + r.resolution) s
            WHERE isfinite(s.open);
        END IF;
        SELECT x.v, x.spike INTO observed, fires
        FROM (SELECT t.ts, t.volume AS v,
                     stockext.volume_spike(t.volume, r.bars, r.factor,
                                           EXISTS (SELECT FROM unnest(opens) o
                                                   WHERE o <= t.ts AND o > t.ts - r.resolution))
                         OVER (ORDER BY t.ts) AS spike
              FROM (SELECT ts, volume * (vbase / stockext.adjustment_factor(symbol, ts, vadj)) AS volume FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT r.bars + 1) t) x
        ORDER BY x.ts DESC LIMIT 1;
        what := format('volume %s is over %s times the mean of the %s bars before', observed,
                       r.factor, r.bars);
    ELSIF r.condition = 'price_cross' THEN
        SELECT x.close, x.prev INTO observed, prev
        FROM (SELECT t.ts, t.close, lag(t.close) OVER (ORDER BY t.ts) AS prev
              FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT 2) t) x
        ORDER BY x.ts DESC LIMIT 1;
        fires := (r.direction IN ('up', 'either') AND prev < r.level AND observed >= r.level)
              OR (r.direction IN ('down', 'either') AND prev > r.level AND observed <= r.level);
        what := format('close %s crossed %s through %s from %s', observed,
                       CASE WHEN observed > prev THEN 'up' ELSE 'down' END, r.level, prev);
    ELSIF r.condition = 'sma_cross' THEN
        SELECT x.fast, x.slow, lag(x.fast) OVER w - lag(x.slow) OVER w, x.n
          INTO observed, slow_now, prev, rows_read
        FROM (SELECT t.ts,
                     stockext.sma(t.close) OVER (ORDER BY t.ts ROWS BETWEEN r.bars - 1 PRECEDING AND CURRENT ROW) AS fast,
                     stockext.sma(t.close) OVER (ORDER BY t.ts ROWS BETWEEN r.slow - 1 PRECEDING AND CURRENT ROW) AS slow,
                     count(*) OVER (ORDER BY t.ts) AS n
              FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT r.slow + 1) t) x
        WINDOW w AS (ORDER BY x.ts)
        ORDER BY x.ts DESC LIMIT 1;
        -- prev is fast - slow on the bar before; both averages full there.
        IF rows_read = r.slow + 1 THEN
            fires := (r.direction IN ('up', 'either') AND prev <= 0 AND observed > slow_now)
                  OR (r.direction IN ('down', 'either') AND prev >= 0 AND observed < slow_now);
        END IF;
        what := format('SMA(%s) %s crossed %s SMA(%s) %s', r.bars, round(observed::numeric, 4),
                       CASE WHEN observed > slow_now THEN 'above' ELSE 'below' END,
                       r.slow, round(slow_now::numeric, 4));
    ELSIF r.condition = 'volatility' THEN
        SELECT stockext.volatility(t.close ORDER BY t.ts) INTO observed
        FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
              WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
              ORDER BY ts DESC LIMIT r.bars) t;
        fires := observed > r.threshold;
        what := format('volatility %s of the last %s bars is above %s',
                       round(observed::numeric, 6), r.bars, r.threshold);
    END IF;
    fires := coalesce(fires, false);
END
$$;
COMMENT ON FUNCTION stockext.alert_check(stockext.alert_rules, text, timestamptz) IS
'internal: evaluates an alert rule on the bar of a symbol at ts: observed value, whether it fires, and the message';
REVOKE ALL ON FUNCTION stockext.alert_check(stockext.alert_rules, text, timestamptz) FROM PUBLIC;

-- Evaluates the queued bars (the oldest max_bars rows of the queue; NULL:
-- all) against the rules watching them, oldest bar first per series so
-- that cooldowns count in bar time, stores what fires, then sends NOTIFY
-- stockext_alerts for every alert and feed event not yet announced.
--
-- A bar is closed once a later bar of its series is stored, once it was
-- written stockext.alert_close_grace (the provider's delay) after its end,
-- or once a poll of a feed serving it succeeded that long after its end
-- (bars of no feed: once that much time has passed).
-- Closed bars are evaluated by every rule and leave the queue; a bar still
-- forming stays queued (one waiting row) and only rules with on_forming
-- evaluate it, once per write.  A bar that landed later after its close
-- than a rule's max_age is history to that rule, which skips it (counted
-- in stale) unless it has on_history.
--
-- One evaluation at a time (a transaction-level advisory lock): the worker
-- in each round, a bounded batch so that a large backfill cannot hold up
-- its polls, or anyone calling it.
--
-- Distributed over a Citus cluster (stockext.distribute()), the queue is
-- sharded with the bars and evaluate_alerts runs on the coordinator alone,
-- whose lock then serializes every claim: it reads the oldest rows, then
-- deletes the writes among them by their values (a ctid names a row of one
-- shard only) and evaluates what the deletion returned, so that a row is
-- claimed once whichever node holds it.  Waiting rows are found, updated
-- and deleted by their bar.  The rules, the alerts and the NOTIFY stay on
-- the coordinator.
CREATE OR REPLACE FUNCTION stockext.evaluate_alerts(max_bars integer DEFAULT NULL,
                                         OUT fired integer, OUT stale integer, OUT waiting integer)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cfg     record;
    k       record;
    claim   refcursor;
    dist    boolean := stockext.is_distributed();
    -- The rows picked on a distributed queue (dist).
    p_sym   text[];
    p_res   interval[];
    p_ts    timestamptz[];
    p_land  timestamptz[];
    p_wait  boolean[];
    -- The writes claimed among them (dist).
    w_sym   text[];
    w_res   interval[];
    w_ts    timestamptz[];
    w_land  timestamptz[];
    stored  boolean;
    r       stockext.alert_rules;
    rules   stockext.alert_rules[];
    chk     record;
    a       stockext.alerts;
    -- Of the series being evaluated (bars come series by series).
    s_sym   text;
    s_res   interval;
    poll    interval;
    fed     boolean;
    success timestamptz;
    closed  boolean;
    late    boolean;
BEGIN
    IF max_bars < 0 THEN
        RAISE EXCEPTION 'max_bars must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('max_bars is %s.', max_bars),
                  HINT = 'Pass the most queued bars to evaluate, or NULL for all of them.';
    END IF;
    -- (Nested: citus_is_coordinator() exists only where Citus does.)
    IF dist THEN
        IF NOT pg_catalog.citus_is_coordinator() THEN
            RAISE EXCEPTION 'stockext.evaluate_alerts() must run on the Citus coordinator'
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = 'The alert rules and alerts of a distributed stockext are on the coordinator.';
        END IF;
    END IF;
    PERFORM stockext.check_live();
    fired := 0;
    stale := 0;
    waiting := 0;
    PERFORM pg_advisory_xact_lock('stockext.alert_queue'::regclass::oid::bigint);
    cfg := stockext.alert_settings();
    -- The writes claimed are deleted at once; a bar's waiting row (held)
    -- stays until the bar closes, so that a live series costs one row.
    IF dist THEN
        SELECT array_agg(o.symbol), array_agg(o.resolution), array_agg(o.ts), array_agg(o.landed_at),
               array_agg(o.waiting)
          INTO p_sym, p_res, p_ts, p_land, p_wait
        FROM (SELECT q.symbol, q.resolution, q.ts, q.landed_at, q.waiting FROM stockext.alert_queue q
              ORDER BY q.ts LIMIT max_bars) o;
        -- (Only when there are writes: the DELETE goes to every shard of
        -- the symbols picked, in a transaction committed on every node.)
        IF false = ANY (p_wait) THEN
            WITH writes AS (DELETE FROM stockext.alert_queue q
                            WHERE NOT q.waiting
                              AND q.symbol = ANY (p_sym)
                              AND (q.symbol, q.resolution, q.ts, q.landed_at) IN
                                  (SELECT p.symbol, p.resolution, p.ts, p.landed_at
                                   FROM unnest(p_sym, p_res, p_ts, p_land, p_wait) p(symbol, resolution, ts, landed_at, waiting)
                                   WHERE NOT p.waiting)
                            RETURNING q.symbol, q.resolution, q.ts, q.landed_at)
            SELECT array_agg(w.symbol), array_agg(w.resolution), array_agg(w.ts), array_agg(w.landed_at)
              INTO w_sym, w_res, w_ts, w_land
            FROM writes w;
        END IF;
        OPEN claim FOR
        SELECT c.symbol, c.resolution, c.ts, max(c.landed_at) AS landed, bool_and(c.waiting) AS seen,
               NULL::tid[] AS held, bool_or(c.waiting) AS holds, NULL::boolean AS stored
        FROM (SELECT w.*, false AS waiting FROM unnest(w_sym, w_res, w_ts, w_land) w(symbol, resolution, ts, landed_at)
              UNION ALL
              SELECT p.* FROM unnest(p_sym, p_res, p_ts, p_land, p_wait) p(symbol, resolution, ts, landed_at, waiting)
              WHERE p.waiting) c
        GROUP BY c.symbol, c.resolution, c.ts
        ORDER BY c.symbol, c.resolution, c.ts;
    ELSE
        OPEN claim FOR
        WITH picked AS (SELECT o.ctid AS row_id, o.waiting FROM stockext.alert_queue o
                        ORDER BY o.ts LIMIT max_bars),
             writes AS (DELETE FROM stockext.alert_queue q USING picked p
                        WHERE q.ctid = p.row_id AND NOT p.waiting
                        RETURNING q.symbol, q.resolution, q.ts, q.landed_at),
             held AS (SELECT p.row_id, q.symbol, q.resolution, q.ts, q.landed_at
                      FROM picked p JOIN stockext.alert_queue q ON q.ctid = p.row_id
                      WHERE p.waiting)
        SELECT c.symbol, c.resolution, c.ts, max(c.landed_at) AS landed,
               count(c.row_id) = count(*) AS seen,
               array_agg(c.row_id) FILTER (WHERE c.row_id IS NOT NULL) AS held,
               count(c.row_id) > 0 AS holds,
               EXISTS (SELECT FROM stockext.ticks t
                       WHERE t.symbol = c.symbol AND t.resolution = c.resolution AND t.ts = c.ts) AS stored
        FROM (SELECT NULL::tid AS row_id, w.* FROM writes w UNION ALL SELECT * FROM held) c
        GROUP BY c.symbol, c.resolution, c.ts
        ORDER BY c.symbol, c.resolution, c.ts;
    END IF;
    LOOP
        FETCH claim INTO k;
        EXIT WHEN NOT FOUND;
        IF k.symbol IS DISTINCT FROM s_sym OR k.resolution IS DISTINCT FROM s_res THEN
            s_sym := k.symbol;
            s_res := k.resolution;
            rules := ARRAY(SELECT ru FROM stockext.alert_rules ru
                           JOIN stockext.alert_targets tg ON tg.rule_id = ru.id
                           WHERE tg.symbol = k.symbol AND tg.resolution = k.resolution
                           ORDER BY ru.id);
            -- The feeds serving the series: their poll interval is how late
            -- their bars may land, and a poll of one of them that succeeded
            -- the grace after a bar's end has brought its final values (a
            -- paused or failing feed has not: the bar it left forming waits).
            SELECT coalesce(max(f.poll_every), interval '0'), count(*) > 0,
                   max(fs.last_success) FILTER (WHERE NOT f.paused)
              INTO poll, fed, success
            FROM stockext.feeds f
            LEFT JOIN stockext.feed_state fs ON fs.feed_id = f.id
            WHERE f.resolution = k.resolution AND k.symbol = ANY (f.symbols);
        END IF;
        -- A bar deleted since, or no longer watched (its rules removed or
        -- paused while it waited): nothing to evaluate.
        stored := coalesce(k.stored, EXISTS (SELECT 1 FROM stockext.ticks t
                                             WHERE t.symbol = k.symbol AND t.resolution = k.resolution AND t.ts = k.ts));
        IF NOT stored OR cardinality(rules) = 0 THEN
            IF dist AND k.holds THEN
                DELETE FROM stockext.alert_queue q
                WHERE q.symbol = k.symbol AND q.resolution = k.resolution AND q.ts = k.ts AND q.waiting;
            ELSIF k.holds THEN
                DELETE FROM stockext.alert_queue q WHERE q.ctid = ANY (k.held);
            END IF;
            CONTINUE;
        END IF;
        -- Closed (see above): written late, polled since, or followed.
        closed := k.landed >= k.ts + k.resolution + cfg.close_grace
                  OR coalesce(CASE WHEN fed THEN success ELSE now() END >= k.ts + k.resolution + cfg.close_grace,
                              false)
                  OR EXISTS (SELECT 1 FROM stockext.ticks t
                             WHERE t.symbol = k.symbol AND t.resolution = k.resolution AND t.ts > k.ts);
        IF closed AND dist AND k.holds THEN
            DELETE FROM stockext.alert_queue q
            WHERE q.symbol = k.symbol AND q.resolution = k.resolution AND q.ts = k.ts AND q.waiting;
        ELSIF closed AND k.holds THEN
            DELETE FROM stockext.alert_queue q WHERE q.ctid = ANY (k.held);
        ELSIF NOT closed THEN
            waiting := waiting + 1;
            -- Unchanged since on_forming rules saw it: nothing to do yet.
            CONTINUE WHEN k.seen;
            IF NOT k.holds THEN
                INSERT INTO stockext.alert_queue (symbol, resolution, ts, landed_at, waiting)
                VALUES (k.symbol, k.resolution, k.ts, k.landed, true);
            ELSIF dist THEN
                UPDATE stockext.alert_queue q SET landed_at = k.landed
                WHERE q.symbol = k.symbol AND q.resolution = k.resolution AND q.ts = k.ts AND q.waiting;
            ELSE
                UPDATE stockext.alert_queue q SET landed_at = k.landed WHERE q.ctid = ANY (k.held);
            END IF;
        END IF;
        late := false;
        FOREACH r IN ARRAY rules LOOP
            CONTINUE WHEN NOT (closed OR r.on_forming);
            IF NOT r.on_history
               AND k.landed > k.ts + k.resolution
                              + coalesce(r.max_age, poll + cfg.close_grace + cfg.max_age_bars * k.resolution) THEN
                late := true;
                CONTINUE;
            END IF;
            -- Cooldown in bar time: no two alerts of a rule and symbol
            -- whose bars are closer than it (late bars included).  A bar
            -- that fired while forming does not fire again once closed.
            CONTINUE WHEN EXISTS (
                SELECT FROM stockext.alerts p
                WHERE p.rule_id = r.id AND p.symbol = k.symbol
                  AND (p.bar_ts = k.ts OR (p.bar_ts > k.ts - r.cooldown AND p.bar_ts < k.ts + r.cooldown)));
            chk := stockext.alert_check(r, k.symbol, k.ts);
            CONTINUE WHEN NOT chk.fires;
            INSERT INTO stockext.alerts (kind, rule_id, feed_id, symbol, resolution, bar_ts, observed,
                                         message, delivery, next_attempt_at, forming)
            VALUES ('alert', r.id, r.feed_id, k.symbol, k.resolution, k.ts, chk.observed,
                    format('%s %s bar of %s UTC%s: %s', k.symbol, stockext.resolution_label(k.resolution),
                           to_char(k.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
                           CASE WHEN closed THEN '' ELSE ' (still forming)' END, chk.what),
                    CASE WHEN EXISTS (SELECT FROM stockext.webhooks w WHERE w.rule_id = r.id)
                         THEN 'pending' ELSE 'none' END,
                    now(), NOT closed)
            ON CONFLICT ON CONSTRAINT alerts_once_per_bar DO NOTHING;
            IF FOUND THEN
                fired := fired + 1;
            END IF;
        END LOOP;
        IF late THEN
            stale := stale + 1;
        END IF;
    END LOOP;
    CLOSE claim;
    FOR a IN
        WITH announced AS (UPDATE stockext.alerts SET notified_at = now()
                           WHERE notified_at IS NULL RETURNING *)
        SELECT * FROM announced ORDER BY id
    LOOP
        PERFORM pg_notify('stockext_alerts', json_build_object(
            'id', a.id, 'kind', a.kind, 'rule', a.rule_id, 'feed', a.feed_id,
            'symbol', a.symbol, 'resolution', stockext.resolution_label(a.resolution), 'bar_ts', to_char(a.bar_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'forming', a.forming, 'observed', a.observed, 'message', a.message)::text);
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.evaluate_alerts(integer) IS
'evaluates the queued bars (at most max_bars queue rows, oldest first; NULL: all) against the alert rules, stores the alerts that fire and sends NOTIFY stockext_alerts for them and for new feed events; returns the alerts fired, the bars skipped as history by some rule (stale) and the bars left queued until they close (waiting); the worker calls it every round';
REVOKE ALL ON FUNCTION stockext.evaluate_alerts(integer) FROM PUBLIC;

-- The (symbol, resolution) series some active alert rule watches, on a
-- Citus node: the triggers of the shards of ticks there queue the bars of
-- these series (stockext.alert_enqueue()), since the rules are on the
-- coordinator alone.  Filled by stockext.copy_alert_series(); empty where
-- stockext is not distributed.
CREATE TABLE stockext.alert_series (
    symbol     text     NOT NULL,
    resolution interval NOT NULL,
    PRIMARY KEY (symbol, resolution)
);
COMMENT ON TABLE stockext.alert_series IS
'internal: on a Citus node, the (symbol, resolution) series the coordinator''s active alert rules watch, whose bars the shards of ticks queue';
REVOKE ALL ON stockext.alert_series FROM PUBLIC;

-- The watched series as the statements that give a node's own
-- stockext.alert_series the coordinator's.
CREATE FUNCTION stockext.alert_series_copy_sql()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT 'DELETE FROM stockext.alert_series'
           || CASE WHEN count(*) > 0
                   THEN '; INSERT INTO stockext.alert_series (symbol, resolution) VALUES '
                        || string_agg(format('(%L, %L)', w.symbol, w.resolution), ', '
                                      ORDER BY w.symbol, w.resolution)
                   ELSE '' END
    FROM (SELECT DISTINCT a.symbol, a.resolution FROM stockext.alert_targets a) w;
END;
COMMENT ON FUNCTION stockext.alert_series_copy_sql() IS
'internal: the statements that give a Citus node''s stockext.alert_series the series this node''s active alert rules watch';
REVOKE ALL ON FUNCTION stockext.alert_series_copy_sql() FROM PUBLIC;

-- Copies the watched series to the coordinator's own alert_series (it may
-- hold shards) and to every worker's, in the calling transaction (Citus
-- commits the workers' copies with it).  Run by distribute() and, through
-- stockext.alert_series_sync(), after every change of the rules or of the
-- symbols and resolution of the feeds.  SECURITY DEFINER: whoever may
-- change a rule updates the copies, without rights on the nodes.
CREATE FUNCTION stockext.copy_alert_series()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    copy text := stockext.alert_series_copy_sql();
BEGIN
    EXECUTE copy;
    PERFORM stockext.run_on_workers(copy, 'copying the watched series to the Citus workers');
END
$$;
COMMENT ON FUNCTION stockext.copy_alert_series() IS
'internal: gives this node''s and every Citus worker''s stockext.alert_series the series the active alert rules watch';
REVOKE ALL ON FUNCTION stockext.copy_alert_series() FROM PUBLIC;

-- Keeps the nodes' watched series in step on a distributed coordinator.
CREATE FUNCTION stockext.alert_series_sync()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF stockext.is_distributed() THEN
        PERFORM stockext.copy_alert_series();
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.alert_series_sync() IS
'trigger: on a distributed coordinator, copies the watched series to the nodes after the alert rules or the feeds'' symbols changed';

CREATE TRIGGER alert_series_sync AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stockext.alert_rules
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.alert_series_sync();
CREATE TRIGGER alert_series_sync AFTER UPDATE OF symbols, resolution ON stockext.feeds
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.alert_series_sync();

-- Distributes stockext over the Citus cluster this database's coordinator
-- leads.  stockext.ticks and the tables that follow its bars are hash
-- distributed by symbol and co-located, so a symbol's bars, rollups,
-- pending invalidations, newest bar and bars queued for the alert rules
-- lie in one group of shards on one node: ticks (with its partitions),
-- rollups (with the table of each width), rollup_invalidations,
-- latest_ticks and alert_queue.  Everything else stays on the coordinator,
-- where the ingestion worker, the alert rules and alerts, NOTIFY, the
-- webhooks and pg_cron run; the workers get copies of the widths and of
-- the series the rules watch, and corporate_actions becomes a reference
-- table (a copy on every node, written through the coordinator).
-- The triggers of ticks run on the shards (Citus copies them when
-- citus.enable_unsafe_triggers is on, which is set for this call only) and
-- write into the co-located shards.
CREATE OR REPLACE FUNCTION stockext.distribute(shard_count integer DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.enable_unsafe_triggers = on
SET client_min_messages = warning
AS $$
DECLARE
    rel   text;
    added text[];
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension e WHERE e.extname = 'citus') THEN
        RAISE EXCEPTION 'Citus is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Run CREATE EXTENSION citus on the coordinator, add the workers with citus_add_node(), then stockext.distribute().';
    END IF;
    IF NOT pg_catalog.citus_is_coordinator() THEN
        RAISE EXCEPTION 'stockext.distribute() must run on the Citus coordinator'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Set the coordinator with citus_set_coordinator_host() and call stockext.distribute() there.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.citus_get_active_worker_nodes()) THEN
        RAISE EXCEPTION 'the Citus cluster has no workers'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add them with citus_add_node() first.';
    END IF;
    IF stockext.is_distributed() THEN
        RAISE EXCEPTION 'stockext is already distributed'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF shard_count IS NOT NULL AND shard_count < 1 THEN
        RAISE EXCEPTION 'shard_count must be at least 1, not %', shard_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM stockext.copy_rollup_widths();
    PERFORM stockext.copy_alert_series();
    -- Citus expects an extension's tables on every node, but the table of
    -- a width added since CREATE EXTENSION is on the coordinator alone: it
    -- leaves the extension while Citus distributes it (and makes it on the
    -- workers), and comes back.
    SELECT array_agg(c.relname) INTO added
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'stockext.rollups'::regclass
      AND EXISTS (SELECT 1 FROM pg_catalog.run_command_on_workers(format('SELECT to_regclass(%L) IS NULL',
                                                                         format('stockext.%I', c.relname))) r
                  WHERE r.result = 't');
    FOREACH rel IN ARRAY coalesce(added, '{}') LOOP
        EXECUTE format('ALTER EXTENSION stockext DROP TABLE stockext.%I', rel);
    END LOOP;
    PERFORM pg_catalog.create_distributed_table('stockext.ticks', 'symbol',
                                                shard_count => coalesce(shard_count, current_setting('citus.shard_count')::integer));
    FOREACH rel IN ARRAY ARRAY['rollups', 'rollup_invalidations', 'latest_ticks', 'alert_queue'] LOOP
        PERFORM pg_catalog.create_distributed_table(format('stockext.%I', rel)::regclass, 'symbol',
                                                    colocate_with => 'stockext.ticks');
    END LOOP;
    -- Adjusted prices are computed where the bars are, from every node's
    -- placement of the actions (stockext.local_shard()).
    PERFORM pg_catalog.create_reference_table('stockext.corporate_actions');
    FOREACH rel IN ARRAY coalesce(added, '{}') LOOP
        EXECUTE format('ALTER EXTENSION stockext ADD TABLE stockext.%I', rel);
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.distribute(integer) IS
'distributes stockext.ticks and the tables that follow its bars (rollups, rollup_invalidations, latest_ticks, alert_queue) by symbol over the Citus cluster, co-located, and makes corporate_actions a reference table; run on the coordinator after CREATE EXTENSION citus and citus_add_node()';
REVOKE ALL ON FUNCTION stockext.distribute(integer) FROM PUBLIC;

------------------------------------------------------------------------------
-- stockext.gaps reads the bars through functions planned on their own (Citus
-- routes each to its shard)
------------------------------------------------------------------------------

-- The first bar of a series, and the start times of its bars in [lo, hi):
-- functions, whose queries are planned on their own, so that on a Citus
-- cluster each is one query Citus routes to the symbol's shard (it cannot
-- join a local table or a function laterally to a distributed one).
CREATE FUNCTION stockext.series_first(symbol text, resolution interval)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT min(t.ts) FROM stockext.ticks t
            WHERE t.symbol = series_first.symbol AND t.resolution = series_first.resolution);
END
$$;
COMMENT ON FUNCTION stockext.series_first(text, interval) IS
'internal: the start of the first bar of a series in stockext.ticks, NULL when it has none';

CREATE FUNCTION stockext.series_times(symbol text, resolution interval, lo timestamptz, hi timestamptz)
RETURNS SETOF timestamptz
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY SELECT t.ts FROM stockext.ticks t
                 WHERE t.symbol = series_times.symbol AND t.resolution = series_times.resolution
                   AND t.ts >= series_times.lo AND t.ts < series_times.hi;
END
$$;
COMMENT ON FUNCTION stockext.series_times(text, interval, timestamptz, timestamptz) IS
'internal: the starts of the bars of a series in stockext.ticks in [lo, hi)';

-- Bars missing from the sessions of each feed symbol, so that a gap in the
-- data can be told from a holiday (a holiday has no session).  A session
-- expects a bar at each multiple of the resolution from its open (from
-- 1970 for a market that never closes) before its close, once the bar has
-- ended and a poll has had time to fetch it; looked at from the symbol's
-- first bar at the resolution, over the last stockext.max_gap_fill days
-- (those the worker fills itself after a pause).  Intraday feeds with a
-- calendar only: daily bars stand at midnight, not at the open.
-- Per session: the expected bar starts, minus those stored.
CREATE OR REPLACE VIEW stockext.gaps AS
SELECT f.id AS feed_id, sym AS symbol, f.resolution, f.calendar,
       s.open AS session_open, s.close AS session_close,
       count(*) AS missing, min(e.ts) AS first_missing
FROM stockext.feeds f
CROSS JOIN LATERAL unnest(f.symbols) AS sym
CROSS JOIN LATERAL (
    SELECT greatest(now() - make_interval(days => current_setting('stockext.max_gap_fill')::integer),
                    m.first) AS since
    FROM (SELECT stockext.series_first(sym, f.resolution) AS first) m
    WHERE m.first IS NOT NULL
) AS h
CROSS JOIN LATERAL stockext.sessions(f.calendar, h.since, now()) AS s
CROSS JOIN LATERAL (
    SELECT date_bin(f.resolution, greatest(s.open, h.since) - interval '1 microsecond',
                    CASE WHEN isfinite(s.open) THEN s.open ELSE 'epoch' END) + f.resolution AS lo,
           least(s.close, now() - f.poll_every - f.resolution) AS hi
) AS r
CROSS JOIN LATERAL (
    SELECT g.ts FROM generate_series(r.lo, r.hi - interval '1 microsecond', f.resolution) AS g(ts)
    EXCEPT
    SELECT b.ts FROM stockext.series_times(sym, f.resolution, r.lo, r.hi) AS b(ts)
) AS e
WHERE f.calendar IS NOT NULL AND f.resolution < interval '1 day'
GROUP BY f.id, sym, f.resolution, f.calendar, s.open, s.close;
COMMENT ON VIEW stockext.gaps IS
'per feed symbol (intraday feeds with a calendar), the sessions of the last stockext.max_gap_fill days since its first bar whose expected bars are missing: how many, and the first; a holiday has no session, so it is never a gap';
REVOKE ALL ON stockext.gaps FROM PUBLIC;



------------------------------------------------------------------------------
-- Rollups: rollup_bucket() inlined (calendar_trunc); a refresh bins a UTC
-- width's bars without rollup_bucket's tests, aggregates a lone bucket's
-- bars unsorted and finds empty buckets by key probes; the live view and
-- refresh_rollups(), which embed the generated SQL, again.
------------------------------------------------------------------------------

-- date_trunc(unit, ts, time_zone), declared IMMUTABLE (the built-in is
-- STABLE, as time zone rules may change; date_bin's conversions with
-- AT TIME ZONE are IMMUTABLE on the same grounds).  An IMMUTABLE SQL
-- function is inlined only if its body calls nothing less than IMMUTABLE:
-- through this alias rollup_bucket() is, and a bar's bucket costs a few
-- expression steps instead of a call of a SQL function (about 5 us).
CREATE FUNCTION stockext.calendar_trunc(unit text, ts timestamptz, time_zone text)
RETURNS timestamptz
LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE
AS 'timestamptz_trunc_zone';
COMMENT ON FUNCTION stockext.calendar_trunc(text, timestamptz, text) IS
'internal: date_trunc(unit, ts, time_zone), declared IMMUTABLE so that stockext.rollup_bucket() is inlined';

-- The bucket of an instant: date_bin in the width's local time zone, so a
-- session-aligned bucket (origin 09:30, America/New_York) starts at 09:30
-- local on both sides of a DST change; a 1-day bucket in a DST zone lasts
-- 23 or 25 hours on the change days.  In UTC it is plain date_bin on
-- instants (the same result, without two time zone conversions per bar).
-- A calendar width is date_trunc in the time zone (the origin unused): a
-- month of America/New_York starts at its first midnight there.
-- NULL in, NULL out, but not declared STRICT: PostgreSQL inlines a SQL
-- function into the calling query only if its body is as strict as the
-- declaration, and a CASE is not provably strict; nor as volatile, hence
-- calendar_trunc() for the STABLE date_trunc() in a time zone.
CREATE OR REPLACE FUNCTION stockext.rollup_bucket(ts timestamptz, width interval,
                                       origin timestamp, time_zone text)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN stockext.calendar_unit(width) IS NOT NULL
            THEN stockext.calendar_trunc(stockext.calendar_unit(width), ts, time_zone)
            WHEN time_zone = 'UTC' THEN date_bin(width, ts, origin AT TIME ZONE 'UTC')
            ELSE date_bin(width, ts AT TIME ZONE time_zone, origin) AT TIME ZONE time_zone END;
COMMENT ON FUNCTION stockext.rollup_bucket(timestamptz, interval, timestamp, text) IS
'start of the bucket of the given width holding ts: date_bin(width, ts in time_zone, origin) converted back to an instant; for a calendar width (1 month, 3 months, 1 year) date_trunc(field, ts, time_zone)';

-- The rollup rows of a set of (symbol, width, bucket) keys, the relation
-- named by keys, in stockext.rollups column order; a key whose bucket has
-- no bars yields no row.  Runs of consecutive buckets of a symbol and width
-- are read with one index range scan each (CROSS JOIN LATERAL, whatever
-- the planner estimates): an append of new bars is a few long scans, late
-- bars scattered over the history are many short ones.  Buckets are
-- counted in local time, where consecutive ones lie exactly one width
-- apart (months included; in absolute time months and DST days differ in
-- length, and runs told apart by absolute spans could overlap and yield a
-- bucket twice).  A run ends where its last bucket does in local time (a
-- calendar month's own length).  OFFSET 0 keeps the planner from joining
-- the keys in before the scans, which would repeat each run's scan once
-- per key of its symbol and width.  The bucket of a bar of a UTC width
-- that is not a calendar one is rollup_bucket()'s date_bin() alone, its
-- tests done once per run (p) rather than once per bar; and a run of one
-- such bucket (a late bar's) is exactly the bars from its start to its
-- end, aggregated as they come from the index (grouped by the symbol
-- alone, which they share) instead of sorted by their bucket first: the
-- same rows in the same order, a quarter less time.
CREATE OR REPLACE FUNCTION stockext.rollup_fresh_sql(keys text, ticks text DEFAULT 'stockext.ticks')
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
                   k.bucket AT TIME ZONE w.time_zone
                   - w.width * row_number() OVER (PARTITION BY k.symbol, k.width ORDER BY k.bucket) AS run
            FROM %1$s k JOIN stockext.rollup_widths w ON w.width = k.width) x
      GROUP BY symbol, width, run) r
JOIN stockext.rollup_widths w ON w.width = r.width
CROSS JOIN LATERAL (SELECT stockext.calendar_unit(w.width) IS NULL AND w.time_zone = 'UTC' AS utc,
                           w.origin AT TIME ZONE 'UTC' AS utc_origin OFFSET 0) p
CROSS JOIN LATERAL (
    SELECT r.lo AS bucket, %2$s, %3$s
    FROM %4$s s
    WHERE p.utc AND r.lo = r.hi
      AND s.symbol = r.symbol AND s.resolution = w.source_resolution
      AND s.ts >= r.lo AND s.ts < (r.lo AT TIME ZONE 'UTC' + w.width) AT TIME ZONE 'UTC'
    GROUP BY s.symbol
    UNION ALL
    SELECT CASE WHEN p.utc THEN date_bin(w.width, s.ts, p.utc_origin)
                ELSE stockext.rollup_bucket(s.ts, w.width, w.origin, w.time_zone) END, %2$s, %3$s
    FROM %4$s s
    WHERE NOT (p.utc AND r.lo = r.hi)
      AND s.symbol = r.symbol AND s.resolution = w.source_resolution
      AND s.ts >= r.lo - w.slack
      AND s.ts < (r.hi AT TIME ZONE w.time_zone + w.width) AT TIME ZONE w.time_zone + w.slack
    GROUP BY s.symbol, 1) b
WHERE b.bucket BETWEEN r.lo AND r.hi
OFFSET 0) f
WHERE (f.symbol, f.width, f.bucket) IN (SELECT k.symbol, k.width, k.bucket FROM %1$s k)
$sql$, keys, stockext.rollup_select_list(), stockext.rollup_metrics_select_list(), ticks);
COMMENT ON FUNCTION stockext.rollup_fresh_sql(text, text) IS
'internal: the query computing from the bars ticks (stockext.ticks or a shard of it) the rollup rows of the (symbol, width, bucket) keys in the relation keys';
REVOKE ALL ON FUNCTION stockext.rollup_fresh_sql(text, text) FROM PUBLIC;

-- Real-time rollups: the rolled-up rows of every width whose bucket has no
-- pending invalidation, plus the pending buckets computed now, as the next
-- refresh will: appended bars merged into the stored states, the other
-- buckets from the ticks.  Reads one snapshot, in which a refresh's claim
-- and its upserts are either both visible or neither.
DO $do$
BEGIN
    EXECUTE format($v$
CREATE OR REPLACE VIEW stockext.rollups_live AS
WITH merged AS (%s)
SELECT r.symbol, r.bucket, r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.width,
       r.candle, r.returns, r.close_moments
FROM stockext.rollups r
WHERE NOT EXISTS (SELECT 1 FROM stockext.rollup_invalidations i
                  WHERE i.width = r.width AND i.symbol = r.symbol AND i.bucket = r.bucket)
UNION ALL
SELECT * FROM merged
UNION ALL
%s$v$, stockext.rollup_merged_sql('stockext.rollup_invalidations'),
       stockext.rollup_fresh_sql('(SELECT DISTINCT i.symbol, i.width, i.bucket FROM stockext.rollup_invalidations i
                                   WHERE NOT EXISTS (SELECT 1 FROM merged m
                                                     WHERE m.width = i.width AND m.symbol = i.symbol AND m.bucket = i.bucket))'));
END
$do$;
COMMENT ON VIEW stockext.rollups_live IS
'stockext.rollups with the buckets not refreshed yet computed from stockext.ticks: always current';
REVOKE ALL ON stockext.rollups_live FROM PUBLIC;

-- The statement of a refresh over the bars ticks, the rollups rollups and
-- the invalidations invalidations (the tables, or co-located shards of
-- them on a Citus node): claims every pending invalidation (DELETE ...
-- RETURNING, so a key written by a transaction still in progress stays for
-- the next refresh), re-aggregates exactly those (symbol, width, bucket)
-- keys from the bars in the same snapshot, upserts them (rewriting only
-- rows whose values changed) and deletes the buckets that have no bars
-- left.  Buckets whose bars were only appended since are not
-- re-aggregated: the new bars are merged into their stored states
-- (rollup_merged_sql).  Its one row is (keys claimed, rows written, empty
-- buckets deleted).  The empty buckets are found by one probe of the key
-- of rollups per claimed key, whatever the planner estimates: their key
-- columns are compared by >= and <= (the same as = in the deterministic
-- collation and the total orders of the key's types), which no hash or
-- merge join can take; with = and the claims estimated from the
-- invalidations' statistics (often thousands of rows from an earlier
-- append), it chose a merge join that sorted every rollup row: 76 of the
-- 211 ms of a refresh after 100 late bars at 1M bars.
CREATE OR REPLACE FUNCTION stockext.rollup_refresh_sql(ticks text, rollups text, invalidations text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
WITH claimed AS (
    DELETE FROM %3$s RETURNING symbol, width, bucket, since
), merged AS (%4$s
), keys AS (
    SELECT DISTINCT c.symbol, c.width, c.bucket FROM claimed c
    WHERE NOT EXISTS (SELECT FROM merged m WHERE m.width = c.width AND m.symbol = c.symbol AND m.bucket = c.bucket)
), fresh AS (%5$s
), upserted AS (
    INSERT INTO %2$s AS r SELECT * FROM fresh UNION ALL SELECT * FROM merged
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
    DELETE FROM %2$s r USING keys k
    WHERE r.width >= k.width AND r.width <= k.width AND r.symbol >= k.symbol AND r.symbol <= k.symbol
      AND r.bucket >= k.bucket AND r.bucket <= k.bucket
      AND NOT EXISTS (SELECT FROM fresh f
                      WHERE f.width = k.width AND f.symbol = k.symbol AND f.bucket = k.bucket)
    RETURNING 1
)
SELECT (SELECT count(*) FROM keys) + (SELECT count(*) FROM merged), (SELECT count(*) FROM upserted),
       (SELECT count(*) FROM emptied)
$sql$, ticks, rollups, invalidations, stockext.rollup_merged_sql('claimed', ticks, rollups),
    stockext.rollup_fresh_sql('keys', ticks));
COMMENT ON FUNCTION stockext.rollup_refresh_sql(text, text, text) IS
'internal: the statement refreshing the rollups rollups from the bars ticks through the invalidations invalidations (the tables, or co-located shards of them); returns (keys claimed, rows written, empty buckets deleted)';
REVOKE ALL ON FUNCTION stockext.rollup_refresh_sql(text, text, text) FROM PUBLIC;

-- First recomputes the widths a restore loaded (rollup_rebuilds), then
-- runs the refresh statement above over the tables: one statement,
-- grouped by symbol and bucket.  With stockext distributed over a Citus
-- cluster (stockext.distribute()) each node runs it over each group of
-- co-located shards it holds instead (refresh_local_shards), so a shard's
-- bars never leave its node.  JIT off: the statement is many small index
-- range scans whose cost the planner cannot know beforehand, and compiling
-- it costs seconds.  Created through format() so that the statement is
-- static and its plan cached.
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
    IF stockext.is_distributed() THEN
        SELECT * INTO buckets, upserted, deleted FROM stockext.refresh_rollup_shards();
        RETURN;
    END IF;
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
%s
    INTO buckets, upserted, deleted;
    upserted := upserted + rebuilt;
END
$$
$f$, stockext.rollup_refresh_sql('stockext.ticks', 'stockext.rollups', 'stockext.rollup_invalidations'));
END
$do$;
COMMENT ON FUNCTION stockext.refresh_rollups() IS
'recomputes the widths a restore loaded, then re-aggregates the (symbol, width, bucket) keys invalidated since the last refresh; returns how many keys it claimed, rows it wrote and empty buckets it deleted';
REVOKE ALL ON FUNCTION stockext.refresh_rollups() FROM PUBLIC;

-- Every width keeps its rows' candle and close_moments, and a refresh
-- merges single late bars into them (the invalidations' column bars),
-- in a first statement of its own.  The widths with rows written before,
-- without states, wait in rollup_rebuilds: the next refresh recomputes
-- them, as it does a restore's (until then their buckets are recomputed,
-- not merged into).
ALTER TABLE stockext.rollup_invalidations ADD COLUMN bars integer;
INSERT INTO stockext.rollup_rebuilds (width)
SELECT w.width FROM stockext.rollup_widths w
WHERE EXISTS (SELECT FROM stockext.rollups r
              WHERE r.width = w.width AND (r.candle IS NULL OR r.close_moments IS NULL))
ON CONFLICT DO NOTHING;
COMMENT ON COLUMN stockext.rollup_invalidations.bars IS
'how many bars the statement inserted into the bucket; NULL when it updated or deleted bars';

-- Calendar widths: 1 month, 3 months (a quarter) and 1 year, which date_bin
-- cannot bin (months differ in length); NULL for any other width.
CREATE OR REPLACE FUNCTION stockext.calendar_unit(width interval)
RETURNS text
AS 'MODULE_PATHNAME', 'stockext_calendar_unit'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.calendar_unit(interval) IS
'the date_trunc field of a calendar width: month (1 month), quarter (3 months), year (1 year); NULL for other widths';

-- The bucket of an instant: date_bin in the width's local time zone, so a
-- session-aligned bucket (origin 09:30, America/New_York) starts at 09:30
-- local on both sides of a DST change; a 1-day bucket in a DST zone lasts
-- 23 or 25 hours on the change days.  In UTC it is plain date_bin on
-- instants (the same result, without two time zone conversions per bar).
-- A calendar width is date_trunc in the time zone (the origin unused): a
-- month of America/New_York starts at its first midnight there.  In C
-- (src/bucket.c): a SQL body is inlined into each caller, and the planner
-- copied it into the scan of every monthly partition of ticks.  IMMUTABLE,
-- as date_bin's conversions with AT TIME ZONE are (time zone rules are
-- taken as fixed; PostgreSQL's date_trunc in a time zone is STABLE).
CREATE OR REPLACE FUNCTION stockext.rollup_bucket(ts timestamptz, width interval,
                                       origin timestamp, time_zone text)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'stockext_rollup_bucket'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.rollup_bucket(timestamptz, interval, timestamp, text) IS
'start of the bucket of the given width holding ts: date_bin(width, ts in time_zone, origin) converted back to an instant; for a calendar width (1 month, 3 months, 1 year) date_trunc(field, ts, time_zone)';
DROP FUNCTION stockext.calendar_trunc(text, timestamptz, text);

COMMENT ON COLUMN stockext.rollups.candle IS 'the bucket''s stockext.candle (exact vwap, count and high_time()/low_time()), rolled up with rollup(candle); a refresh merges new bars into it';
COMMENT ON COLUMN stockext.rollups.close_moments IS 'the moments of the closes (avg_close = sma_final(close_moments)); a refresh merges new bars into them';

-- The select list that turns bars s (grouped by width, symbol and bucket)
-- into rollup rows, in stockext.rollups column order: shared by the
-- refresh, the rebuild, the live view and stockext.bars().  The identical
-- candle() calls share one transition state; the mean close is the one
-- column a candle lacks, taken from the moments of the closes, whose
-- compensated sums (unlike avg's) do not depend on the order the bars are
-- read in, so a refresh, a rebuild and the live view agree to the last
-- bit.  The moments keep the first close they add as the offset of their
-- sums: added in ts order, that is the bucket's earliest bar's, so the
-- state itself is the same whichever way it was computed.
CREATE OR REPLACE FUNCTION stockext.rollup_select_list()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN stockext.rollup_columns_sql('stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume)',
                                   'stockext.sma_final(stockext.moments(s.close ORDER BY s.ts))');
COMMENT ON FUNCTION stockext.rollup_select_list() IS
'internal: the aggregate select list computing a rollup row (open .. n) from rows s of stockext.rollup_source';

-- The select list of the metric states (candle, returns, close_moments),
-- for rows s of a width w.  Every width keeps the candle and the moments
-- of the closes, into which a refresh merges new bars (rollup_merged_sql);
-- the returns come with the metric volatility (other widths store NULL,
-- and log_returns sorts no rows for them).  The candle() and the moments
-- share their transition states with rollup_select_list()'s.  seeds, when
-- not NULL, names a relation holding a stored row's states, which the
-- seeded aggregates continue with the rows s (in any order: the stored
-- moments have their offset already).
CREATE OR REPLACE FUNCTION stockext.rollup_metrics_select_list(seeds text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN format($sql$
       stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume%1$s) AS candle,
       stockext.log_returns(s.ts, s.close%2$s ORDER BY s.ts) FILTER (WHERE 'volatility' = ANY (w.metrics)) AS returns,
       stockext.moments(s.close%3$s%4$s) AS close_moments
$sql$, ', ' || seeds || '.candle', ', ' || seeds || '.returns', ', ' || seeds || '.close_moments',
    CASE WHEN seeds IS NULL THEN ' ORDER BY s.ts' ELSE '' END);
COMMENT ON FUNCTION stockext.rollup_metrics_select_list(text) IS
'internal: the aggregate select list computing the metric states (candle, returns, close_moments) of a rollup row from rows s of a width w, continuing those of the relation seeds when given';
REVOKE ALL ON FUNCTION stockext.rollup_metrics_select_list(text) FROM PUBLIC;

-- The rollup rows of the buckets whose new bars are known one by one, from
-- the relation invalidations of (symbol, width, bucket, since, bars) keys:
-- a bucket whose stored row has states (candle, close_moments) and whose
-- keys all come from INSERTs, each of bars after the stored last bar
-- ((candle).last_ts) or of a single bar (bars = 1: the bar at since).  The
-- bars after the stored last one but the single ones are read by a short
-- index range scan, the single ones by one from the first to the last of
-- them: one bar when the bucket has one, at most the bucket's bars when it
-- has several.  (Given the list of their ts alone, the planner used it as
-- a filter on all the symbol's bars where statistics were missing; so did
-- a join with it, which Citus refuses in the live view anyway.)  The
-- seeded aggregates add them to the stored states.  A candle's fold does
-- not depend on the order of its bars, nor do the compensated sums of the
-- closes' moments around their offset, the close of the bucket's earliest
-- bar: a single bar before that one changes the offset, and its bucket is
-- recomputed.  The returns of the metric volatility follow the bars'
-- order, so a width with it takes only appended bars and recomputes a
-- bucket with an earlier one.  It is exact because a stored row covers
-- every bar of its bucket that the statement writing it could see, and
-- every later bar comes with a key of its own, committed with it: an
-- appended bar committed late with an earlier ts (a concurrent ingester's)
-- is a single bar of its own statement, or has a since before the stored
-- last bar and makes its bucket recomputed (rebuild_rollups, which writes
-- rows and claims keys in two statements, turns the keys it leaves into
-- recomputes).  A bar farther than slack (which bounds DST shifts) from
-- both ends of the bucket lies in it: only the bars near its ends pay for
-- rollup_bucket(), whose time zone conversions cost more than the
-- aggregates.  OFFSET 0 computes the bucket's end once.
CREATE OR REPLACE FUNCTION stockext.rollup_merged_sql(invalidations text, ticks text DEFAULT 'stockext.ticks',
                                            rollups text DEFAULT 'stockext.rollups')
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
SELECT k.symbol, k.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.avg_close, b.n, k.width,
       b.candle, b.returns, b.close_moments
FROM (SELECT i.symbol, i.width, i.bucket, min(i.since) AS since,
             min(i.since) FILTER (WHERE i.bars IS DISTINCT FROM 1) AS since_many,
             array_agg(i.since) FILTER (WHERE i.bars = 1) AS singles,
             min(i.since) FILTER (WHERE i.bars = 1) AS first_single,
             max(i.since) FILTER (WHERE i.bars = 1) AS last_single
      FROM %1$s i
      GROUP BY i.symbol, i.width, i.bucket HAVING count(i.since) = count(*)) k
JOIN %5$s r ON r.width = k.width AND r.symbol = k.symbol AND r.bucket = k.bucket
JOIN stockext.rollup_widths w ON w.width = k.width
CROSS JOIN LATERAL (SELECT (k.bucket AT TIME ZONE w.time_zone + w.width) AT TIME ZONE w.time_zone AS stop,
                           (r.candle).last_ts AS last OFFSET 0) e
CROSS JOIN LATERAL (
    SELECT %2$s, %3$s
    FROM (SELECT s.symbol, s.ts, s.open, s.high, s.low, s.close, s.volume
          FROM %4$s s
          WHERE s.symbol = k.symbol AND s.resolution = w.source_resolution
            AND s.ts > e.last AND s.ts < e.stop + w.slack
            AND (s.ts >= k.bucket + w.slack AND s.ts < e.stop - w.slack
                 OR stockext.rollup_bucket(s.ts, w.width, w.origin, w.time_zone) = k.bucket)
            AND (k.singles IS NULL OR s.ts <> ALL (k.singles))
          UNION ALL
          SELECT s.symbol, s.ts, s.open, s.high, s.low, s.close, s.volume
          FROM %4$s s
          WHERE s.symbol = k.symbol AND s.resolution = w.source_resolution
            AND s.ts >= k.first_single AND s.ts <= k.last_single AND s.ts = ANY (k.singles)) s
    GROUP BY s.symbol) b
WHERE e.last IS NOT NULL AND r.close_moments IS NOT NULL
  AND (k.since_many IS NULL OR k.since_many > e.last)
  AND (k.first_single IS NULL OR k.first_single > (r.candle).first_ts)
  AND (k.since > e.last OR 'volatility' <> ALL (w.metrics))
$sql$, invalidations,
    stockext.rollup_columns_sql('stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume, r.candle)',
                                'stockext.sma_final(stockext.moments(s.close, r.close_moments))'),
    stockext.rollup_metrics_select_list('r'), ticks, rollups);
COMMENT ON FUNCTION stockext.rollup_merged_sql(text, text, text) IS
'internal: the query merging into their stored states (in rollups: stockext.rollups or a shard of it) the bars of ticks that the (symbol, width, bucket, since, bars) keys in the relation invalidations name one by one: appended after the stored bars, or single';
REVOKE ALL ON FUNCTION stockext.rollup_merged_sql(text, text, text) FROM PUBLIC;

-- Records the buckets a statement on stockext.ticks touched, with the
-- earliest bar an INSERT added to each, in the relation invalidations.
-- Statement level with transition tables: one INSERT ... SELECT per
-- statement, whatever its size.  Rows an upsert's WHERE ... IS DISTINCT
-- FROM left alone are in no transition table, so unchanged re-polls
-- invalidate nothing.
CREATE OR REPLACE FUNCTION stockext.ticks_invalidate_sql(op text, invalidations text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE op
    WHEN 'INSERT' THEN format($sql$
        INSERT INTO %s (symbol, width, bucket, since, bars)
        SELECT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone), min(r.ts), count(*)
        FROM new_rows r JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution
        GROUP BY 1, 2, 3$sql$, invalidations)
    WHEN 'DELETE' THEN format($sql$
        INSERT INTO %s (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM old_rows r JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution$sql$, invalidations)
    ELSE format($sql$
        INSERT INTO %s (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM (SELECT symbol, ts, resolution FROM old_rows
              UNION ALL
              SELECT symbol, ts, resolution FROM new_rows) r
        JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution$sql$, invalidations) END;
COMMENT ON FUNCTION stockext.ticks_invalidate_sql(text, text) IS
'internal: the statement a trigger on stockext.ticks (or a shard of it) runs for a statement op (INSERT, UPDATE, DELETE) to record the keys it changed in invalidations';
REVOKE ALL ON FUNCTION stockext.ticks_invalidate_sql(text, text) FROM PUBLIC;

-- The trigger: the statements above, static (planned once) on
-- stockext.ticks.  Fired on a shard of ticks on a Citus node, it records
-- the keys in the co-located shard of rollup_invalidations: a statement of
-- Citus's naming the distributed table from inside a shard's trigger
-- could not see the transition tables.  SECURITY DEFINER: whoever may
-- write bars records their invalidations, without rights on the log
-- itself.
DO $do$
BEGIN
    EXECUTE format($f$
CREATE OR REPLACE FUNCTION stockext.ticks_invalidate()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'stockext.ticks'::regclass THEN
        EXECUTE stockext.ticks_invalidate_sql(TG_OP, stockext.colocated_shard('stockext.rollup_invalidations', TG_RELID)::text);
    ELSIF TG_OP = 'INSERT' THEN %s;
    ELSIF TG_OP = 'DELETE' THEN %s;
    ELSE %s;
    END IF;
    RETURN NULL;
END
$$
$f$, stockext.ticks_invalidate_sql('INSERT', 'stockext.rollup_invalidations'),
     stockext.ticks_invalidate_sql('DELETE', 'stockext.rollup_invalidations'),
     stockext.ticks_invalidate_sql('UPDATE', 'stockext.rollup_invalidations'));
END
$do$;
COMMENT ON FUNCTION stockext.ticks_invalidate() IS
'trigger: records the (symbol, width, bucket) keys a statement on stockext.ticks changed in stockext.rollup_invalidations';

-- Real-time rollups: the rolled-up rows of every width whose bucket has no
-- pending invalidation, plus the pending buckets computed now, as the next
-- refresh will: appended bars merged into the stored states, the other
-- buckets from the ticks.  Reads one snapshot, in which a refresh's claim
-- and its upserts are either both visible or neither.
DO $do$
BEGIN
    EXECUTE format($v$
CREATE OR REPLACE VIEW stockext.rollups_live AS
WITH merged AS (%s)
SELECT r.symbol, r.bucket, r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.width,
       r.candle, r.returns, r.close_moments
FROM stockext.rollups r
WHERE NOT EXISTS (SELECT 1 FROM stockext.rollup_invalidations i
                  WHERE i.width = r.width AND i.symbol = r.symbol AND i.bucket = r.bucket)
UNION ALL
SELECT * FROM merged
UNION ALL
%s$v$, stockext.rollup_merged_sql('stockext.rollup_invalidations'),
       stockext.rollup_fresh_sql('(SELECT DISTINCT i.symbol, i.width, i.bucket FROM stockext.rollup_invalidations i
                                   WHERE NOT EXISTS (SELECT 1 FROM merged m
                                                     WHERE m.width = i.width AND m.symbol = i.symbol AND m.bucket = i.bucket))'));
END
$do$;
COMMENT ON VIEW stockext.rollups_live IS
'stockext.rollups with the buckets not refreshed yet computed from stockext.ticks: always current';
REVOKE ALL ON stockext.rollups_live FROM PUBLIC;

-- The upsert of the rollup rows rows into rollups, rewriting only rows
-- whose values changed; one row returned per row written.
CREATE OR REPLACE FUNCTION stockext.rollup_upsert_sql(rollups text, rows_sql text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
    INSERT INTO %1$s AS r %2$s
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
    RETURNING 1$sql$, rollups, rows_sql);
COMMENT ON FUNCTION stockext.rollup_upsert_sql(text, text) IS
'internal: the upsert of the rollup rows of the query rows_sql into rollups, rewriting only rows whose values changed';
REVOKE ALL ON FUNCTION stockext.rollup_upsert_sql(text, text) FROM PUBLIC;

-- A refresh over the bars ticks, the rollups rollups and the invalidations
-- invalidations (the tables, or co-located shards of them on a Citus node)
-- is one statement, or two when some bucket must be re-aggregated.  This
-- first one claims every pending invalidation (DELETE ... RETURNING, so a
-- key written by a transaction still in progress stays for the next
-- refresh), merges the bars that the keys name one by one (appended, or
-- single) into their buckets' stored states (rollup_merged_sql) and
-- upserts those rows.  Its one row is (keys claimed, rows written, and the
-- other claimed keys as arrays of symbols, widths and buckets, NULL when
-- there are none), which rollup_recompute_sql re-aggregates.  Late and
-- appended bars then plan this statement alone, whose planning in a new
-- session (a cron job's) costs half of both's.
CREATE OR REPLACE FUNCTION stockext.rollup_refresh_sql(ticks text, rollups text, invalidations text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
WITH claimed AS (
    DELETE FROM %3$s RETURNING symbol, width, bucket, since, bars
), merged AS (%4$s
), upserted AS (%5$s
), rest AS (
    SELECT DISTINCT c.symbol, c.width, c.bucket FROM claimed c
    WHERE NOT EXISTS (SELECT FROM merged m WHERE m.width = c.width AND m.symbol = c.symbol AND m.bucket = c.bucket)
)
SELECT x.keys + (SELECT count(*) FROM merged), (SELECT count(*) FROM upserted), x.symbols, x.widths, x.buckets
FROM (SELECT count(*) AS keys, array_agg(symbol) AS symbols, array_agg(width) AS widths, array_agg(bucket) AS buckets
      FROM rest) x
$sql$, ticks, rollups, invalidations, stockext.rollup_merged_sql('claimed', ticks, rollups),
    stockext.rollup_upsert_sql(rollups, 'SELECT * FROM merged'));
COMMENT ON FUNCTION stockext.rollup_refresh_sql(text, text, text) IS
'internal: the first statement of a refresh of the rollups rollups from the bars ticks through the invalidations invalidations (the tables, or co-located shards of them): claims the keys and merges the bars they name; returns (keys claimed, rows written, and the keys left to re-aggregate as arrays of symbols, widths and buckets)';
REVOKE ALL ON FUNCTION stockext.rollup_refresh_sql(text, text, text) FROM PUBLIC;

-- The second statement of a refresh: re-aggregates the (symbol, width,
-- bucket) keys of the relation keys (distinct) from the bars, upserts them
-- and deletes the buckets that have no bars left.  Its snapshot is newer
-- than the claim's: the keys of bars committed in between stay pending,
-- and those of these buckets become recomputes (since NULL), as these
-- bars are in the rows written here and must not be merged again.  Its
-- one row is (rows written, empty buckets deleted).  The empty buckets are
-- found by one probe of the key of rollups per key, whatever the planner
-- estimates: their key columns are compared by >= and <= (the same as =
-- in the deterministic collation and the total orders of the key's
-- types), which no hash or merge join can take; with = and the claims
-- estimated from the invalidations' statistics (often thousands of rows
-- from an earlier append), it chose a merge join that sorted every rollup
-- row: 76 of the 211 ms of a refresh after 100 late bars at 1M bars.
CREATE OR REPLACE FUNCTION stockext.rollup_recompute_sql(ticks text, rollups text, invalidations text, keys text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
WITH keys AS (
    SELECT k.symbol, k.width, k.bucket FROM %4$s k
), demoted AS (
    UPDATE %3$s i SET since = NULL, bars = NULL
    FROM keys k
    WHERE i.symbol = k.symbol AND i.width = k.width AND i.bucket = k.bucket AND i.since IS NOT NULL
    RETURNING 1
), fresh AS (%5$s
), upserted AS (%6$s
), emptied AS (
    DELETE FROM %2$s r USING keys k
    WHERE r.width >= k.width AND r.width <= k.width AND r.symbol >= k.symbol AND r.symbol <= k.symbol
      AND r.bucket >= k.bucket AND r.bucket <= k.bucket
      AND NOT EXISTS (SELECT FROM fresh f
                      WHERE f.width = k.width AND f.symbol = k.symbol AND f.bucket = k.bucket)
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted), (SELECT count(*) FROM emptied)
$sql$, ticks, rollups, invalidations, keys, stockext.rollup_fresh_sql('keys', ticks),
    stockext.rollup_upsert_sql(rollups, 'SELECT * FROM fresh'));
COMMENT ON FUNCTION stockext.rollup_recompute_sql(text, text, text, text) IS
'internal: the second statement of a refresh: re-aggregates the (symbol, width, bucket) keys of the relation keys from the bars ticks into the rollups rollups, turning their keys still pending in invalidations into recomputes; returns (rows written, empty buckets deleted)';
REVOKE ALL ON FUNCTION stockext.rollup_recompute_sql(text, text, text, text) FROM PUBLIC;

-- First recomputes the widths a restore loaded (rollup_rebuilds), then
-- runs the refresh statements above over the tables, grouped by symbol
-- and bucket.  With stockext distributed over a Citus cluster
-- (stockext.distribute()) each node runs them over each group of
-- co-located shards it holds instead (refresh_local_shards), so a shard's
-- bars never leave its node.  JIT off: the statements are many small
-- index range scans whose cost the planner cannot know beforehand, and
-- compiling them costs seconds.  Created through format() so that the
-- statements are static and their plans cached.
DO $do$
BEGIN
    EXECUTE format($f$
CREATE OR REPLACE FUNCTION stockext.refresh_rollups(OUT buckets bigint, OUT upserted bigint, OUT deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    w            interval;
    rebuilt      bigint := 0;
    recomputed   bigint;
    rest_symbols text[];
    rest_widths  interval[];
    rest_buckets timestamptz[];
BEGIN
    PERFORM stockext.rollup_lock();
    IF stockext.is_distributed() THEN
        SELECT * INTO buckets, upserted, deleted FROM stockext.refresh_rollup_shards();
        RETURN;
    END IF;
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
%s
    INTO buckets, upserted, rest_symbols, rest_widths, rest_buckets;
    deleted := 0;
    IF rest_symbols IS NOT NULL THEN
%s
        INTO recomputed, deleted;
        upserted := upserted + recomputed;
    END IF;
    upserted := upserted + rebuilt;
END
$$
$f$, stockext.rollup_refresh_sql('stockext.ticks', 'stockext.rollups', 'stockext.rollup_invalidations'),
     stockext.rollup_recompute_sql('stockext.ticks', 'stockext.rollups', 'stockext.rollup_invalidations',
                                   '(SELECT * FROM unnest(rest_symbols, rest_widths, rest_buckets) AS k (symbol, width, bucket))'));
END
$do$;
COMMENT ON FUNCTION stockext.refresh_rollups() IS
'recomputes the widths a restore loaded, then re-aggregates the (symbol, width, bucket) keys invalidated since the last refresh; returns how many keys it claimed, rows it wrote and empty buckets it deleted';
REVOKE ALL ON FUNCTION stockext.refresh_rollups() FROM PUBLIC;

-- Recomputes one width (or all) from scratch.  TRUNCATE: readers of the
-- rollups wait until it commits.  Its claim of the width's keys and its
-- INSERT are two statements, with two snapshots.
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
    -- Keys committed after the claim above may name bars the INSERT read:
    -- merged, those bars would count twice, so they become recomputes.
    UPDATE stockext.rollup_invalidations i SET since = NULL, bars = NULL
    WHERE (rebuild_rollups.width IS NULL OR i.width = rebuild_rollups.width) AND i.since IS NOT NULL;
    RETURN made;
END
$$;
COMMENT ON FUNCTION stockext.rebuild_rollups(interval) IS
'recomputes the rollups of one width, or of all widths when NULL, from stockext.ticks; returns the rows written';
REVOKE ALL ON FUNCTION stockext.rebuild_rollups(interval) FROM PUBLIC;

-- The refresh on one Citus node: the refresh statements over each group
-- of co-located shards of ticks, rollups and rollup_invalidations this
-- node holds, under a lock of its own per group.
CREATE OR REPLACE FUNCTION stockext.refresh_local_shards(OUT buckets bigint, OUT upserted bigint, OUT deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    shard    regclass;
    rollups  text;
    invalids text;
    b        bigint;
    u        bigint;
    r        bigint;
    d        bigint;
    symbols  text[];
    widths   interval[];
    starts   timestamptz[];
BEGIN
    buckets := 0; upserted := 0; deleted := 0;
    FOR shard IN
        SELECT pg_catalog.shard_name('stockext.ticks', s.shardid)::regclass
        FROM pg_catalog.pg_dist_shard s
        JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
        WHERE s.logicalrelid = 'stockext.ticks'::regclass
          AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)
        ORDER BY s.shardid
    LOOP
        PERFORM pg_advisory_xact_lock('stockext.rollups'::regclass::oid::integer, shard::oid::integer);
        rollups := stockext.colocated_shard('stockext.rollups', shard)::text;
        invalids := stockext.colocated_shard('stockext.rollup_invalidations', shard)::text;
        EXECUTE stockext.rollup_refresh_sql(shard::text, rollups, invalids) INTO b, u, symbols, widths, starts;
        IF symbols IS NOT NULL THEN
            EXECUTE stockext.rollup_recompute_sql(shard::text, rollups, invalids,
                                                  '(SELECT * FROM unnest($1, $2, $3) AS k (symbol, width, bucket))')
                INTO r, d USING symbols, widths, starts;
            u := u + r;
            deleted := deleted + d;
        END IF;
        buckets := buckets + b; upserted := upserted + u;
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.refresh_local_shards() IS
'internal: on a Citus node, refreshes the rollups of the shards of stockext.ticks it holds; returns how many keys it claimed, rows it wrote and empty buckets it deleted';
REVOKE ALL ON FUNCTION stockext.refresh_local_shards() FROM PUBLIC;
