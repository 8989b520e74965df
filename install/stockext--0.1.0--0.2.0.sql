-- stockext 0.1.0 -> 0.2.0 (ALTER EXTENSION stockext UPDATE TO '0.2.0').
\echo Use "ALTER EXTENSION stockext UPDATE" to load this file. \quit

-- Every change to the extension's SQL objects between the two versions, in
-- the order made; test/suites/15-upgrade checks that an updated 0.1.0 has
-- the same objects as a fresh 0.2.0.

------------------------------------------------------------------------------
-- Backups: partitions and rollups survive pg_dump and pg_restore
------------------------------------------------------------------------------

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

CREATE OR REPLACE FUNCTION stockext.add_alert(condition text, symbol text DEFAULT NULL,
                                   feed integer DEFAULT NULL,
                                   resolution interval DEFAULT NULL,
                                   direction text DEFAULT NULL,
                                   threshold float8 DEFAULT NULL,
                                   bars integer DEFAULT NULL,
                                   slow integer DEFAULT NULL,
                                   factor float8 DEFAULT NULL,
                                   level float8 DEFAULT NULL,
                                   cooldown interval DEFAULT '0',
                                   webhook_url text DEFAULT NULL)
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
        IF symbol IS NOT NULL AND NOT symbol = ANY (f.symbols) THEN
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
    INSERT INTO stockext.alert_rules (symbol, feed_id, resolution, condition, direction, threshold,
                                      bars, slow, factor, level, cooldown)
    VALUES (symbol, feed, resolution, condition, direction, threshold, bars, slow, factor, level, cooldown)
    RETURNING id INTO rule;
    IF webhook_url IS NOT NULL THEN
        PERFORM stockext.set_webhook(rule, NULL, webhook_url);
    END IF;
    PERFORM stockext.activate_on_first_use();
    RETURN rule;
END
$$;

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
CREATE OR REPLACE FUNCTION stockext.evaluate_alerts(max_bars integer DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k       record;
    r       stockext.alert_rules;
    chk     record;
    a       stockext.alerts;
    fired   integer := 0;
BEGIN
    PERFORM stockext.check_live();
    PERFORM pg_advisory_xact_lock('stockext.alert_queue'::regclass::oid::bigint);
    FOR k IN
        WITH claimed AS (DELETE FROM stockext.alert_queue q
                         WHERE q.ctid IN (SELECT o.ctid FROM stockext.alert_queue o
                                          ORDER BY o.ts LIMIT max_bars)
                         RETURNING q.symbol, q.resolution, q.ts)
        SELECT DISTINCT cl.symbol, cl.resolution, cl.ts FROM claimed cl
        WHERE EXISTS (SELECT FROM stockext.ticks t
                      WHERE t.symbol = cl.symbol AND t.resolution = cl.resolution AND t.ts = cl.ts)
        ORDER BY 1, 2, 3
    LOOP
        FOR r IN
            SELECT ru.* FROM stockext.alert_rules ru
            JOIN stockext.alert_targets tg ON tg.rule_id = ru.id
            WHERE tg.symbol = k.symbol AND tg.resolution = k.resolution
            ORDER BY ru.id
        LOOP
            -- Cooldown in bar time: no two alerts of a rule and symbol
            -- whose bars are closer than it (late bars included).
            CONTINUE WHEN EXISTS (
                SELECT FROM stockext.alerts p
                WHERE p.rule_id = r.id AND p.symbol = k.symbol
                  AND (p.bar_ts = k.ts OR (p.bar_ts > k.ts - r.cooldown AND p.bar_ts < k.ts + r.cooldown)));
            chk := stockext.alert_check(r, k.symbol, k.ts);
            CONTINUE WHEN NOT chk.fires;
            INSERT INTO stockext.alerts (kind, rule_id, feed_id, symbol, resolution, bar_ts, observed,
                                         message, delivery, next_attempt_at)
            VALUES ('alert', r.id, r.feed_id, k.symbol, k.resolution, k.ts, chk.observed,
                    format('%s %s bar of %s UTC: %s', k.symbol, stockext.resolution_label(k.resolution),
                           to_char(k.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), chk.what),
                    CASE WHEN EXISTS (SELECT FROM stockext.webhooks w WHERE w.rule_id = r.id)
                         THEN 'pending' ELSE 'none' END,
                    now())
            ON CONFLICT ON CONSTRAINT alerts_once_per_bar DO NOTHING;
            IF FOUND THEN
                fired := fired + 1;
            END IF;
        END LOOP;
    END LOOP;
    FOR a IN
        WITH announced AS (UPDATE stockext.alerts SET notified_at = now()
                           WHERE notified_at IS NULL RETURNING *)
        SELECT * FROM announced ORDER BY id
    LOOP
        PERFORM pg_notify('stockext_alerts', json_build_object(
            'id', a.id, 'kind', a.kind, 'rule', a.rule_id, 'feed', a.feed_id,
            'symbol', a.symbol, 'resolution', stockext.resolution_label(a.resolution), 'bar_ts', to_char(a.bar_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'observed', a.observed, 'message', a.message)::text);
    END LOOP;
    RETURN fired;
END
$$;

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

------------------------------------------------------------------------------
-- DROP EXTENSION is deliberate; rollup privileges follow ticks; clear errors
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- Bars on their resolution's grid, upper-case symbols, feed checks
------------------------------------------------------------------------------
