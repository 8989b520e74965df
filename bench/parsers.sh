#!/usr/bin/env bash
# bench/parsers.sh: the provider parsers on 50,000-bar replies, each parsed
# 9 times over in one process as the worker does (median CPU time), and the
# process's peak memory.  No server needed (bench/run.sh parsers also works).
# Side by side per provider: json-c's parse of the whole body into one tree
# (the route the parsers took before series were streamed: provider.h) and
# the full parse.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -std=gnu99 -O2 -I"$root/src" -o "$tmp/parse_bench" "$root/bench/parse_bench.c" \
	"$root"/src/provider_*.c "$root/src/bar.c" -ljson-c -lcurl -lm
printf '%-13s %9s %9s %11s %11s %10s %10s\n' provider "json-c ms" "parse ms" "parse/json" "bars/s" "json-c MB" "parse MB"
for p in twelvedata alphavantage yahoo; do
	python3 "$root/test/fixtures/generate.py" big "$p" 50000 >"$tmp/$p.json"
	read -r json _ jkb < <("$tmp/parse_bench" "$p" "$tmp/$p.json" json)
	read -r parse bars pkb < <("$tmp/parse_bench" "$p" "$tmp/$p.json" parse)
	awk -v p="$p" -v j="$json" -v q="$parse" -v b="$bars" -v jk="$jkb" -v pk="$pkb" 'BEGIN {
		printf "%-13s %9.1f %9.1f %11.2f %11.0f %10.1f %10.1f\n", p, j, q, q / j, b / (q / 1000), jk / 1024, pk / 1024 }'
done
