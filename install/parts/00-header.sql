-- stockext: market-data ingestion, analytics and rollups inside PostgreSQL.
\echo Use "CREATE EXTENSION stockext" to load this file. \quit

-- The extension's objects live in schema stockext (created by CREATE
-- EXTENSION from the control file).  Every function is schema-qualified and
-- pins nothing it does not need to.
