-- Restores: the statements pg_dump writes for the monthly partitions of
-- ticks and for rollup_widths, replayed by hand in one transaction (rolled
-- back), and what stockext does around them.  test/suites/16-backup runs
-- real dumps and restores.
SET client_min_messages = warning;
SET timezone = 'UTC';
\set VERBOSITY terse
BEGIN;
-- The key of ticks, and the key of each partition used here: its name and
-- whether it is attached to the parent's.
CREATE TEMP VIEW ticks_key AS
SELECT c.conname, i.indisvalid AS valid
FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid
WHERE c.conrelid = 'stockext.ticks'::regclass AND c.contype = 'p';
CREATE TEMP VIEW part_keys AS
SELECT c.relname AS partition, k.conname AS key,
       EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = k.conindid) AS attached
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
LEFT JOIN pg_constraint k ON k.conrelid = i.inhrelid AND k.contype = 'p'
WHERE i.inhparent = 'stockext.ticks'::regclass AND (c.relname LIKE 'ticks_p1990%' OR c.relname = 'ticks_default')
ORDER BY 1;

SELECT stockext.create_partitions('1990-01-01', '1990-01-31');
-- Outside a restore (check_function_bodies on) an ATTACH ONLY is left alone.
CREATE TABLE stockext.ticks_p199002 (LIKE stockext.ticks INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE ONLY stockext.ticks ATTACH PARTITION stockext.ticks_p199002
    FOR VALUES FROM ('1990-02-01 00:00+00') TO ('1990-03-01 00:00+00');
SELECT * FROM ticks_key;

-- A restore session: pg_dump's scripts and pg_restore set this.
SET check_function_bodies = off;
-- A table with rows is no restore's: left alone too.
CREATE TABLE stockext.ticks_p199003 (LIKE stockext.ticks INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO stockext.ticks_p199003 VALUES ('X', '1990-03-05', '1 day', 1, 1, 1, 1, 1, 'test', now());
ALTER TABLE ONLY stockext.ticks ATTACH PARTITION stockext.ticks_p199003
    FOR VALUES FROM ('1990-03-01 00:00+00') TO ('1990-04-01 00:00+00');
SELECT * FROM ticks_key;
SELECT * FROM part_keys;

-- The first empty table the dump attaches: ticks loses its key, the other
-- partitions keep keys of their own.
CREATE TABLE stockext.ticks_p199004 (LIKE stockext.ticks INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE ONLY stockext.ticks ATTACH PARTITION stockext.ticks_p199004
    FOR VALUES FROM ('1990-04-01 00:00+00') TO ('1990-05-01 00:00+00');
SELECT count(*) AS parent_keys FROM ticks_key;
SELECT * FROM part_keys;
-- Meanwhile a writer that does not wait makes no partition, an upsert fails
-- rather than storing a second copy of a bar.
SELECT stockext.create_partitions('1990-05-01', '1990-05-02', wait => false) AS skipped;
SAVEPOINT s;
SELECT stockext.upsert_bar('X', '1990-03-05', '1 day', 1, 1, 1, 1, 1);
ROLLBACK TO SAVEPOINT s;
-- The next one: no key to drop.
CREATE TABLE stockext.ticks_p199006 (LIKE stockext.ticks INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE ONLY stockext.ticks ATTACH PARTITION stockext.ticks_p199006
    FOR VALUES FROM ('1990-06-01 00:00+00') TO ('1990-07-01 00:00+00');
-- create_partitions() puts the key back first (invalid until the restore's
-- partitions have theirs), so its new month gets one too.
SELECT stockext.create_partitions('1990-05-01', '1990-05-02');
SELECT * FROM ticks_key;
SELECT * FROM part_keys;
-- A restore still attaching tables takes it off again.
CREATE TABLE stockext.ticks_p199007 (LIKE stockext.ticks INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE ONLY stockext.ticks ATTACH PARTITION stockext.ticks_p199007
    FOR VALUES FROM ('1990-07-01 00:00+00') TO ('1990-08-01 00:00+00');
SELECT count(*) AS parent_keys FROM ticks_key;

-- After the data: the dump adds each partition's key, then attaches it to
-- ticks_pkey, which the first ALTER INDEX makes again.
ALTER TABLE ONLY stockext.ticks_p199004 ADD CONSTRAINT ticks_p199004_pkey PRIMARY KEY (symbol, ts, resolution);
ALTER TABLE ONLY stockext.ticks_p199006 ADD CONSTRAINT ticks_p199006_pkey PRIMARY KEY (symbol, ts, resolution);
ALTER TABLE ONLY stockext.ticks_p199007 ADD CONSTRAINT ticks_p199007_pkey PRIMARY KEY (symbol, ts, resolution);
ALTER INDEX stockext.ticks_pkey ATTACH PARTITION stockext.ticks_p199004_pkey;
SELECT * FROM ticks_key;
ALTER INDEX stockext.ticks_pkey ATTACH PARTITION stockext.ticks_p199006_pkey;
ALTER INDEX stockext.ticks_pkey ATTACH PARTITION stockext.ticks_p199007_pkey;
SELECT * FROM ticks_key;
SELECT * FROM part_keys;
SELECT stockext.upsert_bar('X', '1990-03-05', '1 day', 1, 2, 1, 2, 1);
SELECT tableoid::regclass, close FROM stockext.ticks WHERE symbol = 'X';

-- rollup_widths as CREATE EXTENSION wrote it.
SELECT count(*) AS installed FROM stockext.rollup_widths_installed;
SELECT name, width, origin, time_zone FROM stockext.rollup_widths ORDER BY width;
-- Outside a restore a row for a width that exists is refused.
RESET check_function_bodies;
SAVEPOINT s;
INSERT INTO stockext.rollup_widths (width, name) VALUES ('30 minutes', 'bars_30m');
ROLLBACK TO SAVEPOINT s;
-- A restore's rows replace the installed ones, default widths the source
-- dropped included, and wait for their rebuild.
SET check_function_bodies = off;
INSERT INTO stockext.rollup_widths (width, name, origin, time_zone) VALUES
    ('1 hour', 'bars_1h', '2000-01-03 09:30', 'America/New_York'),
    ('5 minutes', 'bars_5m', '2000-01-03 00:00', 'UTC');
SELECT name, width, origin, time_zone FROM stockext.rollup_widths ORDER BY width;
SELECT to_regclass('stockext.bars_30m') AS bars_30m, to_regclass('stockext.bars_5m_live') AS bars_5m_live,
       (SELECT count(*) FROM stockext.rollup_widths_installed) AS installed;
SELECT width FROM stockext.rollup_rebuilds ORDER BY width;
-- Rows in more statements (pg_dump --inserts) add up.
INSERT INTO stockext.rollup_widths (width, name) VALUES ('2 hours', 'bars_2h');
SELECT name FROM stockext.rollup_widths ORDER BY width;
-- Made members of the extension, like add_rollup's.
SELECT c.relname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND c.relname LIKE 'bars\_%' ORDER BY 1;
-- The first refresh computes them from the bars.
RESET check_function_bodies;
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'X', '1990-06-04 10:00+00'::timestamptz + i * interval '1 minute', '1 minute', 1, 2, 1, 2, 1, 'test'
FROM generate_series(0, 9) i;
DELETE FROM stockext.rollup_invalidations;
SELECT upserted AS rebuilt FROM stockext.refresh_rollups() \gset
SELECT :rebuilt = count(*) AS every_row_rebuilt FROM stockext.rollups;
SELECT count(*) AS waiting FROM stockext.rollup_rebuilds;
SELECT width, bucket, n FROM stockext.rollups WHERE symbol = 'X' ORDER BY width, bucket;
ROLLBACK;
