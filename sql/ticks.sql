-- The extension, the ticks table, its constraints, upserts and partitions.
SET client_min_messages = warning;
SET timezone = 'UTC';

-- CREATE / DROP / re-CREATE leaves a working extension.  CASCADE: earlier
-- tests leave bars, and a plain DROP EXTENSION is refused while there are
-- (drop_extension tests that); the schema goes with the extension.
DROP EXTENSION stockext CASCADE;
SELECT to_regnamespace('stockext') IS NULL AS schema_gone;
CREATE EXTENSION stockext;
SELECT extname, extversion, extnamespace::regnamespace FROM pg_extension WHERE extname = 'stockext';

-- Partitions: only the default one.  Monthly ones are made when bars need
-- them (ingestion, backfill, create_partitions, maintain_partitions).
SELECT count(*) AS monthly_partitions
FROM pg_inherits WHERE inhparent = 'stockext.ticks'::regclass
  AND inhrelid <> 'stockext.ticks_default'::regclass;

-- The tests below use November 1999 and 2026 whatever today's date is.
SELECT stockext.create_partitions('2026-11-01', '2026-11-30') >= 0 AS ok;

-- A valid bar, then the same bar re-polled unchanged, then re-polled with a
-- new close: one row, updated once.
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:30+00', '1 minute', 190.0, 191.0, 189.5, 190.5, 1000, 'test');
SELECT xmin AS first_xmin FROM stockext.ticks WHERE symbol = 'AAPL' \gset
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:30+00', '1 minute', 190.0, 191.0, 189.5, 190.5, 1000, 'test');
SELECT xmin = :'first_xmin' AS unchanged_repoll_wrote_nothing FROM stockext.ticks WHERE symbol = 'AAPL';
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:30+00', '1 minute', 190.0, 191.2, 189.5, 191.1, 1500, 'test');
SELECT symbol, ts, resolution, open, high, low, close, volume, source FROM stockext.ticks;

-- The same instant at another resolution is another series, not a conflict.
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:30+00', '1 day', 188.0, 192.0, 187.0, 191.0, 50000000, 'test');
SELECT resolution, close FROM stockext.ticks WHERE symbol = 'AAPL' ORDER BY resolution;

-- Plain INSERT ... ON CONFLICT works on the partitioned table too.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
VALUES ('AAPL', '2026-11-20 14:30+00', '1 minute', 190, 191.5, 189.5, 191.4, 1700, 'test')
ON CONFLICT (symbol, ts, resolution) DO UPDATE SET close = excluded.close, high = excluded.high, volume = excluded.volume;
SELECT count(*), max(close), max(volume) FROM stockext.ticks WHERE resolution = '1 minute';

