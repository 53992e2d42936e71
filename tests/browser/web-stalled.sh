#!/bin/bash
# web-stalled: a websocket client that stops reading does not slow the
# mount, is told what it missed and resynced; a page stays current (see
# web-stalled.mjs). WEB_STALLED_FILES sets the workload's size (10000).
# Up to seven pairs of runs and the far-behind ones: on a loaded machine
# that takes more than the default ten minutes.
# timeout: 1500
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/src" "$T/mnt"
port=$(free_port)
"$TRACEFS" mount --ws "127.0.0.1:$port" --db "$T/trace.db" "$T/src" "$T/mnt" 2>"$T/mount.err"
url=$(printed_url "$T/mount.err")
daemon=$(pgrep -n -f -- "$T/src $T/mnt\$") || fail "no daemon serving $T/mnt"

run_node web-stalled "$url" "$T/mnt" "${WEB_STALLED_FILES:-10000}" "$daemon" || fail "the stalled client"

"$TRACEFS" umount "$T/mnt"
assert_eq "$(sql "$T/trace.db" 'PRAGMA integrity_check')" ok "trace integrity"
lost=$(sql "$T/trace.db" "SELECT count(*) FROM trace WHERE op = 'lost'")
assert_eq "$lost" 0 "events lost by the recorder"
# Three rounds with a stalled client at least, up to seven on a loaded
# machine (web-stalled.mjs): each made its /with-ROUND and its files.
rounds=$(sql "$T/trace.db" "SELECT count(*) FROM trace WHERE op = 'mkdir' AND path GLOB '/with-[0-9]*' AND path NOT GLOB '/with-*/*' AND result = 0")
[ "$rounds" -ge 3 ] && [ "$rounds" -le 7 ] || fail "rounds with a stalled client in the trace: $rounds"
files=$(sql "$T/trace.db" "SELECT count(*) FROM trace WHERE op = 'create' AND path GLOB '/with-*/f*'")
assert_eq "$files" $((rounds * ${WEB_STALLED_FILES:-10000})) "creates recorded while a client stalled ($rounds rounds)"
echo "web-stalled: ok"
