-- Copies: only the live database polls, evaluates alerts and posts webhooks.
-- A restored dump, a template copy or a base backup carries its original's
-- row in stockext.activation and stays quiet (test/suites/17-copies shows
-- the worker); here the SQL rules, with a copy made by rewriting that row.
SET client_min_messages = warning;
SET timezone = 'UTC';
-- Line numbers of the functions that raise are not what is tested here.
\set SHOW_CONTEXT never
-- The worker of this database evaluates alerts and claims deliveries once
-- it is live: holding the lock they take keeps it out until the end.
SELECT pg_advisory_lock('stockext.alert_queue'::regclass::oid::bigint);

-- Which running database this is.
SELECT system_identifier = (SELECT c.system_identifier FROM pg_control_system() c) AS cluster,
       database_oid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) AS database,
       host <> '' AS host,
       data_directory = current_setting('data_directory') AS data_directory
FROM stockext.instance_identity();

-- Never activated (as after CREATE EXTENSION; earlier tests of this
-- database added rules): quiet, and evaluate_alerts refuses.
DELETE FROM stockext.activation;
SELECT stockext.idle_reason();
SELECT stockext.evaluate_alerts();

-- The first feed activates the database: one row, its identity.  In one
-- transaction with the copy below, so that the worker never sees it live.
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['COPY.A'], '1 minute', '1 minute') AS feed \gset
SELECT stockext.pause_feed(:feed);
SELECT stockext.idle_reason() IS NULL AS live;
SELECT (system_identifier, database_oid, host, data_directory)
       = (SELECT i.system_identifier, i.database_oid, i.host, i.data_directory
          FROM stockext.instance_identity() i) AS this_database,
       database_name = current_database() AS named, activated_by = current_user AS by_me,
       activated_at = now() AS now
FROM stockext.activation;
-- Now a copy: the row names another database (a restored dump keeps its
-- original's).
UPDATE stockext.activation SET database_oid = 1, database_name = 'original', host = 'db1.example';
COMMIT;
SELECT stockext.idle_reason();
SELECT paused, idle_reason FROM stockext.feed_status WHERE id = :feed;

-- In a copy, a new feed, rule or webhook warns and activates nothing.
SELECT stockext.add_feed('simulated', ARRAY['COPY.B'], '1 minute', '1 minute') AS feed_b \gset
SELECT stockext.pause_feed(:feed_b);
SELECT stockext.add_alert('price_cross', 'COPY.A', level => 10, on_history => true) AS rule \gset
SELECT stockext.set_alert_webhook(:rule, 'http://127.0.0.1:9/copy');
SELECT stockext.set_feed_notifications(:feed);
SELECT database_oid, database_name, host FROM stockext.activation;

-- Its alerts are not evaluated, announced or posted.
SELECT stockext.upsert_bar('COPY.A', '2024-05-06 13:30+00', '1 minute', 9, 9, 9, 9, 1);
SELECT stockext.upsert_bar('COPY.A', '2024-05-06 13:31+00', '1 minute', 9, 11, 9, 11, 1);
SELECT fired FROM stockext.evaluate_alerts();
SELECT count(*) AS queued FROM stockext.alert_queue;
INSERT INTO stockext.alerts (kind, rule_id, symbol, message, delivery, next_attempt_at)
VALUES ('alert', :rule, 'COPY.A', 'copied with the database', 'pending', now());
SELECT count(*) AS due FROM stockext.due_deliveries('{}', 10);

-- Only a superuser activates; the identity and the row are theirs too.
SELECT has_function_privilege('public', 'stockext.activate()', 'EXECUTE') AS public_activates,
       has_function_privilege('public', 'stockext.instance_identity()', 'EXECUTE') AS public_identity,
       has_table_privilege('public', 'stockext.activation', 'SELECT') AS public_reads;
CREATE ROLE regress_copies_user;
GRANT USAGE ON SCHEMA stockext TO regress_copies_user;
SET ROLE regress_copies_user;
SELECT stockext.activate();
SELECT * FROM stockext.activation;
-- The reason is no secret: worker_status() shows it to anyone.
SELECT stockext.idle_reason();
RESET ROLE;
REVOKE USAGE ON SCHEMA stockext FROM regress_copies_user;
DROP ROLE regress_copies_user;

-- activate() makes this database the live one, says what it was, and is
-- safe to repeat.
SELECT stockext.activate();
SELECT stockext.idle_reason() IS NULL AS live;
SELECT (system_identifier, database_oid, host, data_directory)
       = (SELECT i.system_identifier, i.database_oid, i.host, i.data_directory
          FROM stockext.instance_identity() i) AS this_database,
       database_name = current_database() AS named
FROM stockext.activation;
SELECT idle_reason FROM stockext.feed_status WHERE id = :feed;
SELECT stockext.activate();
-- The queued bar fires now; both alerts are due for their webhook.
SELECT fired FROM stockext.evaluate_alerts();
SELECT count(*) AS due FROM stockext.due_deliveries('{}', 10);
-- Live, a new feed warns of nothing.
BEGIN;
SELECT stockext.add_feed('simulated', ARRAY['COPY.C'], '1 minute', '1 minute') AS feed_c \gset
SELECT stockext.pause_feed(:feed_c);
COMMIT;

-- Leave the shared regression database as it was (live, no feed).
SELECT stockext.remove_alert(:rule);
SELECT stockext.remove_feed(id) FROM stockext.feeds WHERE id IN (:feed, :feed_b, :feed_c);
DELETE FROM stockext.alerts WHERE symbol = 'COPY.A';
DELETE FROM stockext.ticks WHERE symbol = 'COPY.A';
DELETE FROM stockext.rollup_invalidations WHERE symbol = 'COPY.A';
SELECT pg_advisory_unlock('stockext.alert_queue'::regclass::oid::bigint);
