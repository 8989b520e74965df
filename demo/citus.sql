-- demo/citus.sql: what demo/citus.sh prints, run on the coordinator.

-- Where the shards are: each table of the pipeline in 8 co-located shards
-- over the two workers, and the corporate actions on every node.
SELECT p.logicalrelid AS "table", n.nodeport AS worker, count(*) AS shards
FROM pg_dist_partition p
JOIN pg_dist_shard s USING (logicalrelid)
JOIN pg_dist_placement pl USING (shardid)
JOIN pg_dist_node n USING (groupid)
WHERE p.logicalrelid::text IN ('stockext.ticks', 'stockext.rollups', 'stockext.rollup_invalidations', 'stockext.latest_ticks',
                               'stockext.corporate_actions')
GROUP BY 1, 2 ORDER BY 1, 2;

-- Every node refreshes the rollups of the shards it holds.
SELECT * FROM stockext.refresh_rollups();

-- The bars per symbol, counted on the workers.
SELECT symbol, count(*) AS bars, min(ts), max(ts) FROM stockext.ticks GROUP BY symbol ORDER BY symbol;

-- Hourly bars of AAPL, read from its shard (live: pending buckets computed now).
SELECT bucket, open, high, low, close, volume
FROM stockext.bars('AAPL', '1 hour', now() - interval '6 hours', now());

-- NVDA's hourly closes around its simulated split, as traded and adjusted
-- for it: the adjustment runs on the worker that holds NVDA's bars.
WITH d AS (SELECT date_trunc('day', now(), 'UTC') AS midnight)
SELECT t.bucket, round(t.close::numeric, 2) AS as_traded, round(a.close::numeric, 2) AS split_adjusted
FROM d
CROSS JOIN LATERAL stockext.bars('NVDA', '1 hour', d.midnight - interval '3 hours', d.midnight + interval '2 hours') t
JOIN LATERAL stockext.bars('NVDA', '1 hour', d.midnight - interval '3 hours', d.midnight + interval '2 hours',
                           adjust => 'splits') a ON a.bucket = t.bucket
ORDER BY 1;

-- The newest bar of every symbol, one row a series.
SELECT symbol, ts, close, age FROM stockext.latest_bars ORDER BY symbol;

-- A moving average and RSI partitioned by symbol over the last two hours
-- (one task a shard), their last three minutes shown.
SELECT * FROM (
    SELECT symbol, ts, close,
           round(stockext.sma(close) OVER (PARTITION BY symbol ORDER BY ts ROWS 19 PRECEDING)::numeric, 4) AS sma20,
           round(stockext.rsi(close) OVER (PARTITION BY symbol ORDER BY ts)::numeric, 2) AS rsi14
    FROM stockext.ticks
    WHERE ts > now() - interval '2 hours') w
WHERE ts > now() - interval '3 minutes'
ORDER BY symbol, ts;

-- The feed polling on the coordinator.
SELECT id, provider, symbols, last_success, bars_stored FROM stockext.feed_status;
