#!/usr/bin/env bash
# bench/run.sh NAME...: runs bench/NAME.sh for each NAME (all of them when
# none is given) against a throwaway cluster set up like the test harness's,
# with settings fit for measuring (fsync off, larger buffers).  Benchmarks
# print ratios measured side by side in one run, never absolute targets.
set -uo pipefail
. "$(dirname "$0")/../test/lib.sh"

se_throwaway_cluster bench "fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = '2GB'
work_mem = '256MB'
maintenance_work_mem = '1GB'
max_wal_size = '20GB'
jit = off"

names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(ls "$SE_ROOT"/bench/*.sh | xargs -n1 basename | sed 's/\.sh$//' | grep -v '^run$'))
status=0
for n in "${names[@]}"; do
	se_log "bench $n"
	bash "$SE_ROOT/bench/$n.sh" || status=1
done
exit $status
