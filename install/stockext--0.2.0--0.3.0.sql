-- stockext 0.2.0 -> 0.3.0 (ALTER EXTENSION stockext UPDATE TO '0.3.0').
\echo Use "ALTER EXTENSION stockext UPDATE" to load this file. \quit

-- Every change to the extension's SQL objects since 0.2.0, in the order
-- made; test/suites/15-upgrade checks that an updated 0.1.0 and an updated
-- 0.2.0 have the same objects as a fresh 0.3.0.

------------------------------------------------------------------------------
-- Providers: one interface, its facts read from the C registry
------------------------------------------------------------------------------


------------------------------------------------------------------------------
-- Market reference data: trading calendars and corporate actions
------------------------------------------------------------------------------


------------------------------------------------------------------------------
-- Indicators: stochastics, Williams %R, ADX, CCI, MFI, OBV, VWMA, TWAP, candle extremes' times
------------------------------------------------------------------------------


------------------------------------------------------------------------------
-- Latest bars, ASOF and rollups: user-defined metrics, calendar widths
------------------------------------------------------------------------------


------------------------------------------------------------------------------
-- BI: flat indicator views and the read-only role
------------------------------------------------------------------------------

