-- Alerts on closed bars, and no alerts on history: a rule evaluates a bar
-- once it has closed (the next bar is stored, or its end, its feed's poll
-- interval and stockext.alert_close_grace have passed), bars still forming
-- only with on_forming, and bars that landed later than max_age after
-- their close only with on_history.  Times are relative to now(), on the
-- bars' grid; messages show the bar as BAR.
SET client_min_messages = warning;
SET timezone = 'UTC';
-- Keep the worker of this database from evaluating until the end.
SELECT pg_advisory_lock('stockext.alert_queue'::regclass::oid::bigint);

CREATE FUNCTION pg_temp.bar(sym text, ts timestamptz, c float8, res interval DEFAULT '1 minute')
RETURNS void LANGUAGE sql AS $$
    SELECT stockext.upsert_bar(sym, ts, res, c, c + 0.5, c - 0.5, c, 100);
$$;

-- t0: three minutes before the current minute, so bars t0, t0+1, t0+2
-- have ended, the last within the past minute.
SELECT date_trunc('minute', now()) - interval '3 minutes' AS t0 \gset

-- Rule ids depend on the files run before: the views show none.
CREATE TEMP VIEW fired AS
SELECT a.symbol, a.bar_ts - :'t0' AS bar, a.forming, round(a.observed::numeric, 4) AS observed,
       replace(a.message, to_char(a.bar_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), 'BAR') AS message
FROM stockext.alerts a WHERE a.kind = 'alert' ORDER BY a.rule_id, a.bar_ts, a.symbol;
CREATE TEMP VIEW queued AS
SELECT q.symbol, q.ts - :'t0' AS bar, q.waiting, count(*) AS rows
FROM stockext.alert_queue q GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- The defaults: 10 s of grace, 3 bars of lateness.
SELECT * FROM stockext.alert_settings();

------------------------------------------------------------------------------
-- Closed bars only.  A provider that serves a bar's final values up to an
-- hour after it ends (alert_close_grace 1 h): a bar closes when the next
-- one arrives.
------------------------------------------------------------------------------
SET stockext.alert_close_grace = '1h';
SELECT * FROM stockext.alert_settings();
SELECT stockext.add_alert('pct_change', 'CLA', direction => 'up', threshold => 5) AS r_closed \gset
-- t0+1 while forming: up 6 %, which would fire.
SELECT pg_temp.bar('CLA', :'t0', 100), pg_temp.bar('CLA', :'t0'::timestamptz + interval '1 minute', 106);
SELECT * FROM stockext.evaluate_alerts();
SELECT * FROM queued;
-- Evaluating again without a write changes nothing: it still waits.
SELECT * FROM stockext.evaluate_alerts();
-- Its final values: up 3 %; then the next bar arrives and closes it.
SELECT pg_temp.bar('CLA', :'t0'::timestamptz + interval '1 minute', 103);
SELECT * FROM stockext.evaluate_alerts();
SELECT pg_temp.bar('CLA', :'t0'::timestamptz + interval '2 minutes', 112);
SELECT * FROM stockext.evaluate_alerts();
SELECT * FROM queued;
SELECT * FROM fired;
-- t0+2 (forming at 112, up 8.7 %) ends at 109 (up 5.8 %).  Nothing later
-- comes: once the grace has passed it is closed by the clock alone, and
-- what is stored is the closed bar's value.
SELECT pg_temp.bar('CLA', :'t0'::timestamptz + interval '2 minutes', 109);
SELECT * FROM stockext.evaluate_alerts();
SET stockext.alert_close_grace = 0;
SELECT * FROM stockext.evaluate_alerts();
SELECT * FROM fired;
SELECT count(*) AS queued FROM stockext.alert_queue;
-- A bar re-written after it fired fires nothing more.
SELECT pg_temp.bar('CLA', :'t0'::timestamptz + interval '2 minutes', 110);
SELECT * FROM stockext.evaluate_alerts();
RESET stockext.alert_close_grace;

------------------------------------------------------------------------------
-- on_forming: today's daily bar (d0, forming for 23 hours at least).  A
-- rule with on_forming fires on it and says so; a closed-bar rule waits;
-- once closed, the bar fires each rule at most once.
------------------------------------------------------------------------------
SELECT date_trunc('day', now() + interval '1 hour') AS d0 \gset
CREATE TEMP VIEW fired_d AS
SELECT r.condition, a.symbol, a.bar_ts - :'d0' AS bar, a.forming, round(a.observed::numeric, 4) AS observed,
       replace(a.message, to_char(a.bar_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), 'BAR') AS message
FROM stockext.alerts a JOIN stockext.alert_rules r ON r.id = a.rule_id
WHERE a.kind = 'alert' AND a.symbol = 'FRM' ORDER BY a.rule_id, a.bar_ts;
SELECT stockext.add_alert('pct_change', 'FRM', resolution => '1 day', direction => 'up', threshold => 5,
                          on_forming => true) AS r_forming \gset
