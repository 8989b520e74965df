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

-- vwma: the volume-weighted moving average is vwap over a sliding frame;
-- the same state and support functions (O(1) per row with the inverse).
CREATE AGGREGATE stockext.vwma(price float8, volume float8) (
    SFUNC = stockext.vwap_trans, STYPE = stockext.vwap_state,
    FINALFUNC = stockext.vwap_final, COMBINEFUNC = stockext.vwap_combine,
    MSFUNC = stockext.vwap_mtrans, MINVFUNC = stockext.vwap_minv,
    MSTYPE = internal, MFINALFUNC = stockext.vwap_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.vwma(float8, float8) IS
'volume-weighted moving average sum(price*volume)/sum(volume) over the frame (vwap under the name of the indicator, OVER (ROWS n-1 PRECEDING)); O(1) per row in sliding frames';

-- twap: time-weighted average, each price weighing until the next
-- observation; rows must come in ts order.  Two states combine when their
-- observations do not interleave in time (src/agg_twap.c).
CREATE TYPE stockext.twap_state;
CREATE FUNCTION stockext.twap_state_in(cstring) RETURNS stockext.twap_state
AS 'MODULE_PATHNAME', 'stockext_twap_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.twap_state_out(stockext.twap_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_twap_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.twap_state_recv(internal) RETURNS stockext.twap_state
AS 'MODULE_PATHNAME', 'stockext_twap_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.twap_state_send(stockext.twap_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_twap_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.twap_state (
    INPUT = stockext.twap_state_in, OUTPUT = stockext.twap_state_out,
    RECEIVE = stockext.twap_state_recv, SEND = stockext.twap_state_send,
    INTERNALLENGTH = 64, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.twap_state IS
'partial state of twap: (observations, non-finite intervals, first ts, last ts, stop (9223372036854775807: none) in microseconds since 2000, last price, sum of price x microseconds hi, lo)';
COMMENT ON FUNCTION stockext.twap_state_in(cstring) IS 'text input of stockext.twap_state';
COMMENT ON FUNCTION stockext.twap_state_out(stockext.twap_state) IS 'text output of stockext.twap_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.twap_state_recv(internal) IS 'binary input of stockext.twap_state';
COMMENT ON FUNCTION stockext.twap_state_send(stockext.twap_state) IS 'binary output of stockext.twap_state';

CREATE FUNCTION stockext.twap_trans(stockext.twap_state, timestamptz, float8) RETURNS stockext.twap_state
AS 'MODULE_PATHNAME', 'stockext_twap_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_trans(stockext.twap_state, timestamptz, float8) IS
'transition of twap(ts, price): adds an observation at or after the last one (rows with a NULL skipped)';
CREATE FUNCTION stockext.twap_stop_trans(stockext.twap_state, timestamptz, float8, timestamptz) RETURNS stockext.twap_state
AS 'MODULE_PATHNAME', 'stockext_twap_stop_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_stop_trans(stockext.twap_state, timestamptz, float8, timestamptz) IS
'transition of twap(ts, price, stop): adds an observation at or after the last one and not after stop';
CREATE FUNCTION stockext.twap_combine(stockext.twap_state, stockext.twap_state) RETURNS stockext.twap_state
AS 'MODULE_PATHNAME', 'stockext_twap_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_combine(stockext.twap_state, stockext.twap_state) IS
'combine of twap: joins two partial states whose observations do not interleave in time';
CREATE FUNCTION stockext.twap_mtrans(internal, timestamptz, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_twap_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_mtrans(internal, timestamptz, float8) IS
'moving-aggregate transition of twap: adds the observation entering the frame';
CREATE FUNCTION stockext.twap_minv(internal, timestamptz, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_twap_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_minv(internal, timestamptz, float8) IS
'inverse transition of twap: removes the oldest observation and the interval it weighed';
CREATE FUNCTION stockext.twap_final(stockext.twap_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_twap_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_final(stockext.twap_state) IS 'final of twap: sum(price x duration) / total duration';
CREATE FUNCTION stockext.twap_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_twap_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.twap_mfinal(internal) IS 'moving-aggregate final of twap: sum(price x duration) / total duration';

CREATE AGGREGATE stockext.twap(ts timestamptz, price float8) (
    SFUNC = stockext.twap_trans, STYPE = stockext.twap_state,
    FINALFUNC = stockext.twap_final, COMBINEFUNC = stockext.twap_combine,
    MSFUNC = stockext.twap_mtrans, MINVFUNC = stockext.twap_minv,
    MSTYPE = internal, MFINALFUNC = stockext.twap_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.twap(timestamptz, float8) IS
'time-weighted average price: each price weighs until the next observation, the last one nothing; rows in ts order (twap(ts, price ORDER BY ts), or a window ordered by ts); NULL when no time passes; O(1) per row in sliding frames';
CREATE AGGREGATE stockext.twap(ts timestamptz, price float8, stop timestamptz) (
    SFUNC = stockext.twap_stop_trans, STYPE = stockext.twap_state,
    FINALFUNC = stockext.twap_final, COMBINEFUNC = stockext.twap_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.twap(timestamptz, float8, timestamptz) IS
'time-weighted average price up to stop: as twap(ts, price), the last price weighing until stop (the same on every row, not before any ts)';

CREATE TYPE stockext.stoch AS (k float8, d float8);
COMMENT ON TYPE stockext.stoch IS
'result of stockext.stoch(): slow %K (the mean of the last k_smooth fast %K) and slow %D (the mean of the last d slow %K)';

CREATE FUNCTION stockext.stoch(high float8, low float8, close float8, k integer DEFAULT 14,
                               k_smooth integer DEFAULT 3, d integer DEFAULT 3)
RETURNS stockext.stoch
AS 'MODULE_PATHNAME', 'stockext_stoch'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.stoch(float8, float8, float8, integer, integer, integer) IS
'window function: slow stochastic oscillator (TA-Lib STOCH, SMA smoothing) as (k, d), 0 to 100; first value on the (k+k_smooth+d-2)-th complete bar';

CREATE FUNCTION stockext.willr(high float8, low float8, close float8, n integer DEFAULT 14)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_willr'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.willr(float8, float8, float8, integer) IS
'window function: Williams'' %R (TA-Lib WILLR), -100 to 0, over the last n complete bars; first value on the n-th';

CREATE TYPE stockext.adx AS (adx float8, plus_di float8, minus_di float8);
COMMENT ON TYPE stockext.adx IS
'result of stockext.adx(): average directional index and the plus and minus directional indicators';

CREATE FUNCTION stockext.adx(high float8, low float8, close float8, n integer DEFAULT 14)
RETURNS stockext.adx
AS 'MODULE_PATHNAME', 'stockext_adx'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.adx(float8, float8, float8, integer) IS
'window function: Wilder''s directional movement (TA-Lib ADX, PLUS_DI, MINUS_DI) as (adx, plus_di, minus_di); the DIs from the (n+1)-th complete bar, adx from the 2n-th';

CREATE FUNCTION stockext.cci(high float8, low float8, close float8, n integer DEFAULT 20)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_cci'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.cci(float8, float8, float8, integer) IS
'window function: commodity channel index (TA-Lib CCI): (typical price - its mean) / (0.015 * mean deviation) over the last n complete bars; first value on the n-th';

CREATE FUNCTION stockext.mfi(high float8, low float8, close float8, volume float8, n integer DEFAULT 14)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mfi'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.mfi(float8, float8, float8, float8, integer) IS
'window function: money flow index (TA-Lib MFI), 0 to 100, over the money flows of the last n changes of the typical price; first value on the (n+1)-th complete bar';

CREATE FUNCTION stockext.obv(close float8, volume float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_obv'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.obv(float8, float8) IS
'window function: on-balance volume (TA-Lib OBV): starts at the first volume, then adds the volume when the close rises and subtracts it when it falls';


------------------------------------------------------------------------------
-- Latest bars, ASOF and rollups: user-defined metrics, calendar widths
------------------------------------------------------------------------------


------------------------------------------------------------------------------
-- BI: flat indicator views and the read-only role
------------------------------------------------------------------------------

