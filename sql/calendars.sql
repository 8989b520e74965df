-- Trading calendars: the NYSE's holidays and early closes from the rules
-- against its published lists, sessions at DST changes, early closes and
-- the 24x5 week's ends, a user's calendar, feeds' calendars, gaps, bars()
-- filled within sessions, volume_spike's skip_open.
SET client_min_messages = warning;
SET timezone = 'UTC';
\set VERBOSITY default
\set SHOW_CONTEXT never

SELECT name, time_zone FROM stockext.calendars ORDER BY name;

-- Easter (the computus) for the years below and a few far ones:
-- 1818 and 2285 are its earliest (March 22), 1943 and 2038 its latest (April 25).
SELECT y, stockext.easter(y) FROM unnest(ARRAY[1818, 1943, 2024, 2025, 2026, 2027, 2038, 2285]) y;

-- The NYSE's published closures and 1:00 p.m. early closes, 2024-2027, as
-- its "Holidays & Trading Hours" page lists them
-- (https://www.nyse.com/markets/hours-calendars) and NYSE Group's press
-- releases of the holiday and early closings calendars give them
-- (2021-12-27 for 2022-2024, 2024-11-08 for 2025-2027, 2025-12-23 for
-- 2026-2028; Business Wire), with the national day of mourning for
-- President Carter (2025-01-09) it added.  A Saturday
-- holiday is observed the Friday before (Independence Day 2026, Juneteenth
-- and Christmas 2027), a Sunday one the Monday after (Independence Day
-- 2027); Good Friday is Easter - 2.
CREATE TEMP TABLE nyse_closed (day date, what text);
INSERT INTO nyse_closed VALUES
    ('2024-01-01', 'New Year''s Day'), ('2024-01-15', 'Martin Luther King, Jr. Day'),
    ('2024-02-19', 'Washington''s Birthday'), ('2024-03-29', 'Good Friday'), ('2024-05-27', 'Memorial Day'),
    ('2024-06-19', 'Juneteenth National Independence Day'), ('2024-07-04', 'Independence Day'),
    ('2024-09-02', 'Labor Day'), ('2024-11-28', 'Thanksgiving Day'), ('2024-12-25', 'Christmas Day'),
    ('2025-01-01', 'New Year''s Day'), ('2025-01-09', 'National Day of Mourning (President Carter)'),
    ('2025-01-20', 'Martin Luther King, Jr. Day'), ('2025-02-17', 'Washington''s Birthday'),
    ('2025-04-18', 'Good Friday'), ('2025-05-26', 'Memorial Day'),
    ('2025-06-19', 'Juneteenth National Independence Day'), ('2025-07-04', 'Independence Day'),
    ('2025-09-01', 'Labor Day'), ('2025-11-27', 'Thanksgiving Day'), ('2025-12-25', 'Christmas Day'),
    ('2026-01-01', 'New Year''s Day'), ('2026-01-19', 'Martin Luther King, Jr. Day'),
    ('2026-02-16', 'Washington''s Birthday'), ('2026-04-03', 'Good Friday'), ('2026-05-25', 'Memorial Day'),
    ('2026-06-19', 'Juneteenth National Independence Day'), ('2026-07-03', 'Independence Day (observed)'),
    ('2026-09-07', 'Labor Day'), ('2026-11-26', 'Thanksgiving Day'), ('2026-12-25', 'Christmas Day'),
    ('2027-01-01', 'New Year''s Day'), ('2027-01-18', 'Martin Luther King, Jr. Day'),
    ('2027-02-15', 'Washington''s Birthday'), ('2027-03-26', 'Good Friday'), ('2027-05-31', 'Memorial Day'),
    ('2027-06-18', 'Juneteenth National Independence Day (observed)'), ('2027-07-05', 'Independence Day (observed)'),
    ('2027-09-06', 'Labor Day'), ('2027-11-25', 'Thanksgiving Day'), ('2027-12-24', 'Christmas Day (observed)');
CREATE TEMP TABLE nyse_early (day date);
INSERT INTO nyse_early VALUES
    ('2024-07-03'), ('2024-11-29'), ('2024-12-24'),
    ('2025-07-03'), ('2025-11-28'), ('2025-12-24'),
    ('2026-11-27'), ('2026-12-24'),
    ('2027-11-26');

-- The sessions the rules give for 2024-2027, by New York date.
CREATE TEMP TABLE xnys AS
SELECT (s.open AT TIME ZONE 'America/New_York')::date AS day,
       (s.open AT TIME ZONE 'America/New_York')::time AS opens,
       (s.close AT TIME ZONE 'America/New_York')::time AS closes
FROM stockext.sessions('XNYS', '2024-01-01 05:00+00', '2028-01-01 05:00+00') s;
SELECT count(*) AS sessions, count(*) FILTER (WHERE closes = '13:00') AS early_closes,
       count(DISTINCT opens) AS opening_times FROM xnys;
SELECT extract(year FROM day) AS year, count(*) AS sessions FROM xnys GROUP BY 1 ORDER BY 1;
-- Weekdays without a session are exactly the published closures ...
SELECT d::date AS weekday_without_session_unpublished
FROM generate_series(date '2024-01-01', '2027-12-31', '1 day') d
WHERE extract(isodow FROM d) < 6 AND d::date NOT IN (SELECT day FROM xnys)
EXCEPT SELECT day FROM nyse_closed;
SELECT day AS published_closure_with_session, what FROM nyse_closed WHERE day IN (SELECT day FROM xnys);
SELECT count(*) AS published_closures_on_weekdays FROM nyse_closed WHERE extract(isodow FROM day) < 6;
-- ... and the 13:00 closes exactly the published early closes.
SELECT day AS early_close_mismatch FROM xnys WHERE closes <> '16:00'
EXCEPT SELECT day FROM nyse_early;
SELECT day AS published_early_close_missing FROM nyse_early
EXCEPT SELECT day FROM xnys WHERE closes = '13:00';

-- New Year's Day on a Saturday (2022) is not observed on the Friday before
-- (NYSE Rule 7.2: that Friday ends an accounting period): 2021-12-31 trades.
SELECT stockext.is_open('XNYS', '2021-12-31 15:00+00') AS dec_31_2021_open;
SELECT stockext.is_open('XNYS', '2021-06-18 15:00+00') AS juneteenth_before_2022_open,
       stockext.is_open('XNYS', '2022-06-20 15:00+00') AS juneteenth_2022_observed_open;
-- The rules of a year, by name.
SELECT h.name, stockext.holiday_date(h, 2027) FROM stockext.calendar_holidays h
WHERE h.calendar = 'XNYS' ORDER BY 2, 1;

-- Edges.  DST: New York is UTC-5 on Friday 2024-03-08, UTC-4 from Sunday
-- 2024-03-10, so the open moves from 14:30 to 13:30 UTC.
SELECT at, stockext.is_open('XNYS', at)
FROM unnest(ARRAY['2024-03-08 14:29:59.999999+00', '2024-03-08 14:30+00', '2024-03-08 20:59:59+00',
                  '2024-03-08 21:00+00', '2024-03-11 13:29:59+00', '2024-03-11 13:30+00',
                  '2024-11-01 19:59:59+00', '2024-11-04 14:29:59+00', '2024-11-04 14:30+00']::timestamptz[]) at;
-- An early close: Christmas Eve 2024 closes at 13:00 New York (18:00 UTC).
SELECT stockext.is_open('XNYS', '2024-12-24 17:59:59+00') AS before_early_close,
       stockext.is_open('XNYS', '2024-12-24 18:00+00') AS at_early_close,
       stockext.next_open('XNYS', '2024-12-24 18:00+00') AS next_open_after_christmas,
       stockext.last_close('XNYS', '2024-12-25 12:00+00') AS last_close;
-- next_open: from a session, the next one; across Good Friday and a weekend.
SELECT stockext.next_open('XNYS', '2024-03-28 14:00+00') AS during_thursday,
       stockext.next_open('XNYS', '2024-03-28 13:30+00') AS at_an_open,
       stockext.next_open('XNYS', '2024-03-28 21:00+00') AS over_good_friday;
-- 24x5: one session from Sunday 17:00 to Friday 17:00 New York, across the
-- DST change (Friday 22:00 UTC, Sunday 21:00 UTC).
SELECT * FROM stockext.sessions('24x5', '2024-03-06', '2024-03-12');
SELECT at, stockext.is_open('24x5', at)
FROM unnest(ARRAY['2024-03-08 21:59:59+00', '2024-03-08 22:00+00', '2024-03-10 20:59:59+00',
                  '2024-03-10 21:00+00', '2024-03-13 04:00+00']::timestamptz[]) at;
SELECT stockext.next_open('24x5', '2024-03-09 12:00+00') AS next_24x5_open;
-- 24x7: always open, one endless session, no next open nor last close.
SELECT * FROM stockext.sessions('24x7', '2024-03-06', '2024-03-12');
SELECT stockext.is_open('24x7', '2024-12-25 12:00+00') AS open_on_christmas,
       stockext.next_open('24x7', '2024-12-25') IS NULL AS no_next_open,
       stockext.last_close('24x7', '2024-12-25') IS NULL AS no_last_close;
-- An empty range, NULLs (STRICT), and the errors.
SELECT count(*) AS sessions_of_empty_range FROM stockext.sessions('XNYS', '2024-03-09', '2024-03-09');
SELECT stockext.is_open('XNYS', NULL) IS NULL AS strict;
SELECT stockext.is_open('XLON', now());
SELECT * FROM stockext.sessions('xnys', '2024-01-01', '2024-01-02');
SELECT stockext.next_open('nope', now());
SELECT * FROM stockext.sessions('XNYS', '2024-01-02', '2024-01-01');
SELECT * FROM stockext.sessions('XNYS', '-infinity', '2024-01-01');
SELECT stockext.easter(1500);
-- The labels: STABLE (they read the tables), STRICT, PARALLEL SAFE.
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p WHERE p.pronamespace = 'stockext'::regnamespace
  AND p.proname IN ('is_open', 'sessions', 'next_open', 'last_close', 'opens_session', 'easter', 'holiday_date')
ORDER BY 1::text;

-- A user's calendar: a night session crossing midnight (Sunday to Thursday
-- 22:00 to 06:00 the next day, Tokyo), Easter Monday (Easter + 1), the last
-- Friday of November closed, early closes at 02:00 on the second Wednesday
-- of each March, a one-off closure and a one-off short session.
INSERT INTO stockext.calendars VALUES ('XNITE', 'Asia/Tokyo', 'test: night sessions');
INSERT INTO stockext.calendar_sessions SELECT 'XNITE', d, '-02:00', '06:00' FROM generate_series(1, 5) d;
INSERT INTO stockext.calendar_holidays (calendar, name, kind, month, day, weekday, nth, offset_days, closes) VALUES
    ('XNITE', 'Easter Monday', 'easter', NULL, NULL, NULL, NULL, 1, NULL),
    ('XNITE', 'last Friday of November', 'last_weekday', 11, NULL, 5, NULL, 0, NULL),
    ('XNITE', 'short March night', 'nth_weekday', 3, NULL, 3, 2, 0, '02:00');
