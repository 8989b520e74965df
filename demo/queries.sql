-- demo/queries.sql: example queries the demo prints with their output.
\dx stockext
SELECT count(*) AS bars, count(DISTINCT symbol) AS symbols, min(ts), max(ts) FROM stockext.ticks;

-- Ingestion: the worker, its feeds and the newest bars it stored.
SELECT pid, kind, database, state FROM stockext.worker_status() ORDER BY kind, database;
SELECT id, provider, symbols, resolution, poll_every, last_success, consecutive_failures, bars_stored, lag
FROM stockext.feed_status;
SELECT DISTINCT ON (symbol) symbol, ts, open, high, low, close, volume
FROM stockext.ticks WHERE resolution = '1 minute' ORDER BY symbol, ts DESC;
