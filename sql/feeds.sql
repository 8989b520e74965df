-- Feeds: adding, validating, changing, pausing and removing them; keys kept
-- from everyone but superusers; poll bookkeeping and backoff.
SET client_min_messages = warning;
SET timezone = 'UTC';

-- New feeds are added paused at once, so the worker never polls them here.
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['AAPL', 'TSLA'], '1 minute', '5 seconds') AS sim \gset
SELECT stockext.pause_feed(:sim);
SELECT stockext.add_feed('twelvedata', ARRAY['AAPL', 'MSFT'], '5 minutes', '1 minute', 'td-secret-key') AS td \gset
SELECT stockext.pause_feed(:td);
SELECT stockext.add_feed('alphavantage', ARRAY['IBM'], '1 day', '6 hours', 'av-secret-key') AS av \gset
SELECT stockext.pause_feed(:av);
SELECT stockext.add_feed('yahoo', ARRAY['^GSPC', 'EURUSD=X'], '1 hour', '10 minutes') AS yh \gset
SELECT stockext.pause_feed(:yh);
COMMIT;

SELECT provider, symbols, resolution, poll_every, paused, seed FROM stockext.feeds ORDER BY id;
SELECT provider, has_api_key, consecutive_failures, bars_stored, last_poll
FROM stockext.feed_status ORDER BY id;

-- Keys are in their own table, not in feeds or the status view.
SELECT count(*) AS key_columns FROM information_schema.columns
WHERE table_schema = 'stockext' AND table_name IN ('feeds', 'feed_status') AND column_name LIKE '%key%'
  AND column_name <> 'has_api_key';
SELECT f.provider, k.api_key FROM stockext.feed_keys k JOIN stockext.feeds f ON f.id = k.feed_id ORDER BY f.id;

-- Refused definitions, each with its reason.
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT stockext.add_feed('bloomberg', ARRAY['AAPL'], '1 minute', '1 minute');
SELECT stockext.add_feed(NULL, ARRAY['AAPL'], '1 minute', '1 minute');
SELECT stockext.add_feed('yahoo', ARRAY[]::text[], '1 minute', '1 minute');
SELECT stockext.add_feed('yahoo', ARRAY['AAPL', NULL], '1 minute', '1 minute');
SELECT stockext.add_feed('yahoo', ARRAY['AA PL'], '1 minute', '1 minute');
SELECT stockext.add_feed('yahoo', ARRAY['AAPL', 'AAPL'], '1 minute', '1 minute');
SELECT stockext.add_feed('twelvedata', ARRAY['AAPL'], '3 minutes', '1 minute');
SELECT stockext.add_feed('alphavantage', ARRAY['AAPL'], '7 days', '1 minute');
SELECT stockext.add_feed('simulated', ARRAY['AAPL'], '1 mon', '1 minute');
SELECT stockext.add_feed('simulated', ARRAY['AAPL'], '1 minute', '0 seconds');
SELECT stockext.add_feed('simulated', ARRAY['AAPL'], '1 minute', NULL);
SELECT stockext.add_feed('yahoo', ARRAY['AAPL'], '1 minute', '1 minute', 'a-key');
\set VERBOSITY terse
SELECT count(*) AS feeds_after_refusals FROM stockext.feeds;

-- Changing a feed validates the result; NULL keeps a value.
SELECT stockext.change_feed(:td, symbols => ARRAY['AAPL', 'MSFT', 'NVDA'], poll_every => '2 minutes');
SELECT stockext.change_feed(:td, resolution => '3 minutes');
SELECT symbols, resolution, poll_every FROM stockext.feeds WHERE id = :td;
SELECT stockext.change_feed(:sim, seed => 42);
SELECT seed FROM stockext.feeds WHERE id = :sim;
SELECT stockext.change_feed(:td, keep_raw => true, raw_retention => '1 day');
SELECT stockext.change_feed(:td, raw_retention => '0 seconds');
SELECT keep_raw, raw_retention FROM stockext.feeds WHERE id = :td;

