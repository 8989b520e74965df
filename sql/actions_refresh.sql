-- refresh_corporate_actions() and fetch_actions() without a provider to
-- reach: which symbols and providers they fetch for, their errors, and
-- that a failed fetch stores and records nothing (suite 31-worker-http
-- fetches from the loopback mock).
SET client_min_messages = warning;

-- A symbol no feed polls: an error that says where actions come from.
SELECT stockext.refresh_corporate_actions('nope');

-- The simulated market has no actions to fetch: nothing asked, 0 added.
-- (The feed is rolled back, and the feed ids put back, so that no later
-- test sees it.)
SELECT last_value AS feed_seq, is_called AS feed_seq_called FROM stockext.feeds_id_seq \gset
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['sim1'], '1 minute', '1 minute') IS NOT NULL AS added;
SELECT stockext.refresh_corporate_actions('SIM1') AS one, stockext.refresh_corporate_actions() AS every;
ROLLBACK;
SELECT setval('stockext.feeds_id_seq', :feed_seq, :'feed_seq_called') IS NOT NULL AS ids_put_back;
SELECT stockext.fetch_actions('simulated', 'SIM1') IS NULL AS simulated_offers_none;
SELECT stockext.fetch_actions('nope', 'SIM1');

-- TwelveData charges 20 credits for each of /splits and /dividends: its
-- free plan's 8 a minute can never hold a refresh, refused before asking.
SELECT current_setting('stockext.twelvedata_requests_per_minute') AS td_per_minute;
SELECT stockext.fetch_actions('twelvedata', 'nvda');

-- Alpha Vantage where nothing listens: the request fails with the request
-- named, nothing is stored or recorded.
SET stockext.alphavantage_url = 'http://127.0.0.1:1';
DO $$
BEGIN
    PERFORM stockext.fetch_actions('alphavantage', 'ibm');
EXCEPTION WHEN connection_failure THEN
    RAISE WARNING 'connection_failure: %', substring(SQLERRM FROM
        '^corporate actions of "IBM" from "alphavantage" failed: request failed: .*GET http://127.0.0.1:1/query\?function=SPLITS&symbol=IBM\)$') IS NOT NULL;
END
$$;
RESET stockext.alphavantage_url;
SELECT (SELECT count(*) FROM stockext.corporate_actions) AS actions,
       (SELECT count(*) FROM stockext.action_refreshes) AS refreshes;

RESET client_min_messages;
