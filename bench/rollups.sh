#!/usr/bin/env bash
# bench/rollups.sh: incremental rollup refresh vs full recompute.
#
# SYMBOLS x BARS one-minute bars (default 10 x 1,000,000, about 23 months
# each; SYMBOLS=10 BARS=100000 is the 1M-bar size).  Side by side in one run: the ingest cost of the invalidation trigger (1M bars
# inserted with and without it), a full recompute of the 30-minute, 1-hour
# and 1-day rollups, REFRESH MATERIALIZED VIEW of the same query, and the
# incremental refresh after appending 1% new bars, after 100 late bars
# scattered over the whole history (10 per symbol), and after nothing
# changed.  KEEP_DB=1 keeps the database bench_rollups afterwards.
set -euo pipefail
DB=bench_rollups
SYMBOLS=${SYMBOLS:-10}
BARS=${BARS:-1000000}
[ "$SYMBOLS" -ge 1 ] && [ "$BARS" -ge 2000 ] || { echo "SYMBOLS >= 1 and BARS >= 2000" >&2; exit 2; }
HELD=$((BARS * 99 / 100))      # the first 99% of the bars are loaded first
STEP=$((BARS / 10 - 9))        # every STEP-th of them is held back as late
last=$((SYMBOLS - 1))
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
q() { psql -X -q -v ON_ERROR_STOP=1 -d $DB -tA "$@"; }

sed "s/@STEP@/$STEP/" <<'SQL' | q
CREATE EXTENSION stockext;
SELECT stockext.create_partitions('2023-01-01', '2025-02-01') > 0 AS partitions;
-- Milliseconds one statement takes, measured inside the server.
CREATE FUNCTION ms(sql text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE sql;
    RETURN round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1);
