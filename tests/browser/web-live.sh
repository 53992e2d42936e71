#!/bin/bash
# web-live: `tracefs mount` serves the page and the live stream by default
# and prints its URL; the page follows the first workload (see
# web-live.mjs); the trace is complete afterwards.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/first-workload.sh"
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/src" "$T/mnt"
# No --ws: the default address (127.0.0.1:7681, or the next free port).
"$TRACEFS" mount --db "$T/trace.db" "$T/src" "$T/mnt" 2>"$T/mount.err"
url=$(printed_url "$T/mount.err")
note "page at $url"
case $url in "http://127.0.0.1:"*"/?token="*) ;; *) fail "not on 127.0.0.1 with a token: $url" ;; esac

run_node web-live "$url" "$T/mnt" || fail "the live page"

"$TRACEFS" umount "$T/mnt"
check_first_workload_trace "$T/trace.db"
assert_eq "$(sql "$T/trace.db" 'PRAGMA integrity_check')" ok "trace integrity"
echo "web-live: ok"
