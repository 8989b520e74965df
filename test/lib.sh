# test/lib.sh: set-up shared by the test harness (test/run.sh) and the demo
# (demo/demo.sh).  Source it; every function is prefixed se_.
#
# The extension is never installed into the system's PostgreSQL: each run
# copies the PostgreSQL installation into a private tree (PostgreSQL binaries
# find their share and lib folders relative to themselves) and installs
# stockext there with DESTDIR.  Runs therefore need root only for apt-get,
# leave the system untouched, and can run side by side.

SE_PG_MAJOR=${SE_PG_MAJOR:-15}
SE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SE_SYS_BIN=/usr/lib/postgresql/$SE_PG_MAJOR/bin
# clang and libclang-rt-dev (compiler-rt's libFuzzer, ASan and UBSan
# runtimes, only recommended by clang's packages) build test/fuzz;
# libkrb5-dev has the GSSAPI headers that PostgreSQL's server headers
# include when Citus is built (test/citus-lib.sh).  The REST API and its
# dashboard need SE_API_PACKAGES (the demo and the suite 70-api install
# them), the browser test chromium besides.
SE_PACKAGES="postgresql-$SE_PG_MAJOR postgresql-server-dev-$SE_PG_MAJOR postgresql-$SE_PG_MAJOR-cron
  libcurl4-openssl-dev libjson-c-dev make gcc python3 procps curl clang libclang-rt-dev valgrind libkrb5-dev"
SE_API_PACKAGES="python3-fastapi python3-uvicorn python3-psycopg"

# se_npm_ci: the dashboard's npm packages in api/node_modules, from the
# committed package-lock.json (npm from Debian's packages if missing).
# --omit=dev leaves out playwright-core, which only the browser test needs.
se_npm_ci() {
	command -v npm >/dev/null || se_install_deps nodejs npm
	(cd "$SE_ROOT/api" && npm ci --no-audit --no-fund --loglevel=error "$@" >/dev/null) || se_die "npm ci in api/ failed"
}

# The version being built: default_version of stockext.control.
SE_EXTVERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$SE_ROOT/stockext.control")

se_log() { printf '== %s\n' "$*" >&2; }
se_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# se_install_deps [PACKAGE...]: installs the Debian packages that are
# missing, of $SE_PACKAGES by default (apt-get as root, or sudo).
se_install_deps() {
	local missing=() p
	for p in ${*:-$SE_PACKAGES}; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || se_die "missing packages (${missing[*]}) and not root: install them first"
		sudo=sudo
	fi
	se_log "installing ${missing[*]}"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq || se_die "apt-get update failed"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
		|| se_die "apt-get install ${missing[*]} failed"
}

# The user that runs the server: initdb refuses root, so root runs it as
# "postgres" (created by the postgresql packages).
se_server_user() {
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
		echo postgres
	else
		id -un
	fi
}

# se_as_server CMD...: runs a command as the server user.
se_as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$SE_RUNAS" -- "$@"
	else
		"$@"
	fi
}

# Builds with warnings as errors; SANITIZE=1 builds under ASan and UBSan.
# Objects of the other flavour are cleaned first (.build-flavor records it).
se_build() {
	local flavor=plain stamp=$SE_ROOT/.build-flavor
	[ "${SANITIZE:-}" = 1 ] && flavor=sanitize
	if [ "$(cat "$stamp" 2>/dev/null)" != "$flavor" ]; then
		make -C "$SE_ROOT" -s PG_CONFIG="$SE_SYS_BIN/pg_config" clean >/dev/null
		echo "$flavor" >"$stamp"
	fi
	se_log "building ($flavor)"
	make -C "$SE_ROOT" -s PG_CONFIG="$SE_SYS_BIN/pg_config" SANITIZE="${SANITIZE:-}" \
		${SE_MAKE_FLAGS:-} >/dev/null || se_die "build failed"
}

# se_sanitizer_env DIR: with SANITIZE=1, the environment that lets an
# uninstrumented postgres load the instrumented module (the ASan and UBSan
# runtimes preloaded, ASan first as it requires, then the shim that lets
# ASan start in postgres: test/asan_preload.c says why) and makes every
# report a file under DIR.  No leak checks: a backend exits without freeing
# what it allocated, by design.
se_sanitizer_env() {
	[ "${SANITIZE:-}" = 1 ] || return 0
	local dir=$1
	mkdir -p "$dir" && chown "$SE_RUNAS" "$dir" 2>/dev/null
	echo "LD_PRELOAD=$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so) $SE_BIN/../lib/stockext_asan_preload.so"
	echo "ASAN_OPTIONS=detect_leaks=0:log_path=$dir/asan"
	echo "UBSAN_OPTIONS=print_stacktrace=1:log_path=$dir/ubsan"
}

