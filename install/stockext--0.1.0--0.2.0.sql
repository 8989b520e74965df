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
    EXECUTE format('CREATE VIEW stockext.%I AS
                    SELECT symbol, bucket, open, high, low, close, volume, vwap, avg_close, n
                    FROM stockext.rollups_live WHERE width = %L', NEW.name || '_live', NEW.width);
    EXECUTE format('COMMENT ON VIEW stockext.%I IS %L', NEW.name || '_live',
                   format('%s bars including the buckets not refreshed yet (real-time)', NEW.width));
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
    -- Readable by the roles that can read the bars.
    PERFORM stockext.sync_rollup_privileges();
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

-- A restored dump, a template copy or a base backup carries the original's
-- feeds, keys, rules and webhooks.  Each database records which running
-- database is the live one; a copy finds another's identity there and stays
-- quiet until a superuser runs stockext.activate() in it.

CREATE FUNCTION stockext.instance_identity(OUT system_identifier bigint, OUT database_oid oid,
                                           OUT host text, OUT data_directory text)
RETURNS record
AS 'MODULE_PATHNAME', 'stockext_instance_identity'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.instance_identity() IS
'which running database this is: the cluster''s system identifier, the database OID, the host name and the data directory';
-- The data directory is for superusers only (as in pg_settings).
REVOKE ALL ON FUNCTION stockext.instance_identity() FROM PUBLIC;

-- The live database: one row, or none until the first add_feed, add_alert
-- or webhook (CREATE EXTENSION writes none, so that a restore, which runs
-- it before copying the dumped row, never looks live).  Dumped: a restored
-- copy keeps its original's row and so knows it is a copy.
CREATE TABLE stockext.activation (
    single            boolean     PRIMARY KEY DEFAULT true CHECK (single),
    system_identifier bigint      NOT NULL,
    database_oid      oid         NOT NULL,
    host              text        NOT NULL,
    data_directory    text        NOT NULL,
    database_name     name        NOT NULL DEFAULT current_database(),
    activated_at      timestamptz NOT NULL DEFAULT now(),
    activated_by      name        NOT NULL DEFAULT current_user
);
COMMENT ON TABLE stockext.activation IS
'the live database, the only one where the worker polls feeds, evaluates alerts and posts webhooks: its instance_identity() (database_name only for messages), when and by whom it was activated; empty until the first feed, alert or webhook';
REVOKE ALL ON stockext.activation FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.activation', '');

-- Why the worker of this database stays quiet; NULL in the live database.
-- SECURITY DEFINER: feed_status and worker_status show the reason to whoever
-- may read them, without access to the identity (the data directory).
CREATE FUNCTION stockext.idle_reason()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN a.single IS NULL THEN 'not activated'
        WHEN (a.system_identifier, a.database_oid, a.host, a.data_directory)
             = (me.system_identifier, me.database_oid, me.host, me.data_directory) THEN NULL
        ELSE format('copy of database "%s" on host "%s" (restored dump, template copy, base backup or failover)',
                    a.database_name, a.host)
    END
    FROM stockext.instance_identity() me
    LEFT JOIN stockext.activation a ON true;
END;
COMMENT ON FUNCTION stockext.idle_reason() IS
'why this database is quiet (not activated, or a copy of the live database), NULL when it is the live one';

-- Raises object_not_in_prerequisite_state in a quiet database.
CREATE FUNCTION stockext.check_live()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reason text := stockext.idle_reason();
BEGIN
    IF reason IS NOT NULL THEN
        RAISE EXCEPTION 'stockext is quiet in this database: %', reason
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Only the live database evaluates alerts, sends their notifications and posts webhooks.',
                  HINT = 'If this database is the live one now, run SELECT stockext.activate().';
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.check_live() IS
'raises object_not_in_prerequisite_state with the reason when this database is quiet (see idle_reason)';

-- Asks this database's worker to start its next round now, at commit.
CREATE FUNCTION stockext.wake_worker()
RETURNS void
AS 'MODULE_PATHNAME', 'stockext_wake_worker'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION stockext.wake_worker() IS
'asks the ingestion worker of this database to start its next round when the transaction commits';
REVOKE ALL ON FUNCTION stockext.wake_worker() FROM PUBLIC;

-- Makes this database the live one: its worker polls, evaluates alerts and
-- posts webhooks from its next round.  Safe to repeat.
CREATE FUNCTION stockext.activate()
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    was text := stockext.idle_reason();
BEGIN
    IF was IS NULL THEN
        RETURN 'already live';
    END IF;
    INSERT INTO stockext.activation AS a (system_identifier, database_oid, host, data_directory)
    SELECT * FROM stockext.instance_identity()
    ON CONFLICT (single) DO UPDATE
        SET system_identifier = excluded.system_identifier, database_oid = excluded.database_oid,
            host = excluded.host, data_directory = excluded.data_directory,
            database_name = excluded.database_name, activated_at = excluded.activated_at,
            activated_by = excluded.activated_by;
    PERFORM stockext.wake_worker();
    RETURN 'activated; it was idle: ' || was;
END
$$;
COMMENT ON FUNCTION stockext.activate() IS
'makes this database the live one, whose worker polls its feeds, evaluates alerts and posts webhooks (after a restore, a template copy, a base backup or a failover); returns what it was before';
REVOKE ALL ON FUNCTION stockext.activate() FROM PUBLIC;

-- Called by add_feed, add_alert and the webhook setters: the first of them
-- in a database never activated makes it the live one; in a copy they warn.
CREATE FUNCTION stockext.activate_on_first_use()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reason text;
BEGIN
    IF NOT EXISTS (SELECT FROM stockext.activation) THEN
        PERFORM stockext.activate();
        RETURN;
    END IF;
    reason := stockext.idle_reason();
    IF reason IS NOT NULL THEN
        RAISE WARNING 'this database stays quiet: %', reason
            USING DETAIL = 'Its feeds are not polled, its alerts not evaluated and its webhooks not posted until it is activated.',
                  HINT = 'If this database is the live one now, run SELECT stockext.activate().';
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.activate_on_first_use() IS
'internal: activates a database that never was (its first feed, alert or webhook); warns in a quiet copy';
REVOKE ALL ON FUNCTION stockext.activate_on_first_use() FROM PUBLIC;

-- A 0.1.0 database was live: it stays live.
INSERT INTO stockext.activation (system_identifier, database_oid, host, data_directory)
SELECT * FROM stockext.instance_identity();

-- The first feed, rule or webhook of a new database activates it.


CREATE OR REPLACE FUNCTION stockext.set_alert_webhook(rule integer, url text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.check_webhook_privilege();
    PERFORM stockext.check_rule_exists(rule);
    PERFORM stockext.set_webhook(rule, NULL, url);
    PERFORM stockext.activate_on_first_use();
END
$$;

CREATE OR REPLACE FUNCTION stockext.set_feed_notifications(feed integer, on_success boolean DEFAULT false,
                                                on_failure boolean DEFAULT true,
                                                on_recovery boolean DEFAULT true,
                                                webhook_url text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.feed_provider(feed);
    IF on_success IS NULL OR on_failure IS NULL OR on_recovery IS NULL THEN
        RAISE EXCEPTION 'on_success, on_failure and on_recovery must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF webhook_url IS NOT NULL OR EXISTS (SELECT FROM stockext.webhooks w WHERE w.feed_id = feed) THEN
        PERFORM stockext.set_webhook(NULL, feed, webhook_url);
    END IF;
    IF on_success OR on_failure OR on_recovery THEN
        INSERT INTO stockext.feed_notifications AS n (feed_id, on_success, on_failure, on_recovery)
        VALUES (feed, on_success, on_failure, on_recovery)
        ON CONFLICT (feed_id) DO UPDATE
            SET on_success = excluded.on_success, on_failure = excluded.on_failure,
                on_recovery = excluded.on_recovery;
    ELSE
        DELETE FROM stockext.feed_notifications n WHERE n.feed_id = feed;
    END IF;
    PERFORM stockext.activate_on_first_use();
END
$$;

-- A quiet database evaluates no alert and posts no webhook.

CREATE OR REPLACE FUNCTION stockext.due_deliveries(busy bigint[], max_rows integer)
RETURNS TABLE (id bigint, url text, body text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A copy posts nothing: the live database does.
    IF stockext.idle_reason() IS NOT NULL THEN
        RETURN;
    END IF;
    -- The lock of evaluate_alerts: one claimer at a time.
    PERFORM pg_advisory_xact_lock('stockext.alert_queue'::regclass::oid::bigint);
    UPDATE stockext.alerts a
       SET delivery = 'failed', last_error = 'the webhook was removed', next_attempt_at = NULL
     WHERE a.delivery = 'pending'
       AND NOT EXISTS (SELECT FROM stockext.webhooks w
                       WHERE w.rule_id = a.rule_id OR (a.rule_id IS NULL AND w.feed_id = a.feed_id));
    RETURN QUERY
    SELECT a.id, w.url, json_build_object('text', a.message)::text
    FROM stockext.alerts a
    JOIN stockext.webhooks w ON w.rule_id = a.rule_id OR (a.rule_id IS NULL AND w.feed_id = a.feed_id)
    WHERE a.delivery = 'pending' AND a.next_attempt_at <= now() AND NOT a.id = ANY (busy)
    ORDER BY a.next_attempt_at, a.id
    LIMIT max_rows;
END
$$;

-- feed_status says why a feed is not polled in a quiet database.
CREATE OR REPLACE VIEW stockext.feed_status AS
SELECT f.id, f.provider, f.symbols, f.resolution, f.poll_every, f.paused,
       EXISTS (SELECT 1 FROM stockext.feed_keys k WHERE k.feed_id = f.id) AS has_api_key,
       s.last_poll, s.last_success, s.last_error, s.last_error_message,
       coalesce(s.consecutive_failures, 0) AS consecutive_failures,
       s.next_poll_at, coalesce(s.bars_stored, 0) AS bars_stored,
       newest.ts AS newest_bar, now() - newest.ts AS lag,
       (SELECT stockext.idle_reason()) AS idle_reason
FROM stockext.feeds f
LEFT JOIN stockext.feed_state s ON s.feed_id = f.id
LEFT JOIN LATERAL (
    SELECT max(last.ts) AS ts
    FROM unnest(f.symbols) AS sym
    CROSS JOIN LATERAL (SELECT t.ts FROM stockext.ticks t
                        WHERE t.symbol = sym AND t.resolution = f.resolution
                        ORDER BY t.ts DESC LIMIT 1) AS last
) AS newest ON true;
COMMENT ON VIEW stockext.feed_status IS
'per feed: last poll, last success, last error, failure streak, next poll, bars stored, newest stored bar and its lag behind now, and why it is not polled if this database is quiet (a copy, or not activated)';

------------------------------------------------------------------------------
-- Alerts: closed bars only by default, no alerts on history
------------------------------------------------------------------------------

-- Rules: on_forming, on_history and max_age, last.  Added without a default
-- and given one after: a column added with a constant default keeps it as a
-- "missing value" that a fresh table has not.  Rules of 0.1.0 get the new
-- defaults: closed bars that landed in time.
ALTER TABLE stockext.alert_rules ADD COLUMN on_forming boolean, ADD COLUMN on_history boolean,
                                 ADD COLUMN max_age interval;
UPDATE stockext.alert_rules SET on_forming = false, on_history = false;
ALTER TABLE stockext.alert_rules ALTER COLUMN on_forming SET DEFAULT false,
                                 ALTER COLUMN on_forming SET NOT NULL,
                                 ALTER COLUMN on_history SET DEFAULT false,
                                 ALTER COLUMN on_history SET NOT NULL;
COMMENT ON COLUMN stockext.alert_rules.on_forming IS
'evaluate bars still forming too (their alerts say so); otherwise only closed bars';
COMMENT ON COLUMN stockext.alert_rules.on_history IS
'evaluate bars however late they land (backfill, gap fill); otherwise bars later than max_age are skipped';
COMMENT ON COLUMN stockext.alert_rules.max_age IS
'latest a bar may land after its close and still be evaluated; NULL: the poll interval of its feed, stockext.alert_close_grace and stockext.alert_max_age_bars bar widths';

-- Alerts: whether the bar was forming.  0.1.0 evaluated bars as they came,
-- so an alert fired before its bar ended was fired on a forming bar.
ALTER TABLE stockext.alerts ADD COLUMN forming boolean;
UPDATE stockext.alerts SET forming = coalesce(fired_at < bar_ts + resolution, false);
ALTER TABLE stockext.alerts ALTER COLUMN forming SET DEFAULT false, ALTER COLUMN forming SET NOT NULL;
COMMENT ON COLUMN stockext.alerts.forming IS
'the bar was still forming when it fired the rule (a rule with on_forming); observed is its value then';

-- The queue: when each write landed, and bars waiting to close.  The
-- volatile default rewrites the table, which leaves no missing value for
-- either column.  Bars queued by 0.1.0 landed when they were last written.
ALTER TABLE stockext.alert_queue ADD COLUMN landed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                                 ADD COLUMN waiting boolean NOT NULL DEFAULT false;
UPDATE stockext.alert_queue q SET landed_at = t.ingested_at
FROM stockext.ticks t
WHERE t.symbol = q.symbol AND t.resolution = q.resolution AND t.ts = q.ts;
COMMENT ON TABLE stockext.alert_queue IS
'bars an alert rule watches that were inserted or changed and are not evaluated yet: new writes (landed_at: when) and bars waiting to close (waiting)';

-- add_alert takes on_forming, on_history and max_age.
DROP FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text);
-- Adds a rule and returns its id.  A rule on a feed watches the feed's
-- symbols (or the one named) at the feed's resolution; a rule on a symbol
-- alone watches that resolution, 1 minute unless given.  It evaluates
-- closed bars that landed in time, unless on_forming or on_history.
CREATE FUNCTION stockext.add_alert(condition text, symbol text DEFAULT NULL,
                                   feed integer DEFAULT NULL,
                                   resolution interval DEFAULT NULL,
                                   direction text DEFAULT NULL,
                                   threshold float8 DEFAULT NULL,
                                   bars integer DEFAULT NULL,
                                   slow integer DEFAULT NULL,
                                   factor float8 DEFAULT NULL,
                                   level float8 DEFAULT NULL,
                                   cooldown interval DEFAULT '0',
                                   webhook_url text DEFAULT NULL,
                                   on_forming boolean DEFAULT false,
                                   on_history boolean DEFAULT false,
                                   max_age interval DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f    stockext.feeds;
    rule integer;
    why  text;
BEGIN
    -- Defaults that depend on the condition.
    IF condition IN ('pct_change', 'price_cross', 'sma_cross') THEN
        direction := coalesce(direction, 'either');
    END IF;
    IF condition = 'pct_change' THEN
        bars := coalesce(bars, 1);
    ELSIF condition = 'volume_spike' THEN
        bars := coalesce(bars, 3);
        factor := coalesce(factor, 2.0);
    ELSIF condition = 'volatility' THEN
        bars := coalesce(bars, 20);
    END IF;
    PERFORM stockext.check_alert(condition, direction, threshold, bars, slow, factor, level, cooldown);
    IF symbol IS NULL AND feed IS NULL THEN
        RAISE EXCEPTION 'an alert rule needs a symbol or a feed'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF symbol IS NOT NULL THEN
        why := stockext.symbol_problem(symbol);
        IF why IS NOT NULL THEN
            RAISE EXCEPTION 'invalid symbol "%"', symbol
                USING ERRCODE = 'invalid_parameter_value', DETAIL = initcap(left(why, 1)) || substr(why, 2) || '.';
        END IF;
    END IF;
    IF feed IS NOT NULL THEN
        PERFORM stockext.feed_provider(feed);
        SELECT * INTO f FROM stockext.feeds WHERE id = feed;
        IF symbol IS NOT NULL AND NOT upper(symbol COLLATE "C") = ANY (f.symbols) THEN
            RAISE EXCEPTION 'feed % has no symbol "%"', feed, symbol
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Feed %s polls %s.', feed, array_to_string(f.symbols, ', '));
        END IF;
        IF resolution IS NOT NULL AND resolution <> f.resolution THEN
            RAISE EXCEPTION 'feed % polls % bars, not %', feed, f.resolution, resolution
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Leave resolution out: a rule on a feed watches the feed''s bars.';
        END IF;
        resolution := f.resolution;
    END IF;
    resolution := coalesce(resolution, interval '1 minute');
    IF resolution <= interval '0' THEN
        RAISE EXCEPTION 'resolution must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF on_forming IS NULL OR on_history IS NULL THEN
        RAISE EXCEPTION 'on_forming and on_history must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF max_age <= interval '0' THEN
        RAISE EXCEPTION 'max_age must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('max_age is %s.', max_age);
    END IF;
    IF max_age IS NOT NULL AND on_history THEN
        RAISE EXCEPTION 'a rule with on_history takes no max_age'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A rule with on_history evaluates bars however late they land.';
    END IF;
    INSERT INTO stockext.alert_rules (symbol, feed_id, resolution, condition, direction, threshold,
                                      bars, slow, factor, level, cooldown, on_forming, on_history, max_age)
    VALUES (upper(symbol COLLATE "C"), feed, resolution, condition, direction, threshold, bars, slow, factor, level, cooldown,
            on_forming, on_history, max_age)
    RETURNING id INTO rule;
    IF webhook_url IS NOT NULL THEN
        PERFORM stockext.set_webhook(rule, NULL, webhook_url);
    END IF;
    PERFORM stockext.activate_on_first_use();
    RETURN rule;
END
$$;
COMMENT ON FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text, boolean, boolean, interval) IS
'adds an alert rule on a symbol (stored in upper case) or on the symbols of a feed and returns its id; conditions pct_change, volume_spike, price_cross, sma_cross, volatility; it evaluates closed bars that land within max_age of their close, unless on_forming or on_history; a webhook URL needs a superuser';
REVOKE ALL ON FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text, boolean, boolean, interval) FROM PUBLIC;

DROP VIEW stockext.alert_rule_list;
CREATE VIEW stockext.alert_rule_list AS
SELECT r.id, r.symbol, r.feed_id, r.resolution, r.condition, r.direction, r.threshold,
       r.bars, r.slow, r.factor, r.level, r.cooldown, r.on_forming, r.on_history, r.max_age,
       r.paused, r.created_at,
       EXISTS (SELECT FROM stockext.webhooks w WHERE w.rule_id = r.id) AS has_webhook,
       (SELECT count(*) FROM stockext.alerts a WHERE a.rule_id = r.id) AS fired,
       (SELECT max(a.fired_at) FROM stockext.alerts a WHERE a.rule_id = r.id) AS last_fired
FROM stockext.alert_rules r;
COMMENT ON VIEW stockext.alert_rule_list IS
'the alert rules with whether they have a webhook (never its URL), how often they fired and when last';
REVOKE ALL ON stockext.alert_rule_list FROM PUBLIC;

-- evaluate_alerts returns (fired, stale, waiting).
DROP FUNCTION stockext.evaluate_alerts(integer);
-- The settings evaluate_alerts reads; from C, so that they are defined
-- (the library loaded) in any session.
CREATE FUNCTION stockext.alert_settings(OUT close_grace interval, OUT max_age_bars integer)
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'stockext_alert_settings';
COMMENT ON FUNCTION stockext.alert_settings() IS
'stockext.alert_close_grace as an interval and stockext.alert_max_age_bars, as alert evaluation uses them';

-- Evaluates the queued bars (the oldest max_bars rows of the queue; NULL:
-- all) against the rules watching them, oldest bar first per series so
-- that cooldowns count in bar time, stores what fires, then sends NOTIFY
-- stockext_alerts for every alert and feed event not yet announced.
--
-- A bar is closed once a later bar of its series is stored, once it was
-- written stockext.alert_close_grace (the provider's delay) after its end,
-- or once a poll of a feed serving it succeeded that long after its end
-- (bars of no feed: once that much time has passed).
-- Closed bars are evaluated by every rule and leave the queue; a bar still
-- forming stays queued (one waiting row) and only rules with on_forming
-- evaluate it, once per write.  A bar that landed later after its close
-- than a rule's max_age is history to that rule, which skips it (counted
-- in stale) unless it has on_history.
--
-- One evaluation at a time (a transaction-level advisory lock): the worker
-- in each round, a bounded batch so that a large backfill cannot hold up
-- its polls, or anyone calling it.
CREATE FUNCTION stockext.evaluate_alerts(max_bars integer DEFAULT NULL,
                                         OUT fired integer, OUT stale integer, OUT waiting integer)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cfg     record;
    k       record;
    r       stockext.alert_rules;
    rules   stockext.alert_rules[];
    chk     record;
    a       stockext.alerts;
    -- Of the series being evaluated (bars come series by series).
    s_sym   text;
    s_res   interval;
    poll    interval;
    fed     boolean;
    success timestamptz;
    closed  boolean;
    late    boolean;
BEGIN
    IF max_bars < 0 THEN
        RAISE EXCEPTION 'max_bars must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('max_bars is %s.', max_bars),
                  HINT = 'Pass the most queued bars to evaluate, or NULL for all of them.';
    END IF;
    PERFORM stockext.check_live();
    fired := 0;
    stale := 0;
    waiting := 0;
    PERFORM pg_advisory_xact_lock('stockext.alert_queue'::regclass::oid::bigint);
    cfg := stockext.alert_settings();
    -- The writes claimed are deleted at once; a bar's waiting row (held)
    -- stays until the bar closes, so that a live series costs one row.
    FOR k IN
        WITH picked AS (SELECT o.ctid AS row_id, o.waiting FROM stockext.alert_queue o
                        ORDER BY o.ts LIMIT max_bars),
             writes AS (DELETE FROM stockext.alert_queue q USING picked p
                        WHERE q.ctid = p.row_id AND NOT p.waiting
                        RETURNING q.symbol, q.resolution, q.ts, q.landed_at),
             held AS (SELECT p.row_id, q.symbol, q.resolution, q.ts, q.landed_at
                      FROM picked p JOIN stockext.alert_queue q ON q.ctid = p.row_id
                      WHERE p.waiting)
        SELECT c.symbol, c.resolution, c.ts, max(c.landed_at) AS landed,
               count(c.row_id) = count(*) AS seen,
               array_agg(c.row_id) FILTER (WHERE c.row_id IS NOT NULL) AS held,
               EXISTS (SELECT FROM stockext.ticks t
                       WHERE t.symbol = c.symbol AND t.resolution = c.resolution AND t.ts = c.ts) AS stored
        FROM (SELECT NULL::tid AS row_id, w.* FROM writes w UNION ALL SELECT * FROM held) c
        GROUP BY c.symbol, c.resolution, c.ts
        ORDER BY c.symbol, c.resolution, c.ts
    LOOP
        IF k.symbol IS DISTINCT FROM s_sym OR k.resolution IS DISTINCT FROM s_res THEN
            s_sym := k.symbol;
            s_res := k.resolution;
            rules := ARRAY(SELECT ru FROM stockext.alert_rules ru
                           JOIN stockext.alert_targets tg ON tg.rule_id = ru.id
                           WHERE tg.symbol = k.symbol AND tg.resolution = k.resolution
                           ORDER BY ru.id);
            -- The feeds serving the series: their poll interval is how late
            -- their bars may land, and a poll of one of them that succeeded
            -- the grace after a bar's end has brought its final values (a
            -- paused or failing feed has not: the bar it left forming waits).
            SELECT coalesce(max(f.poll_every), interval '0'), count(*) > 0,
                   max(fs.last_success) FILTER (WHERE NOT f.paused)
              INTO poll, fed, success
            FROM stockext.feeds f
            LEFT JOIN stockext.feed_state fs ON fs.feed_id = f.id
            WHERE f.resolution = k.resolution AND k.symbol = ANY (f.symbols);
        END IF;
        -- A bar deleted since, or no longer watched (its rules removed or
        -- paused while it waited): nothing to evaluate.
        IF NOT k.stored OR cardinality(rules) = 0 THEN
            IF k.held IS NOT NULL THEN
                DELETE FROM stockext.alert_queue q WHERE q.ctid = ANY (k.held);
            END IF;
            CONTINUE;
        END IF;
        -- Closed (see above): written late, polled since, or followed.
        closed := k.landed >= k.ts + k.resolution + cfg.close_grace
                  OR coalesce(CASE WHEN fed THEN success ELSE now() END >= k.ts + k.resolution + cfg.close_grace,
                              false)
                  OR EXISTS (SELECT FROM stockext.ticks t
                             WHERE t.symbol = k.symbol AND t.resolution = k.resolution AND t.ts > k.ts);
        IF closed AND k.held IS NOT NULL THEN
            DELETE FROM stockext.alert_queue q WHERE q.ctid = ANY (k.held);
        ELSIF NOT closed THEN
            waiting := waiting + 1;
            -- Unchanged since on_forming rules saw it: nothing to do yet.
            CONTINUE WHEN k.seen;
            IF k.held IS NULL THEN
                INSERT INTO stockext.alert_queue (symbol, resolution, ts, landed_at, waiting)
                VALUES (k.symbol, k.resolution, k.ts, k.landed, true);
            ELSE
                UPDATE stockext.alert_queue q SET landed_at = k.landed WHERE q.ctid = ANY (k.held);
            END IF;
        END IF;
        late := false;
        FOREACH r IN ARRAY rules LOOP
            CONTINUE WHEN NOT (closed OR r.on_forming);
            IF NOT r.on_history
               AND k.landed > k.ts + k.resolution
                              + coalesce(r.max_age, poll + cfg.close_grace + cfg.max_age_bars * k.resolution) THEN
                late := true;
                CONTINUE;
            END IF;
            -- Cooldown in bar time: no two alerts of a rule and symbol
            -- whose bars are closer than it (late bars included).  A bar
            -- that fired while forming does not fire again once closed.
            CONTINUE WHEN EXISTS (
                SELECT FROM stockext.alerts p
                WHERE p.rule_id = r.id AND p.symbol = k.symbol
                  AND (p.bar_ts = k.ts OR (p.bar_ts > k.ts - r.cooldown AND p.bar_ts < k.ts + r.cooldown)));
            chk := stockext.alert_check(r, k.symbol, k.ts);
            CONTINUE WHEN NOT chk.fires;
            INSERT INTO stockext.alerts (kind, rule_id, feed_id, symbol, resolution, bar_ts, observed,
                                         message, delivery, next_attempt_at, forming)
            VALUES ('alert', r.id, r.feed_id, k.symbol, k.resolution, k.ts, chk.observed,
                    format('%s %s bar of %s UTC%s: %s', k.symbol, stockext.resolution_label(k.resolution),
                           to_char(k.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
                           CASE WHEN closed THEN '' ELSE ' (still forming)' END, chk.what),
                    CASE WHEN EXISTS (SELECT FROM stockext.webhooks w WHERE w.rule_id = r.id)
                         THEN 'pending' ELSE 'none' END,
                    now(), NOT closed)
            ON CONFLICT ON CONSTRAINT alerts_once_per_bar DO NOTHING;
            IF FOUND THEN
                fired := fired + 1;
            END IF;
        END LOOP;
        IF late THEN
            stale := stale + 1;
        END IF;
    END LOOP;
    FOR a IN
        WITH announced AS (UPDATE stockext.alerts SET notified_at = now()
                           WHERE notified_at IS NULL RETURNING *)
        SELECT * FROM announced ORDER BY id
    LOOP
        PERFORM pg_notify('stockext_alerts', json_build_object(
            'id', a.id, 'kind', a.kind, 'rule', a.rule_id, 'feed', a.feed_id,
            'symbol', a.symbol, 'resolution', stockext.resolution_label(a.resolution), 'bar_ts', to_char(a.bar_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'forming', a.forming, 'observed', a.observed, 'message', a.message)::text);
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.evaluate_alerts(integer) IS
'evaluates the queued bars (at most max_bars queue rows, oldest first; NULL: all) against the alert rules, stores the alerts that fire and sends NOTIFY stockext_alerts for them and for new feed events; returns the alerts fired, the bars skipped as history by some rule (stale) and the bars left queued until they close (waiting); the worker calls it every round';
REVOKE ALL ON FUNCTION stockext.evaluate_alerts(integer) FROM PUBLIC;

------------------------------------------------------------------------------
-- DROP EXTENSION is deliberate; rollup privileges follow ticks; clear errors
------------------------------------------------------------------------------

-- DROP EXTENSION stockext is refused while stockext.ticks holds bars,
-- unless it says CASCADE or stockext.allow_drop is on; a drop let through
-- also drops the emptied schema stockext at commit (src/drop.c).

CREATE FUNCTION stockext.drop_guard_trigger()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'stockext_drop_guard_trigger'
LANGUAGE C;
COMMENT ON FUNCTION stockext.drop_guard_trigger() IS
'event trigger: refuses DROP EXTENSION stockext without CASCADE while stockext.ticks holds bars (unless stockext.allow_drop is on), and drops the emptied schema stockext at commit';
REVOKE ALL ON FUNCTION stockext.drop_guard_trigger() FROM PUBLIC;
CREATE EVENT TRIGGER stockext_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION')
    EXECUTE FUNCTION stockext.drop_guard_trigger();


-- The rollups, their live views and the invalidation keys are readable by
-- exactly the roles that can read stockext.ticks (src/privileges.c), no
-- longer by PUBLIC.
REVOKE ALL ON stockext.rollups FROM PUBLIC;
REVOKE ALL ON stockext.rollup_invalidations FROM PUBLIC;
REVOKE ALL ON stockext.rollups_live FROM PUBLIC;

CREATE FUNCTION stockext.rollup_privilege_fixes()
RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH ticks AS (
        SELECT c.relowner, c.relacl FROM pg_class c WHERE c.oid = 'stockext.ticks'::regclass
    ), readers AS (
        SELECT DISTINCT a.grantee FROM ticks t, aclexplode(t.relacl) a
        WHERE a.privilege_type = 'SELECT' AND a.grantee <> t.relowner
    ), rels AS (
        SELECT c.oid, c.relname, c.relowner, c.relacl FROM pg_class c
        WHERE c.relnamespace = 'stockext'::regnamespace
          AND (c.relname IN ('rollups', 'rollups_live', 'rollup_source', 'rollup_invalidations')
               OR c.relname IN (SELECT w.name FROM stockext.rollup_widths w
                                UNION ALL
                                SELECT w.name || '_live' FROM stockext.rollup_widths w))
    ), held AS (
        SELECT r.oid, r.relname, a.grantee,
               bool_and(a.privilege_type = 'SELECT' AND NOT a.is_grantable) AS plain_select
        FROM rels r, aclexplode(r.relacl) a
        WHERE a.grantee <> r.relowner
        GROUP BY r.oid, r.relname, a.grantee
    ), wanted AS (
        SELECT r.oid, r.relname, d.grantee FROM rels r, readers d WHERE d.grantee <> r.relowner
    )
    SELECT f.statement FROM (
        -- A default ACL (NULL) is written out, so that a width added now and
        -- one updated from 0.1.0 (which granted SELECT to PUBLIC) carry the
        -- same privileges.
        SELECT 0 AS step, r.relname, 0::oid AS grantee,
               format('REVOKE ALL ON stockext.%I FROM PUBLIC', r.relname) AS statement
        FROM rels r
        WHERE r.relacl IS NULL
        UNION ALL
        SELECT 1, h.relname, h.grantee,
               format('REVOKE ALL ON stockext.%I FROM %s CASCADE', h.relname,
                      CASE WHEN h.grantee = 0 THEN 'PUBLIC' ELSE h.grantee::regrole::text END)
        FROM held h
        WHERE NOT h.plain_select
           OR NOT EXISTS (SELECT FROM wanted w WHERE w.oid = h.oid AND w.grantee = h.grantee)
        UNION ALL
        SELECT 2, w.relname, w.grantee,
               format('GRANT SELECT ON stockext.%I TO %s', w.relname,
                      CASE WHEN w.grantee = 0 THEN 'PUBLIC' ELSE w.grantee::regrole::text END)
        FROM wanted w
        WHERE NOT EXISTS (SELECT FROM held h WHERE h.oid = w.oid AND h.grantee = w.grantee AND h.plain_select)
    ) f
    ORDER BY f.step, f.relname, f.grantee;
END;
COMMENT ON FUNCTION stockext.rollup_privilege_fixes() IS
'internal: the REVOKE and GRANT statements that would give the rollups, their live views and the invalidation keys the SELECT grants of stockext.ticks';

-- Runs them; SECURITY DEFINER because only the owner may grant on the
-- rollups, while a GRANT on ticks may come from a role with grant option.
-- Executable by everyone, as the event trigger runs it as whoever granted:
-- all it can do is bring the rollups in line with ticks.
CREATE FUNCTION stockext.sync_rollup_privileges()
RETURNS bigint
AS 'MODULE_PATHNAME', 'stockext_sync_rollup_privileges'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION stockext.sync_rollup_privileges() IS
'gives the rollups, their live views and the invalidation keys the SELECT grants of stockext.ticks (run after every GRANT or REVOKE on the schema''s tables); returns the statements it ran';

CREATE FUNCTION stockext.rollup_privileges_trigger()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'stockext_rollup_privileges_trigger'
LANGUAGE C;
COMMENT ON FUNCTION stockext.rollup_privileges_trigger() IS
'event trigger: after a GRANT or REVOKE on a table of the schema stockext, gives the rollups the SELECT grants of stockext.ticks';
REVOKE ALL ON FUNCTION stockext.rollup_privileges_trigger() FROM PUBLIC;
CREATE EVENT TRIGGER stockext_rollup_privileges ON ddl_command_end
    WHEN TAG IN ('GRANT', 'REVOKE')
    EXECUTE FUNCTION stockext.rollup_privileges_trigger();


CREATE OR REPLACE FUNCTION stockext.add_rollup(name name, width interval,
                                    origin timestamp DEFAULT '2000-01-03 00:00',
                                    time_zone text DEFAULT 'UTC',
                                    source_resolution interval DEFAULT '1 minute')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    taken      text;
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
    SELECT w.name INTO taken FROM stockext.rollup_widths w WHERE w.width = add_rollup.width;
    IF FOUND THEN
        RAISE EXCEPTION 'a rollup of width "%" already exists', width
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('It is stockext.%I.', taken),
                  HINT = 'Realign it with stockext.set_rollup_alignment(), or remove it with stockext.drop_rollup() first.';
    END IF;
    SELECT c.relname INTO taken FROM pg_class c
    WHERE c.relnamespace = 'stockext'::regnamespace AND c.relname IN (name, name || '_live');
    IF FOUND THEN
        RAISE EXCEPTION 'rollup name "%" is already taken', name
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('stockext.%I already exists.', taken),
                  HINT = 'Choose another name.';
    END IF;
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

-- The widths added so far lose their grants to PUBLIC and get those of ticks.
SELECT stockext.sync_rollup_privileges();

-- Clear errors: a NULL feed or rule, a negative max_bars, a NULL symbol to
-- backfill (whose NOTICE now reports what was really stored, and which no
-- longer asks providers for the future), a symbol without bars in
-- stockext.bars(), a NULL argument of simulate_bars().

CREATE OR REPLACE FUNCTION stockext.feed_provider(feed integer)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p text;
BEGIN
    IF feed IS NULL THEN
        RAISE EXCEPTION 'feed must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the id of a feed: SELECT id FROM stockext.feeds.';
    END IF;
    SELECT f.provider INTO p FROM stockext.feeds f WHERE f.id = feed;
    IF p IS NULL THEN
        RAISE EXCEPTION 'feed % does not exist', feed
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN p;
END
$$;
COMMENT ON FUNCTION stockext.feed_provider(integer) IS
'the provider of a feed; raises null_value_not_allowed for NULL and undefined_object when the feed does not exist';


CREATE OR REPLACE FUNCTION stockext.check_rule_exists(rule integer)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF rule IS NULL THEN
        RAISE EXCEPTION 'alert rule must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the id of a rule: SELECT id FROM stockext.alert_rule_list.';
    END IF;
    IF NOT EXISTS (SELECT FROM stockext.alert_rules r WHERE r.id = rule) THEN
        RAISE EXCEPTION 'alert rule % does not exist', rule
            USING ERRCODE = 'undefined_object';
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.check_rule_exists(integer) IS
'raises null_value_not_allowed for NULL and undefined_object when the alert rule does not exist';


ALTER FUNCTION stockext.simulate_bars(text, timestamptz, timestamptz, interval, bigint) CALLED ON NULL INPUT;

------------------------------------------------------------------------------
-- Bars on their resolution's grid, upper-case symbols, feed checks
------------------------------------------------------------------------------

-- Bars start on their resolution's grid: whole multiples of
-- gcd(resolution, 15 minutes) since 1970-01-01 00:00 UTC (README, "Bars").
CREATE FUNCTION stockext.ts_problem(ts timestamptz, resolution interval)
RETURNS text
AS 'MODULE_PATHNAME', 'stockext_ts_problem'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.ts_problem(timestamptz, interval) IS
'why a bar of the resolution cannot start at ts (not finite, or off the grid of whole multiples of gcd(resolution, 15 minutes) since 1970-01-01 00:00 UTC), or NULL when it can; NULL for a resolution that is not positive';

-- Bars that 0.1.0 stored off their resolution's grid (its upsert_bar took
-- any ts) go to rejects with the reason, so that ticks_ts_on_grid holds on
-- every row; the ADD CONSTRAINT below checks that it does.  Deleting them
-- queues their rollup buckets for the next refresh like any delete.
DO $$
DECLARE
    moved bigint;
BEGIN
    WITH off_grid AS (
        DELETE FROM stockext.ticks t WHERE stockext.ts_problem(t.ts, t.resolution) IS NOT NULL
        RETURNING t.*
    )
    INSERT INTO stockext.rejects (source, symbol, ts, resolution, open, high, low, close, volume, reason)
    SELECT o.source, o.symbol, o.ts, o.resolution, o.open, o.high, o.low, o.close, o.volume,
           stockext.ts_problem(o.ts, o.resolution) || '; moved out of stockext.ticks by the update to 0.2.0'
    FROM off_grid o;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved > 0 THEN
        RAISE WARNING 'moved % bars off their resolution''s grid from stockext.ticks to stockext.rejects', moved;
    END IF;
END
$$;

-- On every partition, inherited as in a fresh install.
ALTER TABLE stockext.ticks ADD CONSTRAINT ticks_ts_on_grid CHECK (stockext.ts_problem(ts, resolution) IS NULL);

CREATE OR REPLACE FUNCTION stockext.upsert_bar(symbol text, ts timestamptz, resolution interval,
                                    open float8, high float8, low float8, close float8,
                                    volume bigint, source text DEFAULT 'manual')
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    why text;
BEGIN
    IF symbol IS NULL OR ts IS NULL OR resolution IS NULL OR source IS NULL THEN
        RAISE EXCEPTION 'symbol, ts, resolution and source of a bar must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    why := coalesce(stockext.symbol_problem(symbol), stockext.ts_problem(ts, resolution),
                    stockext.bar_problem(open, high, low, close, volume));
    IF why IS NOT NULL THEN
        RAISE EXCEPTION 'invalid bar for "%" at %: %', symbol, ts, why
            USING ERRCODE = 'check_violation',
                  DETAIL = format('open %s, high %s, low %s, close %s, volume %s.',
                                  coalesce(open::text, 'NULL'), coalesce(high::text, 'NULL'),
                                  coalesce(low::text, 'NULL'), coalesce(close::text, 'NULL'),
                                  coalesce(volume::text, 'NULL'));
    END IF;
    INSERT INTO stockext.ticks AS t (symbol, ts, resolution, open, high, low, close, volume, source)
    VALUES (upper(symbol COLLATE "C"), ts, resolution, open, high, low, close, volume, source)
    ON CONFLICT ON CONSTRAINT ticks_pkey DO UPDATE
        SET open = excluded.open, high = excluded.high, low = excluded.low,
            close = excluded.close, volume = excluded.volume,
            source = excluded.source, ingested_at = excluded.ingested_at
        WHERE (t.open, t.high, t.low, t.close, t.volume, t.source)
              IS DISTINCT FROM
              (excluded.open, excluded.high, excluded.low, excluded.close,
               excluded.volume, excluded.source);
END
$$;
COMMENT ON FUNCTION stockext.upsert_bar(text, timestamptz, interval, float8, float8, float8, float8, bigint, text) IS
'inserts one bar or updates the stored bar with the same (symbol, ts, resolution), the symbol in upper case; rejects impossible bars and bars off their resolution''s grid with check_violation';

-- Symbols are upper case from now on: feeds and alert rules name them so (a
-- feed that listed "aapl" and "AAPL" keeps one).  Bars stored under a
-- lower-case symbol stay where they are (README, "Versions and upgrades").
UPDATE stockext.feeds f
   SET symbols = ARRAY(SELECT d.s FROM (SELECT DISTINCT ON (upper(x COLLATE "C")) upper(x COLLATE "C") AS s, n
                                        FROM unnest(f.symbols) WITH ORDINALITY AS u(x, n)
                                        ORDER BY upper(x COLLATE "C"), n) d
                       ORDER BY d.n)
 WHERE EXISTS (SELECT FROM unnest(f.symbols) x WHERE x <> upper(x COLLATE "C"));
UPDATE stockext.alert_rules SET symbol = upper(symbol COLLATE "C") WHERE symbol <> upper(symbol COLLATE "C");

CREATE OR REPLACE FUNCTION stockext.check_feed(provider text, symbols text[], resolution interval,
                                    poll_every interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s   text;
    why text;
BEGIN
    IF provider IS NULL THEN
        RAISE EXCEPTION 'provider must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF provider NOT IN ('twelvedata', 'alphavantage', 'yahoo', 'simulated') THEN
        RAISE EXCEPTION 'unknown provider "%"', provider
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of twelvedata, alphavantage, yahoo, simulated.';
    END IF;
    IF symbols IS NULL OR cardinality(symbols) = 0 THEN
        RAISE EXCEPTION 'a feed needs at least one symbol'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH s IN ARRAY symbols LOOP
        IF s IS NULL THEN
            RAISE EXCEPTION 'symbols must not contain NULL'
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
        why := stockext.symbol_problem(s);
        IF why IS NOT NULL THEN
            RAISE EXCEPTION 'invalid symbol "%"', s
                USING ERRCODE = 'invalid_parameter_value', DETAIL = initcap(left(why, 1)) || substr(why, 2) || '.';
        END IF;
    END LOOP;
    -- Symbols are case-insensitive: "aapl" repeats "AAPL".
    IF cardinality(symbols) <> (SELECT count(DISTINCT upper(x COLLATE "C")) FROM unnest(symbols) x) THEN
        RAISE EXCEPTION 'symbols must not repeat'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Symbols are compared in upper case.';
    END IF;
    IF resolution IS NULL THEN
        RAISE EXCEPTION 'resolution must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF provider = 'simulated' THEN
        IF extract(month FROM resolution) <> 0 OR extract(year FROM resolution) <> 0
           OR resolution < interval '1 second' OR resolution > interval '7 days'
           OR extract(epoch FROM resolution) <> trunc(extract(epoch FROM resolution)) THEN
            RAISE EXCEPTION 'resolution "%" is not supported by provider "simulated"', resolution
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The simulated feed serves whole numbers of seconds from 1 second to 7 days.';
        END IF;
    ELSIF NOT resolution = ANY (stockext.provider_resolutions(provider)) THEN
        RAISE EXCEPTION 'resolution "%" is not supported by provider "%"', resolution, provider
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Provider "%s" serves %s.', provider,
                                  array_to_string(stockext.provider_resolutions(provider), ', '));
    END IF;
    IF poll_every IS NULL OR poll_every < interval '1 second' THEN
        RAISE EXCEPTION 'poll_every must be at least 1 second'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('poll_every is %s.', coalesce(poll_every::text, 'NULL'));
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.check_feed(text, text[], interval, interval) IS
'raises invalid_parameter_value naming what is wrong with a feed definition (provider, symbols, resolution, poll interval of at least 1 second)';

CREATE FUNCTION stockext.check_feed_unique(feed integer, provider text, symbols text[],
                                           resolution interval)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    other integer;
    sym   text;
BEGIN
    SELECT f.id, s INTO other, sym
    FROM stockext.feeds f CROSS JOIN unnest(f.symbols) s
    WHERE f.provider = check_feed_unique.provider AND f.resolution = check_feed_unique.resolution
      AND f.id IS DISTINCT FROM feed AND s = ANY (check_feed_unique.symbols)
    ORDER BY f.id, s LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'symbol "%" already has a feed from provider "%" at resolution "%"',
                        sym, provider, resolution
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('Feed %s polls "%s" at that resolution.', other, sym),
                  HINT = format('Change the symbols of feed %s, or remove it.', other);
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.check_feed_unique(integer, text, text[], interval) IS
'raises duplicate_object when a feed other than feed polls one of the symbols from the provider at the resolution';

CREATE OR REPLACE FUNCTION stockext.add_feed(provider text, symbols text[], resolution interval,
                                  poll_every interval, api_key text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    feed integer;
BEGIN
    PERFORM stockext.check_feed(provider, symbols, resolution, poll_every);
    symbols := ARRAY(SELECT upper(s COLLATE "C") FROM unnest(symbols) WITH ORDINALITY AS u(s, n) ORDER BY n);
    LOCK TABLE stockext.feeds IN SHARE ROW EXCLUSIVE MODE;
    PERFORM stockext.check_feed_unique(NULL, provider, symbols, resolution);
    INSERT INTO stockext.feeds (provider, symbols, resolution, poll_every)
    VALUES (provider, symbols, resolution, poll_every)
    RETURNING id INTO feed;
    IF api_key IS NOT NULL THEN
        PERFORM stockext.set_api_key(feed, api_key);
    END IF;
    PERFORM stockext.activate_on_first_use();
    RETURN feed;
END
$$;

CREATE OR REPLACE FUNCTION stockext.change_feed(feed integer, symbols text[] DEFAULT NULL,
                                     resolution interval DEFAULT NULL,
                                     poll_every interval DEFAULT NULL,
                                     seed bigint DEFAULT NULL,
                                     keep_raw boolean DEFAULT NULL,
                                     raw_retention interval DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f stockext.feeds;
BEGIN
    PERFORM stockext.feed_provider(feed);
    LOCK TABLE stockext.feeds IN SHARE ROW EXCLUSIVE MODE;
    SELECT * INTO f FROM stockext.feeds WHERE id = feed FOR UPDATE;
    f.symbols := coalesce(symbols, f.symbols);
    f.resolution := coalesce(resolution, f.resolution);
    f.poll_every := coalesce(poll_every, f.poll_every);
    f.seed := coalesce(seed, f.seed);
    f.keep_raw := coalesce(keep_raw, f.keep_raw);
    f.raw_retention := coalesce(raw_retention, f.raw_retention);
    PERFORM stockext.check_feed(f.provider, f.symbols, f.resolution, f.poll_every);
    f.symbols := ARRAY(SELECT upper(s COLLATE "C") FROM unnest(f.symbols) WITH ORDINALITY AS u(s, n) ORDER BY n);
    PERFORM stockext.check_feed_unique(feed, f.provider, f.symbols, f.resolution);
    IF f.raw_retention <= interval '0' THEN
        RAISE EXCEPTION 'raw_retention must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE stockext.feeds
       SET symbols = f.symbols, resolution = f.resolution,
           poll_every = f.poll_every, seed = f.seed,
           keep_raw = f.keep_raw, raw_retention = f.raw_retention
     WHERE id = feed;
    UPDATE stockext.feed_state SET next_poll_at = '-infinity' WHERE feed_id = feed;
END
$$;

COMMENT ON FUNCTION stockext.add_feed(text, text[], interval, interval, text) IS
'adds a feed polled by the ingestion worker and returns its id; symbols are stored in upper case, each polled by one feed per provider and resolution; the key is stored apart, readable by superusers only';

CREATE OR REPLACE FUNCTION stockext.backfill(provider text, symbol text, start timestamptz,
                                  stop timestamptz, resolution interval)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chunk  interval;
    lo     timestamptz;
    hi     timestamptz;
    total  bigint := 0;
    feed_seed bigint;
    newest timestamptz;
BEGIN
    IF symbol IS NULL THEN
        RAISE EXCEPTION 'symbol must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM stockext.check_feed(provider, ARRAY[symbol], resolution, resolution);
    symbol := upper(symbol COLLATE "C");
    IF start IS NULL OR stop IS NULL OR stop <= start THEN
        RAISE EXCEPTION 'backfill range must be non-empty'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', coalesce(start::text, 'NULL'),
                                  coalesce(stop::text, 'NULL'));
    END IF;
    -- The seed of the symbol's simulated feed, so history and live agree.
    SELECT f.seed INTO feed_seed FROM stockext.feeds f
     WHERE f.provider = 'simulated' AND symbol = ANY (f.symbols) AND f.resolution = backfill.resolution
     ORDER BY f.id LIMIT 1;
    -- Chunks: what one request can return (5000 bars; Yahoo minute bars
    -- 7 days; Alpha Vantage intraday history a UTC month per request).
    chunk := CASE WHEN provider = 'simulated' THEN resolution * 10000
                  WHEN provider = 'yahoo' AND resolution < interval '1 hour' THEN interval '7 days'
                  ELSE resolution * 5000 END;
    IF start >= now() THEN
        RAISE NOTICE 'backfill of "%" from %: nothing to fetch, the range starts after now', symbol, provider;
        RETURN 0;
    END IF;
    stop := least(stop, now());
    lo := start;
    WHILE lo < stop LOOP
        hi := least(lo + chunk, stop);
        IF provider = 'alphavantage' AND resolution < interval '1 day' THEN
            hi := least((date_trunc('month', lo AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC', stop);
        END IF;
        IF provider = 'simulated' THEN
            total := total + stockext.ingest_simulated(symbol, lo, hi, resolution, coalesce(feed_seed, 0));
            RAISE NOTICE 'backfill of "%" from %: % bars stored up to %', symbol, provider, total, hi;
        ELSE
            total := total + stockext.fetch_history(provider, symbol, lo, hi, resolution);
            -- A provider sends what it has, which may end before the chunk
            -- (no trading, a plan's limits): report the newest bar stored.
            SELECT max(t.ts) INTO newest FROM stockext.ticks t
            WHERE t.symbol = backfill.symbol AND t.resolution = backfill.resolution AND t.ts < hi;
            RAISE NOTICE 'backfill of "%" from %: % bars stored, newest bar %', symbol, provider, total,
                coalesce('at ' || newest, 'none yet');
        END IF;
        lo := hi;
    END LOOP;
    RETURN total;
END
$$;
COMMENT ON FUNCTION stockext.backfill(text, text, timestamptz, timestamptz, interval) IS
'fetches the bars of [start, stop) of a symbol (stored in upper case) from a provider in chunks (NOTICE per chunk) and upserts them; safe to re-run; returns rows changed';

CREATE OR REPLACE FUNCTION stockext.bars(symbol text, width interval, start timestamptz, stop timestamptz,
                              fill text DEFAULT 'none')
RETURNS TABLE (bucket timestamptz, open double precision, high double precision,
               low double precision, close double precision, volume bigint,
               vwap double precision, avg_close double precision, n integer)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    origin    timestamp := '2000-01-03 00:00';
    tz        text := 'UTC';
    src       interval;
    rolled    boolean;
    data_sql  text;
    prev      double precision;
BEGIN
    IF symbol IS NULL OR width IS NULL OR start IS NULL OR stop IS NULL OR fill IS NULL THEN
        RAISE EXCEPTION 'arguments of stockext.bars() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF fill NOT IN ('none', 'null', 'previous', 'locf') THEN
        RAISE EXCEPTION 'invalid fill "%"', fill
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use none, null, previous or locf.';
    END IF;
    IF width <= interval '0' OR date_part('month', width) <> 0 OR date_part('year', width) <> 0 THEN
        RAISE EXCEPTION 'invalid bar width "%"', width
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A width is positive and made of days, hours, minutes and seconds only.';
    END IF;
    IF stop < start THEN
        RAISE EXCEPTION 'bar range ends before it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', start, stop);
    END IF;
    IF extract(epoch FROM stop - start) / extract(epoch FROM width) > 1000000 THEN
        RAISE EXCEPTION 'bar range holds more than 1000000 buckets of "%"', width
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Ask for a shorter range or a wider bucket.';
    END IF;
    symbol := upper(symbol COLLATE "C");
    -- A symbol never stored is a typo more often than an empty range, and
    -- would fill every bucket with NULLs.
    IF NOT EXISTS (SELECT FROM stockext.ticks t WHERE t.symbol = bars.symbol)
       AND NOT EXISTS (SELECT FROM stockext.rollups r WHERE r.symbol = bars.symbol) THEN
        RAISE EXCEPTION 'symbol "%" has no bars', symbol
            USING ERRCODE = 'no_data_found',
                  DETAIL = 'Neither stockext.ticks nor the rollups hold a bar of it, at any resolution.',
                  HINT = 'SELECT DISTINCT symbol FROM stockext.ticks lists the stored symbols.';
    END IF;

    SELECT w.origin, w.time_zone, w.source_resolution INTO origin, tz, src
    FROM stockext.rollup_widths w WHERE w.width = bars.width;
    rolled := FOUND;
    IF rolled THEN
        data_sql := $q$
            SELECT l.bucket, l.open, l.high, l.low, l.close, l.volume, l.vwap, l.avg_close, l.n
            FROM stockext.rollups_live l
            WHERE l.width = $2 AND l.symbol = $1 AND l.bucket >= $3 AND l.bucket < $4$q$;
    ELSE
        origin := '2000-01-03 00:00';
        tz := 'UTC';
        SELECT min(t.resolution) INTO src FROM stockext.ticks t
        WHERE t.symbol = bars.symbol AND t.ts >= start AND t.ts < stop + width AND t.resolution < width;
        data_sql := format($q$
            SELECT s.bucket, %s
            FROM (SELECT stockext.rollup_bucket(t.ts, $2, $5, $6) AS bucket, t.*
                  FROM stockext.ticks t
                  WHERE t.symbol = $1 AND t.resolution = $7 AND t.ts >= $3 AND t.ts < $4 + $2) s
            WHERE s.bucket >= $3 AND s.bucket < $4
            GROUP BY s.bucket$q$, stockext.rollup_select_list());
    END IF;

    IF fill = 'none' THEN
        RETURN QUERY EXECUTE data_sql || ' ORDER BY 1' USING symbol, width, start, stop, origin, tz, src;
        RETURN;
    END IF;

    -- The close before the first bucket seeds 'previous'.
    IF fill IN ('previous', 'locf') AND src IS NOT NULL THEN
        SELECT t.close INTO prev FROM stockext.ticks t
        WHERE t.symbol = bars.symbol AND t.resolution = src
          AND t.ts < stockext.rollup_bucket(start, width, origin, tz)
          AND stockext.rollup_bucket(t.ts, width, origin, tz) < start
        ORDER BY t.ts DESC LIMIT 1;
    END IF;

    RETURN QUERY EXECUTE format($q$
        WITH data AS (%s),
        grid AS (
            SELECT DISTINCT g AT TIME ZONE $6 AS bucket
            FROM generate_series(date_bin($2, $3 AT TIME ZONE $6, $5), $4 AT TIME ZONE $6, $2) g
        ),
        cells AS (
            SELECT g.bucket, d.open, d.high, d.low, d.close, d.volume, d.vwap, d.avg_close, d.n,
                   count(d.close) OVER (ORDER BY g.bucket) AS run
            FROM grid g LEFT JOIN data d ON d.bucket = g.bucket
            WHERE g.bucket >= $3 AND g.bucket < $4
        ),
        carried AS (
            SELECT c.*, coalesce(first_value(c.close) OVER (PARTITION BY c.run ORDER BY c.bucket), $8) AS last_close
            FROM cells c
        )
        SELECT c.bucket,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.open ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.high ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.low ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.close ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 OR c.last_close IS NULL THEN c.volume ELSE 0 END,
               c.vwap,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.avg_close ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 OR c.last_close IS NULL THEN c.n ELSE 0 END
        FROM carried c ORDER BY c.bucket$q$, data_sql)
    USING symbol, width, start, stop, origin, tz, src, prev, fill IN ('previous', 'locf');
END
$$;
COMMENT ON FUNCTION stockext.bars(text, interval, timestamptz, timestamptz, text) IS
'one bar per bucket of width starting in [start, stop) for symbol (in any case); fill none (empty buckets absent), null (NULL rows) or previous/locf (flat candle at the previous close, volume 0)';

-- The request limits hold in sliding windows (src/rate_limit.c).
COMMENT ON FUNCTION stockext.provider_requests() IS
'requests made to each provider in the last 60 seconds and the last 24 hours (sliding windows, to the second and the minute) by all databases of the server (kept across restarts), beside the limits stockext.<provider>_requests_per_minute and _per_day, which hold in every such window';