-- Each impossible bar is rejected by its own rule, through upsert_bar ...
\set VERBOSITY default
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', 0, 191, 189, 190, 1, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', -1, 191, 189, 190, 1, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 0, 1, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 188, 189, 189, 1, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', 192, 191, 189, 190, 1, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 192, 1, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', 188, 191, 189, 190, 1, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 188.5, 1, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 190, -5, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', 'NaN', 191, 189, 190, 1, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 'Infinity', 189, 190, 1, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:31+00', '1 minute', NULL, 191, 189, 190, 1, 'test');
SELECT stockext.upsert_bar('BAD;SYM', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 190, 1, 'test');
SELECT stockext.upsert_bar('', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 190, 1, 'test');
SELECT stockext.upsert_bar(NULL, '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 190, 1, 'test');
\set VERBOSITY terse

-- ... and by the table's named constraints for plain INSERTs.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '1 minute', 0, 191, 189, 190, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 0, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 188, 189, 189, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '1 minute', 192, 191, 189, 190, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 192, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '1 minute', 188, 191, 189, 190, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 188.5, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 190, -5, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '1 minute', 190, 'Infinity', 189, 190, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '1 minute', 'NaN', 'NaN', 189, 190, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAPL', '2026-11-20 14:31+00', '0 minutes', 190, 191, 189, 190, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('it''s', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 190, 1, 'test');
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('ÄPFEL', '2026-11-20 14:31+00', '1 minute', 190, 191, 189, 190, 1, 'test');
SELECT count(*) AS rows_after_rejections FROM stockext.ticks;

-- Symbols that providers really use are accepted; volume may be NULL (forex).
SELECT s, stockext.symbol_problem(s) FROM unnest(ARRAY['BRK.B', '^GSPC', 'EURUSD=X', 'BTC/USD', 'BTC-USD', 'XETR:SAP', '0700.HK',
                                                       repeat('A', 32), repeat('A', 33), 'a b', 'x"y']) AS s;
SELECT stockext.upsert_bar('EUR/USD', '2026-11-20 14:31+00', '1 minute', 1.05, 1.06, 1.04, 1.055, NULL, 'test');
SELECT symbol, volume IS NULL AS no_volume FROM stockext.ticks WHERE symbol = 'EUR/USD';

-- bar_problem() and the CHECK constraints agree on a grid of bars.
CREATE TEMP TABLE grid AS
SELECT o, h, l, c, v
FROM unnest(ARRAY[-1, 0, 1, 2, 3, 'NaN', 'Infinity']::float8[]) o,
     unnest(ARRAY[-1, 0, 1, 2, 3, 'NaN', 'Infinity']::float8[]) h,
     unnest(ARRAY[-1, 0, 1, 2, 3, 'NaN']::float8[]) l,
     unnest(ARRAY[0, 1, 2, 3, 'Infinity']::float8[]) c,
     unnest(ARRAY[-1, 0, NULL]::bigint[]) v;
CREATE FUNCTION pg_temp.insert_ok(o float8, h float8, l float8, c float8, v bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
    VALUES ('GRID', '2026-11-21 00:00+00', '1 minute', o, h, l, c, v, 'test');
    RAISE EXCEPTION USING ERRCODE = 'P0001';     -- undo the insert
EXCEPTION
    WHEN check_violation THEN RETURN false;
    WHEN raise_exception THEN RETURN true;
END $$;
SELECT count(*) AS grid_bars,
       count(*) FILTER (WHERE stockext.bar_problem(o, h, l, c, v) IS NULL) AS valid,
       count(*) FILTER (WHERE (stockext.bar_problem(o, h, l, c, v) IS NULL) <> pg_temp.insert_ok(o, h, l, c, v)) AS disagreements
FROM grid;

-- Routing: bars land in their month's partition; a bar far outside every
-- partition lands in the default one instead of failing.
SELECT stockext.upsert_bar('MSFT', '1999-01-04 15:00+00', '1 day', 80, 82, 79, 81, 100, 'test');
SELECT stockext.upsert_bar('MSFT', '2100-06-01 15:00+00', '1 day', 80, 82, 79, 81, 100, 'test');
SELECT tableoid::regclass AS partition, ts FROM stockext.ticks WHERE symbol = 'MSFT' ORDER BY ts;
SELECT tableoid::regclass AS partition, count(*) FROM stockext.ticks WHERE symbol = 'AAPL' GROUP BY 1;

-- create_partitions() moves rows out of the default partition, once.
SELECT stockext.create_partitions('1998-12-15', '1999-02-01');
SELECT stockext.create_partitions('1998-12-15', '1999-02-01');
SELECT tableoid::regclass AS partition, ts FROM stockext.ticks WHERE symbol = 'MSFT' ORDER BY ts;
SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = 'stockext.ticks_p199901'::regclass;
SELECT stockext.create_partitions('2000-01-01', '1999-01-01');
SELECT stockext.create_partitions(NULL, '1999-01-01');

-- The primary key serves the per-symbol time-range and latest-N queries.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM stockext.ticks
 WHERE symbol = 'AAPL' AND ts BETWEEN '2026-11-20' AND '2026-11-21';
EXPLAIN (COSTS OFF) SELECT * FROM stockext.ticks
 WHERE symbol = 'AAPL' AND ts >= '1999-01-01' AND ts < '2026-12-01' ORDER BY ts DESC LIMIT 5;
RESET enable_seqscan;

-- Function labels.
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p WHERE p.pronamespace = 'stockext'::regnamespace
  AND p.proname IN ('bar_problem', 'symbol_problem', 'create_partitions', 'upsert_bar')
ORDER BY 1;
