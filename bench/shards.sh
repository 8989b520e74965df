#!/usr/bin/env bash
# bench/shards.sh: one node against the README's postgres_fdw layout (a
# coordinator and two data nodes, all on this machine), on 10 symbols x
# 1,000,000 one-minute bars.
#
#   candle 30m   SELECT symbol, 30-minute bucket, stockext.candle(...)
#                GROUP BY symbol, bucket: on the layout each node computes
#                its symbols' candles (partitionwise aggregate pushed down)
#   sma window   stockext.sma(close) OVER (PARTITION BY symbol ORDER BY ts
#                ROWS 19 PRECEDING): postgres_fdw ships no window function,
#                so the coordinator fetches every bar, sorted, and computes it
#   sma by view  the same window computed on the nodes, through a view there
#                exposed as foreign partitions, consumed with a sum per
#                symbol that is pushed down too: the workaround for windows
#
# The run.sh cluster is the single node and the coordinator; the data nodes
# are started here and stopped on exit.  Every node generates its own bars
# with generate_series (nothing travels through the coordinator to load).
# Each figure is the best of REPS (3) runs.  Bytes between the nodes are the
# protocol's DataRow messages of each Remote SQL, computed exactly on the
# nodes from the text form of every value (postgres_fdw fetches in text
# with the session settings it sets: UTC, ISO dates, extra_float_digits 3).
set -euo pipefail
. "$SE_ROOT/test/lib.sh"
. "$SE_ROOT/test/shards-lib.sh"
SYMBOLS=${SYMBOLS:-10}
BARS=${BARS:-1000000}
REPS=${REPS:-3}
export PGOPTIONS="-c enable_partitionwise_aggregate=on"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
ms() {	# ms QUERY: best of REPS runs, milliseconds (psql's \timing)
	local i
	for ((i = 0; i < REPS; i++)); do printf '\\timing on\n%s;\n' "$1"; done |
		psql -X -q -At -v ON_ERROR_STOP=1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | head -1 | awk '{ printf "%d", $1 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cleanup() { shards_stop_nodes; }
trap cleanup EXIT

mkdir -p "$SE_TMP/shards" && chmod 755 "$SE_TMP/shards"
shards_start_nodes "$SE_TMP/shards" 2 "fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = '1GB'
work_mem = '256MB'
maintenance_work_mem = '512MB'
max_wal_size = '20GB'
jit = off"
shards_layout
q "SELECT stockext.create_partitions('2024-01-01', '2024-01-01'::timestamptz + $BARS * interval '1 minute')" >/dev/null

# The bars of a list of symbols; deterministic, so both sides hold the same.
bars() {
	echo "SET session_replication_role = replica;  -- no rollup invalidations: queries are measured, not writes
INSERT INTO stockext.ticks
SELECT sym, '2024-01-01'::timestamptz + g * interval '1 minute', interval '1 minute',
       p, greatest(p, p + d) + 0.2, least(p, p + d) - 0.2, p + d, 100 + (g::bigint * 7919 + k * 104729) % 10000, 'bench', now()
FROM unnest(ARRAY[$1]) AS s(sym), LATERAL (SELECT substr(sym, 4)::int AS k) n, generate_series(1, $BARS) g,
     LATERAL (SELECT 100 + 10 * sin(g / 1000.0 + k) + 0.5 * sin(g / 7.0) AS p, 0.3 * cos(g / 13.0) AS d) x;
VACUUM ANALYZE stockext.ticks;"
}
all=$(q "SELECT string_agg(quote_literal('SYM' || s), ',' ORDER BY s) FROM generate_series(1, $SYMBOLS) s")
loads=()
echo "== generating $SYMBOLS x $BARS one-minute bars on the single node and, split by hash(symbol), on the 2 data nodes"
for i in 1 2; do
	mine=$(q "SELECT string_agg(quote_literal(sym), ',') FROM (SELECT 'SYM' || s AS sym FROM generate_series(1, $SYMBOLS) s) x
	          WHERE satisfies_hash_partition('shard.ticks'::regclass, 2, $((i - 1)), sym)")
	echo "   node $i: $mine"
	mine=$(bars "$mine")
	"$SE_SYS_BIN/psql" -X -q -h 127.0.0.1 -p "${SHARD_PORTS[i - 1]}" -U postgres -d postgres -v ON_ERROR_STOP=1 \
		<<<"$mine" >/dev/null &
	loads+=($!)
done
psql -X -q -v ON_ERROR_STOP=1 <<<"$(bars "$all")" >/dev/null
for pid in "${loads[@]}"; do wait "$pid"; done
q "ANALYZE shard.ticks"
echo "   rows: single $(q "SELECT count(*) FROM stockext.ticks"), sharded $(q "SELECT count(*) FROM shard.ticks")"

# The window computed on the nodes: a view there, foreign partitions here.
for i in 1 2; do
	shards_on "$i" "CREATE VIEW public.sma20 AS
	    SELECT symbol, ts, stockext.sma(close) OVER (PARTITION BY symbol ORDER BY ts ROWS 19 PRECEDING) AS sma
	    FROM stockext.ticks"
done
q "CREATE TABLE shard.sma20 (symbol text, ts timestamptz, sma float8) PARTITION BY HASH (symbol)"
for i in 1 2; do
	q "CREATE FOREIGN TABLE shard.sma20_$i PARTITION OF shard.sma20 FOR VALUES WITH (MODULUS 2, REMAINDER $((i - 1)))
	   SERVER node$i OPTIONS (schema_name 'public', table_name 'sma20')"
done

candle="SELECT count(*), sum((c).close) FROM (
  SELECT symbol, date_bin('30 minutes', ts, '2000-01-03'), stockext.candle(ts, open, high, low, close, volume) AS c
  FROM %s GROUP BY 1, 2) x"
sma="SELECT count(*), sum(s) FROM (
  SELECT stockext.sma(close) OVER (PARTITION BY symbol ORDER BY ts ROWS 19 PRECEDING) AS s FROM %s) x"