INSERT INTO stockext.calendar_exceptions VALUES
    ('XNITE', '2024-04-03', NULL, NULL, 'closed'),
    ('XNITE', '2024-04-06', '00:00', '01:00', 'a Saturday hour');
SELECT open AT TIME ZONE 'Asia/Tokyo' AS opens_tokyo, close AT TIME ZONE 'Asia/Tokyo' AS closes_tokyo
FROM stockext.sessions('XNITE', '2024-03-29', '2024-04-09');
SELECT open AT TIME ZONE 'Asia/Tokyo' AS opens_tokyo, close AT TIME ZONE 'Asia/Tokyo' AS closes_tokyo
FROM stockext.sessions('XNITE', '2024-03-12', '2024-03-14');
SELECT stockext.is_open('XNITE', '2024-11-27 23:00+09') AS wednesday_night_open,
       stockext.is_open('XNITE', '2024-11-28 23:00+09') AS last_friday_session_closed;
-- Rules and exceptions are checked.
INSERT INTO stockext.calendars VALUES ('XMARS', 'Mars/Olympus');
INSERT INTO stockext.calendar_sessions VALUES ('XNITE', 8, '09:00', '10:00');
INSERT INTO stockext.calendar_sessions VALUES ('XNITE', 6, '10:00', '09:00');
INSERT INTO stockext.calendar_holidays (calendar, name, kind, month) VALUES ('XNITE', 'bad', 'nth_weekday', 3);
INSERT INTO stockext.calendar_holidays (calendar, name, kind, observed) VALUES ('XNITE', 'bad', 'easter', 'sometimes');
INSERT INTO stockext.calendar_exceptions VALUES ('XNITE', '2024-04-10', '10:00', NULL);

