-- Alerts: the SQL API, each condition firing exactly on hand-made bar
-- series, cooldown, no duplicates on re-polled bars, and the errors.
SET client_min_messages = warning;
SET timezone = 'UTC';
-- The worker of this database evaluates alerts and claims deliveries too:
-- holding the lock they take keeps it out until the end of the file.
SELECT pg_advisory_lock('stockext.alert_queue'::regclass::oid::bigint);

-- Bars of one minute from 2024-03-04 14:00 UTC with the given closes and
-- volumes (open = close, high/low around it).
CREATE FUNCTION pg_temp.bars(sym text, closes float8[], volumes bigint[], first integer DEFAULT 1)
RETURNS void LANGUAGE sql AS $$
    SELECT stockext.upsert_bar(sym, '2024-03-04 14:00+00'::timestamptz + (i - 1) * interval '1 minute',
                               '1 minute', c, c + 0.5, c - 0.5, c, volumes[i])
    FROM unnest(closes) WITH ORDINALITY AS x(c, i)
    WHERE i >= first;
$$;

CREATE TEMP VIEW fired AS
SELECT a.rule_id, a.symbol, to_char(a.bar_ts, 'HH24:MI') AS bar, round(a.observed::numeric, 4) AS observed,
       a.message, a.delivery
FROM stockext.alerts a WHERE a.kind = 'alert' ORDER BY a.rule_id, a.bar_ts, a.symbol;

-- Nothing is queued while no rule watches a series.
SELECT pg_temp.bars('OLD', ARRAY[10, 20], ARRAY[1, 1]::bigint[]);
SELECT count(*) AS queued FROM stockext.alert_queue;

-- pct_change up over 1 bar at 5 %, down over 2 bars at 4 %, price crossing
-- 102 either way, a volume spike (3 bars, 2x), a 2/4 SMA crossover up,
-- volatility of 4 bars above 0.03.  The bars of this file are of 2024,
-- history: rules take them with on_history (sql/alerts_closed.sql tests
-- what rules without it do).
SELECT stockext.add_alert('pct_change', 'AAA', direction => 'up', threshold => 5, on_history => true) AS r_up;
SELECT stockext.add_alert('pct_change', 'AAA', direction => 'down', threshold => 4, bars => 2, on_history => true) AS r_down;
SELECT stockext.add_alert('price_cross', 'AAA', level => 102, on_history => true) AS r_cross;
SELECT stockext.add_alert('volume_spike', 'AAA', on_history => true) AS r_spike;
SELECT stockext.add_alert('sma_cross', 'AAA', direction => 'up', bars => 2, slow => 4, on_history => true) AS r_sma;
SELECT stockext.add_alert('volatility', 'AAA', threshold => 0.03, bars => 4, on_history => true) AS r_vol;
SELECT id, symbol, feed_id, resolution, condition, direction, threshold, bars, slow, factor, level,
       cooldown, paused, has_webhook, fired
FROM stockext.alert_rule_list ORDER BY id;

-- closes  100  101  100   99  106  103  101.5  98
-- volumes 100  100  100  100  500  100  100   100
SELECT pg_temp.bars('AAA', ARRAY[100, 101, 100, 99, 106, 103, 101.5, 98],
                    ARRAY[100, 100, 100, 100, 500, 100, 100, 100]::bigint[]);
SELECT count(*) AS queued FROM stockext.alert_queue;
SELECT fired FROM stockext.evaluate_alerts();
SELECT count(*) AS queued FROM stockext.alert_queue;
-- What the analytics say about the same bars, for comparison.
SELECT to_char(ts, 'HH24:MI') AS bar, close, volume,
       round(stockext.pct_change(close) OVER w::numeric, 4) AS pct1,
       round(stockext.pct_change(close, 2) OVER w::numeric, 4) AS pct2,
       stockext.volume_spike(volume) OVER w AS spike,
       round((stockext.sma(close) OVER (w ROWS 1 PRECEDING))::numeric, 4) AS sma2,
       round((stockext.sma(close) OVER (w ROWS 3 PRECEDING))::numeric, 4) AS sma4,
       round((stockext.volatility(close) OVER (w ROWS 3 PRECEDING))::numeric, 6) AS vol4
