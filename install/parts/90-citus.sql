------------------------------------------------------------------------------
-- Citus: stockext's bars, rollups and change tracking distributed by symbol
------------------------------------------------------------------------------

-- On a Citus node, the shard of rel co-located with shard, a shard of
-- another table of the same co-location group (stockext.ticks_102008 ->
-- stockext.rollup_invalidations_102040); NULL when there is none.  Shards
-- are named <table>_<shard id>, and co-located shards cover the same hash
-- range.  Reads Citus's catalogs, which exist only where Citus is
-- installed: PL/pgSQL plans the query on the first call.
CREATE FUNCTION stockext.colocated_shard(rel regclass, shard regclass)
RETURNS regclass
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT pg_catalog.shard_name(rel, o.shardid)::regclass
            FROM pg_catalog.pg_dist_shard me
            JOIN pg_catalog.pg_dist_shard o ON o.shardminvalue = me.shardminvalue
            WHERE me.shardid = substring(shard::text FROM '_(\d+)$')::bigint
              AND o.logicalrelid = rel);
END
$$;
COMMENT ON FUNCTION stockext.colocated_shard(regclass, regclass) IS
'internal: on a Citus node, the shard of rel co-located with the shard shard of another table';
REVOKE ALL ON FUNCTION stockext.colocated_shard(regclass, regclass) FROM PUBLIC;

-- On a Citus node, the table to read symbol's rows of rel from: the shard
-- of rel that holds them when this node has a placement of it (every node
-- has one of a reference table's), else rel itself, through Citus.  A
-- function that runs inside the query of a shard (adjust_price() on a
-- worker) can read only its node's tables: a distributed query from there
-- fails.  As text, schema-qualified and quoted.  Every reader of adjusted
-- bars calls it: it reads only Citus's catalogs.  Citus gives a reference
-- table's one shard whatever the symbol.
CREATE FUNCTION stockext.local_shard(rel regclass, symbol text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    shard bigint := pg_catalog.get_shard_id_for_distribution_column(rel, symbol);
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_dist_placement p
               WHERE p.shardid = shard
                 AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)) THEN
        RETURN pg_catalog.shard_name(rel, shard);
    END IF;
    RETURN rel::text;
END
$$;
COMMENT ON FUNCTION stockext.local_shard(regclass, text) IS
'internal: on a Citus node, the shard of rel holding symbol''s rows if this node has it, else rel';

-- The refresh on one Citus node: the refresh statements over each group
-- of co-located shards of ticks, rollups and rollup_invalidations this
-- node holds, under a lock of its own per group.
CREATE FUNCTION stockext.refresh_local_shards(OUT buckets bigint, OUT upserted bigint, OUT deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    shard    regclass;
    rollups  text;
    invalids text;
    b        bigint;
    u        bigint;
    r        bigint;
    d        bigint;
    symbols  text[];
    widths   interval[];
    starts   timestamptz[];
BEGIN
    buckets := 0; upserted := 0; deleted := 0;
    FOR shard IN
        SELECT pg_catalog.shard_name('stockext.ticks', s.shardid)::regclass
        FROM pg_catalog.pg_dist_shard s
        JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
        WHERE s.logicalrelid = 'stockext.ticks'::regclass
          AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)
        ORDER BY s.shardid
    LOOP
        PERFORM pg_advisory_xact_lock('stockext.rollups'::regclass::oid::integer, shard::oid::integer);
        rollups := stockext.colocated_shard('stockext.rollups', shard)::text;
        invalids := stockext.colocated_shard('stockext.rollup_invalidations', shard)::text;
        EXECUTE stockext.rollup_refresh_sql(shard::text, rollups, invalids) INTO b, u, symbols, widths, starts;
        IF symbols IS NOT NULL THEN
            EXECUTE stockext.rollup_recompute_sql(shard::text, rollups, invalids,
                                                  '(SELECT * FROM unnest($1, $2, $3) AS k (symbol, width, bucket))')
                INTO r, d USING symbols, widths, starts;
            u := u + r;
            deleted := deleted + d;
        END IF;
        buckets := buckets + b; upserted := upserted + u;
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.refresh_local_shards() IS
'internal: on a Citus node, refreshes the rollups of the shards of stockext.ticks it holds; returns how many keys it claimed, rows it wrote and empty buckets it deleted';
REVOKE ALL ON FUNCTION stockext.refresh_local_shards() FROM PUBLIC;

