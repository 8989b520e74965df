-- Providers: their facts come from the C registry (src/providers.c), and the
-- SQL side (the feeds table's CHECK, add_feed, set_api_key, backfill)
-- consults them instead of lists of its own.
SET client_min_messages = warning;
SET timezone = 'UTC';

-- One row per provider, in the registry's order.
SELECT * FROM stockext.providers();

-- The resolutions each HTTP provider serves, with its spelling and what one
-- history request covers.
SELECT provider, resolution, spelling, history_span, history_by_month
FROM stockext.provider_intervals() ORDER BY provider, resolution;

-- provider_resolutions is their array, in order; NULL for the simulated
-- feed (a range) and for an unknown provider.
SELECT p.provider, stockext.provider_resolutions(p.provider) FROM stockext.providers() p;
SELECT stockext.provider_resolutions('nosuch') IS NULL AS unknown_is_null;

-- provider_known: the feeds table's CHECK.
SELECT p, stockext.provider_known(p) FROM unnest(ARRAY['twelvedata', 'simulated', 'TwelveData', '']) p;
\set VERBOSITY terse
INSERT INTO stockext.feeds (provider, symbols, resolution, poll_every)
VALUES ('nosuch', ARRAY['AAPL'], '1 minute', '1 minute');
\set VERBOSITY default
\set SHOW_CONTEXT never

-- add_feed names the registry's providers, and its range for the simulated
-- feed, and knows which providers take a key.
SELECT stockext.add_feed('nosuch', ARRAY['AAPL'], '1 minute', '1 minute');
SELECT stockext.add_feed('simulated', ARRAY['AAPL'], '8 days', '1 minute');
SELECT stockext.add_feed('simulated', ARRAY['AAPL'], '1.5 seconds', '1 minute');
SELECT stockext.add_feed('yahoo', ARRAY['AAPL'], '45 minutes', '1 minute');
BEGIN;
SELECT stockext.add_feed('yahoo', ARRAY['AAPL'], '90 minutes', '1 minute', 'a-key');
ROLLBACK;
BEGIN;
SELECT stockext.add_feed('alphavantage', ARRAY['IBM'], '1 hour', '1 minute', 'a-key') > 0 AS added;
SELECT f.provider, k.api_key FROM stockext.feed_keys k JOIN stockext.feeds f ON f.id = k.feed_id;
ROLLBACK;

-- The facts are immutable and safe in parallel: usable in constraints and
-- index expressions.
SELECT p.proname, p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p WHERE p.pronamespace = 'stockext'::regnamespace
  AND p.proname IN ('providers', 'provider_intervals', 'provider_known', 'provider_resolutions')
ORDER BY 1;
