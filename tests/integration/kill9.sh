#!/bin/bash
# kill -9 of the daemon in the middle of a write-heavy loop: the trace still
# opens, passes integrity_check, holds a gap-free prefix of the events up to
# its last commit, and the backing files hold the data written before.
source "$(dirname "$0")/../lib/common.sh"

mkdir -p "$T/src" "$T/mnt"
"$TRACEFS" mount -f --db "$T/trace.db" "$T/src" "$T/mnt" 2>"$T/daemon.log" &
daemon=$!
wait_for 10 is_mounted "$T/mnt" || fail "mount did not come up: $(cat "$T/daemon.log")"

# Writes files f1, f2, ... each with its own name as content, until killed.
(
	i=0
	while :; do
		i=$((i + 1))
		echo "content of f$i" >"$T/mnt/f$i" || exit 0
	done
) 2>/dev/null &
writer=$!
CLEANUP_PIDS="$writer"
# Let several commits happen (the recorder commits at least every 250 ms).
wait_for 20 test -e "$T/src/f3000" || fail "writer too slow"
kill -9 $daemon
wait $daemon 2>/dev/null || true
wait $writer 2>/dev/null || true
fusermount3 -uz "$T/mnt"

written=$(ls "$T/src" | wc -l)
note "files written before the kill: $written"
assert_eq "$(sql "$T/trace.db" 'PRAGMA integrity_check')" ok "integrity after kill -9"
read -r count min max <<<"$(sql "$T/trace.db" 'SELECT count(*), min(seq), max(seq) FROM trace' | tr '|' ' ')"
note "events in the trace: $count (seq $min..$max)"
[ "$count" -gt 1000 ] || fail "only $count events survived; commits are not happening"
assert_eq "$min" 1 "first seq"
assert_eq "$max" "$count" "seq has gaps"
# Every file created according to the trace exists with its content.
sql "$T/trace.db" "SELECT substr(path, 2) FROM trace WHERE op = 'create' AND result = 0" >"$T/created"
created=$(wc -l <"$T/created")
[ "$created" -gt 100 ] || fail "only $created creates in the trace"
while read -r name; do
	[ -f "$T/src/$name" ] || fail "trace says $name was created, backing dir lacks it"
done <"$T/created"
# The data: every complete file has exactly its content.
last=$(sql "$T/trace.db" "SELECT max(CAST(substr(path, 3) AS INTEGER)) FROM trace WHERE op = 'release'")
for i in 1 $((last / 2)) $last; do
	assert_eq "$(cat "$T/src/f$i")" "content of f$i" "data of f$i"
done
note "creates recorded: $created of $written files; trace holds a consistent prefix"
echo "kill9: ok"
