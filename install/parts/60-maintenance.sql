------------------------------------------------------------------------------
-- Rollups: partition maintenance, retention and pg_cron jobs
------------------------------------------------------------------------------

-- Maintenance settings: at most one row, none meaning the defaults.  No
-- row at CREATE EXTENSION, so pg_dump's copy of a user's row restores
-- without clashing with one the install script wrote.
CREATE TABLE stockext.maintenance_settings (
    single             boolean  PRIMARY KEY DEFAULT true CHECK (single),
    months_ahead       integer  NOT NULL DEFAULT 2 CHECK (months_ahead BETWEEN 0 AND 120),
    drop_ticks_after   interval CHECK (drop_ticks_after > interval '0')
);
COMMENT ON TABLE stockext.maintenance_settings IS
'partition maintenance, one row or none (defaults): months of ticks partitions kept ahead (2); drop_ticks_after (NULL: never) drops monthly ticks partitions that ended that long ago and have nothing left to roll up';
SELECT pg_catalog.pg_extension_config_dump('stockext.maintenance_settings', '');
REVOKE ALL ON stockext.maintenance_settings FROM PUBLIC;

-- Retention: drops the monthly ticks partitions that ended more than
-- drop_ticks_after ago, once no invalidation is pending (their rollups are
-- current and keep the history), and renews the newest bar of the series
-- whose newest bar went with them; then deletes the raw provider replies
-- older than their feed's raw_retention.  Returns how many partitions it
-- dropped.
CREATE FUNCTION stockext.apply_retention()
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keep    interval;
    part    record;
    dropped integer := 0;
