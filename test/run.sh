#!/usr/bin/env bash
# test/run.sh: the README's test command (make test).
#
# Installs missing Debian packages, builds with -Werror, installs stockext
# into a private copy of PostgreSQL, starts a throwaway cluster on a free
# port of 127.0.0.1 and a unix socket in a temporary folder, runs every suite
# in test/suites/ in name order, stops and removes the cluster whatever
# happens, and ends with "N passed, N failed".
#
# A suite is an executable script that prints one line per check:
# "ok - what" or "not ok - what".  It gets the cluster through PGHOST,
# PGPORT, PGUSER and the SE_* variables below.  A suite that exits non-zero
# without reporting a failure counts as one failed check.
#
#   SUITES="regress parsers" make test    run only suites whose names match
#   REGRESS="ticks" make test              run only these pg_regress files
#   make test SANITIZE=1                   the extension under ASan and UBSan
set -uo pipefail
. "$(dirname "$0")/lib.sh"

se_throwaway_cluster test

# selected NAME: whether SUITES (all when empty) selects suite NAME.
selected() { [ -z "${SUITES:-}" ] || grep -qE "$(echo "$SUITES" | tr ' ' '|')" <<<"$1"; }

# Citus (65-citus, plain runs only) takes minutes to compile on a fresh
# machine: its build starts now, beside the suites before it, which mostly
# wait on the server; the suite waits for it (test/citus-lib.sh).
if [ "${SANITIZE:-}" != 1 ] && selected 65-citus; then
	touch "$SE_TMP/citus-prebuild.running"
	( . "$SE_ROOT/test/citus-lib.sh"
	  CITUS_PREBUILDING=1 citus_install >"$SE_TMP/citus-prebuild.out" 2>&1
	  rm -f "$SE_TMP/citus-prebuild.running" ) &
fi

passed=0
failed=0
for suite in "$SE_ROOT"/test/suites/*; do
	[ -x "$suite" ] || continue
	name=$(basename "$suite")
	selected "$name" || continue
	se_log "suite $name"
	out=$SE_TMP/suite-$name.out
	began=$SECONDS
	"$suite" 2>&1 | tee "$out"
	status=${PIPESTATUS[0]}
	se_log "suite $name took $((SECONDS - began)) s"
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - suite $name exited with status $status"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done

# Under SANITIZE=1: the shared server must really run with both runtimes
# (an LD_PRELOAD lost on the way would pass everything silently), and any
# ASan or UBSan report is a failure, from the shared cluster or from one a
# suite started under $SE_TMP (each has a "sanitizer" folder beside its log).
if [ "${SANITIZE:-}" = 1 ]; then
	maps=/proc/$(head -1 "$SE_DATA/postmaster.pid" 2>/dev/null)/maps
	if grep -q '/libasan\.so' "$maps" 2>/dev/null && grep -q '/libubsan\.so' "$maps"; then
		echo "ok - the server runs with the ASan and UBSan runtimes"
		passed=$((passed + 1))
	else
		echo "not ok - the server runs without the ASan or UBSan runtime ($maps)"
		failed=$((failed + 1))
	fi
	reports=0
	while IFS= read -r dir; do
		se_sanitizer_reports "$dir" || reports=1
	done < <(find "$SE_TMP" -type d -name sanitizer)
	if [ "$reports" -eq 0 ]; then
		echo "ok - no sanitizer report"
		passed=$((passed + 1))
	else
		echo "not ok - sanitizer reports (above)"
		failed=$((failed + 1))
	fi
fi

# A server that restarted behind our back is a failure even if every check passed.
if [ ! -f "$SE_LOG" ]; then
	echo "not ok - the server log $SE_LOG is missing"
	failed=$((failed + 1))
elif grep -q 'terminated by signal' "$SE_LOG"; then
	echo "not ok - the server log shows a backend terminated by a signal"
	grep -B2 -A5 'terminated by signal' "$SE_LOG" | head -40
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
