#!/usr/bin/env bash
# bench/rollup_month.sh: a calendar-month rollup's incremental refresh after
# 1% new bars vs its full recompute, side by side in one run.
#
# SYMBOLS (10) x BARS (200,000) one-minute bars from 2023-01-02, one width:
# 1 month in America/New_York with the metrics volatility and
# high_low_times.  After the full recompute, 1% more bars are appended
# (the last BARS/100 minutes of each symbol) and refreshed twice over the
# same data: as refresh_rollups() does it now (the new bars merged into the
# stored states of the current month) and as it did before (the current
# month re-aggregated from the ticks: the same invalidations with since
# NULL, which makes the refresh recompute).  The two results are compared
# column by column and state by state.  Then a tenth as many bars again
# (0.1%) are appended and merged.  Before the first refresh, the live view
# (stockext.bars_1mo_live) is read the same two ways.
set -euo pipefail
DB=bench_rollup_month
SYMBOLS=${SYMBOLS:-10}
BARS=${BARS:-200000}
APPEND=$((BARS / 100))
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
q() { psql -X -q -v ON_ERROR_STOP=1 -d $DB -tA "$@"; }

q >/dev/null <<SQL
CREATE EXTENSION stockext;
SELECT stockext.create_partitions('2023-01-01', '2024-01-01') > 0 AS partitions;
SELECT stockext.drop_rollup(w) FROM unnest(ARRAY['30 minutes', '1 hour', '1 day']::interval[]) w;
CREATE FUNCTION ms(sql text) RETURNS numeric LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE sql;
    RETURN round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1);
END \$\$;
CREATE FUNCTION bars_sql(lo int, hi int) RETURNS text LANGUAGE sql
RETURN format(\$q\$
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'SYM' || s, timestamptz '2023-01-02 00:00+00' + i * interval '1 minute', '1 minute',
       p, p + 0.5, p - 0.5, p + 0.1, 100 + (i::bigint * 7919) %% 1000, 'bench'
FROM generate_series(0, $((SYMBOLS - 1))) s, generate_series(%s, %s) i,
     LATERAL (SELECT 100 + 10 * sin(i / 5000.0) + (i %% 13) * 0.01 + s AS p) x\$q\$, lo, hi);
SQL
echo "== loading $SYMBOLS symbols x $BARS one-minute bars"
q -c "SELECT ms(bars_sql(0, $((BARS - APPEND - 1))))" >/dev/null
q -c "SELECT stockext.add_rollup('bars_1mo', '1 month', time_zone => 'America/New_York', metrics => ARRAY['volatility', 'high_low_times'])" >/dev/null
q -c "VACUUM ANALYZE stockext.ticks"
full=$(q -c "SELECT ms('SELECT stockext.rebuild_rollups(''1 month'')')")
rows=$(q -c "SELECT count(*) FROM stockext.bars_1mo")
q -c "SELECT ms(bars_sql($((BARS - APPEND)), $((BARS - 1))))" >/dev/null
q -c "CREATE TABLE keys AS SELECT * FROM stockext.rollup_invalidations"
pending=$(q -c "SELECT count(DISTINCT (symbol, bucket)) FROM keys")
# A read of the live view while the keys are pending, merged and (since
# NULL) recomputed as before.
live=$(q -c "SELECT ms('SELECT count(*) FROM stockext.bars_1mo_live')")
q -c "UPDATE stockext.rollup_invalidations SET since = NULL"
live_before=$(q -c "SELECT ms('SELECT count(*) FROM stockext.bars_1mo_live')")
q -c "DELETE FROM stockext.rollup_invalidations" -c "INSERT INTO stockext.rollup_invalidations SELECT * FROM keys"
merged=$(q -c "SELECT ms('SELECT stockext.refresh_rollups()')")
q -c "CREATE TABLE merged AS SELECT * FROM stockext.bars_1mo"
# The same buckets again, recomputed from the ticks as before the merge.
q -c "INSERT INTO stockext.rollup_invalidations (symbol, width, bucket) SELECT symbol, width, bucket FROM keys"
recomputed=$(q -c "SELECT ms('SELECT stockext.refresh_rollups()')")
differ=$(q -c "SELECT count(*) FROM merged m FULL JOIN stockext.bars_1mo r USING (symbol, bucket)
               WHERE (m.open, m.high, m.low, m.close, m.volume, m.vwap, m.avg_close, m.n, m.candle)
                     IS DISTINCT FROM (r.open, r.high, r.low, r.close, r.volume, r.vwap, r.avg_close, r.n, r.candle)
                  OR NOT m.returns OPERATOR(stockext.=) r.returns")
share=$(q -c "SELECT round(100.0 * count(*) FILTER (WHERE stockext.rollup_bucket(ts, '1 month', '2000-01-03', 'America/New_York')
                                                   = (SELECT max(bucket) FROM stockext.bars_1mo)) / count(*), 1)
              FROM stockext.ticks")
# A tenth as many bars again: the merge's cost follows the bars appended.
q -c "SELECT ms(bars_sql($BARS, $((BARS + APPEND / 10 - 1))))" >/dev/null
tenth=$(q -c "SELECT ms('SELECT stockext.refresh_rollups()')")
pct() { python3 -c "print(f'{100.0 * $1 / $2:.2f}%')"; }
cat <<OUT
rollup_month: $SYMBOLS symbols x $BARS one-minute bars -> $rows monthly rows (America/New_York, volatility and high/low times)
  full recompute of the month width                   ${full} ms
  refresh after appending 1%, merged into the states  ${merged} ms   ($(pct "$merged" "$full") of full; ${pending} buckets invalidated)
  the same refresh, the buckets recomputed (before)   ${recomputed} ms   ($(pct "$recomputed" "$full") of full; the current month holds ${share}% of the bars)
  merged / recomputed                                 $(python3 -c "print(f'{$merged / $recomputed:.3f}')")
  live view read with the 10 buckets pending, merged  ${live} ms
  the same read, the buckets recomputed (before)      ${live_before} ms
  refresh after appending 0.1% more, merged           ${tenth} ms   ($(pct "$tenth" "$full") of full)
  rows where merged and recomputed differ             ${differ}
OUT
psql -X -q -d postgres -c "DROP DATABASE $DB"
