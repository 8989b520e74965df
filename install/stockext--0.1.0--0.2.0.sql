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
    VALUES (symbol, feed, resolution, condition, direction, threshold, bars, slow, factor, level, cooldown,
            on_forming, on_history, max_age)
    RETURNING id INTO rule;
    IF webhook_url IS NOT NULL THEN
        PERFORM stockext.set_webhook(rule, NULL, webhook_url);
    END IF;
    RETURN rule;
END
$$;
COMMENT ON FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text, boolean, boolean, interval) IS
'adds an alert rule on a symbol or on the symbols of a feed and returns its id; conditions pct_change, volume_spike, price_cross, sma_cross, volatility; it evaluates closed bars that land within max_age of their close, unless on_forming or on_history; a webhook URL needs a superuser';
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

------------------------------------------------------------------------------
-- Bars on their resolution's grid, upper-case symbols, feed checks
------------------------------------------------------------------------------
