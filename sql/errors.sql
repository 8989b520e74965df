-- Clear errors for bad arguments: each names the argument and what is
-- allowed, with a fitting SQLSTATE, where a raw error or a silently empty
-- result came before.
SET client_min_messages = warning;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- A width or a name that is taken (was: a unique violation).
\set VERBOSITY sqlstate
SELECT stockext.add_rollup('bars_30m', '30 minutes');
\set VERBOSITY default
SELECT stockext.add_rollup('bars_30m', '30 minutes');
SELECT stockext.add_rollup('half_hours', '30 minutes');
SELECT stockext.add_rollup('ticks', '2 hours');
SELECT stockext.add_rollup('bars_1h', '2 hours');
SELECT count(*) AS widths FROM stockext.rollup_widths;

-- evaluate_alerts: a negative batch (was: "LIMIT must not be negative").
\set VERBOSITY sqlstate
SELECT stockext.evaluate_alerts(-1);
\set VERBOSITY default
SELECT stockext.evaluate_alerts(-1);
SELECT fired FROM stockext.evaluate_alerts(0);

-- A NULL feed or rule (was: "feed NULL does not exist").
\set VERBOSITY sqlstate
SELECT stockext.pause_feed(NULL);
\set VERBOSITY default
SELECT stockext.pause_feed(NULL);
SELECT stockext.resume_feed(NULL);
SELECT stockext.remove_feed(NULL);
SELECT stockext.set_api_key(NULL, 'k');
SELECT stockext.change_feed(NULL, poll_every => '1 minute');
SELECT stockext.pause_alert(NULL);
SELECT stockext.pause_feed(-1);

-- backfill: a NULL symbol (was: "symbols must not contain NULL").
\set VERBOSITY sqlstate
SELECT stockext.backfill('simulated', NULL, '2000-01-01', '2000-01-02', '1 minute');
\set VERBOSITY default
SELECT stockext.backfill('simulated', NULL, '2000-01-01', '2000-01-02', '1 minute');

-- bars() of a symbol without any bar (was: a NULL row per bucket) ...
\set VERBOSITY sqlstate
SELECT * FROM stockext.bars('ZZZZ', '1 hour', '2025-01-01', '2025-01-02', 'null');
\set VERBOSITY default
SELECT * FROM stockext.bars('ZZZZ', '1 hour', '2025-01-01', '2025-01-02');
-- ... while a known symbol's range without bars is empty, or NULL rows.
BEGIN;
SELECT stockext.upsert_bar('ERRS', '2025-01-05 10:00Z', '1 minute', 10, 11, 9, 10.5, 100, 'test');
SELECT count(*) AS rows FROM stockext.bars('ERRS', '1 hour', '2025-01-01', '2025-01-02');
SELECT count(*) AS rows FROM stockext.bars('ERRS', '1 hour', '2025-01-01', '2025-01-02', 'null');
SELECT count(*) AS rows FROM stockext.bars('ERRS', '1 day', '2025-01-01', '2025-01-08', 'null');
ROLLBACK;

-- simulate_bars: a NULL argument (was: no rows, as if the market were quiet).
\set VERBOSITY sqlstate
SELECT * FROM stockext.simulate_bars(NULL, '2000-01-01', '2000-01-02');
\set VERBOSITY default
SELECT * FROM stockext.simulate_bars(NULL, '2000-01-01', '2000-01-02');
SELECT * FROM stockext.simulate_bars('AAPL', NULL, '2000-01-02');
SELECT * FROM stockext.simulate_bars('AAPL', '2000-01-01', NULL);
SELECT * FROM stockext.simulate_bars('AAPL', '2000-01-01', '2000-01-02', NULL);
SELECT * FROM stockext.simulate_bars('AAPL', '2000-01-01', '2000-01-02', '1 hour', NULL);
SELECT count(*) AS bars FROM stockext.simulate_bars('AAPL', '2000-01-01', '2000-01-02', '1 hour');
SELECT proisstrict FROM pg_proc WHERE oid = 'stockext.simulate_bars'::regproc;
