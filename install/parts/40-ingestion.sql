------------------------------------------------------------------------------
-- Ingestion: feeds and the worker
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

-- Feeds: what the worker polls.  Provider, symbols and resolution decide the
-- requests; poll_every how often.  API keys live apart in feed_keys, which
-- only superusers can read.
CREATE TABLE stockext.feeds (
    id          serial      PRIMARY KEY,
    provider    text        NOT NULL,
    symbols     text[]      NOT NULL,
    resolution  interval    NOT NULL,
    poll_every  interval    NOT NULL,
    paused      boolean     NOT NULL DEFAULT false,
    seed        bigint      NOT NULL DEFAULT 0,
    keep_raw    boolean     NOT NULL DEFAULT false,
    raw_retention interval  NOT NULL DEFAULT '7 days',
    created_at  timestamptz NOT NULL DEFAULT now(),
    calendar    text        REFERENCES stockext.calendars ON UPDATE CASCADE,
    CONSTRAINT feeds_provider_known CHECK (stockext.provider_known(provider)),
    CONSTRAINT feeds_poll_every_positive CHECK (poll_every > interval '0'),
    CONSTRAINT feeds_symbols_not_empty CHECK (cardinality(symbols) > 0)
);
COMMENT ON TABLE stockext.feeds IS
'market-data feeds polled by the ingestion worker; change them with add_feed, change_feed, pause_feed, resume_feed, remove_feed';
COMMENT ON COLUMN stockext.feeds.seed IS 'seed of the simulated random walk (simulated feeds only)';
COMMENT ON COLUMN stockext.feeds.keep_raw IS 'keep the raw reply of each successful poll in stockext.raw_replies';
COMMENT ON COLUMN stockext.feeds.raw_retention IS 'how long raw replies are kept';
COMMENT ON COLUMN stockext.feeds.calendar IS
'trading calendar of the symbols: the worker polls while it is open, once after each close, and at the next open (NULL: around the clock)';
REVOKE ALL ON stockext.feeds FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.feeds', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.feeds_id_seq', '');

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

CREATE TABLE stockext.feed_keys (
    feed_id integer PRIMARY KEY REFERENCES stockext.feeds ON DELETE CASCADE,
    api_key text    NOT NULL
);
COMMENT ON TABLE stockext.feed_keys IS
'API keys of the feeds; readable by superusers only';
REVOKE ALL ON stockext.feed_keys FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.feed_keys', '');

