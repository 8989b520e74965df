------------------------------------------------------------------------------
-- Alerts
------------------------------------------------------------------------------

-- Rules: a condition on the bars of one symbol, or of every symbol of a
-- feed, at one resolution.  Parameters a condition does not use are NULL;
-- stockext.check_alert() says what each one needs.  on_forming, on_history
-- and max_age came in 0.2.0, adjust in 0.3.0, hence last (an updated table
-- has them there).
CREATE TABLE stockext.alert_rules (
    id         serial      PRIMARY KEY,
    symbol     text,
    feed_id    integer     REFERENCES stockext.feeds ON DELETE CASCADE,
    resolution interval    NOT NULL,
    condition  text        NOT NULL,
    direction  text,
    threshold  double precision,
    bars       integer,
    slow       integer,
    factor     double precision,
    level      double precision,
    cooldown   interval    NOT NULL,
    paused     boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    on_forming boolean     NOT NULL DEFAULT false,
    on_history boolean     NOT NULL DEFAULT false,
    max_age    interval,
    adjust     text        NOT NULL DEFAULT 'splits',
    CONSTRAINT alert_rules_adjust_known CHECK (adjust IN ('none', 'splits', 'all')),
    skip_open  boolean     NOT NULL DEFAULT true,
    CONSTRAINT alert_rules_target CHECK (symbol IS NOT NULL OR feed_id IS NOT NULL),
    CONSTRAINT alert_rules_condition_known
        CHECK (condition IN ('pct_change', 'volume_spike', 'price_cross', 'sma_cross', 'volatility'))
);
COMMENT ON TABLE stockext.alert_rules IS
'alert rules evaluated on new bars; change them with add_alert, pause_alert, resume_alert, remove_alert';
COMMENT ON COLUMN stockext.alert_rules.on_forming IS
'evaluate bars still forming too (their alerts say so); otherwise only closed bars';
COMMENT ON COLUMN stockext.alert_rules.on_history IS
'evaluate bars however late they land (backfill, gap fill); otherwise bars later than max_age are skipped';
COMMENT ON COLUMN stockext.alert_rules.max_age IS
'latest a bar may land after its close and still be evaluated; NULL: the poll interval of its feed, stockext.alert_close_grace and stockext.alert_max_age_bars bar widths';
COMMENT ON COLUMN stockext.alert_rules.adjust IS
'prices (and for splits volumes) the rule evaluates: splits (the default: a split is no price move), all (dividends too) or none (as traded), on the basis of the bar evaluated';
COMMENT ON COLUMN stockext.alert_rules.skip_open IS
'volume_spike: leave out the first bar of each session of the symbol''s calendar (stockext.symbol_calendar), whose opening auction trades several times a usual bar''s volume';
REVOKE ALL ON stockext.alert_rules FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.alert_rules', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.alert_rules_id_seq', '');

-- Which feeds notify of their polls.
CREATE TABLE stockext.feed_notifications (
    feed_id     integer PRIMARY KEY REFERENCES stockext.feeds ON DELETE CASCADE,
    on_success  boolean NOT NULL,
    on_failure  boolean NOT NULL,
    on_recovery boolean NOT NULL
);
COMMENT ON TABLE stockext.feed_notifications IS
'feeds that raise events when a poll succeeds, when they start failing and when they recover; set with set_feed_notifications';
REVOKE ALL ON stockext.feed_notifications FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.feed_notifications', '');