BEGIN
    SELECT m.drop_ticks_after INTO keep FROM stockext.maintenance_settings m;
    IF keep IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock('stockext.ticks'::regclass::oid::bigint);
        FOR part IN
            SELECT c.oid::regclass AS rel,
                   (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS hi
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'stockext.ticks'::regclass
              AND c.oid <> 'stockext.ticks_default'::regclass
            ORDER BY 2
        LOOP
            EXIT WHEN part.hi > now() - keep;
            CONTINUE WHEN EXISTS (SELECT 1 FROM stockext.rollup_invalidations WHERE bucket < part.hi);
            EXECUTE format('DROP TABLE %s', part.rel);
            -- Dropping a partition fires no trigger: the series whose
            -- newest bar it held fall back to an older one, or go.
            PERFORM stockext.latest_ticks_renew(array_agg(l.symbol), array_agg(l.resolution), array_agg(l.ts))
            FROM stockext.latest_ticks l
            WHERE l.ts < part.hi
            HAVING count(*) > 0;
            dropped := dropped + 1;
        END LOOP;
    END IF;
    -- The worker prunes a feed's replies when it polls it; a paused feed's
    -- are pruned here, and those of a removed feed after the default 7 days.
    DELETE FROM stockext.raw_replies r
     WHERE r.at < now() - coalesce((SELECT f.raw_retention FROM stockext.feeds f WHERE f.id = r.feed_id),
                                   interval '7 days');
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION stockext.apply_retention() IS
'drops monthly ticks partitions older than maintenance_settings.drop_ticks_after once rolled up, and raw replies older than their feed''s raw_retention; returns the partitions dropped';
REVOKE ALL ON FUNCTION stockext.apply_retention() FROM PUBLIC;

-- Creates the ticks partitions months_ahead ahead, gives every month found
-- in the default partition its own partition (moving its rows), then
-- applies retention.  Returns the partitions created.
CREATE FUNCTION stockext.maintain_partitions()
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ahead   integer;
    month   timestamptz;
    created integer;
BEGIN
    ahead := coalesce((SELECT m.months_ahead FROM stockext.maintenance_settings m), 2);
    created := stockext.create_partitions(now(), now() + make_interval(months => ahead));
    FOR month IN
        SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        FROM stockext.ticks_default ORDER BY 1
    LOOP
        created := created + stockext.create_partitions(month, month);
    END LOOP;
    PERFORM stockext.apply_retention();
    RETURN created;
END
$$;
COMMENT ON FUNCTION stockext.maintain_partitions() IS
'creates ticks partitions ahead (maintenance_settings.months_ahead) and for every month stranded in the default partition, then applies retention; returns the partitions created';
REVOKE ALL ON FUNCTION stockext.maintain_partitions() FROM PUBLIC;

-- The jobs of this database, named stockext:<database>:<job>.
CREATE FUNCTION stockext.cron_jobs(OUT jobname text, OUT schedule text, OUT command text, OUT database text)
RETURNS SETOF record
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT 'stockext:' || current_database() || ':' || j.job, j.schedule, j.command, current_database()::text
    FROM (VALUES (1, 'refresh', '* * * * *', 'SELECT stockext.refresh_rollups()'),
                 (2, 'maintenance', '17 3 * * *', 'SELECT stockext.maintain_partitions()'),
                 (3, 'retention', '47 * * * *', 'SELECT stockext.apply_retention()'))
         AS j(i, job, schedule, command)
    ORDER BY j.i;
END;
COMMENT ON FUNCTION stockext.cron_jobs() IS
'the pg_cron jobs stockext.schedule_jobs() registers for this database: refresh every minute, partition maintenance daily, retention hourly';

-- A libpq connection-string value: quoted, its backslashes and quotes
-- escaped, so a database or role name cannot add keywords of its own.
CREATE FUNCTION stockext.conninfo_quote(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN '''' || replace(replace(value, E'\\', E'\\\\'), '''', E'\\''') || '''';
COMMENT ON FUNCTION stockext.conninfo_quote(text) IS
'internal: value quoted for a libpq connection string (dblink to the pg_cron database)';

-- Runs a statement returning one bigint in the pg_cron database: here when
-- pg_cron lives in this database, through dblink otherwise (PostgreSQL
-- cannot reach another database without it).  When it cannot, raises an
-- error with the statement to run there by hand, or with quiet only
-- reports it as a NOTICE and returns NULL.
CREATE FUNCTION stockext.cron_run(sql text, quiet boolean)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    crondb  text := current_setting('cron.database_name', true);
    linker  name;
    conn    text;
    result  bigint;
BEGIN
    IF crondb IS NULL THEN
        IF quiet THEN RETURN NULL; END IF;
        RAISE EXCEPTION 'pg_cron is not installed'
            USING ERRCODE = 'undefined_object',
                  HINT = 'Add pg_cron to shared_preload_libraries, restart and CREATE EXTENSION pg_cron in the database named by cron.database_name; without it, call stockext.refresh_rollups() and stockext.maintain_partitions() from any scheduler.';
    END IF;
    IF crondb = current_database() THEN
        IF to_regclass('cron.job') IS NULL THEN
            IF quiet THEN RETURN NULL; END IF;
            RAISE EXCEPTION 'pg_cron is not installed in database "%"', crondb
                USING ERRCODE = 'undefined_object',
                      HINT = 'Run CREATE EXTENSION pg_cron in this database first.';
        END IF;
        EXECUTE sql INTO result;
        RETURN result;
    END IF;
    SELECT n.nspname INTO linker
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'dblink';
    IF NOT FOUND THEN
        IF quiet THEN
            RAISE NOTICE 'pg_cron jobs of database "%" must be removed in database "%"', current_database(), crondb
                USING HINT = format('Run there: %s', sql);
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'pg_cron runs in database "%", not in "%"', crondb, current_database()
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'PostgreSQL cannot run a statement in another database without dblink.',
                  HINT = format('CREATE EXTENSION dblink in this database and retry, or run in database "%s": %s', crondb, sql);
    END IF;
    conn := format('dbname=%s user=%s port=%s', stockext.conninfo_quote(crondb),
                   stockext.conninfo_quote(current_user), current_setting('port'));
    IF split_part(current_setting('unix_socket_directories'), ',', 1) <> '' THEN
        conn := conn || ' host=' ||
                stockext.conninfo_quote(trim(split_part(current_setting('unix_socket_directories'), ',', 1)));
    END IF;
    BEGIN
        EXECUTE format('SELECT n FROM %I.dblink($1, $2) AS t(n bigint)', linker) INTO result
            USING conn, 'SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = ''pg_cron''';
        IF result = 0 THEN
            IF quiet THEN RETURN NULL; END IF;
            RAISE EXCEPTION 'pg_cron is not installed in database "%"', crondb
                USING ERRCODE = 'undefined_object',
                      HINT = format('Run CREATE EXTENSION pg_cron in database "%s" first.', crondb);
        END IF;
        EXECUTE format('SELECT n FROM %I.dblink($1, $2) AS t(n bigint)', linker) INTO result USING conn, sql;
    EXCEPTION WHEN OTHERS THEN
        IF NOT quiet THEN RAISE; END IF;
        RAISE WARNING 'could not remove the pg_cron jobs of database "%" in database "%": %', current_database(), crondb, SQLERRM
            USING HINT = format('Run there: %s', sql);
    END;
    RETURN result;
END
$$;
COMMENT ON FUNCTION stockext.cron_run(text, boolean) IS
'internal: runs a statement returning one bigint in the pg_cron database, locally or through dblink';
REVOKE ALL ON FUNCTION stockext.cron_run(text, boolean) FROM PUBLIC;

-- The statement that removes this database's jobs, run in the cron database.
CREATE FUNCTION stockext.cron_unschedule_sql()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN format('SELECT count(cron.unschedule(jobid)) FROM cron.job WHERE jobname IN (%s)',
              (SELECT string_agg(quote_literal(j.jobname), ', ') FROM stockext.cron_jobs() j));
COMMENT ON FUNCTION stockext.cron_unschedule_sql() IS
'internal: the statement, for the pg_cron database, that removes the jobs of this database';

-- Registers (or re-registers) the jobs of stockext.cron_jobs() with
-- cron.schedule_in_database; returns how many.
CREATE FUNCTION stockext.schedule_jobs()
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN stockext.cron_run(
        (SELECT format('SELECT count(*) FROM (VALUES %s) AS j(id)',
                       string_agg(format('(cron.schedule_in_database(%L, %L, %L, %L))',
                                         j.jobname, j.schedule, j.command, j.database), ', '))
         FROM stockext.cron_jobs() j),
        false);
END
$$;
COMMENT ON FUNCTION stockext.schedule_jobs() IS
'registers this database''s rollup refresh, partition maintenance and retention jobs with pg_cron (through dblink when pg_cron lives in another database); returns how many';
REVOKE ALL ON FUNCTION stockext.schedule_jobs() FROM PUBLIC;

-- Removes them; returns how many were removed.
CREATE FUNCTION stockext.unschedule_jobs()
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN stockext.cron_run(stockext.cron_unschedule_sql(), false);
END
$$;
COMMENT ON FUNCTION stockext.unschedule_jobs() IS
'removes this database''s stockext jobs from pg_cron; returns how many it removed';
REVOKE ALL ON FUNCTION stockext.unschedule_jobs() FROM PUBLIC;

-- DROP EXTENSION stockext is refused while stockext.ticks holds bars,
-- unless it says CASCADE or stockext.allow_drop is on; a drop let through
-- also drops the schema stockext at commit when nothing else is left in it.
-- Named to fire before stockext_drop_jobs (event triggers fire in name
-- order), so a refused drop keeps the jobs.
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

-- DROP EXTENSION stockext first removes the jobs, so none is left behind
-- to fail every minute.
CREATE FUNCTION stockext.drop_jobs_trigger()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'stockext_drop_jobs_trigger'
LANGUAGE C;
COMMENT ON FUNCTION stockext.drop_jobs_trigger() IS
'event trigger: before DROP EXTENSION stockext, removes this database''s stockext jobs from pg_cron';
REVOKE ALL ON FUNCTION stockext.drop_jobs_trigger() FROM PUBLIC;
CREATE EVENT TRIGGER stockext_drop_jobs ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION')
    EXECUTE FUNCTION stockext.drop_jobs_trigger();

