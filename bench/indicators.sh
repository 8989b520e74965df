#!/usr/bin/env bash
# bench/indicators.sh: the bar indicators (stoch, willr, adx, cci, mfi, obv)
# and the vwma and twap aggregates against the count(*) OVER floor and the
# best plain-SQL route of each, side by side in one run, on SYMBOLS x BARS
# one-minute bars (10 x 1,000,000 by default).
#
#   floor     count(*) OVER (PARTITION BY symbol ORDER BY ts)
#   willr     vs max/min OVER (ROWS 13 PRECEDING) (built-in max/min rescan
#             the frame: O(W) a row)
#   stoch     vs the same fast %K, then avg() OVER (ROWS 2 PRECEDING) twice
#   mfi       vs lag() of the typical price and sum() OVER (ROWS 13 PRECEDING)
#   obv       vs a running sum() of the signed volumes
#   cci, adx  their SQL routes need a row-by-row join (cci's mean deviation)
#             or a recursive CTE (adx): timed on a SLICE-row slice of one
#             symbol and compared per row with the C function on that slice
#   vwma      ROWS 1999 PRECEDING against ROWS 19 PRECEDING (a moving
#             aggregate costs the same at any width), and against
#             sum(close*volume)/sum(volume) over 20 rows
#   twap      over RANGE '1 hour' PRECEDING against lead() and sum() over
#             the same frame
#   frame floors  count(*) over the sliding frames of vwma and twap: what
#             PostgreSQL's frame bookkeeping costs by itself
#
# Every query consumes the measured column (sum() of it) so the planner
# cannot drop it.  Each figure is the best of REPS (3) runs.
set -euo pipefail
SYMBOLS=${SYMBOLS:-10}
BARS=${BARS:-1000000}
SLICE=${SLICE:-100000}
REPS=${REPS:-3}

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# ms QUERY: the best of REPS runs in milliseconds (psql's \timing).
ms() {
	local i
	for ((i = 0; i < REPS; i++)); do printf '\\timing on\n%s;\n' "$1"; done |
		psql -X -q -At -v ON_ERROR_STOP=1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | head -1 | awk '{ printf "%d", $1 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rows() { printf '%-58s %10d\n' "$1" "$2"; }

echo "== building $SYMBOLS x $BARS one-minute bars"
q "CREATE EXTENSION IF NOT EXISTS stockext"
q "DROP TABLE IF EXISTS ibars, islice"
q "CREATE TABLE ibars AS
   SELECT symbol, ts, close + spread * random() AS high, close - spread * random() AS low, close, volume
   FROM (SELECT 'SYM' || s AS symbol, '2024-01-01'::timestamptz + g * interval '1 minute' AS ts,
                100 + 10 * sin(g / 1000.0) + random() AS close, random() AS spread,
                floor(random() * 10000) AS volume
         FROM generate_series(1, $SYMBOLS) s, generate_series(1, $BARS) g) b
   ORDER BY 1, 2"
q "CREATE INDEX ON ibars (symbol, ts)"
q "CREATE TABLE islice AS SELECT row_number() OVER (ORDER BY ts)::int AS i, high, low, close,
          (high + low + close) / 3 AS tp
   FROM ibars WHERE symbol = 'SYM1' ORDER BY ts LIMIT $SLICE"
q "ALTER TABLE islice ADD PRIMARY KEY (i)"
q "VACUUM ANALYZE ibars, islice"
n=$(q "SELECT count(*) FROM ibars")

W="WINDOW w AS (PARTITION BY symbol ORDER BY ts)"
R="ROWS 13 PRECEDING"
q "SELECT sum(c) FROM (SELECT count(*) OVER w AS c FROM ibars $W) q" >/dev/null

echo "== full set: $n rows"
floor=$(ms "SELECT sum(c) FROM (SELECT count(*) OVER w AS c FROM ibars $W) q")
willr=$(ms "SELECT sum(r) FROM (SELECT stockext.willr(high, low, close) OVER w AS r FROM ibars $W) q")
willr_sql=$(ms "SELECT sum(r) FROM (SELECT CASE WHEN row_number() OVER w >= 14 THEN
                   (max(high) OVER (w $R) - close) / ((max(high) OVER (w $R) - min(low) OVER (w $R)) / -100) END AS r
                FROM ibars $W) q")
stoch=$(ms "SELECT sum((s).k + (s).d) FROM (SELECT stockext.stoch(high, low, close) OVER w AS s FROM ibars $W) q")
stoch_sql=$(ms "SELECT sum(k + d) FROM (
                  SELECT k, avg(k) OVER (w ROWS 2 PRECEDING) AS d FROM (
                    SELECT symbol, ts, avg(fk) OVER (w ROWS 2 PRECEDING) AS k FROM (
                      SELECT symbol, ts, (close - min(low) OVER (w $R)) / ((max(high) OVER (w $R) - min(low) OVER (w $R)) / 100) AS fk
                      FROM ibars $W) a $W) b $W) c")
mfi=$(ms "SELECT sum(m) FROM (SELECT stockext.mfi(high, low, close, volume) OVER w AS m FROM ibars $W) q")
mfi_sql=$(ms "SELECT sum(100 * pos / nullif(pos + neg, 0)) FROM (
                SELECT sum(CASE WHEN tp > prev THEN tp * volume ELSE 0 END) OVER (w $R) AS pos,
                       sum(CASE WHEN tp < prev THEN tp * volume ELSE 0 END) OVER (w $R) AS neg
                FROM (SELECT symbol, ts, volume, (high + low + close) / 3 AS tp,
                             lag((high + low + close) / 3) OVER w AS prev FROM ibars $W) a $W) b")
obv=$(ms "SELECT sum(o) FROM (SELECT stockext.obv(close, volume) OVER w AS o FROM ibars $W) q")
obv_sql=$(ms "SELECT sum(o) FROM (
                SELECT sum(CASE WHEN prev IS NULL OR close > prev THEN volume WHEN close < prev THEN -volume ELSE 0 END)
                       OVER (w ROWS UNBOUNDED PRECEDING) AS o
                FROM (SELECT symbol, ts, close, volume, lag(close) OVER w AS prev FROM ibars $W) a $W) b")
adx=$(ms "SELECT sum((a).adx) FROM (SELECT stockext.adx(high, low, close) OVER w AS a FROM ibars $W) q")
cci=$(ms "SELECT sum(c) FROM (SELECT stockext.cci(high, low, close) OVER w AS c FROM ibars $W) q")
floor20=$(ms "SELECT sum(c) FROM (SELECT count(*) OVER (w ROWS 19 PRECEDING) AS c FROM ibars $W) q")
vwma20=$(ms "SELECT sum(v) FROM (SELECT stockext.vwma(close, volume) OVER (w ROWS 19 PRECEDING) AS v FROM ibars $W) q")
vwma2000=$(ms "SELECT sum(v) FROM (SELECT stockext.vwma(close, volume) OVER (w ROWS 1999 PRECEDING) AS v FROM ibars $W) q")
vwma_sql=$(ms "SELECT sum(v) FROM (SELECT sum(close * volume) OVER (w ROWS 19 PRECEDING)
                                          / nullif(sum(volume) OVER (w ROWS 19 PRECEDING), 0) AS v FROM ibars $W) q")
H="RANGE BETWEEN '1 hour' PRECEDING AND CURRENT ROW"
floor_h=$(ms "SELECT sum(c) FROM (SELECT count(*) OVER (w $H) AS c FROM ibars $W) q")
twap=$(ms "SELECT sum(t) FROM (SELECT stockext.twap(ts, close) OVER (w $H) AS t FROM ibars $W) q")
twap_sql=$(ms "SELECT sum(t) FROM (
                 SELECT (sum(seg) OVER (w $H) - seg) / nullif(extract(epoch FROM ts - min(ts) OVER (w $H)), 0) AS t
                 FROM (SELECT symbol, ts, close * extract(epoch FROM lead(ts) OVER w - ts) AS seg FROM ibars $W) a $W) b")

echo "== slice: $SLICE rows of one symbol"
sfloor=$(ms "SELECT sum(c) FROM (SELECT count(*) OVER (ORDER BY i) AS c FROM islice) q")
scci=$(ms "SELECT sum(c) FROM (SELECT stockext.cci(high, low, close) OVER (ORDER BY i) AS c FROM islice) q")
scci_sql=$(ms "SELECT sum((tp - m) / nullif(0.015 * md, 0)) FROM (
                 SELECT s.tp, m.m, d.md FROM islice s
                 CROSS JOIN LATERAL (SELECT avg(tp) AS m FROM islice x WHERE x.i BETWEEN s.i - 19 AND s.i) m
                 CROSS JOIN LATERAL (SELECT sum(abs(x.tp - m.m)) / 20 AS md FROM islice x WHERE x.i BETWEEN s.i - 19 AND s.i) d
                 WHERE s.i >= 20) q")
sadx=$(ms "SELECT sum((a).adx) FROM (SELECT stockext.adx(high, low, close) OVER (ORDER BY i) AS a FROM islice) q")
sadx_sql=$(ms "WITH RECURSIVE a AS (
                 SELECT i, high, low, close, 0::float8 AS pdm, 0::float8 AS mdm, 0::float8 AS tr, 0::float8 AS sdx,
                        NULL::float8 AS adx FROM islice WHERE i = 1
                 UNION ALL
                 SELECT h.i, h.high, h.low, h.close, s.pdm, s.mdm, s.tr,
                        CASE WHEN h.i - 1 BETWEEN 14 AND 27 THEN a.sdx + coalesce(x.dx, 0) ELSE a.sdx END,
                        CASE WHEN h.i - 1 = 27 THEN (a.sdx + coalesce(x.dx, 0)) / 14
                             WHEN h.i - 1 > 27 THEN coalesce((a.adx * 13 + x.dx) / 14, a.adx) END
                 FROM a JOIN islice h ON h.i = a.i + 1
                 CROSS JOIN LATERAL (SELECT h.high - a.high AS dp, a.low - h.low AS dm,
                                            greatest(h.high - h.low, abs(a.close - h.high), abs(a.close - h.low)) AS tr) c
                 CROSS JOIN LATERAL (SELECT CASE WHEN c.dm > 0 AND c.dp < c.dm THEN c.dm ELSE 0 END AS m,
                                            CASE WHEN c.dm > 0 AND c.dp < c.dm THEN 0
                                                 WHEN c.dp > 0 AND c.dp > c.dm THEN c.dp ELSE 0 END AS p) v
                 CROSS JOIN LATERAL (
                     SELECT CASE WHEN h.i - 1 < 14 THEN a.pdm + v.p ELSE (a.pdm - a.pdm / 14) + v.p END AS pdm,
                            CASE WHEN h.i - 1 < 14 THEN a.mdm + v.m ELSE (a.mdm - a.mdm / 14) + v.m END AS mdm,
                            CASE WHEN h.i - 1 < 14 THEN a.tr + c.tr ELSE a.tr - (a.tr / 14) + c.tr END AS tr) s
                 CROSS JOIN LATERAL (SELECT 100 * (s.pdm / nullif(s.tr, 0)) AS pdi, 100 * (s.mdm / nullif(s.tr, 0)) AS mdi) di
                 CROSS JOIN LATERAL (
                     SELECT CASE WHEN di.pdi + di.mdi <> 0
                                 THEN 100 * (abs(di.mdi - di.pdi) / (di.mdi + di.pdi)) END AS dx) x)
               SELECT sum(adx) FROM a")

printf '%-58s %10s\n' "query" "ms"
rows "floor: count(*) OVER w ($n rows)" "$floor"
rows "stockext.willr(high, low, close) OVER w" "$willr"
rows "max/min OVER (ROWS 13 PRECEDING) %R" "$willr_sql"
rows "stockext.stoch(high, low, close) OVER w" "$stoch"
rows "max/min, then avg() twice over 3 rows" "$stoch_sql"
rows "stockext.mfi(high, low, close, volume) OVER w" "$mfi"
rows "lag() and sum() OVER (ROWS 13 PRECEDING) MFI" "$mfi_sql"
rows "stockext.obv(close, volume) OVER w" "$obv"
rows "lag() and running sum() OBV" "$obv_sql"
rows "stockext.adx(high, low, close) OVER w" "$adx"
rows "stockext.cci(high, low, close) OVER w" "$cci"
rows "frame floor: count(*) OVER (ROWS 19 PRECEDING)" "$floor20"
rows "stockext.vwma(close, volume) OVER (ROWS 19 PRECEDING)" "$vwma20"
rows "stockext.vwma(close, volume) OVER (ROWS 1999 PRECEDING)" "$vwma2000"
rows "sum(close*volume)/sum(volume) OVER (ROWS 19 PRECEDING)" "$vwma_sql"
rows "frame floor: count(*) OVER (RANGE '1 hour')" "$floor_h"
rows "stockext.twap(ts, close) OVER (RANGE '1 hour')" "$twap"
rows "lead() and sum() OVER (RANGE '1 hour') TWAP" "$twap_sql"
rows "slice floor: count(*) OVER ($SLICE rows)" "$sfloor"
rows "slice stockext.cci" "$scci"
rows "slice LATERAL mean-deviation CCI" "$scci_sql"
rows "slice stockext.adx" "$sadx"
rows "slice recursive-CTE ADX" "$sadx_sql"
echo
echo "ratios (targets: function / floor <= 1.5, SQL route / function >= 3, vwma W=2000 / W=20 <= 1.3)"
echo "  willr / floor                     $(ratio "$willr" "$floor")"
echo "  max/min SQL / willr               $(ratio "$willr_sql" "$willr")"
echo "  stoch / floor                     $(ratio "$stoch" "$floor")"
echo "  SQL stoch / stoch                 $(ratio "$stoch_sql" "$stoch")"
echo "  mfi / floor                       $(ratio "$mfi" "$floor")"
echo "  SQL mfi / mfi                     $(ratio "$mfi_sql" "$mfi")"
echo "  obv / floor                       $(ratio "$obv" "$floor")"
echo "  SQL obv / obv                     $(ratio "$obv_sql" "$obv")"
echo "  adx / floor                       $(ratio "$adx" "$floor")"
echo "  recursive-CTE ADX / adx (slice)   $(ratio "$sadx_sql" "$sadx")"
echo "  cci / floor                       $(ratio "$cci" "$floor")"
echo "  LATERAL CCI / cci (slice)         $(ratio "$scci_sql" "$scci")"
echo "  vwma W=20 / floor                 $(ratio "$vwma20" "$floor")"
echo "  vwma W=20 / its frame's floor     $(ratio "$vwma20" "$floor20")"
echo "  vwma W=2000 / W=20                $(ratio "$vwma2000" "$vwma20")"
echo "  SQL vwma / vwma (W=20)            $(ratio "$vwma_sql" "$vwma20")"
echo "  twap / floor                      $(ratio "$twap" "$floor")"
echo "  twap / its frame's floor          $(ratio "$twap" "$floor_h")"
echo "  SQL twap / twap                   $(ratio "$twap_sql" "$twap")"
q "DROP TABLE ibars, islice"
