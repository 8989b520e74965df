-- Bars on their resolution's grid, symbols in upper case, one feed per
-- provider, resolution and symbol, and the shortest poll interval.
SET client_min_messages = warning;
SET timezone = 'UTC';
\set VERBOSITY default
\set SHOW_CONTEXT never

-- What a statement raises: SQLSTATE, message, detail and hint, with the
-- ids of the feeds in pg_temp.named by their names (ids depend on the
-- tests that ran before); 'ok' when it succeeds.
CREATE TEMP TABLE named (id integer, name text);
CREATE FUNCTION pg_temp.outcome(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
    hint   text;
    result text;
    n      record;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    result := concat_ws(E'\n', SQLSTATE || ': ' || SQLERRM, nullif('DETAIL: ' || detail, 'DETAIL: '),
                        nullif('HINT: ' || hint, 'HINT: '));
    FOR n IN SELECT * FROM pg_temp.named LOOP
        result := regexp_replace(result, '([Ff]eed) ' || n.id || '\M', '\1 ' || n.name, 'g');
    END LOOP;
    RETURN result;
END $$;

-- 1. The grid: whole multiples of gcd(resolution, 15 minutes) since
-- 1970-01-01 00:00 UTC.  The bar of the report, 23:33:02.77 in a minute
-- series, is refused by upsert_bar with the rule, and by the table itself.
SELECT stockext.upsert_bar('AAPL', '2026-11-20 23:33:02.77+00', '1 minute', 190, 191, 189, 190, 1, 'test');
SELECT pg_temp.outcome($$SELECT stockext.upsert_bar('AAPL', '2026-11-20 23:33:02.77+00', '1 minute', 190, 191, 189, 190, 1, 'test')$$);
SELECT split_part(pg_temp.outcome($$INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
                                    VALUES ('AAPL', '2026-11-20 23:33:02.77+00', '1 minute', 190, 191, 189, 190, 1, 'test')$$),
                  E'\n', 1) AS plain_insert;
SELECT count(*) AS stored FROM stockext.ticks WHERE symbol = 'AAPL';

-- Where each resolution's bars may start.  Hourly and longer bars need only
-- whole quarter hours: US equities' hourly bars start at :30 (09:30 New
-- York), Indian ones at 09:15 IST (03:45 UTC), and a daily bar is midnight
-- in its exchange's zone, 04:00 UTC for New York in summer, 18:15 UTC the
-- day before for Kathmandu (+05:45).
SELECT x.r AS resolution, to_char(x.t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS ts,
       coalesce(stockext.ts_problem(x.t, x.r), 'on the grid') AS problem
FROM (VALUES ('1 minute', '2026-11-20 14:31+00'),
             ('1 minute', '2026-11-20 14:31:30+00'),
             ('1 minute', '2026-11-20 14:31:00.000001+00'),
             ('5 minutes', '2026-11-20 14:35+00'),
             ('5 minutes', '2026-11-20 14:36+00'),
             ('2 minutes', '2026-11-20 03:45+00'),
             ('2 minutes', '2026-11-20 03:45:30+00'),
             ('7 seconds', '2026-11-20 14:35:01+00'),
             ('1.5 seconds', '2026-11-20 14:35:01.5+00'),
             ('1.5 seconds', '2026-11-20 14:35:01+00'),
             ('1 hour', '2026-11-20 14:30+00'),
             ('1 hour', '2026-11-20 03:45+00'),
             ('1 hour', '2026-11-20 14:40+00'),
             ('90 minutes', '2026-11-20 14:30+00'),
             ('4 hours', '2026-11-20 14:30:01+00'),
             ('1 day', '2025-06-10 00:00 America/New_York'),
             ('1 day', '2025-12-10 00:00 America/New_York'),
             ('1 day', '2025-06-10 00:00 Asia/Kathmandu'),
             ('1 day', '2025-06-10 00:00 Asia/Kolkata'),
             ('1 day', '2025-06-10 00:00 Pacific/Chatham'),
             ('1 day', '2025-06-10 00:00+00'),
             ('1 day', '2025-06-10 23:33+00'),
             ('7 days', '2025-06-09 00:00 Europe/London'),
             ('7 days', '2025-06-09 00:05 Europe/London'),
             ('1 mon', '2025-06-01 00:00 Asia/Tokyo'),
             ('1 day 7 seconds', '2025-06-10 00:00+00'),
             ('1 day 7 seconds', '2025-06-10 00:00:01+00')) v(r, t),
     LATERAL (SELECT v.r::interval AS r, v.t::timestamptz AS t) x
ORDER BY x.r, x.t;
-- Infinite instants are on no grid; a resolution that is not positive has
-- none (ticks_resolution_positive refuses it).
SELECT stockext.ts_problem('infinity', '1 minute'), stockext.ts_problem('-infinity', '1 day'),
       stockext.ts_problem('2026-11-20 14:31:30+00', '0 seconds') IS NULL AS no_grid,
       stockext.ts_problem('2026-11-20 14:31:30+00', '-1 minute') IS NULL AS no_grid_either;
-- The grid is a property of the instant, whatever the session's zone.
SET timezone = 'Asia/Kathmandu';
SELECT stockext.ts_problem('2026-11-20 14:30+00', '1 hour') IS NULL AS quarter_hour_ok,
       stockext.ts_problem('2026-11-20 00:00', '1 day') IS NULL AS local_midnight_ok,
       stockext.ts_problem('2026-11-20 00:20', '1 day') IS NOT NULL AS twenty_past_refused;
SET timezone = 'UTC';

-- Every simulated bar is on its grid.
SELECT r AS resolution, count(*) AS bars,
       count(*) FILTER (WHERE stockext.ts_problem(b.ts, r) IS NOT NULL) AS off_grid
FROM unnest(ARRAY['1 second', '7 seconds', '1 minute', '2 minutes', '1 hour', '1 day', '7 days']::interval[]) r,
     stockext.simulate_bars('NVDA', '2026-11-20 13:59:59.5+00', '2026-11-20 13:59:59.5+00'::timestamptz + 30 * r, r) b
GROUP BY r ORDER BY r;

-- ts_problem and the CHECK constraint agree along the grid's edges: a bar
-- is stored exactly when ts_problem has no reason.
CREATE TEMP TABLE edge AS
SELECT r, t
FROM unnest(ARRAY['1 minute', '2 minutes', '1 hour', '1 day']::interval[]) r,
     generate_series(timestamptz '2026-11-20 14:00+00', '2026-11-20 14:31+00', interval '30 seconds') t;
CREATE FUNCTION pg_temp.insert_ok(t timestamptz, r interval) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
    VALUES ('EDGE', t, r, 10, 11, 9, 10, 1, 'test');
    RAISE EXCEPTION USING ERRCODE = 'P0001';     -- undo the insert
EXCEPTION
    WHEN check_violation THEN RETURN false;
    WHEN raise_exception THEN RETURN true;
END $$;
SELECT count(*) AS cases, count(*) FILTER (WHERE stockext.ts_problem(t, r) IS NULL) AS on_grid,
       count(*) FILTER (WHERE (stockext.ts_problem(t, r) IS NULL) <> pg_temp.insert_ok(t, r)) AS disagreements
FROM edge;

-- 2. Symbols are upper case.  Every way in stores AAPL for aapl, so the
-- two spellings are one series.
SELECT stockext.upsert_bar('aapl', '2026-11-20 14:30+00', '1 minute', 190, 191, 189, 190.5, 100, 'test');
SELECT stockext.upsert_bar('AAPL', '2026-11-20 14:30+00', '1 minute', 190, 191, 189, 190.5, 100, 'test');
SELECT stockext.upsert_bar('Aapl', '2026-11-20 14:31+00', '1 minute', 190.5, 192, 190, 191, 200, 'test');
SELECT symbol, ts, close, volume FROM stockext.ticks WHERE upper(symbol) = 'AAPL' ORDER BY ts;
-- The rules of symbol_problem are unchanged: lower case is a valid symbol.
SELECT stockext.symbol_problem('brk.b') AS lower_case_ok;
-- A plain INSERT stores the symbol it is given: the functions normalize,
-- the table does not (README, "Bars").
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
VALUES ('ibm', '2026-11-20 14:30+00', '1 minute', 10, 11, 9, 10, 1, 'test');
DELETE FROM stockext.ticks WHERE symbol = 'ibm' RETURNING symbol;

-- The simulated walk is seeded by the upper-case symbol.
SELECT count(*) AS bars, count(*) FILTER (WHERE a IS DISTINCT FROM b) AS differences
FROM stockext.simulate_bars('aapl', '2026-11-20 14:00+00', '2026-11-20 15:00+00') a
FULL JOIN stockext.simulate_bars('AAPL', '2026-11-20 14:00+00', '2026-11-20 15:00+00') b USING (ts);
SELECT stockext.ingest_simulated('msft', '2026-11-20 14:00+00', '2026-11-20 14:05+00', '1 minute', 0) AS stored;
SELECT DISTINCT symbol FROM stockext.ticks WHERE upper(symbol) = 'MSFT';

-- Feeds, backfill, alert rules and bars() take any case.
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['nvda', 'Tsla'], '1 minute', '1 minute') AS sim \gset
SELECT stockext.pause_feed(:sim);
COMMIT;
INSERT INTO named VALUES (:sim, 'sim');
SELECT symbols FROM stockext.feeds WHERE id = :sim;
SELECT stockext.change_feed(:sim, symbols => ARRAY['nvda', 'amzn'], seed => 7);
SELECT symbols FROM stockext.feeds WHERE id = :sim;
SELECT stockext.add_feed('simulated', ARRAY['nvda', 'NVDA'], '5 minutes', '1 minute');
SELECT stockext.backfill('simulated', 'amzn', '2026-11-20 14:00+00', '2026-11-20 14:10+00', '1 minute') AS backfilled;
SELECT count(*) AS amzn_bars, count(*) FILTER (WHERE t.close = s.close) AS from_the_feeds_seed
FROM stockext.ticks t
JOIN stockext.simulate_bars('AMZN', '2026-11-20 14:00+00', '2026-11-20 14:10+00', '1 minute', 7) s USING (ts)
WHERE t.symbol = 'AMZN';
SELECT stockext.add_alert('pct_change', 'msft', threshold => 5) AS rule \gset
SELECT symbol FROM stockext.alert_rules WHERE id = :rule;
SELECT stockext.add_alert('pct_change', 'amzn', feed => :sim, threshold => 5) AS feed_rule \gset
SELECT symbol, feed_id = :sim AS on_the_feed FROM stockext.alert_rules WHERE id = :feed_rule;
SELECT count(*) AS buckets, sum(n) AS bars FROM stockext.bars('msft', '5 minutes', '2026-11-20 14:00+00', '2026-11-20 14:05+00');

