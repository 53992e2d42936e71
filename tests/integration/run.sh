#!/bin/bash
# tracefs run: COMMAND's exit status comes back (or 128+signal), the mount
# is private to COMMAND (no other process sees it, nothing stays mounted),
# the working directory is seen through the mount, and a summary is printed.
source "$(dirname "$0")/../lib/common.sh"

mkdir -p "$T/dir"
echo old >"$T/dir/existing"
cd "$T/dir"

set +e
"$TRACEFS" run --db "$T/status.db" -- sh -c 'cat existing >/dev/null; exit 7' 2>"$T/summary"
rc=$?
set -e
assert_eq "$rc" 7 "exit status of COMMAND"
grep -q "sh exited with status 7" "$T/summary" || fail "summary: $(cat "$T/summary")"
grep -q "events in $T/status.db" "$T/summary" || fail "summary lacks the trace: $(cat "$T/summary")"
sed 's/^/  /' "$T/summary"
assert_eq "$(sql "$T/status.db" "SELECT count(*) FROM trace WHERE op = 'read' AND path = '/existing' AND comm = 'cat'")" 1 "read by cat traced"
assert_eq "$(sql "$T/status.db" 'PRAGMA integrity_check')" ok "trace integrity"

set +e
"$TRACEFS" run --db "$T/signal.db" -- sh -c 'kill -TERM $$' 2>/dev/null
rc=$?
"$TRACEFS" run --db "$T/missing.db" -- no-such-command-xyz 2>"$T/err"
rc_missing=$?
set -e
assert_eq "$rc" 143 "status of a COMMAND killed by SIGTERM"
assert_eq "$rc_missing" 127 "status of a missing COMMAND"
grep -q "cannot run no-such-command-xyz" "$T/err" || fail "message: $(cat "$T/err")"

# Private: while COMMAND runs, the directory is a mount point for it but not
# for anyone else; afterwards nothing is mounted anywhere.
mkfifo "$T/go" "$T/ready"
"$TRACEFS" run --db "$T/private.db" --dir "$T/dir" -- \
	sh -c "mountpoint -q . && echo mounted-inside >'$T/ready'; cat '$T/go' >/dev/null; echo new >created" \
	2>/dev/null &
runner=$!
assert_eq "$(cat "$T/ready")" mounted-inside "COMMAND sees the mount"
is_mounted "$T/dir" && fail "the mount is visible outside COMMAND's namespace"
mounted_here() { awk -v d="$T/dir" '$5 == d' /proc/self/mountinfo | grep -q .; }
mounted_here && fail "a mount on $T/dir is listed outside"
echo go >"$T/go"
wait $runner || fail "tracefs run failed"
assert_eq "$(cat "$T/dir/created")" new "file written by COMMAND"
mounted_here && fail "a mount stayed behind"
assert_eq "$(sql "$T/private.db" "SELECT count(*) FROM trace WHERE op = 'create' AND path = '/created'")" 1 "create traced"
# Ctrl-C (SIGINT to the whole foreground process group) stops COMMAND;
# tracefs outlives it, completes the trace and returns 130. Job control
# gives the job its own process group, as a terminal would.
mkfifo "$T/started"
set -m
"$TRACEFS" run --db "$T/ctrl-c.db" -- sh -c "echo up >'$T/started'; exec sleep 600" 2>"$T/ctrl-c.log" &
runner=$!
set +m
cat "$T/started" >/dev/null
kill -INT -- -"$runner"
set +e
wait $runner
rc=$?
set -e
assert_eq "$rc" 130 "status after Ctrl-C"
assert_eq "$(sql "$T/ctrl-c.db" 'PRAGMA integrity_check')" ok "trace integrity after Ctrl-C"
[ -n "$(sql "$T/ctrl-c.db" "SELECT value FROM meta WHERE key = 'end_ns'")" ] || fail "trace not completed after Ctrl-C"
# --report prints the analysis of the fresh trace after the summary.
"$TRACEFS" run --report --db "$T/report.db" -- sh -c 'for i in 1 2 3; do cat existing; done' >"$T/report.out" 2>&1
grep -q "Phases" "$T/report.out" || fail "no report after --report: $(tail -n 5 "$T/report.out")"
# --serve: the live view is up while COMMAND runs, at the address printed
# before it starts, and what COMMAND does reaches a websocket client.
"$TRACEFS" run --db "$T/serve.db" --ws 127.0.0.1:0 -- sh -c '
	i=0
	until grep -q "live view at" "$0"; do
		i=$((i + 1)) && [ $i -le 400 ] || exit 3
		sleep 0.05
	done
	url=$(grep -o "http://[^ ]*" "$0")
	mkdir served-dir
	address=${url#http://} # HOST:PORT/?token=HEX
	timeout 20 "$1" --until "\"path\":\"/served-dir\"" "ws://${address%%/*}/events${address#*/}"' \
	"$T/serve.err" "$TOOLS/ws_client" 2>"$T/serve.err" || fail "no live view during run --serve: $(cat "$T/serve.err")"
grep -q "live view at http://127.0.0.1:" "$T/serve.err" || fail "run --serve printed no address"
"$TRACEFS" run --help | grep -q "COMMAND" || fail "run --help"
echo "run: ok"
