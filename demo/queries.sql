-- demo/queries.sql: example queries the demo prints with their output.
\dx stockext
SELECT count(*) AS bars, count(DISTINCT symbol) AS symbols, min(ts), max(ts) FROM stockext.ticks;