FROM stockext.ticks WHERE symbol = 'AAA' WINDOW w AS (ORDER BY ts) ORDER BY ts;
SELECT * FROM fired;

-- A second evaluation finds nothing new; re-polling the same bars
-- unchanged queues nothing, and a changed bar fires no rule twice.
SELECT fired FROM stockext.evaluate_alerts();
SELECT pg_temp.bars('AAA', ARRAY[100, 101, 100, 99, 106, 103, 101.5, 98],
                    ARRAY[100, 100, 100, 100, 500, 100, 100, 100]::bigint[]);
SELECT count(*) AS queued FROM stockext.alert_queue;
SELECT stockext.upsert_bar('AAA', '2024-03-04 14:04+00', '1 minute', 106, 107, 105, 106.5, 500);
SELECT count(*) AS queued FROM stockext.alert_queue;
SELECT fired FROM stockext.evaluate_alerts();
SELECT count(*) AS alerts FROM stockext.alerts;

-- Cooldown in bar time: a rule on every symbol of a feed, 5 % either way,
-- 3 minutes of cooldown.  Closes jump by 10 % every minute.
SELECT stockext.add_feed('simulated', ARRAY['BBB', 'CCC'], '1 minute', '1 hour') AS feed \gset
SELECT stockext.pause_feed(:feed);
SELECT stockext.add_alert('pct_change', feed => :feed, threshold => 5, cooldown => '3 minutes', on_history => true) AS r_feed \gset
SELECT pg_temp.bars('BBB', ARRAY[100, 110, 121, 133.1, 146.41, 161.051, 177.1561],
                    ARRAY[1, 1, 1, 1, 1, 1, 1]::bigint[]);
SELECT pg_temp.bars('CCC', ARRAY[100, 100, 100, 110], ARRAY[1, 1, 1, 1]::bigint[]);
SELECT fired FROM stockext.evaluate_alerts();
SELECT * FROM fired WHERE rule_id = :r_feed;
-- A late bar inside the cooldown of an alert fires nothing.
SELECT stockext.upsert_bar('BBB', '2024-03-04 13:58+00', '1 minute', 50, 50, 50, 50, 1);
SELECT stockext.upsert_bar('BBB', '2024-03-04 13:59+00', '1 minute', 90, 90, 90, 90, 1);
SELECT fired FROM stockext.evaluate_alerts();

-- Paused rules queue and fire nothing; removed rules keep their alerts.
SELECT stockext.pause_alert(:r_feed);
SELECT pg_temp.bars('CCC', ARRAY[100, 100, 100, 110, 200], ARRAY[1, 1, 1, 1, 1]::bigint[], 5);
SELECT count(*) AS queued FROM stockext.alert_queue;
SELECT stockext.resume_alert(:r_feed);
SELECT stockext.remove_alert(:r_feed);
SELECT count(*) AS rules, (SELECT count(*) FROM stockext.alerts WHERE rule_id = :r_feed) AS kept
FROM stockext.alert_rules WHERE id = :r_feed;

-- Plain INSERTs are evaluated too, and a direction down crossing.
SELECT stockext.add_alert('price_cross', 'DDD', direction => 'down', level => 50, resolution => '1 day', on_history => true) AS r_ddd \gset
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
VALUES ('DDD', '2024-03-01', '1 day', 51, 52, 50, 51, 10, 'manual'),
       ('DDD', '2024-03-02', '1 day', 51, 52, 49, 50, 10, 'manual'),
       ('DDD', '2024-03-03', '1 day', 50, 52, 49, 52, 10, 'manual');