-- Feeds' calendars: the default per provider and symbol form, unless
-- stockext.feed_calendar says otherwise (the test cluster sets 24x7).
SHOW stockext.feed_calendar;
SET stockext.feed_calendar = '';
SELECT p, s, stockext.default_calendar(p, s)
FROM (VALUES ('twelvedata', ARRAY['AAPL']), ('twelvedata', ARRAY['EUR/USD']), ('twelvedata', ARRAY['BTC/USD']),
             ('yahoo', ARRAY['EURUSD=X']), ('yahoo', ARRAY['BTC-USD']), ('yahoo', ARRAY['BRK-B']),
             ('yahoo', ARRAY['^GSPC', 'EURUSD=X']), ('simulated', ARRAY['AAPL'])) v(p, s);
BEGIN;
SELECT stockext.add_feed('twelvedata', ARRAY['CALA'], '1 minute', '1 minute') AS f1 \gset
SELECT stockext.pause_feed(:f1);
SELECT stockext.add_feed('twelvedata', ARRAY['CALB/USD'], '1 minute', '1 minute', calendar => 'XNITE') AS f2 \gset
SELECT stockext.pause_feed(:f2);
SET LOCAL stockext.feed_calendar = '24x5';
SELECT stockext.add_feed('twelvedata', ARRAY['CALC'], '1 minute', '1 minute') AS f3 \gset
SELECT stockext.pause_feed(:f3);
COMMIT;
SELECT symbols, calendar FROM stockext.feeds WHERE id IN (:f1, :f2, :f3) ORDER BY id;
SELECT stockext.change_feed(:f3, calendar => 'XNYS');
SELECT calendar, stockext.symbol_calendar('calc') FROM stockext.feeds WHERE id = :f3;
SELECT stockext.add_feed('twelvedata', ARRAY['CALD'], '1 minute', '1 minute', calendar => 'XLON');
SELECT stockext.change_feed(:f3, calendar => 'XLON');
SET stockext.feed_calendar = 'XLON';
SELECT stockext.add_feed('twelvedata', ARRAY['CALD'], '1 minute', '1 minute');
RESET stockext.feed_calendar;
-- A calendar in use cannot be dropped; renaming it follows.
DELETE FROM stockext.calendars WHERE name = 'XNITE';
UPDATE stockext.calendars SET name = 'XNIGHT' WHERE name = 'XNITE';
SELECT calendar FROM stockext.feeds WHERE id = :f2;
-- The worker's view: a feed whose market is closed is polled once after
-- the close (the closing bar), then skipped; a feed of no calendar never.
SELECT stockext.feed_closed('XNYS', NULL, '2024-12-25 12:00+00') AS never_polled,
       stockext.feed_closed('XNYS', '2024-12-24 18:00:05+00', '2024-12-25 12:00+00') AS polled_before_grace,
       stockext.feed_closed('XNYS', '2024-12-24 18:00:10+00', '2024-12-25 12:00+00') AS closing_poll_done,
       stockext.feed_closed('XNYS', '2024-12-24 18:00:10+00', '2024-12-26 15:00+00') AS open_again,
       stockext.feed_closed(NULL, NULL, '2024-12-25 12:00+00') AS no_calendar;
