-- demo/queries.sql: example queries the demo prints with their output.
\dx stockext
SELECT count(*) AS bars, count(DISTINCT symbol) AS symbols, min(ts), max(ts) FROM stockext.ticks;

-- Rollups: pg_cron refreshes them every minute (stockext:stockext:refresh).
SELECT jobname, schedule, command FROM cron.job WHERE jobname LIKE 'stockext:%' ORDER BY jobname;
SELECT * FROM stockext.refresh_rollups();
SELECT symbol, count(*) AS buckets, max(bucket) AS newest FROM stockext.bars_30m GROUP BY symbol ORDER BY symbol;
SELECT symbol, bucket, open, high, low, close, volume, round(vwap::numeric, 2) AS vwap, n
FROM stockext.bars_1h_live ORDER BY bucket DESC, symbol LIMIT 10;
-- Gap-filled 30-minute bars of the last 6 hours: empty buckets carried
-- forward as a flat candle at the previous close.
SELECT * FROM stockext.bars(coalesce((SELECT symbol FROM stockext.ticks ORDER BY ts DESC LIMIT 1), 'AAPL'), '30 minutes',
                            date_bin('30 minutes', now(), '2000-01-03') - interval '6 hours', now(), 'previous');
