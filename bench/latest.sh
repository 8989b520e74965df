#!/usr/bin/env bash
# bench/latest.sh: stockext.asof() and stockext.latest_bars against the
# plain-SQL routes, side by side in one run, on SYMBOLS x BARS one-minute
# bars in stockext.ticks (100 x 100,000 = 10M by default), and what keeping
# latest_bars current costs the write path.
#
#   asof         PROBES (100,000) events joined with CROSS JOIN LATERAL
#                stockext.asof(e.symbol, e.ts), against the hand-written
#                LATERAL (... ORDER BY ts DESC LIMIT 1); with a 1-hour
#                tolerance, against DISTINCT ON over the join of each event
#                with the bars of that hour (unbounded, DISTINCT ON would
#                join every event with half a series)
#   latest_bars  the newest bar of every series, against DISTINCT ON over
#                ticks and against a skip scan (a recursive CTE finding each
#                symbol with one probe of the key, then its newest bar; it
#                needs the resolution given, as the key cannot list a
#                symbol's resolutions)
#   write path   INGEST bars in one INSERT and 5,000 upsert_bar() calls, one
#                bar each, with and without the latest_ticks triggers (the
#                other triggers of ticks run in both)
#
# Every query consumes its result (sum() of a column).  Each figure is the
# best of REPS (3) runs.
set -euo pipefail
SYMBOLS=${SYMBOLS:-100}
BARS=${BARS:-100000}
PROBES=${PROBES:-100000}
INGEST=${INGEST:-200000}
REPS=${REPS:-3}
DB=bench_latest
export PGDATABASE=$DB

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# ms QUERY: the best of REPS runs in milliseconds (psql's \timing).
ms() {
	local i
	for ((i = 0; i < REPS; i++)); do printf '\\timing on\n%s;\n' "$1"; done |
		psql -X -q -At -v ON_ERROR_STOP=1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | head -1
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rows() { printf '%-66s %10.1f\n' "$1" "$2"; }

q "CREATE EXTENSION stockext"
q "SELECT stockext.create_partitions('2024-12-01', timestamptz '2025-01-01' + $BARS * interval '1 minute') > 0"
# The bars of symbols [lo, hi): BARS minutes from 2025-01-01, a wave plus
# a per-bar wiggle.
bars() {
	echo "INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
	      SELECT '$3' || s, timestamptz '2025-01-01 00:00+00' + i * interval '1 minute', '1 minute',
	             p, p + 0.5, p - 0.5, p + 0.1, 100 + (i * 7919 + s) % 1000, 'bench'
	      FROM generate_series($1, $2 - 1) s, generate_series(0, $4 - 1) i,
	           LATERAL (SELECT 100 + 10 * sin((i + s * 977) / 5000.0) + (i % 13) * 0.01 AS p) x"
}

echo "== write path: $INGEST bars in one INSERT, 5,000 one-bar upsert_bar() calls"
q "CREATE FUNCTION one_by_one(sym text) RETURNS void LANGUAGE plpgsql AS \$\$
   BEGIN
       FOR i IN 0..4999 LOOP
           PERFORM stockext.upsert_bar(sym, timestamptz '2025-01-01 00:00+00' + i * interval '1 minute',
                                       '1 minute', 10, 11, 9, 10, 1, 'bench');
       END LOOP;
   END \$\$"
best() { sort -n | head -1; }
batch_with=() batch_without=() one_with=() one_without=()
timed() { printf '\\timing on\n%s;\n' "$1" | psql -X -q -At -v ON_ERROR_STOP=1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; }
for ((r = 0; r < REPS; r++)); do
	batch_with+=("$(timed "$(bars 0 1 W$r "$INGEST")")")
	one_with+=("$(timed "SELECT one_by_one('OW$r')")")
	psql -X -q -v ON_ERROR_STOP=1 -c "ALTER TABLE stockext.ticks DISABLE TRIGGER latest_ticks_insert" \
		-c "ALTER TABLE stockext.ticks DISABLE TRIGGER latest_ticks_update" >/dev/null
	batch_without+=("$(timed "$(bars 0 1 N$r "$INGEST")")")
	one_without+=("$(timed "SELECT one_by_one('ON$r')")")
	psql -X -q -v ON_ERROR_STOP=1 -c "ALTER TABLE stockext.ticks ENABLE TRIGGER latest_ticks_insert" \
		-c "ALTER TABLE stockext.ticks ENABLE TRIGGER latest_ticks_update" >/dev/null
done
bw=$(printf '%s\n' "${batch_with[@]}" | best)
bn=$(printf '%s\n' "${batch_without[@]}" | best)
ow=$(printf '%s\n' "${one_with[@]}" | best)
on=$(printf '%s\n' "${one_without[@]}" | best)
q "TRUNCATE stockext.ticks"

echo "== loading $SYMBOLS x $BARS one-minute bars (triggers off, then rebuild_latest_bars())"
q "ALTER TABLE stockext.ticks DISABLE TRIGGER USER"
for ((s = 0; s < SYMBOLS; s += 10)); do
	q "$(bars $s $((s + 10 < SYMBOLS ? s + 10 : SYMBOLS)) SYM "$BARS")"
done
q "ALTER TABLE stockext.ticks ENABLE TRIGGER USER"
q "VACUUM ANALYZE stockext.ticks"
rebuild=$(ms "SELECT stockext.rebuild_latest_bars()")
n=$(q "SELECT count(*) FROM stockext.ticks")
series=$(q "SELECT count(*) FROM stockext.latest_bars")

q "CREATE TABLE ev AS
   SELECT i AS id, 'SYM' || floor(random() * $SYMBOLS)::int AS symbol,
          timestamptz '2025-01-01 00:00+00' + random() * $BARS * interval '1 minute' AS ts
   FROM generate_series(1, $PROBES) i"
q "ANALYZE ev"

echo "== asof: $PROBES probes"
asof=$(ms "SELECT sum(a.close) FROM ev e CROSS JOIN LATERAL stockext.asof(e.symbol, e.ts) a")
lateral=$(ms "SELECT sum(a.close) FROM ev e CROSS JOIN LATERAL (
                SELECT t.close FROM stockext.ticks t
                WHERE t.symbol = e.symbol AND t.resolution = '1 minute' AND t.ts <= e.ts
                ORDER BY t.ts DESC LIMIT 1) a")
asof_tol=$(ms "SELECT sum(a.close) FROM ev e CROSS JOIN LATERAL stockext.asof(e.symbol, e.ts, '1 minute', '1 hour') a")
distinct_tol=$(ms "SELECT sum(close) FROM (
                     SELECT DISTINCT ON (e.id) t.close FROM ev e
                     JOIN stockext.ticks t ON t.symbol = e.symbol AND t.resolution = '1 minute'
                      AND t.ts <= e.ts AND t.ts >= e.ts - interval '1 hour'
                     ORDER BY e.id, t.ts DESC) x")
same=$(q "SELECT count(*) FROM ev e
          LEFT JOIN LATERAL stockext.asof(e.symbol, e.ts) a ON true
          LEFT JOIN (SELECT DISTINCT ON (e.id) e.id, t.close FROM ev e
                     JOIN stockext.ticks t ON t.symbol = e.symbol AND t.resolution = '1 minute'
                      AND t.ts <= e.ts AND t.ts >= e.ts - interval '1 hour'
                     ORDER BY e.id, t.ts DESC) d ON d.id = e.id
          WHERE a.close IS DISTINCT FROM d.close")

echo "== latest_bars: $n bars, $series series"
latest=$(ms "SELECT sum(close) FROM stockext.latest_bars")
distinct=$(ms "SELECT sum(close) FROM (SELECT DISTINCT ON (symbol, resolution) close FROM stockext.ticks
                                       ORDER BY symbol, resolution, ts DESC) x")
skip=$(ms "WITH RECURSIVE s AS (
              (SELECT t.symbol FROM stockext.ticks t ORDER BY t.symbol LIMIT 1)
              UNION ALL
              SELECT (SELECT t.symbol FROM stockext.ticks t WHERE t.symbol > s.symbol ORDER BY t.symbol LIMIT 1)
              FROM s WHERE s.symbol IS NOT NULL)
           SELECT sum(l.close) FROM s CROSS JOIN LATERAL (
               SELECT t.close FROM stockext.ticks t WHERE t.symbol = s.symbol AND t.resolution = '1 minute'
               ORDER BY t.ts DESC LIMIT 1) l")
wrong=$(q "SELECT count(*) FROM (
             SELECT symbol, resolution, ts, close FROM stockext.latest_bars
             EXCEPT
             (SELECT DISTINCT ON (symbol, resolution) symbol, resolution, ts, close FROM stockext.ticks
              ORDER BY symbol, resolution, ts DESC)) x")

printf '%-66s %10s\n' "query" "ms"
rows "asof: CROSS JOIN LATERAL stockext.asof() ($PROBES probes)" "$asof"
rows "hand-written LATERAL (... ORDER BY ts DESC LIMIT 1)" "$lateral"
rows "asof() with tolerance 1 hour" "$asof_tol"
rows "DISTINCT ON over the join with the hour before each event" "$distinct_tol"
rows "latest_bars ($series series)" "$latest"
rows "DISTINCT ON (symbol, resolution) over ticks ($n bars)" "$distinct"
rows "skip scan: recursive CTE over the key, one resolution" "$skip"
rows "rebuild_latest_bars() (a DISTINCT ON and the writes)" "$rebuild"
rows "$INGEST bars in one INSERT, with the latest_ticks triggers" "$bw"
rows "$INGEST bars in one INSERT, without them" "$bn"
rows "5,000 upsert_bar() calls, with the latest_ticks triggers" "$ow"
rows "5,000 upsert_bar() calls, without them" "$on"
echo
echo "checks: probes where asof() and the DISTINCT ON route (1 hour) differ: $same (the unbounded asof() finds a bar the bounded route does not only after a gap of an hour, of which there is none); latest_bars rows not the newest bar: $wrong"
echo
echo "ratios (target: DISTINCT ON / latest_bars >= 100)"
echo "  LATERAL / asof                        $(ratio "$lateral" "$asof")"
echo "  DISTINCT ON (1 hour) / asof (1 hour)  $(ratio "$distinct_tol" "$asof_tol")"
echo "  DISTINCT ON / latest_bars             $(ratio "$distinct" "$latest")"
echo "  skip scan / latest_bars               $(ratio "$skip" "$latest")"
echo "  write path, one INSERT: with / without the triggers   $(ratio "$bw" "$bn")"
echo "  write path, one bar a statement: with / without       $(ratio "$ow" "$on")   ($(awk -v a="$ow" -v b="$on" 'BEGIN { printf "%.0f", (a - b) * 1000 / 5000 }') µs a statement)"
psql -X -q -d postgres -c "DROP DATABASE $DB"
