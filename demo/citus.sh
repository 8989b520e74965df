#!/usr/bin/env bash
# demo/citus.sh: stockext distributed over Citus (make demo-citus /
# make demo-citus-stop).
#
#   start   install what is missing, build Citus 12.1.12 from the project's
#           shared/citus/ tarball into a private PostgreSQL (cached under
#           /tmp), start a coordinator and two workers on 127.0.0.1 (ports
#           $STOCKEXT_CITUS_PORT, default 5500, and the two after it; data
#           under .demo-citus/, made afresh at every start), create stockext
#           in database "stockext" on the coordinator, distribute it, start
#           the simulated feed and print demo/citus.sql with its output.
#   stop    stop the three servers (rm -rf .demo-citus drops them).
#
# Trust authentication on 127.0.0.1 (Citus's nodes connect to each other as
# postgres): for a machine of your own only.
set -euo pipefail
. "$(dirname "$0")/../test/lib.sh"
. "$SE_ROOT/test/citus-lib.sh"

SE_RUNAS=$(se_server_user)
DEMO=$SE_ROOT/.demo-citus
PORT=${STOCKEXT_CITUS_PORT:-5500}

stop_nodes() {
	local d
	for d in "$DEMO"/node*; do [ -d "$d" ] && se_stop_cluster "$d"; done
	return 0
}

case "${1:-start}" in
start)
	se_install_deps
	se_build
	SE_TMP=$DEMO/tmp
	[ -d "$DEMO" ] && { SE_BIN=$(cat "$DEMO/bin" 2>/dev/null || echo /nonexistent); stop_nodes; }
	rm -rf "$DEMO"
	mkdir -p "$SE_TMP"
	chmod 755 "$DEMO" "$SE_TMP"
	se_log "building Citus (cached after the first run)"
	citus_install
	echo "$SE_BIN" >"$DEMO/bin"
	# citus_start takes free ports; the demo's are fixed.
	se_free_port() { echo $((PORT + ${#CITUS_PORTS[@]})); }
	citus_start "$DEMO" 2 stockext
	citus_add_worker 1
	citus_add_worker 2
	citus_on 0 "SET client_min_messages = warning; CREATE EXTENSION stockext" >/dev/null
	citus_psql 0 stockext -f "$SE_ROOT/demo/citus-setup.sql" >/dev/null
	echo
	"$SE_BIN/psql" -X -h 127.0.0.1 -p "$PORT" -U postgres -d stockext -P pager=off -e -f "$SE_ROOT/demo/citus.sql"
	echo
	echo "stockext distributed over Citus: coordinator 127.0.0.1:$PORT, workers on $((PORT + 1)) and $((PORT + 2))."
	echo "Connect:  psql -h 127.0.0.1 -p $PORT -U postgres stockext"
	echo "Stop:     make demo-citus-stop"
	;;
stop)
	SE_BIN=$(cat "$DEMO/bin" 2>/dev/null) || { echo "no Citus demo in $DEMO"; exit 0; }
	stop_nodes
	echo "stopped the Citus demo's servers (data in $DEMO)"
	;;
*)
	se_die "usage: demo/citus.sh start|stop"
	;;
esac