-- A bounded evaluation takes the oldest bars first.
SELECT fired FROM stockext.evaluate_alerts(1);
SELECT to_char(ts, 'YYYY-MM-DD') AS still_queued FROM stockext.alert_queue ORDER BY ts;
SELECT fired FROM stockext.evaluate_alerts();
SELECT * FROM fired WHERE rule_id = :r_ddd;

-- Webhooks: set by a superuser, never shown; alerts of a rule with one
-- wait for delivery.
SELECT stockext.set_alert_webhook(:r_ddd, 'http://127.0.0.1:9/hook');
SELECT has_webhook FROM stockext.alert_rule_list WHERE id = :r_ddd;
SELECT stockext.upsert_bar('DDD', '2024-03-04', '1 day', 52, 52, 45, 45, 10);
SELECT fired FROM stockext.evaluate_alerts();
SELECT id > 0 AS id, url, body FROM stockext.due_deliveries('{}', 10);
SELECT delivery, attempts FROM stockext.alerts WHERE rule_id = :r_ddd ORDER BY bar_ts;
SELECT stockext.record_delivery(max(id), 'HTTP status 500') FROM stockext.alerts;
SELECT delivery, attempts, last_error,
       next_attempt_at > now() AND next_attempt_at <= now() + interval '1 second' AS retry_within_1s
FROM stockext.alerts WHERE delivery <> 'none';
SELECT count(*) AS due_now FROM stockext.due_deliveries('{}', 10);
SELECT stockext.record_delivery(max(id), NULL) FROM stockext.alerts;
SELECT delivery, attempts, last_error, next_attempt_at FROM stockext.alerts WHERE delivery <> 'none';

-- Feed events: success, start of a failure streak, recovery.
SELECT stockext.set_feed_notifications(:feed, on_success => true);
SELECT stockext.record_poll(:feed, 3, NULL, NULL, '1 hour');
SELECT stockext.record_poll(:feed, 0, 'timeout', NULL, '1 hour');
SELECT stockext.record_poll(:feed, 0, 'timeout again', NULL, '1 hour');
SELECT stockext.record_poll(:feed, 2, NULL, NULL, '1 hour');
SELECT stockext.record_poll(:feed, 2, NULL, NULL, '1 hour');
SELECT kind, feed_id = :feed AS feed, message, delivery, notified_at IS NULL AS unannounced
FROM stockext.alerts WHERE kind <> 'alert' ORDER BY id;
SELECT fired FROM stockext.evaluate_alerts();
SELECT count(*) AS unannounced FROM stockext.alerts WHERE notified_at IS NULL;
-- A feed's webhook: its events wait for delivery; removed, they fail.
SELECT stockext.set_feed_notifications(:feed, on_failure => true, webhook_url => 'http://127.0.0.1:9/feed');
SELECT stockext.record_poll(:feed, 0, 'HTTP 503', 503, '1 hour');
SELECT url, body FROM stockext.due_deliveries('{}', 10);
SELECT stockext.set_feed_notifications(:feed, on_failure => true);
SELECT count(*) AS due FROM stockext.due_deliveries('{}', 10);
SELECT kind, delivery, last_error FROM stockext.alerts WHERE delivery <> 'none' ORDER BY id;

-- Resolutions in messages, whatever the IntervalStyle.
SET IntervalStyle = 'iso_8601';
SELECT r, stockext.resolution_label(r)
FROM unnest('{1 minute, 5 minutes, 1 hour, 2 hours, 90 minutes, 1 day, 7 days, 30 seconds, 1.5 seconds}'::interval[]) r;
RESET IntervalStyle;