SELECT stockext.remove_feed(id) FROM stockext.feeds WHERE id IN (:f1, :f2, :f3);

-- Gaps, bars() and skip_open on a calendar of two one-hour sessions, three
-- and two days ago (10:00-11:00 UTC), the day between them closed.
INSERT INTO stockext.calendars VALUES ('XGAP', 'UTC', 'test: two sessions');
INSERT INTO stockext.calendar_exceptions VALUES
    ('XGAP', current_date - 3, '10:00', '11:00'), ('XGAP', current_date - 1, '10:00', '11:00');
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['GAPX'], '15 minutes', '1 hour', calendar => 'XGAP') AS gf \gset
SELECT stockext.pause_feed(:gf);
COMMIT;
-- Day -3: 10:30 is missing (a gap); day -1 is whole; day -2 is no session.
SELECT stockext.upsert_bar('GAPX', (current_date - d) + t, '15 minutes', 10 + d, 11 + d, 9, 10 + d, v)
FROM (VALUES (3, time '10:00', 900), (3, '10:15', 100), (3, '10:45', 100),
             (1, '10:00', 800), (1, '10:15', 100), (1, '10:30', 120), (1, '10:45', 300)) x(d, t, v);
-- Times are shown from midnight (UTC) three days ago.
SELECT symbol, calendar, session_open - (current_date - 3) AS session_open,
       session_close - (current_date - 3) AS session_close,
       missing, first_missing - (current_date - 3) AS first_missing
