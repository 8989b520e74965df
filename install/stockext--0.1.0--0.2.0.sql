-- stockext 0.1.0 -> 0.2.0 (ALTER EXTENSION stockext UPDATE TO '0.2.0').
\echo Use "ALTER EXTENSION stockext UPDATE" to load this file. \quit

-- Every change to the extension's SQL objects between the two versions, in
-- the order made; test/suites/15-upgrade checks that an updated 0.1.0 has
-- the same objects as a fresh 0.2.0.

------------------------------------------------------------------------------
-- Backups: partitions and rollups survive pg_dump and pg_restore
------------------------------------------------------------------------------

-- No monthly partition belongs to the extension any more: pg_dump keeps
-- them with their bars (see the comment in install/parts/10-bars.sql).
-- Those 0.1.0 made at CREATE EXTENSION leave it; the empty ones go, as a
-- fresh install has none (create_partitions makes them again when needed).
DO $do$
DECLARE
    part  regclass;
    empty boolean;
BEGIN
    FOR part IN
        SELECT i.inhrelid::regclass FROM pg_inherits i
        JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = i.inhrelid
                        AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
        WHERE i.inhparent = 'stockext.ticks'::regclass AND i.inhrelid <> 'stockext.ticks_default'::regclass
        ORDER BY 1
    LOOP
        EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', part);
        EXECUTE format('ALTER EXTENSION stockext DROP TABLE %s', part);
        EXECUTE format('SELECT NOT EXISTS (SELECT FROM %s)', part) INTO STRICT empty;
        IF empty THEN
            EXECUTE format('DROP TABLE %s', part);
        END IF;
    END LOOP;
END
$do$;

CREATE OR REPLACE FUNCTION stockext.create_partitions(start timestamptz, stop timestamptz,
                                           wait boolean DEFAULT true)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first   timestamp := date_trunc('month', start AT TIME ZONE 'UTC');
    month   timestamp;
    created integer := 0;
    name    text;
    lo      timestamptz;
    hi      timestamptz;
