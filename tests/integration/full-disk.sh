#!/bin/bash
# The trace on a full file system: every operation through the mount keeps
# working, and the trace records that events were lost (a `lost` marker row
# and meta.events_lost), never silently. The live stream, read all along by
# a websocket client, shows only events the trace keeps: no seq of a
# transaction that was rolled back (and whose seq numbers the trace reuses).
source "$(dirname "$0")/../lib/common.sh"

mkdir -p "$T/src" "$T/mnt" "$T/small"
mount -t tmpfs -o size=768k tmpfs "$T/small" || { echo "cannot mount a tmpfs"; exit 77; }
"$TRACEFS" mount --ws 127.0.0.1:0 --db "$T/small/trace.db" "$T/src" "$T/mnt" 2>"$T/mount.err"
address=$(grep -o 'http://127\.0\.0\.1:[0-9]*/?token=[0-9a-f]*' "$T/mount.err") ||
	fail "no live view address printed: $(cat "$T/mount.err")"
address=${address#http://}
"$TOOLS/ws_client" --save "$T/stream" "ws://${address%%/*}/events${address#*/}" >"$T/ws.out" 2>"$T/ws.err" &
ws_pid=$!
CLEANUP_PIDS=$ws_pid
client_connected() { grep -q connected "$T/ws.out"; }
wait_for 20 client_connected || fail "the websocket client did not connect: $(cat "$T/ws.err")"

# Far more events than 1 MiB of trace can hold.
for d in $(seq 1 80); do
	mkdir "$T/mnt/d$d"
	for f in $(seq 1 100); do
		echo "$d/$f" >"$T/mnt/d$d/f$f"
	done
	cat "$T/mnt/d$d"/* >/dev/null
done
"$TRACEFS" umount "$T/mnt"
wait "$ws_pid" || fail "the websocket client: $(cat "$T/ws.err")"

assert_eq "$(ls "$T/src" | wc -l)" 80 "directories created through the mount"
assert_eq "$(cat "$T/src/d80/f100")" "80/100" "data written through the mount"
assert_eq "$(cat "$T/src"/d*/f* | wc -l)" 8000 "files written through the mount"
df -h "$T/small" | tail -n 1 | sed 's/^/  /'
assert_eq "$(sql "$T/small/trace.db" 'PRAGMA integrity_check')" ok "integrity of the full trace"
lost=$(sql "$T/small/trace.db" "SELECT value FROM meta WHERE key = 'events_lost'")
markers=$(sql "$T/small/trace.db" "SELECT count(*), sum(bytes) FROM trace WHERE op = 'lost'")
written=$(sql "$T/small/trace.db" "SELECT count(*) FROM trace WHERE op <> 'lost'")
note "events written: $written, lost: $lost, lost markers (count|sum): $markers"
[ "${lost:-0}" -gt 0 ] || fail "no loss recorded in meta.events_lost"
[ "${markers%%|*}" -gt 0 ] || fail "no 'lost' marker row"

# Every event the stream showed is in the trace with that seq.
grep -ao '"seq":[0-9]*,"ts_ns":[0-9]*,"dur_ns":[0-9]*,"op":"[a-z_]*","path":"[^"]*"' "$T/stream" |
	sed 's/"seq":\([0-9]*\),"ts_ns":\([0-9]*\),"dur_ns":[0-9]*,"op":"\([a-z_]*\)","path":"\(.*\)"/\1|\2|\3|\4/' |
	sort -u >"$T/streamed"
sql "$T/small/trace.db" "SELECT seq, ts_ns, op, path FROM trace" | sort -u >"$T/kept"
streamed=$(wc -l <"$T/streamed")
not_kept=$(comm -23 "$T/streamed" "$T/kept" | wc -l)
note "events streamed: $streamed, of them not in the trace: $not_kept"
[ "$streamed" -gt 1000 ] || fail "the stream showed only $streamed events"
[ "$not_kept" -eq 0 ] || fail "the stream showed $not_kept events the trace does not keep, e.g. $(comm -23 "$T/streamed" "$T/kept" | head -n 3 | tr '\n' ' ')"
echo "full-disk: ok"
