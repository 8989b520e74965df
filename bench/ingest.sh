#!/usr/bin/env bash
# bench/ingest.sh: the ingestion write path against COPY, and the worker's
# memory over 10,000 polls.  Run with bench/run.sh ingest.
#
# 1. Throughput, against COPY of the same rows into the same empty indexed
#    table, several rounds, alternating, side by side:
#    - end to end: the mock provider's 50,000-bar TwelveData reply fetched,
#      parsed and stored by stockext.fetch_history (the worker's code path:
#      libcurl, json-c, time conversion, validation, the write path), with
#      its phases (transfer, parse, conversion, write) from its DEBUG1 line
#      and the mock alone timed by curl(1);
#    - the write path alone: stockext.ingest_simulated of 50,000 bars minus
#      the time simulate_bars takes to generate them;
#    - the same 50,000 bars offered again once stored, by their source
#      (unchanged), and over another provider's equal bars (kept) and
#      differing ones (kept, the offers recorded as conflicts);
#    - poll-sized batches (a new bar; 10 bars unchanged), 2,000 of each,
#      against upsert_bar of the same bars.
# 2. Memory: a worker polling a small TwelveData reply back to back; its
#    private memory (RssAnon) and VmRSS from /proc every 1,000 polls.
set -uo pipefail
ROUNDS=${ROUNDS:-5}
POLLS=${POLLS:-10000}
DB=stockext_bench
PSQL=("$SE_BIN/psql" -X -qAt -v ON_ERROR_STOP=1)
export PGOPTIONS="-c client_min_messages=warning"
q() { "${PSQL[@]}" -d "$DB" -c "$1"; }
qp() { "${PSQL[@]}" -d postgres -c "$1"; }

tmp=$(mktemp -d "${SE_TMP:-/tmp}/ingest.XXXXXX")
chmod 777 "$tmp"
. "$SE_ROOT/test/mock.sh"
trap 'mock_stop; rm -rf "$tmp"' EXIT
mock_start "$tmp" || exit 1

qp "ALTER SYSTEM SET stockext.twelvedata_url = '$MOCK_URL'"
qp "ALTER SYSTEM SET stockext.twelvedata_requests_per_minute = 1000000"
qp "ALTER SYSTEM SET stockext.twelvedata_requests_per_day = 1000000"
qp "ALTER SYSTEM SET stockext.worker_naptime = '10ms'"
qp "SELECT pg_reload_conf()" >/dev/null
qp "DROP DATABASE IF EXISTS $DB"
qp "CREATE DATABASE $DB"
q "CREATE EXTENSION stockext"
# The key the requests carry (the mock wants one); the feed stays paused.
q "SELECT stockext.pause_feed(stockext.add_feed('twelvedata', ARRAY['AAPL'], '1 minute', '1 hour', 'bench-key'))" >/dev/null
q "SELECT stockext.create_partitions('2025-06-01', '2025-08-01')" >/dev/null

# Warm-up: the mock generates and caches the big reply; plans get made.
q "SELECT stockext.fetch_history('twelvedata', 'FAULT_BIG', '2025-06-01', '2025-08-01', '1 minute')" >/dev/null
q "COPY (SELECT * FROM stockext.ticks WHERE symbol = 'FAULT_BIG') TO '$tmp/bars.copy'"
rows=$(q "SELECT count(*) FROM stockext.ticks WHERE symbol = 'FAULT_BIG'")