-- Webhook URLs may carry secrets (Slack's do): superusers only, apart from
-- the rules so that granting the rules grants no URL.
CREATE TABLE stockext.webhooks (
    rule_id integer UNIQUE REFERENCES stockext.alert_rules ON DELETE CASCADE,
    feed_id integer UNIQUE REFERENCES stockext.feeds ON DELETE CASCADE,
    url     text    NOT NULL,
    CONSTRAINT webhooks_one_owner CHECK (num_nonnulls(rule_id, feed_id) = 1)
);
COMMENT ON TABLE stockext.webhooks IS
'webhook URL of an alert rule or of a feed''s events; readable by superusers only';
REVOKE ALL ON stockext.webhooks FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.webhooks', '');

-- Fired alerts and feed events, with their delivery.  One row per (rule,
-- symbol, bar): a bar never fires a rule twice, re-polls included.
CREATE TABLE stockext.alerts (
    id              bigserial   PRIMARY KEY,
    fired_at        timestamptz NOT NULL DEFAULT now(),
    kind            text        NOT NULL,
    rule_id         integer,
    feed_id         integer,
    symbol          text,
    resolution      interval,
    bar_ts          timestamptz,
    observed        double precision,
    message         text        NOT NULL,
    notified_at     timestamptz,
    delivery        text        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz,
    delivered_at    timestamptz,
    forming         boolean     NOT NULL DEFAULT false,
    CONSTRAINT alerts_kind_known
        CHECK (kind IN ('alert', 'feed_success', 'feed_failing', 'feed_recovered')),
    CONSTRAINT alerts_delivery_known CHECK (delivery IN ('none', 'pending', 'delivered', 'failed')),
    CONSTRAINT alerts_once_per_bar UNIQUE (rule_id, symbol, bar_ts)
);
COMMENT ON TABLE stockext.alerts IS
'fired alerts and feed events: when, which rule or feed, symbol, bar, observed value, message, and the webhook delivery (none, pending, delivered, failed) with attempts and last error';
COMMENT ON COLUMN stockext.alerts.observed IS
'the value the condition saw: percent change, volume, close, fast SMA or volatility';
COMMENT ON COLUMN stockext.alerts.notified_at IS 'when NOTIFY stockext_alerts was sent';
COMMENT ON COLUMN stockext.alerts.forming IS
'the bar was still forming when it fired the rule (a rule with on_forming); observed is its value then';
REVOKE ALL ON stockext.alerts FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.alerts_id_seq', '');
CREATE INDEX alerts_pending ON stockext.alerts (next_attempt_at) WHERE delivery = 'pending';
CREATE INDEX alerts_unnotified ON stockext.alerts (id) WHERE notified_at IS NULL;

-- Bars written that some rule watches and has not evaluated yet.  Filled by
-- the statement triggers below in the writing transaction, so a bar is
-- claimed once its transaction has committed, whatever the commit order;
-- an evaluation deletes the bars it claims that have closed, and keeps one
-- row (waiting) of each bar still forming.  landed_at is when the write
-- happened (the clock, not the transaction's start: a long backfill's last
-- bars land when they are written), against which a bar is history or not.
CREATE TABLE stockext.alert_queue (
    symbol     text        NOT NULL,
    resolution interval    NOT NULL,
    ts         timestamptz NOT NULL,
    landed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    waiting    boolean     NOT NULL DEFAULT false
);
COMMENT ON TABLE stockext.alert_queue IS
'bars an alert rule watches that were inserted or changed and are not evaluated yet: new writes (landed_at: when) and bars waiting to close (waiting)';
REVOKE ALL ON stockext.alert_queue FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.alert_queue', '');

-- The (symbol, resolution) series each active rule watches.
CREATE VIEW stockext.alert_targets AS
SELECT r.id AS rule_id, s.symbol, r.resolution
FROM stockext.alert_rules r
LEFT JOIN stockext.feeds f ON f.id = r.feed_id
CROSS JOIN LATERAL unnest(CASE WHEN r.symbol IS NOT NULL THEN ARRAY[r.symbol] ELSE f.symbols END) AS s(symbol)
WHERE NOT r.paused;
COMMENT ON VIEW stockext.alert_targets IS
'(rule, symbol, resolution) for every active alert rule: its symbol, or each symbol of its feed';
REVOKE ALL ON stockext.alert_targets FROM PUBLIC;

-- Queues the watched bars a statement inserted or changed.  Rows an
-- upsert's WHERE ... IS DISTINCT FROM left alone are in no transition
-- table: an unchanged re-poll queues nothing.  SECURITY DEFINER: whoever
-- may write bars queues them, without rights on the queue.
-- Fired on a shard of ticks on a Citus node (stockext.distribute()), it
-- queues into the co-located shard of alert_queue the bars of the series
-- in the node's own stockext.alert_series, the coordinator's watched
-- series as stockext.copy_alert_series() copied them there: the rules are
-- on the coordinator alone, and a statement naming a distributed table
-- could not see the transition table.
CREATE FUNCTION stockext.alert_enqueue()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'stockext.ticks'::regclass THEN
        IF EXISTS (SELECT 1 FROM stockext.alert_series) THEN
            EXECUTE format('INSERT INTO %s (symbol, resolution, ts)
                            SELECT n.symbol, n.resolution, n.ts
                            FROM new_rows n
                            JOIN stockext.alert_series w ON w.symbol = n.symbol AND w.resolution = n.resolution',
                           stockext.colocated_shard('stockext.alert_queue', TG_RELID));
        END IF;
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT FROM stockext.alert_rules r WHERE NOT r.paused) THEN
        RETURN NULL;
    END IF;
    -- The watched series once, joined by hash to the statement's rows.
    INSERT INTO stockext.alert_queue (symbol, resolution, ts)
    SELECT n.symbol, n.resolution, n.ts
    FROM new_rows n
    JOIN (SELECT DISTINCT a.symbol, a.resolution FROM stockext.alert_targets a) w
      ON w.symbol = n.symbol AND w.resolution = n.resolution;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.alert_enqueue() IS
'trigger: queues the bars of a statement on stockext.ticks that an active alert rule watches';

CREATE TRIGGER alert_enqueue_insert AFTER INSERT ON stockext.ticks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.alert_enqueue();
CREATE TRIGGER alert_enqueue_update AFTER UPDATE ON stockext.ticks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.alert_enqueue();

