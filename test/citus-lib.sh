# test/citus-lib.sh: a throwaway Citus cluster (a coordinator and workers,
# all on 127.0.0.1) for test/suites/65-citus and bench/citus.sh.  Source it
# after test/lib.sh, in a run of test/run.sh (SE_* set).
#
#   citus_install                  a private PostgreSQL with stockext and
#                                  Citus 12.1.12, built by the project's
#                                  shared/citus/build.sh (the build is kept
#                                  under /tmp, so only the first run of a
#                                  checkout compiles it); sets SE_BIN to it.
#                                  Fails, saying why, when the build does.
#   citus_start DIR N DB           a coordinator and N workers under DIR,
#                                  Citus and stockext preloaded, database DB
#                                  with Citus on each; sets CITUS_PORTS
#                                  (coordinator first), CITUS_DATA
#   citus_add_worker I             adds worker I to the coordinator's cluster
#   citus_stop                     stops them (call it from an EXIT trap)
#   citus_on I SQL                 runs SQL in DB on node I (0: coordinator)
CITUS_PORTS=()
CITUS_DATA=()
CITUS_DB=

# Citus is not packaged by Debian: the source tarball and its build script
# come with the project's shared files, beside the checkout.
citus_build_script() {
	local d
	for d in "${STOCKEXT_CITUS_DIR:-}" "$SE_ROOT/../shared/citus"; do
		[ -n "$d" ] && [ -f "$d/build.sh" ] && { echo "$d/build.sh"; return 0; }
	done
	return 1
}

citus_install() {
	local script dir
	# test/run.sh may have started a build already: the same tree, so wait.
	while [ -z "${CITUS_PREBUILDING:-}" ] && [ -e "$SE_TMP/citus-prebuild.running" ]; do sleep 1; done
	script=$(citus_build_script) || { echo "no shared/citus/build.sh beside the checkout (set STOCKEXT_CITUS_DIR)"; return 1; }
	# One private tree per checkout, at a fixed path: build.sh keys its
	# cached build by the tree's library folder.
	dir=/tmp/stockext-citus-$(printf '%s' "$SE_ROOT" | md5sum | cut -c1-8)
	se_private_install "$dir/pg"
	# Citus builds with PGXS, whose headers pg_config finds beside the tree.
	rm -rf "$dir/pg/usr/include/postgresql"
	mkdir -p "$dir/pg/usr/include"
	cp -a /usr/include/postgresql "$dir/pg/usr/include/"
	CITUS_BUILD_DIR=$dir/build PG_CONFIG=$SE_BIN/pg_config bash "$script" >"$dir/build.out" 2>&1 \
		|| { tail -5 "$dir/build.out"; return 1; }
	chmod -R a+rX "$dir/pg"
}

citus_start() {
	local dir=$1 n=$2 i port data
	CITUS_DB=$3
	for ((i = 0; i <= n; i++)); do
		port=$(se_free_port)
		data=$dir/node$i
		CITUS_DATA+=("$data")
		CITUS_PORTS+=("$port")
		se_init_cluster "$data" "$dir/sock$i" "$port" "$CITUS_DB"
		# Citus must be loaded first; it opens connections between nodes
		# on 127.0.0.1 with trust authentication.
		cat >>"$data/postgresql.conf" <<-CONF
			shared_preload_libraries = 'citus,stockext,pg_cron'
			max_connections = 200
			wal_level = logical
		CONF
		se_start_cluster "$data" "$dir/node$i.log"
		citus_psql "$i" postgres -c "CREATE DATABASE $CITUS_DB" >/dev/null || return 1
		citus_on "$i" "CREATE EXTENSION citus" >/dev/null || return 1
	done
	citus_on 0 "SELECT citus_set_coordinator_host('127.0.0.1', ${CITUS_PORTS[0]})" >/dev/null
}

citus_add_worker() {
	citus_on 0 "SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[$1]})" >/dev/null
}

citus_stop() {
	local d
	for d in "${CITUS_DATA[@]}"; do se_stop_cluster "$d"; done
}

citus_psql() {
	local i=$1 db=$2
	shift 2
	"$SE_BIN/psql" -X -q -At -h 127.0.0.1 -p "${CITUS_PORTS[i]}" -U postgres -d "$db" -v ON_ERROR_STOP=1 "$@"
}

citus_on() {
	citus_psql "$1" "$CITUS_DB" -c "$2"
}
