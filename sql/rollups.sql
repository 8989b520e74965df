-- Rollups: invalidation per (symbol, bucket), incremental refresh, live
-- views, alignment across DST, gap-filled bars(), randomized equivalence
-- with a full recompute, and the errors.
SET client_min_messages = warning;
SET timezone = 'UTC';
SELECT stockext.create_partitions('2025-01-01', '2025-12-31') >= 0 AS ok;

-- The configured widths and their alignment.
SELECT name, width, origin, time_zone, source_resolution FROM stockext.rollup_widths ORDER BY width;

-- Two hours of minute bars for two symbols, plus a daily bar and 5-minute
-- bars that no rollup reads (each width reads 1-minute bars only).
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT s, timestamptz '2025-06-02 13:30+00' + i * interval '1 minute', '1 minute',
       100 + i, 102 + i, 99 + i, 101 + i, 10 * (i + 1), 'test'
FROM unnest(ARRAY['AAA', 'BBB']) s, generate_series(0, 119) i;
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AAA', '2025-06-02 00:00+00', '1 day', 50, 500, 5, 60, 999999, 'test'),
  ('AAA', '2025-06-02 13:30+00', '5 minutes', 1, 1000, 1, 1, 888888, 'test');
SELECT width, count(*) AS keys FROM stockext.rollup_invalidations GROUP BY width ORDER BY width;

-- Before a refresh the live view already has the bars; the tables do not.
SELECT count(*) AS rolled FROM stockext.bars_30m;
SELECT symbol, bucket, open, high, low, close, volume, n FROM stockext.bars_30m_live WHERE symbol = 'AAA' ORDER BY bucket;
SELECT * FROM stockext.refresh_rollups();
SELECT count(*) AS pending FROM stockext.rollup_invalidations;

-- open = first by ts, close = last, high/low extremes, volume sum, vwap of
-- the typical price weighted by volume, average close, bar count; the daily and
-- 5-minute bars are in none of them.
SELECT symbol, bucket, open, high, low, close, volume, round(vwap::numeric, 6) AS vwap, avg_close, n
FROM stockext.bars_30m ORDER BY symbol, bucket;
SELECT symbol, bucket, open, close, volume, n FROM stockext.bars_1h ORDER BY symbol, bucket;
SELECT symbol, bucket, open, high, low, close, volume, n FROM stockext.bars_1d ORDER BY symbol, bucket;

-- Nothing pending: a refresh claims nothing and writes nothing.
SELECT * FROM stockext.refresh_rollups();

-- An unchanged re-poll invalidates nothing; a changed one invalidates its
-- bucket in each width, and only for that symbol.
SELECT stockext.upsert_bar('AAA', '2025-06-02 13:45+00', '1 minute', 115, 117, 114, 116, 160, 'test');
SELECT count(*) AS pending_after_unchanged_repoll FROM stockext.rollup_invalidations;
SELECT stockext.upsert_bar('AAA', '2025-06-02 13:45+00', '1 minute', 115, 130, 114, 116, 1160, 'test');
SELECT symbol, width, bucket FROM stockext.rollup_invalidations ORDER BY width;
-- The live view shows the new values before the refresh, the table after.
SELECT bucket, high, volume FROM stockext.bars_30m_live WHERE symbol = 'AAA' AND bucket = '2025-06-02 13:30+00';
SELECT bucket, high, volume FROM stockext.bars_30m WHERE symbol = 'AAA' AND bucket = '2025-06-02 13:30+00';
SELECT * FROM stockext.refresh_rollups();
SELECT bucket, high, volume FROM stockext.bars_30m WHERE symbol = 'AAA' AND bucket = '2025-06-02 13:30+00';