END $$;
-- The bars of symbol s: minutes lo .. hi from 2023-01-02, minus the 10
-- scattered ones held back as "late" (inserted at the end), or only them.
CREATE FUNCTION bars_sql(s int, lo int, hi int, late boolean DEFAULT false) RETURNS text LANGUAGE sql
RETURN format($q$
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'SYM%s', timestamptz '2023-01-02 00:00+00' + i * interval '1 minute', '1 minute',
       p, p + 0.5, p - 0.5, p + 0.1, 100 + (i::bigint * 7919) %% 1000, 'bench'
FROM generate_series(%s, %s) i, LATERAL (SELECT 100 + 10 * sin(i / 5000.0) + (i %% 13) * 0.01 AS p) x
WHERE (i %% @STEP@ = 7) = %L$q$, s, lo, hi, late);
-- 20,000 bars of symbol sym, one upsert_bar() statement each, in one
-- transaction.
CREATE FUNCTION one_by_one(sym text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 0..19999 LOOP
        PERFORM stockext.upsert_bar(sym, timestamptz '2024-12-01 00:00+00' + i * interval '1 minute',
                                    '1 minute', 10, 11, 9, 10, 1, 'bench');
    END LOOP;
END $$;
SQL

echo "== loading $SYMBOLS symbols x $BARS one-minute bars"
with_trigger=$(q -c "SELECT ms(bars_sql(0, 0, $((HELD - 1))))")
# One bar per statement, as a feed re-polling bar by bar writes them.
row_with=$(q -c "SELECT ms('SELECT one_by_one(''ROW1'')')")
q -c "ALTER TABLE stockext.ticks DISABLE TRIGGER USER"
without_trigger=$(q -c "SELECT ms(bars_sql(1, 0, $((HELD - 1))))")
row_without=$(q -c "SELECT ms('SELECT one_by_one(''ROW2'')')")
for s in $(seq 2 $last); do q -c "SELECT ms(bars_sql($s, 0, $((HELD - 1))))" >/dev/null; done
# The same one by one as autocommit statements, as a client sends them
# (the loop above is one transaction, whose versions of the series' newest
# bar nothing can prune): 5,000 a side, timed by the client.
autocommit_ms() {
	local t0 t1
	t0=$(date +%s%N)
	for i in $(seq 0 4999); do
		echo "SELECT stockext.upsert_bar('$1', timestamptz '2024-12-20 00:00+00' + interval '$i minutes', '1 minute', 10, 11, 9, 10, 1, 'bench');"
	done | q -o /dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
q -c "ALTER TABLE stockext.ticks ENABLE TRIGGER USER"
auto_with=$(autocommit_ms AUTO1)
q -c "ALTER TABLE stockext.ticks DISABLE TRIGGER USER"
auto_without=$(autocommit_ms AUTO2)
q -c "ALTER TABLE stockext.ticks ENABLE TRIGGER USER" -c "VACUUM ANALYZE stockext.ticks"
q -c "SELECT count(*) FROM stockext.ticks"

full=$(q -c "SELECT ms('SELECT stockext.rebuild_rollups()')")
q -c "CREATE MATERIALIZED VIEW mv AS SELECT s.width, s.symbol, s.bucket, $(q -c 'SELECT stockext.rollup_select_list()') FROM stockext.rollup_source s GROUP BY s.width, s.symbol, s.bucket WITH NO DATA" >/dev/null
matview=$(q -c "SELECT ms('REFRESH MATERIALIZED VIEW mv')")
rows=$(q -c "SELECT count(*) FROM stockext.rollups")

# 1% new bars: the last 1% of the minutes of every symbol, one INSERT per symbol.
for s in $(seq 0 $last); do q -c "SELECT ms(bars_sql($s, $HELD, $((BARS - 1))))" >/dev/null; done
pending_append=$(q -c "SELECT count(*) FROM stockext.rollup_invalidations")
append=$(q -c "SELECT ms('SELECT stockext.refresh_rollups()')")

# 10 late bars per symbol scattered over the whole history.
q -c "SELECT ms(bars_sql(s, 0, $((HELD - 1)), true)) FROM generate_series(0, $last) s" >/dev/null
late_rows=$(q -c "SELECT count(*) FROM stockext.ticks WHERE symbol LIKE 'SYM%' AND (extract(epoch FROM ts - '2023-01-02 00:00+00') / 60)::int % $STEP = 7 AND ts < timestamptz '2023-01-02 00:00+00' + $HELD * interval '1 minute'")
pending_late=$(q -c "SELECT count(*) FROM stockext.rollup_invalidations")
late=$(q -c "SELECT ms('SELECT stockext.refresh_rollups()')")

# In a new session (as a cron job runs it), then again in the same one.
nothing=($(q -c "SELECT ms('SELECT stockext.refresh_rollups()')" -c "SELECT ms('SELECT stockext.refresh_rollups()')"))

# The incremental result equals a recompute.
diff=$(q -c "REFRESH MATERIALIZED VIEW mv" -c "SELECT count(*) FROM (SELECT width, symbol, bucket, open, high, low, close, volume, n FROM mv EXCEPT SELECT width, symbol, bucket, open, high, low, close, volume, n FROM stockext.rollups) x")

pct() { python3 -c "print(f'{100.0 * $1 / $2:.2f}%')"; }
cat <<OUT
rollups: $SYMBOLS symbols x $BARS one-minute bars -> $rows rollup rows (30m, 1h, 1d); load average $(cut -d' ' -f1-3 /proc/loadavg)
  full recompute (rebuild_rollups)           ${full} ms
  REFRESH MATERIALIZED VIEW, same query      ${matview} ms   ($(pct "$matview" "$full") of full)
  refresh after appending 1% new bars        ${append} ms   ($(pct "$append" "$full") of full; ${pending_append} invalidation rows)
  refresh after ${late_rows} late bars scattered      ${late} ms   ($(pct "$late" "$full") of full; ${pending_late} invalidation rows)
  refresh with nothing changed               ${nothing[0]} ms in a new session, ${nothing[1]} ms in the same one
  ingest $HELD bars with the trigger       ${with_trigger} ms
  ingest $HELD bars without it             ${without_trigger} ms   (trigger overhead $(python3 -c "print(f'{100.0 * ($with_trigger - $without_trigger) / $without_trigger:.1f}%')"))
  20,000 upsert_bar() calls with the trigger ${row_with} ms
  20,000 upsert_bar() calls without it       ${row_without} ms   (trigger overhead $(python3 -c "print(f'{100.0 * ($row_with - $row_without) / $row_without:.1f}%')"))
  5,000 autocommit upsert_bar() with the trigger ${auto_with} ms (client-timed)
  5,000 autocommit upsert_bar() without it   ${auto_without} ms   (trigger overhead $(python3 -c "print(f'{100.0 * ($auto_with - $auto_without) / $auto_without:.1f}%')"))
  rows differing from a full recompute       ${diff}
OUT
[ "${KEEP_DB:-}" = 1 ] || psql -X -q -d postgres -c "DROP DATABASE $DB"
