-- demo/queries.sql: example queries the demo prints with their output.
\dx stockext
SELECT count(*) AS bars, count(DISTINCT symbol) AS symbols, min(ts), max(ts) FROM stockext.ticks;
-- Analytics: aggregates.  The last hour of 1-minute bars per symbol: 20-bar
-- and 15-minute moving averages, rolling volatility (annualized for US
-- equity minute bars), the 1-hour high-low range, VWAP.
SELECT symbol, ts, close,
       round(stockext.sma(close) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 19 PRECEDING AND CURRENT ROW)::numeric, 4) AS sma20,
       round(stockext.sma(close) OVER (PARTITION BY symbol ORDER BY ts RANGE BETWEEN '15 minutes' PRECEDING AND CURRENT ROW)::numeric, 4) AS sma_15min,
       round((stockext.volatility(close) OVER h * sqrt(252 * 390))::numeric, 4) AS vol_1h_annualized,
       round((stockext.mmax(high) OVER h - stockext.mmin(low) OVER h)::numeric, 4) AS range_1h,
       round(stockext.vwap((high + low + close) / 3, volume) OVER h::numeric, 4) AS vwap_1h
FROM stockext.ticks
WHERE resolution = '1 minute' AND ts > (SELECT max(ts) FROM stockext.ticks) - interval '1 hour'
WINDOW h AS (PARTITION BY symbol ORDER BY ts RANGE BETWEEN '1 hour' PRECEDING AND CURRENT ROW)
ORDER BY symbol, ts DESC
LIMIT 10;
-- 30-minute candles from 1-minute bars, and hourly candles rolled up from them.
WITH half_hours AS (
    SELECT symbol, date_bin('30 minutes', ts, '2000-01-01') AS bucket,
           stockext.candle(ts, open, high, low, close, volume) AS c
    FROM stockext.ticks WHERE resolution = '1 minute' GROUP BY 1, 2)
SELECT symbol, hour, (r).open, (r).high, (r).low, (r).close, (r).volume,
       round((r).vwap::numeric, 4) AS vwap, (r).count AS bars
FROM (SELECT symbol, date_bin('1 hour', bucket, '2000-01-01') AS hour, stockext.rollup(c) AS r
      FROM half_hours GROUP BY 1, 2) s
ORDER BY hour DESC, symbol
LIMIT 10;