-- A late bar far behind the others, then its deletion: the bucket appears,
-- then goes away; an UPDATE moving a bar to another time invalidates both.
SELECT stockext.upsert_bar('BBB', '2025-05-01 10:07+00', '1 minute', 10, 11, 9, 10.5, 5, 'test');
SELECT * FROM stockext.refresh_rollups();
SELECT bucket, open, close, n FROM stockext.bars_30m WHERE symbol = 'BBB' AND bucket < '2025-06-01';
UPDATE stockext.ticks SET ts = '2025-05-01 11:07+00' WHERE symbol = 'BBB' AND ts = '2025-05-01 10:07+00';
SELECT * FROM stockext.refresh_rollups();
SELECT bucket, open, close, n FROM stockext.bars_30m WHERE symbol = 'BBB' AND bucket < '2025-06-01';
DELETE FROM stockext.ticks WHERE symbol = 'BBB' AND ts < '2025-06-01';
SELECT * FROM stockext.refresh_rollups();
SELECT count(*) AS old_buckets_left FROM stockext.rollups WHERE symbol = 'BBB' AND bucket < '2025-06-01';

-- Session alignment: 1-hour buckets start at 09:30 New York time on both
-- sides of the DST changes of 2025-03-09 and 2025-11-02 (Friday before and
-- Monday after), so the first hour is 09:30-10:30, never a 30-minute stub.
SELECT stockext.set_rollup_alignment('1 hour', '2000-01-03 09:30', 'America/New_York') > 0 AS rebuilt;
SELECT stockext.set_rollup_alignment('1 day', '2000-01-03 00:00', 'America/New_York') > 0 AS rebuilt;
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'DST', (d + interval '09:30' + i * interval '1 minute') AT TIME ZONE 'America/New_York',
       '1 minute', 10, 11, 9, 10, 1, 'test'
FROM unnest(ARRAY[timestamp '2025-03-07', '2025-03-10', '2025-10-31', '2025-11-03']) d,
     generate_series(0, 119) i;
-- A crypto symbol trading through the night of 2025-03-09 (the clock jumps
-- from 02:00 to 03:00): its New York day has 23 hours of bars.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'BTC/USD', g, '1 minute', 10, 11, 9, 10, 1, 'test'
FROM generate_series(timestamptz '2025-03-09 00:00-05', '2025-03-10 01:59-04', interval '1 minute') g;
SELECT * FROM stockext.refresh_rollups();
SET timezone = 'America/New_York';
SELECT bucket, n FROM stockext.bars_1h WHERE symbol = 'DST' ORDER BY bucket;
SELECT bucket, n, (lead(bucket) OVER (ORDER BY bucket) - bucket) AS to_next FROM stockext.bars_1d WHERE symbol = 'BTC/USD' ORDER BY bucket;
-- The live view and bars() agree on the session buckets.
SELECT bucket, n FROM stockext.bars('DST', '1 hour', '2025-03-10 00:00', '2025-03-11 00:00');
SET timezone = 'UTC';

-- Gap filling: a 30-minute series with a hole.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('GAP', '2025-07-01 09:55+00', '1 minute', 20, 21, 19, 20.5, 7, 'test'),
  ('GAP', '2025-07-01 10:05+00', '1 minute', 10, 12, 9, 11, 100, 'test'),
  ('GAP', '2025-07-01 10:20+00', '1 minute', 11, 13, 10, 12, 200, 'test'),
  ('GAP', '2025-07-01 11:40+00', '1 minute', 12, 14, 11, 13, 300, 'test');
