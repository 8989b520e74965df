-- ASOF and the latest bar per series: stockext.asof() by hand (gaps,
-- resolutions, case, tolerance, no bar, NULLs), its plan (inlined, a
-- backward scan of the key with LIMIT 1 per partition); stockext.latest_bars
-- after every kind of write (insert, COPY, late bar, upsert, update,
-- delete, TRUNCATE, retention, direct partition changes and their repair),
-- its privileges; and randomized cross-checks against the plain-SQL routes.
SET client_min_messages = warning;
SET timezone = 'UTC';
SELECT stockext.create_partitions('2025-03-01', '2025-03-31') >= 0 AS ok;

-- Every (symbol, resolution) whose latest_bars row differs from the newest
-- bar in ticks (DISTINCT ON), both ways: must stay empty.
CREATE VIEW pg_temp.latest_wrong AS
WITH want AS (
    SELECT DISTINCT ON (symbol, resolution) symbol, resolution, ts, open, high, low, close, volume
    FROM stockext.ticks ORDER BY symbol, resolution, ts DESC
), have AS (
    SELECT symbol, resolution, ts, open, high, low, close, volume FROM stockext.latest_bars
)
SELECT 'missing' AS what, * FROM (TABLE want EXCEPT ALL TABLE have) m
UNION ALL
SELECT 'extra', * FROM (TABLE have EXCEPT ALL TABLE want) x;

-- The series of this test.
CREATE VIEW pg_temp.mine AS
SELECT symbol, resolution, ts, open, high, low, close, volume FROM stockext.latest_bars
WHERE symbol LIKE 'AS\_%' ORDER BY symbol, resolution;

---------------------------------------------------------------- asof

-- AS_A: 1-minute bars at 10:00, 10:01 and 10:05 (a gap), and 5-minute bars
-- at 10:00 and 10:05; AS_B: a daily bar.  The close says which bar it is.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AS_A', '2025-03-03 10:00+00', '1 minute', 10, 11, 9, 10.00, 100, 'test'),
  ('AS_A', '2025-03-03 10:01+00', '1 minute', 10, 11, 9, 10.01, 101, 'test'),
  ('AS_A', '2025-03-03 10:05+00', '1 minute', 10, 11, 9, 10.05, 105, 'test'),
  ('AS_A', '2025-03-03 10:00+00', '5 minutes', 50, 52, 48, 50.00, 500, 'test'),
  ('AS_A', '2025-03-03 10:05+00', '5 minutes', 50, 52, 48, 50.05, 505, 'test'),
  ('AS_B', '2025-03-03 00:00+00', '1 day', 20, 21, 19, 20.5, NULL, 'test');

-- At a bar's start, inside it, in a gap (the bar before it is in effect),
-- after the last one (it stays in effect), before the first (none).
SELECT at, a.ts, a.close, a.volume
FROM unnest(ARRAY[timestamptz '2025-03-03 10:00', '2025-03-03 10:00:59.999', '2025-03-03 10:01',
                  '2025-03-03 10:04:59', '2025-03-03 10:05', '2025-03-04 12:00', '2025-03-03 09:59:59']) at
LEFT JOIN LATERAL stockext.asof('AS_A', at) a ON true
ORDER BY at;
-- Symbols in any case, like bars(); other resolutions; the full row.
SELECT * FROM stockext.asof('as_a', '2025-03-03 10:07', '5 minutes');
SELECT * FROM stockext.asof('As_B', '2025-03-03 23:59', '1 day');
-- A resolution the symbol does not have, an unknown symbol: no row.
SELECT count(*) AS none FROM stockext.asof('AS_B', '2025-03-03 23:59');
SELECT count(*) AS none FROM stockext.asof('AS_NOPE', '2025-03-03 23:59');
-- Tolerance: the bar must start no earlier than at - tolerance.  At 10:03
-- the bar in effect (10:01) is 2 minutes old; 0 takes only a bar starting
-- at at; a negative tolerance finds nothing.
SELECT tol, a.ts, a.close
FROM unnest(ARRAY[NULL, interval '1 minute', '1 minute 59 seconds', '2 minutes', '1 hour', '-1 minute']) tol
LEFT JOIN LATERAL stockext.asof('AS_A', '2025-03-03 10:03', tolerance => tol) a ON true
ORDER BY tol NULLS FIRST;
SELECT ts, close FROM stockext.asof('AS_A', '2025-03-03 10:05', '1 minute', '0');
SELECT count(*) AS none FROM stockext.asof('AS_A', '2025-03-03 10:05:01', '1 minute', '0');
-- NULL symbol, instant or resolution: no row (not an error: one event
-- without a symbol does not stop a join).
SELECT count(*) AS none FROM stockext.asof(NULL, '2025-03-03 10:03');
SELECT count(*) AS none FROM stockext.asof('AS_A', NULL);
SELECT count(*) AS none FROM stockext.asof('AS_A', '2025-03-03 10:03', NULL);

