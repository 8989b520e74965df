#!/usr/bin/env bash
# demo/demo.sh: the README's main command (make demo / make demo-stop).
#
#   start   install what is missing, build, (re)install stockext into a
#           private PostgreSQL under .demo/, start a persistent cluster on
#           127.0.0.1:$STOCKEXT_DEMO_PORT (default 5499) with stockext created in
#           database "stockext", run demo/setup.sql (feeds, jobs) and print
#           demo/queries.sql with its output.  Safe to re-run: the cluster and
#           its data are kept, the extension is rebuilt and the server restarted.
#   stop    stop the cluster (data stays in .demo/data; rm -rf .demo to drop it).
set -euo pipefail
. "$(dirname "$0")/../test/lib.sh"

SE_RUNAS=$(se_server_user)
DEMO=$SE_ROOT/.demo
PORT=${STOCKEXT_DEMO_PORT:-5499}
SE_BIN=$DEMO/pg/usr/lib/postgresql/$SE_PG_MAJOR/bin
CONNECT="psql \"host=127.0.0.1 port=$PORT user=postgres dbname=stockext\""

psql_demo() { "$SE_SYS_BIN/psql" -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }

case "${1:-start}" in
start)
	se_install_deps
	se_build
	se_stop_cluster "$DEMO/data"
	mkdir -p "$DEMO"
	chmod 755 "$DEMO"
	if [ "$(id -u)" -eq 0 ] && ! runuser -u "$SE_RUNAS" -- test -x "$DEMO"; then
		se_die "user $SE_RUNAS cannot reach $DEMO: make its parent folders world-searchable (chmod o+x) or clone elsewhere"
	fi
	se_private_install "$DEMO/pg"
	[ -f "$DEMO/data/PG_VERSION" ] || se_init_cluster "$DEMO/data" "$DEMO/sock" "$PORT" stockext
	se_start_cluster "$DEMO/data" "$DEMO/server.log"
	psql_demo -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'stockext'" | grep -q 1 \
		|| psql_demo -d postgres -qc "CREATE DATABASE stockext"
	psql_demo -d stockext -q -f "$SE_ROOT/demo/setup.sql"
	echo
	psql_demo -d stockext -e -f "$SE_ROOT/demo/queries.sql"
	echo
	echo "stockext is running on 127.0.0.1:$PORT (server log: $DEMO/server.log)."
	echo "Connect:  $CONNECT"
	echo "Stop:     make demo-stop"
	;;
stop)
	se_stop_cluster "$DEMO/data"
	echo "stopped (data kept in $DEMO/data)"
	;;
*)
	se_die "usage: demo/demo.sh start|stop"
	;;
esac
