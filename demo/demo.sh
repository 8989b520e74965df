#!/usr/bin/env bash
# demo/demo.sh: the README's main command (make demo / make demo-stop).
#
#   start   install what is missing, build, (re)install stockext into a
#           private PostgreSQL under .demo/, start a persistent cluster on
#           127.0.0.1:$STOCKEXT_DEMO_PORT (default 5499) with stockext created in
#           database "stockext", run demo/setup.sql (feeds, jobs) and print
#           demo/queries.sql with its output.  Safe to re-run: the cluster and
#           its data are kept, the extension is rebuilt and the server restarted.
#           Then starts the read-only REST API and its dashboard (api/) on
#           127.0.0.1:$STOCKEXT_API_PORT (default 8499), connected as role
#           stockext_api (a member of stockext_reader, see README: BI and the
#           read-only role), and prints the dashboard's URL.
#   stop    stop the API and the cluster (data stays in .demo/data; rm -rf
#           .demo to drop it).
#
# Authentication: TCP on 127.0.0.1 by password (scram-sha-256), generated at
# the first start into .demo/password (mode 600, readable by whoever ran the
# demo only); the unix socket by peer, for the OS user running the server
# only.  Not trust: on a shared machine any OS user would be superuser.
set -euo pipefail
. "$(dirname "$0")/../test/lib.sh"

SE_RUNAS=$(se_server_user)
DEMO=$SE_ROOT/.demo
PORT=${STOCKEXT_DEMO_PORT:-5499}
SE_BIN=$DEMO/pg/usr/lib/postgresql/$SE_PG_MAJOR/bin
PWFILE=$DEMO/password
API_PORT=${STOCKEXT_API_PORT:-8499}
API_PWFILE=$DEMO/api-password
API_PID=$DEMO/api.pid

psql_demo() { PGPASSWORD=$(cat "$PWFILE") "$SE_SYS_BIN/psql" -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }

# Password over TCP, peer on the socket (mapped to the role postgres for the
# server's OS user alone).  Rewritten at every start, so a demo cluster made
# before with trust is closed too.
write_hba() {
	cat >"$DEMO/data/pg_hba.conf" <<HBA
# demo/demo.sh: no trust.
local   all   postgres                peer map=demo
host    all   all        127.0.0.1/32 scram-sha-256
HBA
	echo "demo  $SE_RUNAS  postgres" >"$DEMO/data/pg_ident.conf"
}

# Stops the API started by a previous run, if its pid file names it.
stop_api() {
	local pid
	pid=$(cat "$API_PID" 2>/dev/null) || return 0
	if [ -n "$pid" ] && grep -q stockext_api.py "/proc/$pid/cmdline" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$API_PID"
}

# The API's role: stockext_reader (stockext.grant_reader) and a login
# member of it with its own password, set on stdin as the superuser's is.
start_api() {
	[ -s "$API_PWFILE" ] || (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$API_PWFILE")
	chmod 600 "$API_PWFILE"
	psql_demo -d stockext -q >/dev/null <<SQL
SET client_min_messages = warning;
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stockext_reader') THEN CREATE ROLE stockext_reader NOLOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stockext_api') THEN CREATE ROLE stockext_api LOGIN; END IF;
END \$\$;
SELECT stockext.grant_reader('stockext_reader');
GRANT stockext_reader TO stockext_api;
ALTER ROLE stockext_api PASSWORD '$(cat "$API_PWFILE")';
SQL
	# The connection string in the environment, not on the command line.
	STOCKEXT_API_DSN="host=127.0.0.1 port=$PORT dbname=stockext user=stockext_api password=$(cat "$API_PWFILE")" \
		nohup /usr/bin/python3 "$SE_ROOT/api/stockext_api.py" --port "$API_PORT" >"$DEMO/api.log" 2>&1 &
	echo $! >"$API_PID"
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$API_PORT/openapi.json" >/dev/null && return 0
		sleep 0.2
	done
	cat "$DEMO/api.log" >&2
	se_die "the API did not start (log: $DEMO/api.log)"
}

case "${1:-start}" in
start)
	se_install_deps
	se_install_deps $SE_API_PACKAGES
	se_npm_ci --omit=dev
	se_build
	stop_api
	se_stop_cluster "$DEMO/data"
	mkdir -p "$DEMO"
	chmod 755 "$DEMO"
	if [ "$(id -u)" -eq 0 ] && ! runuser -u "$SE_RUNAS" -- test -x "$DEMO"; then
		se_die "user $SE_RUNAS cannot reach $DEMO: make its parent folders world-searchable (chmod o+x) or clone elsewhere"
	fi
	se_private_install "$DEMO/pg"
	[ -f "$DEMO/data/PG_VERSION" ] || SE_FEED_CALENDAR= se_init_cluster "$DEMO/data" "$DEMO/sock" "$PORT" stockext
	[ -s "$PWFILE" ] || (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$PWFILE")
	chmod 600 "$PWFILE"
	write_hba
	se_start_cluster "$DEMO/data" "$DEMO/server.log"
	# The password is set through the socket (peer), the one way in without
	# it, and on stdin: never in a command line that ps shows.
	se_as_server "$SE_SYS_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DEMO/sock" -p "$PORT" -U postgres -d postgres \
		<<<"ALTER ROLE postgres PASSWORD '$(cat "$PWFILE")'" >/dev/null
	psql_demo -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'stockext'" | grep -q 1 \
		|| psql_demo -d postgres -qc "CREATE DATABASE stockext"
	psql_demo -d stockext -q -f "$SE_ROOT/demo/setup.sql"
	echo
	psql_demo -d stockext -e -f "$SE_ROOT/demo/queries.sql"
	start_api
	echo
	echo "stockext is running on 127.0.0.1:$PORT (server log: $DEMO/server.log)."
	echo "Connect:  psql \"host=127.0.0.1 port=$PORT user=postgres dbname=stockext password=$(cat "$PWFILE")\""
	echo "          (the password is kept in $PWFILE, mode 600)"
	echo "Dashboard: http://127.0.0.1:$API_PORT/  (read-only REST API under /api, its OpenAPI description at /openapi.json;"
	echo "           log: $DEMO/api.log)"
	echo "Stop:     make demo-stop"
	echo "Citus:    make demo-citus shows the same pipeline distributed over a coordinator and two workers"
	;;
stop)
	stop_api
	se_stop_cluster "$DEMO/data"
	echo "stopped the API and the cluster (data kept in $DEMO/data)"
	;;
*)
	se_die "usage: demo/demo.sh start|stop"
	;;
esac