-- The join it is for: CROSS JOIN LATERAL drops the events without a bar,
-- LEFT JOIN LATERAL ... ON true keeps them with NULLs.
CREATE TEMP TABLE ev (id int, symbol text, ts timestamptz);
INSERT INTO ev VALUES (1, 'AS_A', '2025-03-03 10:00:30'), (2, 'as_a', '2025-03-03 10:04'),
                      (3, 'AS_A', '2025-03-03 09:00'), (4, NULL, '2025-03-03 10:04'),
                      (5, 'AS_A', '2025-03-03 10:30');
SELECT e.id, a.ts, a.close FROM ev e CROSS JOIN LATERAL stockext.asof(e.symbol, e.ts) a ORDER BY e.id;
SELECT e.id, a.ts, a.close FROM ev e LEFT JOIN LATERAL stockext.asof(e.symbol, e.ts) a ON true ORDER BY e.id;
SELECT e.id, a.ts, a.close FROM ev e LEFT JOIN LATERAL stockext.asof(e.symbol, e.ts, tolerance => '10 minutes') a ON true
ORDER BY e.id;

-- The plan: asof() is inlined (no Function Scan), and each row is a
-- backward scan of the primary key, stopped by LIMIT 1, on the partitions
-- that may hold it (the monthly ones and ticks_default, merged by ts).  The
-- months other tests made are folded into one line per kind of node.
CREATE FUNCTION pg_temp.plan_shape(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    seen text[] := '{}';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        line := regexp_replace(regexp_replace(line, 'ticks_p\d{6}', 'ticks_pYYYYMM', 'g'), ' t_\d+', ' t_N', 'g');
        line := regexp_replace(line, 'Subplans Removed: \d+', 'Subplans Removed: N');
        CONTINUE WHEN line = ANY (seen);
        seen := seen || line;
        RETURN NEXT line;
    END LOOP;
END
$$;
SELECT pg_temp.plan_shape('SELECT * FROM ev e CROSS JOIN LATERAL stockext.asof(e.symbol, e.ts) a');
-- With a constant instant and a tolerance one month is left (the others,
-- ticks_default included, are pruned when the executor starts).
SELECT pg_temp.plan_shape($q$SELECT * FROM stockext.asof('as_a', '2025-03-03 10:03', '1 minute', '1 hour')$q$);
-- It is what the hand-written LATERAL route plans to (but for the casts
-- the collation brings into the index conditions).
SELECT (SELECT array_agg(p) FROM pg_temp.plan_shape('SELECT * FROM ev e CROSS JOIN LATERAL stockext.asof(e.symbol, e.ts) a') p
        WHERE p NOT LIKE '%Index Cond%')
     = (SELECT array_agg(p) FROM pg_temp.plan_shape(
            $q$SELECT * FROM ev e CROSS JOIN LATERAL (
                   SELECT t.ts, t.open, t.high, t.low, t.close, t.volume FROM stockext.ticks t
                   WHERE t.symbol = upper(e.symbol) AND t.resolution = '1 minute' AND t.ts <= e.ts
                   ORDER BY t.ts DESC LIMIT 1) a$q$) p
        WHERE p NOT LIKE '%Index Cond%') AS same_plan;
-- Labels.
SELECT p.provolatile, p.proisstrict, p.proparallel, p.prosecdef, p.proconfig, p.prosqlbody IS NOT NULL AS atomic
FROM pg_proc p WHERE p.oid = 'stockext.asof(text, timestamptz, interval, interval)'::regprocedure;

---------------------------------------------------------------- latest_bars

-- One row per (symbol, resolution) with its newest bar and its age.
SELECT * FROM pg_temp.mine;
SELECT age = now() - ts AS age_is_now_minus_start FROM stockext.latest_bars WHERE symbol = 'AS_B';
SELECT count(*) AS wrong FROM pg_temp.latest_wrong;

-- A late bar (older than the newest) changes nothing; a newer one replaces
-- it; one statement with bars of several series updates each.
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
VALUES ('AS_A', '2025-03-03 09:30+00', '1 minute', 10, 11, 9, 9.30, 930, 'test');
SELECT symbol, resolution, ts, close FROM pg_temp.mine WHERE resolution = '1 minute';
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AS_A', '2025-03-03 10:06+00', '1 minute', 10, 11, 9, 10.06, 106, 'test'),
  ('AS_A', '2025-03-03 10:07+00', '1 minute', 10, 11, 9, 10.07, 107, 'test'),
  ('AS_A', '2025-03-03 09:31+00', '1 minute', 10, 11, 9, 9.31, 931, 'test'),
  ('AS_B', '2025-03-04 00:00+00', '1 day', 20, 21, 19, 20.6, NULL, 'test'),
  ('AS_C', '2025-03-03 10:00+00', '1 minute', 30, 31, 29, 30.0, 3, 'test');
SELECT * FROM pg_temp.mine;

-- Upserts: re-polling the newest bar with a new close updates it, an
-- unchanged re-poll writes nothing, a changed older bar leaves the row.
SELECT stockext.upsert_bar('as_a', '2025-03-03 10:07+00', '1 minute', 10, 11, 9, 10.70, 170, 'test');
SELECT stockext.upsert_bar('AS_A', '2025-03-03 10:07+00', '1 minute', 10, 11, 9, 10.70, 170, 'test');
SELECT stockext.upsert_bar('AS_A', '2025-03-03 10:06+00', '1 minute', 10, 11, 9, 10.60, 160, 'test');
SELECT symbol, resolution, ts, close, volume FROM pg_temp.mine WHERE symbol = 'AS_A' AND resolution = '1 minute';
-- A multi-row ON CONFLICT DO UPDATE (the worker's statement): one new
-- newest bar and an updated older one.
INSERT INTO stockext.ticks AS t (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AS_A', '2025-03-03 10:08+00', '1 minute', 10, 11, 9, 10.08, 108, 'test'),
  ('AS_A', '2025-03-03 10:01+00', '1 minute', 10, 11, 9, 10.11, 111, 'test')
ON CONFLICT (symbol, ts, resolution) DO UPDATE SET close = excluded.close, volume = excluded.volume;
SELECT symbol, resolution, ts, close, volume FROM pg_temp.mine WHERE symbol = 'AS_A' AND resolution = '1 minute';
SELECT count(*) AS wrong FROM pg_temp.latest_wrong;

-- Updates: a changed value of the newest bar shows; moving the newest bar
-- back in time (its key changes) lets the next newest take over; moving an
-- older bar ahead of it makes that one the newest.
UPDATE stockext.ticks SET close = 10.80, high = 11 WHERE symbol = 'AS_A' AND resolution = '1 minute' AND ts = '2025-03-03 10:08+00';
SELECT ts, close FROM pg_temp.mine WHERE symbol = 'AS_A' AND resolution = '1 minute';
UPDATE stockext.ticks SET ts = '2025-03-03 09:00+00' WHERE symbol = 'AS_A' AND resolution = '1 minute' AND ts = '2025-03-03 10:08+00';
SELECT ts, close FROM pg_temp.mine WHERE symbol = 'AS_A' AND resolution = '1 minute';
UPDATE stockext.ticks SET ts = '2025-03-03 11:00+00' WHERE symbol = 'AS_A' AND resolution = '1 minute' AND ts = '2025-03-03 09:30+00';
SELECT ts, close FROM pg_temp.mine WHERE symbol = 'AS_A' AND resolution = '1 minute';
-- Renaming a series moves its row.
UPDATE stockext.ticks SET symbol = 'AS_D' WHERE symbol = 'AS_C';
SELECT symbol, ts, close FROM pg_temp.mine WHERE symbol IN ('AS_C', 'AS_D');
SELECT count(*) AS wrong FROM pg_temp.latest_wrong;

-- Deletes: an older bar changes nothing; the newest gives way to the one
-- before; the last bar of a series takes its row along.
DELETE FROM stockext.ticks WHERE symbol = 'AS_A' AND resolution = '1 minute' AND ts = '2025-03-03 10:00+00';
SELECT ts, close FROM pg_temp.mine WHERE symbol = 'AS_A' AND resolution = '1 minute';
DELETE FROM stockext.ticks WHERE symbol = 'AS_A' AND resolution = '1 minute' AND ts >= '2025-03-03 10:07+00';
SELECT ts, close FROM pg_temp.mine WHERE symbol = 'AS_A' AND resolution = '1 minute';
DELETE FROM stockext.ticks WHERE symbol = 'AS_D';
SELECT count(*) AS as_d_rows FROM pg_temp.mine WHERE symbol = 'AS_D';
SELECT count(*) AS wrong FROM pg_temp.latest_wrong;

-- COPY, as the worker's write path takes for a batch of 1,000 bars or more
-- (ingest_simulated goes through it).
SELECT stockext.ingest_simulated('AS_SIM', '2025-03-04 00:00+00', '2025-03-05 00:00+00', '1 minute', 7) AS stored;
SELECT symbol, ts, close = (SELECT b.close FROM stockext.simulate_bars('AS_SIM', '2025-03-04 23:59+00', '2025-03-05 00:00+00', '1 minute', 7) b) AS same_close
FROM pg_temp.mine WHERE symbol = 'AS_SIM';
SELECT count(*) AS wrong FROM pg_temp.latest_wrong;

-- TRUNCATE empties it (rolled back: later tests keep their bars).
BEGIN;
TRUNCATE stockext.ticks;
SELECT count(*) AS rows_after_truncate FROM stockext.latest_bars;
ROLLBACK;

-- Retention drops old months without a trigger firing: a series whose
-- bars were all in a dropped month goes, one with older bars elsewhere (in
-- ticks_default here) falls back to them.  Rolled back.
SELECT stockext.create_partitions('2019-01-01', '2019-01-31') >= 0 AS ok;
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) VALUES
  ('AS_OLD', '2019-01-02 10:00+00', '1 minute', 1, 1, 1, 1, 1, 'test'),
  ('AS_MIX', '2019-01-02 10:00+00', '1 minute', 2, 2, 2, 2, 2, 'test'),
  ('AS_MIX', '1990-01-02 10:00+00', '1 minute', 3, 3, 3, 3, 3, 'test');
SELECT symbol, ts, close FROM pg_temp.mine WHERE symbol IN ('AS_OLD', 'AS_MIX');
BEGIN;
INSERT INTO stockext.maintenance_settings (drop_ticks_after) VALUES ('1 year')
ON CONFLICT (single) DO UPDATE SET drop_ticks_after = excluded.drop_ticks_after;
SELECT count(*) >= 0 AS refreshed FROM stockext.refresh_rollups();
SELECT stockext.apply_retention() >= 1 AS dropped;
SELECT to_regclass('stockext.ticks_p201901') AS january_2019;
SELECT symbol, ts, close FROM pg_temp.mine WHERE symbol IN ('AS_OLD', 'AS_MIX');
SELECT count(*) AS wrong FROM pg_temp.latest_wrong;
ROLLBACK;

-- Statements on a partition itself fire no trigger of ticks: the row stays
-- until stockext.rebuild_latest_bars() recomputes them all.  Rolled back.
BEGIN;
DELETE FROM stockext.ticks_p201901 WHERE symbol = 'AS_OLD';
SELECT what, symbol, ts FROM pg_temp.latest_wrong WHERE symbol LIKE 'AS\_%';
SELECT stockext.rebuild_latest_bars() > 0 AS rebuilt;
SELECT count(*) AS wrong FROM pg_temp.latest_wrong;
ROLLBACK;
DELETE FROM stockext.ticks WHERE symbol IN ('AS_OLD', 'AS_MIX');

-- Privileges: latest_bars and latest_ticks follow ticks, like the rollups.
CREATE ROLE regress_latest_reader;
GRANT USAGE ON SCHEMA stockext TO regress_latest_reader;
SET ROLE regress_latest_reader;
\set VERBOSITY terse
SELECT count(*) FROM stockext.latest_bars;
\set VERBOSITY default
RESET ROLE;
GRANT SELECT ON stockext.ticks TO regress_latest_reader;
SET ROLE regress_latest_reader;
SELECT count(*) > 0 AS reads FROM stockext.latest_bars;
SELECT count(*) AS as_a FROM stockext.asof('AS_A', '2025-03-03 10:03');
RESET ROLE;
-- Writing bars needs no right on latest_ticks (the trigger is SECURITY
-- DEFINER).
GRANT INSERT ON stockext.ticks TO regress_latest_reader;
SET ROLE regress_latest_reader;
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
VALUES ('AS_A', '2025-03-03 12:00+00', '1 minute', 10, 13, 9, 12.00, 1200, 'test');
SELECT ts, close FROM stockext.latest_bars WHERE symbol = 'AS_A' AND resolution = '1 minute';
RESET ROLE;
REVOKE ALL ON stockext.ticks FROM regress_latest_reader;
SELECT count(*) AS grants_left FROM pg_class c, aclexplode(c.relacl) a
WHERE c.oid IN ('stockext.latest_bars'::regclass, 'stockext.latest_ticks'::regclass)
  AND a.grantee = 'regress_latest_reader'::regrole;
REVOKE USAGE ON SCHEMA stockext FROM regress_latest_reader;
DROP ROLE regress_latest_reader;

---------------------------------------------------------------- randomized

-- 10,000 random bars over 4 symbols and two resolutions (in three
-- statements of each kind: inserts with late bars among them, upserts,
-- updates moving keys, deletes of scattered bars and of newest ones, picked
-- by hash so that the outcome does not depend on the order rows are read
-- in), latest_bars checked after each statement;
-- then 5,000 random probes of asof() against the LATERAL route, with and
-- without a tolerance, and against a DISTINCT ON route on 500 of them.
SELECT setseed(0.2024);
CREATE TEMP TABLE rnd AS
SELECT 'AS_R' || (1 + floor(random() * 4))::int AS symbol,
       CASE WHEN random() < 0.7 THEN interval '1 minute' ELSE interval '5 minutes' END AS resolution,
       floor(random() * 40000)::int AS step, 1 + random() AS p, floor(random() * 1000)::bigint AS v
FROM generate_series(1, 10000);
CREATE TEMP TABLE checks (stmt text, wrong bigint);
DO $$
DECLARE
    part int;
BEGIN
    FOR part IN 0 .. 2 LOOP
        INSERT INTO stockext.ticks AS t (symbol, ts, resolution, open, high, low, close, volume, source)
        SELECT DISTINCT ON (symbol, resolution, ts) symbol, ts, resolution, p, p + 1, p, p, v, 'rnd'
        FROM (SELECT r.*, timestamptz '2025-03-10 00:00+00' + r.step * 5 * interval '1 minute' AS ts FROM rnd r) r
        WHERE r.step % 3 = part
        ORDER BY symbol, resolution, ts, p
        ON CONFLICT (symbol, ts, resolution) DO UPDATE SET close = excluded.close, volume = excluded.volume;
        INSERT INTO checks SELECT 'insert ' || part, count(*) FROM pg_temp.latest_wrong;
        UPDATE stockext.ticks SET close = close * 1.01, high = high * 1.01
        WHERE symbol LIKE 'AS\_R%' AND extract(epoch FROM ts)::bigint % 7 = part;
        INSERT INTO checks SELECT 'update ' || part, count(*) FROM pg_temp.latest_wrong;
        UPDATE stockext.ticks SET ts = ts - interval '1 hour'
        WHERE symbol = 'AS_R' || (part + 1) AND ts > (SELECT max(ts) - interval '3 hours' FROM stockext.ticks WHERE symbol = 'AS_R' || (part + 1))
          AND NOT EXISTS (SELECT FROM stockext.ticks o WHERE o.symbol = ticks.symbol AND o.resolution = ticks.resolution
                          AND o.ts = ticks.ts - interval '1 hour');
        INSERT INTO checks SELECT 'move ' || part, count(*) FROM pg_temp.latest_wrong;
        DELETE FROM stockext.ticks WHERE symbol LIKE 'AS\_R%' AND hashtext(symbol || ts || part) % 20 = 0;
        DELETE FROM stockext.ticks
        WHERE (symbol, resolution, ts) IN (SELECT symbol, resolution, ts FROM stockext.latest_ticks
                                           WHERE symbol LIKE 'AS\_R%' AND hashtext(symbol || resolution || part) % 2 = 0);
        INSERT INTO checks SELECT 'delete ' || part, count(*) FROM pg_temp.latest_wrong;
    END LOOP;
END
$$;
SELECT stmt, wrong FROM checks;
SELECT count(*) AS bars, count(DISTINCT (symbol, resolution)) AS series
FROM stockext.ticks WHERE symbol LIKE 'AS\_R%';

CREATE TEMP TABLE probes AS
SELECT i, 'as_r' || (1 + floor(random() * 5))::int AS symbol,
       timestamptz '2025-03-09 00:00+00' + random() * interval '160 days' AS at,
       CASE WHEN random() < 0.5 THEN interval '1 minute' ELSE interval '5 minutes' END AS resolution,
       CASE WHEN random() < 0.5 THEN NULL ELSE random() * interval '20 minutes' END AS tolerance
FROM generate_series(1, 5000) i;
-- asof() against LATERAL (... ORDER BY ts DESC LIMIT 1): rows found by
-- each, and those that differ (NULL-safe, whole rows).
WITH a AS (
    SELECT p.i, x.* FROM probes p LEFT JOIN LATERAL stockext.asof(p.symbol, p.at, p.resolution, p.tolerance) x ON true
), b AS (
    SELECT p.i, x.* FROM probes p LEFT JOIN LATERAL (
        SELECT t.ts, t.open, t.high, t.low, t.close, t.volume FROM stockext.ticks t
        WHERE t.symbol = upper(p.symbol) AND t.resolution = p.resolution AND t.ts <= p.at
          AND (p.tolerance IS NULL OR t.ts >= p.at - p.tolerance)
        ORDER BY t.ts DESC LIMIT 1) x ON true
)
SELECT (SELECT count(ts) FROM a) AS found, (SELECT count(*) FROM a WHERE ts IS NULL) AS not_found,
       (SELECT count(*) FROM a JOIN b USING (i) WHERE (a.*) IS DISTINCT FROM (b.*)) AS differ;
-- Against DISTINCT ON over a join of the events with every earlier bar.
WITH a AS (
    SELECT p.i, x.* FROM probes p CROSS JOIN LATERAL stockext.asof(p.symbol, p.at, p.resolution, p.tolerance) x
    WHERE p.i <= 500
), b AS (
    SELECT DISTINCT ON (p.i) p.i, t.ts, t.open, t.high, t.low, t.close, t.volume
    FROM probes p JOIN stockext.ticks t
      ON t.symbol = upper(p.symbol) AND t.resolution = p.resolution AND t.ts <= p.at
     AND (p.tolerance IS NULL OR t.ts >= p.at - p.tolerance)
    WHERE p.i <= 500
    ORDER BY p.i, t.ts DESC
)
SELECT (SELECT count(*) FROM a) AS found,
       (SELECT count(*) FROM (TABLE a EXCEPT ALL TABLE b) x) + (SELECT count(*) FROM (TABLE b EXCEPT ALL TABLE a) y) AS differ;

-- Leave no bar, series, invalidation or partition behind.
DELETE FROM stockext.ticks WHERE symbol LIKE 'AS\_%';
SELECT count(*) AS as_rows FROM stockext.latest_bars WHERE symbol LIKE 'AS\_%';
SELECT count(*) AS wrong FROM pg_temp.latest_wrong;
DELETE FROM stockext.rollup_invalidations WHERE symbol LIKE 'AS\_%';
DROP TABLE stockext.ticks_p201901;