-- The refresh of distributed rollups: when keys are pending, every node of
-- the cluster (the coordinator too, which may hold shards) refreshes the
-- shards it holds,
-- all at once, each in a transaction of its own; the counts are summed.
-- A node's failure is this function's error.
CREATE FUNCTION stockext.refresh_rollup_shards(OUT buckets bigint, OUT upserted bigint, OUT deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    failed text;
BEGIN
    -- Nothing pending: a query through Citus's cached connections, rather
    -- than a new connection to every node.
    IF NOT EXISTS (SELECT 1 FROM stockext.rollup_invalidations) THEN
        buckets := 0; upserted := 0; deleted := 0;
        RETURN;
    END IF;
    CREATE TEMPORARY TABLE IF NOT EXISTS stockext_node_refreshes (nodeid integer, success boolean, result text);
    TRUNCATE stockext_node_refreshes;
    INSERT INTO stockext_node_refreshes
    SELECT r.nodeid, r.success, r.result
    FROM pg_catalog.run_command_on_all_nodes(
        $q$SELECT concat_ws(',', buckets, upserted, deleted) FROM stockext.refresh_local_shards()$q$) r;
    SELECT string_agg(format('node %s: %s', r.nodeid, r.result), '; ') INTO failed
    FROM stockext_node_refreshes r WHERE NOT r.success;
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION 'refreshing the rollups failed on a node of the Citus cluster'
            USING ERRCODE = 'external_routine_exception', DETAIL = failed;
    END IF;
    SELECT coalesce(sum(split_part(r.result, ',', 1)::bigint), 0),
           coalesce(sum(split_part(r.result, ',', 2)::bigint), 0),
           coalesce(sum(split_part(r.result, ',', 3)::bigint), 0)
      INTO buckets, upserted, deleted
    FROM stockext_node_refreshes r;
END
$$;
COMMENT ON FUNCTION stockext.refresh_rollup_shards() IS
'internal: refreshes distributed rollups on every node of the Citus cluster (stockext.refresh_local_shards()); returns the summed counts';
REVOKE ALL ON FUNCTION stockext.refresh_rollup_shards() FROM PUBLIC;

-- Runs command on every Citus worker, in the calling transaction (Citus
-- commits the workers' changes with it), and raises "<what> failed",
-- naming each worker that failed and why.
CREATE FUNCTION stockext.run_on_workers(command text, what text)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    failed text;
BEGIN
    SELECT string_agg(format('%s:%s: %s', r.nodename, r.nodeport, r.result), '; ') INTO failed
    FROM pg_catalog.run_command_on_workers(command) r
    WHERE NOT r.success;
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION '% failed', what
            USING ERRCODE = 'external_routine_exception', DETAIL = failed;
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.run_on_workers(text, text) IS
'internal: runs a command on every Citus worker in the calling transaction; raises "<what> failed" naming the workers that failed';
REVOKE ALL ON FUNCTION stockext.run_on_workers(text, text) FROM PUBLIC;

-- The rolled-up widths as the statements that give a node's own
-- stockext.rollup_widths the coordinator's rows.  The triggers of a shard
-- of ticks read the widths on its node.  They are written there with
-- triggers off (session_replication_role = replica): the table of a width
-- is the coordinator's to make, which Citus propagates.
CREATE FUNCTION stockext.rollup_widths_copy_sql()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT format('SET LOCAL session_replication_role = replica; DELETE FROM stockext.rollup_widths; %s',
                  CASE WHEN count(*) > 0
                       THEN format('INSERT INTO stockext.rollup_widths (width, name, origin, time_zone, source_resolution, metrics) VALUES %s',
                                   string_agg(format('(%L, %L, %L, %L, %L, %L)', w.width, w.name, w.origin, w.time_zone,
                                                     w.source_resolution, w.metrics), ', ' ORDER BY w.width))
                       ELSE '' END)
    FROM stockext.rollup_widths w;
END;
COMMENT ON FUNCTION stockext.rollup_widths_copy_sql() IS
'internal: the statements that give a Citus worker''s stockext.rollup_widths the rows of this node''s';
REVOKE ALL ON FUNCTION stockext.rollup_widths_copy_sql() FROM PUBLIC;

-- Copies the widths to every worker, in the calling transaction (run by
-- distribute() and after every change of stockext.rollup_widths on a
-- distributed coordinator).
CREATE FUNCTION stockext.copy_rollup_widths()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.run_on_workers(stockext.rollup_widths_copy_sql(),
                                    'copying stockext.rollup_widths to the Citus workers');
END
$$;
COMMENT ON FUNCTION stockext.copy_rollup_widths() IS
'internal: gives every Citus worker''s stockext.rollup_widths the coordinator''s rows';
REVOKE ALL ON FUNCTION stockext.copy_rollup_widths() FROM PUBLIC;

-- The (symbol, resolution) series some active alert rule watches, on a
-- Citus node: the triggers of the shards of ticks there queue the bars of
-- these series (stockext.alert_enqueue()), since the rules are on the
-- coordinator alone.  Filled by stockext.copy_alert_series(); empty where
-- stockext is not distributed.
CREATE TABLE stockext.alert_series (
    symbol     text     NOT NULL,
    resolution interval NOT NULL,
    PRIMARY KEY (symbol, resolution)
);
COMMENT ON TABLE stockext.alert_series IS
'internal: on a Citus node, the (symbol, resolution) series the coordinator''s active alert rules watch, whose bars the shards of ticks queue';
REVOKE ALL ON stockext.alert_series FROM PUBLIC;

-- The watched series as the statements that give a node's own
-- stockext.alert_series the coordinator's.
CREATE FUNCTION stockext.alert_series_copy_sql()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT 'DELETE FROM stockext.alert_series'
           || CASE WHEN count(*) > 0
                   THEN '; INSERT INTO stockext.alert_series (symbol, resolution) VALUES '
                        || string_agg(format('(%L, %L)', w.symbol, w.resolution), ', '
                                      ORDER BY w.symbol, w.resolution)
                   ELSE '' END
    FROM (SELECT DISTINCT a.symbol, a.resolution FROM stockext.alert_targets a) w;
END;
COMMENT ON FUNCTION stockext.alert_series_copy_sql() IS
'internal: the statements that give a Citus node''s stockext.alert_series the series this node''s active alert rules watch';
REVOKE ALL ON FUNCTION stockext.alert_series_copy_sql() FROM PUBLIC;

-- Copies the watched series to the coordinator's own alert_series (it may
-- hold shards) and to every worker's, in the calling transaction (Citus
-- commits the workers' copies with it).  Run by distribute() and, through
-- stockext.alert_series_sync(), after every change of the rules or of the
-- symbols and resolution of the feeds.  SECURITY DEFINER: whoever may
-- change a rule updates the copies, without rights on the nodes.
CREATE FUNCTION stockext.copy_alert_series()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    copy text := stockext.alert_series_copy_sql();
BEGIN
    EXECUTE copy;
    PERFORM stockext.run_on_workers(copy, 'copying the watched series to the Citus workers');
END
$$;
COMMENT ON FUNCTION stockext.copy_alert_series() IS
'internal: gives this node''s and every Citus worker''s stockext.alert_series the series the active alert rules watch';
REVOKE ALL ON FUNCTION stockext.copy_alert_series() FROM PUBLIC;

-- Keeps the nodes' watched series in step on a distributed coordinator.
CREATE FUNCTION stockext.alert_series_sync()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF stockext.is_distributed() THEN
        PERFORM stockext.copy_alert_series();
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.alert_series_sync() IS
'trigger: on a distributed coordinator, copies the watched series to the nodes after the alert rules or the feeds'' symbols changed';

CREATE TRIGGER alert_series_sync AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stockext.alert_rules
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.alert_series_sync();
CREATE TRIGGER alert_series_sync AFTER UPDATE OF symbols, resolution ON stockext.feeds
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.alert_series_sync();

-- Distributes stockext over the Citus cluster this database's coordinator
-- leads.  stockext.ticks and the tables that follow its bars are hash
-- distributed by symbol and co-located, so a symbol's bars, rollups,
-- pending invalidations, newest bar and bars queued for the alert rules
-- lie in one group of shards on one node: ticks (with its partitions),
-- rollups (with the table of each width), rollup_invalidations,
-- latest_ticks and alert_queue.  Everything else stays on the coordinator,
-- where the ingestion worker, the alert rules and alerts, NOTIFY, the
-- webhooks and pg_cron run; the workers get copies of the widths and of
-- the series the rules watch, and corporate_actions becomes a reference
-- table (a copy on every node, written through the coordinator).
-- The triggers of ticks run on the shards (Citus copies them when
-- citus.enable_unsafe_triggers is on, which is set for this call only) and
-- write into the co-located shards.
CREATE FUNCTION stockext.distribute(shard_count integer DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.enable_unsafe_triggers = on
SET client_min_messages = warning
AS $$
DECLARE
    rel   text;
    added text[];
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension e WHERE e.extname = 'citus') THEN
        RAISE EXCEPTION 'Citus is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Run CREATE EXTENSION citus on the coordinator, add the workers with citus_add_node(), then stockext.distribute().';
    END IF;
    IF NOT pg_catalog.citus_is_coordinator() THEN
        RAISE EXCEPTION 'stockext.distribute() must run on the Citus coordinator'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Set the coordinator with citus_set_coordinator_host() and call stockext.distribute() there.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.citus_get_active_worker_nodes()) THEN
        RAISE EXCEPTION 'the Citus cluster has no workers'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add them with citus_add_node() first.';
    END IF;
    IF stockext.is_distributed() THEN
        RAISE EXCEPTION 'stockext is already distributed'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF shard_count IS NOT NULL AND shard_count < 1 THEN
        RAISE EXCEPTION 'shard_count must be at least 1, not %', shard_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM stockext.copy_rollup_widths();
    PERFORM stockext.copy_alert_series();
    -- Citus expects an extension's tables on every node, but the table of
    -- a width added since CREATE EXTENSION is on the coordinator alone: it
    -- leaves the extension while Citus distributes it (and makes it on the
    -- workers), and comes back.
    SELECT array_agg(c.relname) INTO added
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'stockext.rollups'::regclass
      AND EXISTS (SELECT 1 FROM pg_catalog.run_command_on_workers(format('SELECT to_regclass(%L) IS NULL',
                                                                         format('stockext.%I', c.relname))) r
                  WHERE r.result = 't');
    FOREACH rel IN ARRAY coalesce(added, '{}') LOOP
        EXECUTE format('ALTER EXTENSION stockext DROP TABLE stockext.%I', rel);
    END LOOP;
    PERFORM pg_catalog.create_distributed_table('stockext.ticks', 'symbol',
                                                shard_count => coalesce(shard_count, current_setting('citus.shard_count')::integer));
    FOREACH rel IN ARRAY ARRAY['rollups', 'rollup_invalidations', 'latest_ticks', 'alert_queue'] LOOP
        PERFORM pg_catalog.create_distributed_table(format('stockext.%I', rel)::regclass, 'symbol',
                                                    colocate_with => 'stockext.ticks');
    END LOOP;
    -- Adjusted prices are computed where the bars are, from every node's
    -- placement of the actions (stockext.local_shard()).
    PERFORM pg_catalog.create_reference_table('stockext.corporate_actions');
    FOREACH rel IN ARRAY coalesce(added, '{}') LOOP
        EXECUTE format('ALTER EXTENSION stockext ADD TABLE stockext.%I', rel);
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.distribute(integer) IS
'distributes stockext.ticks and the tables that follow its bars (rollups, rollup_invalidations, latest_ticks, alert_queue) by symbol over the Citus cluster, co-located, and makes corporate_actions a reference table; run on the coordinator after CREATE EXTENSION citus and citus_add_node()';
REVOKE ALL ON FUNCTION stockext.distribute(integer) FROM PUBLIC;
