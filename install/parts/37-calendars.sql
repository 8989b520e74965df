------------------------------------------------------------------------------
-- Market reference data: trading calendars
------------------------------------------------------------------------------

-- Calendars are data, so that a user adds an exchange with INSERTs: a time
-- zone, a regular session per weekday, holiday and early-close rules that
-- give the dates of any year, and one-off dated exceptions.  Sessions are
-- wall times of the exchange's zone, so they follow its DST changes.
-- Public reference data: anyone may read them (is_open, bars() of a
-- reader); changing them takes the owner or a superuser.
CREATE TABLE stockext.calendars (
    name        text PRIMARY KEY,
    time_zone   text NOT NULL,
    description text,
    -- An unknown zone fails here with PostgreSQL's own message.
    CONSTRAINT calendars_time_zone_known CHECK ((timestamptz '2000-01-01 00:00+00' AT TIME ZONE time_zone) IS NOT NULL),
    CONSTRAINT calendars_name_valid CHECK (name ~ '^[A-Za-z0-9_.+-]{1,32}$')
);
COMMENT ON TABLE stockext.calendars IS
'trading calendars (XNYS, 24x5, 24x7 and the user''s): name, time zone of the sessions; sessions in calendar_sessions, holiday and early-close rules in calendar_holidays, one-off days in calendar_exceptions';
GRANT SELECT ON stockext.calendars TO PUBLIC;

-- The regular session of each weekday of a trading date, as offsets from
-- that date's local midnight: 09:30 to 16:00 for NYSE; -07:00 (17:00 the day
-- before) to 17:00 for the forex session of a 24x5 Monday.  No row: closed.
CREATE TABLE stockext.calendar_sessions (
    calendar text     NOT NULL REFERENCES stockext.calendars ON UPDATE CASCADE ON DELETE CASCADE,
    weekday  integer  NOT NULL,
    opens    interval NOT NULL,
    closes   interval NOT NULL,
    PRIMARY KEY (calendar, weekday),
    CONSTRAINT calendar_sessions_weekday_iso CHECK (weekday BETWEEN 1 AND 7),
    CONSTRAINT calendar_sessions_opens_before_closes CHECK (opens < closes),
    CONSTRAINT calendar_sessions_within_a_day_each_side
        CHECK (opens >= interval '-24 hours' AND closes <= interval '48 hours')
);
COMMENT ON TABLE stockext.calendar_sessions IS
'regular session per ISO weekday (1 Monday .. 7 Sunday) of the trading date: opens and closes as offsets from its local midnight, either may cross midnight; no row: no session that weekday';
GRANT SELECT ON stockext.calendar_sessions TO PUBLIC;

-- Rules giving a date in every year: a full-day holiday (closes NULL) or an
-- early close at closes.  kind: fixed (month, day), nth_weekday (the nth
-- ISO weekday of month), last_weekday (the last one), easter (Easter
-- Sunday); offset_days moves the date (Good Friday: easter, -2; the day
-- after Thanksgiving: nth_weekday, +1).  observed moves a date falling on a
-- weekend: nearest (Saturday to Friday, Sunday to Monday),
-- nearest_same_month (the same, but a Saturday whose Friday is in the month
-- before is not observed: NYSE's New Year's Day), none.
CREATE TABLE stockext.calendar_holidays (
    calendar    text     NOT NULL REFERENCES stockext.calendars ON UPDATE CASCADE ON DELETE CASCADE,
    name        text     NOT NULL,
    kind        text     NOT NULL,
    month       integer,
    day         integer,
    weekday     integer,
    nth         integer,
    offset_days integer  NOT NULL DEFAULT 0,
    observed    text     NOT NULL DEFAULT 'none',
    closes      interval,
    first_year  integer,
    last_year   integer,
    PRIMARY KEY (calendar, name),
    CONSTRAINT calendar_holidays_kind_known CHECK (kind IN ('fixed', 'nth_weekday', 'last_weekday', 'easter')),
    CONSTRAINT calendar_holidays_observed_known CHECK (observed IN ('none', 'nearest', 'nearest_same_month')),
    CONSTRAINT calendar_holidays_fields CHECK (CASE kind
        WHEN 'fixed' THEN month IS NOT NULL AND day IS NOT NULL AND weekday IS NULL AND nth IS NULL
        WHEN 'nth_weekday' THEN month IS NOT NULL AND day IS NULL AND weekday IS NOT NULL AND nth IS NOT NULL
        WHEN 'last_weekday' THEN month IS NOT NULL AND day IS NULL AND weekday IS NOT NULL AND nth IS NULL
        ELSE month IS NULL AND day IS NULL AND weekday IS NULL AND nth IS NULL END),
    CONSTRAINT calendar_holidays_month CHECK (month BETWEEN 1 AND 12),
    CONSTRAINT calendar_holidays_day CHECK (day BETWEEN 1 AND 31),
    CONSTRAINT calendar_holidays_weekday_iso CHECK (weekday BETWEEN 1 AND 7),
    CONSTRAINT calendar_holidays_nth CHECK (nth BETWEEN 1 AND 5)
);
COMMENT ON TABLE stockext.calendar_holidays IS
'holiday (closes NULL) and early-close (closes: the early close, an offset from local midnight) rules of the calendars: fixed dates, nth or last weekday of a month, Easter-based, moved by offset_days and, for weekends, by observed; in force from first_year to last_year';
GRANT SELECT ON stockext.calendar_holidays TO PUBLIC;

