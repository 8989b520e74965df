-- stockext 0.1.0 -> 0.2.0 (ALTER EXTENSION stockext UPDATE TO '0.2.0').
\echo Use "ALTER EXTENSION stockext UPDATE" to load this file. \quit

-- Every change to the extension's SQL objects between the two versions, in
-- the order made; test/suites/15-upgrade checks that an updated 0.1.0 has
-- the same objects as a fresh 0.2.0.

------------------------------------------------------------------------------
-- Backups: partitions and rollups survive pg_dump and pg_restore
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- Copies: a restored or copied database is quiet until activated
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- Alerts: closed bars only by default, no alerts on history
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- DROP EXTENSION is deliberate; rollup privileges follow ticks; clear errors
------------------------------------------------------------------------------

------------------------------------------------------------------------------
-- Bars on their resolution's grid, upper-case symbols, feed checks
------------------------------------------------------------------------------
