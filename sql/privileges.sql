-- Privileges: every SECURITY DEFINER function pins its search_path; a
-- role without grants cannot read keys, call admin functions or move an
-- endpoint.
SET client_min_messages = warning;
SET timezone = 'UTC';

-- Catalog check: a SECURITY DEFINER function of the extension without a
-- pinned search_path could be hijacked through objects in the caller's path.
SELECT p.oid::regprocedure AS definer_without_search_path
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'stockext'
WHERE p.prosecdef
  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

-- Catalog check: no function of the extension that writes feeds, keys or
-- ingests data is executable by PUBLIC.
SELECT p.oid::regprocedure AS admin_function_open_to_public
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'stockext'
WHERE p.proname IN ('add_feed', 'set_api_key', 'change_feed', 'pause_feed', 'resume_feed',
                    'remove_feed', 'feed_provider', 'record_poll', 'ingest_simulated',
                    'fetch_history', 'backfill', 'wake_launcher', 'create_partitions',
                    'keep_raw_reply', 'fetch_actions', 'refresh_corporate_actions')
  AND has_function_privilege('public', p.oid, 'EXECUTE');

-- Catalog check: feeds, keys and their bookkeeping are closed to PUBLIC.
SELECT c.relname AS table_open_to_public
FROM pg_class c
WHERE c.relnamespace = 'stockext'::regnamespace
  AND c.relname IN ('feeds', 'feed_keys', 'feed_state', 'rejects', 'raw_replies', 'errors', 'feed_status',
                    'action_refreshes')
  AND has_table_privilege('public', c.oid, 'SELECT');

SELECT stockext.add_feed('twelvedata', ARRAY['AAPL'], '5 minutes', '1 minute', 'priv-secret-key') AS td \gset
SELECT stockext.pause_feed(:td);

-- The read-only pattern (README, Privileges): schema usage and SELECT on the
-- bars, nothing on feeds or keys.  The bar is rolled back so no other test
-- sees it (nor its rollup invalidations).
CREATE ROLE regress_stockext_reader;
GRANT USAGE ON SCHEMA stockext TO regress_stockext_reader;
GRANT SELECT ON stockext.ticks TO regress_stockext_reader;
BEGIN;
SELECT stockext.upsert_bar('PRIV.A', '2025-01-02 15:00Z', '1 minute', 10, 11, 9, 10.5, 100, 'test');
SET ROLE regress_stockext_reader;
SELECT symbol, close, volume FROM stockext.ticks WHERE symbol = 'PRIV.A';
\set VERBOSITY terse
SAVEPOINT s;
SELECT stockext.upsert_bar('PRIV.A', '2025-01-02 15:01Z', '1 minute', 1, 1, 1, 1, 1, 'test');
ROLLBACK TO s;
DELETE FROM stockext.ticks WHERE symbol = 'PRIV.A';
ROLLBACK TO s;
\set VERBOSITY default
RESET ROLE;
SELECT count(*) FROM stockext.ticks WHERE symbol = 'PRIV.A';
ROLLBACK;

SET ROLE regress_stockext_reader;
\set VERBOSITY terse
SELECT api_key FROM stockext.feed_keys;
SELECT count(*) FROM stockext.feeds;
SELECT stockext.set_api_key(:td, 'stolen');
SELECT stockext.add_feed('twelvedata', ARRAY['X'], '5 minutes', '1 minute', 'k');
SELECT stockext.backfill('mock', 'AAPL', '2025-01-01', '2025-01-02', '1 minute');
SET stockext.twelvedata_url = 'http://evil.example';
SET stockext.http_timeout = 1;
\set VERBOSITY default
RESET ROLE;

-- The key is untouched and the endpoint unchanged.
SELECT api_key FROM stockext.feed_keys WHERE feed_id = :td;
SHOW stockext.twelvedata_url;
SELECT stockext.remove_feed(:td);
REVOKE SELECT ON stockext.ticks FROM regress_stockext_reader;
REVOKE USAGE ON SCHEMA stockext FROM regress_stockext_reader;
DROP ROLE regress_stockext_reader;

-- Symbols with quotes, semicolons or non-ASCII letters: stored verbatim or
-- rejected with a clear error, never interpreted.
\set VERBOSITY terse
SELECT stockext.upsert_bar($$O'NEIL; DROP TABLE stockext.ticks; --$$, '2025-01-02 15:00Z', '1 minute', 1, 1, 1, 1, 1, 'test');
SELECT stockext.upsert_bar($$O'N;X$$, '2025-01-02 15:00Z', '1 minute', 1, 1, 1, 1, 1, 'test');
SELECT stockext.upsert_bar('ÆBLE.CO', '2025-01-02 15:00Z', '1 minute', 1, 1, 1, 1, 1, 'test');
SELECT stockext.add_feed('twelvedata', ARRAY[$$A'B;C$$], '5 minutes', '1 minute', 'k');
SELECT stockext.add_feed('yahoo', ARRAY['ÆBLE.CO'], '5 minutes', '1 minute');
SELECT stockext.backfill('simulated', $$X');DROP$$, '2025-01-02', '2025-01-03', '1 minute');
\set VERBOSITY default
SELECT to_regclass('stockext.ticks') IS NOT NULL AS ticks_still_there;
SELECT count(*) AS bars_with_odd_symbols FROM stockext.ticks WHERE symbol !~ '^[A-Za-z0-9.^=_/:-]+$';
