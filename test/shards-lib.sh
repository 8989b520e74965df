# test/shards-lib.sh: the postgres_fdw sharded layout of the README's
# "Scaling out", shared by test/suites/60-shards and bench/shards.sh.
# Source it after test/lib.sh with SE_BIN, SE_RUNAS, SE_SYS_BIN set.
#
#   shards_start_nodes DIR N [CONF]  starts N data nodes (clusters under DIR,
#                                    free loopback ports, CONF appended to
#                                    postgresql.conf), stockext created in
#                                    their postgres database; sets
#                                    SHARD_PORTS and SHARD_DATA
#   shards_stop_nodes                stops them (call it from an EXIT trap)
#   shards_layout                    on the coordinator (PGHOST, PGPORT,
#                                    PGDATABASE): a postgres_fdw server per
#                                    node and schema shard with ticks and
#                                    rollups hash-partitioned on symbol, one
#                                    foreign partition per node
SHARD_PORTS=()
SHARD_DATA=()

shards_start_nodes() {
	local dir=$1 n=$2 conf=${3:-} i port data
	for ((i = 1; i <= n; i++)); do
		port=$(se_free_port)
		data=$dir/node$i
		SHARD_DATA+=("$data")
		SHARD_PORTS+=("$port")
		se_init_cluster "$data" "$dir/sock$i" "$port" postgres
		[ -z "$conf" ] || printf '%s\n' "$conf" >>"$data/postgresql.conf"
		se_start_cluster "$data" "$dir/node$i.log"
		"$SE_SYS_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
			-c "CREATE EXTENSION stockext" >/dev/null || se_die "CREATE EXTENSION stockext on node $i failed"
	done
}

shards_stop_nodes() {
	local d
	for d in "${SHARD_DATA[@]}"; do se_stop_cluster "$d"; done
}

# The layout.  Each node keeps a complete stockext (ticks range-partitioned
# by month, triggers, rollups, refresh); the coordinator routes by symbol.
shards_layout() {
	local n=${#SHARD_PORTS[@]} i sql
	sql="SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS stockext;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
DROP SCHEMA IF EXISTS shard CASCADE;
CREATE SCHEMA shard;
CREATE TABLE shard.ticks (LIKE stockext.ticks INCLUDING DEFAULTS) PARTITION BY HASH (symbol);
CREATE TABLE shard.rollups (LIKE stockext.rollups) PARTITION BY HASH (symbol);"
	for ((i = 1; i <= n; i++)); do
		sql+="
DROP SERVER IF EXISTS node$i CASCADE;
CREATE SERVER node$i FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port '${SHARD_PORTS[i - 1]}', dbname 'postgres',
             extensions 'stockext', async_capable 'true', fetch_size '10000', batch_size '1000');
CREATE USER MAPPING FOR CURRENT_USER SERVER node$i OPTIONS (user 'postgres');
CREATE FOREIGN TABLE shard.ticks_$i PARTITION OF shard.ticks
    FOR VALUES WITH (MODULUS $n, REMAINDER $((i - 1))) SERVER node$i
    OPTIONS (schema_name 'stockext', table_name 'ticks');
CREATE FOREIGN TABLE shard.rollups_$i PARTITION OF shard.rollups
    FOR VALUES WITH (MODULUS $n, REMAINDER $((i - 1))) SERVER node$i
    OPTIONS (schema_name 'stockext', table_name 'rollups');"
	done
	"$SE_SYS_BIN/psql" -X -q -v ON_ERROR_STOP=1 -c "$sql" >/dev/null
}

# shards_on I SQL: runs SQL on data node I (1-based).
shards_on() {
	"$SE_SYS_BIN/psql" -X -q -At -h 127.0.0.1 -p "${SHARD_PORTS[$1 - 1]}" -U postgres -d postgres \
		-v ON_ERROR_STOP=1 -c "$2"
}
