#!/usr/bin/env bash
# bench/windows.sh: the analytic window functions against the floor and the
# best pure-SQL routes, on 10 symbols x 1,000,000 one-minute bars.
#
#   floor        count(*) OVER (PARTITION BY symbol ORDER BY ts): the cost of
#                the window machinery itself (sort or ordered scan, partition
#                tuplestore, one function call per row)
#   ema          stockext.ema(close, 20) over the same window
#   plpgsql agg  an EMA aggregate with a plpgsql step, used as a window
#                aggregate (running frame, so O(1) per row)
#   CTE          a recursive CTE (one index lookup per row): timed on a
#                100,000-row slice and compared per row with the C function
#                on the same slice
#   pct_change   vs 100 * (close - lag(close)) / nullif(lag(close), 0)
#   rsi          vs a recursive CTE with Wilder's smoothing (slice)
#
# Every query consumes the measured column (sum() of it) so the planner
# cannot drop it.  Each figure is the best of REPS (3) runs.  Prints ratios
# measured side by side in this run.
set -euo pipefail
SYMBOLS=${SYMBOLS:-10}
BARS=${BARS:-1000000}
SLICE=${SLICE:-100000}
REPS=${REPS:-3}

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# ms QUERY: the best of REPS runs, in milliseconds as the client sees them
# without the connection's set-up (psql's \timing); the best filters out
# the noise of a machine shared with other work.
ms() {
	local i
	for ((i = 0; i < REPS; i++)); do printf '\\timing on\n%s;\n' "$1"; done |
		psql -X -q -At -v ON_ERROR_STOP=1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | head -1 | awk '{ printf "%d", $1 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "== building $SYMBOLS x $BARS one-minute bars"
q "CREATE EXTENSION IF NOT EXISTS stockext"
q "DROP TABLE IF EXISTS bars, slice"
q "CREATE TABLE bars AS
   SELECT 'SYM' || s AS symbol, '2024-01-01'::timestamptz + g * interval '1 minute' AS ts,
          100 + 10 * sin(g / 1000.0) + random() AS close, floor(random() * 10000) AS volume
   FROM generate_series(1, $SYMBOLS) s, generate_series(1, $BARS) g
   ORDER BY 1, 2"
q "CREATE INDEX ON bars (symbol, ts)"
q "CREATE TABLE slice AS SELECT row_number() OVER (ORDER BY ts)::int AS i, close
   FROM bars WHERE symbol = 'SYM1' ORDER BY ts LIMIT $SLICE"
q "ALTER TABLE slice ADD PRIMARY KEY (i)"
q "VACUUM ANALYZE bars, slice"
q "CREATE OR REPLACE FUNCTION bench_ema_step(s float8, x float8, span int) RETURNS float8
   LANGUAGE plpgsql IMMUTABLE AS \$\$
   BEGIN
       IF x IS NULL THEN RETURN s; END IF;
       IF s IS NULL THEN RETURN x; END IF;
       RETURN 2.0 / (span + 1) * x + (1 - 2.0 / (span + 1)) * s;
   END \$\$"
q "CREATE OR REPLACE AGGREGATE bench_ema(float8, int) (SFUNC = bench_ema_step, STYPE = float8)"
rows=$(q "SELECT count(*) FROM bars")

W="WINDOW w AS (PARTITION BY symbol ORDER BY ts)"
# Warm the cache once.
q "SELECT sum(c) FROM (SELECT count(*) OVER w AS c FROM bars $W) q" >/dev/null

echo "== full set: $rows rows"
floor=$(ms "SELECT sum(c) FROM (SELECT count(*) OVER w AS c FROM bars $W) q")
ema=$(ms "SELECT sum(e) FROM (SELECT stockext.ema(close, 20) OVER w AS e FROM bars $W) q")
agg=$(ms "SELECT sum(e) FROM (SELECT bench_ema(close, 20) OVER w AS e FROM bars $W) q")
pct=$(ms "SELECT sum(p) FROM (SELECT stockext.pct_change(close) OVER w AS p FROM bars $W) q")
lag=$(ms "SELECT sum(p) FROM (SELECT 100 * (close - lag(close) OVER w) / nullif(lag(close) OVER w, 0) AS p FROM bars $W) q")
rsi=$(ms "SELECT sum(r) FROM (SELECT stockext.rsi(close) OVER w AS r FROM bars $W) q")

echo "== slice: $SLICE rows of one symbol"
sfloor=$(ms "SELECT sum(c) FROM (SELECT count(*) OVER (ORDER BY i) AS c FROM slice) q")
sema=$(ms "SELECT sum(e) FROM (SELECT stockext.ema(close, 20) OVER (ORDER BY i) AS e FROM slice) q")
cte=$(ms "WITH RECURSIVE e AS (
              SELECT i, close AS ema FROM slice WHERE i = 1
              UNION ALL
              SELECT s.i, 2.0::float8 / 21 * s.close + (1 - 2.0::float8 / 21) * e.ema
              FROM e JOIN slice s ON s.i = e.i + 1)
          SELECT sum(ema) FROM e")
srsi=$(ms "SELECT sum(r) FROM (SELECT stockext.rsi(close) OVER (ORDER BY i) AS r FROM slice) q")
rsicte=$(ms "WITH RECURSIVE r AS (
                 SELECT i, close, 0 AS n, 0::float8 AS g, 0::float8 AS l, NULL::float8 AS rsi FROM slice WHERE i = 1
                 UNION ALL
                 SELECT s.i, s.close, least(r.n + 1, 14), v.g, v.l,
                        CASE WHEN r.n + 1 < 14 THEN NULL WHEN v.g + v.l = 0 THEN 50
                             ELSE 100 * (v.g / (v.g + v.l)) END
                 FROM r JOIN slice s ON s.i = r.i + 1
                 CROSS JOIN LATERAL (SELECT greatest(s.close - r.close, 0) AS up,
                                            greatest(r.close - s.close, 0) AS down) c
                 CROSS JOIN LATERAL (
                     SELECT CASE WHEN r.n < 13 THEN r.g + c.up WHEN r.n = 13 THEN (r.g + c.up) / 14
                                 ELSE (r.g * 13 + c.up) / 14 END AS g,
                            CASE WHEN r.n < 13 THEN r.l + c.down WHEN r.n = 13 THEN (r.l + c.down) / 14
                                 ELSE (r.l * 13 + c.down) / 14 END AS l) v)
             SELECT sum(rsi) FROM r")

printf '%-48s %10s\n' "query" "ms"
printf '%-48s %10d\n' "floor: count(*) OVER w ($rows rows)" "$floor"
printf '%-48s %10d\n' "stockext.ema(close, 20) OVER w" "$ema"
printf '%-48s %10d\n' "plpgsql-step aggregate EMA OVER w" "$agg"
printf '%-48s %10d\n' "stockext.pct_change(close) OVER w" "$pct"
printf '%-48s %10d\n' "lag()-based percentage change" "$lag"
printf '%-48s %10d\n' "stockext.rsi(close) OVER w" "$rsi"
printf '%-48s %10d\n' "slice floor: count(*) OVER ($SLICE rows)" "$sfloor"
printf '%-48s %10d\n' "slice stockext.ema" "$sema"
printf '%-48s %10d\n' "slice recursive-CTE EMA" "$cte"
printf '%-48s %10d\n' "slice stockext.rsi" "$srsi"
printf '%-48s %10d\n' "slice recursive-CTE RSI" "$rsicte"
echo
echo "ratios (lower is better for the first of each pair)"
echo "  ema / floor                       $(ratio "$ema" "$floor")   (target <= 1.5)"
echo "  plpgsql aggregate / floor         $(ratio "$agg" "$floor")"
echo "  plpgsql aggregate / ema           $(ratio "$agg" "$ema")"
echo "  recursive CTE / ema (slice)       $(ratio "$cte" "$sema")"
echo "  recursive CTE / floor (slice)     $(ratio "$cte" "$sfloor")"
echo "  pct_change / floor                $(ratio "$pct" "$floor")"
echo "  lag() SQL / pct_change            $(ratio "$lag" "$pct")"
echo "  rsi / floor                       $(ratio "$rsi" "$floor")"
echo "  recursive-CTE RSI / rsi (slice)   $(ratio "$rsicte" "$srsi")"
q "DROP TABLE bars, slice"
q "DROP AGGREGATE bench_ema(float8, int)"
q "DROP FUNCTION bench_ema_step(float8, float8, int)"
