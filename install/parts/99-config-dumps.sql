------------------------------------------------------------------------------
-- Configuration tables added since 0.2.0, registered with pg_dump
------------------------------------------------------------------------------

-- Last, and in the order the upgrade script registers them: pg_extension
-- lists configuration tables in the order of the calls, and an updated
-- database must equal a fresh one (test/suites/15-upgrade).

-- Corporate actions (15-corporate-actions.sql): every row, and when each
-- symbol's were fetched (so a restored copy does not fetch them all again).
SELECT pg_catalog.pg_extension_config_dump('stockext.corporate_actions', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.action_refreshes', '');

-- Trading calendars (37-calendars.sql): what a user adds, not the shipped rows.
SELECT pg_catalog.pg_extension_config_dump('stockext.calendars', $$WHERE name NOT IN ('XNYS', '24x5', '24x7')$$);
SELECT pg_catalog.pg_extension_config_dump('stockext.calendar_sessions', $$WHERE calendar NOT IN ('XNYS', '24x5', '24x7')$$);
SELECT pg_catalog.pg_extension_config_dump('stockext.calendar_holidays',
    $$WHERE calendar <> 'XNYS' OR name NOT IN ('New Year''s Day', 'Martin Luther King Jr. Day', 'Washington''s Birthday',
        'Good Friday', 'Memorial Day', 'Juneteenth', 'Independence Day', 'Labor Day', 'Thanksgiving Day', 'Christmas Day',
        'Independence Day eve (early close)', 'day after Thanksgiving (early close)', 'Christmas Eve (early close)')$$);
SELECT pg_catalog.pg_extension_config_dump('stockext.calendar_exceptions', $$WHERE calendar <> 'XNYS' OR day <> '2025-01-09'$$);

-- Cross-provider conflicts (40-ingestion.sql): every row.
SELECT pg_catalog.pg_extension_config_dump('stockext.preferred_sources', '');
SELECT pg_catalog.pg_extension_config_dump('stockext.conflicts', '');

-- The newest bar per series (50-rollups.sql), dumped from the same
-- snapshot as the bars it follows.
SELECT pg_catalog.pg_extension_config_dump('stockext.latest_ticks', '');