SELECT stockext.add_alert('price_cross', 'FRM', resolution => '1 day', level => 105) AS r_cross \gset
SELECT condition, on_forming, on_history, max_age
FROM stockext.alert_rule_list WHERE symbol = 'FRM' ORDER BY id;
SELECT pg_temp.bar('FRM', :'d0'::timestamptz - interval '1 day', 100, '1 day'),
       pg_temp.bar('FRM', :'d0', 106, '1 day');
SELECT * FROM stockext.evaluate_alerts();
SELECT * FROM fired_d;
SELECT symbol, ts = :'d0' AS d0, waiting FROM stockext.alert_queue;
-- Unchanged: not evaluated again.  Changed while forming: the rule already
-- fired on this bar.
SELECT * FROM stockext.evaluate_alerts();
SELECT pg_temp.bar('FRM', :'d0', 107, '1 day');
SELECT * FROM stockext.evaluate_alerts();
-- The next day's bar closes d0: the closed-bar rule fires on it, the
-- on_forming rule does not fire a second time.
SELECT pg_temp.bar('FRM', :'d0'::timestamptz + interval '1 day', 107, '1 day');
SELECT * FROM stockext.evaluate_alerts();
SELECT * FROM fired_d;
-- Rules removed, the next day's bar no longer waits.
SELECT stockext.remove_alert(:r_forming), stockext.remove_alert(:r_cross);
SELECT * FROM stockext.evaluate_alerts();
SELECT count(*) AS queued FROM stockext.alert_queue;

------------------------------------------------------------------------------
-- History: bars that land later than max_age after their close.  Default
-- max_age: the poll interval of the series' feeds (none here), then
-- alert_close_grace, then alert_max_age_bars (3) bar widths.  Bars of the
-- last minutes are placed on the grid in the statement that writes them,
-- and the limits fall on whole minutes (grace 0), so that the fraction of
-- the current minute decides nothing.  Alerts show their bar's distance
-- from the first bar of its series.
------------------------------------------------------------------------------
CREATE TEMP VIEW fired_h AS
SELECT a.symbol, a.bar_ts - (SELECT min(t.ts) FROM stockext.ticks t WHERE t.symbol = a.symbol) AS bar,
       round(a.observed::numeric, 4) AS observed, a.rule_id
FROM stockext.alerts a WHERE a.kind = 'alert' AND a.symbol LIKE 'H%' ORDER BY a.rule_id, a.symbol, a.bar_ts;
SET stockext.alert_close_grace = 0;
SELECT stockext.add_alert('pct_change', 'HIS', threshold => 1) > 0 AS by_default,
       stockext.add_alert('pct_change', 'HIS', threshold => 1, on_history => true) > 0 AS on_history,
       stockext.add_alert('pct_change', 'HIS', threshold => 1, max_age => '1 hour') > 0 AS max_age_1_hour,
       stockext.add_alert('pct_change', 'HIS', threshold => 1, max_age => '3 days') > 0 AS max_age_3_days;
-- A backfill of two days ago: three bars, each 2 % up.  Three bars skipped
-- as stale (by the rules that do not take them), two alerts of each rule
-- that does.
SELECT pg_temp.bar('HIS', date_trunc('minute', now()) - interval '2 days' + i * interval '1 minute', 100 * 1.02 ^ i)
FROM generate_series(0, 2) i;
SELECT * FROM stockext.evaluate_alerts();
SELECT r.on_history, r.max_age, count(a.id) AS fired
FROM stockext.alert_rules r LEFT JOIN stockext.alerts a ON a.rule_id = r.id
WHERE r.symbol = 'HIS' GROUP BY r.id ORDER BY r.id;

-- A gap fill: the bars of the last 8 minutes written at once, each 2 % up.
-- The bar of i minutes ago closed i - 1 minutes (and a fraction) before it
-- landed: the three newest fire, the five older ones are stale.
SELECT stockext.add_alert('pct_change', 'HGAP', threshold => 1) AS r_gap \gset
SELECT pg_temp.bar('HGAP', date_trunc('minute', now()) - i * interval '1 minute', 100 * 1.02 ^ (30 - i))
FROM generate_series(1, 8) i;
SELECT * FROM stockext.evaluate_alerts();
SELECT symbol, bar, observed FROM fired_h WHERE rule_id = :r_gap;

-- The setting: 20 bar widths take the bars up to 20 minutes late (of 9 to
-- 25 minutes ago: 9 to 20, 21 to 25 are stale).
SET stockext.alert_max_age_bars = 20;
SELECT pg_temp.bar('HGAP', date_trunc('minute', now()) - i * interval '1 minute', 100 * 1.02 ^ (30 - i))
FROM generate_series(9, 25) i;
SELECT * FROM stockext.evaluate_alerts();
SELECT symbol, bar, observed FROM fired_h WHERE rule_id = :r_gap;
RESET stockext.alert_max_age_bars;

-- max_age per rule, either side of it: with 10 minutes, the bar of 10
-- minutes ago (closed 9 and a fraction before landing) fires, the one of
-- 12 minutes ago does not.
SELECT stockext.add_alert('price_cross', 'HAGE', level => 100, max_age => '10 minutes') AS r_age \gset
SELECT pg_temp.bar('HAGE', date_trunc('minute', now()) - i * interval '1 minute', CASE WHEN i % 2 = 0 THEN 101 ELSE 99 END)
FROM generate_series(10, 13) i;
SELECT * FROM stockext.evaluate_alerts();
SELECT symbol, bar, observed FROM fired_h WHERE rule_id = :r_age;

