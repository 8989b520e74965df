-- stockext: market-data ingestion, analytics and rollups inside PostgreSQL.
\echo Use "CREATE EXTENSION stockext" to load this file. \quit

-- The extension's objects live in schema stockext (created by CREATE
-- EXTENSION from the control file).  Every function is schema-qualified and
-- pins nothing it does not need to.

------------------------------------------------------------------------------
-- Bars: validation
------------------------------------------------------------------------------

CREATE FUNCTION stockext.bar_problem(open float8, high float8, low float8,
                                     close float8, volume bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'stockext_bar_problem'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.bar_problem(float8, float8, float8, float8, bigint) IS
'why an OHLCV bar is impossible (non-positive or missing price, high below low/open/close, low above open/close, negative volume), or NULL when it is valid';

CREATE FUNCTION stockext.symbol_problem(symbol text)
RETURNS text
AS 'MODULE_PATHNAME', 'stockext_symbol_problem'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.symbol_problem(text) IS
'why a symbol is unacceptable (empty, over 32 bytes, characters other than letters, digits and . - ^ = _ / :), or NULL when it is valid';

-- Bars start on their resolution's grid: whole multiples of
-- gcd(resolution, 15 minutes) since 1970-01-01 00:00 UTC (README, "Bars").
CREATE FUNCTION stockext.ts_problem(ts timestamptz, resolution interval)
RETURNS text
AS 'MODULE_PATHNAME', 'stockext_ts_problem'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.ts_problem(timestamptz, interval) IS
'why a bar of the resolution cannot start at ts (not finite, or off the grid of whole multiples of gcd(resolution, 15 minutes) since 1970-01-01 00:00 UTC), or NULL when it can; NULL for a resolution that is not positive';

------------------------------------------------------------------------------
-- Bars: the ticks table
------------------------------------------------------------------------------

-- One OHLCV bar per (symbol, ts, resolution).  Bars of different resolutions
-- are different series: a daily bar and the minute bars of the same day
-- coexist, and every analytic or rollup reads one resolution at a time.
-- The primary key leads with (symbol, ts) so that
-- "WHERE symbol = $1 AND ts BETWEEN ..." and "ORDER BY ts DESC LIMIT n" are
-- index range scans.  The CHECK constraints mirror stockext.bar_problem(),
-- symbol_problem() and ts_problem() and are named for the rule they enforce.  PostgreSQL checks them in name
-- order, so the per-price rules (ticks_price_*) come before the range rules
-- (ticks_range_*): a zero open is reported as such, not as "low above open".
CREATE TABLE stockext.ticks (
    symbol      text             NOT NULL,
    ts          timestamptz      NOT NULL,
    resolution  interval         NOT NULL,
    open        double precision NOT NULL,
    high        double precision NOT NULL,
    low         double precision NOT NULL,
    close       double precision NOT NULL,
    volume      bigint,
    source      text             NOT NULL,
    ingested_at timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT ticks_pkey PRIMARY KEY (symbol, ts, resolution),
    CONSTRAINT ticks_price_close_positive CHECK (close > 0 AND close < 'Infinity'),
    CONSTRAINT ticks_price_high_positive CHECK (high > 0 AND high < 'Infinity'),
    CONSTRAINT ticks_price_low_positive CHECK (low > 0 AND low < 'Infinity'),
    CONSTRAINT ticks_price_open_positive CHECK (open > 0 AND open < 'Infinity'),
    CONSTRAINT ticks_range_high_not_below_close CHECK (high >= close),
    CONSTRAINT ticks_range_high_not_below_low CHECK (high >= low),
    CONSTRAINT ticks_range_high_not_below_open CHECK (high >= open),
    CONSTRAINT ticks_range_low_not_above_close CHECK (low <= close),
    CONSTRAINT ticks_range_low_not_above_open CHECK (low <= open),
    CONSTRAINT ticks_resolution_positive CHECK (resolution > interval '0'),
    CONSTRAINT ticks_symbol_valid CHECK (stockext.symbol_problem(symbol) IS NULL),
    CONSTRAINT ticks_ts_on_grid CHECK (stockext.ts_problem(ts, resolution) IS NULL),
    CONSTRAINT ticks_volume_not_negative CHECK (volume >= 0)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE stockext.ticks IS
'OHLCV bars, one per (symbol, ts, resolution); ts is the bar start; partitioned by month of ts (UTC)';
COMMENT ON COLUMN stockext.ticks.ts IS 'start of the bar, as an absolute instant';
COMMENT ON COLUMN stockext.ticks.resolution IS 'bar width: 1 minute, 5 minutes, 1 day, ...';
COMMENT ON COLUMN stockext.ticks.volume IS 'traded volume; NULL for instruments without volume (forex)';
COMMENT ON COLUMN stockext.ticks.source IS 'provider or feed that delivered the bar';
COMMENT ON COLUMN stockext.ticks.ingested_at IS 'when the bar was first stored or last changed';

-- Catches bars outside every monthly partition, so an insert never fails
-- for lack of a partition; stockext.create_partitions() moves them out.
CREATE TABLE stockext.ticks_default PARTITION OF stockext.ticks DEFAULT;
COMMENT ON TABLE stockext.ticks_default IS
'bars whose month has no partition yet; emptied by stockext.create_partitions()';
SELECT pg_catalog.pg_extension_config_dump('stockext.ticks_default', '');

-- Monthly partitions, [first of month, first of next month) in UTC, named
-- ticks_pYYYYMM.  Rows already in the default partition for a new month are
-- moved into it, so this is safe to call at any time and any number of times.
--
-- Locking: when every month exists it returns at once, taking no lock.
-- Otherwise it serializes creators with an advisory lock and then takes the
-- default partition in ACCESS EXCLUSIVE mode before moving rows (ATTACH needs
-- that lock anyway; taking it first keeps a concurrent writer from putting a
-- row of the new month into the default partition between the move and the
-- attach).  A writer that already holds locks on ticks in its transaction
-- (the ingest path) must not wait for those locks, or two of them deadlock:
-- with wait => false it gives up instead, returns NULL, and its bars land in
-- the default partition until a later call moves them.
CREATE FUNCTION stockext.create_partitions(start timestamptz, stop timestamptz,
                                           wait boolean DEFAULT true)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first   timestamp := date_trunc('month', start AT TIME ZONE 'UTC');
    month   timestamp;
    created integer := 0;
    name    text;
    lo      timestamptz;
    hi      timestamptz;
BEGIN
    IF start IS NULL OR stop IS NULL OR wait IS NULL THEN
        RAISE EXCEPTION 'partition range and wait must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF stop < start THEN
        RAISE EXCEPTION 'partition range ends before it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', start, stop);
    END IF;
    IF stop - start > interval '100 years' THEN
        RAISE EXCEPTION 'partition range is longer than 100 years'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF NOT EXISTS (SELECT FROM generate_series(first, stop AT TIME ZONE 'UTC', interval '1 month') m
                   WHERE to_regclass(format('stockext.%I', 'ticks_p' || to_char(m, 'YYYYMM'))) IS NULL) THEN
        RETURN 0;
    END IF;

    IF wait THEN
        PERFORM pg_advisory_xact_lock('stockext.ticks'::regclass::oid::bigint);
    ELSIF NOT pg_try_advisory_xact_lock('stockext.ticks'::regclass::oid::bigint) THEN
        RETURN NULL;
    END IF;
    -- While a restore has taken the primary key off ticks (see
    -- stockext.restore_drop_key) a new partition would get none: put it
    -- back first.  That takes ticks exclusively, so not while holding the
    -- default partition (a reader of ticks may be waiting for it), and not
    -- for a writer calling without waiting.
    IF NOT EXISTS (SELECT FROM pg_constraint c
                   WHERE c.conrelid = 'stockext.ticks'::regclass AND c.contype = 'p') THEN
        IF NOT wait THEN
            RETURN NULL;
        END IF;
        PERFORM stockext.restore_add_key('stockext.ticks', 'ticks_pkey');
    END IF;
    IF wait THEN
        LOCK TABLE stockext.ticks_default IN ACCESS EXCLUSIVE MODE;
    ELSE
        BEGIN
            LOCK TABLE stockext.ticks_default IN ACCESS EXCLUSIVE MODE NOWAIT;
        EXCEPTION WHEN lock_not_available THEN
            RETURN NULL;
        END;
    END IF;

    month := first;
    WHILE month <= stop AT TIME ZONE 'UTC' LOOP
        name := 'ticks_p' || to_char(month, 'YYYYMM');
        lo := month AT TIME ZONE 'UTC';
        hi := (month + interval '1 month') AT TIME ZONE 'UTC';
        IF to_regclass(format('stockext.%I', name)) IS NULL THEN
            EXECUTE format('CREATE TABLE stockext.%I (LIKE stockext.ticks INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
            EXECUTE format('WITH moved AS (DELETE FROM stockext.ticks_default WHERE ts >= $1 AND ts < $2 RETURNING *)
                            INSERT INTO stockext.%I SELECT * FROM moved', name)
                USING lo, hi;
            EXECUTE format('ALTER TABLE stockext.ticks ATTACH PARTITION stockext.%I FOR VALUES FROM (%L) TO (%L)',
                           name, lo, hi);
            created := created + 1;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION stockext.create_partitions(timestamptz, timestamptz, boolean) IS
'creates the monthly ticks partitions covering [start, stop], moving matching rows out of the default partition; returns how many it created, or NULL when wait is false and another transaction holds the locks it needs or a restore has yet to put the primary key of ticks back';
REVOKE ALL ON FUNCTION stockext.create_partitions(timestamptz, timestamptz, boolean) FROM PUBLIC;

-- No monthly partition exists at CREATE EXTENSION: they are not members of
-- the extension, so that pg_dump keeps them with their bars, and one made
-- here would clash with the dump's own when a restore runs in another month.
-- The worker creates the months a batch needs before storing it, backfill
-- likewise, maintain_partitions() those ahead; until then bars land in
-- ticks_default, and create_partitions() moves them out.

------------------------------------------------------------------------------
-- Bars: pg_dump and pg_restore
------------------------------------------------------------------------------

-- pg_dump writes each monthly partition out (they are not members) as
-- CREATE TABLE and "ALTER TABLE ONLY stockext.ticks ATTACH PARTITION"
-- before the data, then adds the partition's own primary key and attaches
-- it to ticks_pkey.  But CREATE EXTENSION made ticks with its key, so the
-- ATTACH would copy the key into the partition and the dump's own would
-- then fail.  src/restore.c has an event trigger that sees those statements
-- and calls the two functions below before them.

-- Before a restore attaches an empty table to parent: drops parent's
-- primary key, so the partitions restored from here on get only the key the
-- dump adds to each.  The partitions that had a copy of it (the default
-- partition; months made before the restore) get one of their own, which
-- stockext.restore_add_key attaches again.  First the lock
-- stockext.create_partitions takes, so that it never makes a partition
-- while the key is away.
CREATE FUNCTION stockext.restore_drop_key(parent regclass, attached regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key   record;
    parts regclass[];
    names name[];
BEGIN
    PERFORM pg_advisory_xact_lock(parent::oid::bigint);
    SELECT c.conname, c.conindid, pg_get_constraintdef(c.oid) AS def INTO key
    FROM pg_constraint c WHERE c.conrelid = parent AND c.contype = 'p';
    IF NOT FOUND OR pg_relation_size(attached) > 0 THEN
        RETURN;
    END IF;
    SELECT array_agg(c.conrelid::regclass ORDER BY c.conrelid), array_agg(c.conname ORDER BY c.conrelid)
      INTO parts, names
    FROM pg_inherits h JOIN pg_constraint c ON c.conindid = h.inhrelid AND c.contype = 'p'
    WHERE h.inhparent = key.conindid;
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', parent, key.conname);
    FOR i IN 1 .. coalesce(cardinality(parts), 0) LOOP
        EXECUTE format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s', parts[i], names[i], key.def);
    END LOOP;
END
$$;
COMMENT ON FUNCTION stockext.restore_drop_key(regclass, regclass) IS
'internal: during a restore, drops the primary key of a partitioned table of the extension that a restored partition is about to be attached to; its partitions keep keys of their own';
REVOKE ALL ON FUNCTION stockext.restore_drop_key(regclass, regclass) FROM PUBLIC;

-- Makes parent's primary key, called name, again: with ONLY, then with the
-- key of every partition that has one attached.  It is valid once the last
-- partition's key is attached: the dump attaches the others as it makes
-- them.  Returns false when parent has its key already (another session of
-- a pg_restore -j made it) or no partition has one to copy.
CREATE FUNCTION stockext.restore_add_key(parent regclass, name name)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keyed CONSTANT text := 'SELECT c.conrelid::regclass AS rel, c.conindid::regclass AS idx,
                                   pg_get_constraintdef(c.oid) AS def
                            FROM pg_inherits h JOIN pg_constraint c ON c.conrelid = h.inhrelid AND c.contype = ''p''
                            WHERE h.inhparent = $1 ORDER BY c.conrelid';
    part  record;
    def   text;
    key   regclass;
BEGIN
    -- The lock stockext.create_partitions takes.  Then the partitions before
    -- the parent: another session of a pg_restore -j may still be loading
    -- one, and it needs the parent (for the partition constraint) to finish.
    PERFORM pg_advisory_xact_lock(parent::oid::bigint);
    FOR part IN EXECUTE keyed USING parent LOOP
        EXECUTE format('LOCK TABLE %s IN SHARE MODE', part.rel);
        def := part.def;
    END LOOP;
    IF def IS NULL OR EXISTS (SELECT FROM pg_constraint c WHERE c.conrelid = parent AND c.contype = 'p') THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s', parent, name, def);
    SELECT c.conindid INTO key FROM pg_constraint c WHERE c.conrelid = parent AND c.contype = 'p';
    FOR part IN EXECUTE keyed USING parent LOOP
        EXECUTE format('ALTER INDEX %s ATTACH PARTITION %s', key, part.idx);
    END LOOP;
    RETURN true;
END
$$;
COMMENT ON FUNCTION stockext.restore_add_key(regclass, name) IS
'internal: makes the primary key of a partitioned table of the extension again after a restore dropped it, attaching the keys its partitions have';
REVOKE ALL ON FUNCTION stockext.restore_add_key(regclass, name) FROM PUBLIC;

CREATE FUNCTION stockext.restore_trigger()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'stockext_restore_trigger'
LANGUAGE C;
COMMENT ON FUNCTION stockext.restore_trigger() IS
'event trigger: lets pg_dump''s partitions of stockext.ticks be restored, dropping its primary key before the first ATTACH PARTITION of a restore and making it again before the dump attaches the partitions'' keys';
REVOKE ALL ON FUNCTION stockext.restore_trigger() FROM PUBLIC;
CREATE EVENT TRIGGER stockext_restore ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'ALTER INDEX')
    EXECUTE FUNCTION stockext.restore_trigger();

------------------------------------------------------------------------------
-- Bars: the write path
------------------------------------------------------------------------------

-- Inserts a bar or, when (symbol, ts, resolution) exists, updates it: an
-- intraday bar still forming is re-polled until it closes.  An unchanged
-- re-poll writes nothing.  An impossible bar raises check_violation naming
-- the rule it breaks.  The symbol is stored in upper case.
CREATE FUNCTION stockext.upsert_bar(symbol text, ts timestamptz, resolution interval,
                                    open float8, high float8, low float8, close float8,
                                    volume bigint, source text DEFAULT 'manual')
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    why text;
BEGIN
    IF symbol IS NULL OR ts IS NULL OR resolution IS NULL OR source IS NULL THEN
        RAISE EXCEPTION 'symbol, ts, resolution and source of a bar must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    why := coalesce(stockext.symbol_problem(symbol), stockext.ts_problem(ts, resolution),
                    stockext.bar_problem(open, high, low, close, volume));
    IF why IS NOT NULL THEN
        RAISE EXCEPTION 'invalid bar for "%" at %: %', symbol, ts, why
            USING ERRCODE = 'check_violation',
                  DETAIL = format('open %s, high %s, low %s, close %s, volume %s.',
                                  coalesce(open::text, 'NULL'), coalesce(high::text, 'NULL'),
                                  coalesce(low::text, 'NULL'), coalesce(close::text, 'NULL'),
                                  coalesce(volume::text, 'NULL'));
    END IF;
    INSERT INTO stockext.ticks AS t (symbol, ts, resolution, open, high, low, close, volume, source)
    VALUES (upper(symbol COLLATE "C"), ts, resolution, open, high, low, close, volume, source)
    ON CONFLICT ON CONSTRAINT ticks_pkey DO UPDATE
        SET open = excluded.open, high = excluded.high, low = excluded.low,
            close = excluded.close, volume = excluded.volume,
            source = excluded.source, ingested_at = excluded.ingested_at
        WHERE (t.open, t.high, t.low, t.close, t.volume, t.source)
              IS DISTINCT FROM
              (excluded.open, excluded.high, excluded.low, excluded.close,
               excluded.volume, excluded.source);
END
$$;
COMMENT ON FUNCTION stockext.upsert_bar(text, timestamptz, interval, float8, float8, float8, float8, bigint, text) IS
'inserts one bar or updates the stored bar with the same (symbol, ts, resolution), the symbol in upper case; rejects impossible bars and bars off their resolution''s grid with check_violation';

------------------------------------------------------------------------------
-- Analytics: aggregates
------------------------------------------------------------------------------

-- Every order-independent aggregate below keeps its plain-mode state in a
-- fixed-size base type updated in place (src/agg_state.c): text and binary
-- forms round-trip every double exactly whatever extra_float_digits says,
-- so sharded engines can ship partial states, and a combine function lets
-- parallel query split the work.  Sliding window frames use a moving-aggregate
-- state ("internal", never shipped) with an inverse transition: O(1) per row.

-- State of sma, mstddev_samp, mstddev_pop: counts, shift and double-double
-- sums of offsets from it (see src/agg_moments.h).
CREATE TYPE stockext.moments_state;
CREATE FUNCTION stockext.moments_state_in(cstring) RETURNS stockext.moments_state
AS 'MODULE_PATHNAME', 'stockext_moments_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.moments_state_out(stockext.moments_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_moments_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.moments_state_recv(internal) RETURNS stockext.moments_state
AS 'MODULE_PATHNAME', 'stockext_moments_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.moments_state_send(stockext.moments_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_moments_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.moments_state (
    INPUT = stockext.moments_state_in, OUTPUT = stockext.moments_state_out,
    RECEIVE = stockext.moments_state_recv, SEND = stockext.moments_state_send,
    INTERNALLENGTH = 72, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.moments_state IS
'partial state of sma, mstddev_samp and mstddev_pop: (finite count, NaN count, +Infinity count, -Infinity count, shift, sum of offsets hi, lo, sum of squared offsets hi, lo)';
COMMENT ON FUNCTION stockext.moments_state_in(cstring) IS 'text input of stockext.moments_state';
COMMENT ON FUNCTION stockext.moments_state_out(stockext.moments_state) IS 'text output of stockext.moments_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.moments_state_recv(internal) IS 'binary input of stockext.moments_state';
COMMENT ON FUNCTION stockext.moments_state_send(stockext.moments_state) IS 'binary output of stockext.moments_state';

CREATE FUNCTION stockext.moments_trans(stockext.moments_state, float8) RETURNS stockext.moments_state
AS 'MODULE_PATHNAME', 'stockext_moments_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_trans(stockext.moments_state, float8) IS
'transition of sma, mstddev_samp, mstddev_pop: adds a value (NULL skipped)';
CREATE FUNCTION stockext.moments_combine(stockext.moments_state, stockext.moments_state) RETURNS stockext.moments_state
AS 'MODULE_PATHNAME', 'stockext_moments_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_combine(stockext.moments_state, stockext.moments_state) IS
'combine of sma, mstddev_samp, mstddev_pop: merges two partial states';
CREATE FUNCTION stockext.moments_mtrans(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_moments_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_mtrans(internal, float8) IS
'moving-aggregate transition of sma, mstddev_samp, mstddev_pop: adds the value entering the frame';
CREATE FUNCTION stockext.moments_minv(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_moments_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_minv(internal, float8) IS
'inverse transition of sma, mstddev_samp, mstddev_pop: removes the value leaving the frame';

-- Each final function exists for the plain state and the moving one; the
-- moving state starts with the plain one, so both share the C code.
CREATE FUNCTION stockext.sma_final(stockext.moments_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_sma_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.sma_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_sma_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mstddev_samp_final(stockext.moments_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_samp_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mstddev_samp_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_samp_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mstddev_pop_final(stockext.moments_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_pop_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mstddev_pop_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_pop_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.sma_final(stockext.moments_state) IS 'final of sma: the mean';
COMMENT ON FUNCTION stockext.sma_mfinal(internal) IS 'moving-aggregate final of sma: the mean';
COMMENT ON FUNCTION stockext.mstddev_samp_final(stockext.moments_state) IS 'final of mstddev_samp: the sample standard deviation';
COMMENT ON FUNCTION stockext.mstddev_samp_mfinal(internal) IS 'moving-aggregate final of mstddev_samp: the sample standard deviation';
COMMENT ON FUNCTION stockext.mstddev_pop_final(stockext.moments_state) IS 'final of mstddev_pop: the population standard deviation';
COMMENT ON FUNCTION stockext.mstddev_pop_mfinal(internal) IS 'moving-aggregate final of mstddev_pop: the population standard deviation';

CREATE AGGREGATE stockext.sma(float8) (
    SFUNC = stockext.moments_trans, STYPE = stockext.moments_state,
    FINALFUNC = stockext.sma_final, COMBINEFUNC = stockext.moments_combine,
    MSFUNC = stockext.moments_mtrans, MINVFUNC = stockext.moments_minv,
    MSTYPE = internal, MFINALFUNC = stockext.sma_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.sma(float8) IS
'simple moving average: mean of the non-NULL values of the frame (or group); O(1) per row in sliding frames';
CREATE AGGREGATE stockext.mstddev_samp(float8) (
    SFUNC = stockext.moments_trans, STYPE = stockext.moments_state,
    FINALFUNC = stockext.mstddev_samp_final, COMBINEFUNC = stockext.moments_combine,
    MSFUNC = stockext.moments_mtrans, MINVFUNC = stockext.moments_minv,
    MSTYPE = internal, MFINALFUNC = stockext.mstddev_samp_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.mstddev_samp(float8) IS
'sample standard deviation of the non-NULL values, NULL below two; O(1) per row in sliding frames';
CREATE AGGREGATE stockext.mstddev_pop(float8) (
    SFUNC = stockext.moments_trans, STYPE = stockext.moments_state,
    FINALFUNC = stockext.mstddev_pop_final, COMBINEFUNC = stockext.moments_combine,
    MSFUNC = stockext.moments_mtrans, MINVFUNC = stockext.moments_minv,
    MSTYPE = internal, MFINALFUNC = stockext.mstddev_pop_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.mstddev_pop(float8) IS
'population standard deviation of the non-NULL values, NULL without any; O(1) per row in sliding frames';

-- vwap: volume and turnover as double-double sums.
CREATE TYPE stockext.vwap_state;
CREATE FUNCTION stockext.vwap_state_in(cstring) RETURNS stockext.vwap_state
AS 'MODULE_PATHNAME', 'stockext_vwap_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.vwap_state_out(stockext.vwap_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_vwap_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.vwap_state_recv(internal) RETURNS stockext.vwap_state
AS 'MODULE_PATHNAME', 'stockext_vwap_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.vwap_state_send(stockext.vwap_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_vwap_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.vwap_state (
    INPUT = stockext.vwap_state_in, OUTPUT = stockext.vwap_state_out,
    RECEIVE = stockext.vwap_state_recv, SEND = stockext.vwap_state_send,
    INTERNALLENGTH = 48, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.vwap_state IS
'partial state of vwap: (rows, non-finite rows, volume hi, lo, turnover hi, lo)';
COMMENT ON FUNCTION stockext.vwap_state_in(cstring) IS 'text input of stockext.vwap_state';
COMMENT ON FUNCTION stockext.vwap_state_out(stockext.vwap_state) IS 'text output of stockext.vwap_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.vwap_state_recv(internal) IS 'binary input of stockext.vwap_state';
COMMENT ON FUNCTION stockext.vwap_state_send(stockext.vwap_state) IS 'binary output of stockext.vwap_state';

CREATE FUNCTION stockext.vwap_trans(stockext.vwap_state, float8, float8) RETURNS stockext.vwap_state
AS 'MODULE_PATHNAME', 'stockext_vwap_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_trans(stockext.vwap_state, float8, float8) IS
'transition of vwap: adds a row (rows with a NULL are skipped)';
CREATE FUNCTION stockext.vwap_combine(stockext.vwap_state, stockext.vwap_state) RETURNS stockext.vwap_state
AS 'MODULE_PATHNAME', 'stockext_vwap_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_combine(stockext.vwap_state, stockext.vwap_state) IS
'combine of vwap: adds two partial states';
CREATE FUNCTION stockext.vwap_mtrans(internal, float8, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_vwap_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_mtrans(internal, float8, float8) IS
'moving-aggregate transition of vwap: adds the row entering the frame';
CREATE FUNCTION stockext.vwap_minv(internal, float8, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_vwap_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_minv(internal, float8, float8) IS
'inverse transition of vwap: removes the row leaving the frame';
CREATE FUNCTION stockext.vwap_final(stockext.vwap_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_vwap_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_final(stockext.vwap_state) IS 'final of vwap: turnover / volume';
CREATE FUNCTION stockext.vwap_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_vwap_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_mfinal(internal) IS 'moving-aggregate final of vwap: turnover / volume';

CREATE AGGREGATE stockext.vwap(price float8, volume float8) (
    SFUNC = stockext.vwap_trans, STYPE = stockext.vwap_state,
    FINALFUNC = stockext.vwap_final, COMBINEFUNC = stockext.vwap_combine,
    MSFUNC = stockext.vwap_mtrans, MINVFUNC = stockext.vwap_minv,
    MSTYPE = internal, MFINALFUNC = stockext.vwap_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.vwap(float8, float8) IS
'volume-weighted average price sum(price*volume)/sum(volume) over rows where both are non-NULL; NULL when the volume sum is 0';

-- volatility: order-dependent, so no combine and an internal state.
CREATE FUNCTION stockext.volatility_trans(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_volatility_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volatility_trans(internal, float8) IS
'transition of volatility: adds the log return from the previous value';
CREATE FUNCTION stockext.volatility_mtrans(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_volatility_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volatility_mtrans(internal, float8) IS
'moving-aggregate transition of volatility: adds and queues the log return from the previous value';
CREATE FUNCTION stockext.volatility_minv(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_volatility_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volatility_minv(internal, float8) IS
'inverse transition of volatility: removes the oldest value and its return';
-- The state starts with the returns' moments: mstddev_samp's final applies.
CREATE FUNCTION stockext.volatility_final(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_samp_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volatility_final(internal) IS
'final of volatility: sample standard deviation of the log returns, NULL below three values';

CREATE AGGREGATE stockext.volatility(float8) (
    SFUNC = stockext.volatility_trans, STYPE = internal,
    FINALFUNC = stockext.volatility_final,
    MSFUNC = stockext.volatility_mtrans, MINVFUNC = stockext.volatility_minv,
    MSTYPE = internal, MFINALFUNC = stockext.volatility_final,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.volatility(float8) IS
'sample standard deviation of the log returns ln(x_i/x_(i-1)) between consecutive non-NULL values in frame order (plain: volatility(x ORDER BY ts)); NULL below three values; not annualized';

-- mmax, mmin: one double in plain mode, a monotonic deque in moving mode.
CREATE TYPE stockext.extremum_state;
CREATE FUNCTION stockext.extremum_state_in(cstring) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_extremum_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_state_out(stockext.extremum_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_extremum_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_state_recv(internal) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_extremum_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_state_send(stockext.extremum_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_extremum_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.extremum_state (
    INPUT = stockext.extremum_state_in, OUTPUT = stockext.extremum_state_out,
    RECEIVE = stockext.extremum_state_recv, SEND = stockext.extremum_state_send,
    INTERNALLENGTH = 8, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.extremum_state IS 'partial state of mmax and mmin: (value)';
COMMENT ON FUNCTION stockext.extremum_state_in(cstring) IS 'text input of stockext.extremum_state';
COMMENT ON FUNCTION stockext.extremum_state_out(stockext.extremum_state) IS 'text output of stockext.extremum_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.extremum_state_recv(internal) IS 'binary input of stockext.extremum_state';
COMMENT ON FUNCTION stockext.extremum_state_send(stockext.extremum_state) IS 'binary output of stockext.extremum_state';

CREATE FUNCTION stockext.mmax_trans(stockext.extremum_state, float8) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_mmax_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION stockext.mmin_trans(stockext.extremum_state, float8) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_mmin_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION stockext.mmax_combine(stockext.extremum_state, stockext.extremum_state) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_mmax_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mmin_combine(stockext.extremum_state, stockext.extremum_state) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_mmin_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_final(stockext.extremum_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_extremum_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mmax_mtrans(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_mmax_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION stockext.mmin_mtrans(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_mmin_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_minv(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_extremum_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_extremum_mfinal' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.mmax_trans(stockext.extremum_state, float8) IS 'transition of mmax: keeps the largest value';
COMMENT ON FUNCTION stockext.mmin_trans(stockext.extremum_state, float8) IS 'transition of mmin: keeps the smallest value';
COMMENT ON FUNCTION stockext.mmax_combine(stockext.extremum_state, stockext.extremum_state) IS 'combine of mmax: the larger of two partial states';
COMMENT ON FUNCTION stockext.mmin_combine(stockext.extremum_state, stockext.extremum_state) IS 'combine of mmin: the smaller of two partial states';
COMMENT ON FUNCTION stockext.extremum_final(stockext.extremum_state) IS 'final of mmax and mmin: the value kept';
COMMENT ON FUNCTION stockext.mmax_mtrans(internal, float8) IS 'moving-aggregate transition of mmax: pushes the value entering the frame on the deque';
COMMENT ON FUNCTION stockext.mmin_mtrans(internal, float8) IS 'moving-aggregate transition of mmin: pushes the value entering the frame on the deque';
COMMENT ON FUNCTION stockext.extremum_minv(internal, float8) IS 'inverse transition of mmax and mmin: drops the value leaving the frame';
COMMENT ON FUNCTION stockext.extremum_mfinal(internal) IS 'moving-aggregate final of mmax and mmin: the front of the deque';

CREATE AGGREGATE stockext.mmax(float8) (
    SFUNC = stockext.mmax_trans, STYPE = stockext.extremum_state,
    FINALFUNC = stockext.extremum_final, COMBINEFUNC = stockext.mmax_combine,
    MSFUNC = stockext.mmax_mtrans, MINVFUNC = stockext.extremum_minv,
    MSTYPE = internal, MFINALFUNC = stockext.extremum_mfinal,
    SORTOP = >, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.mmax(float8) IS
'rolling high: the largest non-NULL value (NaN above all numbers, as max()); O(1) amortized per row in sliding frames';
CREATE AGGREGATE stockext.mmin(float8) (
    SFUNC = stockext.mmin_trans, STYPE = stockext.extremum_state,
    FINALFUNC = stockext.extremum_final, COMBINEFUNC = stockext.mmin_combine,
    MSFUNC = stockext.mmin_mtrans, MINVFUNC = stockext.extremum_minv,
    MSTYPE = internal, MFINALFUNC = stockext.extremum_mfinal,
    SORTOP = <, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.mmin(float8) IS
'rolling low: the smallest non-NULL value (NaN only when all are NaN, as min()); O(1) amortized per row in sliding frames';

-- Candles.  Rows are ordered by (ts, price) -- (ts, open) for the open and
-- (ts, close) for the close of the bar form --: open is the first, close
-- the last, so equal timestamps never make the result depend on arrival.
CREATE TYPE stockext.candle AS (
    open         float8,
    high         float8,
    low          float8,
    close        float8,
    volume       float8,
    vwap         float8,
    count        bigint,
    first_ts     timestamptz,
    last_ts      timestamptz,
    turnover     float8,
    volume_err   float8,
    turnover_err float8
);
COMMENT ON TYPE stockext.candle IS
'an OHLCV candle: open at the earliest ts, close at the latest, high, low, volume, vwap, row count, first and last ts, turnover sum(price*volume), and the rounding residuals of volume and turnover that keep rollup() exact';

CREATE TYPE stockext.candle_state;
CREATE FUNCTION stockext.candle_state_in(cstring) RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.candle_state_out(stockext.candle_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_candle_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.candle_state_recv(internal) RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.candle_state_send(stockext.candle_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_candle_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.candle_state (
    INPUT = stockext.candle_state_in, OUTPUT = stockext.candle_state_out,
    RECEIVE = stockext.candle_state_recv, SEND = stockext.candle_state_send,
    INTERNALLENGTH = 96, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.candle_state IS
'partial state of candle and rollup: (count, has volume, first ts, last ts, open, close, high, low, volume hi, lo, turnover hi, lo)';
COMMENT ON FUNCTION stockext.candle_state_in(cstring) IS 'text input of stockext.candle_state';
COMMENT ON FUNCTION stockext.candle_state_out(stockext.candle_state) IS 'text output of stockext.candle_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.candle_state_recv(internal) IS 'binary input of stockext.candle_state';
COMMENT ON FUNCTION stockext.candle_state_send(stockext.candle_state) IS 'binary output of stockext.candle_state';

CREATE FUNCTION stockext.candle_trans(stockext.candle_state, timestamptz, float8, float8)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_trans(stockext.candle_state, timestamptz, float8, float8) IS
'transition of candle(ts, price, volume): adds a trade (rows without ts or price skipped)';
CREATE FUNCTION stockext.candle_bar_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8, float8)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_bar_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_bar_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8, float8) IS
'transition of candle(ts, open, high, low, close, volume): adds a bar (rows without ts or a price skipped)';
CREATE FUNCTION stockext.candle_rollup_trans(stockext.candle_state, stockext.candle)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_rollup_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_rollup_trans(stockext.candle_state, stockext.candle) IS
'transition of rollup(candle): merges a candle (NULL skipped)';
CREATE FUNCTION stockext.candle_combine(stockext.candle_state, stockext.candle_state)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_combine(stockext.candle_state, stockext.candle_state) IS
'combine of candle and rollup: merges two partial candles';
CREATE FUNCTION stockext.candle_final(stockext.candle_state) RETURNS stockext.candle
AS 'MODULE_PATHNAME', 'stockext_candle_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_final(stockext.candle_state) IS 'final of candle and rollup: the candle';

CREATE AGGREGATE stockext.candle(ts timestamptz, price float8, volume float8) (
    SFUNC = stockext.candle_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, COMBINEFUNC = stockext.candle_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.candle(timestamptz, float8, float8) IS
'OHLCV candle of trades: open/close are the prices at the earliest/latest ts (ties: lowest price opens, highest closes), high, low, volume sum, vwap, count';
CREATE AGGREGATE stockext.candle(ts timestamptz, open float8, high float8, low float8, close float8, volume float8) (
    SFUNC = stockext.candle_bar_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, COMBINEFUNC = stockext.candle_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.candle(timestamptz, float8, float8, float8, float8, float8) IS
'OHLCV candle of bars: open of the earliest bar, close of the latest (ties: lowest open, highest close), highest high, lowest low, volume sum, vwap at the typical price (high+low+close)/3, count';
CREATE AGGREGATE stockext.rollup(stockext.candle) (
    SFUNC = stockext.candle_rollup_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, COMBINEFUNC = stockext.candle_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.rollup(stockext.candle) IS
'merges candles into one, equal to the candle of all their rows (30-minute candles into an hour)';

------------------------------------------------------------------------------
-- Analytics: window functions
------------------------------------------------------------------------------

-- Each is a WINDOW function that sees the rows of a partition once, in the
-- window's order, keeping its state in per-partition memory: O(1) per row.
-- Parameters must be the same on every row of a partition.  Results depend
-- only on the rows of the partition and their order: IMMUTABLE.  Not STRICT:
-- a NULL input yields the previous row's result (see the README).

CREATE FUNCTION stockext.ema(x float8, span integer)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_ema'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.ema(float8, integer) IS
'window function: exponential moving average with alpha = 2/(span+1), seeded with the first non-NULL x (pandas ewm(span, adjust=False)); a NULL x repeats the previous value';

CREATE FUNCTION stockext.ema(x float8, span integer, seed text)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_ema'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.ema(float8, integer, text) IS
'window function: exponential moving average with alpha = 2/(span+1); seed ''first'' starts from the first non-NULL x (pandas), ''sma'' from the mean of the first span non-NULL values, NULL before (TA-Lib)';

CREATE FUNCTION stockext.ema(x float8, ts timestamptz, half_life interval)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_ema_decay'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.ema(float8, timestamptz, interval) IS
'window function: time-decayed moving average for irregular series: ema = w*ema_prev + (1-w)*x with w = 0.5^((ts - ts_prev)/half_life); window must be ordered by ts';

CREATE FUNCTION stockext.pct_change(x float8, n integer DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_pct_change'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.pct_change(float8, integer) IS
'window function: 100*(x - x_prev)/x_prev where x_prev is x on the n-th previous row of the partition; NULL when there is no such row, either is NULL or x_prev = 0';

CREATE FUNCTION stockext.volume_spike(volume float8, n integer DEFAULT 3,
                                      factor float8 DEFAULT 2.0)
RETURNS boolean
AS 'MODULE_PATHNAME', 'stockext_volume_spike'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volume_spike(float8, integer, float8) IS
'window function: whether volume > factor * the mean of the non-NULL volumes of the n previous rows; NULL on the first n rows, when volume is NULL or all n previous volumes are';

CREATE FUNCTION stockext.rsi(x float8, period integer DEFAULT 14)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_rsi'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.rsi(float8, integer) IS
'window function: Wilder''s relative strength index (TA-Lib RSI), first value on the (period+1)-th non-NULL x; 50 while the series has not moved';

CREATE TYPE stockext.macd AS (line float8, signal float8, histogram float8);
COMMENT ON TYPE stockext.macd IS
'result of stockext.macd(): MACD line (fast EMA - slow EMA), its signal EMA, and line - signal';

CREATE FUNCTION stockext.macd(x float8, fast integer DEFAULT 12, slow integer DEFAULT 26,
                              signal integer DEFAULT 9)
RETURNS stockext.macd
AS 'MODULE_PATHNAME', 'stockext_macd'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.macd(float8, integer, integer, integer) IS
'window function: moving average convergence/divergence (TA-Lib MACD) as (line, signal, histogram), first value on the (slow+signal-1)-th non-NULL x';

CREATE TYPE stockext.bbands AS (middle float8, upper float8, lower float8);
COMMENT ON TYPE stockext.bbands IS
'result of stockext.bbands(): simple moving average and the bands k population standard deviations above and below it';

CREATE FUNCTION stockext.bbands(x float8, period integer DEFAULT 20, k float8 DEFAULT 2.0)
RETURNS stockext.bbands
AS 'MODULE_PATHNAME', 'stockext_bbands'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.bbands(float8, integer, float8) IS
'window function: Bollinger bands (TA-Lib BBANDS with SMA) over the last period non-NULL x as (middle, upper, lower); population standard deviation';

CREATE FUNCTION stockext.atr(high float8, low float8, close float8, period integer DEFAULT 14)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_atr'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.atr(float8, float8, float8, integer) IS
'window function: Wilder''s average true range (TA-Lib ATR), first value on the (period+1)-th row with high, low and close all non-NULL';

------------------------------------------------------------------------------
-- Copies: only the live database polls, evaluates alerts and posts webhooks
------------------------------------------------------------------------------

-- A restored dump, a template copy or a base backup carries the original's
-- feeds, keys, rules and webhooks.  Each database records which running
-- database is the live one; a copy finds another's identity there and stays
-- quiet until a superuser runs stockext.activate() in it.

CREATE FUNCTION stockext.instance_identity(OUT system_identifier bigint, OUT database_oid oid,
                                           OUT host text, OUT data_directory text)
RETURNS record
AS 'MODULE_PATHNAME', 'stockext_instance_identity'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.instance_identity() IS
'which running database this is: the cluster''s system identifier, the database OID, the host name and the data directory';
-- The data directory is for superusers only (as in pg_settings).
REVOKE ALL ON FUNCTION stockext.instance_identity() FROM PUBLIC;

-- The live database: one row, or none until the first add_feed, add_alert
-- or webhook (CREATE EXTENSION writes none, so that a restore, which runs
-- it before copying the dumped row, never looks live).  Dumped: a restored
-- copy keeps its original's row and so knows it is a copy.
CREATE TABLE stockext.activation (
    single            boolean     PRIMARY KEY DEFAULT true CHECK (single),
    system_identifier bigint      NOT NULL,
    database_oid      oid         NOT NULL,
    host              text        NOT NULL,
    data_directory    text        NOT NULL,
    database_name     name        NOT NULL DEFAULT current_database(),
    activated_at      timestamptz NOT NULL DEFAULT now(),
    activated_by      name        NOT NULL DEFAULT current_user
);
COMMENT ON TABLE stockext.activation IS
'the live database, the only one where the worker polls feeds, evaluates alerts and posts webhooks: its instance_identity() (database_name only for messages), when and by whom it was activated; empty until the first feed, alert or webhook';
REVOKE ALL ON stockext.activation FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.activation', '');

-- Why the worker of this database stays quiet; NULL in the live database.
-- SECURITY DEFINER: feed_status and worker_status show the reason to whoever
-- may read them, without access to the identity (the data directory).
CREATE FUNCTION stockext.idle_reason()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN a.single IS NULL THEN 'not activated'
        WHEN (a.system_identifier, a.database_oid, a.host, a.data_directory)
             = (me.system_identifier, me.database_oid, me.host, me.data_directory) THEN NULL
        ELSE format('copy of database "%s" on host "%s" (restored dump, template copy, base backup or failover)',
                    a.database_name, a.host)
    END
    FROM stockext.instance_identity() me
    LEFT JOIN stockext.activation a ON true;
END;
COMMENT ON FUNCTION stockext.idle_reason() IS
'why this database is quiet (not activated, or a copy of the live database), NULL when it is the live one';

-- Raises object_not_in_prerequisite_state in a quiet database.
CREATE FUNCTION stockext.check_live()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reason text := stockext.idle_reason();
BEGIN
    IF reason IS NOT NULL THEN
        RAISE EXCEPTION 'stockext is quiet in this database: %', reason
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Only the live database evaluates alerts, sends their notifications and posts webhooks.',
                  HINT = 'If this database is the live one now, run SELECT stockext.activate().';
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.check_live() IS
'raises object_not_in_prerequisite_state with the reason when this database is quiet (see idle_reason)';

-- Asks this database's worker to start its next round now, at commit.
CREATE FUNCTION stockext.wake_worker()
RETURNS void
AS 'MODULE_PATHNAME', 'stockext_wake_worker'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION stockext.wake_worker() IS
'asks the ingestion worker of this database to start its next round when the transaction commits';
REVOKE ALL ON FUNCTION stockext.wake_worker() FROM PUBLIC;

-- Makes this database the live one: its worker polls, evaluates alerts and
-- posts webhooks from its next round.  Safe to repeat.
CREATE FUNCTION stockext.activate()
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    was text := stockext.idle_reason();
BEGIN
    IF was IS NULL THEN
        RETURN 'already live';
    END IF;
    INSERT INTO stockext.activation AS a (system_identifier, database_oid, host, data_directory)
    SELECT * FROM stockext.instance_identity()
    ON CONFLICT (single) DO UPDATE
        SET system_identifier = excluded.system_identifier, database_oid = excluded.database_oid,
            host = excluded.host, data_directory = excluded.data_directory,
            database_name = excluded.database_name, activated_at = excluded.activated_at,
            activated_by = excluded.activated_by;
    PERFORM stockext.wake_worker();
    RETURN 'activated; it was idle: ' || was;
END
$$;
COMMENT ON FUNCTION stockext.activate() IS
'makes this database the live one, whose worker polls its feeds, evaluates alerts and posts webhooks (after a restore, a template copy, a base backup or a failover); returns what it was before';
REVOKE ALL ON FUNCTION stockext.activate() FROM PUBLIC;

-- Called by add_feed, add_alert and the webhook setters: the first of them
-- in a database never activated makes it the live one; in a copy they warn.
CREATE FUNCTION stockext.activate_on_first_use()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reason text;
BEGIN
    IF NOT EXISTS (SELECT FROM stockext.activation) THEN
        PERFORM stockext.activate();
        RETURN;
    END IF;
    reason := stockext.idle_reason();
    IF reason IS NOT NULL THEN
        RAISE WARNING 'this database stays quiet: %', reason
            USING DETAIL = 'Its feeds are not polled, its alerts not evaluated and its webhooks not posted until it is activated.',
                  HINT = 'If this database is the live one now, run SELECT stockext.activate().';
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.activate_on_first_use() IS
'internal: activates a database that never was (its first feed, alert or webhook); warns in a quiet copy';
REVOKE ALL ON FUNCTION stockext.activate_on_first_use() FROM PUBLIC;
------------------------------------------------------------------------------
-- Ingestion: feeds and the worker
------------------------------------------------------------------------------

-- Feeds: what the worker polls.  Provider, symbols and resolution decide the
-- requests; poll_every how often.  API keys live apart in feed_keys, which
-- only superusers can read.
CREATE TABLE stockext.feeds (
    id          serial      PRIMARY KEY,
    provider    text        NOT NULL,
    symbols     text[]      NOT NULL,
    resolution  interval    NOT NULL,
    poll_every  interval    NOT NULL,
    paused      boolean     NOT NULL DEFAULT false,
    seed        bigint      NOT NULL DEFAULT 0,
    keep_raw    boolean     NOT NULL DEFAULT false,
    raw_retention interval  NOT NULL DEFAULT '7 days',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT feeds_provider_known
        CHECK (provider IN ('twelvedata', 'alphavantage', 'yahoo', 'simulated')),
    CONSTRAINT feeds_poll_every_positive CHECK (poll_every > interval '0'),
    CONSTRAINT feeds_symbols_not_empty CHECK (cardinality(symbols) > 0)
);
COMMENT ON TABLE stockext.feeds IS
'market-data feeds polled by the ingestion worker; change them with add_feed, change_feed, pause_feed, resume_feed, remove_feed';
COMMENT ON COLUMN stockext.feeds.seed IS 'seed of the simulated random walk (simulated feeds only)';
COMMENT ON COLUMN stockext.feeds.keep_raw IS 'keep the raw reply of each successful poll in stockext.raw_replies';
COMMENT ON COLUMN stockext.feeds.raw_retention IS 'how long raw replies are kept';
REVOKE ALL ON stockext.feeds FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.feeds', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.feeds_id_seq', '');

CREATE TABLE stockext.feed_keys (
    feed_id integer PRIMARY KEY REFERENCES stockext.feeds ON DELETE CASCADE,
    api_key text    NOT NULL
);
COMMENT ON TABLE stockext.feed_keys IS
'API keys of the feeds; readable by superusers only';
REVOKE ALL ON stockext.feed_keys FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.feed_keys', '');

-- What the worker last did with each feed.  A feed without a row here is
-- due at once.
CREATE TABLE stockext.feed_state (
    feed_id              integer PRIMARY KEY REFERENCES stockext.feeds ON DELETE CASCADE,
    last_poll            timestamptz,
    last_success         timestamptz,
    last_error           timestamptz,
    last_error_message   text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    next_poll_at         timestamptz NOT NULL DEFAULT '-infinity',
    bars_stored          bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE stockext.feed_state IS
'per feed: when it was last polled, last succeeded and failed, its failure streak and when it is due next';
REVOKE ALL ON stockext.feed_state FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.feed_state', '');

CREATE TABLE stockext.rejects (
    at         timestamptz NOT NULL DEFAULT now(),
    feed_id    integer,
    source     text        NOT NULL,
    symbol     text,
    ts         timestamptz,
    resolution interval,
    open       double precision,
    high       double precision,
    low        double precision,
    close      double precision,
    volume     bigint,
    reason     text        NOT NULL
);
COMMENT ON TABLE stockext.rejects IS
'bars that failed validation, with the reason; the rest of their batch was stored';
REVOKE ALL ON stockext.rejects FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.rejects', '');
CREATE INDEX rejects_at ON stockext.rejects (at);

CREATE TABLE stockext.raw_replies (
    feed_id integer     NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    reply   jsonb       NOT NULL
);
COMMENT ON TABLE stockext.raw_replies IS
'raw reply of each successful poll of the feeds that keep them (keep_raw), for audits and re-parsing; pruned after the feed''s raw_retention';
REVOKE ALL ON stockext.raw_replies FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.raw_replies', '');
CREATE INDEX raw_replies_feed_at ON stockext.raw_replies (feed_id, at);

-- Keeps a raw reply and prunes the feed's replies older than its retention.
CREATE FUNCTION stockext.keep_raw_reply(feed integer, reply text)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO stockext.raw_replies (feed_id, reply) VALUES (feed, reply::jsonb);
    DELETE FROM stockext.raw_replies r
     USING stockext.feeds f
     WHERE f.id = feed AND r.feed_id = feed AND r.at < now() - f.raw_retention;
END;
COMMENT ON FUNCTION stockext.keep_raw_reply(integer, text) IS
'stores a raw provider reply of a feed and drops its replies older than the feed''s raw_retention (used by the worker)';
REVOKE ALL ON FUNCTION stockext.keep_raw_reply(integer, text) FROM PUBLIC;

CREATE TABLE stockext.errors (
    at          timestamptz NOT NULL DEFAULT now(),
    feed_id     integer,
    provider    text        NOT NULL,
    http_status integer,
    message     text        NOT NULL
);
COMMENT ON TABLE stockext.errors IS
'failed polls: when, which feed and provider, the HTTP status if any, and what went wrong';
REVOKE ALL ON stockext.errors FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('stockext.errors', '');
CREATE INDEX errors_at ON stockext.errors (at);

-- Resolutions each provider serves.  The simulated feed serves any whole
-- number of seconds from one second to one week.
CREATE FUNCTION stockext.provider_resolutions(provider text)
RETURNS interval[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE provider
    WHEN 'twelvedata' THEN ARRAY['1 min', '5 min', '15 min', '30 min', '45 min', '1 hour',
                                 '2 hours', '4 hours', '1 day', '7 days']::interval[]
    WHEN 'alphavantage' THEN ARRAY['1 min', '5 min', '15 min', '30 min', '1 hour', '1 day']::interval[]
    WHEN 'yahoo' THEN ARRAY['1 min', '2 min', '5 min', '15 min', '30 min', '1 hour', '90 min',
                            '1 day', '7 days']::interval[]
END;
COMMENT ON FUNCTION stockext.provider_resolutions(text) IS
'bar resolutions the provider serves (NULL for the simulated feed, which serves any whole number of seconds up to a week, and for unknown providers)';

-- Raises a clear error for the first thing wrong with a feed definition.
CREATE FUNCTION stockext.check_feed(provider text, symbols text[], resolution interval,
                                    poll_every interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s   text;
    why text;
BEGIN
    IF provider IS NULL THEN
        RAISE EXCEPTION 'provider must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF provider NOT IN ('twelvedata', 'alphavantage', 'yahoo', 'simulated') THEN
        RAISE EXCEPTION 'unknown provider "%"', provider
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of twelvedata, alphavantage, yahoo, simulated.';
    END IF;
    IF symbols IS NULL OR cardinality(symbols) = 0 THEN
        RAISE EXCEPTION 'a feed needs at least one symbol'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH s IN ARRAY symbols LOOP
        IF s IS NULL THEN
            RAISE EXCEPTION 'symbols must not contain NULL'
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
        why := stockext.symbol_problem(s);
        IF why IS NOT NULL THEN
            RAISE EXCEPTION 'invalid symbol "%"', s
                USING ERRCODE = 'invalid_parameter_value', DETAIL = initcap(left(why, 1)) || substr(why, 2) || '.';
        END IF;
    END LOOP;
    -- Symbols are case-insensitive: "aapl" repeats "AAPL".
    IF cardinality(symbols) <> (SELECT count(DISTINCT upper(x COLLATE "C")) FROM unnest(symbols) x) THEN
        RAISE EXCEPTION 'symbols must not repeat'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Symbols are compared in upper case.';
    END IF;
    IF resolution IS NULL THEN
        RAISE EXCEPTION 'resolution must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF provider = 'simulated' THEN
        IF extract(month FROM resolution) <> 0 OR extract(year FROM resolution) <> 0
           OR resolution < interval '1 second' OR resolution > interval '7 days'
           OR extract(epoch FROM resolution) <> trunc(extract(epoch FROM resolution)) THEN
            RAISE EXCEPTION 'resolution "%" is not supported by provider "simulated"', resolution
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The simulated feed serves whole numbers of seconds from 1 second to 7 days.';
        END IF;
    ELSIF NOT resolution = ANY (stockext.provider_resolutions(provider)) THEN
        RAISE EXCEPTION 'resolution "%" is not supported by provider "%"', resolution, provider
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Provider "%s" serves %s.', provider,
                                  array_to_string(stockext.provider_resolutions(provider), ', '));
    END IF;
    IF poll_every IS NULL OR poll_every < interval '1 second' THEN
        RAISE EXCEPTION 'poll_every must be at least 1 second'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('poll_every is %s.', coalesce(poll_every::text, 'NULL'));
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.check_feed(text, text[], interval, interval) IS
'raises invalid_parameter_value naming what is wrong with a feed definition (provider, symbols, resolution, poll interval of at least 1 second)';

-- Raises duplicate_object when another feed of the provider polls one of
-- the symbols at the resolution: both would spend requests on the same bars.
CREATE FUNCTION stockext.check_feed_unique(feed integer, provider text, symbols text[],
                                           resolution interval)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    other integer;
    sym   text;
BEGIN
    SELECT f.id, s INTO other, sym
    FROM stockext.feeds f CROSS JOIN unnest(f.symbols) s
    WHERE f.provider = check_feed_unique.provider AND f.resolution = check_feed_unique.resolution
      AND f.id IS DISTINCT FROM feed AND s = ANY (check_feed_unique.symbols)
    ORDER BY f.id, s LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'symbol "%" already has a feed from provider "%" at resolution "%"',
                        sym, provider, resolution
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('Feed %s polls "%s" at that resolution.', other, sym),
                  HINT = format('Change the symbols of feed %s, or remove it.', other);
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.check_feed_unique(integer, text, text[], interval) IS
'raises duplicate_object when a feed other than feed polls one of the symbols from the provider at the resolution';

-- Adds a feed and returns its id.  Pass the key as a bound parameter, not
-- a literal: see "API keys" in the README.  Symbols are stored in upper
-- case; feed changes take turns (the lock), so two cannot add one symbol.
CREATE FUNCTION stockext.add_feed(provider text, symbols text[], resolution interval,
                                  poll_every interval, api_key text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    feed integer;
BEGIN
    PERFORM stockext.check_feed(provider, symbols, resolution, poll_every);
    symbols := ARRAY(SELECT upper(s COLLATE "C") FROM unnest(symbols) WITH ORDINALITY AS u(s, n) ORDER BY n);
    LOCK TABLE stockext.feeds IN SHARE ROW EXCLUSIVE MODE;
    PERFORM stockext.check_feed_unique(NULL, provider, symbols, resolution);
    INSERT INTO stockext.feeds (provider, symbols, resolution, poll_every)
    VALUES (provider, symbols, resolution, poll_every)
    RETURNING id INTO feed;
    IF api_key IS NOT NULL THEN
        PERFORM stockext.set_api_key(feed, api_key);
    END IF;
    PERFORM stockext.activate_on_first_use();
    RETURN feed;
END
$$;

-- Checks that a feed exists and returns its provider.
CREATE FUNCTION stockext.feed_provider(feed integer)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p text;
BEGIN
    IF feed IS NULL THEN
        RAISE EXCEPTION 'feed must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the id of a feed: SELECT id FROM stockext.feeds.';
    END IF;
    SELECT f.provider INTO p FROM stockext.feeds f WHERE f.id = feed;
    IF p IS NULL THEN
        RAISE EXCEPTION 'feed % does not exist', feed
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN p;
END
$$;
COMMENT ON FUNCTION stockext.feed_provider(integer) IS
'the provider of a feed; raises null_value_not_allowed for NULL and undefined_object when the feed does not exist';

CREATE FUNCTION stockext.set_api_key(feed integer, api_key text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF stockext.feed_provider(feed) IN ('yahoo', 'simulated') THEN
        RAISE EXCEPTION 'provider "%" takes no API key', stockext.feed_provider(feed)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF api_key IS NULL OR api_key = '' THEN
        DELETE FROM stockext.feed_keys k WHERE k.feed_id = feed;
    ELSE
        INSERT INTO stockext.feed_keys AS k (feed_id, api_key) VALUES (feed, api_key)
        ON CONFLICT (feed_id) DO UPDATE SET api_key = excluded.api_key;
    END IF;
END
$$;

-- NULL arguments keep the current value.  The feed is due at once.  The
-- result is checked as add_feed checks a new feed.
CREATE FUNCTION stockext.change_feed(feed integer, symbols text[] DEFAULT NULL,
                                     resolution interval DEFAULT NULL,
                                     poll_every interval DEFAULT NULL,
                                     seed bigint DEFAULT NULL,
                                     keep_raw boolean DEFAULT NULL,
                                     raw_retention interval DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f stockext.feeds;
BEGIN
    PERFORM stockext.feed_provider(feed);
    LOCK TABLE stockext.feeds IN SHARE ROW EXCLUSIVE MODE;
    SELECT * INTO f FROM stockext.feeds WHERE id = feed FOR UPDATE;
    f.symbols := coalesce(symbols, f.symbols);
    f.resolution := coalesce(resolution, f.resolution);
    f.poll_every := coalesce(poll_every, f.poll_every);
    f.seed := coalesce(seed, f.seed);
    f.keep_raw := coalesce(keep_raw, f.keep_raw);
    f.raw_retention := coalesce(raw_retention, f.raw_retention);
    PERFORM stockext.check_feed(f.provider, f.symbols, f.resolution, f.poll_every);
    f.symbols := ARRAY(SELECT upper(s COLLATE "C") FROM unnest(f.symbols) WITH ORDINALITY AS u(s, n) ORDER BY n);
    PERFORM stockext.check_feed_unique(feed, f.provider, f.symbols, f.resolution);
    IF f.raw_retention <= interval '0' THEN
        RAISE EXCEPTION 'raw_retention must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE stockext.feeds
       SET symbols = f.symbols, resolution = f.resolution,
           poll_every = f.poll_every, seed = f.seed,
           keep_raw = f.keep_raw, raw_retention = f.raw_retention
     WHERE id = feed;
    UPDATE stockext.feed_state SET next_poll_at = '-infinity' WHERE feed_id = feed;
END
$$;

CREATE FUNCTION stockext.pause_feed(feed integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.feed_provider(feed);
    UPDATE stockext.feeds SET paused = true WHERE id = feed;
END
$$;

-- A resumed feed is due at once and starts with a clean failure streak.
CREATE FUNCTION stockext.resume_feed(feed integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.feed_provider(feed);
    UPDATE stockext.feeds SET paused = false WHERE id = feed;
    UPDATE stockext.feed_state
       SET consecutive_failures = 0, next_poll_at = '-infinity'
     WHERE feed_id = feed;
END
$$;

-- Removes the feed, its key and state; its bars, rejects and errors stay.
CREATE FUNCTION stockext.remove_feed(feed integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM stockext.feed_provider(feed);
    DELETE FROM stockext.feeds WHERE id = feed;
END
$$;

COMMENT ON FUNCTION stockext.add_feed(text, text[], interval, interval, text) IS
'adds a feed polled by the ingestion worker and returns its id; symbols are stored in upper case, each polled by one feed per provider and resolution; the key is stored apart, readable by superusers only';
COMMENT ON FUNCTION stockext.set_api_key(integer, text) IS
'sets (or with NULL removes) the API key of a feed';
COMMENT ON FUNCTION stockext.change_feed(integer, text[], interval, interval, bigint, boolean, interval) IS
'changes the symbols, resolution, poll interval, simulation seed or raw-reply keeping of a feed (NULL keeps a value); the feed is due at once';
COMMENT ON FUNCTION stockext.pause_feed(integer) IS 'stops polling a feed until resume_feed';
COMMENT ON FUNCTION stockext.resume_feed(integer) IS 'polls a paused feed again, at once';
COMMENT ON FUNCTION stockext.remove_feed(integer) IS 'removes a feed with its key and state; stored bars stay';
REVOKE ALL ON FUNCTION stockext.add_feed(text, text[], interval, interval, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.set_api_key(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.change_feed(integer, text[], interval, interval, bigint, boolean, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.pause_feed(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.resume_feed(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.remove_feed(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION stockext.feed_provider(integer) FROM PUBLIC;

-- Records the outcome of one poll.  A failure is logged in stockext.errors
-- and delays the next poll exponentially: poll_every * 2^failures, at most
-- max_backoff, times a random factor in [0.5, 1) so that feeds failing
-- together do not retry together.  A success resets the streak.
CREATE FUNCTION stockext.record_poll(feed integer, bars bigint, error text,
                                     http_status integer, max_backoff interval)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f        stockext.feeds;
    failures integer;
BEGIN
    SELECT * INTO f FROM stockext.feeds WHERE id = feed;
    IF NOT FOUND THEN
        RETURN;                 -- removed while it was being polled
    END IF;
    INSERT INTO stockext.feed_state AS s (feed_id) VALUES (feed) ON CONFLICT DO NOTHING;
    IF error IS NULL THEN
        UPDATE stockext.feed_state
           SET last_poll = now(), last_success = now(), consecutive_failures = 0,
               next_poll_at = now() + f.poll_every, bars_stored = bars_stored + coalesce(bars, 0)
         WHERE feed_id = feed;
    ELSE
        INSERT INTO stockext.errors (feed_id, provider, http_status, message)
        VALUES (feed, f.provider, http_status, error);
        UPDATE stockext.feed_state
           SET last_poll = now(), last_error = now(), last_error_message = error,
               consecutive_failures = consecutive_failures + 1
         WHERE feed_id = feed
        RETURNING consecutive_failures INTO failures;
        UPDATE stockext.feed_state
           SET next_poll_at = now() + least(f.poll_every * power(2, least(failures, 30)), max_backoff)
                                      * (0.5 + random() / 2)
         WHERE feed_id = feed;
    END IF;
END
$$;
COMMENT ON FUNCTION stockext.record_poll(integer, bigint, text, integer, interval) IS
'records a poll of a feed: success resets its failure streak, failure logs an error and backs off exponentially with jitter (used by the worker)';
REVOKE ALL ON FUNCTION stockext.record_poll(integer, bigint, text, integer, interval) FROM PUBLIC;

CREATE VIEW stockext.feed_status AS
SELECT f.id, f.provider, f.symbols, f.resolution, f.poll_every, f.paused,
       EXISTS (SELECT 1 FROM stockext.feed_keys k WHERE k.feed_id = f.id) AS has_api_key,
       s.last_poll, s.last_success, s.last_error, s.last_error_message,
       coalesce(s.consecutive_failures, 0) AS consecutive_failures,
       s.next_poll_at, coalesce(s.bars_stored, 0) AS bars_stored,
       newest.ts AS newest_bar, now() - newest.ts AS lag,
       (SELECT stockext.idle_reason()) AS idle_reason
FROM stockext.feeds f
LEFT JOIN stockext.feed_state s ON s.feed_id = f.id
LEFT JOIN LATERAL (
    SELECT max(last.ts) AS ts
    FROM unnest(f.symbols) AS sym
    CROSS JOIN LATERAL (SELECT t.ts FROM stockext.ticks t
                        WHERE t.symbol = sym AND t.resolution = f.resolution
                        ORDER BY t.ts DESC LIMIT 1) AS last
) AS newest ON true;
COMMENT ON VIEW stockext.feed_status IS
'per feed: last poll, last success, last error, failure streak, next poll, bars stored, newest stored bar and its lag behind now, and why it is not polled if this database is quiet (a copy, or not activated)';
REVOKE ALL ON stockext.feed_status FROM PUBLIC;

-- The simulated market: a deterministic random walk per (seed, symbol).
-- Not STRICT: a NULL argument raises an error naming it.
CREATE FUNCTION stockext.simulate_bars(symbol text, start timestamptz, stop timestamptz,
                                       resolution interval DEFAULT '1 minute',
                                       seed bigint DEFAULT 0)
RETURNS TABLE (ts timestamptz, open double precision, high double precision,
               low double precision, close double precision, volume bigint)
AS 'MODULE_PATHNAME', 'stockext_simulate_bars'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION stockext.simulate_bars(text, timestamptz, timestamptz, interval, bigint) IS
'the simulated feed''s complete bars starting in [start, stop): a seeded geometric random walk, the same for the same seed, symbol and bar time';

-- Stores the simulated bars starting in [start, stop) as they stand now (the
-- bar still forming included) through the worker's write path.
CREATE FUNCTION stockext.ingest_simulated(symbol text, start timestamptz, stop timestamptz,
                                          resolution interval, seed bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'stockext_ingest_simulated'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION stockext.ingest_simulated(text, timestamptz, timestamptz, interval, bigint) IS
'stores the simulated bars of a symbol starting in [start, stop) that have begun by now; returns how many rows changed';
REVOKE ALL ON FUNCTION stockext.ingest_simulated(text, timestamptz, timestamptz, interval, bigint) FROM PUBLIC;

-- Fetches one request's worth of history from an HTTP provider with the
-- key of the provider's first keyed feed, within the request limits.
CREATE FUNCTION stockext.fetch_history(provider text, symbol text, start timestamptz,
                                       stop timestamptz, resolution interval)
RETURNS bigint
AS 'MODULE_PATHNAME', 'stockext_fetch_history'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION stockext.fetch_history(text, text, timestamptz, timestamptz, interval) IS
'fetches the bars of [start, stop) of a symbol with one request to an HTTP provider and stores them; returns rows changed (used by backfill)';
REVOKE ALL ON FUNCTION stockext.fetch_history(text, text, timestamptz, timestamptz, interval) FROM PUBLIC;

-- Fetches history in chunks, with a NOTICE per chunk.  Upserts, so it is
-- safe to re-run and to overlap with the worker.  Nothing starts after
-- now, so the chunks end there: a stop in the future costs no request.
CREATE FUNCTION stockext.backfill(provider text, symbol text, start timestamptz,
                                  stop timestamptz, resolution interval)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chunk  interval;
    lo     timestamptz;
    hi     timestamptz;
    total  bigint := 0;
    feed_seed bigint;
    newest timestamptz;
BEGIN
    IF symbol IS NULL THEN
        RAISE EXCEPTION 'symbol must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM stockext.check_feed(provider, ARRAY[symbol], resolution, resolution);
    symbol := upper(symbol COLLATE "C");
    IF start IS NULL OR stop IS NULL OR stop <= start THEN
        RAISE EXCEPTION 'backfill range must be non-empty'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('start is %s, stop is %s.', coalesce(start::text, 'NULL'),
                                  coalesce(stop::text, 'NULL'));
    END IF;
    -- The seed of the symbol's simulated feed, so history and live agree.
    SELECT f.seed INTO feed_seed FROM stockext.feeds f
     WHERE f.provider = 'simulated' AND symbol = ANY (f.symbols) AND f.resolution = backfill.resolution
     ORDER BY f.id LIMIT 1;
    -- Chunks: what one request can return (5000 bars; Yahoo minute bars
    -- 7 days; Alpha Vantage intraday history a UTC month per request).
    chunk := CASE WHEN provider = 'simulated' THEN resolution * 10000
                  WHEN provider = 'yahoo' AND resolution < interval '1 hour' THEN interval '7 days'
                  ELSE resolution * 5000 END;
    IF start >= now() THEN
        RAISE NOTICE 'backfill of "%" from %: nothing to fetch, the range starts after now', symbol, provider;
        RETURN 0;
    END IF;
    stop := least(stop, now());
    lo := start;
    WHILE lo < stop LOOP
        hi := least(lo + chunk, stop);
        IF provider = 'alphavantage' AND resolution < interval '1 day' THEN
            hi := least((date_trunc('month', lo AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC', stop);
        END IF;
        IF provider = 'simulated' THEN
            total := total + stockext.ingest_simulated(symbol, lo, hi, resolution, coalesce(feed_seed, 0));
            RAISE NOTICE 'backfill of "%" from %: % bars stored up to %', symbol, provider, total, hi;
        ELSE
            total := total + stockext.fetch_history(provider, symbol, lo, hi, resolution);
            -- A provider sends what it has, which may end before the chunk
            -- (no trading, a plan's limits): report the newest bar stored.
            SELECT max(t.ts) INTO newest FROM stockext.ticks t
            WHERE t.symbol = backfill.symbol AND t.resolution = backfill.resolution AND t.ts < hi;
            RAISE NOTICE 'backfill of "%" from %: % bars stored, newest bar %', symbol, provider, total,
                coalesce('at ' || newest, 'none yet');
        END IF;
        lo := hi;
    END LOOP;
    RETURN total;
END
$$;
COMMENT ON FUNCTION stockext.backfill(text, text, timestamptz, timestamptz, interval) IS
'fetches the bars of [start, stop) of a symbol (stored in upper case) from a provider in chunks (NOTICE per chunk) and upserts them; safe to re-run; returns rows changed';
REVOKE ALL ON FUNCTION stockext.backfill(text, text, timestamptz, timestamptz, interval) FROM PUBLIC;

CREATE FUNCTION stockext.worker_status()
RETURNS TABLE (pid integer, kind text, database name, state text, since timestamptz)
AS 'MODULE_PATHNAME', 'stockext_worker_status'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION stockext.worker_status() IS
'the ingestion launcher and workers: pid, kind (launcher or worker), database, what it is doing and since when; empty unless stockext is in shared_preload_libraries';

CREATE FUNCTION stockext.provider_requests()
RETURNS TABLE (provider text, minute_requests integer, per_minute integer,
               day_requests integer, per_day integer)
AS 'MODULE_PATHNAME', 'stockext_provider_requests'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION stockext.provider_requests() IS
'requests made to each provider in the last 60 seconds and the last 24 hours (sliding windows, to the second and the minute) by all databases of the server (kept across restarts), beside the limits stockext.<provider>_requests_per_minute and _per_day, which hold in every such window';

-- Tells the launcher that this database now has the extension.
CREATE FUNCTION stockext.wake_launcher()
RETURNS void
AS 'MODULE_PATHNAME', 'stockext_wake_launcher'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION stockext.wake_launcher() IS
'asks the ingestion launcher to look for databases that need a worker now rather than at its next round';
REVOKE ALL ON FUNCTION stockext.wake_launcher() FROM PUBLIC;
SELECT stockext.wake_launcher();

------------------------------------------------------------------------------
-- Rollups
------------------------------------------------------------------------------

-- The bucket of an instant: date_bin in the width's local time zone, so a
-- session-aligned bucket (origin 09:30, America/New_York) starts at 09:30
-- local on both sides of a DST change; a 1-day bucket in a DST zone lasts
-- 23 or 25 hours on the change days.  In UTC it is plain date_bin on
-- instants (the same result, without two time zone conversions per bar).
-- NULL in, NULL out, but not declared STRICT: PostgreSQL inlines a SQL
-- function into the calling query only if its body is as strict as the
-- declaration, and a CASE is not provably strict.
CREATE FUNCTION stockext.rollup_bucket(ts timestamptz, width interval,
                                       origin timestamp, time_zone text)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN time_zone = 'UTC' THEN date_bin(width, ts, origin AT TIME ZONE 'UTC')
            ELSE date_bin(width, ts AT TIME ZONE time_zone, origin) AT TIME ZONE time_zone END;
COMMENT ON FUNCTION stockext.rollup_bucket(timestamptz, interval, timestamp, text) IS
'start of the bucket of the given width holding ts: date_bin(width, ts in time_zone, origin) converted back to an instant';

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
        CHECK (width > interval '0' AND date_part('month', width) = 0 AND date_part('year', width) = 0),
    CONSTRAINT rollup_widths_source_finer CHECK (source_resolution > interval '0' AND source_resolution < width)
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
    CONSTRAINT rollups_pkey PRIMARY KEY (symbol, bucket, width)
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
REVOKE ALL ON stockext.rollups FROM PUBLIC;

-- Buckets whose bars changed since they were last rolled up, one row per
-- (symbol, width, bucket) and statement that touched them (deduplicated at
-- refresh).  No index: writers only append, and a refresh claims it all.
CREATE TABLE stockext.rollup_invalidations (
    symbol text        NOT NULL,
    width  interval    NOT NULL,
    bucket timestamptz NOT NULL
);
COMMENT ON TABLE stockext.rollup_invalidations IS
'(symbol, width, bucket) keys whose bars were inserted, changed or deleted since the last refresh; claimed by stockext.refresh_rollups()';
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

-- The select list that turns bars s (grouped by width, symbol and bucket)
-- into rollup rows, in stockext.rollups column order: shared by the
-- refresh, the rebuild, the live view and stockext.bars().  The identical
-- candle() calls share one transition state; the mean close is the one
-- column a candle lacks, taken with stockext.sma, whose compensated sum
-- (unlike avg's) does not depend on the order the bars are read in, so a
-- refresh, a rebuild and the live view agree to the last bit.
CREATE FUNCTION stockext.rollup_select_list()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN format($sql$
       (%1$s).open AS open, (%1$s).high AS high, (%1$s).low AS low, (%1$s).close AS close,
       (%1$s).volume::bigint AS volume, (%1$s).vwap AS vwap, stockext.sma(s.close) AS avg_close,
       (%1$s).count::integer AS n
$sql$, 'stockext.candle(s.ts, s.open, s.high, s.low, s.close, s.volume)');
COMMENT ON FUNCTION stockext.rollup_select_list() IS
'internal: the aggregate select list computing a rollup row (open .. n) from rows s of stockext.rollup_source';
REVOKE ALL ON FUNCTION stockext.rollup_select_list() FROM PUBLIC;

-- The rollup rows of a set of (symbol, width, bucket) keys, the relation
-- named by keys, in stockext.rollups column order; a key whose bucket has
-- no bars yields no row.  Runs of consecutive buckets of a symbol and width
-- are read with one index range scan each (CROSS JOIN LATERAL, whatever
-- the planner estimates): an append of new bars is a few long scans, late
-- bars scattered over the history are many short ones.  OFFSET 0 keeps
-- the planner from joining the keys in before the scans, which would
-- repeat each run's scan once per key of its symbol and width.
CREATE FUNCTION stockext.rollup_fresh_sql(keys text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN format($sql$
SELECT f.symbol, f.bucket, f.open, f.high, f.low, f.close, f.volume, f.vwap, f.avg_close, f.n, f.width
FROM (
SELECT r.symbol, b.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.avg_close, b.n, r.width
FROM (SELECT symbol, width, min(bucket) AS lo, max(bucket) AS hi
      FROM (SELECT k.symbol, k.width, k.bucket,
                   k.bucket - w.span * row_number() OVER (PARTITION BY k.symbol, k.width ORDER BY k.bucket) AS run
            FROM %1$s k JOIN stockext.rollup_widths w ON w.width = k.width) x
      GROUP BY symbol, width, run) r
JOIN stockext.rollup_widths w ON w.width = r.width
CROSS JOIN LATERAL (
    SELECT stockext.rollup_bucket(s.ts, w.width, w.origin, w.time_zone) AS bucket, %2$s
    FROM stockext.ticks s
    WHERE s.symbol = r.symbol AND s.resolution = w.source_resolution
      AND s.ts >= r.lo - w.slack AND s.ts < r.hi + w.span + w.slack
    GROUP BY 1) b
WHERE b.bucket BETWEEN r.lo AND r.hi
OFFSET 0) f
WHERE (f.symbol, f.width, f.bucket) IN (SELECT k.symbol, k.width, k.bucket FROM %1$s k)
$sql$, keys, stockext.rollup_select_list());
COMMENT ON FUNCTION stockext.rollup_fresh_sql(text) IS
'internal: the query computing from stockext.ticks the rollup rows of the (symbol, width, bucket) keys in the relation keys';
REVOKE ALL ON FUNCTION stockext.rollup_fresh_sql(text) FROM PUBLIC;

-- Records the buckets a statement on stockext.ticks touched.  Statement
-- level with transition tables: one INSERT ... SELECT DISTINCT per
-- statement, whatever its size.  Rows an upsert's WHERE ... IS DISTINCT
-- FROM left alone are in no transition table, so unchanged re-polls
-- invalidate nothing.  SECURITY DEFINER: whoever may write bars records
-- their invalidations, without rights on the log itself.
CREATE FUNCTION stockext.ticks_invalidate()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stockext.rollup_invalidations (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM new_rows r JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO stockext.rollup_invalidations (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM old_rows r JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution;
    ELSE
        INSERT INTO stockext.rollup_invalidations (symbol, width, bucket)
        SELECT DISTINCT r.symbol, w.width, stockext.rollup_bucket(r.ts, w.width, w.origin, w.time_zone)
        FROM (SELECT symbol, ts, resolution FROM old_rows
              UNION ALL
              SELECT symbol, ts, resolution FROM new_rows) r
        JOIN stockext.rollup_widths w ON r.resolution = w.source_resolution;
    END IF;
    RETURN NULL;
END
$$;
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
-- pending invalidation, plus the pending buckets computed from the ticks
-- now.  Reads one snapshot, in which a refresh's claim and its upserts are
-- either both visible or neither.
DO $do$
BEGIN
    EXECUTE format($v$
CREATE VIEW stockext.rollups_live AS
SELECT r.symbol, r.bucket, r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.width
FROM stockext.rollups r
WHERE NOT EXISTS (SELECT FROM stockext.rollup_invalidations i
                  WHERE i.width = r.width AND i.symbol = r.symbol AND i.bucket = r.bucket)
UNION ALL
%s$v$, stockext.rollup_fresh_sql('(SELECT DISTINCT symbol, width, bucket FROM stockext.rollup_invalidations)'));
END
$do$;
COMMENT ON VIEW stockext.rollups_live IS
'stockext.rollups with the buckets not refreshed yet computed from stockext.ticks: always current';
REVOKE ALL ON stockext.rollups_live FROM PUBLIC;

-- Privileges: the relations that show the bars besides stockext.ticks (the
-- rollups, their partitions and live views, the invalidation keys, the
-- rollup source) grant SELECT to exactly the roles stockext.ticks grants it
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
          AND (c.relname IN ('rollups', 'rollups_live', 'rollup_source', 'rollup_invalidations')
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
'internal: the REVOKE and GRANT statements that would give the rollups, their live views and the invalidation keys the SELECT grants of stockext.ticks';

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

-- First recomputes the widths a restore loaded (rollup_rebuilds).  Then
-- claims every pending invalidation (DELETE ... RETURNING, so a key
-- written by a transaction still in progress stays for the next refresh),
-- re-aggregates exactly those (symbol, width, bucket) keys from the ticks
-- in the same snapshot, upserts them (rewriting only rows whose values
-- changed) and deletes the buckets that have no bars left.  One statement,
-- grouped by symbol and bucket, so a sharded engine can run it per shard.
-- JIT off: the statement is many small index range scans whose cost the
-- planner cannot know beforehand, and compiling it costs seconds.  Created
-- through format() so that the statement is static and its plan cached.
DO $do$
BEGIN
    EXECUTE format($f$
CREATE FUNCTION stockext.refresh_rollups(OUT buckets bigint, OUT upserted bigint, OUT deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    w       interval;
    rebuilt bigint := 0;
BEGIN
    PERFORM stockext.rollup_lock();
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
WITH claimed AS (
    DELETE FROM stockext.rollup_invalidations RETURNING symbol, width, bucket
), keys AS (
    SELECT DISTINCT symbol, width, bucket FROM claimed
), fresh AS (%s
), upserted AS (
    INSERT INTO stockext.rollups AS r SELECT * FROM fresh
    ON CONFLICT (symbol, bucket, width) DO UPDATE
        SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
            volume = excluded.volume, vwap = excluded.vwap, avg_close = excluded.avg_close, n = excluded.n
        WHERE (r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n)
              IS DISTINCT FROM
              (excluded.open, excluded.high, excluded.low, excluded.close,
               excluded.volume, excluded.vwap, excluded.avg_close, excluded.n)
    RETURNING 1
), emptied AS (
    DELETE FROM stockext.rollups r USING keys k
    WHERE r.width = k.width AND r.symbol = k.symbol AND r.bucket = k.bucket
      AND NOT EXISTS (SELECT FROM fresh f
                      WHERE f.width = k.width AND f.symbol = k.symbol AND f.bucket = k.bucket)
    RETURNING 1
)
SELECT (SELECT count(*) FROM keys), (SELECT count(*) FROM upserted) + rebuilt, (SELECT count(*) FROM emptied)
    INTO buckets, upserted, deleted;
END
$$
$f$, stockext.rollup_fresh_sql('keys'));
END
$do$;
COMMENT ON FUNCTION stockext.refresh_rollups() IS
'recomputes the widths a restore loaded, then re-aggregates the (symbol, width, bucket) keys invalidated since the last refresh; returns how many keys it claimed, rows it wrote and empty buckets it deleted';
REVOKE ALL ON FUNCTION stockext.refresh_rollups() FROM PUBLIC;

-- Recomputes one width (or all) from scratch.  TRUNCATE: readers of the
-- rollups wait until it commits.
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
SELECT s.symbol, s.bucket, %s, s.width
FROM stockext.rollup_source s
WHERE $1 IS NULL OR s.width = $1
GROUP BY s.width, s.symbol, s.bucket
$q$, stockext.rollup_select_list()) USING width;
    GET DIAGNOSTICS made = ROW_COUNT;
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
-- stockext.<name>_live, filled from the ticks already stored.
CREATE FUNCTION stockext.add_rollup(name name, width interval,
                                    origin timestamp DEFAULT '2000-01-03 00:00',
                                    time_zone text DEFAULT 'UTC',
                                    source_resolution interval DEFAULT '1 minute')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    taken      text;
BEGIN
    IF name IS NULL OR width IS NULL OR origin IS NULL OR time_zone IS NULL OR source_resolution IS NULL THEN
        RAISE EXCEPTION 'arguments of stockext.add_rollup() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF name !~ '^[a-z][a-z0-9_]{0,50}$' THEN
        RAISE EXCEPTION 'invalid rollup name "%"', name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A rollup name is 1 to 51 lowercase letters, digits or underscores, starting with a letter.';
    END IF;
    IF width <= interval '0' OR date_part('month', width) <> 0 OR date_part('year', width) <> 0 THEN
        RAISE EXCEPTION 'invalid rollup width "%"', width
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A width is positive and made of days, hours, minutes and seconds only (date_bin cannot bin by months).';
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
    INSERT INTO stockext.rollup_widths (width, name, origin, time_zone, source_resolution)
    VALUES (width, name, origin, CASE WHEN upper(time_zone) = 'UTC' THEN 'UTC' ELSE time_zone END,
            source_resolution);
    RETURN stockext.rebuild_rollups(width);
END
$$;
COMMENT ON FUNCTION stockext.add_rollup(name, interval, timestamp, text, interval) IS
'adds a rolled-up width: table stockext.<name> and view stockext.<name>_live, buckets aligned to origin (local time in time_zone), read from bars of source_resolution; returns the rows computed';
REVOKE ALL ON FUNCTION stockext.add_rollup(name, interval, timestamp, text, interval) FROM PUBLIC;

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
-- in UTC, reading the finest resolution below the width that the symbol has
-- in the range.  fill: 'none' leaves empty buckets out, 'null' returns them
-- with NULLs, 'previous' (or 'locf') returns them as a flat candle at the
-- previous close (open = high = low = close, volume 0, n 0).  A symbol
-- without a single bar raises no_data_found.
CREATE FUNCTION stockext.bars(symbol text, width interval, start timestamptz, stop timestamptz,
                              fill text DEFAULT 'none')
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
    IF symbol IS NULL OR width IS NULL OR start IS NULL OR stop IS NULL OR fill IS NULL THEN
        RAISE EXCEPTION 'arguments of stockext.bars() must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF fill NOT IN ('none', 'null', 'previous', 'locf') THEN
        RAISE EXCEPTION 'invalid fill "%"', fill
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use none, null, previous or locf.';
    END IF;
    IF width <= interval '0' OR date_part('month', width) <> 0 OR date_part('year', width) <> 0 THEN
        RAISE EXCEPTION 'invalid bar width "%"', width
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A width is positive and made of days, hours, minutes and seconds only.';
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
    IF rolled THEN
        data_sql := $q$
            SELECT l.bucket, l.open, l.high, l.low, l.close, l.volume, l.vwap, l.avg_close, l.n
            FROM stockext.rollups_live l
            WHERE l.width = $2 AND l.symbol = $1 AND l.bucket >= $3 AND l.bucket < $4$q$;
    ELSE
        origin := '2000-01-03 00:00';
        tz := 'UTC';
        SELECT min(t.resolution) INTO src FROM stockext.ticks t
        WHERE t.symbol = bars.symbol AND t.ts >= start AND t.ts < stop + width AND t.resolution < width;
        data_sql := format($q$
            SELECT s.bucket, %s
            FROM (SELECT stockext.rollup_bucket(t.ts, $2, $5, $6) AS bucket, t.*
                  FROM stockext.ticks t
                  WHERE t.symbol = $1 AND t.resolution = $7 AND t.ts >= $3 AND t.ts < $4 + $2) s
            WHERE s.bucket >= $3 AND s.bucket < $4
            GROUP BY s.bucket$q$, stockext.rollup_select_list());
    END IF;

    IF fill = 'none' THEN
        RETURN QUERY EXECUTE data_sql || ' ORDER BY 1' USING symbol, width, start, stop, origin, tz, src;
        RETURN;
    END IF;

    -- The close before the first bucket seeds 'previous'.
    IF fill IN ('previous', 'locf') AND src IS NOT NULL THEN
        SELECT t.close INTO prev FROM stockext.ticks t
        WHERE t.symbol = bars.symbol AND t.resolution = src
          AND t.ts < stockext.rollup_bucket(start, width, origin, tz)
          AND stockext.rollup_bucket(t.ts, width, origin, tz) < start
        ORDER BY t.ts DESC LIMIT 1;
    END IF;

    RETURN QUERY EXECUTE format($q$
        WITH data AS (%s),
        grid AS (
            SELECT DISTINCT g AT TIME ZONE $6 AS bucket
            FROM generate_series(date_bin($2, $3 AT TIME ZONE $6, $5), $4 AT TIME ZONE $6, $2) g
        ),
        cells AS (
            SELECT g.bucket, d.open, d.high, d.low, d.close, d.volume, d.vwap, d.avg_close, d.n,
                   count(d.close) OVER (ORDER BY g.bucket) AS run
            FROM grid g LEFT JOIN data d ON d.bucket = g.bucket
            WHERE g.bucket >= $3 AND g.bucket < $4
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
    USING symbol, width, start, stop, origin, tz, src, prev, fill IN ('previous', 'locf');
END
$$;
COMMENT ON FUNCTION stockext.bars(text, interval, timestamptz, timestamptz, text) IS
'one bar per bucket of width starting in [start, stop) for symbol (in any case); fill none (empty buckets absent), null (NULL rows) or previous/locf (flat candle at the previous close, volume 0)';

------------------------------------------------------------------------------
-- Rollups: partition maintenance, retention and pg_cron jobs
------------------------------------------------------------------------------

-- Maintenance settings: at most one row, none meaning the defaults.  No
-- row at CREATE EXTENSION, so pg_dump's copy of a user's row restores
-- without clashing with one the install script wrote.
CREATE TABLE stockext.maintenance_settings (
    single             boolean  PRIMARY KEY DEFAULT true CHECK (single),
    months_ahead       integer  NOT NULL DEFAULT 2 CHECK (months_ahead BETWEEN 0 AND 120),
    drop_ticks_after   interval CHECK (drop_ticks_after > interval '0')
);
COMMENT ON TABLE stockext.maintenance_settings IS
'partition maintenance, one row or none (defaults): months of ticks partitions kept ahead (2); drop_ticks_after (NULL: never) drops monthly ticks partitions that ended that long ago and have nothing left to roll up';
SELECT pg_catalog.pg_extension_config_dump('stockext.maintenance_settings', '');
REVOKE ALL ON stockext.maintenance_settings FROM PUBLIC;

-- Retention: drops the monthly ticks partitions that ended more than
-- drop_ticks_after ago, once no invalidation is pending (their rollups are
-- current and keep the history); then deletes the raw provider replies
-- older than their feed's raw_retention.  Returns how many partitions it
-- dropped.
CREATE FUNCTION stockext.apply_retention()
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keep    interval;
    part    record;
    dropped integer := 0;
BEGIN
    SELECT m.drop_ticks_after INTO keep FROM stockext.maintenance_settings m;
    IF keep IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock('stockext.ticks'::regclass::oid::bigint);
        FOR part IN
            SELECT c.oid::regclass AS rel,
                   (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS hi
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'stockext.ticks'::regclass
              AND c.oid <> 'stockext.ticks_default'::regclass
            ORDER BY 2
        LOOP
            EXIT WHEN part.hi > now() - keep;
            CONTINUE WHEN EXISTS (SELECT FROM stockext.rollup_invalidations WHERE bucket < part.hi);
            EXECUTE format('DROP TABLE %s', part.rel);
            dropped := dropped + 1;
        END LOOP;
    END IF;
    -- The worker prunes a feed's replies when it polls it; a paused feed's
    -- are pruned here, and those of a removed feed after the default 7 days.
    DELETE FROM stockext.raw_replies r
     WHERE r.at < now() - coalesce((SELECT f.raw_retention FROM stockext.feeds f WHERE f.id = r.feed_id),
                                   interval '7 days');
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION stockext.apply_retention() IS
'drops monthly ticks partitions older than maintenance_settings.drop_ticks_after once rolled up, and raw replies older than their feed''s raw_retention; returns the partitions dropped';
REVOKE ALL ON FUNCTION stockext.apply_retention() FROM PUBLIC;

-- Creates the ticks partitions months_ahead ahead, gives every month found
-- in the default partition its own partition (moving its rows), then
-- applies retention.  Returns the partitions created.
CREATE FUNCTION stockext.maintain_partitions()
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ahead   integer;
    month   timestamptz;
    created integer;
BEGIN
    ahead := coalesce((SELECT m.months_ahead FROM stockext.maintenance_settings m), 2);
    created := stockext.create_partitions(now(), now() + make_interval(months => ahead));
    FOR month IN
        SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        FROM stockext.ticks_default ORDER BY 1
    LOOP
        created := created + stockext.create_partitions(month, month);
    END LOOP;
    PERFORM stockext.apply_retention();
    RETURN created;
END
$$;
COMMENT ON FUNCTION stockext.maintain_partitions() IS
'creates ticks partitions ahead (maintenance_settings.months_ahead) and for every month stranded in the default partition, then applies retention; returns the partitions created';
REVOKE ALL ON FUNCTION stockext.maintain_partitions() FROM PUBLIC;

-- The jobs of this database, named stockext:<database>:<job>.
CREATE FUNCTION stockext.cron_jobs(OUT jobname text, OUT schedule text, OUT command text, OUT database text)
RETURNS SETOF record
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT 'stockext:' || current_database() || ':' || j.job, j.schedule, j.command, current_database()::text
    FROM (VALUES (1, 'refresh', '* * * * *', 'SELECT stockext.refresh_rollups()'),
                 (2, 'maintenance', '17 3 * * *', 'SELECT stockext.maintain_partitions()'),
                 (3, 'retention', '47 * * * *', 'SELECT stockext.apply_retention()'))
         AS j(i, job, schedule, command)
    ORDER BY j.i;
END;
COMMENT ON FUNCTION stockext.cron_jobs() IS
'the pg_cron jobs stockext.schedule_jobs() registers for this database: refresh every minute, partition maintenance daily, retention hourly';

-- A libpq connection-string value: quoted, its backslashes and quotes
-- escaped, so a database or role name cannot add keywords of its own.
CREATE FUNCTION stockext.conninfo_quote(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN '''' || replace(replace(value, E'\\', E'\\\\'), '''', E'\\''') || '''';
COMMENT ON FUNCTION stockext.conninfo_quote(text) IS
'internal: value quoted for a libpq connection string (dblink to the pg_cron database)';

-- Runs a statement returning one bigint in the pg_cron database: here when
-- pg_cron lives in this database, through dblink otherwise (PostgreSQL
-- cannot reach another database without it).  When it cannot, raises an
-- error with the statement to run there by hand, or with quiet only
-- reports it as a NOTICE and returns NULL.
CREATE FUNCTION stockext.cron_run(sql text, quiet boolean)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    crondb  text := current_setting('cron.database_name', true);
    linker  name;
    conn    text;
    result  bigint;
BEGIN
    IF crondb IS NULL THEN
        IF quiet THEN RETURN NULL; END IF;
        RAISE EXCEPTION 'pg_cron is not installed'
            USING ERRCODE = 'undefined_object',
                  HINT = 'Add pg_cron to shared_preload_libraries, restart and CREATE EXTENSION pg_cron in the database named by cron.database_name; without it, call stockext.refresh_rollups() and stockext.maintain_partitions() from any scheduler.';
    END IF;
    IF crondb = current_database() THEN
        IF to_regclass('cron.job') IS NULL THEN
            IF quiet THEN RETURN NULL; END IF;
            RAISE EXCEPTION 'pg_cron is not installed in database "%"', crondb
                USING ERRCODE = 'undefined_object',
                      HINT = 'Run CREATE EXTENSION pg_cron in this database first.';
        END IF;
        EXECUTE sql INTO result;
        RETURN result;
    END IF;
    SELECT n.nspname INTO linker
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'dblink';
    IF NOT FOUND THEN
        IF quiet THEN
            RAISE NOTICE 'pg_cron jobs of database "%" must be removed in database "%"', current_database(), crondb
                USING HINT = format('Run there: %s', sql);
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'pg_cron runs in database "%", not in "%"', crondb, current_database()
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'PostgreSQL cannot run a statement in another database without dblink.',
                  HINT = format('CREATE EXTENSION dblink in this database and retry, or run in database "%s": %s', crondb, sql);
    END IF;
    conn := format('dbname=%s user=%s port=%s', stockext.conninfo_quote(crondb),
                   stockext.conninfo_quote(current_user), current_setting('port'));
    IF split_part(current_setting('unix_socket_directories'), ',', 1) <> '' THEN
        conn := conn || ' host=' ||
                stockext.conninfo_quote(trim(split_part(current_setting('unix_socket_directories'), ',', 1)));
    END IF;
    BEGIN
        EXECUTE format('SELECT n FROM %I.dblink($1, $2) AS t(n bigint)', linker) INTO result
            USING conn, 'SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = ''pg_cron''';
        IF result = 0 THEN
            IF quiet THEN RETURN NULL; END IF;
            RAISE EXCEPTION 'pg_cron is not installed in database "%"', crondb
                USING ERRCODE = 'undefined_object',
                      HINT = format('Run CREATE EXTENSION pg_cron in database "%s" first.', crondb);
        END IF;
        EXECUTE format('SELECT n FROM %I.dblink($1, $2) AS t(n bigint)', linker) INTO result USING conn, sql;
    EXCEPTION WHEN OTHERS THEN
        IF NOT quiet THEN RAISE; END IF;
        RAISE WARNING 'could not remove the pg_cron jobs of database "%" in database "%": %', current_database(), crondb, SQLERRM
            USING HINT = format('Run there: %s', sql);
    END;
    RETURN result;
END
$$;
COMMENT ON FUNCTION stockext.cron_run(text, boolean) IS
'internal: runs a statement returning one bigint in the pg_cron database, locally or through dblink';
REVOKE ALL ON FUNCTION stockext.cron_run(text, boolean) FROM PUBLIC;

-- The statement that removes this database's jobs, run in the cron database.
CREATE FUNCTION stockext.cron_unschedule_sql()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN format('SELECT count(cron.unschedule(jobid)) FROM cron.job WHERE jobname IN (%s)',
              (SELECT string_agg(quote_literal(j.jobname), ', ') FROM stockext.cron_jobs() j));
COMMENT ON FUNCTION stockext.cron_unschedule_sql() IS
'internal: the statement, for the pg_cron database, that removes the jobs of this database';

-- Registers (or re-registers) the jobs of stockext.cron_jobs() with
-- cron.schedule_in_database; returns how many.
CREATE FUNCTION stockext.schedule_jobs()
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN stockext.cron_run(
        (SELECT format('SELECT count(*) FROM (VALUES %s) AS j(id)',
                       string_agg(format('(cron.schedule_in_database(%L, %L, %L, %L))',
                                         j.jobname, j.schedule, j.command, j.database), ', '))
         FROM stockext.cron_jobs() j),
        false);
END
$$;
COMMENT ON FUNCTION stockext.schedule_jobs() IS
'registers this database''s rollup refresh, partition maintenance and retention jobs with pg_cron (through dblink when pg_cron lives in another database); returns how many';
REVOKE ALL ON FUNCTION stockext.schedule_jobs() FROM PUBLIC;

-- Removes them; returns how many were removed.
CREATE FUNCTION stockext.unschedule_jobs()
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN stockext.cron_run(stockext.cron_unschedule_sql(), false);
END
$$;
COMMENT ON FUNCTION stockext.unschedule_jobs() IS
'removes this database''s stockext jobs from pg_cron; returns how many it removed';
REVOKE ALL ON FUNCTION stockext.unschedule_jobs() FROM PUBLIC;

-- DROP EXTENSION stockext is refused while stockext.ticks holds bars,
-- unless it says CASCADE or stockext.allow_drop is on; a drop let through
-- also drops the schema stockext at commit when nothing else is left in it.
-- Named to fire before stockext_drop_jobs (event triggers fire in name
-- order), so a refused drop keeps the jobs.
CREATE FUNCTION stockext.drop_guard_trigger()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'stockext_drop_guard_trigger'
LANGUAGE C;
COMMENT ON FUNCTION stockext.drop_guard_trigger() IS
'event trigger: refuses DROP EXTENSION stockext without CASCADE while stockext.ticks holds bars (unless stockext.allow_drop is on), and drops the emptied schema stockext at commit';
REVOKE ALL ON FUNCTION stockext.drop_guard_trigger() FROM PUBLIC;
CREATE EVENT TRIGGER stockext_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION')
    EXECUTE FUNCTION stockext.drop_guard_trigger();

-- DROP EXTENSION stockext first removes the jobs, so none is left behind
-- to fail every minute.
CREATE FUNCTION stockext.drop_jobs_trigger()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'stockext_drop_jobs_trigger'
LANGUAGE C;
COMMENT ON FUNCTION stockext.drop_jobs_trigger() IS
'event trigger: before DROP EXTENSION stockext, removes this database''s stockext jobs from pg_cron';
REVOKE ALL ON FUNCTION stockext.drop_jobs_trigger() FROM PUBLIC;
CREATE EVENT TRIGGER stockext_drop_jobs ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION')
    EXECUTE FUNCTION stockext.drop_jobs_trigger();

------------------------------------------------------------------------------
-- Alerts
------------------------------------------------------------------------------

-- Rules: a condition on the bars of one symbol, or of every symbol of a
-- feed, at one resolution.  Parameters a condition does not use are NULL;
-- stockext.check_alert() says what each one needs.  on_forming, on_history
-- and max_age came in 0.2.0, hence last (an updated table has them there).
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
CREATE FUNCTION stockext.alert_enqueue()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
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
                                   max_age interval DEFAULT NULL)
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
    IF on_forming IS NULL OR on_history IS NULL THEN
        RAISE EXCEPTION 'on_forming and on_history must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF max_age <= interval '0' THEN
        RAISE EXCEPTION 'max_age must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('max_age is %s.', max_age);
    END IF;
    IF max_age IS NOT NULL AND on_history THEN
        RAISE EXCEPTION 'a rule with on_history takes no max_age'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A rule with on_history evaluates bars however late they land.';
    END IF;
    INSERT INTO stockext.alert_rules (symbol, feed_id, resolution, condition, direction, threshold,
                                      bars, slow, factor, level, cooldown, on_forming, on_history, max_age)
    VALUES (upper(symbol COLLATE "C"), feed, resolution, condition, direction, threshold, bars, slow, factor, level, cooldown,
            on_forming, on_history, max_age)
    RETURNING id INTO rule;
    IF webhook_url IS NOT NULL THEN
        PERFORM stockext.set_webhook(rule, NULL, webhook_url);
    END IF;
    PERFORM stockext.activate_on_first_use();
    RETURN rule;
END
$$;
COMMENT ON FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text, boolean, boolean, interval) IS
'adds an alert rule on a symbol (stored in upper case) or on the symbols of a feed and returns its id; conditions pct_change, volume_spike, price_cross, sma_cross, volatility; it evaluates closed bars that land within max_age of their close, unless on_forming or on_history; a webhook URL needs a superuser';
REVOKE ALL ON FUNCTION stockext.add_alert(text, text, integer, interval, text, float8, integer, integer, float8, float8, interval, text, boolean, boolean, interval) FROM PUBLIC;

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
       (SELECT max(a.fired_at) FROM stockext.alerts a WHERE a.rule_id = r.id) AS last_fired
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
BEGIN
    fires := false;
    IF r.condition = 'pct_change' THEN
        SELECT x.v INTO observed
        FROM (SELECT t.ts, stockext.pct_change(t.close, r.bars) OVER (ORDER BY t.ts) AS v
              FROM (SELECT ts, close FROM stockext.ticks
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
        SELECT x.v, x.spike INTO observed, fires
        FROM (SELECT t.ts, t.volume AS v,
                     stockext.volume_spike(t.volume, r.bars, r.factor) OVER (ORDER BY t.ts) AS spike
              FROM (SELECT ts, volume FROM stockext.ticks
                    WHERE symbol = sym AND resolution = r.resolution AND ts <= bar
                    ORDER BY ts DESC LIMIT r.bars + 1) t) x
        ORDER BY x.ts DESC LIMIT 1;
        what := format('volume %s is over %s times the mean of the %s bars before', observed,
                       r.factor, r.bars);
    ELSIF r.condition = 'price_cross' THEN
        SELECT x.close, x.prev INTO observed, prev
        FROM (SELECT t.ts, t.close, lag(t.close) OVER (ORDER BY t.ts) AS prev
              FROM (SELECT ts, close FROM stockext.ticks
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
              FROM (SELECT ts, close FROM stockext.ticks
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
        FROM (SELECT ts, close FROM stockext.ticks
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
CREATE FUNCTION stockext.evaluate_alerts(max_bars integer DEFAULT NULL,
                                         OUT fired integer, OUT stale integer, OUT waiting integer)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cfg     record;
    k       record;
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
    PERFORM stockext.check_live();
    fired := 0;
    stale := 0;
    waiting := 0;
    PERFORM pg_advisory_xact_lock('stockext.alert_queue'::regclass::oid::bigint);
    cfg := stockext.alert_settings();
    -- The writes claimed are deleted at once; a bar's waiting row (held)
    -- stays until the bar closes, so that a live series costs one row.
    FOR k IN
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
               EXISTS (SELECT FROM stockext.ticks t
                       WHERE t.symbol = c.symbol AND t.resolution = c.resolution AND t.ts = c.ts) AS stored
        FROM (SELECT NULL::tid AS row_id, w.* FROM writes w UNION ALL SELECT * FROM held) c
        GROUP BY c.symbol, c.resolution, c.ts
        ORDER BY c.symbol, c.resolution, c.ts
    LOOP
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
        IF NOT k.stored OR cardinality(rules) = 0 THEN
            IF k.held IS NOT NULL THEN
                DELETE FROM stockext.alert_queue q WHERE q.ctid = ANY (k.held);
            END IF;
            CONTINUE;
        END IF;
        -- Closed (see above): written late, polled since, or followed.
        closed := k.landed >= k.ts + k.resolution + cfg.close_grace
                  OR coalesce(CASE WHEN fed THEN success ELSE now() END >= k.ts + k.resolution + cfg.close_grace,
                              false)
                  OR EXISTS (SELECT FROM stockext.ticks t
                             WHERE t.symbol = k.symbol AND t.resolution = k.resolution AND t.ts > k.ts);
        IF closed AND k.held IS NOT NULL THEN
            DELETE FROM stockext.alert_queue q WHERE q.ctid = ANY (k.held);
        ELSIF NOT closed THEN
            waiting := waiting + 1;
            -- Unchanged since on_forming rules saw it: nothing to do yet.
            CONTINUE WHEN k.seen;
            IF k.held IS NULL THEN
                INSERT INTO stockext.alert_queue (symbol, resolution, ts, landed_at, waiting)
                VALUES (k.symbol, k.resolution, k.ts, k.landed, true);
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
