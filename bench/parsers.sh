#!/usr/bin/env bash
# bench/parsers.sh: the provider parsers on 50,000-bar replies, each parsed
# 9 times over in one process as the worker does (median CPU time).  No
# server needed (bench/run.sh parsers also works).  Side by side per
# provider: json-c's bare parse of the same bytes, the full parse, and the
# full parse with glibc's trim and mmap thresholds raised (see provider.h).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -std=gnu99 -O2 -I"$root/src" -o "$tmp/parse_bench" "$root/bench/parse_bench.c" \
	"$root"/src/provider_*.c "$root/src/bar.c" -ljson-c -lm
printf '%-13s %9s %9s %11s %11s %9s %11s %12s\n' provider "json-c ms" "parse ms" "parse/json" "bars/s" "trim ms" "bars/s trim" "default/trim"
for p in twelvedata alphavantage yahoo; do
	python3 "$root/test/fixtures/generate.py" big "$p" 50000 >"$tmp/$p.json"
	read -r json _ < <("$tmp/parse_bench" "$p" "$tmp/$p.json" json)
	read -r parse bars < <("$tmp/parse_bench" "$p" "$tmp/$p.json" parse)
	read -r trim _ < <("$tmp/parse_bench" "$p" "$tmp/$p.json" parse-trim)
	awk -v p="$p" -v j="$json" -v q="$parse" -v b="$bars" -v t="$trim" 'BEGIN {
		printf "%-13s %9.1f %9.1f %11.2f %11.0f %9.1f %11.0f %12.2f\n", p, j, q, q / j, b / (q / 1000), t, b / (t / 1000), q / t }'
done