-- What the worker last did with each feed.  A feed without a row here is
-- due at once.
CREATE TABLE stockext.feed_state (
    feed_id              integer PRIMARY KEY REFERENCES stockext.feeds ON DELETE CASCADE,
    last_poll            timestamptz,
    last_success         timestamptz,
    last_error           timestamptz,
    last_error_message   text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    next_poll_at         timestamptz NOT NULL DEFAULT '-infinity',
    bars_stored          bigint NOT NULL DEFAULT 0,
    skipped_closed       bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE stockext.feed_state IS
'per feed: when it was last polled, last succeeded and failed, its failure streak, when it is due next, and the polls skipped while its market was closed';
REVOKE ALL ON stockext.feed_state FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.feed_state', '');

CREATE TABLE stockext.rejects (
    at         timestamptz NOT NULL DEFAULT now(),
    feed_id    integer,
    source     text        NOT NULL,
    symbol     text,
    ts         timestamptz,
    resolution interval,
    open       double precision,
    high       double precision,
    low        double precision,
    close      double precision,
    volume     bigint,
    reason     text        NOT NULL
);
COMMENT ON TABLE stockext.rejects IS
'bars that failed validation, with the reason; the rest of their batch was stored';
REVOKE ALL ON stockext.rejects FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.rejects', '');
CREATE INDEX rejects_at ON stockext.rejects (at);

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

CREATE TABLE stockext.raw_replies (
    feed_id integer     NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    reply   jsonb       NOT NULL
);
COMMENT ON TABLE stockext.raw_replies IS
'raw reply of each successful poll of the feeds that keep them (keep_raw), for audits and re-parsing; pruned after the feed''s raw_retention';
REVOKE ALL ON stockext.raw_replies FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.raw_replies', '');
CREATE INDEX raw_replies_feed_at ON stockext.raw_replies (feed_id, at);

-- Keeps a raw reply and prunes the feed's replies older than its retention.
CREATE FUNCTION stockext.keep_raw_reply(feed integer, reply text)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO stockext.raw_replies (feed_id, reply) VALUES (feed, reply::jsonb);
    DELETE FROM stockext.raw_replies r
     USING stockext.feeds f
     WHERE f.id = feed AND r.feed_id = feed AND r.at < now() - f.raw_retention;
END;
COMMENT ON FUNCTION stockext.keep_raw_reply(integer, text) IS
'stores a raw provider reply of a feed and drops its replies older than the feed''s raw_retention (used by the worker)';
REVOKE ALL ON FUNCTION stockext.keep_raw_reply(integer, text) FROM PUBLIC;

CREATE TABLE stockext.errors (
    at          timestamptz NOT NULL DEFAULT now(),
    feed_id     integer,
    provider    text        NOT NULL,
    http_status integer,
    message     text        NOT NULL
);
COMMENT ON TABLE stockext.errors IS
'failed polls: when, which feed and provider, the HTTP status if any, and what went wrong';
REVOKE ALL ON stockext.errors FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.errors', '');
CREATE INDEX errors_at ON stockext.errors (at);

-- Resolutions each HTTP provider serves, from the C registry.  The
-- simulated feed serves any whole number of seconds from one second to one
-- week.
CREATE FUNCTION stockext.provider_resolutions(provider text)
RETURNS interval[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT array_agg(i.resolution ORDER BY i.resolution) FROM stockext.provider_intervals() i
        WHERE i.provider = provider_resolutions.provider);
COMMENT ON FUNCTION stockext.provider_resolutions(text) IS
'bar resolutions the provider serves (NULL for the simulated feed, which serves any whole number of seconds up to a week, and for unknown providers)';

-- Raises a clear error for the first thing wrong with a feed definition.
CREATE FUNCTION stockext.check_feed(provider text, symbols text[], resolution interval,
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
COMMENT ON FUNCTION stockext.check_feed(text, text[], interval, interval) IS
'raises invalid_parameter_value naming what is wrong with a feed definition (provider, symbols, resolution, poll interval of at least 1 second)';

-- Raises duplicate_object when another feed of the provider polls one of
-- the symbols at the resolution: both would spend requests on the same bars.
CREATE FUNCTION stockext.check_feed_unique(feed integer, provider text, symbols text[],
                                           resolution interval)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    other integer;
    sym   text;
BEGIN
    SELECT f.id, s INTO other, sym
    FROM stockext.feeds f CROSS JOIN unnest(f.symbols) s
    WHERE f.provider = check_feed_unique.provider AND f.resolution = check_feed_unique.resolution
      AND f.id IS DISTINCT FROM feed AND s = ANY (check_feed_unique.symbols)
    ORDER BY f.id, s LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'symbol "%" already has a feed from provider "%" at resolution "%"',
                        sym, provider, resolution
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('Feed %s polls "%s" at that resolution.', other, sym),
                  HINT = format('Change the symbols of feed %s, or remove it.', other);
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.check_feed_unique(integer, text, text[], interval) IS
'raises duplicate_object when a feed other than feed polls one of the symbols from the provider at the resolution';

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

-- Checks that a feed exists and returns its provider.
CREATE FUNCTION stockext.feed_provider(feed integer)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p text;
BEGIN
    IF feed IS NULL THEN
        RAISE EXCEPTION 'feed must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the id of a feed: SELECT id FROM stockext.feeds.';
    END IF;
    SELECT f.provider INTO p FROM stockext.feeds f WHERE f.id = feed;
    IF p IS NULL THEN
        RAISE EXCEPTION 'feed % does not exist', feed
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN p;
END
$$;
COMMENT ON FUNCTION stockext.feed_provider(integer) IS
'the provider of a feed; raises null_value_not_allowed for NULL and undefined_object when the feed does not exist';

CREATE FUNCTION stockext.set_api_key(feed integer, api_key text)
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

CREATE FUNCTION stockext.pause_feed(feed integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.feed_provider(feed);
    UPDATE stockext.feeds SET paused = true WHERE id = feed;
END
$$;

-- A resumed feed is due at once and starts with a clean failure streak.
CREATE FUNCTION stockext.resume_feed(feed integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.feed_provider(feed);
    UPDATE stockext.feeds SET paused = false WHERE id = feed;
    UPDATE stockext.feed_state
       SET consecutive_failures = 0, next_poll_at = '-infinity'
     WHERE feed_id = feed;
END
$$;

-- Removes the feed, its key and state; its bars, rejects and errors stay.
CREATE FUNCTION stockext.remove_feed(feed integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.feed_provider(feed);
    DELETE FROM stockext.feeds WHERE id = feed;
END
$$;

COMMENT ON FUNCTION stockext.add_feed(text, text[], interval, interval, text, text) IS
'adds a feed polled by the ingestion worker while its calendar is open (default: stockext.default_calendar) and returns its id; symbols are stored in upper case, each polled by one feed per provider and resolution; the key is stored apart, readable by superusers only';
COMMENT ON FUNCTION stockext.set_api_key(integer, text) IS
'sets (or with NULL removes) the API key of a feed';
COMMENT ON FUNCTION stockext.change_feed(integer, text[], interval, interval, bigint, boolean, interval, text) IS
'changes the symbols, resolution, poll interval, simulation seed, raw-reply keeping or calendar of a feed (NULL keeps a value); the feed is due at once';
COMMENT ON FUNCTION stockext.pause_feed(integer) IS 'stops polling a feed until resume_feed';
COMMENT ON FUNCTION stockext.resume_feed(integer) IS 'polls a paused feed again, at once';
COMMENT ON FUNCTION stockext.remove_feed(integer) IS 'removes a feed with its key and state; stored bars stay';
REVOKE ALL ON FUNCTION stockext.add_feed(text, text[], interval, interval, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.set_api_key(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.change_feed(integer, text[], interval, interval, bigint, boolean, interval, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.pause_feed(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.resume_feed(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.remove_feed(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.feed_provider(integer) FROM PUBLIC;

-- Records the outcome of one poll.  A failure is logged in stockext.errors
-- and delays the next poll exponentially: poll_every * 2^failures, at most
-- max_backoff, times a random factor in [0.5, 1) so that feeds failing
-- together do not retry together.  A success resets the streak.
CREATE FUNCTION stockext.record_poll(feed integer, bars bigint, error text,
                                     http_status integer, max_backoff interval)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f        stockext.feeds;
    failures integer;
BEGIN
    SELECT * INTO f FROM stockext.feeds WHERE id = feed;
    IF NOT FOUND THEN
        RETURN;                 -- removed while it was being polled
    END IF;
    INSERT INTO stockext.feed_state AS s (feed_id) VALUES (feed) ON CONFLICT DO NOTHING;
    IF error IS NULL THEN
        UPDATE stockext.feed_state
           SET last_poll = now(), last_success = now(), consecutive_failures = 0,
               next_poll_at = now() + f.poll_every, bars_stored = bars_stored + coalesce(bars, 0)
         WHERE feed_id = feed;
    ELSE
        INSERT INTO stockext.errors (feed_id, provider, http_status, message)
        VALUES (feed, f.provider, http_status, error);
        UPDATE stockext.feed_state
           SET last_poll = now(), last_error = now(), last_error_message = error,
               consecutive_failures = consecutive_failures + 1
         WHERE feed_id = feed
        RETURNING consecutive_failures INTO failures;
        UPDATE stockext.feed_state
           SET next_poll_at = now() + least(f.poll_every * power(2, least(failures, 30)), max_backoff)
                                      * (0.5 + random() / 2)
         WHERE feed_id = feed;
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.record_poll(integer, bigint, text, integer, interval) IS
'records a poll of a feed: success resets its failure streak, failure logs an error and backs off exponentially with jitter (used by the worker)';
REVOKE ALL ON FUNCTION stockext.record_poll(integer, bigint, text, integer, interval) FROM PUBLIC;

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

CREATE VIEW stockext.feed_status AS
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
CREATE VIEW stockext.gaps AS
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

-- The simulated market: a deterministic random walk per (seed, symbol).
-- Not STRICT: a NULL argument raises an error naming it.
CREATE FUNCTION stockext.simulate_bars(symbol text, start timestamptz, stop timestamptz,
                                       resolution interval DEFAULT '1 minute',
                                       seed bigint DEFAULT 0)
RETURNS TABLE (ts timestamptz, open double precision, high double precision,
               low double precision, close double precision, volume bigint)
AS 'MODULE_PATHNAME', 'stockext_simulate_bars'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION stockext.simulate_bars(text, timestamptz, timestamptz, interval, bigint) IS
'the simulated feed''s complete bars starting in [start, stop): a seeded geometric random walk, the same for the same seed, symbol and bar time';

-- Stores the simulated bars starting in [start, stop) as they stand now (the
-- bar still forming included) through the worker's write path.
CREATE FUNCTION stockext.ingest_simulated(symbol text, start timestamptz, stop timestamptz,
                                          resolution interval, seed bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'stockext_ingest_simulated'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION stockext.ingest_simulated(text, timestamptz, timestamptz, interval, bigint) IS
'stores the simulated bars of a symbol starting in [start, stop) that have begun by now; returns how many rows changed';
REVOKE ALL ON FUNCTION stockext.ingest_simulated(text, timestamptz, timestamptz, interval, bigint) FROM PUBLIC;

-- Fetches one request's worth of history from an HTTP provider with the
-- key of the provider's first keyed feed, within the request limits.
CREATE FUNCTION stockext.fetch_history(provider text, symbol text, start timestamptz,
                                       stop timestamptz, resolution interval)
RETURNS bigint
AS 'MODULE_PATHNAME', 'stockext_fetch_history'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION stockext.fetch_history(text, text, timestamptz, timestamptz, interval) IS
'fetches the bars of [start, stop) of a symbol with one request to an HTTP provider and stores them; returns rows changed (used by backfill)';
REVOKE ALL ON FUNCTION stockext.fetch_history(text, text, timestamptz, timestamptz, interval) FROM PUBLIC;

-- Fetches history in chunks, with a NOTICE per chunk.  Upserts, so it is
-- safe to re-run and to overlap with the worker.  Nothing starts after
-- now, so the chunks end there: a stop in the future costs no request.
CREATE FUNCTION stockext.backfill(provider text, symbol text, start timestamptz,
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
REVOKE ALL ON FUNCTION stockext.backfill(text, text, timestamptz, timestamptz, interval) FROM PUBLIC;

CREATE FUNCTION stockext.worker_status()
RETURNS TABLE (pid integer, kind text, database name, state text, since timestamptz)
AS 'MODULE_PATHNAME', 'stockext_worker_status'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION stockext.worker_status() IS
'the ingestion launcher and workers: pid, kind (launcher or worker), database, what it is doing and since when; empty unless stockext is in shared_preload_libraries';

CREATE FUNCTION stockext.provider_requests()
RETURNS TABLE (provider text, minute_requests integer, per_minute integer,
               day_requests integer, per_day integer, skipped_closed bigint)
AS 'MODULE_PATHNAME', 'stockext_provider_requests'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION stockext.provider_requests() IS
'requests made to each provider in the last 60 seconds and the last 24 hours (sliding windows, to the second and the minute) by all databases of the server (kept across restarts), beside the limits stockext.<provider>_requests_per_minute and _per_day, which hold in every such window, and the requests not made since the server started because a feed''s market was closed';

-- Tells the launcher that this database now has the extension.
CREATE FUNCTION stockext.wake_launcher()
RETURNS void
AS 'MODULE_PATHNAME', 'stockext_wake_launcher'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION stockext.wake_launcher() IS
'asks the ingestion launcher to look for databases that need a worker now rather than at its next round';
REVOKE ALL ON FUNCTION stockext.wake_launcher() FROM PUBLIC;
SELECT stockext.wake_launcher();