-- A bar width as alert messages show it, whatever the IntervalStyle:
-- "1 min", "5 min", "1 hour", "2 hours", "1 day", "30 s".
CREATE FUNCTION stockext.resolution_label(resolution interval)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT CASE WHEN s = 86400 THEN '1 day'
                    WHEN s % 86400 = 0 THEN (s / 86400)::bigint || ' days'
                    WHEN s = 3600 THEN '1 hour'
                    WHEN s % 3600 = 0 THEN (s / 3600)::bigint || ' hours'
                    WHEN s % 60 = 0 THEN (s / 60)::bigint || ' min'
                    ELSE trim_scale(s) || ' s' END
        FROM (SELECT extract(epoch FROM resolution) AS s) e);
COMMENT ON FUNCTION stockext.resolution_label(interval) IS
'a bar width as alert messages and payloads show it (1 min, 5 min, 1 hour, 1 day, 30 s), independent of IntervalStyle';

-- Raises invalid_parameter_value naming the first thing wrong with a rule.
-- Comparisons are written so that NaN (greater than every number in
-- PostgreSQL) fails them.
CREATE FUNCTION stockext.check_alert(condition text, direction text, threshold float8,
                                     bars integer, slow integer, factor float8,
                                     level float8, cooldown interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- The parameters each condition takes.
    takes text[] := CASE condition
        WHEN 'pct_change' THEN ARRAY['direction', 'threshold', 'bars']
        WHEN 'volume_spike' THEN ARRAY['bars', 'factor']
        WHEN 'price_cross' THEN ARRAY['direction', 'level']
        WHEN 'sma_cross' THEN ARRAY['direction', 'bars', 'slow']
        WHEN 'volatility' THEN ARRAY['threshold', 'bars'] END;
    given jsonb := jsonb_strip_nulls(jsonb_build_object(
        'direction', direction, 'threshold', threshold, 'bars', bars, 'slow', slow,
        'factor', factor, 'level', level));
    p text;
BEGIN
    IF condition IS NULL THEN
        RAISE EXCEPTION 'condition must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF takes IS NULL THEN
        RAISE EXCEPTION 'unknown alert condition "%"', condition
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of pct_change, volume_spike, price_cross, sma_cross, volatility.';
    END IF;
    FOR p IN SELECT jsonb_object_keys(given) LOOP
        IF NOT p = ANY (takes) THEN
            RAISE EXCEPTION 'condition "%" takes no %', condition, p
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Condition "%s" takes %s.', condition, array_to_string(takes, ', '));
        END IF;
    END LOOP;
    IF direction NOT IN ('up', 'down', 'either') THEN
        RAISE EXCEPTION 'invalid direction "%"', direction
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use up, down or either.';
    END IF;
    IF 'threshold' = ANY (takes) AND NOT coalesce(threshold > 0 AND threshold < 'Infinity', false) THEN
        RAISE EXCEPTION 'condition "%" needs a positive finite threshold', condition
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('threshold is %s.', coalesce(threshold::text, 'NULL'));
    END IF;
    IF condition = 'price_cross' AND NOT coalesce(level > 0 AND level < 'Infinity', false) THEN
        RAISE EXCEPTION 'condition "price_cross" needs a positive finite level'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('level is %s.', coalesce(level::text, 'NULL'));
    END IF;
    IF factor IS NOT NULL AND NOT (factor > 0 AND factor < 'Infinity') THEN
        RAISE EXCEPTION 'factor must be positive and finite'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('factor is %s.', factor);
    END IF;
    IF bars IS NOT NULL AND (bars < CASE condition WHEN 'volatility' THEN 3 ELSE 1 END OR bars > 10000) THEN
        RAISE EXCEPTION 'bars must be between % and 10000', CASE condition WHEN 'volatility' THEN 3 ELSE 1 END
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN condition = 'volatility'
                                THEN format('bars is %s; the sample deviation of log returns needs three prices.', bars)
                                ELSE format('bars is %s.', bars) END;
    END IF;
    IF condition = 'sma_cross' THEN
        IF bars IS NULL OR slow IS NULL THEN
            RAISE EXCEPTION 'condition "sma_cross" needs bars (the fast average) and slow'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF slow <= bars OR slow > 10000 THEN
            RAISE EXCEPTION 'slow must be greater than bars and at most 10000'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('bars is %s, slow is %s.', bars, slow);
        END IF;
    END IF;
    IF cooldown IS NULL OR cooldown < interval '0' THEN
        RAISE EXCEPTION 'cooldown must be a non-negative interval'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('cooldown is %s.', coalesce(cooldown::text, 'NULL'));
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.check_alert(text, text, float8, integer, integer, float8, float8, interval) IS
'raises invalid_parameter_value naming what is wrong with an alert rule''s condition and parameters';

-- Webhooks are checked here and not only by REVOKE: a grant of add_alert
-- or set_alert_webhook must not grant webhooks.
CREATE FUNCTION stockext.check_webhook_privilege()
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to set a webhook'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only superusers may set webhook URLs.';
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.check_webhook_privilege() IS
'raises insufficient_privilege unless the current user is a superuser, who alone may set webhook URLs';

-- Sets or (NULL) removes the webhook of a rule or a feed.
CREATE FUNCTION stockext.set_webhook(rule integer, feed integer, url text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.check_webhook_privilege();
    IF url IS NOT NULL AND url !~* '^https?://[^/]' THEN
        RAISE EXCEPTION 'invalid webhook URL "%"', url
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A webhook URL starts with http:// or https:// and a host.';
    END IF;
    DELETE FROM stockext.webhooks w
     WHERE w.rule_id IS NOT DISTINCT FROM rule AND w.feed_id IS NOT DISTINCT FROM feed;
    IF url IS NOT NULL THEN
        INSERT INTO stockext.webhooks (rule_id, feed_id, url) VALUES (rule, feed, url);
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.set_webhook(integer, integer, text) IS
'internal: sets (NULL removes) the webhook URL of a rule or a feed; superusers only';
REVOKE ALL ON FUNCTION stockext.set_webhook(integer, integer, text) FROM PUBLIC;

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
                                   max_age interval DEFAULT NULL,
                                   adjust text DEFAULT 'splits',
                                   skip_open boolean DEFAULT true)
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
    IF on_forming IS NULL OR on_history IS NULL OR skip_open IS NULL THEN
        RAISE EXCEPTION 'on_forming, on_history and skip_open must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF max_age <= interval '0' THEN
        RAISE EXCEPTION 'max_age must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('max_age is %s.', max_age);
    END IF;
    IF adjust IS NULL OR adjust NOT IN ('none', 'splits', 'all') THEN
        RAISE EXCEPTION 'invalid adjust "%"', coalesce(adjust, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use splits (the default), all or none.';
    END IF;
    IF max_age IS NOT NULL AND on_history THEN
        RAISE EXCEPTION 'a rule with on_history takes no max_age'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A rule with on_history evaluates bars however late they land.';
    END IF;
    INSERT INTO stockext.alert_rules (symbol, feed_id, resolution, condition, direction, threshold,
                                      bars, slow, factor, level, cooldown, on_forming, on_history, max_age, adjust,
                                      skip_open)
    VALUES (upper(symbol COLLATE "C"), feed, resolution, condition, direction, threshold, bars, slow, factor, level, cooldown,
            on_forming, on_history, max_age, adjust, skip_open)
    RETURNING id INTO rule;
    IF webhook_url IS NOT NULL THEN
        PERFORM stockext.set_webhook(rule, NULL, webhook_url);
    END IF;
    PERFORM stockext.activate_on_first_use();
    RETURN rule;
END
$$;
COMMENT ON FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text, boolean, boolean, interval, text, boolean) IS
'adds an alert rule on a symbol (stored in upper case) or on the symbols of a feed and returns its id; conditions pct_change, volume_spike, price_cross, sma_cross, volatility; it evaluates closed bars that land within max_age of their close, unless on_forming or on_history, on prices adjusted for splits unless adjust says all or none; volume_spike leaves out the first bar of each session unless skip_open is false; a webhook URL needs a superuser';
REVOKE ALL ON FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text, boolean, boolean, interval, text, boolean) FROM PUBLIC;

