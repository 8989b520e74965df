# test/mock.sh: start and stop the mock provider from a suite.  Source it:
#
#   . "$SE_ROOT/test/mock.sh"
#   mock_start "$tmpdir" [--hang SECONDS]   sets MOCK_PORT, MOCK_PID, MOCK_URL
#   ...  curl "$MOCK_URL/time_series?symbol=AAPL&interval=1min"
#   mock_stop                                (also safe to call twice)
#
# The mock listens on 127.0.0.1 on a free port that it picks itself.

mock_start() {
	local dir=$1
	shift
	rm -f "$dir/mock.port"
	python3 "$(dirname "${BASH_SOURCE[0]}")/mock_provider.py" --port-file "$dir/mock.port" "$@" \
		>/dev/null 2>"$dir/mock.err" &
	MOCK_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$dir/mock.port" ] && break
		kill -0 "$MOCK_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$dir/mock.port" ]; then
		cat "$dir/mock.err" >&2
		MOCK_PID=
		return 1
	fi
	MOCK_PORT=$(cat "$dir/mock.port")
	MOCK_URL=http://127.0.0.1:$MOCK_PORT
	export MOCK_PORT MOCK_PID MOCK_URL
}

mock_stop() {
	if [ -n "${MOCK_PID:-}" ]; then
		kill "$MOCK_PID" 2>/dev/null
		wait "$MOCK_PID" 2>/dev/null
		MOCK_PID=
	fi
}
