-- demo/setup.sql: what the demo sets up in database "stockext"; safe to re-run.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS stockext;
ALTER EXTENSION stockext UPDATE;
