-- The simulated feed: deterministic, plausible bars, and backfill through
-- the worker's write path.
SET client_min_messages = notice;
SET timezone = 'UTC';

-- The same seed, symbol and times give the same bars; another seed does not.
SELECT count(*) AS bars,
       bool_and(a IS NOT DISTINCT FROM b) AS same_twice
FROM stockext.simulate_bars('AAPL', '2026-11-20 14:00+00', '2026-11-20 16:00+00') a
FULL JOIN stockext.simulate_bars('AAPL', '2026-11-20 14:00+00', '2026-11-20 16:00+00') b USING (ts);
SELECT bool_and(a.close <> b.close) AS other_seed_differs
FROM stockext.simulate_bars('AAPL', '2026-11-20 14:00+00', '2026-11-20 16:00+00', '1 minute', 0) a
JOIN stockext.simulate_bars('AAPL', '2026-11-20 14:00+00', '2026-11-20 16:00+00', '1 minute', 1) b USING (ts);

-- A bar does not depend on the range it was asked with.
SELECT a.* IS NOT DISTINCT FROM b.* AS range_independent
FROM stockext.simulate_bars('TSLA', '2026-11-20 15:00+00', '2026-11-20 15:01+00') a,
     stockext.simulate_bars('TSLA', '2026-01-01 00:00+00', '2026-11-21 00:00+00', '1 minute') b
WHERE b.ts = a.ts;

-- Bars start on multiples of the resolution inside [start, stop); each
-- opens at the previous close; every bar is a valid bar.
SELECT min(ts), max(ts), count(*)
FROM stockext.simulate_bars('MSFT', '2026-11-20 14:00:30+00', '2026-11-20 15:00+00', '5 minutes');
SELECT count(*) AS bars,
       count(*) FILTER (WHERE stockext.bar_problem(open, high, low, close, volume) IS NOT NULL) AS invalid,
       count(*) FILTER (WHERE open <> prev_close) AS gaps
FROM (SELECT *, lag(close) OVER (ORDER BY ts) AS prev_close
      FROM stockext.simulate_bars('NVDA', '2026-11-01', '2026-11-08', '1 minute')) b;

-- Plausible prices: over a year of daily bars each known symbol stays
-- within half and twice its usual level, and moves every day.
SELECT symbol, min(low) > usual * 0.5 AND max(high) < usual * 2 AS plausible,
       count(*) FILTER (WHERE close = open OR high = low) AS still_days
FROM (VALUES ('AAPL', 190), ('TSLA', 240), ('GOOGL', 165), ('MSFT', 415), ('NVDA', 120)) u(symbol, usual),
     stockext.simulate_bars(symbol, '2026-01-01', '2027-01-01', '1 day')
GROUP BY symbol, usual ORDER BY symbol;

-- Volume bursts: a day of minute bars has bars at several times the median.
SELECT count(*) FILTER (WHERE volume > 3 * med) BETWEEN 5 AND 100 AS some_bursts
FROM stockext.simulate_bars('AAPL', '2026-11-20', '2026-11-21'),
     (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY volume) AS med
      FROM stockext.simulate_bars('AAPL', '2026-11-20', '2026-11-21')) m;

-- Unknown symbols get a price of their own, reproducibly.
SELECT count(*), min(low) > 5 AND max(high) < 1000 AS plausible
FROM stockext.simulate_bars('BRK.B', '2026-11-20', '2026-11-21', '1 hour', 42);

-- Refused arguments.
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT * FROM stockext.simulate_bars('AAPL', '2026-11-20', '2026-11-21', '1 month');
SELECT * FROM stockext.simulate_bars('AAPL', '2026-11-20', '2026-11-21', '1.5 seconds');
SELECT * FROM stockext.simulate_bars('AAPL', '2026-11-20', '2026-11-21', '8 days');
SELECT * FROM stockext.simulate_bars('AA PL', '2026-11-20', '2026-11-21');
SELECT * FROM stockext.simulate_bars('AAPL', '-infinity', '2026-11-21');
\set VERBOSITY terse
SELECT count(*) AS empty FROM stockext.simulate_bars('AAPL', '2026-11-21', '2026-11-20');

-- Backfill stores exactly the generated bars, in chunks with a NOTICE each,
-- creating the month partitions they need.
SELECT stockext.backfill('simulated', 'GOOGL', '1999-12-31 20:00+00', '2000-01-11 04:00+00', '1 minute');
SELECT count(*) AS stored,
       count(*) FILTER (WHERE (t.open, t.high, t.low, t.close, t.volume)
                              IS DISTINCT FROM (s.open, s.high, s.low, s.close, s.volume)) AS differ
FROM stockext.ticks t
JOIN stockext.simulate_bars('GOOGL', '1999-12-31 20:00+00', '2000-01-11 04:00+00') s USING (ts)
WHERE t.symbol = 'GOOGL' AND t.resolution = '1 minute' AND t.source = 'simulated';
-- Backfill creates them without waiting (a writer holding locks on ticks
-- must not): while another transaction reads ticks, a month's bars land in
-- the default partition until create_partitions() moves them, as here.
SELECT stockext.create_partitions('1999-12-01', '2000-01-31') IS NOT NULL AS months_made;
SELECT tableoid::regclass AS partition, count(*) FROM stockext.ticks
WHERE symbol = 'GOOGL' GROUP BY 1 ORDER BY 1;
-- Re-running changes nothing.
SELECT max(xmin::text::bigint) AS before FROM stockext.ticks WHERE symbol = 'GOOGL' \gset
SELECT stockext.backfill('simulated', 'GOOGL', '2000-01-01', '2000-01-02', '1 minute') AS rerun;
SELECT max(xmin::text::bigint) = :before AS untouched FROM stockext.ticks WHERE symbol = 'GOOGL';

-- Backfill follows the seed of the symbol's simulated feed.
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['AMZN'], '1 hour', '1 hour') AS amzn_feed \gset
SELECT stockext.pause_feed(:amzn_feed);
COMMIT;
SELECT stockext.change_feed(:amzn_feed, seed => 7);
SELECT stockext.backfill('simulated', 'AMZN', '2000-01-01', '2000-01-02', '1 hour');
SELECT count(*) FILTER (WHERE t.close = s.close) AS seed_7_bars
FROM stockext.ticks t
JOIN stockext.simulate_bars('AMZN', '2000-01-01', '2000-01-02', '1 hour', 7) s USING (ts)
WHERE t.symbol = 'AMZN' AND t.resolution = '1 hour';
SELECT stockext.remove_feed(:amzn_feed);

-- Up to now only: the bar forming now is stored as it stands, later ones not.
SET client_min_messages = warning;
SELECT stockext.backfill('simulated', 'META', now() - interval '10 minutes', now() + interval '1 day', '1 minute') BETWEEN 10 AND 11 AS up_to_now;
SELECT max(ts) <= now() AS nothing_in_the_future FROM stockext.ticks WHERE symbol = 'META';

-- Refused backfills.
SET client_min_messages = notice;
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT stockext.backfill('bloomberg', 'AAPL', '2000-01-01', '2000-01-02', '1 minute');
SELECT stockext.backfill('simulated', 'AAPL', '2000-01-02', '2000-01-01', '1 minute');
SELECT stockext.backfill('simulated', 'AAPL', '2000-01-01', '2000-01-02', '1 month');
SELECT stockext.backfill('twelvedata', 'AAPL', '2000-01-01', '2000-01-02', '3 minutes');

DELETE FROM stockext.ticks WHERE source = 'simulated';
