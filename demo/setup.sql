-- demo/setup.sql: what the demo sets up in database "stockext"; safe to re-run.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS stockext;
ALTER EXTENSION stockext UPDATE;

-- Ingestion: the simulated market (no network, no key) for five symbols,
-- 30 days of minute bars of history, then live every 5 seconds from the
-- worker.  One feed however often this runs; backfill is an upsert, so a
-- re-run only fills what is missing.  History first: the feed's worker then
-- starts from the newest stored bar.
SELECT stockext.backfill('simulated', symbol, now() - interval '30 days', now(), '1 minute')
FROM unnest(ARRAY['AAPL', 'TSLA', 'GOOGL', 'MSFT', 'NVDA']) AS symbol;
SELECT stockext.add_feed('simulated', ARRAY['AAPL', 'TSLA', 'GOOGL', 'MSFT', 'NVDA'],
                         '1 minute', '5 seconds')
WHERE NOT EXISTS (SELECT 1 FROM stockext.feeds WHERE provider = 'simulated');

-- Corporate actions: SPLT, a simulated symbol with two weeks of history
-- and no live feed, split 10 for 1 a week ago (once: a re-run would
-- backfill the walk over its as-traded bars).
SELECT stockext.backfill('simulated', 'SPLT', now() - interval '14 days', now(), '1 minute'),
       stockext.simulate_split('SPLT', current_date - 7, 10)
WHERE NOT EXISTS (SELECT FROM stockext.corporate_actions WHERE symbol = 'SPLT');

-- A calendar-aware feed: IBM's simulated 5-minute bars, polled only while
-- the NYSE (calendar XNYS) is open, once after each close for the closing
-- bar, and again at the open (which fills the gap).
SELECT stockext.add_feed('simulated', ARRAY['IBM'], '5 minutes', '1 minute', calendar => 'XNYS')
WHERE NOT EXISTS (SELECT FROM stockext.feeds WHERE 'IBM' = ANY (symbols));

-- Alerts: two rules on the simulated feed's live bars, each evaluated once
-- the bar has closed (the poll after the minute brings the next bar): a
-- move of 0.25 % over 5 minutes either way, and a volume spike (3 times the
-- mean of the 10 bars before), each at most once per 15 minutes of bars
-- per symbol.  History fires nothing: the bars loaded above, and those a
-- re-run fills in, land too long after they closed.  The worker evaluates
-- after every poll; LISTEN stockext_alerts to see them live.
SELECT stockext.add_alert('pct_change', feed => f.id, bars => 5, threshold => 0.25,
                          cooldown => '15 minutes'),
       stockext.add_alert('volume_spike', feed => f.id, bars => 10, factor => 3,
                          cooldown => '15 minutes')
FROM stockext.feeds f
WHERE f.provider = 'simulated' AND NOT EXISTS (SELECT FROM stockext.alert_rules)
ORDER BY f.id LIMIT 1;
-- And a notification when the feed starts failing or recovers.
SELECT stockext.set_feed_notifications(f.id)
FROM stockext.feeds f WHERE f.provider = 'simulated' ORDER BY f.id LIMIT 1;

-- Rollups: pg_cron runs in this database (cron.database_name = stockext),
-- so the jobs are registered directly; a first refresh fills the tables.
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT stockext.schedule_jobs();
SELECT stockext.refresh_rollups();
