#!/bin/bash
# web-memory: what websocket clients can make the server hold is bounded
# (see web-memory.mjs): the live view of a mount, flooded with snapshot
# requests by clients that never read, stays within its per-client and
# total bounds, turns away clients beyond its cap with 503, and gives the
# memory back when they go. Memory is the daemon's RSS from /proc; the
# release build runs here, since the sanitizers' allocator keeps what is
# freed in quarantine. Then `tracefs serve` of a 1,000,000-event trace:
# 20 tabs that seek all over it share SQLite's memory (each used to cache
# up to 64 MiB of the trace), and give it back when they go.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"

TRACEFS=$BUILD/tracefs
mkdir -p "$T/src" "$T/mnt"
port=$(free_port)
"$TRACEFS" mount --ws "127.0.0.1:$port" --db "$T/trace.db" "$T/src" "$T/mnt" 2>"$T/mount.err"
url=$(printed_url "$T/mount.err")
pid=$(ss -Htlnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -n 1)
pid=${pid#pid=}
[ -n "$pid" ] || fail "no process listens on port $port"
# A tree whose snapshot is about half a megabyte.
python3 -c '
import os, sys
for d in range(100):
    os.mkdir("%s/dir-%03d" % (sys.argv[1], d))
    for f in range(100):
        open("%s/dir-%03d/file-with-a-name-%03d" % (sys.argv[1], d, f), "w").close()
' "$T/mnt"

run_node web-memory live "$url" "$pid" 10100 || fail "memory bounds of the live view"
"$TRACEFS" umount "$T/mnt"

"$TOOLS/make_trace" big "$T/big.db" 2000000
port=$(free_port)
"$TRACEFS" serve "$T/big.db" --ws "127.0.0.1:$port" 2>"$T/serve.err" &
CLEANUP_PIDS=$!
url=$(printed_url "$T/serve.err")
run_node web-memory serve "$url" "$CLEANUP_PIDS" || fail "memory bounds of serve"
echo "web-memory: ok"
