#!/usr/bin/env bash
# bench/rollup_month.sh: a calendar-month rollup's incremental refresh after
# 1% new bars vs its full recompute, side by side in one run.
#
# 10 symbols x 200,000 one-minute bars (2023-01-02 to 2023-05-20), one width:
# 1 month in America/New_York with the metrics volatility and
# high_low_times.  The refresh re-aggregates every invalidated bucket from
# the ticks, so appending 1% (the last 2,000 minutes of each symbol)
# re-reads the whole current month: the ratio is the current month's share
# of the history, not the 1% appended (see bench/README.md).
set -euo pipefail
DB=bench_rollup_month
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
q() { psql -X -q -v ON_ERROR_STOP=1 -d $DB -tA "$@"; }

q <<'SQL'
CREATE EXTENSION stockext;
SELECT stockext.create_partitions('2023-01-01', '2023-07-01') > 0 AS partitions;
SELECT stockext.drop_rollup(w) FROM unnest(ARRAY['30 minutes', '1 hour', '1 day']::interval[]) w;
CREATE FUNCTION ms(sql text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE sql;
    RETURN round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1);
END $$;
CREATE FUNCTION bars_sql(lo int, hi int) RETURNS text LANGUAGE sql
RETURN format($q$
INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source)
SELECT 'SYM' || s, timestamptz '2023-01-02 00:00+00' + i * interval '1 minute', '1 minute',
       p, p + 0.5, p - 0.5, p + 0.1, 100 + (i::bigint * 7919) %% 1000, 'bench'
FROM generate_series(0, 9) s, generate_series(%s, %s) i,
     LATERAL (SELECT 100 + 10 * sin(i / 5000.0) + (i %% 13) * 0.01 + s AS p) x$q$, lo, hi);
SQL
echo "== loading 10 symbols x 200,000 one-minute bars"
q -c "SELECT ms(bars_sql(0, 197999))" >/dev/null
q -c "SELECT stockext.add_rollup('bars_1mo', '1 month', time_zone => 'America/New_York', metrics => ARRAY['volatility', 'high_low_times'])" >/dev/null
q -c "VACUUM ANALYZE stockext.ticks"
full=$(q -c "SELECT ms('SELECT stockext.rebuild_rollups(''1 month'')')")
rows=$(q -c "SELECT count(*) FROM stockext.bars_1mo")
q -c "SELECT ms(bars_sql(198000, 199999))" >/dev/null
pending=$(q -c "SELECT count(DISTINCT (symbol, bucket)) FROM stockext.rollup_invalidations")
append=$(q -c "SELECT ms('SELECT stockext.refresh_rollups()')")
share=$(q -c "SELECT round(100.0 * count(*) FILTER (WHERE ts >= '2023-05-01 04:00+00') / count(*), 1) FROM stockext.ticks")
pct() { python3 -c "print(f'{100.0 * $1 / $2:.2f}%')"; }
cat <<OUT
rollup_month: 10 symbols x 200,000 one-minute bars -> $rows monthly rows (America/New_York, volatility and high/low times)
  full recompute of the month width          ${full} ms
  refresh after appending 1% new bars        ${append} ms   ($(pct "$append" "$full") of full; ${pending} buckets invalidated, the current month holds ${share}% of the bars)
OUT
psql -X -q -d postgres -c "DROP DATABASE $DB"
