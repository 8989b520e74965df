-- Late bars merged into the stored rollup rows: a key of one bar (bars = 1)
-- names its bar, which the refresh adds to the bucket's candle and moments
-- instead of re-reading the bucket.  The rows a refresh leaves are compared
-- with a rebuild from the bars, exactly, states included.
SET client_min_messages = warning;
-- Three days of minutes of LATE but the held ones, or only those.
CREATE TEMP TABLE held (i int PRIMARY KEY);
CREATE FUNCTION pg_temp.bars(only_held boolean) RETURNS void LANGUAGE sql
BEGIN ATOMIC
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'LATE', timestamptz '2025-03-03 00:00+00' + i * interval '1 minute', '1 minute',
       p, p + 0.5 + (i % 7) * 0.01, p - 0.5, p + 0.1 * sin(i), 100 + i % 17, 'test'
FROM generate_series(0, 4319) i, LATERAL (SELECT 100 + sin(i / 50.0) AS p) x
WHERE (i IN (SELECT h.i FROM held h)) = only_held;
END;
-- The held bars again, one upsert_bar() statement each.
CREATE FUNCTION pg_temp.late(high_shift float8 DEFAULT 0) RETURNS void LANGUAGE sql
BEGIN ATOMIC
SELECT stockext.upsert_bar('LATE', timestamptz '2025-03-03 00:00+00' + h.i * interval '1 minute', '1 minute',
                           100, 101.5 + high_shift, 99, 100.25, 7, 'test')
FROM held h ORDER BY h.i DESC;
END;
CREATE FUNCTION pg_temp.forget_held() RETURNS void LANGUAGE sql
BEGIN ATOMIC
DELETE FROM stockext.ticks
WHERE symbol = 'LATE' AND ts IN (SELECT timestamptz '2025-03-03 00:00+00' + h.i * interval '1 minute' FROM held h);
END;
-- Bars of ticks read so far in this transaction (index and heap scans).
CREATE FUNCTION pg_temp.bars_read() RETURNS bigint LANGUAGE sql
RETURN (SELECT sum(coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0))
        FROM pg_stat_xact_user_tables
        WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'stockext.ticks'::regclass));
-- Rebuilds and counts the rows of LATE that differ from the table refreshed.
CREATE FUNCTION pg_temp.differ_from_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    DROP TABLE IF EXISTS refreshed;
    CREATE TEMP TABLE refreshed AS SELECT * FROM stockext.rollups WHERE symbol = 'LATE';
    PERFORM stockext.rebuild_rollups();
    SELECT count(*) INTO n
    FROM (SELECT * FROM stockext.rollups WHERE symbol = 'LATE') r FULL JOIN refreshed f USING (symbol, width, bucket)
    WHERE r.symbol IS NULL OR f.symbol IS NULL
       OR (r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.candle, r.returns::text,
           r.close_moments::text)
          IS DISTINCT FROM
          (f.open, f.high, f.low, f.close, f.volume, f.vwap, f.avg_close, f.n, f.candle, f.returns::text,
           f.close_moments::text);
    RETURN n;
END $$;
-- A refresh: its counts and the bars it read.
CREATE FUNCTION pg_temp.refresh(OUT buckets bigint, OUT upserted bigint, OUT bars_read bigint)
LANGUAGE plpgsql AS $$
DECLARE before bigint := pg_temp.bars_read();
BEGIN
    SELECT r.buckets, r.upserted INTO buckets, upserted FROM stockext.refresh_rollups() r;
    bars_read := pg_temp.bars_read() - before;
END $$;

-- One late bar in a bucket of every width on each day, one statement each:
-- 9 keys of one bar, refreshed by reading those 3 bars once a width (not
-- the 4,590 of their buckets).
INSERT INTO held VALUES (100), (1510), (3017);
SELECT pg_temp.bars(false);
SELECT buckets > 0 AS refreshed FROM pg_temp.refresh();
-- Statistics, as autovacuum keeps them (without, the planner may probe a
-- stored row by its width alone and filter the rest).
ANALYZE stockext.ticks, stockext.rollups;
SELECT pg_temp.late();
SELECT count(*) AS keys, count(*) FILTER (WHERE bars = 1) AS single_bars FROM stockext.rollup_invalidations;
SELECT * FROM pg_temp.refresh();
SELECT pg_temp.differ_from_rebuild() AS differ;

-- The live view merges them the same way before the refresh.
SELECT pg_temp.forget_held();
SELECT (pg_temp.refresh()).buckets;
SELECT pg_temp.late(0.75);
CREATE TEMP TABLE live AS SELECT * FROM stockext.rollups_live WHERE symbol = 'LATE';
SELECT * FROM pg_temp.refresh();
SELECT count(*) AS differ FROM (
    SELECT symbol, width, bucket, open, high, low, close, volume, vwap, avg_close, n, candle, close_moments::text FROM live
    EXCEPT
    SELECT symbol, width, bucket, open, high, low, close, volume, vwap, avg_close, n, candle, close_moments::text
    FROM stockext.rollups WHERE symbol = 'LATE') d;
SELECT pg_temp.differ_from_rebuild() AS differ;

