#!/bin/bash
# web-speed: the page's frame rate on a 20,000-node tree and whether it keeps
# up with 50,000 events a second (see web-speed.mjs), on synthetic traces
# served by `tracefs serve`. Prints "web-speed: fps=… at 20000 nodes; kept
# up with … events/s, lag … ms" for the bench. WEB_SPEED_MIN_FPS (default
# 30) is the frame rate it asserts.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
# A speed test measures the product: the optimised server, not the sanitizer
# build the other tests use (whose replay alone takes ~80% of a core at
# 50,000 events/s).
[ "$TRACEFS" = "$BUILD/tracefs-asan" ] && [ -x "$BUILD/tracefs" ] && TRACEFS=$BUILD/tracefs

# 100 directories of 199 files: 20,000 nodes and the root.
"$TOOLS/web_trace" tree "$T/tree.db" 100 199
"$TOOLS/web_trace" rate "$T/rate.db" 50000 10

p1=$(free_port)
"$TRACEFS" serve "$T/tree.db" --ws "127.0.0.1:$p1" 2>"$T/serve-tree.err" &
CLEANUP_PIDS=$!
p2=$(free_port)
"$TRACEFS" serve "$T/rate.db" --ws "127.0.0.1:$p2" 2>"$T/serve-rate.err" &
CLEANUP_PIDS="$CLEANUP_PIDS $!"
url1=$(printed_url "$T/serve-tree.err")
url2=$(printed_url "$T/serve-rate.err")

run_node web-speed "$url1" 20001 "$url2" 50000 10 "${WEB_SPEED_MIN_FPS:-30}" || fail "speed"
echo "web-speed: ok"
