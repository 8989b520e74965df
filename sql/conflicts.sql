-- Cross-provider conflicts: through the ingest path (here the simulated
-- market's, source 'simulated') a provider's bar does not overwrite another
-- provider's bar of the same key; one that differs beyond
-- stockext.conflict_tolerance is recorded in stockext.conflicts.  The
-- other provider's bars are written with plain SQL, which the rules do not
-- cover.
SET timezone = 'UTC';
SELECT stockext.create_partitions('2025-06-01', '2025-06-30') >= 0 AS partitions;
SHOW stockext.conflict_tolerance;

CREATE TEMP VIEW conf AS
SELECT to_char(ts, 'HH24:MI') AS ts, source, round(close::numeric, 4) AS close, volume
FROM stockext.ticks WHERE symbol = 'CONF' ORDER BY ts;
CREATE TEMP VIEW conflicts AS
SELECT symbol, to_char(ts, 'HH24:MI') AS ts, resolution, kept_source, round(kept_close::numeric, 4) AS kept_close,
       offered_source, round(offered_close::numeric, 4) AS offered_close, feed_id
FROM stockext.conflicts ORDER BY symbol, ts, offered_source;
-- The simulated bars of CONF from 14:00 (minutes), as the ingest path offers them.
CREATE TEMP TABLE sim AS
SELECT * FROM stockext.simulate_bars('CONF', '2025-06-02 14:00+00', '2025-06-02 14:10+00', '1 minute');

SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-02 14:06+00', '1 minute', 0) AS stored;

-- The same source re-sending a bar (a correction, a bar still forming)
-- updates it, whatever the difference: 14:00 was changed by SQL.
UPDATE stockext.ticks SET close = close * 1.5, high = high * 1.5, volume = volume + 1
WHERE symbol = 'CONF' AND ts = '2025-06-02 14:00+00';
SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-02 14:06+00', '1 minute', 0) AS stored;
SELECT count(*) AS as_simulated FROM stockext.ticks t JOIN sim s USING (ts)
WHERE t.symbol = 'CONF' AND (t.open, t.high, t.low, t.close, t.volume) = (s.open, s.high, s.low, s.close, s.volume);

-- Another provider's bars: 14:01 the same prices, 14:02 every price 0.3%
-- higher (within the default 0.5%), 14:03 10% higher, 14:04 only the
-- volume differs (volumes are never compared), 14:05 the close 0.6% lower.
UPDATE stockext.ticks t SET source = 'yahoo',
       open = s.open * f, high = s.high * f, low = s.low * f, close = s.close * f,
       volume = CASE WHEN t.ts = '2025-06-02 14:04+00' THEN s.volume * 3 ELSE s.volume END
FROM sim s, LATERAL (SELECT CASE to_char(s.ts, 'HH24:MI') WHEN '14:02' THEN 1.003 WHEN '14:03' THEN 1.1 ELSE 1 END AS f) x
WHERE t.symbol = 'CONF' AND t.ts = s.ts AND t.ts BETWEEN '2025-06-02 14:01+00' AND '2025-06-02 14:05+00';
UPDATE stockext.ticks SET close = close * 0.994, low = least(low, close * 0.994)
WHERE symbol = 'CONF' AND ts = '2025-06-02 14:05+00';
SELECT * FROM conf;

-- Offered again by 'simulated' with 14:06 and 14:07 new: the new bars are
-- stored, the provider's bars are kept, 14:03 and 14:05 are conflicts.
SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-02 14:08+00', '1 minute', 0) AS stored;
SELECT * FROM conf;
SELECT * FROM conflicts;
SELECT bool_and(c.kept_open = t.open AND c.kept_high = t.high AND c.kept_low = t.low AND c.kept_volume = t.volume
                AND (c.offered_open, c.offered_high, c.offered_low, c.offered_close, c.offered_volume)
                    = (s.open, s.high, s.low, s.close, s.volume)) AS both_sides_recorded
FROM stockext.conflicts c JOIN stockext.ticks t USING (symbol, ts, resolution) JOIN sim s USING (ts);

-- The same offer again changes nothing: no bar, no conflict row rewritten.
SELECT xmin AS conflict_xmin FROM stockext.conflicts WHERE ts = '2025-06-02 14:03+00' \gset
SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-02 14:08+00', '1 minute', 0) AS stored;
SELECT xmin = :'conflict_xmin' AS same_row, count(*) OVER () AS conflicts
FROM stockext.conflicts WHERE ts = '2025-06-02 14:03+00';

-- The kept bar changes (its provider corrects it): the next offer records
-- the new kept values and the time.
UPDATE stockext.ticks SET close = close * 1.01, high = high * 1.01
WHERE symbol = 'CONF' AND ts = '2025-06-02 14:03+00';
SELECT detected_at AS first_seen FROM stockext.conflicts WHERE ts = '2025-06-02 14:03+00' \gset
SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-02 14:08+00', '1 minute', 0) AS stored;
SELECT ts, kept_close, offered_close FROM conflicts WHERE ts = '14:03';
SELECT detected_at > :'first_seen' AS seen_again FROM stockext.conflicts WHERE ts = '2025-06-02 14:03+00';

-- A wider tolerance: 14:05 now agrees, and an offer that agrees ends its
-- conflict; the bar stays the provider's.
SET stockext.conflict_tolerance = 0.01;
SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-02 14:08+00', '1 minute', 0) AS stored;
SELECT ts, kept_source, offered_source FROM conflicts;
SELECT * FROM conf WHERE ts = '14:05';
-- No tolerance: every price difference is a conflict (14:02's 0.3%), a
-- volume difference alone (14:04) never is.
SET stockext.conflict_tolerance = 0;
SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-02 14:08+00', '1 minute', 0) AS stored;
SELECT ts, kept_source, offered_source FROM conflicts;
RESET stockext.conflict_tolerance;
SET stockext.conflict_tolerance = -0.1;
SET stockext.conflict_tolerance = 1.5;

-- feed_status shows a feed's conflicts: those of its provider, symbols and
-- resolution (a paused feed: the worker never polls it here).
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['CONF'], '1 minute', '1 minute') AS feed \gset
SELECT stockext.pause_feed(:feed);
COMMIT;
SELECT conflicts, last_conflict = (SELECT max(detected_at) FROM stockext.conflicts) AS last_conflict
FROM stockext.feed_status WHERE id = :feed;
-- A feed of another resolution or provider has none.
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['CONF'], '5 minutes', '1 minute') AS feed5 \gset
SELECT stockext.pause_feed(:feed5);
SELECT stockext.add_feed('yahoo', ARRAY['CONF'], '1 minute', '1 minute') AS yh \gset
SELECT stockext.pause_feed(:yh);
COMMIT;
SELECT id = :feed AS the_feed, conflicts, last_conflict IS NOT NULL AS has_last
FROM stockext.feed_status WHERE id IN (:feed, :feed5, :yh) ORDER BY id;