-- 3. One feed per provider, resolution and symbol: a second one would
-- spend requests on the same bars.  Paused feeds count (resume_feed would
-- poll both), other resolutions and providers do not.
SELECT pg_temp.outcome($$SELECT stockext.add_feed('simulated', ARRAY['IBM', 'NVDA'], '1 minute', '1 minute')$$);
SELECT pg_temp.outcome($$SELECT stockext.add_feed('simulated', ARRAY['ibm', 'amzn'], '1 minute', '1 minute')$$);
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['NVDA'], '5 minutes', '1 minute') AS sim5 \gset
SELECT stockext.pause_feed(:sim5);
SELECT stockext.add_feed('yahoo', ARRAY['NVDA'], '1 minute', '1 minute') AS yh \gset
SELECT stockext.pause_feed(:yh);
COMMIT;
INSERT INTO named VALUES (:sim5, 'sim5'), (:yh, 'yh');
-- change_feed checks the same, leaving the feed itself out.
SELECT pg_temp.outcome(format('SELECT stockext.change_feed(%s, resolution => %L)', :sim5, '1 minute'));
SELECT stockext.change_feed(:yh, symbols => ARRAY['nvda', 'tsla']);
SELECT stockext.change_feed(:sim, symbols => ARRAY['NVDA', 'AMZN', 'TSLA'], poll_every => '2 minutes');
SELECT symbols, poll_every FROM stockext.feeds WHERE id = :sim;
SELECT stockext.change_feed(:sim5, symbols => ARRAY['amzn']);