smaview="SELECT count(*), sum(s) FROM (SELECT symbol, sum(sma) AS s FROM shard.sma20 GROUP BY symbol) x"
smalocal="SELECT count(*), sum(s) FROM (SELECT symbol, sum(sma) AS s FROM (
  SELECT symbol, stockext.sma(close) OVER (PARTITION BY symbol ORDER BY ts ROWS 19 PRECEDING) AS sma FROM stockext.ticks) y GROUP BY symbol) x"

# The same answers on both sides (sums of doubles in another order may
# differ in the last digits, so compared to 1e-9 relative).
same() {
	local a b
	a=$(q "$1"); b=$(q "$2")
	awk -F'|' -v a="$a" -v b="$b" 'BEGIN { split(a, x, "|"); split(b, y, "|");
		d = x[2] - y[2]; if (d < 0) d = -d; m = x[2] < 0 ? -x[2] : x[2];
		print (x[1] == y[1] && d <= 1e-9 * m) ? "same" : "DIFFERENT (" a " vs " b ")" }'
}
echo "== answers: candle $(same "$(printf "$candle" stockext.ticks)" "$(printf "$candle" shard.ticks)"), sma window $(same "$(printf "$sma" stockext.ticks)" "$(printf "$sma" shard.ticks)"), sma by view $(same "$smalocal" "$smaview")"

# What travels: the Remote SQL and the rows each foreign scan returned.
traffic() {	# traffic QUERY: Remote SQL and actual rows per node
	psql -X -q -At -v ON_ERROR_STOP=1 -c "EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) $1" |
		grep -E 'Foreign Scan|Remote SQL' | sed 's/^ *//; s/^-> *//; s/^/   /'
}
# wire NODE SQL: DataRow bytes of SQL's rows fetched in text (1 type byte,
# 4 length, 2 column count, then a 4-byte length and the text per column).
wire() {
	shards_on "$1" "SET search_path = pg_catalog; SET timezone = 'UTC'; SET datestyle = ISO; SET intervalstyle = postgres;
	                SET extra_float_digits = 3;
	                SELECT count(*) || ' ' || sum(7 + 4 * $3 + $4) FROM ($2) r" | tail -1
}
bytes() {	# bytes SQL_PER_NODE NCOLS LENGTH_EXPR: "rows bytes" summed over the nodes
	local a b
	a=$(wire 1 "$1" "$2" "$3"); b=$(wire 2 "$1" "$2" "$3")
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d %d", x[1] + y[1], x[2] + y[2] }'
}
echo "== candle 30m on the layout"
traffic "$(printf "$candle" shard.ticks)"
read -r candle_rows candle_bytes <<<"$(bytes "SELECT symbol, date_bin('00:30:00'::interval, ts, '2000-01-03 00:00:00+00'::timestamptz) AS b,
    stockext.candle(ts, open, high, low, close, volume) AS c FROM stockext.ticks GROUP BY 1, 2" 3 \
    "octet_length(r.symbol) + octet_length(r.b::text) + octet_length(r.c::text)")"
echo "== sma window on the layout"
traffic "$(printf "$sma" shard.ticks)"
read -r sma_rows sma_bytes <<<"$(bytes "SELECT symbol, ts, close FROM stockext.ticks" 3 \
    "octet_length(r.symbol) + octet_length(r.ts::text) + octet_length(r.close::text)")"
echo "== sma by view on the layout"
traffic "$smaview"
read -r view_rows view_bytes <<<"$(bytes "SELECT symbol, sum(sma) AS s FROM public.sma20 GROUP BY 1" 2 \
    "octet_length(r.symbol) + octet_length(r.s::text)")"

echo "== timing (best of $REPS)"
c1=$(ms "$(printf "$candle" stockext.ticks)"); c2=$(ms "$(printf "$candle" shard.ticks)")
s1=$(ms "$(printf "$sma" stockext.ticks)"); s2=$(ms "$(printf "$sma" shard.ticks)")
v1=$(ms "$smalocal"); v2=$(ms "$smaview")

echo
echo "| query | single node ms | 3-node postgres_fdw ms | sharded / single | rows between nodes | bytes between nodes |"
echo "|---|---|---|---|---|---|"
echo "| candle per symbol and 30-minute bucket (pushed down) | $c1 | $c2 | $(ratio "$c2" "$c1") | $candle_rows | $candle_bytes |"
echo "| sma(20) window, computed on the coordinator | $s1 | $s2 | $(ratio "$s2" "$s1") | $sma_rows | $sma_bytes |"
echo "| sma(20) window through views on the nodes, sum per symbol | $v1 | $v2 | $(ratio "$v2" "$v1") | $view_rows | $view_bytes |"
