------------------------------------------------------------------------------
-- Analytics: window functions
------------------------------------------------------------------------------

-- Each is a WINDOW function that sees the rows of a partition once, in the
-- window's order, keeping its state in per-partition memory: O(1) per row.
-- Parameters must be the same on every row of a partition.  Results depend
-- only on the rows of the partition and their order: IMMUTABLE.  Not STRICT:
-- a NULL input yields the previous row's result (see the README).

CREATE FUNCTION stockext.ema(x float8, span integer)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_ema'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.ema(float8, integer) IS
'window function: exponential moving average with alpha = 2/(span+1), seeded with the first non-NULL x (pandas ewm(span, adjust=False)); a NULL x repeats the previous value';

CREATE FUNCTION stockext.ema(x float8, span integer, seed text)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_ema'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.ema(float8, integer, text) IS
'window function: exponential moving average with alpha = 2/(span+1); seed ''first'' starts from the first non-NULL x (pandas), ''sma'' from the mean of the first span non-NULL values, NULL before (TA-Lib)';

CREATE FUNCTION stockext.ema(x float8, ts timestamptz, half_life interval)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_ema_decay'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.ema(float8, timestamptz, interval) IS
'window function: time-decayed moving average for irregular series: ema = w*ema_prev + (1-w)*x with w = 0.5^((ts - ts_prev)/half_life); window must be ordered by ts';

CREATE FUNCTION stockext.pct_change(x float8, n integer DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_pct_change'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.pct_change(float8, integer) IS
'window function: 100*(x - x_prev)/x_prev where x_prev is x on the n-th previous row of the partition; NULL when there is no such row, either is NULL or x_prev = 0';

CREATE FUNCTION stockext.volume_spike(volume float8, n integer DEFAULT 3,
                                      factor float8 DEFAULT 2.0)
RETURNS boolean
AS 'MODULE_PATHNAME', 'stockext_volume_spike'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volume_spike(float8, integer, float8) IS
'window function: whether volume > factor * the mean of the non-NULL volumes of the n previous rows; NULL on the first n rows, when volume is NULL or all n previous volumes are';

-- skip_open: true on the rows to leave out, a session's first bars
-- (stockext.opens_session(calendar, ts, resolution)).
CREATE FUNCTION stockext.volume_spike(volume float8, n integer, factor float8, skip_open boolean)
RETURNS boolean
AS 'MODULE_PATHNAME', 'stockext_volume_spike'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.volume_spike(float8, integer, float8, boolean) IS
'window function: volume_spike(volume, n, factor), leaving out the rows where skip_open is true (a session''s first bar: stockext.opens_session): they give NULL and do not count in the means of the rows after them';

CREATE FUNCTION stockext.rsi(x float8, period integer DEFAULT 14)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_rsi'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.rsi(float8, integer) IS
'window function: Wilder''s relative strength index (TA-Lib RSI), first value on the (period+1)-th non-NULL x; 50 while the series has not moved';

CREATE TYPE stockext.macd AS (line float8, signal float8, histogram float8);
COMMENT ON TYPE stockext.macd IS
'result of stockext.macd(): MACD line (fast EMA - slow EMA), its signal EMA, and line - signal';

CREATE FUNCTION stockext.macd(x float8, fast integer DEFAULT 12, slow integer DEFAULT 26,
                              signal integer DEFAULT 9)
RETURNS stockext.macd
AS 'MODULE_PATHNAME', 'stockext_macd'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.macd(float8, integer, integer, integer) IS
'window function: moving average convergence/divergence (TA-Lib MACD) as (line, signal, histogram), first value on the (slow+signal-1)-th non-NULL x';

CREATE TYPE stockext.bbands AS (middle float8, upper float8, lower float8);
COMMENT ON TYPE stockext.bbands IS
'result of stockext.bbands(): simple moving average and the bands k population standard deviations above and below it';

CREATE FUNCTION stockext.bbands(x float8, period integer DEFAULT 20, k float8 DEFAULT 2.0)
RETURNS stockext.bbands
AS 'MODULE_PATHNAME', 'stockext_bbands'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.bbands(float8, integer, float8) IS
'window function: Bollinger bands (TA-Lib BBANDS with SMA) over the last period non-NULL x as (middle, upper, lower); population standard deviation';

CREATE FUNCTION stockext.atr(high float8, low float8, close float8, period integer DEFAULT 14)
RETURNS float8
AS 'MODULE_PATHNAME', 'stockext_atr'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION stockext.atr(float8, float8, float8, integer) IS
'window function: Wilder''s average true range (TA-Lib ATR), first value on the (period+1)-th row with high, low and close all non-NULL';


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
