#!/bin/bash
# The trace on a full file system: every operation through the mount keeps
# working, and the trace records that events were lost (a `lost` marker row
# and meta.events_lost), never silently.
source "$(dirname "$0")/../lib/common.sh"

mkdir -p "$T/src" "$T/mnt" "$T/small"
mount -t tmpfs -o size=768k tmpfs "$T/small" || { echo "cannot mount a tmpfs"; exit 77; }
"$TRACEFS" mount --db "$T/small/trace.db" "$T/src" "$T/mnt"

# Far more events than 1 MiB of trace can hold.
for d in $(seq 1 80); do
	mkdir "$T/mnt/d$d"
	for f in $(seq 1 100); do
		echo "$d/$f" >"$T/mnt/d$d/f$f"
	done
	cat "$T/mnt/d$d"/* >/dev/null
done
"$TRACEFS" umount "$T/mnt"

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
echo "full-disk: ok"