BEGIN
    IF start IS NULL OR stop IS NULL OR wait IS NULL THEN
        RAISE EXCEPTION 'partition range and wait must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF stop < start THEN
        RAISE EXCEPTION 'partition range ends before it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', start, stop);
    END IF;
    IF stop - start > interval '100 years' THEN
        RAISE EXCEPTION 'partition range is longer than 100 years'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF NOT EXISTS (SELECT FROM generate_series(first, stop AT TIME ZONE 'UTC', interval '1 month') m
                   WHERE to_regclass(format('stockext.%I', 'ticks_p' || to_char(m, 'YYYYMM'))) IS NULL) THEN
        RETURN 0;
    END IF;

    IF wait THEN
        PERFORM pg_advisory_xact_lock('stockext.ticks'::regclass::oid::bigint);
    ELSIF NOT pg_try_advisory_xact_lock('stockext.ticks'::regclass::oid::bigint) THEN
        RETURN NULL;
    END IF;
    -- While a restore has taken the primary key off ticks (see
    -- stockext.restore_drop_key) a new partition would get none: put it
    -- back first.  That takes ticks exclusively, so not while holding the
    -- default partition (a reader of ticks may be waiting for it), and not
    -- for a writer calling without waiting.
    IF NOT EXISTS (SELECT FROM pg_constraint c
                   WHERE c.conrelid = 'stockext.ticks'::regclass AND c.contype = 'p') THEN
        IF NOT wait THEN
            RETURN NULL;
        END IF;
        PERFORM stockext.restore_add_key('stockext.ticks', 'ticks_pkey');
    END IF;
    IF wait THEN
        LOCK TABLE stockext.ticks_default IN ACCESS EXCLUSIVE MODE;
    ELSE
        BEGIN
            LOCK TABLE stockext.ticks_default IN ACCESS EXCLUSIVE MODE NOWAIT;
        EXCEPTION WHEN lock_not_available THEN
            RETURN NULL;
        END;
    END IF;

    month := first;
    WHILE month <= stop AT TIME ZONE 'UTC' LOOP
        name := 'ticks_p' || to_char(month, 'YYYYMM');
        lo := month AT TIME ZONE 'UTC';
        hi := (month + interval '1 month') AT TIME ZONE 'UTC';
        IF to_regclass(format('stockext.%I', name)) IS NULL THEN
            EXECUTE format('CREATE TABLE stockext.%I (LIKE stockext.ticks INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
            EXECUTE format('WITH moved AS (DELETE FROM stockext.ticks_default WHERE ts >= $1 AND ts < $2 RETURNING *)
                            INSERT INTO stockext.%I SELECT * FROM moved', name)
                USING lo, hi;
            EXECUTE format('ALTER TABLE stockext.ticks ATTACH PARTITION stockext.%I FOR VALUES FROM (%L) TO (%L)',
                           name, lo, hi);
            created := created + 1;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION stockext.create_partitions(timestamptz, timestamptz, boolean) IS
'creates the monthly ticks partitions covering [start, stop], moving matching rows out of the default partition; returns how many it created, or NULL when wait is false and another transaction holds the locks it needs or a restore has yet to put the primary key of ticks back';

-- Before a restore attaches an empty table to parent: drops parent's
-- primary key, so the partitions restored from here on get only the key the
-- dump adds to each.  The partitions that had a copy of it (the default
-- partition; months made before the restore) get one of their own, which
-- stockext.restore_add_key attaches again.  First the lock
-- stockext.create_partitions takes, so that it never makes a partition
-- while the key is away.
CREATE FUNCTION stockext.restore_drop_key(parent regclass, attached regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key   record;
    parts regclass[];
    names name[];
BEGIN
    PERFORM pg_advisory_xact_lock(parent::oid::bigint);
    SELECT c.conname, c.conindid, pg_get_constraintdef(c.oid) AS def INTO key
    FROM pg_constraint c WHERE c.conrelid = parent AND c.contype = 'p';
    IF NOT FOUND OR pg_relation_size(attached) > 0 THEN
        RETURN;
    END IF;
    SELECT array_agg(c.conrelid::regclass ORDER BY c.conrelid), array_agg(c.conname ORDER BY c.conrelid)
      INTO parts, names
    FROM pg_inherits h JOIN pg_constraint c ON c.conindid = h.inhrelid AND c.contype = 'p'
    WHERE h.inhparent = key.conindid;
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', parent, key.conname);
    FOR i IN 1 .. coalesce(cardinality(parts), 0) LOOP
        EXECUTE format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s', parts[i], names[i], key.def);
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.restore_drop_key(regclass, regclass) IS
'internal: during a restore, drops the primary key of a partitioned table of the extension that a restored partition is about to be attached to; its partitions keep keys of their own';
REVOKE ALL ON FUNCTION stockext.restore_drop_key(regclass, regclass) FROM PUBLIC;

-- Makes parent's primary key, called name, again: with ONLY, then with the
-- key of every partition that has one attached.  It is valid once the last
-- partition's key is attached: the dump attaches the others as it makes
-- them.  Returns false when parent has its key already (another session of
-- a pg_restore -j made it) or no partition has one to copy.
CREATE FUNCTION stockext.restore_add_key(parent regclass, name name)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keyed CONSTANT text := 'SELECT c.conrelid::regclass AS rel, c.conindid::regclass AS idx,
                                   pg_get_constraintdef(c.oid) AS def
                            FROM pg_inherits h JOIN pg_constraint c ON c.conrelid = h.inhrelid AND c.contype = ''p''
                            WHERE h.inhparent = $1 ORDER BY c.conrelid';
    part  record;
    def   text;
    key   regclass;
BEGIN
    -- The lock stockext.create_partitions takes.  Then the partitions before
    -- the parent: another session of a pg_restore -j may still be loading
    -- one, and it needs the parent (for the partition constraint) to finish.
    PERFORM pg_advisory_xact_lock(parent::oid::bigint);
    FOR part IN EXECUTE keyed USING parent LOOP
        EXECUTE format('LOCK TABLE %s IN SHARE MODE', part.rel);
        def := part.def;
    END LOOP;
    IF def IS NULL OR EXISTS (SELECT FROM pg_constraint c WHERE c.conrelid = parent AND c.contype = 'p') THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s', parent, name, def);
    SELECT c.conindid INTO key FROM pg_constraint c WHERE c.conrelid = parent AND c.contype = 'p';
    FOR part IN EXECUTE keyed USING parent LOOP
        EXECUTE format('ALTER INDEX %s ATTACH PARTITION %s', key, part.idx);
    END LOOP;
    RETURN true;
END
$$;
COMMENT ON FUNCTION stockext.restore_add_key(regclass, name) IS
'internal: makes the primary key of a partitioned table of the extension again after a restore dropped it, attaching the keys its partitions have';
REVOKE ALL ON FUNCTION stockext.restore_add_key(regclass, name) FROM PUBLIC;

CREATE FUNCTION stockext.restore_trigger()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'stockext_restore_trigger'
LANGUAGE C;
COMMENT ON FUNCTION stockext.restore_trigger() IS
'event trigger: lets pg_dump''s partitions of stockext.ticks be restored, dropping its primary key before the first ATTACH PARTITION of a restore and making it again before the dump attaches the partitions'' keys';
REVOKE ALL ON FUNCTION stockext.restore_trigger() FROM PUBLIC;
CREATE EVENT TRIGGER stockext_restore ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'ALTER INDEX')
    EXECUTE FUNCTION stockext.restore_trigger();

-- Everything a database holds is dumped but what follows from the bars
-- (the rollups and their invalidations, rebuilt after a restore).
SELECT pg_catalog.pg_extension_config_dump('stockext.feed_state', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.rejects', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.raw_replies', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.errors', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.alerts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.alert_queue', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.rollup_widths', '');

-- Rollups: the widths' tables and views follow rollup_widths through its
-- triggers, and widths loaded by a restore are rebuilt at the next refresh.
-- An updated database's widths are its own, not as installed: no row in
-- rollup_widths_installed.
-- Widths whose rollups the next refresh computes from scratch: those a
-- restore loaded (pg_dump keeps stockext.rollup_widths, not the rollups,
-- which are members of the extension and follow from the bars).
CREATE TABLE stockext.rollup_rebuilds (
    width interval PRIMARY KEY REFERENCES stockext.rollup_widths ON DELETE CASCADE
);
COMMENT ON TABLE stockext.rollup_rebuilds IS
'widths whose rollups stockext.refresh_rollups() recomputes from the ticks before anything else: widths loaded by a restore';
REVOKE ALL ON stockext.rollup_rebuilds FROM PUBLIC;
GRANT SELECT ON stockext.rollup_rebuilds TO PUBLIC;

-- One row while rollup_widths holds just what CREATE EXTENSION wrote there;
-- the first change deletes it.  A restore loads its rollup_widths into a
-- fresh CREATE EXTENSION: the dumped rows then replace the installed ones
-- instead of clashing with them, and a default width the source dropped
-- stays dropped.
CREATE TABLE stockext.rollup_widths_installed (
    single boolean PRIMARY KEY DEFAULT true CHECK (single)
);
COMMENT ON TABLE stockext.rollup_widths_installed IS
'internal: one row while stockext.rollup_widths holds the widths CREATE EXTENSION wrote, unchanged';
REVOKE ALL ON stockext.rollup_widths_installed FROM PUBLIC;

-- Keeps each width's table and view in step with its row of rollup_widths,
-- whoever writes the row: add_rollup and drop_rollup, or a restore.
--  - Before a restore loads rows into a rollup_widths as installed (pg_dump
--    and pg_restore run with check_function_bodies off), the installed
--    rows go.
--  - A new row gets its partition stockext.<name> of stockext.rollups and
--    its real-time view stockext.<name>_live, and waits in rollup_rebuilds
--    until its rollups are computed.
--  - A deleted row takes its table, its view and its pending invalidations.
--  - Any change ends the installed state.
CREATE FUNCTION stockext.rollup_widths_sync()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ext_member boolean;
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        IF TG_WHEN = 'AFTER' THEN
            DELETE FROM stockext.rollup_widths_installed;
        ELSIF NOT current_setting('check_function_bodies')::boolean
              AND EXISTS (SELECT FROM stockext.rollup_widths_installed) THEN
            DELETE FROM stockext.rollup_widths;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM stockext.rollup_invalidations i WHERE i.width = OLD.width;
        EXECUTE format('ALTER EXTENSION stockext DROP VIEW stockext.%I', OLD.name || '_live');
        EXECUTE format('ALTER EXTENSION stockext DROP TABLE stockext.%I', OLD.name);
        EXECUTE format('DROP VIEW stockext.%I', OLD.name || '_live');
        EXECUTE format('DROP TABLE stockext.%I', OLD.name);
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE stockext.%I PARTITION OF stockext.rollups FOR VALUES IN (%L)', NEW.name, NEW.width);
    EXECUTE format('COMMENT ON TABLE stockext.%I IS %L', NEW.name,
                   format('%s bars per symbol and bucket; see stockext.rollups', NEW.width));
    EXECUTE format('GRANT SELECT ON stockext.%I TO PUBLIC', NEW.name);
    EXECUTE format('CREATE VIEW stockext.%I AS
                    SELECT symbol, bucket, open, high, low, close, volume, vwap, avg_close, n
                    FROM stockext.rollups_live WHERE width = %L', NEW.name || '_live', NEW.width);
    EXECUTE format('COMMENT ON VIEW stockext.%I IS %L', NEW.name || '_live',
                   format('%s bars including the buckets not refreshed yet (real-time)', NEW.width));
    EXECUTE format('GRANT SELECT ON stockext.%I TO PUBLIC', NEW.name || '_live');
    -- Inside CREATE EXTENSION the new objects belong to the extension by
    -- themselves; added later they are made members, so DROP EXTENSION
    -- takes them along.
    SELECT EXISTS (SELECT FROM pg_depend
                   WHERE classid = 'pg_class'::regclass
                     AND objid = format('stockext.%I', NEW.name)::regclass
                     AND refclassid = 'pg_extension'::regclass AND deptype = 'e')
      INTO ext_member;
    IF NOT ext_member THEN
        EXECUTE format('ALTER EXTENSION stockext ADD TABLE stockext.%I', NEW.name);
        EXECUTE format('ALTER EXTENSION stockext ADD VIEW stockext.%I', NEW.name || '_live');
    END IF;
    INSERT INTO stockext.rollup_rebuilds (width) VALUES (NEW.width);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.rollup_widths_sync() IS
'trigger: makes and drops the table and view of each width of stockext.rollup_widths with its row, and lets a restore''s rows replace the ones CREATE EXTENSION wrote';

CREATE TRIGGER rollup_widths_load BEFORE INSERT ON stockext.rollup_widths
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.rollup_widths_sync();
CREATE TRIGGER rollup_widths_objects AFTER INSERT OR DELETE ON stockext.rollup_widths
    FOR EACH ROW EXECUTE FUNCTION stockext.rollup_widths_sync();
CREATE TRIGGER rollup_widths_changed AFTER INSERT OR UPDATE OR DELETE ON stockext.rollup_widths
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.rollup_widths_sync();

CREATE OR REPLACE FUNCTION stockext.add_rollup(name name, width interval,
                                    origin timestamp DEFAULT '2000-01-03 00:00',
                                    time_zone text DEFAULT 'UTC',
                                    source_resolution interval DEFAULT '1 minute')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF name IS NULL OR width IS NULL OR origin IS NULL OR time_zone IS NULL OR source_resolution IS NULL THEN
        RAISE EXCEPTION 'arguments of stockext.add_rollup() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF name !~ '^[a-z][a-z0-9_]{0,50}$' THEN
        RAISE EXCEPTION 'invalid rollup name "%"', name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A rollup name is 1 to 51 lowercase letters, digits or underscores, starting with a letter.';
    END IF;
    IF width <= interval '0' OR date_part('month', width) <> 0 OR date_part('year', width) <> 0 THEN
        RAISE EXCEPTION 'invalid rollup width "%"', width
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A width is positive and made of days, hours, minutes and seconds only (date_bin cannot bin by months).';
    END IF;
    IF source_resolution <= interval '0' OR source_resolution >= width THEN
        RAISE EXCEPTION 'source resolution "%" is not finer than the width "%"', source_resolution, width
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_timezone_names WHERE pg_timezone_names.name = time_zone)
       AND upper(time_zone) <> 'UTC' THEN
        RAISE EXCEPTION 'time zone "%" not recognized', time_zone
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use a name from pg_timezone_names, such as America/New_York.';
    END IF;
    PERFORM stockext.rollup_lock();
    -- A width added is a change: the insert is no restore's load (even in
    -- an extension script, where check_function_bodies is off).  The
    -- row's trigger makes the table and the view.
    DELETE FROM stockext.rollup_widths_installed;
    INSERT INTO stockext.rollup_widths (width, name, origin, time_zone, source_resolution)
    VALUES (width, name, origin, CASE WHEN upper(time_zone) = 'UTC' THEN 'UTC' ELSE time_zone END,
            source_resolution);
    RETURN stockext.rebuild_rollups(width);
END
$$;

CREATE OR REPLACE FUNCTION stockext.drop_rollup(width interval)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.rollup_lock();
    -- The row's trigger drops the table, the view and pending invalidations.
    DELETE FROM stockext.rollup_widths w WHERE w.width = drop_rollup.width;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no rollup of width "%"', width
            USING ERRCODE = 'undefined_object',
                  HINT = 'The rolled-up widths are listed in stockext.rollup_widths.';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION stockext.rebuild_rollups(width interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    part  name;
    made  bigint;
BEGIN
    PERFORM stockext.rollup_lock();
    IF width IS NULL THEN
        DELETE FROM stockext.rollup_invalidations;
        TRUNCATE stockext.rollups;
    ELSE
        SELECT w.name INTO part FROM stockext.rollup_widths w WHERE w.width = rebuild_rollups.width;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no rollup of width "%"', width
                USING ERRCODE = 'undefined_object',
                      HINT = 'The rolled-up widths are listed in stockext.rollup_widths.';
        END IF;
        DELETE FROM stockext.rollup_invalidations i WHERE i.width = rebuild_rollups.width;
        EXECUTE format('TRUNCATE stockext.%I', part);
    END IF;
    DELETE FROM stockext.rollup_rebuilds r WHERE rebuild_rollups.width IS NULL OR r.width = rebuild_rollups.width;
    EXECUTE format($q$
INSERT INTO stockext.rollups
SELECT s.symbol, s.bucket, %s, s.width
FROM stockext.rollup_source s
WHERE $1 IS NULL OR s.width = $1
GROUP BY s.width, s.symbol, s.bucket
$q$, stockext.rollup_select_list()) USING width;
    GET DIAGNOSTICS made = ROW_COUNT;
    RETURN made;
END
$$;

DO $do$
BEGIN
    EXECUTE format($f$
CREATE OR REPLACE FUNCTION stockext.refresh_rollups(OUT buckets bigint, OUT upserted bigint, OUT deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    w       interval;
    rebuilt bigint := 0;
BEGIN
    PERFORM stockext.rollup_lock();
    -- Widths a restore loaded are computed from the bars, once the restore
    -- has put the primary key of ticks back (until then it may still be
    -- loading bars).
    IF EXISTS (SELECT FROM stockext.rollup_rebuilds)
       AND EXISTS (SELECT FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid
                   WHERE c.conrelid = 'stockext.ticks'::regclass AND c.contype = 'p' AND i.indisvalid) THEN
        FOR w IN SELECT r.width FROM stockext.rollup_rebuilds r ORDER BY r.width LOOP
            rebuilt := rebuilt + stockext.rebuild_rollups(w);
        END LOOP;
    END IF;
    IF NOT EXISTS (SELECT FROM stockext.rollup_invalidations) THEN
        buckets := 0; upserted := rebuilt; deleted := 0;
        RETURN;
    END IF;
WITH claimed AS (
    DELETE FROM stockext.rollup_invalidations RETURNING symbol, width, bucket
), keys AS (
    SELECT DISTINCT symbol, width, bucket FROM claimed
), fresh AS (%s
), upserted AS (
    INSERT INTO stockext.rollups AS r SELECT * FROM fresh
    ON CONFLICT (symbol, bucket, width) DO UPDATE
        SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
            volume = excluded.volume, vwap = excluded.vwap, avg_close = excluded.avg_close, n = excluded.n
        WHERE (r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n)
              IS DISTINCT FROM
              (excluded.open, excluded.high, excluded.low, excluded.close,
               excluded.volume, excluded.vwap, excluded.avg_close, excluded.n)
    RETURNING 1
), emptied AS (
    DELETE FROM stockext.rollups r USING keys k
    WHERE r.width = k.width AND r.symbol = k.symbol AND r.bucket = k.bucket
      AND NOT EXISTS (SELECT FROM fresh f
                      WHERE f.width = k.width AND f.symbol = k.symbol AND f.bucket = k.bucket)
    RETURNING 1
)
SELECT (SELECT count(*) FROM keys), (SELECT count(*) FROM upserted) + rebuilt, (SELECT count(*) FROM emptied)
    INTO buckets, upserted, deleted;
END
$$
$f$, stockext.rollup_fresh_sql('keys'));
END
$do$;
COMMENT ON FUNCTION stockext.refresh_rollups() IS
'recomputes the widths a restore loaded, then re-aggregates the (symbol, width, bucket) keys invalidated since the last refresh; returns how many keys it claimed, rows it wrote and empty buckets it deleted';

------------------------------------------------------------------------------
-- Copies: a restored or copied database is quiet until activated
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- Alerts: closed bars only by default, no alerts on history
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- DROP EXTENSION is deliberate; rollup privileges follow ticks; clear errors
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- Bars on their resolution's grid, upper-case symbols, feed checks
------------------------------------------------------------------------------