FROM stockext.gaps WHERE feed_id = :gf;
-- bars() with a fill fills within the sessions only: not the nights nor
-- the closed day between; without a calendar every bucket is filled.
SELECT b.bucket - (current_date - 3) AS bucket, b.close, b.n
FROM stockext.bars('GAPX', '15 minutes', current_date - 3 + time '09:30', current_date - 1 + time '11:30', fill => 'previous') b;
UPDATE stockext.feeds SET calendar = NULL WHERE id = :gf;
SELECT count(*) AS buckets_without_calendar
FROM stockext.bars('GAPX', '15 minutes', current_date - 3 + time '09:30', current_date - 1 + time '11:30', fill => 'previous');
SELECT stockext.change_feed(:gf, calendar => 'XGAP');
-- skip_open: the first bar of each session (volume 900, then 800) is no
-- spike and does not count in the means after it; the day's 300 is.
SELECT t.ts - (current_date - 3) AS ts, t.volume,
       stockext.volume_spike(t.volume, 2, 1.5) OVER w AS spike,
       stockext.volume_spike(t.volume, 2, 1.5, stockext.opens_session('XGAP', t.ts, t.resolution)) OVER w AS spike_skip_open
FROM stockext.ticks t WHERE t.symbol = 'GAPX' WINDOW w AS (ORDER BY t.ts) ORDER BY t.ts;
-- The volume_spike alert rule skips the open by default.
SELECT stockext.add_alert('volume_spike', 'GAPX', resolution => '15 minutes', bars => 2, factor => 1.5) AS rule \gset
SELECT r.skip_open, (stockext.alert_check(r, 'GAPX', current_date - 1 + time '10:00')).fires AS open_bar_fires,
       (stockext.alert_check(r, 'GAPX', current_date - 1 + time '10:45')).fires AS later_bar_fires
FROM stockext.alert_rules r WHERE r.id = :rule;
-- add_alert(skip_open => false) evaluates the open too; alert_rule_list
-- shows the setting.
SELECT stockext.add_alert('volume_spike', 'GAPX', resolution => '15 minutes', bars => 2, factor => 1.5,
                          skip_open => false) AS rule_open \gset
SELECT r.skip_open, (stockext.alert_check(r, 'GAPX', current_date - 1 + time '10:00')).fires AS open_bar_fires
FROM stockext.alert_rules r WHERE r.id = :rule_open;
SELECT id = :rule_open AS evaluates_open, adjust, skip_open
FROM stockext.alert_rule_list WHERE id IN (:rule, :rule_open) ORDER BY id;
SELECT stockext.add_alert('volume_spike', 'GAPX', skip_open => NULL);
SELECT stockext.remove_alert(:rule);
SELECT stockext.remove_alert(:rule_open);
SELECT stockext.remove_feed(:gf);
DELETE FROM stockext.ticks WHERE symbol = 'GAPX';
DELETE FROM stockext.calendars WHERE name IN ('XGAP', 'XNIGHT');

-- Anyone may read the calendars (is_open in a reader's query).
CREATE ROLE cal_nobody;
GRANT USAGE ON SCHEMA stockext TO cal_nobody;
SET ROLE cal_nobody;
SELECT stockext.is_open('XNYS', '2024-12-24 17:00+00') AS reader_is_open;
INSERT INTO stockext.calendars VALUES ('XNOPE', 'UTC');
RESET ROLE;
REVOKE USAGE ON SCHEMA stockext FROM cal_nobody;
DROP ROLE cal_nobody;
