-- demo/citus-setup.sql: what demo/citus.sh sets up on the coordinator of
-- its Citus cluster, in database "stockext".
SET client_min_messages = warning;

-- ticks, rollups, rollup_invalidations and latest_ticks hash-distributed by
-- symbol over the two workers, co-located; corporate_actions a reference
-- table.
SELECT stockext.distribute(shard_count => 8);

-- Two days of simulated minute bars for six symbols, written through the
-- coordinator into the shards, then the simulated feed every 5 seconds.
SELECT stockext.backfill('simulated', symbol, now() - interval '2 days', now(), '1 minute')
FROM unnest(ARRAY['AAPL', 'TSLA', 'GOOGL', 'MSFT', 'NVDA', 'AMZN']) AS symbol;
SELECT stockext.add_feed('simulated', ARRAY['AAPL', 'TSLA', 'GOOGL', 'MSFT', 'NVDA', 'AMZN'],
                         '1 minute', '5 seconds');

-- A simulated 4-for-1 split of NVDA today (00:00 UTC): its bars before it
-- go on the basis they traded at, in its shard, and the split is recorded
-- in corporate_actions, a reference table on every node.
SELECT stockext.simulate_split('NVDA', (now() AT TIME ZONE 'UTC')::date, 4);

-- The rollups refreshed every minute by pg_cron, on the coordinator.
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT stockext.schedule_jobs();
