------------------------------------------------------------------------------
-- Analytics: aggregates
------------------------------------------------------------------------------

-- Every order-independent aggregate below keeps its plain-mode state in a
-- fixed-size base type updated in place (src/agg_state.c): text and binary
-- forms round-trip every double exactly whatever extra_float_digits says,
-- so sharded engines can ship partial states, and a combine function lets
-- parallel query split the work.  Sliding window frames use a moving-aggregate
-- state ("internal", never shipped) with an inverse transition: O(1) per row.

-- State of sma, mstddev_samp, mstddev_pop: counts, shift and double-double
-- sums of offsets from it (see src/agg_moments.h).
CREATE TYPE stockext.moments_state;
CREATE FUNCTION stockext.moments_state_in(cstring) RETURNS stockext.moments_state
AS 'MODULE_PATHNAME', 'stockext_moments_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.moments_state_out(stockext.moments_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_moments_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.moments_state_recv(internal) RETURNS stockext.moments_state
AS 'MODULE_PATHNAME', 'stockext_moments_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.moments_state_send(stockext.moments_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_moments_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.moments_state (
    INPUT = stockext.moments_state_in, OUTPUT = stockext.moments_state_out,
    RECEIVE = stockext.moments_state_recv, SEND = stockext.moments_state_send,
    INTERNALLENGTH = 72, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.moments_state IS
'partial state of sma, mstddev_samp and mstddev_pop: (finite count, NaN count, +Infinity count, -Infinity count, shift, sum of offsets hi, lo, sum of squared offsets hi, lo)';
COMMENT ON FUNCTION stockext.moments_state_in(cstring) IS 'text input of stockext.moments_state';
COMMENT ON FUNCTION stockext.moments_state_out(stockext.moments_state) IS 'text output of stockext.moments_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.moments_state_recv(internal) IS 'binary input of stockext.moments_state';
COMMENT ON FUNCTION stockext.moments_state_send(stockext.moments_state) IS 'binary output of stockext.moments_state';

