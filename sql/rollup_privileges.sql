-- The rollups follow stockext.ticks: a role reads them (tables, partitions,
-- live views, invalidation keys, stockext.bars()) if and only if it can
-- read the bars.
SET client_min_messages = warning;
SET timezone = 'UTC';

-- Catalog check: right after CREATE EXTENSION, nobody but the owner may
-- read any of them (ticks grants nothing).
SELECT c.relname AS open_to_someone
FROM pg_class c, aclexplode(c.relacl) a
WHERE c.relnamespace = 'stockext'::regnamespace
  AND c.relname IN ('rollups', 'rollups_live', 'rollup_source', 'rollup_invalidations',
                    'bars_30m', 'bars_30m_live', 'bars_1h', 'bars_1h_live', 'bars_1d', 'bars_1d_live')
  AND a.grantee <> c.relowner;
SELECT count(*) AS fixes_pending FROM stockext.rollup_privilege_fixes();

CREATE ROLE regress_rollup_reader;
CREATE ROLE regress_rollup_other;
GRANT USAGE ON SCHEMA stockext TO regress_rollup_reader, regress_rollup_other;

-- A bar whose rollups are pending (rollups_live computes them) and one
-- rolled up: both roads are covered.
SELECT stockext.upsert_bar('PRIVR', '2025-03-03 10:00Z', '1 minute', 10, 11, 9, 10.5, 100, 'test');
SELECT 1 AS refreshed FROM stockext.refresh_rollups();
SELECT stockext.upsert_bar('PRIVR', '2025-03-03 11:00Z', '1 minute', 10, 12, 9, 11.5, 200, 'test');

-- Without a grant on ticks: permission denied everywhere.
SET ROLE regress_rollup_other;
\set VERBOSITY terse
SELECT count(*) FROM stockext.ticks;
SELECT count(*) FROM stockext.rollups;
SELECT count(*) FROM stockext.bars_30m;
SELECT count(*) FROM stockext.bars_1h_live;
SELECT count(*) FROM stockext.rollups_live;
SELECT count(*) FROM stockext.rollup_invalidations;
SELECT count(*) FROM stockext.bars('PRIVR', '1 hour', '2025-03-03', '2025-03-04');
\set VERBOSITY default
RESET ROLE;

-- GRANT SELECT ON ticks reaches every rollup relation at once.
GRANT SELECT ON stockext.ticks TO regress_rollup_reader;
SET ROLE regress_rollup_reader;
SELECT count(*) AS rolled FROM stockext.bars_30m WHERE symbol = 'PRIVR';
SELECT bucket, open, close, volume FROM stockext.bars_1h_live WHERE symbol = 'PRIVR' ORDER BY bucket;
SELECT count(*) AS live FROM stockext.rollups_live WHERE symbol = 'PRIVR';
SELECT count(*) AS pending FROM stockext.rollup_invalidations WHERE symbol = 'PRIVR';
SELECT bucket, close, n FROM stockext.bars('PRIVR', '1 hour', '2025-03-03 10:00Z', '2025-03-03 12:00Z');
-- Reading is all: no writes, no other privilege copied.
\set VERBOSITY terse
DELETE FROM stockext.bars_30m;
\set VERBOSITY default
RESET ROLE;

-- A width added later gets the same readers.
SELECT stockext.add_rollup('bars_2h', '2 hours') AS rows;
SELECT has_table_privilege('regress_rollup_reader', 'stockext.bars_2h', 'SELECT') AS reader_reads,
       has_table_privilege('regress_rollup_reader', 'stockext.bars_2h_live', 'SELECT') AS reader_reads_live,
       has_table_privilege('regress_rollup_other', 'stockext.bars_2h', 'SELECT') AS other_reads;

-- A grant on a rollup alone is undone, with a notice saying where to grant.
SET client_min_messages = notice;
GRANT SELECT ON stockext.bars_1d TO regress_rollup_other;
REVOKE SELECT ON stockext.bars_1d FROM regress_rollup_reader;
SET client_min_messages = warning;
SELECT has_table_privilege('regress_rollup_other', 'stockext.bars_1d', 'SELECT') AS other_reads,
       has_table_privilege('regress_rollup_reader', 'stockext.bars_1d', 'SELECT') AS reader_reads;

-- Grants through PUBLIC, grant options and schema-wide grants are followed too.
GRANT SELECT ON stockext.ticks TO PUBLIC;
SELECT has_table_privilege('regress_rollup_other', 'stockext.bars_30m', 'SELECT') AS public_reads;
REVOKE SELECT ON stockext.ticks FROM PUBLIC;
GRANT SELECT ON stockext.ticks TO regress_rollup_other WITH GRANT OPTION;
SELECT has_table_privilege('regress_rollup_other', 'stockext.bars_30m', 'SELECT') AS other_reads,
       has_table_privilege('regress_rollup_other', 'stockext.bars_30m', 'SELECT WITH GRANT OPTION') AS other_may_grant;
-- A role with the grant option passes ticks on, and the rollups follow
-- (the sync runs as the extension's owner: only the owner may grant there).
CREATE ROLE regress_rollup_third;
SET ROLE regress_rollup_other;
GRANT SELECT ON stockext.ticks TO regress_rollup_third;
RESET ROLE;
SELECT has_table_privilege('regress_rollup_third', 'stockext.bars_30m_live', 'SELECT') AS third_reads;
REVOKE ALL ON ALL TABLES IN SCHEMA stockext FROM regress_rollup_other CASCADE;
SELECT has_table_privilege('regress_rollup_other', 'stockext.bars_30m', 'SELECT') AS other_reads,
       has_table_privilege('regress_rollup_third', 'stockext.bars_30m_live', 'SELECT') AS third_reads;
DROP ROLE regress_rollup_third;

-- REVOKE on ticks takes the rollups away; the roles then drop cleanly.
REVOKE SELECT ON stockext.ticks FROM regress_rollup_reader;
SELECT count(*) AS fixes_pending FROM stockext.rollup_privilege_fixes();
SELECT c.relname AS still_granted
FROM pg_class c, aclexplode(c.relacl) a
WHERE c.relnamespace = 'stockext'::regnamespace
  AND a.grantee IN ('regress_rollup_reader'::regrole, 'regress_rollup_other'::regrole);
SELECT stockext.drop_rollup('2 hours');
DELETE FROM stockext.ticks WHERE symbol = 'PRIVR';
SELECT 1 AS refreshed FROM stockext.refresh_rollups();
REVOKE USAGE ON SCHEMA stockext FROM regress_rollup_reader, regress_rollup_other;
DROP ROLE regress_rollup_reader;
DROP ROLE regress_rollup_other;
