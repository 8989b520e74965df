-- demo/setup.sql: what the demo sets up in database "stockext"; safe to re-run.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS stockext;
ALTER EXTENSION stockext UPDATE;

-- Ingestion: the simulated market (no network, no key) for five symbols,
-- 30 days of minute bars of history, then live every 5 seconds from the
-- worker.  One feed however often this runs; backfill is an upsert, so a
-- re-run only fills what is missing.
SELECT stockext.add_feed('simulated', ARRAY['AAPL', 'TSLA', 'GOOGL', 'MSFT', 'NVDA'],
                         '1 minute', '5 seconds')
WHERE NOT EXISTS (SELECT 1 FROM stockext.feeds WHERE provider = 'simulated');
SELECT stockext.backfill('simulated', symbol, now() - interval '30 days', now(), '1 minute')
FROM unnest(ARRAY['AAPL', 'TSLA', 'GOOGL', 'MSFT', 'NVDA']) AS symbol;

-- Rollups: pg_cron runs in this database (cron.database_name = stockext),
-- so the jobs are registered directly; a first refresh fills the tables.
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT stockext.schedule_jobs();
SELECT stockext.refresh_rollups();
