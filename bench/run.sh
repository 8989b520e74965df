#!/usr/bin/env bash
# bench/run.sh NAME...: runs bench/NAME.sh for each NAME (all of them when
# none is given) against a throwaway cluster set up like the test harness's,
# with settings fit for measuring (fsync off, larger buffers).  Benchmarks
# print ratios measured side by side in one run, never absolute targets.
set -uo pipefail
. "$(dirname "$0")/../test/lib.sh"

SE_RUNAS=$(se_server_user)
SE_TMP=$(mktemp -d /tmp/stockext-bench.XXXXXX)
chmod 755 "$SE_TMP"
SE_DATA=$SE_TMP/data
cleanup() {
	trap - EXIT INT TERM
	se_stop_cluster "$SE_DATA"
	rm -rf "$SE_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

se_install_deps
se_build
se_private_install "$SE_TMP/pg"
SE_PORT=$(se_free_port)
se_init_cluster "$SE_DATA" "$SE_TMP/sock" "$SE_PORT" postgres
cat >>"$SE_DATA/postgresql.conf" <<CONF
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = '2GB'
work_mem = '256MB'
maintenance_work_mem = '1GB'
max_wal_size = '20GB'
jit = off
CONF
se_start_cluster "$SE_DATA" "$SE_TMP/server.log"
export PGHOST=127.0.0.1 PGPORT=$SE_PORT PGUSER=postgres PGDATABASE=postgres
export SE_ROOT SE_TMP SE_DATA SE_BIN SE_RUNAS SE_SYS_BIN

names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(ls "$SE_ROOT"/bench/*.sh | xargs -n1 basename | sed 's/\.sh$//' | grep -v '^run$'))
status=0
for n in "${names[@]}"; do
	se_log "bench $n"
	bash "$SE_ROOT/bench/$n.sh" || status=1
done
exit $status
