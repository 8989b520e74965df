------------------------------------------------------------------------------
-- Rollups
------------------------------------------------------------------------------

-- Calendar widths: 1 month, 3 months (a quarter) and 1 year, which date_bin
-- cannot bin (months differ in length); NULL for any other width.
CREATE FUNCTION stockext.calendar_unit(width interval)
RETURNS text
AS 'MODULE_PATHNAME', 'stockext_calendar_unit'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.calendar_unit(interval) IS
'the date_trunc field of a calendar width: month (1 month), quarter (3 months), year (1 year); NULL for other widths';

-- The bucket of an instant: date_bin in the width's local time zone, so a
-- session-aligned bucket (origin 09:30, America/New_York) starts at 09:30
-- local on both sides of a DST change; a 1-day bucket in a DST zone lasts
-- 23 or 25 hours on the change days.  In UTC it is plain date_bin on
-- instants (the same result, without two time zone conversions per bar).
-- A calendar width is date_trunc in the time zone (the origin unused): a
-- month of America/New_York starts at its first midnight there.  In C
-- (src/bucket.c): a SQL body is inlined into each caller, and the planner
-- copied it into the scan of every monthly partition of ticks.  IMMUTABLE,
-- as date_bin's conversions with AT TIME ZONE are (time zone rules are
-- taken as fixed; PostgreSQL's date_trunc in a time zone is STABLE).
CREATE FUNCTION stockext.rollup_bucket(ts timestamptz, width interval,
                                       origin timestamp, time_zone text)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'stockext_rollup_bucket'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.rollup_bucket(timestamptz, interval, timestamp, text) IS
'start of the bucket of the given width holding ts: date_bin(width, ts in time_zone, origin) converted back to an instant; for a calendar width (1 month, 3 months, 1 year) date_trunc(field, ts, time_zone)';

-- One row per rolled-up width.  Each width reads exactly one resolution of
-- stockext.ticks (source_resolution, finer than the width), so daily and
-- minute bars never mix in a bucket.
CREATE TABLE stockext.rollup_widths (
    width             interval  PRIMARY KEY,
    name              name      NOT NULL UNIQUE,
    origin            timestamp NOT NULL DEFAULT '2000-01-03 00:00',
    time_zone         text      NOT NULL DEFAULT 'UTC',
    source_resolution interval  NOT NULL DEFAULT '1 minute',
    -- how far the bars of a bucket may lie outside [bucket, bucket + width)
    -- in absolute time: 0 in UTC, the largest DST shift in other zones.
    slack             interval  NOT NULL GENERATED ALWAYS AS
        (CASE WHEN time_zone = 'UTC' THEN interval '0' ELSE interval '3 hours' END) STORED,
    -- the width as an absolute duration (date_bin counts a day as 24 hours).
    span              interval  NOT NULL GENERATED ALWAYS AS
        (make_interval(secs => extract(epoch FROM width))) STORED,
    CONSTRAINT rollup_widths_width_valid
        CHECK (width > interval '0' AND ((date_part('month', width) = 0 AND date_part('year', width) = 0)
                                         OR stockext.calendar_unit(width) IS NOT NULL)),
    CONSTRAINT rollup_widths_source_finer CHECK (source_resolution > interval '0' AND source_resolution < width),
    -- the metrics kept beyond OHLCV: volatility adds the returns state,
    -- the others are read from the candle that every width keeps
    metrics           text[]    NOT NULL DEFAULT '{}',
    CONSTRAINT rollup_widths_metrics_known
        CHECK (metrics <@ ARRAY['volatility', 'vwap', 'bar_count', 'high_low_times'])
);
COMMENT ON TABLE stockext.rollup_widths IS
'the rolled-up widths: table name, bucket alignment (origin as local wall-clock time in time_zone) and the one ticks resolution each reads';
REVOKE ALL ON stockext.rollup_widths FROM PUBLIC;
GRANT SELECT ON stockext.rollup_widths TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.rollup_widths', '');

-- The rollups, partitioned by width: stockext.bars_30m is the 30-minute
-- partition.  The key leads with (symbol, bucket) so each partition serves
-- per-symbol time ranges.
CREATE TABLE stockext.rollups (
    symbol    text             NOT NULL,
    bucket    timestamptz      NOT NULL,
    open      double precision NOT NULL,
    high      double precision NOT NULL,
    low       double precision NOT NULL,
    close     double precision NOT NULL,
    volume    bigint,
    vwap      double precision,
    avg_close double precision NOT NULL,
    n         integer          NOT NULL,
    width     interval         NOT NULL,
    CONSTRAINT rollups_pkey PRIMARY KEY (symbol, bucket, width),
    candle        stockext.candle,
    returns       stockext.returns_state,
    close_moments stockext.moments_state
) PARTITION BY LIST (width);
COMMENT ON TABLE stockext.rollups IS
'OHLCV bars rolled up per symbol and bucket, one partition per width (stockext.bars_30m, stockext.bars_1h, ...); kept current by stockext.refresh_rollups()';
COMMENT ON COLUMN stockext.rollups.bucket IS 'bucket start: stockext.rollup_bucket(ts, width, origin, time_zone) of its bars';
COMMENT ON COLUMN stockext.rollups.open IS 'open of the earliest bar of the bucket';
COMMENT ON COLUMN stockext.rollups.close IS 'close of the latest bar of the bucket';
COMMENT ON COLUMN stockext.rollups.volume IS 'total volume; NULL when no bar of the bucket has a volume';
COMMENT ON COLUMN stockext.rollups.vwap IS 'volume-weighted average of the typical price (high + low + close) / 3, as stockext.candle(); NULL when the volume is 0 or NULL';
COMMENT ON COLUMN stockext.rollups.avg_close IS 'average close of the bars';
COMMENT ON COLUMN stockext.rollups.n IS 'number of bars aggregated';
COMMENT ON COLUMN stockext.rollups.candle IS 'the bucket''s stockext.candle (exact vwap, count and high_time()/low_time()), rolled up with rollup(candle); a refresh merges new bars into it';
COMMENT ON COLUMN stockext.rollups.returns IS 'with the metric volatility: the log_returns summary of the closes, read with volatility(returns), rolled up with rollup(returns ORDER BY bucket)';
COMMENT ON COLUMN stockext.rollups.close_moments IS 'the moments of the closes (avg_close = sma_final(close_moments)); a refresh merges new bars into them';
REVOKE ALL ON stockext.rollups FROM PUBLIC;

-- Buckets whose bars changed since they were last rolled up, one row per
-- (symbol, width, bucket) and statement that touched them (deduplicated at
-- refresh).  No index: writers only append, and a refresh claims it all.
-- since: the earliest ts an INSERT added to the bucket, NULL for an UPDATE
-- or DELETE, which no state can take back; bars: how many bars the INSERT
-- added (so with 1, since is the bar).  A refresh merges into a bucket's
-- stored states the bars appended after its last bar and the single bars
-- written earlier (see rollup_merged_sql).
CREATE TABLE stockext.rollup_invalidations (
    symbol text        NOT NULL,
    width  interval    NOT NULL,
    bucket timestamptz NOT NULL,
    since  timestamptz,
    bars   integer
);
COMMENT ON TABLE stockext.rollup_invalidations IS
'(symbol, width, bucket) keys whose bars were inserted, changed or deleted since the last refresh; claimed by stockext.refresh_rollups()';
COMMENT ON COLUMN stockext.rollup_invalidations.since IS
'the earliest ts the statement inserted into the bucket; NULL when it updated or deleted bars';
COMMENT ON COLUMN stockext.rollup_invalidations.bars IS
'how many bars the statement inserted into the bucket; NULL when it updated or deleted bars';
REVOKE ALL ON stockext.rollup_invalidations FROM PUBLIC;

-- The bars each width reads, with their bucket.
CREATE VIEW stockext.rollup_source AS
SELECT w.width, t.symbol,
       stockext.rollup_bucket(t.ts, w.width, w.origin, w.time_zone) AS bucket,
       t.ts, t.open, t.high, t.low, t.close, t.volume, w.slack, w.span
FROM stockext.ticks t JOIN stockext.rollup_widths w ON t.resolution = w.source_resolution;
COMMENT ON VIEW stockext.rollup_source IS
'the ticks each rolled-up width reads (its source_resolution), with their bucket';
REVOKE ALL ON stockext.rollup_source FROM PUBLIC;

-- The columns open .. n of a rollup row from the expressions of its candle
-- and its mean close: rollup_select_list() computes both from the bars, a
-- refresh that merges new bars into a stored row continues its states.
-- Left executable by PUBLIC: it only formats text, and bars() runs
-- rollup_select_list(), which calls it, as any reader of the bars.
CREATE FUNCTION stockext.rollup_columns_sql(candle text, avg_close text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
       (%1$s).open AS open, (%1$s).high AS high, (%1$s).low AS low, (%1$s).close AS close,
       (%1$s).volume::bigint AS volume, (%1$s).vwap AS vwap, %2$s AS avg_close,
       (%1$s).count::integer AS n
$sql$, candle, avg_close);
COMMENT ON FUNCTION stockext.rollup_columns_sql(text, text) IS
'internal: the select list of a rollup row''s columns open .. n from the expressions of its candle and its mean close';