CREATE FUNCTION stockext.moments_trans(stockext.moments_state, float8) RETURNS stockext.moments_state
AS 'MODULE_PATHNAME', 'stockext_moments_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_trans(stockext.moments_state, float8) IS
'transition of sma, mstddev_samp, mstddev_pop: adds a value (NULL skipped)';
CREATE FUNCTION stockext.moments_combine(stockext.moments_state, stockext.moments_state) RETURNS stockext.moments_state
AS 'MODULE_PATHNAME', 'stockext_moments_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_combine(stockext.moments_state, stockext.moments_state) IS
'combine of sma, mstddev_samp, mstddev_pop: merges two partial states';
CREATE FUNCTION stockext.moments_mtrans(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_moments_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_mtrans(internal, float8) IS
'moving-aggregate transition of sma, mstddev_samp, mstddev_pop: adds the value entering the frame';
CREATE FUNCTION stockext.moments_minv(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_moments_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_minv(internal, float8) IS
'inverse transition of sma, mstddev_samp, mstddev_pop: removes the value leaving the frame';

-- Each final function exists for the plain state and the moving one; the
-- moving state starts with the plain one, so both share the C code.
CREATE FUNCTION stockext.sma_final(stockext.moments_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_sma_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.sma_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_sma_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mstddev_samp_final(stockext.moments_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_samp_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mstddev_samp_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_samp_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mstddev_pop_final(stockext.moments_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_pop_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mstddev_pop_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_pop_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.sma_final(stockext.moments_state) IS 'final of sma: the mean';
COMMENT ON FUNCTION stockext.sma_mfinal(internal) IS 'moving-aggregate final of sma: the mean';
COMMENT ON FUNCTION stockext.mstddev_samp_final(stockext.moments_state) IS 'final of mstddev_samp: the sample standard deviation';
COMMENT ON FUNCTION stockext.mstddev_samp_mfinal(internal) IS 'moving-aggregate final of mstddev_samp: the sample standard deviation';
COMMENT ON FUNCTION stockext.mstddev_pop_final(stockext.moments_state) IS 'final of mstddev_pop: the population standard deviation';
COMMENT ON FUNCTION stockext.mstddev_pop_mfinal(internal) IS 'moving-aggregate final of mstddev_pop: the population standard deviation';

CREATE AGGREGATE stockext.sma(float8) (
    SFUNC = stockext.moments_trans, STYPE = stockext.moments_state,
    FINALFUNC = stockext.sma_final, COMBINEFUNC = stockext.moments_combine,
    MSFUNC = stockext.moments_mtrans, MINVFUNC = stockext.moments_minv,
    MSTYPE = internal, MFINALFUNC = stockext.sma_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.sma(float8) IS
'simple moving average: mean of the non-NULL values of the frame (or group); O(1) per row in sliding frames';
CREATE AGGREGATE stockext.mstddev_samp(float8) (
    SFUNC = stockext.moments_trans, STYPE = stockext.moments_state,
    FINALFUNC = stockext.mstddev_samp_final, COMBINEFUNC = stockext.moments_combine,
    MSFUNC = stockext.moments_mtrans, MINVFUNC = stockext.moments_minv,
    MSTYPE = internal, MFINALFUNC = stockext.mstddev_samp_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.mstddev_samp(float8) IS
'sample standard deviation of the non-NULL values, NULL below two; O(1) per row in sliding frames';
CREATE AGGREGATE stockext.mstddev_pop(float8) (
    SFUNC = stockext.moments_trans, STYPE = stockext.moments_state,
    FINALFUNC = stockext.mstddev_pop_final, COMBINEFUNC = stockext.moments_combine,
    MSFUNC = stockext.moments_mtrans, MINVFUNC = stockext.moments_minv,
    MSTYPE = internal, MFINALFUNC = stockext.mstddev_pop_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.mstddev_pop(float8) IS
'population standard deviation of the non-NULL values, NULL without any; O(1) per row in sliding frames';

-- vwap: volume and turnover as double-double sums.
CREATE TYPE stockext.vwap_state;
CREATE FUNCTION stockext.vwap_state_in(cstring) RETURNS stockext.vwap_state
AS 'MODULE_PATHNAME', 'stockext_vwap_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.vwap_state_out(stockext.vwap_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_vwap_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.vwap_state_recv(internal) RETURNS stockext.vwap_state
AS 'MODULE_PATHNAME', 'stockext_vwap_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.vwap_state_send(stockext.vwap_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_vwap_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.vwap_state (
    INPUT = stockext.vwap_state_in, OUTPUT = stockext.vwap_state_out,
    RECEIVE = stockext.vwap_state_recv, SEND = stockext.vwap_state_send,
    INTERNALLENGTH = 48, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.vwap_state IS
'partial state of vwap: (rows, non-finite rows, volume hi, lo, turnover hi, lo)';
COMMENT ON FUNCTION stockext.vwap_state_in(cstring) IS 'text input of stockext.vwap_state';
COMMENT ON FUNCTION stockext.vwap_state_out(stockext.vwap_state) IS 'text output of stockext.vwap_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.vwap_state_recv(internal) IS 'binary input of stockext.vwap_state';
COMMENT ON FUNCTION stockext.vwap_state_send(stockext.vwap_state) IS 'binary output of stockext.vwap_state';

CREATE FUNCTION stockext.vwap_trans(stockext.vwap_state, float8, float8) RETURNS stockext.vwap_state
AS 'MODULE_PATHNAME', 'stockext_vwap_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_trans(stockext.vwap_state, float8, float8) IS
'transition of vwap: adds a row (rows with a NULL are skipped)';
CREATE FUNCTION stockext.vwap_combine(stockext.vwap_state, stockext.vwap_state) RETURNS stockext.vwap_state
AS 'MODULE_PATHNAME', 'stockext_vwap_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_combine(stockext.vwap_state, stockext.vwap_state) IS
'combine of vwap: adds two partial states';
CREATE FUNCTION stockext.vwap_mtrans(internal, float8, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_vwap_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_mtrans(internal, float8, float8) IS
'moving-aggregate transition of vwap: adds the row entering the frame';
CREATE FUNCTION stockext.vwap_minv(internal, float8, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_vwap_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_minv(internal, float8, float8) IS
'inverse transition of vwap: removes the row leaving the frame';
CREATE FUNCTION stockext.vwap_final(stockext.vwap_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_vwap_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_final(stockext.vwap_state) IS 'final of vwap: turnover / volume';
CREATE FUNCTION stockext.vwap_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_vwap_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.vwap_mfinal(internal) IS 'moving-aggregate final of vwap: turnover / volume';

CREATE AGGREGATE stockext.vwap(price float8, volume float8) (
    SFUNC = stockext.vwap_trans, STYPE = stockext.vwap_state,
    FINALFUNC = stockext.vwap_final, COMBINEFUNC = stockext.vwap_combine,
    MSFUNC = stockext.vwap_mtrans, MINVFUNC = stockext.vwap_minv,
    MSTYPE = internal, MFINALFUNC = stockext.vwap_mfinal,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.vwap(float8, float8) IS
'volume-weighted average price sum(price*volume)/sum(volume) over rows where both are non-NULL; NULL when the volume sum is 0';

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

-- volatility: order-dependent, so no combine and an internal state.
CREATE FUNCTION stockext.volatility_trans(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_volatility_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volatility_trans(internal, float8) IS
'transition of volatility: adds the log return from the previous value';
CREATE FUNCTION stockext.volatility_mtrans(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_volatility_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volatility_mtrans(internal, float8) IS
'moving-aggregate transition of volatility: adds and queues the log return from the previous value';
CREATE FUNCTION stockext.volatility_minv(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_volatility_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volatility_minv(internal, float8) IS
'inverse transition of volatility: removes the oldest value and its return';
-- The state starts with the returns' moments: mstddev_samp's final applies.
CREATE FUNCTION stockext.volatility_final(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_samp_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volatility_final(internal) IS
'final of volatility: sample standard deviation of the log returns, NULL below three values';

CREATE AGGREGATE stockext.volatility(float8) (
    SFUNC = stockext.volatility_trans, STYPE = internal,
    FINALFUNC = stockext.volatility_final,
    MSFUNC = stockext.volatility_mtrans, MINVFUNC = stockext.volatility_minv,
    MSTYPE = internal, MFINALFUNC = stockext.volatility_final,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.volatility(float8) IS
'sample standard deviation of the log returns ln(x_i/x_(i-1)) between consecutive non-NULL values in frame order (plain: volatility(x ORDER BY ts)); NULL below three values; not annualized';

-- log_returns: volatility's summary for rollups, order-dependent like it,
-- but a fixed-size state with the first and last price and their times:
-- summaries of periods that do not interleave join exactly (the return
-- across their boundary included), so rollup() of half-hour summaries is
-- the hour's.  Rows in ts order; a combine for shards of different periods.
CREATE TYPE stockext.returns_state;
CREATE FUNCTION stockext.returns_state_in(cstring) RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.returns_state_out(stockext.returns_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_returns_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.returns_state_recv(internal) RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.returns_state_send(stockext.returns_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_returns_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.returns_state (
    INPUT = stockext.returns_state_in, OUTPUT = stockext.returns_state_out,
    RECEIVE = stockext.returns_state_recv, SEND = stockext.returns_state_send,
    INTERNALLENGTH = 112, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.returns_state IS
'summary of log_returns: the moments of the log returns as stockext.moments_state (9 slots), then (prices, first ts, last ts in microseconds since 2000, first price, last price)';
COMMENT ON FUNCTION stockext.returns_state_in(cstring) IS 'text input of stockext.returns_state';
COMMENT ON FUNCTION stockext.returns_state_out(stockext.returns_state) IS 'text output of stockext.returns_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.returns_state_recv(internal) IS 'binary input of stockext.returns_state';
COMMENT ON FUNCTION stockext.returns_state_send(stockext.returns_state) IS 'binary output of stockext.returns_state';

CREATE FUNCTION stockext.returns_trans(stockext.returns_state, timestamptz, float8) RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_trans(stockext.returns_state, timestamptz, float8) IS
'transition of log_returns(ts, price): adds the log return from the previous price (rows in ts order, NULLs skipped)';
CREATE FUNCTION stockext.returns_combine(stockext.returns_state, stockext.returns_state) RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_combine(stockext.returns_state, stockext.returns_state) IS
'combine of log_returns and rollup: joins two summaries whose prices do not interleave in time, with the return across their boundary';
CREATE FUNCTION stockext.returns_rollup_trans(stockext.returns_state, stockext.returns_state) RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_rollup_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_rollup_trans(stockext.returns_state, stockext.returns_state) IS
'transition of rollup(returns_state): joins a summary (NULL skipped)';
CREATE AGGREGATE stockext.log_returns(ts timestamptz, price float8) (
    SFUNC = stockext.returns_trans, STYPE = stockext.returns_state,
    COMBINEFUNC = stockext.returns_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.log_returns(timestamptz, float8) IS
'summary of the log returns between consecutive prices, for volatility(summary) and rollup(summary); rows in ts order: log_returns(ts, price ORDER BY ts)';
CREATE AGGREGATE stockext.rollup(stockext.returns_state) (
    SFUNC = stockext.returns_rollup_trans, STYPE = stockext.returns_state,
    COMBINEFUNC = stockext.returns_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.rollup(stockext.returns_state) IS
'joins log_returns summaries of periods that do not interleave, in time order (rollup(summary ORDER BY bucket)), into the summary of all their prices';
-- The summary starts with the returns' moments: mstddev_samp's final applies.
CREATE FUNCTION stockext.volatility(stockext.returns_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_mstddev_samp_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volatility(stockext.returns_state) IS
'sample standard deviation of the log returns of a log_returns summary (as the volatility aggregate); NULL below three prices';

-- Equality slot by slot, bit for bit, and a hash: rollups store
-- moments_state values, and EXCEPT, DISTINCT and IS DISTINCT FROM on their
-- rows need them.
CREATE FUNCTION stockext.moments_state_eq(stockext.moments_state, stockext.moments_state) RETURNS boolean
AS 'MODULE_PATHNAME', 'stockext_moments_state_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_state_eq(stockext.moments_state, stockext.moments_state) IS
'whether two stockext.moments_state values are identical slot by slot (their text forms are equal)';
CREATE FUNCTION stockext.moments_state_hash(stockext.moments_state) RETURNS integer
AS 'MODULE_PATHNAME', 'stockext_moments_state_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_state_hash(stockext.moments_state) IS 'hash of a stockext.moments_state value, for the hash operator class';
CREATE OPERATOR stockext.= (
    LEFTARG = stockext.moments_state, RIGHTARG = stockext.moments_state, FUNCTION = stockext.moments_state_eq,
    COMMUTATOR = OPERATOR(stockext.=), HASHES);
COMMENT ON OPERATOR stockext.= (stockext.moments_state, stockext.moments_state) IS 'identical slot by slot';
CREATE OPERATOR CLASS stockext.moments_state_ops DEFAULT FOR TYPE stockext.moments_state USING hash AS
    OPERATOR 1 stockext.= (stockext.moments_state, stockext.moments_state),
    FUNCTION 1 stockext.moments_state_hash(stockext.moments_state);
COMMENT ON OPERATOR CLASS stockext.moments_state_ops USING hash IS 'identical stockext.moments_state values';

-- Equality slot by slot, bit for bit, and a hash: as for moments_state.
CREATE FUNCTION stockext.returns_state_eq(stockext.returns_state, stockext.returns_state) RETURNS boolean
AS 'MODULE_PATHNAME', 'stockext_returns_state_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_state_eq(stockext.returns_state, stockext.returns_state) IS
'whether two stockext.returns_state values are identical slot by slot (their text forms are equal)';
CREATE FUNCTION stockext.returns_state_hash(stockext.returns_state) RETURNS integer
AS 'MODULE_PATHNAME', 'stockext_returns_state_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_state_hash(stockext.returns_state) IS 'hash of a stockext.returns_state value, for the hash operator class';
CREATE OPERATOR stockext.= (
    LEFTARG = stockext.returns_state, RIGHTARG = stockext.returns_state, FUNCTION = stockext.returns_state_eq,
    COMMUTATOR = OPERATOR(stockext.=), HASHES);
COMMENT ON OPERATOR stockext.= (stockext.returns_state, stockext.returns_state) IS 'identical slot by slot';
CREATE OPERATOR CLASS stockext.returns_state_ops DEFAULT FOR TYPE stockext.returns_state USING hash AS
    OPERATOR 1 stockext.= (stockext.returns_state, stockext.returns_state),
    FUNCTION 1 stockext.returns_state_hash(stockext.returns_state);
COMMENT ON OPERATOR CLASS stockext.returns_state_ops USING hash IS 'identical stockext.returns_state values';

-- moments, rollup(moments_state): the state of sma and mstddev_* as a
-- value, so that rollups can store it and merge more rows into it; read it
-- with sma_final, mstddev_samp_final or mstddev_pop_final.
CREATE AGGREGATE stockext.moments(float8) (
    SFUNC = stockext.moments_trans, STYPE = stockext.moments_state,
    COMBINEFUNC = stockext.moments_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.moments(float8) IS
'the moments_state of the non-NULL values (what sma, mstddev_samp and mstddev_pop finish), for storing and rolling up';
CREATE AGGREGATE stockext.rollup(stockext.moments_state) (
    SFUNC = stockext.moments_combine, STYPE = stockext.moments_state,
    COMBINEFUNC = stockext.moments_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.rollup(stockext.moments_state) IS
'merges moments_state values into the state of all their values';

-- mmax, mmin: one double in plain mode, a monotonic deque in moving mode.
CREATE TYPE stockext.extremum_state;
CREATE FUNCTION stockext.extremum_state_in(cstring) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_extremum_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_state_out(stockext.extremum_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_extremum_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_state_recv(internal) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_extremum_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_state_send(stockext.extremum_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_extremum_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.extremum_state (
    INPUT = stockext.extremum_state_in, OUTPUT = stockext.extremum_state_out,
    RECEIVE = stockext.extremum_state_recv, SEND = stockext.extremum_state_send,
    INTERNALLENGTH = 8, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.extremum_state IS 'partial state of mmax and mmin: (value)';
COMMENT ON FUNCTION stockext.extremum_state_in(cstring) IS 'text input of stockext.extremum_state';
COMMENT ON FUNCTION stockext.extremum_state_out(stockext.extremum_state) IS 'text output of stockext.extremum_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.extremum_state_recv(internal) IS 'binary input of stockext.extremum_state';
COMMENT ON FUNCTION stockext.extremum_state_send(stockext.extremum_state) IS 'binary output of stockext.extremum_state';

CREATE FUNCTION stockext.mmax_trans(stockext.extremum_state, float8) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_mmax_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION stockext.mmin_trans(stockext.extremum_state, float8) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_mmin_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION stockext.mmax_combine(stockext.extremum_state, stockext.extremum_state) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_mmax_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mmin_combine(stockext.extremum_state, stockext.extremum_state) RETURNS stockext.extremum_state
AS 'MODULE_PATHNAME', 'stockext_mmin_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_final(stockext.extremum_state) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_extremum_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.mmax_mtrans(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_mmax_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION stockext.mmin_mtrans(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_mmin_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_minv(internal, float8) RETURNS internal
AS 'MODULE_PATHNAME', 'stockext_extremum_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION stockext.extremum_mfinal(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_extremum_mfinal' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.mmax_trans(stockext.extremum_state, float8) IS 'transition of mmax: keeps the largest value';
COMMENT ON FUNCTION stockext.mmin_trans(stockext.extremum_state, float8) IS 'transition of mmin: keeps the smallest value';
COMMENT ON FUNCTION stockext.mmax_combine(stockext.extremum_state, stockext.extremum_state) IS 'combine of mmax: the larger of two partial states';
COMMENT ON FUNCTION stockext.mmin_combine(stockext.extremum_state, stockext.extremum_state) IS 'combine of mmin: the smaller of two partial states';
COMMENT ON FUNCTION stockext.extremum_final(stockext.extremum_state) IS 'final of mmax and mmin: the value kept';
COMMENT ON FUNCTION stockext.mmax_mtrans(internal, float8) IS 'moving-aggregate transition of mmax: pushes the value entering the frame on the deque';
COMMENT ON FUNCTION stockext.mmin_mtrans(internal, float8) IS 'moving-aggregate transition of mmin: pushes the value entering the frame on the deque';
COMMENT ON FUNCTION stockext.extremum_minv(internal, float8) IS 'inverse transition of mmax and mmin: drops the value leaving the frame';
COMMENT ON FUNCTION stockext.extremum_mfinal(internal) IS 'moving-aggregate final of mmax and mmin: the front of the deque';

CREATE AGGREGATE stockext.mmax(float8) (
    SFUNC = stockext.mmax_trans, STYPE = stockext.extremum_state,
    FINALFUNC = stockext.extremum_final, COMBINEFUNC = stockext.mmax_combine,
    MSFUNC = stockext.mmax_mtrans, MINVFUNC = stockext.extremum_minv,
    MSTYPE = internal, MFINALFUNC = stockext.extremum_mfinal,
    SORTOP = >, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.mmax(float8) IS
'rolling high: the largest non-NULL value (NaN above all numbers, as max()); O(1) amortized per row in sliding frames';
CREATE AGGREGATE stockext.mmin(float8) (
    SFUNC = stockext.mmin_trans, STYPE = stockext.extremum_state,
    FINALFUNC = stockext.extremum_final, COMBINEFUNC = stockext.mmin_combine,
    MSFUNC = stockext.mmin_mtrans, MINVFUNC = stockext.extremum_minv,
    MSTYPE = internal, MFINALFUNC = stockext.extremum_mfinal,
    SORTOP = <, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.mmin(float8) IS
'rolling low: the smallest non-NULL value (NaN only when all are NaN, as min()); O(1) amortized per row in sliding frames';

-- Candles.  Rows are ordered by (ts, price) -- (ts, open) for the open and
-- (ts, close) for the close of the bar form --: open is the first, close
-- the last, so equal timestamps never make the result depend on arrival.
CREATE TYPE stockext.candle AS (
    open         float8,
    high         float8,
    low          float8,
    close        float8,
    volume       float8,
    vwap         float8,
    count        bigint,
    first_ts     timestamptz,
    last_ts      timestamptz,
    turnover     float8,
    volume_err   float8,
    turnover_err float8,
    high_ts      timestamptz,
    low_ts       timestamptz
);
COMMENT ON TYPE stockext.candle IS
'an OHLCV candle: open at the earliest ts, close at the latest, high, low, volume, vwap, row count, first and last ts, turnover sum(price*volume), the rounding residuals of volume and turnover that keep rollup() exact, and the times of the high and the low';

CREATE TYPE stockext.candle_state;
CREATE FUNCTION stockext.candle_state_in(cstring) RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_state_v3_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.candle_state_out(stockext.candle_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'stockext_candle_state_v3_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.candle_state_recv(internal) RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_state_v3_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stockext.candle_state_send(stockext.candle_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'stockext_candle_state_v3_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stockext.candle_state (
    INPUT = stockext.candle_state_in, OUTPUT = stockext.candle_state_out,
    RECEIVE = stockext.candle_state_recv, SEND = stockext.candle_state_send,
    INTERNALLENGTH = 112, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE stockext.candle_state IS
'partial state of candle and rollup: (count, has volume, first ts, last ts, open, close, high, low, volume hi, lo, turnover hi, lo, high ts, low ts (9223372036854775807: unknown)) with timestamps in microseconds since 2000';
COMMENT ON FUNCTION stockext.candle_state_in(cstring) IS 'text input of stockext.candle_state';
COMMENT ON FUNCTION stockext.candle_state_out(stockext.candle_state) IS 'text output of stockext.candle_state, exact whatever extra_float_digits says';
COMMENT ON FUNCTION stockext.candle_state_recv(internal) IS 'binary input of stockext.candle_state';
COMMENT ON FUNCTION stockext.candle_state_send(stockext.candle_state) IS 'binary output of stockext.candle_state';

CREATE FUNCTION stockext.candle_trans(stockext.candle_state, timestamptz, float8, float8)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_trans_v3' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_trans(stockext.candle_state, timestamptz, float8, float8) IS
'transition of candle(ts, price, volume): adds a trade (rows without ts or price skipped)';
CREATE FUNCTION stockext.candle_bar_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8, float8)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_bar_trans_v3' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_bar_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8, float8) IS
'transition of candle(ts, open, high, low, close, volume): adds a bar (rows without ts or a price skipped)';
CREATE FUNCTION stockext.candle_rollup_trans(stockext.candle_state, stockext.candle)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_rollup_trans_v3' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_rollup_trans(stockext.candle_state, stockext.candle) IS
'transition of rollup(candle): merges a candle (NULL skipped)';
CREATE FUNCTION stockext.candle_combine(stockext.candle_state, stockext.candle_state)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_combine_v3' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_combine(stockext.candle_state, stockext.candle_state) IS
'combine of candle and rollup: merges two partial candles';
CREATE FUNCTION stockext.candle_final(stockext.candle_state) RETURNS stockext.candle
AS 'MODULE_PATHNAME', 'stockext_candle_final_v3' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_final(stockext.candle_state) IS 'final of candle and rollup: the candle';

CREATE AGGREGATE stockext.candle(ts timestamptz, price float8, volume float8) (
    SFUNC = stockext.candle_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, COMBINEFUNC = stockext.candle_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.candle(timestamptz, float8, float8) IS
'OHLCV candle of trades: open/close are the prices at the earliest/latest ts (ties: lowest price opens, highest closes), high, low, volume sum, vwap, count';
CREATE AGGREGATE stockext.candle(ts timestamptz, open float8, high float8, low float8, close float8, volume float8) (
    SFUNC = stockext.candle_bar_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, COMBINEFUNC = stockext.candle_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.candle(timestamptz, float8, float8, float8, float8, float8) IS
'OHLCV candle of bars: open of the earliest bar, close of the latest (ties: lowest open, highest close), highest high, lowest low, volume sum, vwap at the typical price (high+low+close)/3, count';
CREATE AGGREGATE stockext.rollup(stockext.candle) (
    SFUNC = stockext.candle_rollup_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, COMBINEFUNC = stockext.candle_combine,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.rollup(stockext.candle) IS
'merges candles into one, equal to the candle of all their rows (30-minute candles into an hour)';

-- The times of the extremes: of equal highs (lows) the earliest, so they
-- do not depend on the order rows arrive in or parallel workers split them.
CREATE FUNCTION stockext.high_time(stockext.candle) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ($1).high_ts;
COMMENT ON FUNCTION stockext.high_time(stockext.candle) IS
'time of the candle''s high: the ts of the trade (or the start of the bar) holding it, the earliest of equal highs; NULL when unknown (a candle made by hand without it)';
CREATE FUNCTION stockext.low_time(stockext.candle) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ($1).low_ts;
COMMENT ON FUNCTION stockext.low_time(stockext.candle) IS
'time of the candle''s low: the ts of the trade (or the start of the bar) holding it, the earliest of equal lows; NULL when unknown (a candle made by hand without it)';


-- Seeded forms of moments, log_returns and candle: the state of some rows
-- (seed, stored earlier; taken from a group's first row) continued with
-- more rows, each added as if it had followed the seed's own rows.  A
-- rollup refresh merges new bars into a stored bucket this way: the
-- result is what a recompute reading the bucket's bars in that order
-- gives, bit for bit (log_returns, read in ts order, is then identical to
-- the recompute's; combining two states would re-express one of them).
-- No combine function: every partial state would carry the seed.
CREATE FUNCTION stockext.moments_seeded_trans(stockext.moments_state, float8, stockext.moments_state)
RETURNS stockext.moments_state
AS 'MODULE_PATHNAME', 'stockext_moments_seeded_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.moments_seeded_trans(stockext.moments_state, float8, stockext.moments_state) IS
'transition of moments(x, seed): adds a value to the seed''s (NULLs skipped)';
CREATE AGGREGATE stockext.moments(x float8, seed stockext.moments_state) (
    SFUNC = stockext.moments_seeded_trans, STYPE = stockext.moments_state, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.moments(float8, stockext.moments_state) IS
'the moments_state seed continued with the non-NULL values (seed of the first row; NULL: none)';

CREATE FUNCTION stockext.returns_seeded_trans(stockext.returns_state, timestamptz, float8, stockext.returns_state)
RETURNS stockext.returns_state
AS 'MODULE_PATHNAME', 'stockext_returns_seeded_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.returns_seeded_trans(stockext.returns_state, timestamptz, float8, stockext.returns_state) IS
'transition of log_returns(ts, price, seed): adds the log return from the previous price, the seed''s last one first';
CREATE AGGREGATE stockext.log_returns(ts timestamptz, price float8, seed stockext.returns_state) (
    SFUNC = stockext.returns_seeded_trans, STYPE = stockext.returns_state, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.log_returns(timestamptz, float8, stockext.returns_state) IS
'the log_returns summary seed continued with prices after its last one, in ts order: log_returns(ts, price, seed ORDER BY ts) (seed of the first row; NULL: none)';

CREATE FUNCTION stockext.candle_bar_seeded_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8,
                                                 float8, stockext.candle)
RETURNS stockext.candle_state
AS 'MODULE_PATHNAME', 'stockext_candle_bar_seeded_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.candle_bar_seeded_trans(stockext.candle_state, timestamptz, float8, float8, float8, float8, float8, stockext.candle) IS
'transition of candle(ts, open, high, low, close, volume, seed): adds a bar to the seed candle (rows without ts or a price skipped)';
CREATE AGGREGATE stockext.candle(ts timestamptz, open float8, high float8, low float8, close float8, volume float8,
                                 seed stockext.candle) (
    SFUNC = stockext.candle_bar_seeded_trans, STYPE = stockext.candle_state,
    FINALFUNC = stockext.candle_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE stockext.candle(timestamptz, float8, float8, float8, float8, float8, stockext.candle) IS
'the candle seed continued with bars, as candle(ts, open, high, low, close, volume) of the seed''s bars and these (seed of the first row; NULL: none)';
