-- demo/setup.sql: what the demo sets up in database "stockext"; safe to re-run.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS stockext;
ALTER EXTENSION stockext UPDATE;

-- Rollups: pg_cron runs in this database (cron.database_name = stockext),
-- so the jobs are registered directly; a first refresh fills the tables.
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT stockext.schedule_jobs();
SELECT stockext.refresh_rollups();