-- A feed's poll interval counts: its bars may land that much later.  Bars
-- of 40 and 39 minutes ago crossing 100, first with no feed: stale; then
-- with a simulated feed of HPOL polled hourly (its first poll a day away:
-- the worker leaves it alone): in time.
SELECT stockext.add_alert('price_cross', 'HPOL', level => 100) AS r_pol \gset
SELECT pg_temp.bar('HPOL', date_trunc('minute', now()) - i * interval '1 minute', CASE WHEN i = 40 THEN 99 ELSE 101 END)
FROM generate_series(39, 40) i;
SELECT * FROM stockext.evaluate_alerts();
DELETE FROM stockext.ticks WHERE symbol = 'HPOL';
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['HPOL'], '1 minute', '1 hour') AS hfeed \gset
INSERT INTO stockext.feed_state (feed_id, next_poll_at) VALUES (:hfeed, now() + interval '1 day');
COMMIT;
SELECT pg_temp.bar('HPOL', date_trunc('minute', now()) - i * interval '1 minute', CASE WHEN i = 40 THEN 99 ELSE 101 END)
FROM generate_series(39, 40) i;
SELECT * FROM stockext.evaluate_alerts();
SELECT symbol, bar, observed FROM fired_h WHERE rule_id = :r_pol;
-- A bar of a feed stored while forming (its landing moved to half-way
-- through it, as if the feed had written it then) closes by the clock
-- only once a poll of the feed succeeds after its end: not while the feed
-- has not polled since, nor while it is paused, however long ago it ended.
SELECT pg_temp.bar('HPOL', date_trunc('minute', now()) - interval '38 minutes', 99);
UPDATE stockext.alert_queue SET landed_at = ts + interval '30 seconds' WHERE symbol = 'HPOL';
SELECT * FROM stockext.evaluate_alerts();
SELECT stockext.pause_feed(:hfeed);
SELECT * FROM stockext.evaluate_alerts();
-- Active again (without the immediate poll of resume_feed), a successful
-- poll closes it.
UPDATE stockext.feeds SET paused = false WHERE id = :hfeed;
SELECT * FROM stockext.evaluate_alerts();
SELECT stockext.record_poll(:hfeed, 0, NULL, NULL, '1 hour');
SELECT * FROM stockext.evaluate_alerts();
SELECT symbol, bar, observed FROM fired_h WHERE rule_id = :r_pol;
RESET stockext.alert_close_grace;

------------------------------------------------------------------------------
-- Errors.
------------------------------------------------------------------------------
\set SHOW_CONTEXT never
SELECT stockext.add_alert('pct_change', 'ERR', threshold => 1, on_forming => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT stockext.add_alert('pct_change', 'ERR', threshold => 1, on_history => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT stockext.add_alert('pct_change', 'ERR', threshold => 1, max_age => '0');
\echo :LAST_ERROR_SQLSTATE
SELECT stockext.add_alert('pct_change', 'ERR', threshold => 1, max_age => '-5 minutes');
\echo :LAST_ERROR_SQLSTATE
SELECT stockext.add_alert('pct_change', 'ERR', threshold => 1, max_age => '1 hour', on_history => true);
\echo :LAST_ERROR_SQLSTATE
SET stockext.alert_close_grace = -1;
\echo :LAST_ERROR_SQLSTATE
SET stockext.alert_close_grace = '8d';
\echo :LAST_ERROR_SQLSTATE
SET stockext.alert_close_grace = 'soon';
\echo :LAST_ERROR_SQLSTATE
SET stockext.alert_max_age_bars = -1;
\echo :LAST_ERROR_SQLSTATE
SET stockext.alert_max_age_bars = 'many';
\echo :LAST_ERROR_SQLSTATE
CREATE ROLE alerts_closed_user;
SET ROLE alerts_closed_user;
SET stockext.alert_close_grace = 0;
\echo :LAST_ERROR_SQLSTATE
SET stockext.alert_max_age_bars = 0;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE alerts_closed_user;
SELECT count(*) AS rules FROM stockext.alert_rules WHERE symbol = 'ERR';

-- Leave the shared regression database as it was.
SELECT stockext.remove_feed(:hfeed);
SELECT stockext.remove_alert(id) FROM stockext.alert_rules ORDER BY id;
DELETE FROM stockext.alerts;
DELETE FROM stockext.alert_queue;
DELETE FROM stockext.ticks WHERE symbol IN ('CLA', 'FRM', 'HIS', 'HGAP', 'HAGE', 'HPOL');
DELETE FROM stockext.rollup_invalidations WHERE symbol IN ('CLA', 'FRM', 'HIS', 'HGAP', 'HAGE', 'HPOL');
SELECT (SELECT count(*) FROM stockext.alert_rules) AS rules, (SELECT count(*) FROM stockext.feeds) AS feeds;
SELECT pg_advisory_unlock('stockext.alert_queue'::regclass::oid::bigint);