-- The select list that turns bars s (grouped by width, symbol and bucket)
-- into rollup rows, in stockext.rollups column order: shared by the
-- refresh, the rebuild, the live view and stockext.bars().  The identical
-- candle() calls share one transition state; the mean close is the one
-- column a candle lacks, taken from the moments of the closes, whose
-- compensated sums (unlike avg's) do not depend on the order the bars are
-- read in, so a refresh, a rebuild and the live view agree to the last
-- bit.  The moments keep the first close they add as the offset of their
-- sums: added in ts order, that is the bucket's earliest bar's, so the
-- state itself is the same whichever way it was computed.
CREATE FUNCTION stockext.rollup_select_list()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN stockext.rollup_columns_sql('stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume)',
                                   'stockext.sma_final(stockext.moments(s.close ORDER BY s.ts))');
COMMENT ON FUNCTION stockext.rollup_select_list() IS
'internal: the aggregate select list computing a rollup row (open .. n) from rows s of stockext.rollup_source';
REVOKE ALL ON FUNCTION stockext.rollup_select_list() FROM PUBLIC;

-- The select list of the metric states (candle, returns, close_moments),
-- for rows s of a width w.  Every width keeps the candle and the moments
-- of the closes, into which a refresh merges new bars (rollup_merged_sql);
-- the returns come with the metric volatility (other widths store NULL,
-- and log_returns sorts no rows for them).  The candle() and the moments
-- share their transition states with rollup_select_list()'s.  seeds, when
-- not NULL, names a relation holding a stored row's states, which the
-- seeded aggregates continue with the rows s (in any order: the stored
-- moments have their offset already).
CREATE FUNCTION stockext.rollup_metrics_select_list(seeds text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN format($sql$
       stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume%1$s) AS candle,
       stockext.log_returns(s.ts, s.close%2$s ORDER BY s.ts) FILTER (WHERE 'volatility' = ANY (w.metrics)) AS returns,
       stockext.moments(s.close%3$s%4$s) AS close_moments
$sql$, ', ' || seeds || '.candle', ', ' || seeds || '.returns', ', ' || seeds || '.close_moments',
    CASE WHEN seeds IS NULL THEN ' ORDER BY s.ts' ELSE '' END);
COMMENT ON FUNCTION stockext.rollup_metrics_select_list(text) IS
'internal: the aggregate select list computing the metric states (candle, returns, close_moments) of a rollup row from rows s of a width w, continuing those of the relation seeds when given';
REVOKE ALL ON FUNCTION stockext.rollup_metrics_select_list(text) FROM PUBLIC;

-- The rollup rows of a set of (symbol, width, bucket) keys, the relation
-- named by keys, in stockext.rollups column order; a key whose bucket has
-- no bars yields no row.  Runs of consecutive buckets of a symbol and width
-- are read with one index range scan each (CROSS JOIN LATERAL, whatever
-- the planner estimates): an append of new bars is a few long scans, late
-- bars scattered over the history are many short ones.  Buckets are
-- counted in local time, where consecutive ones lie exactly one width
-- apart (months included; in absolute time months and DST days differ in
-- length, and runs told apart by absolute spans could overlap and yield a
-- bucket twice).  A run ends where its last bucket does in local time (a
-- calendar month's own length).  OFFSET 0 keeps the planner from joining
-- the keys in before the scans, which would repeat each run's scan once
-- per key of its symbol and width.  The bucket of a bar of a UTC width
-- that is not a calendar one is rollup_bucket()'s date_bin() alone, its
-- tests done once per run (p) rather than once per bar; and a run of one
-- such bucket (a late bar's) is exactly the bars from its start to its
-- end, aggregated as they come from the index (grouped by the symbol
-- alone, which they share) instead of sorted by their bucket first: the
-- same rows in the same order, a quarter less time.
CREATE FUNCTION stockext.rollup_fresh_sql(keys text, ticks text DEFAULT 'stockext.ticks')
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
SELECT f.symbol, f.bucket, f.open, f.high, f.low, f.close, f.volume, f.vwap, f.avg_close, f.n, f.width,
       f.candle, f.returns, f.close_moments
FROM (
SELECT r.symbol, b.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.avg_close, b.n, r.width,
       b.candle, b.returns, b.close_moments
FROM (SELECT symbol, width, min(bucket) AS lo, max(bucket) AS hi
      FROM (SELECT k.symbol, k.width, k.bucket,
                   k.bucket AT TIME ZONE w.time_zone
                   - w.width * row_number() OVER (PARTITION BY k.symbol, k.width ORDER BY k.bucket) AS run
            FROM %1$s k JOIN stockext.rollup_widths w ON w.width = k.width) x
      GROUP BY symbol, width, run) r
JOIN stockext.rollup_widths w ON w.width = r.width
CROSS JOIN LATERAL (SELECT stockext.calendar_unit(w.width) IS NULL AND w.time_zone = 'UTC' AS utc,
                           w.origin AT TIME ZONE 'UTC' AS utc_origin OFFSET 0) p
CROSS JOIN LATERAL (
    SELECT r.lo AS bucket, %2$s, %3$s
    FROM %4$s s
    WHERE p.utc AND r.lo = r.hi
      AND s.symbol = r.symbol AND s.resolution = w.source_resolution
      AND s.ts >= r.lo AND s.ts < (r.lo AT TIME ZONE 'UTC' + w.width) AT TIME ZONE 'UTC'
    GROUP BY s.symbol
    UNION ALL
    SELECT CASE WHEN p.utc THEN date_bin(w.width, s.ts, p.utc_origin)
                ELSE stockext.rollup_bucket(s.ts, w.width, w.origin, w.time_zone) END, %2$s, %3$s
    FROM %4$s s
    WHERE NOT (p.utc AND r.lo = r.hi)
      AND s.symbol = r.symbol AND s.resolution = w.source_resolution
      AND s.ts >= r.lo - w.slack
      AND s.ts < (r.hi AT TIME ZONE w.time_zone + w.width) AT TIME ZONE w.time_zone + w.slack
    GROUP BY s.symbol, 1) b
WHERE b.bucket BETWEEN r.lo AND r.hi
OFFSET 0) f
WHERE (f.symbol, f.width, f.bucket) IN (SELECT k.symbol, k.width, k.bucket FROM %1$s k)
$sql$, keys, stockext.rollup_select_list(), stockext.rollup_metrics_select_list(), ticks);
COMMENT ON FUNCTION stockext.rollup_fresh_sql(text, text) IS
'internal: the query computing from the bars ticks (stockext.ticks or a shard of it) the rollup rows of the (symbol, width, bucket) keys in the relation keys';
REVOKE ALL ON FUNCTION stockext.rollup_fresh_sql(text, text) FROM PUBLIC;

-- The rollup rows of the buckets whose new bars are known one by one, from
-- the relation invalidations of (symbol, width, bucket, since, bars) keys:
-- a bucket whose stored row has states (candle, close_moments) and whose
-- keys all come from INSERTs, each of bars after the stored last bar
-- ((candle).last_ts) or of a single bar (bars = 1: the bar at since).  The
-- bars after the stored last one but the single ones are read by a short
-- index range scan, the single ones by one from the first to the last of
-- them: one bar when the bucket has one, at most the bucket's bars when it
-- has several.  (Given the list of their ts alone, the planner used it as
-- a filter on all the symbol's bars where statistics were missing; so did
-- a join with it, which Citus refuses in the live view anyway.)  The
-- seeded aggregates add them to the stored states.  A candle's fold does
-- not depend on the order of its bars, nor do the compensated sums of the
-- closes' moments around their offset, the close of the bucket's earliest
-- bar: a single bar before that one changes the offset, and its bucket is
-- recomputed.  The returns of the metric volatility follow the bars'
-- order, so a width with it takes only appended bars and recomputes a
-- bucket with an earlier one.  It is exact because a stored row covers
-- every bar of its bucket that the statement writing it could see, and
-- every later bar comes with a key of its own, committed with it: an
-- appended bar committed late with an earlier ts (a concurrent ingester's)
-- is a single bar of its own statement, or has a since before the stored
-- last bar and makes its bucket recomputed (rebuild_rollups, which writes
-- rows and claims keys in two statements, turns the keys it leaves into
-- recomputes).  A bar farther than slack (which bounds DST shifts) from
-- both ends of the bucket lies in it: only the bars near its ends pay for
-- rollup_bucket(), whose time zone conversions cost more than the
-- aggregates.  OFFSET 0 computes the bucket's end once.
CREATE FUNCTION stockext.rollup_merged_sql(invalidations text, ticks text DEFAULT 'stockext.ticks',
                                            rollups text DEFAULT 'stockext.rollups')
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
SELECT k.symbol, k.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.avg_close, b.n, k.width,
       b.candle, b.returns, b.close_moments
FROM (SELECT i.symbol, i.width, i.bucket, min(i.since) AS since,
             min(i.since) FILTER (WHERE i.bars IS DISTINCT FROM 1) AS since_many,
             array_agg(i.since) FILTER (WHERE i.bars = 1) AS singles,
             min(i.since) FILTER (WHERE i.bars = 1) AS first_single,
             max(i.since) FILTER (WHERE i.bars = 1) AS last_single
      FROM %1$s i
      GROUP BY i.symbol, i.width, i.bucket HAVING count(i.since) = count(*)) k
JOIN %5$s r ON r.width = k.width AND r.symbol = k.symbol AND r.bucket = k.bucket
JOIN stockext.rollup_widths w ON w.width = k.width
CROSS JOIN LATERAL (SELECT (k.bucket AT TIME ZONE w.time_zone + w.width) AT TIME ZONE w.time_zone AS stop,
                           (r.candle).last_ts AS last OFFSET 0) e
CROSS JOIN LATERAL (
    SELECT %2$s, %3$s
    FROM (SELECT s.symbol, s.ts, s.open, s.high, s.low, s.close, s.volume
          FROM %4$s s
          WHERE s.symbol = k.symbol AND s.resolution = w.source_resolution
            AND s.ts > e.last AND s.ts < e.stop + w.slack
            AND (s.ts >= k.bucket + w.slack AND s.ts < e.stop - w.slack
                 OR stockext.rollup_bucket(s.ts, w.width, w.origin, w.time_zone) = k.bucket)
            AND (k.singles IS NULL OR s.ts <> ALL (k.singles))
          UNION ALL
          SELECT s.symbol, s.ts, s.open, s.high, s.low, s.close, s.volume
          FROM %4$s s
          WHERE s.symbol = k.symbol AND s.resolution = w.source_resolution
            AND s.ts >= k.first_single AND s.ts <= k.last_single AND s.ts = ANY (k.singles)) s
    GROUP BY s.symbol) b
WHERE e.last IS NOT NULL AND r.close_moments IS NOT NULL
  AND (k.since_many IS NULL OR k.since_many > e.last)
  AND (k.first_single IS NULL OR k.first_single > (r.candle).first_ts)
  AND (k.since > e.last OR 'volatility' <> ALL (w.metrics))
$sql$, invalidations,
    stockext.rollup_columns_sql('stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume, r.candle)',
                                'stockext.sma_final(stockext.moments(s.close, r.close_moments))'),
    stockext.rollup_metrics_select_list('r'), ticks, rollups);
COMMENT ON FUNCTION stockext.rollup_merged_sql(text, text, text) IS
'internal: the query merging into their stored states (in rollups: stockext.rollups or a shard of it) the bars of ticks that the (symbol, width, bucket, since, bars) keys in the relation invalidations name one by one: appended after the stored bars, or single';
REVOKE ALL ON FUNCTION stockext.rollup_merged_sql(text, text, text) FROM PUBLIC;

-- Records the buckets a statement on stockext.ticks touched, with the
-- earliest bar an INSERT added to each, in the relation invalidations.
-- Statement level with transition tables: one INSERT ... SELECT per
-- statement, whatever its size.  Rows an upsert's WHERE ... IS DISTINCT
-- FROM left alone are in no transition table, so unchanged re-polls
-- invalidate nothing.
CREATE FUNCTION stockext.ticks_invalidate_sql(op text, invalidations text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE op
    WHEN 'INSERT' THEN format($sql$
        INSERT INTO %s (symbol, width, bucket, since, bars)
        SELECT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone), min(r.ts), count(*)
        FROM new_rows r JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution
        GROUP BY 1, 2, 3$sql$, invalidations)
    WHEN 'DELETE' THEN format($sql$
        INSERT INTO %s (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM old_rows r JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution$sql$, invalidations)
    ELSE format($sql$
        INSERT INTO %s (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM (SELECT symbol, ts, resolution FROM old_rows
              UNION ALL
              SELECT symbol, ts, resolution FROM new_rows) r
        JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution$sql$, invalidations) END;
COMMENT ON FUNCTION stockext.ticks_invalidate_sql(text, text) IS
'internal: the statement a trigger on stockext.ticks (or a shard of it) runs for a statement op (INSERT, UPDATE, DELETE) to record the keys it changed in invalidations';
REVOKE ALL ON FUNCTION stockext.ticks_invalidate_sql(text, text) FROM PUBLIC;

-- The trigger: the statements above, static (planned once) on
-- stockext.ticks.  Fired on a shard of ticks on a Citus node, it records
-- the keys in the co-located shard of rollup_invalidations: a statement of
-- Citus's naming the distributed table from inside a shard's trigger
-- could not see the transition tables.  SECURITY DEFINER: whoever may
-- write bars records their invalidations, without rights on the log
-- itself.
DO $do$
BEGIN
    EXECUTE format($f$
CREATE FUNCTION stockext.ticks_invalidate()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'stockext.ticks'::regclass THEN
        EXECUTE stockext.ticks_invalidate_sql(TG_OP, stockext.colocated_shard('stockext.rollup_invalidations', TG_RELID)::text);
    ELSIF TG_OP = 'INSERT' THEN %s;
    ELSIF TG_OP = 'DELETE' THEN %s;
    ELSE %s;
    END IF;
    RETURN NULL;
END
$$
$f$, stockext.ticks_invalidate_sql('INSERT', 'stockext.rollup_invalidations'),
     stockext.ticks_invalidate_sql('DELETE', 'stockext.rollup_invalidations'),
     stockext.ticks_invalidate_sql('UPDATE', 'stockext.rollup_invalidations'));
END
$do$;
COMMENT ON FUNCTION stockext.ticks_invalidate() IS
'trigger: records the (symbol, width, bucket) keys a statement on stockext.ticks changed in stockext.rollup_invalidations';

-- Transition tables allow one event per trigger.
CREATE TRIGGER ticks_invalidate_insert AFTER INSERT ON stockext.ticks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.ticks_invalidate();
CREATE TRIGGER ticks_invalidate_update AFTER UPDATE ON stockext.ticks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.ticks_invalidate();
CREATE TRIGGER ticks_invalidate_delete AFTER DELETE ON stockext.ticks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.ticks_invalidate();

-- Real-time rollups: the rolled-up rows of every width whose bucket has no
-- pending invalidation, plus the pending buckets computed now, as the next
-- refresh will: appended bars merged into the stored states, the other
-- buckets from the ticks.  Reads one snapshot, in which a refresh's claim
-- and its upserts are either both visible or neither.
DO $do$
BEGIN
    EXECUTE format($v$
CREATE VIEW stockext.rollups_live AS
WITH merged AS (%s)
SELECT r.symbol, r.bucket, r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.width,
       r.candle, r.returns, r.close_moments
FROM stockext.rollups r
WHERE NOT EXISTS (SELECT 1 FROM stockext.rollup_invalidations i
                  WHERE i.width = r.width AND i.symbol = r.symbol AND i.bucket = r.bucket)
UNION ALL
SELECT * FROM merged
UNION ALL
%s$v$, stockext.rollup_merged_sql('stockext.rollup_invalidations'),
       stockext.rollup_fresh_sql('(SELECT DISTINCT i.symbol, i.width, i.bucket FROM stockext.rollup_invalidations i
                                   WHERE NOT EXISTS (SELECT 1 FROM merged m
                                                     WHERE m.width = i.width AND m.symbol = i.symbol AND m.bucket = i.bucket))'));
END
$do$;
COMMENT ON VIEW stockext.rollups_live IS
'stockext.rollups with the buckets not refreshed yet computed from stockext.ticks: always current';
REVOKE ALL ON stockext.rollups_live FROM PUBLIC;

-- Privileges: the relations that show the bars besides stockext.ticks (the
-- rollups, their partitions and live views, the invalidation keys, the
-- rollup source, the latest bars) grant SELECT to exactly the roles stockext.ticks grants it
-- to, PUBLIC included, and nothing else (no grant option, no other
-- privilege; their owner aside).  These are the REVOKE and GRANT statements
-- that would make it so, REVOKEs first; none when all is in order.
CREATE FUNCTION stockext.rollup_privilege_fixes()
RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH ticks AS (
        SELECT c.relowner, c.relacl FROM pg_class c WHERE c.oid = 'stockext.ticks'::regclass
    ), readers AS (
        SELECT DISTINCT a.grantee FROM ticks t, aclexplode(t.relacl) a
        WHERE a.privilege_type = 'SELECT' AND a.grantee <> t.relowner
    ), rels AS (
        SELECT c.oid, c.relname, c.relowner, c.relacl FROM pg_class c
        WHERE c.relnamespace = 'stockext'::regnamespace
          AND (c.relname IN ('rollups', 'rollups_live', 'rollup_source', 'rollup_invalidations',
                             'latest_ticks', 'latest_bars')
               OR c.relname IN (SELECT w.name FROM stockext.rollup_widths w
                                UNION ALL
                                SELECT w.name || '_live' FROM stockext.rollup_widths w))
    ), held AS (
        SELECT r.oid, r.relname, a.grantee,
               bool_and(a.privilege_type = 'SELECT' AND NOT a.is_grantable) AS plain_select
        FROM rels r, aclexplode(r.relacl) a
        WHERE a.grantee <> r.relowner
        GROUP BY r.oid, r.relname, a.grantee
    ), wanted AS (
        SELECT r.oid, r.relname, d.grantee FROM rels r, readers d WHERE d.grantee <> r.relowner
    )
    SELECT f.statement FROM (
        -- A default ACL (NULL) is written out, so that a width added now and
        -- one updated from 0.1.0 (which granted SELECT to PUBLIC) carry the
        -- same privileges.
        SELECT 0 AS step, r.relname, 0::oid AS grantee,
               format('REVOKE ALL ON stockext.%I FROM PUBLIC', r.relname) AS statement
        FROM rels r
        WHERE r.relacl IS NULL
        UNION ALL
        SELECT 1, h.relname, h.grantee,
               format('REVOKE ALL ON stockext.%I FROM %s CASCADE', h.relname,
                      CASE WHEN h.grantee = 0 THEN 'PUBLIC' ELSE h.grantee::regrole::text END)
        FROM held h
        WHERE NOT h.plain_select
           OR NOT EXISTS (SELECT FROM wanted w WHERE w.oid = h.oid AND w.grantee = h.grantee)
        UNION ALL
        SELECT 2, w.relname, w.grantee,
               format('GRANT SELECT ON stockext.%I TO %s', w.relname,
                      CASE WHEN w.grantee = 0 THEN 'PUBLIC' ELSE w.grantee::regrole::text END)
        FROM wanted w
        WHERE NOT EXISTS (SELECT FROM held h WHERE h.oid = w.oid AND h.grantee = w.grantee AND h.plain_select)
    ) f
    ORDER BY f.step, f.relname, f.grantee;
END;
COMMENT ON FUNCTION stockext.rollup_privilege_fixes() IS
'internal: the REVOKE and GRANT statements that would give the rollups, their live views, the invalidation keys and the latest bars the SELECT grants of stockext.ticks';

-- Runs them; SECURITY DEFINER because only the owner may grant on the
-- rollups, while a GRANT on ticks may come from a role with grant option.
-- Executable by everyone, as the event trigger runs it as whoever granted:
-- all it can do is bring the rollups in line with ticks.
CREATE FUNCTION stockext.sync_rollup_privileges()
RETURNS bigint
AS 'MODULE_PATHNAME', 'stockext_sync_rollup_privileges'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION stockext.sync_rollup_privileges() IS
'gives the rollups, their live views and the invalidation keys the SELECT grants of stockext.ticks (run after every GRANT or REVOKE on the schema''s tables); returns the statements it ran';

CREATE FUNCTION stockext.rollup_privileges_trigger()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'stockext_rollup_privileges_trigger'
LANGUAGE C;
COMMENT ON FUNCTION stockext.rollup_privileges_trigger() IS
'event trigger: after a GRANT or REVOKE on a table of the schema stockext, gives the rollups the SELECT grants of stockext.ticks';
REVOKE ALL ON FUNCTION stockext.rollup_privileges_trigger() FROM PUBLIC;
CREATE EVENT TRIGGER stockext_rollup_privileges ON ddl_command_end
    WHEN TAG IN ('GRANT', 'REVOKE')
    EXECUTE FUNCTION stockext.rollup_privileges_trigger();

-- Refreshes, rebuilds and width changes take this lock, so they run one at
-- a time and each starts from a snapshot taken after the previous one
-- committed: a refresh can never overwrite a newer result with an older one.
CREATE FUNCTION stockext.rollup_lock()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'rollups can only be refreshed in a READ COMMITTED transaction'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = format('The transaction is %s.', upper(current_setting('transaction_isolation'))),
                  HINT = 'Each statement of a refresh needs a snapshot taken after the refresh lock was granted.';
    END IF;
    PERFORM pg_advisory_xact_lock('stockext.rollups'::regclass::oid::bigint);
END
$$;
COMMENT ON FUNCTION stockext.rollup_lock() IS
'internal: takes the transaction-level lock that serializes rollup refreshes and rebuilds';
REVOKE ALL ON FUNCTION stockext.rollup_lock() FROM PUBLIC;

-- The upsert of the rollup rows rows into rollups, rewriting only rows
-- whose values changed; one row returned per row written.
CREATE FUNCTION stockext.rollup_upsert_sql(rollups text, rows_sql text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
    INSERT INTO %1$s AS r %2$s
    ON CONFLICT (symbol, bucket, width) DO UPDATE
        SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
            volume = excluded.volume, vwap = excluded.vwap, avg_close = excluded.avg_close, n = excluded.n,
            candle = excluded.candle, returns = excluded.returns, close_moments = excluded.close_moments
        WHERE (r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n,
               r.candle, r.returns::text, r.close_moments::text)
              IS DISTINCT FROM
              (excluded.open, excluded.high, excluded.low, excluded.close,
               excluded.volume, excluded.vwap, excluded.avg_close, excluded.n,
               excluded.candle, excluded.returns::text, excluded.close_moments::text)
    RETURNING 1$sql$, rollups, rows_sql);
COMMENT ON FUNCTION stockext.rollup_upsert_sql(text, text) IS
'internal: the upsert of the rollup rows of the query rows_sql into rollups, rewriting only rows whose values changed';
REVOKE ALL ON FUNCTION stockext.rollup_upsert_sql(text, text) FROM PUBLIC;

-- A refresh over the bars ticks, the rollups rollups and the invalidations
-- invalidations (the tables, or co-located shards of them on a Citus node)
-- is one statement, or two when some bucket must be re-aggregated.  This
-- first one claims every pending invalidation (DELETE ... RETURNING, so a
-- key written by a transaction still in progress stays for the next
-- refresh), merges the bars that the keys name one by one (appended, or
-- single) into their buckets' stored states (rollup_merged_sql) and
-- upserts those rows.  Its one row is (keys claimed, rows written, and the
-- other claimed keys as arrays of symbols, widths and buckets, NULL when
-- there are none), which rollup_recompute_sql re-aggregates.  Late and
-- appended bars then plan this statement alone, whose planning in a new
-- session (a cron job's) costs half of both's.
CREATE FUNCTION stockext.rollup_refresh_sql(ticks text, rollups text, invalidations text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
WITH claimed AS (
    DELETE FROM %3$s RETURNING symbol, width, bucket, since, bars
), merged AS (%4$s
), upserted AS (%5$s
), rest AS (
    SELECT DISTINCT c.symbol, c.width, c.bucket FROM claimed c
    WHERE NOT EXISTS (SELECT FROM merged m WHERE m.width = c.width AND m.symbol = c.symbol AND m.bucket = c.bucket)
)
SELECT x.keys + (SELECT count(*) FROM merged), (SELECT count(*) FROM upserted), x.symbols, x.widths, x.buckets
FROM (SELECT count(*) AS keys, array_agg(symbol) AS symbols, array_agg(width) AS widths, array_agg(bucket) AS buckets
      FROM rest) x
$sql$, ticks, rollups, invalidations, stockext.rollup_merged_sql('claimed', ticks, rollups),
    stockext.rollup_upsert_sql(rollups, 'SELECT * FROM merged'));
COMMENT ON FUNCTION stockext.rollup_refresh_sql(text, text, text) IS
'internal: the first statement of a refresh of the rollups rollups from the bars ticks through the invalidations invalidations (the tables, or co-located shards of them): claims the keys and merges the bars they name; returns (keys claimed, rows written, and the keys left to re-aggregate as arrays of symbols, widths and buckets)';
REVOKE ALL ON FUNCTION stockext.rollup_refresh_sql(text, text, text) FROM PUBLIC;

-- The second statement of a refresh: re-aggregates the (symbol, width,
-- bucket) keys of the relation keys (distinct) from the bars, upserts them
-- and deletes the buckets that have no bars left.  Its snapshot is newer
-- than the claim's: the keys of bars committed in between stay pending,
-- and those of these buckets become recomputes (since NULL), as these
-- bars are in the rows written here and must not be merged again.  Its
-- one row is (rows written, empty buckets deleted).  The empty buckets are
-- found by one probe of the key of rollups per key, whatever the planner
-- estimates: their key columns are compared by >= and <= (the same as =
-- in the deterministic collation and the total orders of the key's
-- types), which no hash or merge join can take; with = and the claims
-- estimated from the invalidations' statistics (often thousands of rows
-- from an earlier append), it chose a merge join that sorted every rollup
-- row: 76 of the 211 ms of a refresh after 100 late bars at 1M bars.
CREATE FUNCTION stockext.rollup_recompute_sql(ticks text, rollups text, invalidations text, keys text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
WITH keys AS (
    SELECT k.symbol, k.width, k.bucket FROM %4$s k
), demoted AS (
    UPDATE %3$s i SET since = NULL, bars = NULL
    FROM keys k
    WHERE i.symbol = k.symbol AND i.width = k.width AND i.bucket = k.bucket AND i.since IS NOT NULL
    RETURNING 1
), fresh AS (%5$s
), upserted AS (%6$s
), emptied AS (
    DELETE FROM %2$s r USING keys k
    WHERE r.width >= k.width AND r.width <= k.width AND r.symbol >= k.symbol AND r.symbol <= k.symbol
      AND r.bucket >= k.bucket AND r.bucket <= k.bucket
      AND NOT EXISTS (SELECT FROM fresh f
                      WHERE f.width = k.width AND f.symbol = k.symbol AND f.bucket = k.bucket)
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted), (SELECT count(*) FROM emptied)
$sql$, ticks, rollups, invalidations, keys, stockext.rollup_fresh_sql('keys', ticks),
    stockext.rollup_upsert_sql(rollups, 'SELECT * FROM fresh'));
COMMENT ON FUNCTION stockext.rollup_recompute_sql(text, text, text, text) IS
'internal: the second statement of a refresh: re-aggregates the (symbol, width, bucket) keys of the relation keys from the bars ticks into the rollups rollups, turning their keys still pending in invalidations into recomputes; returns (rows written, empty buckets deleted)';
REVOKE ALL ON FUNCTION stockext.rollup_recompute_sql(text, text, text, text) FROM PUBLIC;

-- First recomputes the widths a restore loaded (rollup_rebuilds), then
-- runs the refresh statements above over the tables, grouped by symbol
-- and bucket.  With stockext distributed over a Citus cluster
-- (stockext.distribute()) each node runs them over each group of
-- co-located shards it holds instead (refresh_local_shards), so a shard's
-- bars never leave its node.  JIT off: the statements are many small
-- index range scans whose cost the planner cannot know beforehand, and
-- compiling them costs seconds.  Created through format() so that the
-- statements are static and their plans cached.
DO $do$
BEGIN
    EXECUTE format($f$
CREATE FUNCTION stockext.refresh_rollups(OUT buckets bigint, OUT upserted bigint, OUT deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    w            interval;
    rebuilt      bigint := 0;
    recomputed   bigint;
    rest_symbols text[];
    rest_widths  interval[];
    rest_buckets timestamptz[];
BEGIN
    PERFORM stockext.rollup_lock();
    IF stockext.is_distributed() THEN
        SELECT * INTO buckets, upserted, deleted FROM stockext.refresh_rollup_shards();
        RETURN;
    END IF;
    -- Widths a restore loaded are computed from the bars, once the restore
    -- has put the primary key of ticks back (until then it may still be
    -- loading bars).
    IF EXISTS (SELECT FROM stockext.rollup_rebuilds)
       AND EXISTS (SELECT FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid
                   WHERE c.conrelid = 'stockext.ticks'::regclass AND c.contype = 'p' AND i.indisvalid) THEN
        FOR w IN SELECT r.width FROM stockext.rollup_rebuilds r ORDER BY r.width LOOP
            rebuilt := rebuilt + stockext.rebuild_rollups(w);
        END LOOP;
    END IF;
    IF NOT EXISTS (SELECT FROM stockext.rollup_invalidations) THEN
        buckets := 0; upserted := rebuilt; deleted := 0;
        RETURN;
    END IF;
%s
    INTO buckets, upserted, rest_symbols, rest_widths, rest_buckets;
    deleted := 0;
    IF rest_symbols IS NOT NULL THEN
%s
        INTO recomputed, deleted;
        upserted := upserted + recomputed;
    END IF;
    upserted := upserted + rebuilt;
END
$$
$f$, stockext.rollup_refresh_sql('stockext.ticks', 'stockext.rollups', 'stockext.rollup_invalidations'),
     stockext.rollup_recompute_sql('stockext.ticks', 'stockext.rollups', 'stockext.rollup_invalidations',
                                   '(SELECT * FROM unnest(rest_symbols, rest_widths, rest_buckets) AS k (symbol, width, bucket))'));
END
$do$;
COMMENT ON FUNCTION stockext.refresh_rollups() IS
'recomputes the widths a restore loaded, then re-aggregates the (symbol, width, bucket) keys invalidated since the last refresh; returns how many keys it claimed, rows it wrote and empty buckets it deleted';
REVOKE ALL ON FUNCTION stockext.refresh_rollups() FROM PUBLIC;

-- Recomputes one width (or all) from scratch.  TRUNCATE: readers of the
-- rollups wait until it commits.  Its claim of the width's keys and its
-- INSERT are two statements, with two snapshots.
CREATE FUNCTION stockext.rebuild_rollups(width interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    part  name;
    made  bigint;
BEGIN
    PERFORM stockext.rollup_lock();
    IF width IS NULL THEN
        DELETE FROM stockext.rollup_invalidations;
        TRUNCATE stockext.rollups;
    ELSE
        SELECT w.name INTO part FROM stockext.rollup_widths w WHERE w.width = rebuild_rollups.width;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no rollup of width "%"', width
                USING ERRCODE = 'undefined_object',
                      HINT = 'The rolled-up widths are listed in stockext.rollup_widths.';
        END IF;
        DELETE FROM stockext.rollup_invalidations i WHERE i.width = rebuild_rollups.width;
        EXECUTE format('TRUNCATE stockext.%I', part);
    END IF;
    DELETE FROM stockext.rollup_rebuilds r WHERE rebuild_rollups.width IS NULL OR r.width = rebuild_rollups.width;
    EXECUTE format($q$
INSERT INTO stockext.rollups
SELECT s.symbol, s.bucket, %s, w.width, %s
FROM stockext.rollup_source s JOIN stockext.rollup_widths w ON w.width = s.width
WHERE $1 IS NULL OR s.width = $1
GROUP BY w.width, s.symbol, s.bucket
$q$, stockext.rollup_select_list(), stockext.rollup_metrics_select_list()) USING width;
    GET DIAGNOSTICS made = ROW_COUNT;
    -- Keys committed after the claim above may name bars the INSERT read:
    -- merged, those bars would count twice, so they become recomputes.
    UPDATE stockext.rollup_invalidations i SET since = NULL, bars = NULL
    WHERE (rebuild_rollups.width IS NULL OR i.width = rebuild_rollups.width) AND i.since IS NOT NULL;
    RETURN made;
END
$$;
COMMENT ON FUNCTION stockext.rebuild_rollups(interval) IS
'recomputes the rollups of one width, or of all widths when NULL, from stockext.ticks; returns the rows written';
REVOKE ALL ON FUNCTION stockext.rebuild_rollups(interval) FROM PUBLIC;

-- Widths whose rollups the next refresh computes from scratch: those a
-- restore loaded (pg_dump keeps stockext.rollup_widths, not the rollups,
-- which are members of the extension and follow from the bars).
CREATE TABLE stockext.rollup_rebuilds (
    width interval PRIMARY KEY REFERENCES stockext.rollup_widths ON DELETE CASCADE
);
COMMENT ON TABLE stockext.rollup_rebuilds IS
'widths whose rollups stockext.refresh_rollups() recomputes from the ticks before anything else: widths loaded by a restore';
REVOKE ALL ON stockext.rollup_rebuilds FROM PUBLIC;
GRANT SELECT ON stockext.rollup_rebuilds TO PUBLIC;

-- One row while rollup_widths holds just what CREATE EXTENSION wrote there;
-- the first change deletes it.  A restore loads its rollup_widths into a
-- fresh CREATE EXTENSION: the dumped rows then replace the installed ones
-- instead of clashing with them, and a default width the source dropped
-- stays dropped.
CREATE TABLE stockext.rollup_widths_installed (
    single boolean PRIMARY KEY DEFAULT true CHECK (single)
);
COMMENT ON TABLE stockext.rollup_widths_installed IS
'internal: one row while stockext.rollup_widths holds the widths CREATE EXTENSION wrote, unchanged';
REVOKE ALL ON stockext.rollup_widths_installed FROM PUBLIC;

-- Keeps each width's table and view in step with its row of rollup_widths,
-- whoever writes the row: add_rollup and drop_rollup, or a restore.
--  - Before a restore loads rows into a rollup_widths as installed (pg_dump
--    and pg_restore run with check_function_bodies off), the installed
--    rows go.
--  - A new row gets its partition stockext.<name> of stockext.rollups and
--    its real-time view stockext.<name>_live, and waits in rollup_rebuilds
--    until its rollups are computed.
--  - A deleted row takes its table, its view and its pending invalidations.
--  - Any change ends the installed state.
CREATE FUNCTION stockext.rollup_widths_sync()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ext_member boolean;
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        IF TG_WHEN = 'AFTER' THEN
            DELETE FROM stockext.rollup_widths_installed;
            -- The triggers of the shards of ticks read the widths on their nodes.
            IF stockext.is_distributed() THEN
                PERFORM stockext.copy_rollup_widths();
            END IF;
        ELSIF NOT current_setting('check_function_bodies')::boolean
              AND EXISTS (SELECT FROM stockext.rollup_widths_installed) THEN
            DELETE FROM stockext.rollup_widths;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM stockext.rollup_invalidations i WHERE i.width = OLD.width;
        EXECUTE format('ALTER EXTENSION stockext DROP VIEW stockext.%I', OLD.name || '_live');
        EXECUTE format('ALTER EXTENSION stockext DROP TABLE stockext.%I', OLD.name);
        EXECUTE format('DROP VIEW stockext.%I', OLD.name || '_live');
        EXECUTE format('DROP TABLE stockext.%I', OLD.name);
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE stockext.%I PARTITION OF stockext.rollups FOR VALUES IN (%L)', NEW.name, NEW.width);
    EXECUTE format('COMMENT ON TABLE stockext.%I IS %L', NEW.name,
                   format('%s bars per symbol and bucket; see stockext.rollups', NEW.width));
    EXECUTE format('CREATE VIEW stockext.%I AS
                    SELECT symbol, bucket, open, high, low, close, volume, vwap, avg_close, n
                    FROM stockext.rollups_live WHERE width = %L', NEW.name || '_live', NEW.width);
    EXECUTE format('COMMENT ON VIEW stockext.%I IS %L', NEW.name || '_live',
                   format('%s bars including the buckets not refreshed yet (real-time)', NEW.width));
    -- Inside CREATE EXTENSION the new objects belong to the extension by
    -- themselves; added later they are made members, so DROP EXTENSION
    -- takes them along.
    SELECT EXISTS (SELECT FROM pg_depend
                   WHERE classid = 'pg_class'::regclass
                     AND objid = format('stockext.%I', NEW.name)::regclass
                     AND refclassid = 'pg_extension'::regclass AND deptype = 'e')
      INTO ext_member;
    IF NOT ext_member THEN
        EXECUTE format('ALTER EXTENSION stockext ADD TABLE stockext.%I', NEW.name);
        EXECUTE format('ALTER EXTENSION stockext ADD VIEW stockext.%I', NEW.name || '_live');
    END IF;
    -- Readable by the roles that can read the bars.
    PERFORM stockext.sync_rollup_privileges();
    INSERT INTO stockext.rollup_rebuilds (width) VALUES (NEW.width);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION stockext.rollup_widths_sync() IS
'trigger: makes and drops the table and view of each width of stockext.rollup_widths with its row, and lets a restore''s rows replace the ones CREATE EXTENSION wrote';

CREATE TRIGGER rollup_widths_load BEFORE INSERT ON stockext.rollup_widths
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.rollup_widths_sync();
CREATE TRIGGER rollup_widths_objects AFTER INSERT OR DELETE ON stockext.rollup_widths
    FOR EACH ROW EXECUTE FUNCTION stockext.rollup_widths_sync();
CREATE TRIGGER rollup_widths_changed AFTER INSERT OR UPDATE OR DELETE ON stockext.rollup_widths
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.rollup_widths_sync();

-- Adds a rolled-up width: its partition stockext.<name>, its real-time view
-- stockext.<name>_live, filled from the ticks already stored.  The metric
-- volatility adds the log_returns summary to its rows (the column returns
-- of stockext.rollups); vwap, bar_count and high_low_times are read from
-- the candle that every row keeps.
CREATE FUNCTION stockext.add_rollup(name name, width interval,
                                    origin timestamp DEFAULT '2000-01-03 00:00',
                                    time_zone text DEFAULT 'UTC',
                                    source_resolution interval DEFAULT '1 minute',
                                    metrics text[] DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    taken      text;
BEGIN
    IF name IS NULL OR width IS NULL OR origin IS NULL OR time_zone IS NULL OR source_resolution IS NULL
       OR metrics IS NULL OR array_position(metrics, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'arguments of stockext.add_rollup() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT m INTO taken FROM unnest(metrics) m
    WHERE m <> ALL (ARRAY['volatility', 'vwap', 'bar_count', 'high_low_times']) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown rollup metric "%"', taken
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The metrics are volatility, vwap, bar_count and high_low_times.';
    END IF;
    IF name !~ '^[a-z][a-z0-9_]{0,50}$' THEN
        RAISE EXCEPTION 'invalid rollup name "%"', name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A rollup name is 1 to 51 lowercase letters, digits or underscores, starting with a letter.';
    END IF;
    IF width <= interval '0' OR ((date_part('month', width) <> 0 OR date_part('year', width) <> 0)
                                  AND stockext.calendar_unit(width) IS NULL) THEN
        RAISE EXCEPTION 'invalid rollup width "%"', width
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A width is positive and made of days, hours, minutes and seconds only, or is 1 month, 3 months or 1 year.';
    END IF;
    IF source_resolution <= interval '0' OR source_resolution >= width THEN
        RAISE EXCEPTION 'source resolution "%" is not finer than the width "%"', source_resolution, width
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_timezone_names WHERE pg_timezone_names.name = time_zone)
       AND upper(time_zone) <> 'UTC' THEN
        RAISE EXCEPTION 'time zone "%" not recognized', time_zone
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use a name from pg_timezone_names, such as America/New_York.';
    END IF;
    PERFORM stockext.rollup_lock();
    SELECT w.name INTO taken FROM stockext.rollup_widths w WHERE w.width = add_rollup.width;
    IF FOUND THEN
        RAISE EXCEPTION 'a rollup of width "%" already exists', width
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('It is stockext.%I.', taken),
                  HINT = 'Realign it with stockext.set_rollup_alignment(), or remove it with stockext.drop_rollup() first.';
    END IF;
    SELECT c.relname INTO taken FROM pg_class c
    WHERE c.relnamespace = 'stockext'::regnamespace AND c.relname IN (name, name || '_live');
    IF FOUND THEN
        RAISE EXCEPTION 'rollup name "%" is already taken', name
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('stockext.%I already exists.', taken),
                  HINT = 'Choose another name.';
    END IF;
    -- A width added is a change: the insert is no restore's load (even in
    -- an extension script, where check_function_bodies is off).  The
    -- row's trigger makes the table and the view.
    DELETE FROM stockext.rollup_widths_installed;
    INSERT INTO stockext.rollup_widths (width, name, origin, time_zone, source_resolution, metrics)
    VALUES (width, name, origin, CASE WHEN upper(time_zone) = 'UTC' THEN 'UTC' ELSE time_zone END,
            source_resolution, (SELECT coalesce(array_agg(DISTINCT m ORDER BY m), '{}') FROM unnest(metrics) m));
    RETURN stockext.rebuild_rollups(width);
END
$$;
COMMENT ON FUNCTION stockext.add_rollup(name, interval, timestamp, text, interval, text[]) IS
'adds a rolled-up width: table stockext.<name> and view stockext.<name>_live, buckets aligned to origin (local time in time_zone; calendar widths 1 month, 3 months, 1 year start at the first midnight of their period there), read from bars of source_resolution, with the metrics (volatility, vwap, bar_count, high_low_times) kept as re-aggregatable states; returns the rows computed';
REVOKE ALL ON FUNCTION stockext.add_rollup(name, interval, timestamp, text, interval, text[]) FROM PUBLIC;

-- Changes the alignment of a width and recomputes it.
CREATE FUNCTION stockext.set_rollup_alignment(width interval, origin timestamp, time_zone text DEFAULT 'UTC')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF width IS NULL OR origin IS NULL OR time_zone IS NULL THEN
        RAISE EXCEPTION 'arguments of stockext.set_rollup_alignment() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_timezone_names WHERE name = time_zone) AND upper(time_zone) <> 'UTC' THEN
        RAISE EXCEPTION 'time zone "%" not recognized', time_zone
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use a name from pg_timezone_names, such as America/New_York.';
    END IF;
    PERFORM stockext.rollup_lock();
    UPDATE stockext.rollup_widths w
       SET origin = set_rollup_alignment.origin,
           time_zone = CASE WHEN upper(set_rollup_alignment.time_zone) = 'UTC' THEN 'UTC'
                            ELSE set_rollup_alignment.time_zone END
     WHERE w.width = set_rollup_alignment.width;
    RETURN stockext.rebuild_rollups(width);
END
$$;
COMMENT ON FUNCTION stockext.set_rollup_alignment(interval, timestamp, text) IS
'aligns the buckets of a width to origin (local wall-clock time in time_zone) and recomputes them; returns the rows computed';
REVOKE ALL ON FUNCTION stockext.set_rollup_alignment(interval, timestamp, text) FROM PUBLIC;

-- Removes a rolled-up width, its table and its view.
CREATE FUNCTION stockext.drop_rollup(width interval)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.rollup_lock();
    -- The row's trigger drops the table, the view and pending invalidations.
    DELETE FROM stockext.rollup_widths w WHERE w.width = drop_rollup.width;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no rollup of width "%"', width
            USING ERRCODE = 'undefined_object',
                  HINT = 'The rolled-up widths are listed in stockext.rollup_widths.';
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.drop_rollup(interval) IS
'removes a rolled-up width with its table and view';
REVOKE ALL ON FUNCTION stockext.drop_rollup(interval) FROM PUBLIC;

SELECT stockext.add_rollup('bars_30m', '30 minutes');
SELECT stockext.add_rollup('bars_1h', '1 hour');
SELECT stockext.add_rollup('bars_1d', '1 day');
INSERT INTO stockext.rollup_widths_installed DEFAULT VALUES;

-- One row per bucket of the given width whose start lies in [start, stop).
-- A rolled-up width reads stockext.rollups_live (so it is always current);
-- any other width is computed from the ticks, aligned to the default origin
-- in UTC, reading the finest resolution at or below the width that the
-- symbol has in the range (a width equal to it gives the bars themselves).  fill: 'none' leaves empty buckets out, 'null' returns them
-- with NULLs, 'previous' (or 'locf') returns them as a flat candle at the
-- previous close (open = high = low = close, volume 0, n 0).  A symbol
-- without a single bar raises no_data_found.  adjust: 'none' as traded,
-- 'splits' or 'all' (splits and dividends) adjusted with the factors of
-- stockext.adjustment_factor(), applied by stockext.adjust_price() and
-- stockext.adjust_volume() (README, "Corporate actions"); a rolled-up
-- width multiplies its rows by the factor of their bucket, unless an
-- ex-date falls inside a bucket, when the adjusted bars are rolled up.
CREATE FUNCTION stockext.bars(symbol text, width interval, start timestamptz, stop timestamptz,
                              fill text DEFAULT 'none', adjust text DEFAULT 'none')
RETURNS TABLE (bucket timestamptz, open double precision, high double precision,
               low double precision, close double precision, volume bigint,
               vwap double precision, avg_close double precision, n integer)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    origin    timestamp := '2000-01-03 00:00';
    tz        text := 'UTC';
    src       interval;
    rolled    boolean;
    data_sql  text;
    prev      double precision;
BEGIN
    IF symbol IS NULL OR width IS NULL OR start IS NULL OR stop IS NULL OR fill IS NULL OR adjust IS NULL THEN
        RAISE EXCEPTION 'arguments of stockext.bars() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF fill NOT IN ('none', 'null', 'previous', 'locf') THEN
        RAISE EXCEPTION 'invalid fill "%"', fill
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use none, null, previous or locf.';
    END IF;
    IF adjust NOT IN ('none', 'splits', 'all') THEN
        RAISE EXCEPTION 'invalid adjust "%"', adjust
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use none, splits or all.';
    END IF;
    IF width <= interval '0' OR ((date_part('month', width) <> 0 OR date_part('year', width) <> 0)
                                  AND stockext.calendar_unit(width) IS NULL) THEN
        RAISE EXCEPTION 'invalid bar width "%"', width
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A width is positive and made of days, hours, minutes and seconds only, or is 1 month, 3 months or 1 year.';
    END IF;
    IF stop < start THEN
        RAISE EXCEPTION 'bar range ends before it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', start, stop);
    END IF;
    IF extract(epoch FROM stop - start) / extract(epoch FROM width) > 1000000 THEN
        RAISE EXCEPTION 'bar range holds more than 1000000 buckets of "%"', width
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Ask for a shorter range or a wider bucket.';
    END IF;
    symbol := upper(symbol COLLATE "C");
    -- A symbol never stored is a typo more often than an empty range, and
    -- would fill every bucket with NULLs.
    IF NOT EXISTS (SELECT FROM stockext.ticks t WHERE t.symbol = bars.symbol)
       AND NOT EXISTS (SELECT FROM stockext.rollups r WHERE r.symbol = bars.symbol) THEN
        RAISE EXCEPTION 'symbol "%" has no bars', symbol
            USING ERRCODE = 'no_data_found',
                  DETAIL = 'Neither stockext.ticks nor the rollups hold a bar of it, at any resolution.',
                  HINT = 'SELECT DISTINCT symbol FROM stockext.ticks lists the stored symbols.';
    END IF;

    SELECT w.origin, w.time_zone, w.source_resolution INTO origin, tz, src
    FROM stockext.rollup_widths w WHERE w.width = bars.width;
    rolled := FOUND;
    -- A bucket holding an ex-date mixes two bases: its rolled-up row cannot
    -- be adjusted by one factor, so the width's adjusted bars are rolled up.
    IF rolled AND adjust <> 'none'
       AND EXISTS (SELECT FROM stockext.corporate_actions a
                   CROSS JOIN LATERAL (SELECT a.ex_date::timestamp AT TIME ZONE 'UTC' AS cutoff) c
                   WHERE a.symbol = bars.symbol
                     AND stockext.rollup_bucket(c.cutoff, width, origin, tz) <> c.cutoff) THEN
        rolled := false;
    ELSIF NOT rolled THEN
        origin := '2000-01-03 00:00';
        tz := 'UTC';
        SELECT min(t.resolution) INTO src FROM stockext.ticks t
        WHERE t.symbol = bars.symbol AND t.ts >= start AND t.ts < stop + width AND t.resolution <= width;
    END IF;
    -- Prices times the factor p, volumes divided by the splits factor v.
    IF rolled AND adjust = 'none' THEN
        data_sql := $q$
            SELECT l.bucket, l.open, l.high, l.low, l.close, l.volume, l.vwap, l.avg_close, l.n
            FROM stockext.rollups_live l
            WHERE l.width = $2 AND l.symbol = $1 AND l.bucket >= $3 AND l.bucket < $4$q$;
    ELSIF rolled THEN
        data_sql := $q$
            SELECT l.bucket, stockext.adjust_price(l.open, l.symbol, l.bucket, $10) AS open,
                   stockext.adjust_price(l.high, l.symbol, l.bucket, $10) AS high,
                   stockext.adjust_price(l.low, l.symbol, l.bucket, $10) AS low,
                   stockext.adjust_price(l.close, l.symbol, l.bucket, $10) AS close,
                   stockext.adjust_volume(l.volume, l.symbol, l.bucket) AS volume,
                   stockext.adjust_price(l.vwap, l.symbol, l.bucket, $10) AS vwap,
                   stockext.adjust_price(l.avg_close, l.symbol, l.bucket, $10) AS avg_close, l.n
            FROM stockext.rollups_live l
            WHERE l.width = $2 AND l.symbol = $1 AND l.bucket >= $3 AND l.bucket < $4$q$;
    ELSE
        data_sql := format($q$
            SELECT s.bucket, %s
            FROM (SELECT stockext.rollup_bucket(t.ts, $2, $5, $6) AS bucket, %s
                  FROM stockext.ticks t
                  WHERE t.symbol = $1 AND t.resolution = $7 AND t.ts >= $3 AND t.ts < $4 + $2) s
            WHERE s.bucket >= $3 AND s.bucket < $4
            GROUP BY s.bucket$q$, stockext.rollup_select_list(),
            CASE WHEN adjust = 'none' THEN 't.*'
                 ELSE 't.ts, stockext.adjust_price(t.open, t.symbol, t.ts, $10) AS open,
                       stockext.adjust_price(t.high, t.symbol, t.ts, $10) AS high,
                       stockext.adjust_price(t.low, t.symbol, t.ts, $10) AS low,
                       stockext.adjust_price(t.close, t.symbol, t.ts, $10) AS close,
                       stockext.adjust_volume(t.volume, t.symbol, t.ts) AS volume' END);
    END IF;

    IF fill = 'none' THEN
        RETURN QUERY EXECUTE data_sql || ' ORDER BY 1'
        USING symbol, width, start, stop, origin, tz, src, NULL::float8, false, adjust;
        RETURN;
    END IF;

    -- The close before the first bucket seeds 'previous': the last bar of
    -- a bucket starting before start, the one holding start included (a
    -- bar's bucket starts before start only if the bar is before start +
    -- width, the bound the index uses).
    IF fill IN ('previous', 'locf') AND src IS NOT NULL THEN
        SELECT stockext.adjust_price(t.close, t.symbol, t.ts, adjust) INTO prev FROM stockext.ticks t
        WHERE t.symbol = bars.symbol AND t.resolution = src
          AND t.ts < start + width
          AND stockext.rollup_bucket(t.ts, width, origin, tz) < start
        ORDER BY t.ts DESC LIMIT 1;
    END IF;

    -- With a calendar, empty buckets are filled only within its sessions.
    RETURN QUERY EXECUTE format($q$
        WITH data AS (%s),
        cal AS MATERIALIZED (SELECT stockext.symbol_calendar($1) AS name),
        sessions AS MATERIALIZED (SELECT s.* FROM cal, stockext.sessions(cal.name, $3, $4) s),
        grid AS (
            SELECT DISTINCT g AT TIME ZONE $6 AS bucket
            FROM generate_series(stockext.rollup_bucket($3, $2, $5, $6) AT TIME ZONE $6, $4 AT TIME ZONE $6, $2) g
        ),
        cells AS (
            SELECT g.bucket, d.open, d.high, d.low, d.close, d.volume, d.vwap, d.avg_close, d.n,
                   count(d.close) OVER (ORDER BY g.bucket) AS run
            FROM grid g LEFT JOIN data d ON d.bucket = g.bucket
            WHERE g.bucket >= $3 AND g.bucket < $4
              AND (d.bucket IS NOT NULL OR (SELECT c.name FROM cal c) IS NULL
                   OR EXISTS (SELECT FROM sessions s WHERE s.open < g.bucket + $2 AND s.close > g.bucket))
        ),
        carried AS (
            SELECT c.*, coalesce(first_value(c.close) OVER (PARTITION BY c.run ORDER BY c.bucket), $8) AS last_close
            FROM cells c
        )
        SELECT c.bucket,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.open ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.high ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.low ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.close ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 OR c.last_close IS NULL THEN c.volume ELSE 0 END,
               c.vwap,
               CASE WHEN c.n IS NOT NULL OR NOT $9 THEN c.avg_close ELSE c.last_close END,
               CASE WHEN c.n IS NOT NULL OR NOT $9 OR c.last_close IS NULL THEN c.n ELSE 0 END
        FROM carried c ORDER BY c.bucket$q$, data_sql)
    USING symbol, width, start, stop, origin, tz, src, prev, fill IN ('previous', 'locf'), adjust;
END
$$;
COMMENT ON FUNCTION stockext.bars(text, interval, timestamptz, timestamptz, text, text) IS
'one bar per bucket of width starting in [start, stop) for symbol (in any case); fill none (empty buckets absent), null (NULL rows) or previous/locf (flat candle at the previous close, volume 0); adjust none (as traded), splits or all (splits and dividends, from stockext.corporate_actions)';


------------------------------------------------------------------------------
-- Latest bars and ASOF
------------------------------------------------------------------------------

-- The bar in effect at an instant: the last bar of the symbol (in any case)
-- and resolution that starts at or before it, and no earlier than
-- tolerance before it when tolerance is given.  A plain SQL function,
-- neither STRICT nor given SET, so the planner inlines it: a LATERAL call
-- per row becomes one backward scan of the primary key, stopped by LIMIT 1,
-- on each monthly partition at or before the instant (run-time pruning
-- skips the later ones).  The collation is put back to the column's after
-- upper-casing in "C", or the key could not serve the comparison.  A NULL
-- symbol, instant or resolution finds no bar; a NULL tolerance is none.
CREATE FUNCTION stockext.asof(symbol text, at timestamptz, resolution interval DEFAULT '1 minute',
                              tolerance interval DEFAULT NULL)
RETURNS TABLE (ts timestamptz, open double precision, high double precision,
               low double precision, close double precision, volume bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT t.ts, t.open, t.high, t.low, t.close, t.volume
    FROM stockext.ticks t
    WHERE t.symbol = upper(asof.symbol COLLATE "C") COLLATE "default"
      AND t.resolution = asof.resolution
      AND t.ts <= asof.at
      AND (asof.tolerance IS NULL OR t.ts >= asof.at - asof.tolerance)
    ORDER BY t.ts DESC
    LIMIT 1;
END;
COMMENT ON FUNCTION stockext.asof(text, timestamptz, interval, interval) IS
'the bar in effect at an instant: the last bar of the symbol (in any case) and resolution starting at or before at, and not before at - tolerance when tolerance is given; no row when there is none or an argument other than tolerance is NULL; inlined, so a LATERAL call per row is one index probe of stockext.ticks per partition';

-- The newest bar of every (symbol, resolution) of stockext.ticks, kept in
-- the write path so that stockext.latest_bars reads one row per series.
-- The key of ticks leads with (symbol, ts), so no index finds the
-- resolutions of a symbol: a skip scan would read every bar of a series
-- to learn that it has no other resolution.  Dumped by pg_dump with the
-- bars, from the same snapshot.
CREATE TABLE stockext.latest_ticks (
    symbol     text             NOT NULL,
    resolution interval         NOT NULL,
    ts         timestamptz      NOT NULL,
    open       double precision NOT NULL,
    high       double precision NOT NULL,
    low        double precision NOT NULL,
    close      double precision NOT NULL,
    volume     bigint,
    PRIMARY KEY (symbol, resolution)
);
COMMENT ON TABLE stockext.latest_ticks IS
'the newest bar of each (symbol, resolution) of stockext.ticks, kept by its triggers; read it through stockext.latest_bars';
REVOKE ALL ON stockext.latest_ticks FROM PUBLIC;

-- Sets the rows of latest (stockext.latest_ticks) that still show the bar
-- (symbols[i], resolutions[i], stale[i]), which is gone, to the newest bar
-- of their series in ticks (stockext.ticks), or deletes them when none is
-- left.  On a Citus node the two are co-located shards; on a distributed
-- coordinator (retention) they are the distributed tables, and each
-- statement below names one symbol, so Citus sends it to that symbol's
-- shard.  A row whose bar a concurrent writer replaced since is no longer
-- stale: the UPDATE and the DELETE re-check "ts = stale" on its new
-- version and leave it alone.
CREATE FUNCTION stockext.latest_ticks_renew(symbols text[], resolutions interval[], stale timestamptz[],
                                            ticks regclass DEFAULT 'stockext.ticks',
                                            latest regclass DEFAULT 'stockext.latest_ticks')
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    g record;
    n record;
BEGIN
    FOR g IN SELECT DISTINCT u.symbol, u.resolution, u.ts
             FROM unnest(symbols, resolutions, stale) AS u(symbol, resolution, ts)
             ORDER BY 1, 2, 3
    LOOP
        EXECUTE format('SELECT t.ts, t.open, t.high, t.low, t.close, t.volume FROM %s t
                        WHERE t.symbol = $1 AND t.resolution = $2 ORDER BY t.ts DESC LIMIT 1', ticks)
            INTO n USING g.symbol, g.resolution;
        IF n.ts IS NOT NULL THEN
            EXECUTE format('UPDATE %s l SET ts = $4, open = $5, high = $6, low = $7, close = $8, volume = $9
                            WHERE l.symbol = $1 AND l.resolution = $2 AND l.ts = $3', latest)
                USING g.symbol, g.resolution, g.ts, n.ts, n.open, n.high, n.low, n.close, n.volume;
        ELSE
            EXECUTE format('DELETE FROM %s l WHERE l.symbol = $1 AND l.resolution = $2 AND l.ts = $3', latest)
                USING g.symbol, g.resolution, g.ts;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.latest_ticks_renew(text[], interval[], timestamptz[], regclass, regclass) IS
'internal: replaces the rows of latest (stockext.latest_ticks or a shard of it) still showing the given (symbol, resolution, ts) bars, which are gone, with the newest bar left in their series in ticks, or deletes them';
REVOKE ALL ON FUNCTION stockext.latest_ticks_renew(text[], interval[], timestamptz[], regclass, regclass) FROM PUBLIC;

-- Keeps stockext.latest_ticks current (src/latest.c).  Statement level
-- with transition tables, like the rollup invalidation: one statement per
-- write statement.  New and updated bars replace the row of their series
-- when they are at least as new (a late bar changes nothing); a deleted bar
-- that the row shows, or an updated one whose key changed, is replaced by
-- the newest bar left.  Fired on a shard of ticks on a Citus node, it
-- keeps the co-located shard of latest_ticks.  SECURITY DEFINER: whoever
-- may write bars keeps the table current, without rights on it.
CREATE FUNCTION stockext.latest_ticks_track()
RETURNS trigger
AS 'MODULE_PATHNAME', 'stockext_latest_ticks_track'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION stockext.latest_ticks_track() IS
'trigger: keeps stockext.latest_ticks the newest bar of each (symbol, resolution) through the inserts, updates, deletes and truncations of stockext.ticks';

CREATE TRIGGER latest_ticks_insert AFTER INSERT ON stockext.ticks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.latest_ticks_track();
CREATE TRIGGER latest_ticks_update AFTER UPDATE ON stockext.ticks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.latest_ticks_track();
CREATE TRIGGER latest_ticks_delete AFTER DELETE ON stockext.ticks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.latest_ticks_track();
CREATE TRIGGER latest_ticks_truncate AFTER TRUNCATE ON stockext.ticks
    FOR EACH STATEMENT EXECUTE FUNCTION stockext.latest_ticks_track();

-- Recomputes stockext.latest_ticks from the bars, for what its triggers
-- do not see: statements on a partition of ticks rather than on ticks
-- (TRUNCATE, DELETE, DROP or DETACH of a month), and the restore of a dump
-- made before 0.3.0.  Blocks writers of bars while it runs.
CREATE FUNCTION stockext.rebuild_latest_bars()
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    LOCK TABLE stockext.ticks IN SHARE MODE;
    DELETE FROM stockext.latest_ticks;
    INSERT INTO stockext.latest_ticks (symbol, resolution, ts, open, high, low, close, volume)
    SELECT DISTINCT ON (t.symbol, t.resolution)
           t.symbol, t.resolution, t.ts, t.open, t.high, t.low, t.close, t.volume
    FROM stockext.ticks t
    ORDER BY t.symbol, t.resolution, t.ts DESC;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION stockext.rebuild_latest_bars() IS
'recomputes the newest bar of every series (stockext.latest_bars) from stockext.ticks, for changes made to a partition of ticks directly; returns the series; blocks writers of bars while it runs';
REVOKE ALL ON FUNCTION stockext.rebuild_latest_bars() FROM PUBLIC;

-- The newest bar of every (symbol, resolution): one row read per series,
-- whatever the number of bars.
CREATE VIEW stockext.latest_bars AS
SELECT l.symbol, l.resolution, l.ts, l.open, l.high, l.low, l.close, l.volume, now() - l.ts AS age
FROM stockext.latest_ticks l;
COMMENT ON VIEW stockext.latest_bars IS
'the newest bar of each (symbol, resolution) in stockext.ticks and its age (now minus its start), read from stockext.latest_ticks: one row per series, whatever the number of bars';
REVOKE ALL ON stockext.latest_bars FROM PUBLIC;
