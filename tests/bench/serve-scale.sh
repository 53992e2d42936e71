#!/bin/bash
# serve-scale — `tracefs serve` on a big trace (figures, not a test): a
# trace of EVENTS events (default 10,000,000) from tests/tools/make_trace
# (kept in CACHE_DIR for the next run, never committed), then the time the
# index takes to build (the first connection waits for it), a new
# connection, seeks to 1/4, 1/2, 3/4 and the end and 10 random points, a
# ping on another connection during a seek, and the server's peak RSS; then
# the next serve of the trace, whose index is loaded from the cache file the
# first one kept: the time from its start until it says the index is ready.
# Prints two lines "serve-scale: …". Goals: seek <= 0.5 s anywhere, a ping
# never waits behind another client's seek.
#
# usage: serve-scale.sh [EVENTS] [CACHE_DIR]   (BUILD as for tests/run)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
EVENTS=${1:-10000000}
CACHE=${2:-$BUILD/bench/cache}
mkdir -p "$CACHE"
trace=$CACHE/serve-$EVENTS.db
if [ ! -f "$trace" ]; then
	"$BUILD/tools/make_trace" big "$trace.tmp" "$EVENTS" >/dev/null
	mv "$trace.tmp" "$trace"
fi
rm -f "$trace.index" # the first serve builds the index (and keeps it)
log=$(mktemp)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BUILD/tracefs" serve "$trace" --ws "127.0.0.1:$port" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$log"' EXIT
for ((i = 0; i < 200; i++)); do
	grep -q 'http://' "$log" && break
	sleep 0.05
done
url=$(grep -o 'http://[^ ]*' "$log") || { echo "serve-scale: serve did not start: $(cat "$log")"; exit 1; }
node "$ROOT/tests/bench/serve-scale.mjs" "$url" "$pid" "$EVENTS"
kill $pid && wait $pid 2>/dev/null || true

# The next serve: how long after its start its stderr says the index is loaded.
started=$(date +%s%N)
"$BUILD/tracefs" serve "$trace" --ws "127.0.0.1:$port" 2>"$log" &
pid=$!
for ((i = 0; i < 3000; i++)); do
	grep -q 'the index of .* was' "$log" && break
	sleep 0.01
done
ready=$(($(date +%s%N) - started))
grep -q 'was loaded from' "$log" || { echo "serve-scale: the next serve did not load the index: $(cat "$log")"; exit 1; }
printf 'serve-scale: %s events, the next serve: its index loaded from the cache file %.2f s after the start (%s bytes)\n' \
	"$EVENTS" "$(echo "$ready / 1000000000" | bc -l)" "$(stat -c %s "$trace.index")"