-- Keys: replaced, removed; refused for keyless providers and missing feeds.
SELECT stockext.set_api_key(:td, 'td-new-key');
SELECT stockext.set_api_key(:av, NULL);
SELECT f.provider, k.api_key FROM stockext.feed_keys k JOIN stockext.feeds f ON f.id = k.feed_id ORDER BY f.id;
SELECT stockext.set_api_key(:sim, 'x');
SELECT stockext.set_api_key(-1, 'x');
SELECT stockext.pause_feed(-1);
SELECT stockext.remove_feed(NULL);

-- Bookkeeping: failures back off exponentially with jitter, capped; a
-- success resets the streak.  (Within one transaction now() stays put.)
BEGIN;
SELECT stockext.record_poll(:yh, 0, 'HTTP 500 from provider', 500, '1 day');
SELECT stockext.record_poll(:yh, 0, 'HTTP 500 from provider', 500, '1 day');
SELECT stockext.record_poll(:yh, 0, 'timed out', NULL, '1 day');
SELECT consecutive_failures, last_error_message,
       next_poll_at - now() >= interval '40 minutes' AND next_poll_at - now() < interval '80 minutes' AS backoff_8x
FROM stockext.feed_status WHERE id = :yh;
SELECT stockext.record_poll(:yh, 0, 'still down', 503, '1 hour');
SELECT consecutive_failures,
       next_poll_at - now() >= interval '30 minutes' AND next_poll_at - now() < interval '60 minutes' AS capped
FROM stockext.feed_status WHERE id = :yh;
SELECT provider, http_status, message FROM stockext.errors WHERE feed_id = :yh ORDER BY message;
SELECT stockext.record_poll(:yh, 120, NULL, NULL, '1 hour');
SELECT consecutive_failures, bars_stored, last_success = now() AS succeeded,
       next_poll_at = now() + interval '10 minutes' AS next_in_poll_every
FROM stockext.feed_status WHERE id = :yh;
COMMIT;

-- Resuming clears the streak and makes the feed due; pausing stops it.
SELECT stockext.record_poll(:sim, 0, 'boom', NULL, '1 hour');
BEGIN;                          -- the worker never sees it resumed
SELECT stockext.resume_feed(:sim);
SELECT paused, consecutive_failures, next_poll_at FROM stockext.feed_status WHERE id = :sim;
SELECT stockext.pause_feed(:sim);
COMMIT;

-- Only superusers (or roles granted access) manage feeds or see keys.
CREATE ROLE regress_stockext_user;
GRANT USAGE ON SCHEMA stockext TO regress_stockext_user;
SET ROLE regress_stockext_user;
SELECT stockext.add_feed('simulated', ARRAY['AAPL'], '1 minute', '1 minute');
SELECT * FROM stockext.feed_keys;
SELECT * FROM stockext.feeds;
SELECT stockext.remove_feed(1);
RESET ROLE;
REVOKE USAGE ON SCHEMA stockext FROM regress_stockext_user;
DROP ROLE regress_stockext_user;

-- pg_dump keeps feeds and keys.
SELECT unnest(extconfig)::regclass AS dumped FROM pg_extension WHERE extname = 'stockext' ORDER BY 1;

-- The launcher runs (the test cluster preloads stockext).
SELECT kind, database IS NULL AS no_database FROM stockext.worker_status() WHERE kind = 'launcher';

-- Removing a feed removes its key and state; errors stay.
SELECT stockext.remove_feed(id) FROM stockext.feeds;
SELECT (SELECT count(*) FROM stockext.feeds) AS feeds, (SELECT count(*) FROM stockext.feed_keys) AS keys,
       (SELECT count(*) FROM stockext.feed_state) AS states, (SELECT count(*) > 0 FROM stockext.errors) AS errors_kept;
DELETE FROM stockext.errors;
