-- DROP EXTENSION stockext is deliberate: refused while stockext.ticks holds
-- bars, unless CASCADE or stockext.allow_drop says so; a drop leaves no
-- schema stockext and no grants behind.  In a database of its own, so that
-- the count of bars is this file's and other tests keep their extension.
SET client_min_messages = warning;
CREATE DATABASE regress_stockext_drop;
\c regress_stockext_drop
SET client_min_messages = warning;
CREATE ROLE regress_stockext_drop_reader;

-- Without bars, a plain DROP goes through and takes the schema along.
CREATE EXTENSION stockext;
DROP EXTENSION stockext;
SELECT to_regnamespace('stockext') IS NULL AS schema_gone;

-- With bars it is refused, saying how many and what to do; nothing changes.
CREATE EXTENSION stockext;
GRANT USAGE ON SCHEMA stockext TO regress_stockext_drop_reader;
GRANT SELECT ON stockext.ticks TO regress_stockext_drop_reader;
SELECT stockext.upsert_bar('DROP.A', '2025-01-02 15:00Z', '1 minute', 10, 11, 9, 10.5, 100, 'test');
SELECT stockext.upsert_bar('DROP.A', '2025-01-02 15:01Z', '1 minute', 10, 11, 9, 10.5, 100, 'test');
DROP EXTENSION stockext;
\set VERBOSITY sqlstate
DROP EXTENSION IF EXISTS stockext;
\set VERBOSITY default
SELECT count(*) AS bars_kept FROM stockext.ticks;

-- A DROP rolled back keeps everything, the schema included.
BEGIN;
DROP EXTENSION stockext CASCADE;
ROLLBACK;
SELECT count(*) AS bars_kept, to_regnamespace('stockext') IS NOT NULL AS schema_kept FROM stockext.ticks;

-- Dropped and created again in one transaction: the schema stays with the
-- new extension, which starts empty.
BEGIN;
DROP EXTENSION stockext CASCADE;
CREATE EXTENSION stockext;
COMMIT;
SELECT count(*) AS bars FROM stockext.ticks;

-- stockext.allow_drop is for superusers only ...
SET ROLE regress_stockext_drop_reader;
SET stockext.allow_drop = on;
RESET ROLE;

-- ... and lets a plain DROP delete the bars; the schema and its grants go,
-- so the role that had them can be dropped.
SELECT stockext.upsert_bar('DROP.A', '2025-01-02 15:00Z', '1 minute', 10, 11, 9, 10.5, 100, 'test');
GRANT USAGE ON SCHEMA stockext TO regress_stockext_drop_reader;
GRANT SELECT ON stockext.ticks TO regress_stockext_drop_reader;
SET stockext.allow_drop = on;
DROP EXTENSION stockext;
RESET stockext.allow_drop;
SELECT to_regnamespace('stockext') IS NULL AS schema_gone;
DROP ROLE regress_stockext_drop_reader;

-- CASCADE drops the bars without the setting.
CREATE EXTENSION stockext;
SELECT stockext.upsert_bar('DROP.A', '2025-01-02 15:00Z', '1 minute', 10, 11, 9, 10.5, 100, 'test');
DROP EXTENSION stockext CASCADE;
SELECT to_regnamespace('stockext') IS NULL AS schema_gone;

-- A schema that still holds something of the user's is left alone.
CREATE EXTENSION stockext;
CREATE TABLE stockext.mine (x int);
DROP EXTENSION stockext;
SELECT count(*) AS user_relations_kept FROM pg_class WHERE relnamespace = 'stockext'::regnamespace;
DROP SCHEMA stockext CASCADE;

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE regress_stockext_drop;