-- One-off days, which win over the rules: a closure (opens and closes
-- NULL: the NYSE's national day of mourning of 2025-01-09) or a session of
-- its own (a late open, an extra session).
CREATE TABLE stockext.calendar_exceptions (
    calendar text     NOT NULL REFERENCES stockext.calendars ON UPDATE CASCADE ON DELETE CASCADE,
    day      date     NOT NULL,
    opens    interval,
    closes   interval,
    note     text,
    PRIMARY KEY (calendar, day),
    CONSTRAINT calendar_exceptions_both_or_neither CHECK ((opens IS NULL) = (closes IS NULL)),
    CONSTRAINT calendar_exceptions_opens_before_closes CHECK (opens < closes)
);
COMMENT ON TABLE stockext.calendar_exceptions IS
'one-off trading dates of a calendar, over its rules: closed all day (opens and closes NULL) or a session of their own (offsets from local midnight)';
GRANT SELECT ON stockext.calendar_exceptions TO PUBLIC;

-- The shipped calendars.  pg_dump keeps what a user adds (calendars,
-- rules, exceptions, also of the shipped calendars) but not the shipped
-- rows, which CREATE EXTENSION makes: a change to a shipped row is lost by
-- a dump and restore (add an exception or a rule instead).  The filters
-- are registered in 99-config-dumps.sql.
INSERT INTO stockext.calendars VALUES
    ('XNYS', 'America/New_York', 'NYSE and Nasdaq: 09:30-16:00 New York, NYSE holidays, 13:00 early closes'),
    ('24x5', 'America/New_York', 'forex: Sunday 17:00 to Friday 17:00 New York'),
    ('24x7', 'UTC', 'crypto: always open');
INSERT INTO stockext.calendar_sessions
SELECT 'XNYS', d, interval '09:30', interval '16:00' FROM generate_series(1, 5) d
UNION ALL SELECT '24x5', d, '-07:00', '17:00' FROM generate_series(1, 5) d
UNION ALL SELECT '24x7', d, '00:00', '24:00' FROM generate_series(1, 7) d;
-- NYSE Rule 7.2 and its holiday page: when a holiday falls on a Saturday
-- the Exchange closes the Friday before, unless that Friday ends a monthly
-- or yearly accounting period (New Year's Day); on a Sunday, the Monday
-- after.  Early closes at 13:00 on July 3 (a weekday that is not the
-- observed holiday), the day after Thanksgiving and December 24.
INSERT INTO stockext.calendar_holidays
    (calendar, name, kind, month, day, weekday, nth, offset_days, observed, closes, first_year) VALUES
    ('XNYS', 'New Year''s Day', 'fixed', 1, 1, NULL, NULL, 0, 'nearest_same_month', NULL, NULL),
    ('XNYS', 'Martin Luther King Jr. Day', 'nth_weekday', 1, NULL, 1, 3, 0, 'none', NULL, NULL),
    ('XNYS', 'Washington''s Birthday', 'nth_weekday', 2, NULL, 1, 3, 0, 'none', NULL, NULL),
    ('XNYS', 'Good Friday', 'easter', NULL, NULL, NULL, NULL, -2, 'none', NULL, NULL),
    ('XNYS', 'Memorial Day', 'last_weekday', 5, NULL, 1, NULL, 0, 'none', NULL, NULL),
    ('XNYS', 'Juneteenth', 'fixed', 6, 19, NULL, NULL, 0, 'nearest_same_month', NULL, 2022),
    ('XNYS', 'Independence Day', 'fixed', 7, 4, NULL, NULL, 0, 'nearest_same_month', NULL, NULL),
    ('XNYS', 'Labor Day', 'nth_weekday', 9, NULL, 1, 1, 0, 'none', NULL, NULL),
    ('XNYS', 'Thanksgiving Day', 'nth_weekday', 11, NULL, 4, 4, 0, 'none', NULL, NULL),
    ('XNYS', 'Christmas Day', 'fixed', 12, 25, NULL, NULL, 0, 'nearest_same_month', NULL, NULL),
    ('XNYS', 'Independence Day eve (early close)', 'fixed', 7, 3, NULL, NULL, 0, 'none', '13:00', NULL),
    ('XNYS', 'day after Thanksgiving (early close)', 'nth_weekday', 11, NULL, 4, 4, 1, 'none', '13:00', NULL),
    ('XNYS', 'Christmas Eve (early close)', 'fixed', 12, 24, NULL, NULL, 0, 'none', '13:00', NULL);
INSERT INTO stockext.calendar_exceptions VALUES
    ('XNYS', '2025-01-09', NULL, NULL, 'national day of mourning for President Jimmy Carter');
-- Easter Sunday of a Gregorian year, by the anonymous algorithm (Meeus,
-- Astronomical Algorithms, ch. 8), and the date a rule gives in a year:
-- in C (src/calendar.c), as every session lookup evaluates each rule for
-- each year it spans.
CREATE FUNCTION stockext.easter(year integer)
RETURNS date
AS 'MODULE_PATHNAME', 'stockext_easter'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.easter(integer) IS
'Easter Sunday of a year of the Gregorian calendar (1583 to 9999), by the anonymous Gregorian computus (Meeus)';

CREATE FUNCTION stockext.holiday_date(rule stockext.calendar_holidays, year integer)
RETURNS date
AS 'MODULE_PATHNAME', 'stockext_holiday_date'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.holiday_date(stockext.calendar_holidays, integer) IS
'the date a holiday or early-close rule gives in a year, moved by offset_days and by its weekend rule (observed); NULL when not in force that year, when the month lacks the day, or when not observed';

-- Raises undefined_object for a calendar that does not exist; returns its
-- time zone.
CREATE FUNCTION stockext.calendar_zone(calendar text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tz text;
BEGIN
    SELECT c.time_zone INTO tz FROM stockext.calendars c WHERE c.name = calendar;
    IF tz IS NULL THEN
        RAISE EXCEPTION 'calendar "%" does not exist', calendar
            USING ERRCODE = 'undefined_object',
                  HINT = (SELECT 'Use one of ' || string_agg(c.name, ', ' ORDER BY c.name)
                                 || ', or add it to stockext.calendars.' FROM stockext.calendars c);
    END IF;
    RETURN tz;
END
$$;
COMMENT ON FUNCTION stockext.calendar_zone(text) IS
'the time zone of a calendar; raises undefined_object for an unknown one';

-- The session of each trading date in [from_day, to_day]: the exception of the
-- day if any, else the weekday's session unless a holiday rule gives the
-- date, closing at the earliest early close a rule gives it.
CREATE FUNCTION stockext.calendar_days(calendar text, from_day date, to_day date)
RETURNS TABLE (day date, opens timestamptz, closes timestamptz)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    WITH rules AS (
        SELECT stockext.holiday_date(h, y) AS d, h.closes
        FROM stockext.calendar_holidays h,
             generate_series(extract(year FROM from_day)::int, extract(year FROM to_day)::int + 1) y
        WHERE h.calendar = $1
    )
    SELECT g.d, (g.d + o.opens) AT TIME ZONE c.time_zone, (g.d + o.closes) AT TIME ZONE c.time_zone
    FROM stockext.calendars c
    CROSS JOIN LATERAL (SELECT x::date AS d FROM generate_series(from_day, to_day, interval '1 day') x) g
    LEFT JOIN stockext.calendar_exceptions e ON e.calendar = c.name AND e.day = g.d
    LEFT JOIN stockext.calendar_sessions s ON s.calendar = c.name AND s.weekday = extract(isodow FROM g.d)
    CROSS JOIN LATERAL (
        SELECT CASE WHEN e.day IS NOT NULL THEN e.opens ELSE s.opens END AS opens,
               CASE WHEN e.day IS NOT NULL THEN e.closes
                    ELSE least(s.closes, (SELECT min(r.closes) FROM rules r WHERE r.d = g.d)) END AS closes) o
    WHERE c.name = $1 AND o.opens < o.closes
      AND (e.day IS NOT NULL OR NOT EXISTS (SELECT FROM rules r WHERE r.d = g.d AND r.closes IS NULL))
$$;
COMMENT ON FUNCTION stockext.calendar_days(text, date, date) IS
'the session of each trading date from from_day to to_day of a calendar (holidays and closed days give no row), before sessions that touch are joined';

-- Sessions overlapping [start, stop), those that touch joined into one (a
-- 24x5 week, Sunday 17:00 to Friday 17:00).  The trading dates read reach
-- 8 days beyond each end; a session reaching that far is longer than a
-- week, and its ends are shown as -infinity and infinity (24x7).
CREATE FUNCTION stockext.sessions(calendar text, start timestamptz, stop timestamptz)
RETURNS TABLE (open timestamptz, close timestamptz)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 20
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tz    text := stockext.calendar_zone(calendar);
    from_day date;
    to_day   date;
BEGIN
    IF stop < start THEN
        RAISE EXCEPTION 'session range ends before it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', start, stop);
    END IF;
    IF NOT isfinite(start) OR NOT isfinite(stop) THEN
        RAISE EXCEPTION 'session range must be finite'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    from_day := (start AT TIME ZONE tz)::date - 8;
    to_day := (stop AT TIME ZONE tz)::date + 8;
    RETURN QUERY
    WITH days AS (
        SELECT d.opens, d.closes, d.day = from_day AS first_day, d.day = to_day AS last_day
        FROM stockext.calendar_days(calendar, from_day, to_day) d
    ),
    runs AS (
        SELECT d.*, count(*) FILTER (WHERE d.opens > d.prev_close OR d.prev_close IS NULL)
                        OVER (ORDER BY d.opens) AS run
        FROM (SELECT x.*, max(x.closes) OVER (ORDER BY x.opens ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_close
              FROM days x) d
    )
    SELECT CASE WHEN bool_or(r.first_day) THEN '-infinity' ELSE min(r.opens) END,
           CASE WHEN bool_or(r.last_day) THEN 'infinity' ELSE max(r.closes) END
    FROM runs r
    GROUP BY r.run
    HAVING max(r.closes) > start AND min(r.opens) < stop
    ORDER BY 1;
END
$$;
COMMENT ON FUNCTION stockext.sessions(text, timestamptz, timestamptz) IS
'trading sessions of a calendar overlapping [start, stop): open and close instants, sessions that touch joined (a 24x5 week is one session); -infinity / infinity for a market that never closes';

CREATE FUNCTION stockext.is_open(calendar text, at timestamptz)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN EXISTS (SELECT FROM stockext.sessions(calendar, at, at + interval '1 microsecond'));
COMMENT ON FUNCTION stockext.is_open(text, timestamptz) IS
'whether the market of a calendar is open at an instant (a session''s open included, its close excluded)';

-- Looks ahead a year at most, 8 weeks at a time.
CREATE FUNCTION stockext.next_open(calendar text, at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_open timestamptz;
BEGIN
    FOR i IN 0 .. 6 LOOP
        SELECT min(s.open) INTO found_open
        FROM stockext.sessions(calendar, at + i * interval '8 weeks', at + (i + 1) * interval '8 weeks') s
        WHERE s.open >= at;
        IF found_open IS NOT NULL THEN
            RETURN found_open;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.next_open(text, timestamptz) IS
'the next session open of a calendar at or after an instant (the next one, if the market is open then); NULL if none within a year (24x7)';

-- The close of the last session that closed at or before an instant (the
-- worker's closing poll follows it); NULL if none in the 8 weeks before.
CREATE FUNCTION stockext.last_close(calendar text, at timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN (SELECT max(s.close) FROM stockext.sessions(calendar, at - interval '8 weeks', at) s
        WHERE s.close <= at);
COMMENT ON FUNCTION stockext.last_close(text, timestamptz) IS
'the close of the last session of a calendar that closed at or before an instant; NULL if none in the 8 weeks before (24x7)';

-- Whether a bar of the resolution starting at ts is the first of its
-- session: the session opened within the bar's width before it.
CREATE FUNCTION stockext.opens_session(calendar text, ts timestamptz, resolution interval)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN EXISTS (SELECT FROM stockext.sessions(calendar, ts, ts + resolution) s
               WHERE s.open <= ts AND s.open > ts - resolution);
COMMENT ON FUNCTION stockext.opens_session(text, timestamptz, interval) IS
'whether a bar of the resolution starting at ts is the first bar of a session of the calendar (for volume_spike''s skip_open)';
