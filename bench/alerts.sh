#!/usr/bin/env bash
# bench/alerts.sh: what alert rules cost the write path and what evaluating
# them costs.  Run with bench/run.sh alerts.
#
# 1. The queue trigger on the write path: stockext.ingest_simulated of
#    50,000 one-minute bars into an empty table, side by side, alternating,
#    with (a) no alert rule, (b) a rule watching another symbol (the trigger
#    runs and queues nothing), (c) a rule watching the symbol (every bar is
#    queued).  Best of ROUNDS.
# 2. Evaluation: stockext.evaluate_alerts() over the 50,000 queued bars of
#    (c), per bar, for a pct_change rule and an sma_cross(5, 20) rule.  The
#    bars are of 2025, history: these rules take them with on_history, and
#    a third (pct_change without it) measures skipping them as stale.
set -uo pipefail
ROUNDS=${ROUNDS:-3}
DB=stockext_bench_alerts
PSQL=("$SE_BIN/psql" -X -qAt -v ON_ERROR_STOP=1)
export PGOPTIONS="-c client_min_messages=warning"
q() { "${PSQL[@]}" -d "$DB" -c "$1"; }
qp() { "${PSQL[@]}" -d postgres -c "$1"; }
ms() { "${PSQL[@]}" -d "$DB" -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
calc() { awk "BEGIN { print $1 }"; }
min() { printf '%s\n' "$@" | sort -g | head -1; }

# No worker in the bench database: nothing evaluates behind our back.
qp "ALTER SYSTEM SET stockext.database_names = 'no_such_database'"
qp "SELECT pg_reload_conf()" >/dev/null
trap 'qp "ALTER SYSTEM RESET stockext.database_names"; qp "SELECT pg_reload_conf()" >/dev/null' EXIT
qp "DROP DATABASE IF EXISTS $DB"
qp "CREATE DATABASE $DB"
q "CREATE EXTENSION stockext"
q "SELECT stockext.create_partitions('2025-06-01', '2025-08-01')" >/dev/null
SIM="'SIM', '2025-06-02 14:00+00', '2025-06-02 14:00+00'::timestamptz + interval '50000 minutes', '1 minute', 0"
run() { # run RULE_SYMBOL: ms to ingest the 50,000 bars with that rule (none: no rule)
	q "TRUNCATE stockext.ticks, stockext.alert_queue, stockext.alerts; DELETE FROM stockext.alert_rules" >/dev/null
	[ "$1" != none ] && q "SELECT stockext.add_alert('pct_change', '$1', threshold => 1)" >/dev/null
	ms "SELECT stockext.ingest_simulated($SIM)"
}
run none >/dev/null	# warm-up
a=(); b=(); c=()
for _ in $(seq 1 "$ROUNDS"); do
	a+=("$(run none)"); b+=("$(run OTHER)"); c+=("$(run SIM)")
done
ta=$(min "${a[@]}"); tb=$(min "${b[@]}"); tc=$(min "${c[@]}")
queued=$(q "SELECT count(*) FROM stockext.alert_queue")
echo "write path, 50,000 bars: no rule ${ta} ms; rule on another symbol ${tb} ms (x$(calc "$tb / $ta")); rule on this symbol ${tc} ms (x$(calc "$tc / $ta"), $queued bars queued)"

evaluate() { # evaluate RULE_ARGS: per-bar evaluation time over the 50,000 queued bars
	q "DELETE FROM stockext.alert_rules; TRUNCATE stockext.alerts, stockext.alert_queue" >/dev/null
	q "SELECT stockext.add_alert($1)" >/dev/null
	q "INSERT INTO stockext.alert_queue SELECT symbol, resolution, ts FROM stockext.ticks WHERE symbol = 'SIM'"
	local t
	t=$(ms "SELECT stockext.evaluate_alerts()")
	echo "evaluate_alerts, $1: $t ms for 50,000 bars, $(calc "$t * 1000 / 50000") us per bar, $(q "SELECT count(*) FROM stockext.alerts") fired"
}
evaluate "'pct_change', 'SIM', threshold => 0.2, bars => 5, on_history => true"
evaluate "'sma_cross', 'SIM', bars => 5, slow => 20, on_history => true"
evaluate "'pct_change', 'SIM', threshold => 0.2, bars => 5"
qp "DROP DATABASE $DB"