calc() { awk "BEGIN { print $1 }"; }
ms() { "${PSQL[@]}" -d "$DB" -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
SIM="'SIM', '2025-06-02 14:00+00', '2025-06-02 14:00+00'::timestamptz + interval '50000 minutes'"
q "SELECT stockext.ingest_simulated($SIM, '1 minute', 0)" >/dev/null
q "COPY (SELECT * FROM stockext.ticks WHERE symbol = 'SIM') TO '$tmp/sim.copy'"
# fetch_history's phases, from its DEBUG1 line: "transfer" is libcurl's
# (HTTP and gzip decompression), then the parse (json-c and the parser,
# freeing included), the conversion to instants, the write (validation,
# rejects, COPY/upsert).
FETCH="SELECT stockext.fetch_history('twelvedata', 'FAULT_BIG', '2025-06-01', '2025-08-01', '1 minute')"
# Both sides run once untimed, then timed after a TRUNCATE in the same
# session: the worker is a long-lived process (caches, plans, heap warm).
warm_ms() {
	PGOPTIONS="-c client_min_messages=debug1" "${PSQL[@]}" -d "$DB" -c "$1" -c "TRUNCATE stockext.ticks" \
		-c '\timing on' -c "$1" -c '\timing off' \
		-c "SELECT 'rss ' || regexp_replace(pg_read_file('/proc/self/status'), '.*RssAnon:\s*(\d+) kB.*', '\1')" >"$tmp/warm.out" 2>&1
	sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$tmp/warm.out" | tail -1
}
phase() { sed -n "s/.*fetch_history:.* $1 \([0-9.]*\) ms.*/\1/p" "$tmp/warm.out" | tail -1; }
# The mock's side alone: the same gzipped reply fetched by curl(1) without
# decompressing it, timed apart from the server.
BIG_URL="$MOCK_URL/time_series?symbol=FAULT_BIG&interval=1min&timezone=UTC&apikey=bench-key"
curl_ms() { curl -s -H 'Accept-Encoding: gzip' -o "$tmp/big.gz" -w '%{time_total}' "$BIG_URL" | awk '{ print $1 * 1000 }'; }
t_fetch=0 t_copy=0 t_sim=0 t_gen=0 t_copy2=0
t_xfer=0 t_parse=0 t_conv=0 t_write=0 t_curl=0 t_same=0 t_other=0 t_differ=0
for r in $(seq 1 "$ROUNDS"); do
	cu=$(curl_ms)
	q "TRUNCATE stockext.ticks"
	a=$(warm_ms "$FETCH")
	x=$(phase "transfer (with decompression)") rss=$(sed -n "s/^rss //p" "$tmp/warm.out") p=$(phase parse) v=$(phase conversion) w=$(phase write)
	q "TRUNCATE stockext.ticks"
	b=$(warm_ms "COPY stockext.ticks FROM '$tmp/bars.copy'")
	q "TRUNCATE stockext.ticks"
	c=$(ms "SELECT stockext.ingest_simulated($SIM, '1 minute', 0)")
	g=$(ms "SELECT count(*) FROM stockext.simulate_bars($SIM, '1 minute', 0)")
	q "TRUNCATE stockext.ticks"
	d=$(ms "COPY stockext.ticks FROM '$tmp/sim.copy'")
	# The same bars offered again: by their own source (unchanged, nothing
	# to write), then stored by another provider with equal prices (kept,
	# nothing written) and with prices twice as high (kept, each offer
	# recorded in stockext.conflicts), each decided against the stored bar.
	# Before 0.3.0 the last two overwrote the bars.
	e=$(ms "SELECT stockext.ingest_simulated($SIM, '1 minute', 0)")
	q "UPDATE stockext.ticks SET source = 'yahoo' WHERE symbol = 'SIM'"
	f=$(ms "SELECT stockext.ingest_simulated($SIM, '1 minute', 0)")
	q "UPDATE stockext.ticks SET source = 'yahoo', open = 2 * open, high = 2 * high, low = 2 * low, close = 2 * close WHERE symbol = 'SIM'"
	q "TRUNCATE stockext.conflicts" 2>/dev/null
	h=$(ms "SELECT stockext.ingest_simulated($SIM, '1 minute', 0)")
	echo "round $r: fetch_history ${a} ms (transfer ${x}, parse ${p}, conversion ${v}, write ${w}; backend RssAnon after ${rss} kB), COPY ${b} ms | ingest_simulated ${c} ms (generation ${g} ms), COPY ${d} ms ($rows rows each); again, unchanged ${e} ms, over another provider's equal bars ${f} ms, differing ${h} ms | curl(1) ${cu} ms of $(stat -c %s "$tmp/big.gz") bytes"
	t_same=$(calc "$t_same + $e")
	t_other=$(calc "$t_other + $f")
	t_differ=$(calc "$t_differ + $h")
	t_xfer=$(calc "$t_xfer + $x")
	t_parse=$(calc "$t_parse + $p")
	t_conv=$(calc "$t_conv + $v")
	t_write=$(calc "$t_write + $w")
	t_curl=$(calc "$t_curl + $cu")
	t_fetch=$(calc "$t_fetch + $a")
	t_copy=$(calc "$t_copy + $b")
	t_sim=$(calc "$t_sim + $c")
	t_gen=$(calc "$t_gen + $g")
	t_copy2=$(calc "$t_copy2 + $d")
done
rate() { calc "int($rows * $ROUNDS * 1000 / ($1))"; }
echo "end to end (HTTP + JSON + write): $(rate "$t_fetch") bars/s, COPY $(rate "$t_copy") rows/s, ratio $(calc "int(100 * $t_copy / $t_fetch) / 100") (target >= 0.50)"
avg() { calc "int(10 * ($1) / $ROUNDS) / 10"; }
echo "fetch_history phases (mean ms): transfer $(avg "$t_xfer") (the mock alone, curl(1) fetching the gzipped reply: $(avg "$t_curl")), parse $(avg "$t_parse"), conversion $(avg "$t_conv"), write $(avg "$t_write"), total $(avg "$t_fetch"); COPY $(avg "$t_copy")"
echo "write path alone: $(rate "$t_sim - $t_gen") bars/s, COPY $(rate "$t_copy2") rows/s, ratio $(calc "int(100 * $t_copy2 / ($t_sim - $t_gen)) / 100")"
again() { echo "$1 $(rate "$2 - $t_gen") bars/s, ratio to COPY $(calc "int(100 * $t_copy2 / ($2 - $t_gen)) / 100")"; }
echo "stored bars offered again (write path alone): $(again unchanged "$t_same"); $(again "over another provider's equal bars" "$t_other"); $(again "differing bars" "$t_differ")"

# Poll-sized batches, 2,000 each, against upsert_bar of the same bars (a
# plpgsql upsert per bar): one new bar (the usual poll) and 10 stored bars
# offered again unchanged (a re-poll), in one transaction each.
T0="timestamptz '2025-06-09 14:00+00'"
loop() { ms "DO \$\$ DECLARE b record; BEGIN FOR i IN 0..1999 LOOP $1; END LOOP; END \$\$"; }
t_pn=0 t_un=0 t_pr=0 t_ur=0
for r in $(seq 1 "$ROUNDS"); do
	q "TRUNCATE stockext.ticks"
	pn=$(loop "PERFORM stockext.ingest_simulated('PN', $T0 + i * interval '1 minute', $T0 + (i + 1) * interval '1 minute', '1 minute', 0)")
	un=$(loop "FOR b IN SELECT * FROM stockext.simulate_bars('UN', $T0 + i * interval '1 minute', $T0 + (i + 1) * interval '1 minute') LOOP
	           PERFORM stockext.upsert_bar('UN', b.ts, '1 minute', b.open, b.high, b.low, b.close, b.volume, 'simulated'); END LOOP")
	pr=$(loop "PERFORM stockext.ingest_simulated('PN', $T0, $T0 + interval '10 minutes', '1 minute', 0)")
	ur=$(loop "FOR b IN SELECT * FROM stockext.simulate_bars('UN', $T0, $T0 + interval '10 minutes') LOOP
	           PERFORM stockext.upsert_bar('UN', b.ts, '1 minute', b.open, b.high, b.low, b.close, b.volume, 'simulated'); END LOOP")
	echo "round $r: 2,000 polls of a new bar: ingest path ${pn} ms, upsert_bar ${un} ms; of 10 unchanged bars: ingest path ${pr} ms, upsert_bar ${ur} ms"
	t_pn=$(calc "$t_pn + $pn") t_un=$(calc "$t_un + $un") t_pr=$(calc "$t_pr + $pr") t_ur=$(calc "$t_ur + $ur")
done
echo "poll-sized batches: a new bar $(calc "int(1000 * $t_pn / $ROUNDS / 2000) / 1000") ms a poll, ratio to upsert_bar $(calc "int(100 * $t_un / $t_pn) / 100"); 10 unchanged bars $(calc "int(1000 * $t_pr / $ROUNDS / 2000) / 1000") ms a poll, ratio to upsert_bar $(calc "int(100 * $t_ur / $t_pr) / 100")"

# Memory over POLLS polls of a small reply, back to back.
q "TRUNCATE stockext.ticks"
curl -s -X POST "$MOCK_URL/_mock/reset" >/dev/null
# (below change_feed's 1-second minimum: written into the table)
q "UPDATE stockext.feeds SET poll_every = '1 millisecond'" >/dev/null
q "SELECT stockext.resume_feed(id) FROM stockext.feeds" >/dev/null
pid=$(q "SELECT pid FROM stockext.worker_status() WHERE database = current_database()")
total() { curl -s "$MOCK_URL/_mock/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
mem() { awk '/^VmRSS|^RssAnon/ {printf "%s %s kB  ", $1, $2}' "/proc/$pid/status"; }
start=$SECONDS
next=0
while :; do
	n=$(total)
	if [ "$n" -ge "$next" ]; then
		echo "polls $n: $(mem)"
		next=$((next + 1000))
	fi
	[ "$n" -ge "$POLLS" ] && break
	[ $((SECONDS - start)) -gt 900 ] && { echo "gave up after 900 s at $n polls"; break; }
	sleep 0.5
done
echo "polls per second: $(calc "int($(total) / ($SECONDS - $start + 1))")"
q "SELECT stockext.pause_feed(id) FROM stockext.feeds" >/dev/null
echo "errors recorded: $(q "SELECT count(*) FROM stockext.errors")"
qp "DROP DATABASE $DB"
