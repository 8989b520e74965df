#!/usr/bin/env bash
# bench/adjust.sh: reading adjusted bars against reading stockext.ticks
# directly, side by side in one run, on SYMBOLS x BARS one-minute bars
# (10 x 1,000,000 by default) with two splits and a quarterly dividend per
# symbol in stockext.corporate_actions.
#
#   ticks          the columns of ticks_adjusted read from stockext.ticks
#   ticks x const  the same multiplied by constants, as the view multiplies
#                  by its factors: the arithmetic alone, without a look-up
#   ticks_adjusted the same from the view: OHLC and volume split-adjusted,
#                  adj_close adjusted for splits and dividends
#   bars none      stockext.bars(symbol, '1 minute', ...) per symbol, as traded
#   bars all       the same with adjust => 'all'
#
# Every query consumes every column, sum() of OHLCV and max() of the sixth
# (close from ticks, adj_close from the view), so that neither side can
# drop a column: count(*) would read no adjusted column at all (the planner
# leaves a view's unused expressions out), and a second sum(close) on the
# ticks side would be computed once, five aggregates against the view's
# six.  Each figure is the best of REPS (3) runs.  Target:
# ticks_adjusted / ticks and bars all / bars none <= 1.3.
set -euo pipefail
SYMBOLS=${SYMBOLS:-10}
BARS=${BARS:-1000000}
REPS=${REPS:-3}

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# ms QUERY: the best of REPS runs in milliseconds (psql's \timing).
ms() {
	local i
	for ((i = 0; i < REPS; i++)); do printf '\\timing on\n%s;\n' "$1"; done |
		psql -X -q -At -v ON_ERROR_STOP=1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | head -1 | awk '{ printf "%d", $1 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rows() { printf '%-58s %10d\n' "$1" "$2"; }

START="2020-01-01 00:00+00"
echo "== building $SYMBOLS x $BARS one-minute bars"
q "CREATE EXTENSION IF NOT EXISTS stockext"
q "SELECT stockext.create_partitions('$START', timestamptz '$START' + $BARS * interval '1 minute')" >/dev/null
# The rollup and alert triggers are not what is measured: off for the load.
psql -X -q -v ON_ERROR_STOP=1 <<SQL
SET session_replication_role = replica;
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'SYM' || s, timestamptz '$START' + g * interval '1 minute', '1 minute',
       p, p + 0.5, p - 0.5, p + 0.1, 1000 + g % 997, 'bench'
FROM generate_series(1, $SYMBOLS) s, generate_series(0, $BARS - 1) g,
     LATERAL (SELECT 100 + 10 * sin(g / 1000.0 + s) AS p) x;
INSERT INTO stockext.corporate_actions (symbol, ex_date, kind, split_from, split_to, cash_amount, currency)
SELECT 'SYM' || s, (timestamptz '$START' + $BARS * interval '1 minute' * k / 3)::date, 'split', 1, 1 + k, NULL, NULL
FROM generate_series(1, $SYMBOLS) s, generate_series(1, 2) k
UNION ALL
SELECT 'SYM' || s, d::date, 'dividend', NULL, NULL, 0.25, 'USD'
FROM generate_series(1, $SYMBOLS) s,
     generate_series(timestamptz '$START' + interval '45 days', timestamptz '$START' + $BARS * interval '1 minute', interval '3 months') d;
VACUUM ANALYZE stockext.ticks, stockext.corporate_actions;
SQL
n=$(q "SELECT count(*) FROM stockext.ticks WHERE source = 'bench'")
actions=$(q "SELECT count(*) FROM stockext.corporate_actions")
STOP="timestamptz '$START' + $BARS * interval '1 minute'"
COLS="sum(open) + sum(high) + sum(low) + sum(close) + sum(volume)"

echo "== $n bars, $actions actions"
ticks=$(ms "SELECT $COLS + max(close) FROM stockext.ticks")
consts=$(ms "SELECT sum(open * 0.5::float8) + sum(high * 0.5::float8) + sum(low * 0.5::float8)
                    + sum(close * 0.5::float8) + sum((volume / 0.5::float8)::bigint) + max(close * 0.25::float8)
             FROM stockext.ticks")
adjusted=$(ms "SELECT $COLS + max(adj_close) FROM stockext.ticks_adjusted")
bars_none=$(ms "SELECT $COLS FROM generate_series(1, $SYMBOLS) s,
                stockext.bars('SYM' || s, '1 minute', '$START', $STOP) b")
bars_all=$(ms "SELECT $COLS FROM generate_series(1, $SYMBOLS) s,
               stockext.bars('SYM' || s, '1 minute', '$START', $STOP, adjust => 'all') b")

printf '%-58s %10s\n' "query" "ms"
rows "stockext.ticks ($n bars)" "$ticks"
rows "stockext.ticks multiplied by constants" "$consts"
rows "stockext.ticks_adjusted" "$adjusted"
rows "stockext.bars(..., '1 minute', ...) per symbol" "$bars_none"
rows "stockext.bars(..., '1 minute', ..., adjust => 'all')" "$bars_all"
echo
echo "ratios (target <= 1.3)"
echo "  ticks_adjusted / ticks            $(ratio "$adjusted" "$ticks")"
echo "  (ticks x constants / ticks         $(ratio "$consts" "$ticks"): the arithmetic alone)"
echo "  bars all / ticks                  $(ratio "$bars_all" "$ticks")"
echo "  bars all / bars none              $(ratio "$bars_all" "$bars_none")"
q "DELETE FROM stockext.corporate_actions"
psql -X -q -v ON_ERROR_STOP=1 -c "SET session_replication_role = replica; DELETE FROM stockext.ticks WHERE source = 'bench'"