-- The shortest poll interval is 1 second.
SELECT pg_temp.outcome($$SELECT stockext.add_feed('simulated', ARRAY['IBM'], '1 minute', '1 millisecond')$$);
SELECT pg_temp.outcome($$SELECT stockext.add_feed('simulated', ARRAY['IBM'], '1 minute', '999 milliseconds')$$);
SELECT pg_temp.outcome(format('SELECT stockext.change_feed(%s, poll_every => %L)', :yh, '0.5 seconds'));
SELECT stockext.change_feed(:yh, poll_every => '1 second');
SELECT poll_every FROM stockext.feeds WHERE id = :yh;
SELECT count(*) AS feeds FROM stockext.feeds;

-- Leave the shared regression database as it was.
SELECT stockext.remove_alert(id) FROM stockext.alert_rules ORDER BY id;
DELETE FROM stockext.alerts;
SELECT stockext.remove_feed(id) FROM stockext.feeds ORDER BY id;
DELETE FROM stockext.ticks WHERE symbol IN ('AAPL', 'MSFT', 'AMZN');
DELETE FROM stockext.rollup_invalidations WHERE symbol IN ('AAPL', 'MSFT', 'AMZN', 'ibm');
DELETE FROM stockext.alert_queue;
SELECT (SELECT count(*) FROM stockext.ticks) AS bars, (SELECT count(*) FROM stockext.feeds) AS feeds,
       (SELECT count(*) FROM stockext.alert_rules) AS rules, (SELECT count(*) FROM stockext.rollup_invalidations) AS invalidations;