-- Errors.
SELECT stockext.add_alert('breakout', 'AAA');
SELECT stockext.add_alert(NULL, 'AAA');
SELECT stockext.add_alert('pct_change', 'AAA');
SELECT stockext.add_alert('pct_change', 'AAA', threshold => -1);
SELECT stockext.add_alert('pct_change', 'AAA', threshold => 'NaN');
SELECT stockext.add_alert('pct_change', 'AAA', threshold => 5, direction => 'sideways');
SELECT stockext.add_alert('pct_change', 'AAA', threshold => 5, bars => 0);
SELECT stockext.add_alert('pct_change', 'AAA', threshold => 5, level => 3);
SELECT stockext.add_alert('volume_spike', 'AAA', direction => 'up');
SELECT stockext.add_alert('volume_spike', 'AAA', factor => 0);
SELECT stockext.add_alert('volume_spike', 'AAA', factor => 'NaN');
SELECT stockext.add_alert('price_cross', 'AAA', level => 'Infinity');
SELECT stockext.add_alert('price_cross', 'AAA');
SELECT stockext.add_alert('sma_cross', 'AAA', bars => 5);
SELECT stockext.add_alert('sma_cross', 'AAA', bars => 5, slow => 5);
SELECT stockext.add_alert('volatility', 'AAA', threshold => 0.1, bars => 2);
SELECT stockext.add_alert('volatility', 'AAA', threshold => 0.1, cooldown => '-1 minute');
SELECT stockext.add_alert('pct_change', threshold => 5);
SELECT stockext.add_alert('pct_change', 'bad symbol', threshold => 5);
SELECT stockext.add_alert('pct_change', 'ZZZ', feed => :feed, threshold => 5);
SELECT stockext.add_alert('pct_change', 'BBB', feed => :feed, threshold => 5, resolution => '1 day');
SELECT stockext.add_alert('pct_change', feed => 99999, threshold => 5);
SELECT stockext.add_alert('pct_change', 'AAA', threshold => 5, resolution => '0');
SELECT stockext.add_alert('pct_change', 'AAA', threshold => 5, webhook_url => 'ftp://x/');
SELECT stockext.remove_alert(99999);
SELECT stockext.pause_alert(NULL);
SELECT stockext.set_feed_notifications(99999);

-- Non-superusers: no rules, no webhooks, no alerts.
CREATE ROLE alerts_user;
GRANT USAGE ON SCHEMA stockext TO alerts_user;
GRANT EXECUTE ON FUNCTION stockext.set_alert_webhook(integer, text) TO alerts_user;
SET ROLE alerts_user;
SELECT stockext.add_alert('pct_change', 'AAA', threshold => 5);
SELECT stockext.set_alert_webhook(:r_ddd, 'http://127.0.0.1:9/steal');
SELECT url FROM stockext.webhooks;
SELECT count(*) FROM stockext.alerts;
RESET ROLE;
SELECT url FROM stockext.webhooks ORDER BY url;
REVOKE ALL ON SCHEMA stockext FROM alerts_user;
REVOKE ALL ON FUNCTION stockext.set_alert_webhook(integer, text) FROM alerts_user;
DROP ROLE alerts_user;

-- Leave the shared regression database as it was.
SELECT stockext.remove_alert(id) FROM stockext.alert_rules ORDER BY id;
SELECT stockext.remove_feed(:feed);
DELETE FROM stockext.errors WHERE feed_id = :feed;
DELETE FROM stockext.alerts;
DELETE FROM stockext.ticks WHERE symbol IN ('OLD', 'AAA', 'BBB', 'CCC', 'DDD');
-- Our bar writes invalidated rollup buckets; none of those bars is left.
DELETE FROM stockext.rollup_invalidations WHERE symbol IN ('OLD', 'AAA', 'BBB', 'CCC', 'DDD');
SELECT (SELECT count(*) FROM stockext.alert_rules) AS rules, (SELECT count(*) FROM stockext.webhooks) AS webhooks,
       (SELECT count(*) FROM stockext.feeds) AS feeds, (SELECT count(*) FROM stockext.alert_queue) AS queued;
SELECT pg_advisory_unlock('stockext.alert_queue'::regclass::oid::bigint);