SELECT * FROM stockext.bars('GAP', '30 minutes', '2025-07-01 10:00+00', '2025-07-01 12:30+00');
SELECT * FROM stockext.bars('GAP', '30 minutes', '2025-07-01 10:00+00', '2025-07-01 12:30+00', 'null');
SELECT * FROM stockext.bars('GAP', '30 minutes', '2025-07-01 10:00+00', '2025-07-01 12:30+00', 'previous');
-- A start inside a bucket: the buckets from 10:30 on, the first carrying
-- the close of the 10:00 bucket that holds the start (12, not 20.5).
SELECT * FROM stockext.bars('GAP', '30 minutes', '2025-07-01 10:15+00', '2025-07-01 11:30+00', 'previous');
-- Before any bar there is nothing to carry: NULLs.
SELECT * FROM stockext.bars('GAP', '30 minutes', '2025-07-01 09:00+00', '2025-07-01 10:00+00', 'locf');
-- A width with no rollup table is computed from the ticks.
SELECT * FROM stockext.bars('GAP', '45 minutes', '2025-07-01 09:45+00', '2025-07-01 12:00+00', 'previous');
-- A range without bars: a NULL row per bucket (a symbol without any bar
-- is an error: see errors).
SELECT count(*) AS rows FROM stockext.bars('GAP', '1 hour', '2025-06-01', '2025-06-02', 'null');

