
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

-- Whether stockext.distribute() has distributed stockext.ticks over a Citus
-- cluster (install/parts/90-citus.sql).
CREATE FUNCTION stockext.is_distributed()
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = 'stockext.ticks'::regclass);
END
$$;
COMMENT ON FUNCTION stockext.is_distributed() IS
'whether stockext''s bars are distributed over a Citus cluster (stockext.distribute())';

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
    attach  text;
    quiet   text;
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
            attach := format('ALTER TABLE stockext.ticks ATTACH PARTITION stockext.%I FOR VALUES FROM (%L) TO (%L)',
                             name, lo, hi);
            IF stockext.is_distributed() THEN
                -- Citus distributes the attached table, copying the rows
                -- moved into it to its shards (with NOTICEs that would
                -- reach every ingester), then its local copy goes.
                quiet := current_setting('client_min_messages');
                PERFORM set_config('client_min_messages', 'warning', true);
                EXECUTE attach;
                PERFORM set_config('client_min_messages', quiet, true);
                PERFORM pg_catalog.truncate_local_data_after_distributing_table(format('stockext.%I', name)::regclass);
            ELSE
                EXECUTE attach;
            END IF;
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

