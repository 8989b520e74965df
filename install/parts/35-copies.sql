------------------------------------------------------------------------------
-- Copies: only the live database polls, evaluates alerts and posts webhooks
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