-- Randomized: inserts, upserts with changed and unchanged values, out of
-- order and late bars, deletes and refreshes over several symbols; after
-- every refresh the rollups equal a full recompute written independently.
CREATE TEMP TABLE mismatches (step int, width interval, missing bigint, extra bigint);
CREATE FUNCTION pg_temp.check_rollups(step int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mismatches
    WITH bars AS (
        SELECT w.width, t.symbol, stockext.rollup_bucket(t.ts, w.width, w.origin, w.time_zone) AS bucket,
               t.ts, t.open, t.high, t.low, t.close, t.volume
        FROM stockext.ticks t JOIN stockext.rollup_widths w ON t.resolution = w.source_resolution
    ), ranked AS (
        SELECT b.*, row_number() OVER (PARTITION BY b.width, b.symbol, b.bucket ORDER BY b.ts) AS first,
                    row_number() OVER (PARTITION BY b.width, b.symbol, b.bucket ORDER BY b.ts DESC) AS last
        FROM bars b
    ), expected AS (
        SELECT width, symbol, bucket,
               max(open) FILTER (WHERE first = 1) AS open, max(high) AS high, min(low) AS low,
               max(close) FILTER (WHERE last = 1) AS close, sum(volume) AS volume,
               round((sum((high + low + close) / 3 * volume) / nullif(sum(volume), 0))::numeric, 8) AS vwap,
               round(avg(close)::numeric, 8) AS avg_close, count(*) AS n
        FROM ranked GROUP BY width, symbol, bucket
    ), actual AS (
        SELECT width, symbol, bucket, open, high, low, close, volume,
               round(vwap::numeric, 8), round(avg_close::numeric, 8), n
        FROM stockext.rollups
    )
    SELECT step, w.width,
           (SELECT count(*) FROM (SELECT * FROM expected e WHERE e.width = w.width EXCEPT SELECT * FROM actual a WHERE a.width = w.width) x),
           (SELECT count(*) FROM (SELECT * FROM actual a WHERE a.width = w.width EXCEPT SELECT * FROM expected e WHERE e.width = w.width) x)
    FROM stockext.rollup_widths w;
END $$;
SELECT setseed(0.42);
DO $$
DECLARE
    syms text[] := ARRAY['R1', 'R2', 'R3', 'R.4'];
    step int;
    s text;
    t timestamptz;
    p float8;
    r float8;
BEGIN
    FOR step IN 1..150 LOOP
        r := random();
        s := syms[1 + floor(random() * 4)::int];
        IF r < 0.35 THEN
            -- a batch of bars in random order, some over existing ones
            INSERT INTO stockext.ticks AS k (symbol, ts, resolution, open, high, low, close, volume, source)
            SELECT s, x.ts, '1 minute', x.p, x.p + 1, x.p - 1, x.p + 0.5, (random() * 100)::bigint, 'rand'
            FROM (SELECT DISTINCT ON (ts) timestamptz '2025-08-04 13:00+00' + floor(random() * 600) * interval '1 minute' AS ts,
                         50 + floor(random() * 5) AS p
                  FROM generate_series(1, 1 + floor(random() * 40)::int) ORDER BY ts) x
            ON CONFLICT (symbol, ts, resolution) DO UPDATE
               SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
                   volume = excluded.volume
               WHERE (k.open, k.high, k.low, k.close, k.volume) IS DISTINCT FROM
                     (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume);
        ELSIF r < 0.55 THEN
            -- a re-poll of a stored bar, changed half of the time
            SELECT ts, open INTO t, p FROM stockext.ticks WHERE symbol = s AND resolution = '1 minute'
            ORDER BY random() LIMIT 1;
            IF t IS NOT NULL THEN
                IF random() < 0.5 THEN p := p + 1; END IF;
                PERFORM stockext.upsert_bar(s, t, '1 minute', p, p + 1, p - 1, p + 0.5,
                                            (SELECT volume FROM stockext.ticks WHERE symbol = s AND ts = t AND resolution = '1 minute'),
                                            'rand');
            END IF;
        ELSIF r < 0.65 THEN
            -- a late bar days before the others, or a daily bar nobody rolls up
            PERFORM stockext.upsert_bar(s, timestamptz '2025-07-28 13:00+00' + floor(random() * 200) * interval '15 minutes',
                                        CASE WHEN random() < 0.8 THEN interval '1 minute' ELSE interval '1 day' END,
                                        40, 41, 39, 40.5, 3, 'rand');
        ELSIF r < 0.75 THEN
            DELETE FROM stockext.ticks
            WHERE symbol = s AND ts >= timestamptz '2025-08-04 13:00+00' + floor(random() * 600) * interval '1 minute'
              AND ts < timestamptz '2025-08-04 13:00+00' + floor(random() * 600) * interval '1 minute';
        ELSE
            PERFORM stockext.refresh_rollups();
            PERFORM pg_temp.check_rollups(step);
        END IF;
    END LOOP;
    PERFORM stockext.refresh_rollups();
    PERFORM pg_temp.check_rollups(0);
END $$;
SELECT count(DISTINCT step) >= 30 AS checked_often, count(*) FILTER (WHERE missing + extra > 0) AS failed_checks
FROM mismatches;
SELECT count(*) > 500 AS enough_bars FROM stockext.ticks WHERE symbol LIKE 'R%';

-- Refresh and rebuild agree to the last bit whatever order the heap holds
-- the bars in (every column is an order-independent sum): three days of
-- minute bars with random prices inserted in random order, refreshed, a
-- third of them re-polled with other closes, refreshed again, then rebuilt.
-- The moments of the closes are added in ts order, so even their state
-- (offsets from the earliest close) is the same.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'ORD', ts, '1 minute', p, p + 0.01, p - 0.01, p, 1 + floor(random() * 1000), 'test'
FROM (SELECT timestamptz '2025-09-01 00:00+00' + i * interval '1 minute' AS ts, 100 + random() AS p
      FROM generate_series(0, 4319) i ORDER BY random()) x;
SELECT (stockext.refresh_rollups()).buckets > 0 AS refreshed;
UPDATE stockext.ticks SET close = low + (high - low) * random()
WHERE symbol = 'ORD' AND random() < 0.33;
SELECT (stockext.refresh_rollups()).buckets > 0 AS refreshed;
CREATE TEMP TABLE refreshed AS SELECT * FROM stockext.rollups WHERE symbol = 'ORD';
SELECT stockext.rebuild_rollups() > 0 AS rebuilt;
SELECT count(*) AS rows, count(*) FILTER (WHERE NOT EXISTS (
           SELECT FROM stockext.rollups r WHERE r.symbol = 'ORD' AND (r.*) IS NOT DISTINCT FROM (f.*))) AS differ
FROM refreshed f;

-- Errors.
\set VERBOSITY default
SELECT * FROM stockext.bars('GAP', '30 minutes', '2025-07-01', '2025-07-02', 'linear');
SELECT * FROM stockext.bars('GAP', '2 months', '2025-07-01', '2025-07-02');
SELECT * FROM stockext.bars('GAP', '-1 hour', '2025-07-01', '2025-07-02');
SELECT * FROM stockext.bars('GAP', '1 second', '2025-01-01', '2025-07-02');
SELECT * FROM stockext.bars('GAP', '1 hour', '2025-07-02', '2025-07-01');
SELECT * FROM stockext.bars(NULL, '1 hour', '2025-07-01', '2025-07-02');
SELECT stockext.add_rollup('bars_2h', '2 hours', time_zone => 'Mars/Olympus');
SELECT stockext.add_rollup('Bars 2h', '2 hours');
SELECT stockext.add_rollup('bars_2h', '2 hours', source_resolution => '2 hours');
SELECT stockext.rebuild_rollups('7 minutes');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM stockext.refresh_rollups();
ROLLBACK;
-- pg_cron lives in database postgres, this is contrib_regression, and
-- dblink is not here: scheduling says so and shows what to run there.
SELECT stockext.schedule_jobs();
\set VERBOSITY terse

-- A width added later is filled at once and dropped with the extension's objects.
SELECT stockext.add_rollup('bars_2h', '2 hours') > 0 AS filled;
SELECT bucket, n FROM stockext.bars_2h_live WHERE symbol = 'AAA' ORDER BY bucket;
SELECT count(*) AS members FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND objid IN ('stockext.bars_2h'::regclass, 'stockext.bars_2h_live'::regclass);
SELECT stockext.drop_rollup('2 hours');
SELECT to_regclass('stockext.bars_2h') IS NULL AS gone;

-- Partition maintenance: a stray bar in the default partition gets its
-- month; old partitions are dropped only when asked and rolled up.
SELECT stockext.upsert_bar('OLD', '2019-03-05 15:00+00', '1 minute', 1, 1, 1, 1, 1, 'test');
SELECT tableoid::regclass FROM stockext.ticks WHERE symbol = 'OLD';
SELECT stockext.maintain_partitions() >= 1 AS created;
SELECT tableoid::regclass FROM stockext.ticks WHERE symbol = 'OLD';
SELECT stockext.apply_retention() AS dropped_when_off;
INSERT INTO stockext.maintenance_settings (drop_ticks_after) VALUES ('5 years');
SELECT stockext.apply_retention() AS dropped_while_pending;
SELECT count(*) > 0 AS still_there FROM stockext.ticks WHERE symbol = 'OLD';
SELECT * FROM stockext.refresh_rollups();
SELECT stockext.apply_retention() >= 1 AS dropped;
SELECT count(*) AS ticks_left, (SELECT n FROM stockext.bars_1h WHERE symbol = 'OLD') AS rollup_kept
FROM stockext.ticks WHERE symbol = 'OLD';
DELETE FROM stockext.maintenance_settings;
-- Raw replies older than their feed's retention go, and those of a removed
-- feed after 7 days.
INSERT INTO stockext.raw_replies (feed_id, at, reply) VALUES
  (-1, now() - interval '8 days', '{"old": true}'), (-1, now() - interval '1 day', '{"new": true}');
SELECT stockext.apply_retention() AS dropped;
SELECT reply FROM stockext.raw_replies WHERE feed_id = -1;

-- Labels.
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p WHERE p.pronamespace = 'stockext'::regnamespace
  AND p.proname IN ('rollup_bucket', 'refresh_rollups', 'rebuild_rollups', 'bars', 'schedule_jobs',
                    'unschedule_jobs', 'maintain_partitions', 'apply_retention', 'cron_jobs', 'add_rollup')
ORDER BY 1;
SELECT count(*) AS public_objects_without_comment
FROM pg_proc p WHERE p.pronamespace = 'stockext'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL;