# se_sanitizer_reports DIR: prints the sanitizer reports under DIR; fails if any.
se_sanitizer_reports() {
	local f found=1
	for f in "$1"/*; do
		[ -f "$f" ] || continue
		found=0
		echo "# sanitizer report $f:"
		sed 's/^/#   /' "$f" | head -60
	done
	[ "$found" -ne 0 ]
}

# se_private_install DIR: a private PostgreSQL under DIR with stockext in it;
# sets SE_BIN to its bin folder.
se_private_install() {
	local dir=$1
	mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql"
	rm -rf "$dir/usr/lib/postgresql/$SE_PG_MAJOR" "$dir/usr/share/postgresql/$SE_PG_MAJOR"
	cp -a "/usr/lib/postgresql/$SE_PG_MAJOR" "$dir/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$SE_PG_MAJOR" "$dir/usr/share/postgresql/"
	make -C "$SE_ROOT" -s PG_CONFIG="$SE_SYS_BIN/pg_config" DESTDIR="$dir" install >/dev/null \
		|| se_die "make install failed"
	if [ "${SANITIZE:-}" = 1 ]; then
		gcc -shared -fPIC -O2 -Wall -Werror -Wno-unused-parameter -o "$dir/usr/lib/postgresql/$SE_PG_MAJOR/lib/stockext_asan_preload.so" \
			"$SE_ROOT/test/asan_preload.c" || se_die "building test/asan_preload.c failed"
	fi
	chmod -R a+rX "$dir"
	SE_BIN=$dir/usr/lib/postgresql/$SE_PG_MAJOR/bin
}

# A TCP port on 127.0.0.1 that nothing listens on now.
se_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# se_init_cluster DATADIR SOCKDIR PORT CRON_DB: initdb and the settings every
# stockext cluster needs; listens on the unix socket and 127.0.0.1 only.
# Feeds that name no calendar get SE_FEED_CALENDAR (default 24x7), so that
# the test suites' feeds poll at any hour of the day; empty: the defaults
# per provider and symbol (the demo).
se_init_cluster() {
	local data=$1 sock=$2 port=$3 crondb=$4
	mkdir -p "$data" "$sock"
	chown "$SE_RUNAS" "$data" "$sock" 2>/dev/null || true
	chmod 700 "$data"
	se_as_server "$SE_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null \
		|| se_die "initdb failed"
	cat >>"$data/postgresql.conf" <<CONF
# stockext
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
shared_preload_libraries = 'stockext,pg_cron'
cron.database_name = '$crondb'
max_worker_processes = 32
log_line_prefix = '%m [%p] %b %q%u@%d '
stockext.feed_calendar = '${SE_FEED_CALENDAR-24x7}'
CONF
}

# se_start_cluster DATADIR LOGFILE: with SANITIZE=1, sanitizer reports go to
# the folder "sanitizer" beside LOGFILE.
se_start_cluster() {
	touch "$2" && chown "$SE_RUNAS" "$2" 2>/dev/null
	local env
	mapfile -t env < <(se_sanitizer_env "$(dirname "$2")/sanitizer")
	se_as_server env "${env[@]}" "$SE_BIN/pg_ctl" -D "$1" -l "$2" -w -t 60 start >/dev/null \
		|| { cat "$2" >&2; se_die "the server did not start"; }
}

# se_stop_cluster DATADIR: fast shutdown, immediate if that hangs.
se_stop_cluster() {
	[ -f "$1/postmaster.pid" ] || return 0
	se_as_server "$SE_BIN/pg_ctl" -D "$1" -w -t 30 -m fast stop >/dev/null 2>&1 \
		|| se_as_server "$SE_BIN/pg_ctl" -D "$1" -w -m immediate stop >/dev/null 2>&1 || true
}

# se_throwaway_cluster NAME [EXTRA_CONF]: everything before a run of suites
# or benchmarks: packages, build, a private install and a started cluster in
# a fresh /tmp/stockext-NAME.* folder that is stopped and removed on exit
# (kept with KEEP_TMP=1); EXTRA_CONF is appended to postgresql.conf.  Sets
# and exports SE_* and PGHOST/PGPORT/PGUSER/PGDATABASE for what runs next.
se_throwaway_cluster() {
	SE_RUNAS=$(se_server_user)
	SE_TMP=$(mktemp -d "/tmp/stockext-$1.XXXXXX")
	chmod 755 "$SE_TMP"
	SE_DATA=$SE_TMP/data
	SE_SOCK=$SE_TMP/sock
	SE_LOG=$SE_TMP/server.log
	trap se_throwaway_cleanup EXIT
	trap 'exit 130' INT TERM

	se_install_deps
	se_build
	se_private_install "$SE_TMP/pg"
	SE_PORT=$(se_free_port)
	se_init_cluster "$SE_DATA" "$SE_SOCK" "$SE_PORT" postgres
	[ -z "${2:-}" ] || printf '%s\n' "$2" >>"$SE_DATA/postgresql.conf"
	se_start_cluster "$SE_DATA" "$SE_LOG"
	se_log "cluster on 127.0.0.1:$SE_PORT, data in $SE_DATA"

	export PGHOST=127.0.0.1 PGPORT=$SE_PORT PGUSER=postgres PGDATABASE=postgres
	export SANITIZE=${SANITIZE:-} SE_ROOT SE_EXTVERSION SE_TMP SE_DATA SE_SOCK SE_LOG SE_BIN SE_RUNAS SE_SYS_BIN SE_PG_MAJOR
}

se_throwaway_cleanup() {
	trap - EXIT INT TERM
	se_stop_cluster "$SE_DATA"
	if [ "${KEEP_TMP:-}" = 1 ]; then se_log "kept $SE_TMP"; else rm -rf "$SE_TMP"; fi
}