-- The preferred source of a symbol overwrites another's bars, and its
-- conflicts end.
INSERT INTO stockext.preferred_sources VALUES ('CONF', 'simulated');
SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-02 14:08+00', '1 minute', 0) AS stored;
SELECT * FROM conf;
SELECT count(*) AS conflicts FROM stockext.conflicts;
-- A bar of the preferred source is not overwritten by another: here the
-- preferred source is yahoo, and 14:03 is simulated's again.
UPDATE stockext.preferred_sources SET source = 'yahoo' WHERE symbol = 'CONF';
UPDATE stockext.ticks SET source = 'yahoo', close = close * 1.1, high = high * 1.1
WHERE symbol = 'CONF' AND ts = '2025-06-02 14:03+00';
SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-02 14:08+00', '1 minute', 0) AS stored;
SELECT * FROM conf WHERE ts = '14:03';
SELECT * FROM conflicts;
-- Another symbol's preference does not apply.
UPDATE stockext.preferred_sources SET symbol = 'OTHER' WHERE symbol = 'CONF';
SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-02 14:08+00', '1 minute', 0) AS stored;
SELECT count(*) AS conflicts FROM stockext.conflicts;

-- A preference names a valid upper-case symbol and a known provider.
INSERT INTO stockext.preferred_sources VALUES ('conf', 'yahoo');
INSERT INTO stockext.preferred_sources VALUES ('BAD SYMBOL', 'yahoo');
INSERT INTO stockext.preferred_sources VALUES ('CONF', 'bloomberg');
INSERT INTO stockext.preferred_sources VALUES ('OTHER', 'twelvedata');

-- A batch large enough for the COPY road (1,000 bars or more): the new
-- bars are copied, the stored ones decided as above.
UPDATE stockext.ticks SET source = 'twelvedata', open = open * 2, high = high * 2, low = low * 2, close = close * 2
WHERE symbol = 'CONF' AND ts IN ('2025-06-02 14:01+00', '2025-06-02 14:02+00');
SELECT stockext.ingest_simulated('CONF', '2025-06-02 14:00+00', '2025-06-03 14:00+00', '1 minute', 0) AS stored;
SELECT count(*) AS bars, count(*) FILTER (WHERE source = 'twelvedata') AS twelvedata
FROM stockext.ticks WHERE symbol = 'CONF';
SELECT ts, kept_source, offered_source, feed_id IS NULL AS no_feed FROM conflicts WHERE kept_source = 'twelvedata';

-- Writes by SQL are not subject to the rules: upsert_bar overwrites.
SELECT stockext.upsert_bar('CONF', '2025-06-02 14:01+00', '1 minute', 10, 11, 9, 10.5, 5, 'manual');
SELECT * FROM conf WHERE ts = '14:01';

-- A bar still forming is compared on its open alone: its high, low and
-- close move until it closes, and each provider saw it at another moment.
-- Today's daily bar, made another provider's with a close 10% higher.
SELECT stockext.ingest_simulated('FORMING', date_trunc('day', now()), now() + interval '1 day', '1 day', 0) AS stored;
UPDATE stockext.ticks SET source = 'yahoo', high = high * 1.1, close = close * 1.1 WHERE symbol = 'FORMING';
SELECT stockext.ingest_simulated('FORMING', date_trunc('day', now()), now() + interval '1 day', '1 day', 0) AS stored;
SELECT count(*) AS conflicts FROM stockext.conflicts WHERE symbol = 'FORMING';
-- Its open 10% higher too: a conflict.
UPDATE stockext.ticks SET open = open * 1.1 WHERE symbol = 'FORMING';
SELECT stockext.ingest_simulated('FORMING', date_trunc('day', now()), now() + interval '1 day', '1 day', 0) AS stored;
SELECT symbol, resolution, kept_source, offered_source FROM stockext.conflicts WHERE symbol = 'FORMING';

-- pg_dump keeps both tables.
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) r JOIN pg_class c ON c.oid = r
WHERE e.extname = 'stockext' AND c.relname IN ('conflicts', 'preferred_sources') ORDER BY 1;
-- Neither is readable by PUBLIC.
SELECT has_table_privilege('public', 'stockext.conflicts', 'SELECT') AS conflicts_public,
       has_table_privilege('public', 'stockext.preferred_sources', 'SELECT') AS preferred_public;

SELECT stockext.remove_feed(id) FROM stockext.feeds;
DELETE FROM stockext.conflicts;
DELETE FROM stockext.preferred_sources;
DELETE FROM stockext.ticks WHERE symbol IN ('CONF', 'FORMING');