-- Checks that a rule exists.
CREATE FUNCTION stockext.check_rule_exists(rule integer)
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
REVOKE ALL ON FUNCTION stockext.check_rule_exists(integer) FROM PUBLIC;

CREATE FUNCTION stockext.set_alert_webhook(rule integer, url text)
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
COMMENT ON FUNCTION stockext.set_alert_webhook(integer, text) IS
'sets (or with NULL removes) the webhook URL an alert rule posts to; superusers only';
REVOKE ALL ON FUNCTION stockext.set_alert_webhook(integer, text) FROM PUBLIC;

CREATE FUNCTION stockext.pause_alert(rule integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.check_rule_exists(rule);
    UPDATE stockext.alert_rules SET paused = true WHERE id = rule;
END
$$;
COMMENT ON FUNCTION stockext.pause_alert(integer) IS
'stops evaluating an alert rule; bars written while it is paused are never evaluated by it';
REVOKE ALL ON FUNCTION stockext.pause_alert(integer) FROM PUBLIC;

CREATE FUNCTION stockext.resume_alert(rule integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.check_rule_exists(rule);
    UPDATE stockext.alert_rules SET paused = false WHERE id = rule;
END
$$;
COMMENT ON FUNCTION stockext.resume_alert(integer) IS 'evaluates a paused alert rule again on new bars';
REVOKE ALL ON FUNCTION stockext.resume_alert(integer) FROM PUBLIC;

-- Removes the rule and its webhook; its fired alerts stay.
CREATE FUNCTION stockext.remove_alert(rule integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.check_rule_exists(rule);
    DELETE FROM stockext.alert_rules WHERE id = rule;
END
$$;
COMMENT ON FUNCTION stockext.remove_alert(integer) IS
'removes an alert rule and its webhook; alerts it fired stay in stockext.alerts';
REVOKE ALL ON FUNCTION stockext.remove_alert(integer) FROM PUBLIC;

CREATE VIEW stockext.alert_rule_list AS
SELECT r.id, r.symbol, r.feed_id, r.resolution, r.condition, r.direction, r.threshold,
       r.bars, r.slow, r.factor, r.level, r.cooldown, r.on_forming, r.on_history, r.max_age,
       r.paused, r.created_at,
       EXISTS (SELECT FROM stockext.webhooks w WHERE w.rule_id = r.id) AS has_webhook,
       (SELECT count(*) FROM stockext.alerts a WHERE a.rule_id = r.id) AS fired,
       (SELECT max(a.fired_at) FROM stockext.alerts a WHERE a.rule_id = r.id) AS last_fired,
       r.adjust, r.skip_open
FROM stockext.alert_rules r;
COMMENT ON VIEW stockext.alert_rule_list IS
'the alert rules with whether they have a webhook (never its URL), how often they fired and when last';
REVOKE ALL ON stockext.alert_rule_list FROM PUBLIC;

CREATE FUNCTION stockext.set_feed_notifications(feed integer, on_success boolean DEFAULT false,
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
COMMENT ON FUNCTION stockext.set_feed_notifications(integer, boolean, boolean, boolean, text) IS
'chooses which poll events of a feed raise an alert (success, start of a failure streak, recovery) and the webhook they post to (superusers only; NULL removes it); all false turns them off';
REVOKE ALL ON FUNCTION stockext.set_feed_notifications(integer, boolean, boolean, boolean, text) FROM PUBLIC;

-- Feed events, recorded in the poll's transaction by a row trigger on
-- feed_state (which stockext.record_poll maintains).  The trigger only
-- inserts a row: the NOTIFY and the webhook come later from
-- evaluate_alerts and the worker, so a full notification queue cannot fail
-- the commit of a poll.
CREATE FUNCTION stockext.feed_event()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n    stockext.feed_notifications;
    kind text;
    msg  text;
BEGIN
    SELECT * INTO n FROM stockext.feed_notifications WHERE feed_id = NEW.feed_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NEW.last_success IS DISTINCT FROM OLD.last_success THEN
        IF OLD.consecutive_failures > 0 AND n.on_recovery THEN
            kind := 'feed_recovered';
            msg := format('feed %s recovered after %s failed polls', NEW.feed_id, OLD.consecutive_failures);
        ELSIF n.on_success THEN
            kind := 'feed_success';
            msg := format('feed %s loaded %s bars', NEW.feed_id, NEW.bars_stored - OLD.bars_stored);
        END IF;
    ELSIF NEW.consecutive_failures = 1 AND OLD.consecutive_failures = 0 AND n.on_failure THEN
        kind := 'feed_failing';
        msg := format('feed %s is failing: %s', NEW.feed_id, NEW.last_error_message);
    END IF;
    IF kind IS NOT NULL THEN
        INSERT INTO stockext.alerts (kind, feed_id, message, delivery, next_attempt_at)
        SELECT kind, NEW.feed_id, msg,
               CASE WHEN EXISTS (SELECT FROM stockext.webhooks w WHERE w.feed_id = NEW.feed_id)
                    THEN 'pending' ELSE 'none' END,
               now();
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.feed_event() IS
'trigger: records a feed''s success, start of failure or recovery as an alert when the feed asked for it';

CREATE TRIGGER feed_event AFTER UPDATE ON stockext.feed_state
    FOR EACH ROW EXECUTE FUNCTION stockext.feed_event();

-- The condition of a rule on the bar of symbol at ts: the observed value,
-- whether it fires, and what it says.  Reads only the bars the condition
-- needs (the last bars+1, or slow+1), newest first through the primary key.
-- One generic plan per query (runtime partition pruning): planning each
-- bar's custom plan over the partitions cost two thirds of the time.
-- Prices and volumes are adjusted as the rule says, relative to the bar
-- evaluated (its own values as traded), so that a split between the bars
-- read is no move and a level keeps its meaning.
-- With the bars distributed over a Citus cluster (stockext.distribute())
-- each query runs whole on the node holding the symbol's shard, which
-- Citus can only route with the parameters' values: custom plans there;
-- adjustment_factor() runs there too, on that node's shards.
CREATE FUNCTION stockext.alert_check(r stockext.alert_rules, sym text, bar timestamptz,
                                     OUT observed float8, OUT fires boolean, OUT what text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    prev float8;
    slow_now float8;
    slow_prev float8;
    rows_read integer;
    adj text := r.adjust;
    vadj text;
    pbase float8;
    vbase float8;
    cal text;
    opens timestamptz[];
BEGIN
    fires := false;
    IF stockext.is_distributed() THEN
        PERFORM pg_catalog.set_config('plan_cache_mode', 'force_custom_plan', true);
    END IF;
    -- Most symbols have no actions: their bars are read as traded.
    IF adj <> 'none' AND NOT EXISTS (SELECT FROM stockext.corporate_actions a WHERE a.symbol = sym) THEN
        adj := 'none';
    END IF;
    vadj := CASE WHEN adj = 'none' THEN 'none' ELSE 'splits' END;
    pbase := stockext.adjustment_factor(sym, bar, adj);
    vbase := stockext.adjustment_factor(sym, bar, vadj);
    IF r.condition = 'pct_change' THEN
        SELECT x.v INTO observed
        FROM (SELECT t.ts, stockext.pct_change(t.close, r.bars) OVER (ORDER BY t.ts) AS v
              FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT r.bars + 1) t) x
        ORDER BY x.ts DESC LIMIT 1;
        fires := CASE r.direction WHEN 'up' THEN observed >= r.threshold
                                  WHEN 'down' THEN observed <= -r.threshold
                                  ELSE abs(observed) >= r.threshold END;
        what := format('%s %s%% over %s bar%s (threshold %s%%)',
                       CASE WHEN observed >= 0 THEN 'up' ELSE 'down' END,
                       round(abs(observed)::numeric, 2), r.bars,
                       CASE WHEN r.bars = 1 THEN '' ELSE 's' END, r.threshold);
    ELSIF r.condition = 'volume_spike' THEN
        -- skip_open: the first bar of a session of the symbol's calendar is
        -- left out (volume_spike's skip_open); the sessions are read once,
        -- over the bars the rule reads.
        cal := CASE WHEN r.skip_open THEN stockext.symbol_calendar(sym) END;
        IF cal IS NOT NULL THEN
            SELECT array_agg(s.open) INTO opens
            FROM stockext.sessions(cal, (SELECT min(t.ts) FROM (SELECT ts FROM stockext.ticks
                                                                WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                                                                ORDER BY ts DESC LIMIT r.bars + 1) t),
                                   bar + r.resolution) s
            WHERE isfinite(s.open);
        END IF;
        SELECT x.v, x.spike INTO observed, fires
        FROM (SELECT t.ts, t.volume AS v,
                     stockext.volume_spike(t.volume, r.bars, r.factor,
                                           EXISTS (SELECT FROM unnest(opens) o
                                                   WHERE o <= t.ts AND o > t.ts - r.resolution))
                         OVER (ORDER BY t.ts) AS spike
              FROM (SELECT ts, volume * (vbase / stockext.adjustment_factor(symbol, ts, vadj)) AS volume FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT r.bars + 1) t) x
        ORDER BY x.ts DESC LIMIT 1;
        what := format('volume %s is over %s times the mean of the %s bars before', observed,
                       r.factor, r.bars);
    ELSIF r.condition = 'price_cross' THEN
        SELECT x.close, x.prev INTO observed, prev
        FROM (SELECT t.ts, t.close, lag(t.close) OVER (ORDER BY t.ts) AS prev
              FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT 2) t) x
        ORDER BY x.ts DESC LIMIT 1;
        fires := (r.direction IN ('up', 'either') AND prev < r.level AND observed >= r.level)
              OR (r.direction IN ('down', 'either') AND prev > r.level AND observed <= r.level);
        what := format('close %s crossed %s through %s from %s', observed,
                       CASE WHEN observed > prev THEN 'up' ELSE 'down' END, r.level, prev);
    ELSIF r.condition = 'sma_cross' THEN
        SELECT x.fast, x.slow, lag(x.fast) OVER w - lag(x.slow) OVER w, x.n
          INTO observed, slow_now, prev, rows_read
        FROM (SELECT t.ts,
                     stockext.sma(t.close) OVER (ORDER BY t.ts ROWS BETWEEN r.bars - 1 PRECEDING AND CURRENT ROW) AS fast,
                     stockext.sma(t.close) OVER (ORDER BY t.ts ROWS BETWEEN r.slow - 1 PRECEDING AND CURRENT ROW) AS slow,
                     count(*) OVER (ORDER BY t.ts) AS n
              FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT r.slow + 1) t) x
        WINDOW w AS (ORDER BY x.ts)
        ORDER BY x.ts DESC LIMIT 1;
        -- prev is fast - slow on the bar before; both averages full there.
        IF rows_read = r.slow + 1 THEN
            fires := (r.direction IN ('up', 'either') AND prev <= 0 AND observed > slow_now)
                  OR (r.direction IN ('down', 'either') AND prev >= 0 AND observed < slow_now);
        END IF;
        what := format('SMA(%s) %s crossed %s SMA(%s) %s', r.bars, round(observed::numeric, 4),
                       CASE WHEN observed > slow_now THEN 'above' ELSE 'below' END,
                       r.slow, round(slow_now::numeric, 4));
    ELSIF r.condition = 'volatility' THEN
        SELECT stockext.volatility(t.close ORDER BY t.ts) INTO observed
        FROM (SELECT ts, close * (stockext.adjustment_factor(symbol, ts, adj) / pbase) AS close FROM stockext.ticks
              WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
              ORDER BY ts DESC LIMIT r.bars) t;
        fires := observed > r.threshold;
        what := format('volatility %s of the last %s bars is above %s',
                       round(observed::numeric, 6), r.bars, r.threshold);
    END IF;
    fires := coalesce(fires, false);
END
$$;
COMMENT ON FUNCTION stockext.alert_check(stockext.alert_rules, text, timestamptz) IS
'internal: evaluates an alert rule on the bar of a symbol at ts: observed value, whether it fires, and the message';
REVOKE ALL ON FUNCTION stockext.alert_check(stockext.alert_rules, text, timestamptz) FROM PUBLIC;

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
--
-- Distributed over a Citus cluster (stockext.distribute()), the queue is
-- sharded with the bars and evaluate_alerts runs on the coordinator alone,
-- whose lock then serializes every claim: it reads the oldest rows, then
-- deletes the writes among them by their values (a ctid names a row of one
-- shard only) and evaluates what the deletion returned, so that a row is
-- claimed once whichever node holds it.  Waiting rows are found, updated
-- and deleted by their bar.  The rules, the alerts and the NOTIFY stay on
-- the coordinator.
CREATE FUNCTION stockext.evaluate_alerts(max_bars integer DEFAULT NULL,
                                         OUT fired integer, OUT stale integer, OUT waiting integer)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cfg     record;
    k       record;
    claim   refcursor;
    dist    boolean := stockext.is_distributed();
    -- The rows picked on a distributed queue (dist).
    p_sym   text[];
    p_res   interval[];
    p_ts    timestamptz[];
    p_land  timestamptz[];
    p_wait  boolean[];
    -- The writes claimed among them (dist).
    w_sym   text[];
    w_res   interval[];
    w_ts    timestamptz[];
    w_land  timestamptz[];
    stored  boolean;
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
    -- (Nested: citus_is_coordinator() exists only where Citus does.)
    IF dist THEN
        IF NOT pg_catalog.citus_is_coordinator() THEN
            RAISE EXCEPTION 'stockext.evaluate_alerts() must run on the Citus coordinator'
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = 'The alert rules and alerts of a distributed stockext are on the coordinator.';
        END IF;
    END IF;
    PERFORM stockext.check_live();
    fired := 0;
    stale := 0;
    waiting := 0;
    PERFORM pg_advisory_xact_lock('stockext.alert_queue'::regclass::oid::bigint);
    cfg := stockext.alert_settings();
    -- The writes claimed are deleted at once; a bar's waiting row (held)
    -- stays until the bar closes, so that a live series costs one row.
    IF dist THEN
        SELECT array_agg(o.symbol), array_agg(o.resolution), array_agg(o.ts), array_agg(o.landed_at),
               array_agg(o.waiting)
          INTO p_sym, p_res, p_ts, p_land, p_wait
        FROM (SELECT q.symbol, q.resolution, q.ts, q.landed_at, q.waiting FROM stockext.alert_queue q
              ORDER BY q.ts LIMIT max_bars) o;
        -- (Only when there are writes: the DELETE goes to every shard of
        -- the symbols picked, in a transaction committed on every node.)
        IF false = ANY (p_wait) THEN
            WITH writes AS (DELETE FROM stockext.alert_queue q
                            WHERE NOT q.waiting
                              AND q.symbol = ANY (p_sym)
                              AND (q.symbol, q.resolution, q.ts, q.landed_at) IN
                                  (SELECT p.symbol, p.resolution, p.ts, p.landed_at
                                   FROM unnest(p_sym, p_res, p_ts, p_land, p_wait) p(symbol, resolution, ts, landed_at, waiting)
                                   WHERE NOT p.waiting)
                            RETURNING q.symbol, q.resolution, q.ts, q.landed_at)
            SELECT array_agg(w.symbol), array_agg(w.resolution), array_agg(w.ts), array_agg(w.landed_at)
              INTO w_sym, w_res, w_ts, w_land
            FROM writes w;
        END IF;
        OPEN claim FOR
        SELECT c.symbol, c.resolution, c.ts, max(c.landed_at) AS landed, bool_and(c.waiting) AS seen,
               NULL::tid[] AS held, bool_or(c.waiting) AS holds, NULL::boolean AS stored
        FROM (SELECT w.*, false AS waiting FROM unnest(w_sym, w_res, w_ts, w_land) w(symbol, resolution, ts, landed_at)
              UNION ALL
              SELECT p.* FROM unnest(p_sym, p_res, p_ts, p_land, p_wait) p(symbol, resolution, ts, landed_at, waiting)
              WHERE p.waiting) c
        GROUP BY c.symbol, c.resolution, c.ts
        ORDER BY c.symbol, c.resolution, c.ts;
    ELSE
        OPEN claim FOR
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
               count(c.row_id) > 0 AS holds,
               EXISTS (SELECT FROM stockext.ticks t
                       WHERE t.symbol = c.symbol AND t.resolution = c.resolution AND t.ts = c.ts) AS stored
        FROM (SELECT NULL::tid AS row_id, w.* FROM writes w UNION ALL SELECT * FROM held) c
        GROUP BY c.symbol, c.resolution, c.ts
        ORDER BY c.symbol, c.resolution, c.ts;
    END IF;
    LOOP
        FETCH claim INTO k;
        EXIT WHEN NOT FOUND;
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
        stored := coalesce(k.stored, EXISTS (SELECT 1 FROM stockext.ticks t
                                             WHERE t.symbol = k.symbol AND t.resolution = k.resolution AND t.ts = k.ts));
        IF NOT stored OR cardinality(rules) = 0 THEN
            IF dist AND k.holds THEN
                DELETE FROM stockext.alert_queue q
                WHERE q.symbol = k.symbol AND q.resolution = k.resolution AND q.ts = k.ts AND q.waiting;
            ELSIF k.holds THEN
                DELETE FROM stockext.alert_queue q WHERE q.ctid = ANY (k.held);
            END IF;
            CONTINUE;
        END IF;
        -- Closed (see above): written late, polled since, or followed.
        closed := k.landed >= k.ts + k.resolution + cfg.close_grace
                  OR coalesce(CASE WHEN fed THEN success ELSE now() END >= k.ts + k.resolution + cfg.close_grace,
                              false)
                  OR EXISTS (SELECT 1 FROM stockext.ticks t
                             WHERE t.symbol = k.symbol AND t.resolution = k.resolution AND t.ts > k.ts);
        IF closed AND dist AND k.holds THEN
            DELETE FROM stockext.alert_queue q
            WHERE q.symbol = k.symbol AND q.resolution = k.resolution AND q.ts = k.ts AND q.waiting;
        ELSIF closed AND k.holds THEN
            DELETE FROM stockext.alert_queue q WHERE q.ctid = ANY (k.held);
        ELSIF NOT closed THEN
            waiting := waiting + 1;
            -- Unchanged since on_forming rules saw it: nothing to do yet.
            CONTINUE WHEN k.seen;
            IF NOT k.holds THEN
                INSERT INTO stockext.alert_queue (symbol, resolution, ts, landed_at, waiting)
                VALUES (k.symbol, k.resolution, k.ts, k.landed, true);
            ELSIF dist THEN
                UPDATE stockext.alert_queue q SET landed_at = k.landed
                WHERE q.symbol = k.symbol AND q.resolution = k.resolution AND q.ts = k.ts AND q.waiting;
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
    CLOSE claim;
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

-- Webhook deliveries due now (pending, next attempt reached, not among
-- busy, which the worker is still sending): id, URL and Slack-compatible
-- body.  Alerts whose webhook was removed meanwhile are marked failed.
CREATE FUNCTION stockext.due_deliveries(busy bigint[], max_rows integer)
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
COMMENT ON FUNCTION stockext.due_deliveries(bigint[], integer) IS
'internal: the webhook posts due now (alert id, URL, {"text": message} body), skipping busy ids (used by the worker)';
REVOKE ALL ON FUNCTION stockext.due_deliveries(bigint[], integer) FROM PUBLIC;

-- Records a webhook attempt: NULL error is a delivery.  A failure is retried
-- after 2^attempts seconds, at most 10 minutes; after a day undelivered the
-- alert is marked failed.
CREATE FUNCTION stockext.record_delivery(alert bigint, error text)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    UPDATE stockext.alerts a
       SET attempts = a.attempts + 1,
           last_error = error,
           delivered_at = CASE WHEN error IS NULL THEN now() END,
           delivery = CASE WHEN error IS NULL THEN 'delivered'
                           WHEN a.fired_at < now() - interval '1 day' THEN 'failed'
                           ELSE 'pending' END,
           next_attempt_at = CASE WHEN error IS NULL OR a.fired_at < now() - interval '1 day' THEN NULL
                                  ELSE now() + least(interval '1 second' * power(2, least(a.attempts, 20)),
                                                     interval '10 minutes') END
     WHERE a.id = alert AND a.delivery = 'pending';
END;
COMMENT ON FUNCTION stockext.record_delivery(bigint, text) IS
'internal: records a webhook attempt of an alert (NULL error: delivered), backing off exponentially after failures (used by the worker)';
REVOKE ALL ON FUNCTION stockext.record_delivery(bigint, text) FROM PUBLIC;