-- Two late bars of one day (03:20 and 04:20), one statement each: their
-- 30 minutes and hours read one bar each, their day the bars from the
-- first to the second (61), not its 1,440.
TRUNCATE held;
INSERT INTO held VALUES (200), (260);
SELECT pg_temp.forget_held();
SELECT (pg_temp.refresh()).buckets;
SELECT pg_temp.late();
SELECT buckets, upserted, bars_read BETWEEN 6 AND 2 + 2 + 61 + 3 AS bars_between_read FROM pg_temp.refresh();
SELECT pg_temp.differ_from_rebuild() AS differ;

-- The two in one statement: the day's key does not name them (bars = 2),
-- so the day is recomputed; the 30 minutes and hours are merged.
SELECT pg_temp.forget_held();
SELECT (pg_temp.refresh()).buckets;
SELECT pg_temp.bars(true);
SELECT width, bars FROM stockext.rollup_invalidations ORDER BY width, bucket;
SELECT buckets, upserted, bars_read BETWEEN 1440 AND 1440 + 2 * 30 AS day_read FROM pg_temp.refresh();
SELECT pg_temp.differ_from_rebuild() AS differ;

-- A late bar before every stored bar of its buckets (00:00, the first of
-- its 30 minutes, hour and day) moves the offset of their moments (the
-- earliest close): they are recomputed (30 + 60 + 1,440 bars read), and it
-- is the day's open and first bar.
TRUNCATE held;
INSERT INTO held VALUES (0);
SELECT pg_temp.forget_held();
SELECT (pg_temp.refresh()).buckets;
SELECT pg_temp.late();
SELECT buckets, upserted, bars_read >= 30 + 60 + 1440 AS buckets_read FROM pg_temp.refresh();
SELECT pg_temp.differ_from_rebuild() AS differ;
SELECT open, (candle).first_ts, n
FROM stockext.bars_1d WHERE symbol = 'LATE' ORDER BY bucket;

-- An appended bar (after the last one) of one statement is merged too.
DELETE FROM stockext.ticks WHERE symbol = 'LATE' AND ts = '2025-03-05 23:59+00';
SELECT (pg_temp.refresh()).buckets;
SELECT stockext.upsert_bar('LATE', '2025-03-05 23:59+00', '1 minute', 100, 101, 99, 100.5, 3, 'test');
SELECT buckets, upserted, bars_read < 30 AS merged FROM pg_temp.refresh();
SELECT pg_temp.differ_from_rebuild() AS differ;

-- A key with a since but no count (written by 0.2.0's trigger) and a row
-- without states (written by 0.2.0's refresh) are recomputed: the bar's
-- 30 minutes and hour are read, its day is merged.
DELETE FROM stockext.ticks WHERE symbol = 'LATE' AND ts IN ('2025-03-03 05:00+00', '2025-03-03 06:10+00');
SELECT (pg_temp.refresh()).buckets;
SELECT stockext.upsert_bar('LATE', '2025-03-03 05:00+00', '1 minute', 1, 2, 0.5, 1.5, 1, 'test');
UPDATE stockext.rollup_invalidations SET bars = NULL WHERE width = '30 minutes';
UPDATE stockext.rollups SET candle = NULL, close_moments = NULL
WHERE symbol = 'LATE' AND width = '1 hour' AND bucket = '2025-03-03 05:00+00';
SELECT buckets, upserted, bars_read BETWEEN 30 + 60 AND 1000 AS hour_read_not_day FROM pg_temp.refresh();
SELECT count(*) FILTER (WHERE candle IS NULL OR close_moments IS NULL) AS without_states
FROM stockext.rollups WHERE symbol = 'LATE';
SELECT pg_temp.differ_from_rebuild() AS differ;

-- A width with the metric volatility merges appended bars, and recomputes
-- a bucket with a late one: its returns follow the bars' order.
SELECT stockext.add_rollup('bars_4h', '4 hours', metrics => ARRAY['volatility']) > 0 AS added;
SELECT (stockext.refresh_rollups()).buckets >= 0 AS refreshed;
SELECT stockext.upsert_bar('LATE', '2025-03-03 06:10+00', '1 minute', 100, 101, 99, 100.5, 3, 'test');
SELECT buckets, upserted, bars_read BETWEEN 240 AND 1000 AS four_hours_read_not_day FROM pg_temp.refresh();
SELECT count(*) FILTER (WHERE abs(stockext.volatility(r.returns) - v.vol) > 1e-12) AS volatility_differs
FROM stockext.bars_4h r
JOIN (SELECT stockext.rollup_bucket(ts, '4 hours', '2000-01-03', 'UTC') AS bucket,
             stockext.volatility(close ORDER BY ts) AS vol
      FROM stockext.ticks WHERE symbol = 'LATE' AND resolution = '1 minute' GROUP BY 1) v USING (bucket)
WHERE r.symbol = 'LATE';
SELECT pg_temp.differ_from_rebuild() AS differ;
SELECT stockext.drop_rollup('4 hours');

DELETE FROM stockext.ticks WHERE symbol = 'LATE';
SELECT (stockext.refresh_rollups()).deleted > 0 AS emptied;
RESET client_min_messages;
