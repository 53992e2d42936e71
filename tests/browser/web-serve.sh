#!/bin/bash
# web-serve: `tracefs serve TRACE --ws ADDR:PORT` replays a recorded first
# workload to the page (play, pause, speed, seek; see web-serve.mjs), in the
# foreground until SIGTERM, which ends it cleanly; `mount --no-ws` serves
# nothing.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/first-workload.sh"
source "$(dirname "$0")/lib.sh"
# fontconfig (under cairo, for tracefs render) keeps its configuration until exit.
echo "leak:libfontconfig.so" >"$T/lsan.supp"
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0"

mkdir -p "$T/src" "$T/mnt"
"$TRACEFS" mount --no-ws --db "$T/trace.db" "$T/src" "$T/mnt" 2>"$T/mount.err"
grep -q 'http://' "$T/mount.err" && fail "--no-ws printed a URL: $(cat "$T/mount.err")"
first_workload "$T/mnt" 2
"$TRACEFS" umount "$T/mnt"
check_first_workload_trace "$T/trace.db"
sum=$(sha256sum <"$T/trace.db")

port=$(free_port)
"$TRACEFS" serve "$T/trace.db" --ws "127.0.0.1:$port" 2>"$T/serve.err" &
server=$!
CLEANUP_PIDS=$server
url=$(printed_url "$T/serve.err")
[[ $url =~ ^http://127\.0\.0\.1:$port/\?token=[0-9a-f]{32}$ ]] || fail "the URL printed by serve: $url"
kill -0 $server 2>/dev/null || fail "tracefs serve is not running in the foreground"

run_node web-serve "$url" "$T/trace.db" "$TRACEFS" "$T" || fail "the replay page"

kill -TERM $server
set +e
timeout 10 tail --pid=$server -f /dev/null
wait $server
rc=$?
set -e
CLEANUP_PIDS=
[ $rc -eq 0 ] || [ $rc -eq 143 ] || fail "tracefs serve exited with status $rc after SIGTERM: $(tail -n 5 "$T/serve.err")"
assert_eq "$(sha256sum <"$T/trace.db")" "$sum" "the trace after serving it (unchanged)"
echo "web-serve: ok"
