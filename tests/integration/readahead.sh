#!/bin/bash
# Readahead (tracefs/readahead.c): a mount reads ahead 1 MiB, one FUSE
# request's worth, instead of FUSE's default 128 KiB, so a sequential read
# reaches the daemon in 1 MiB requests; the same under `tracefs run`.
source "$(dirname "$0")/../lib/common.sh"

mkdir -p "$T/src" "$T/mnt"
head -c $((8 << 20)) /dev/urandom >"$T/src/big"

"$TRACEFS" mount --no-ws --db "$T/mount.db" "$T/src" "$T/mnt" >/dev/null
ra=$(cat "/sys/class/bdi/$(mountpoint -d "$T/mnt")/read_ahead_kb")
assert_eq "$ra" 1024 "read_ahead_kb of the mount"
# The mount's page cache is its own: this read reaches the daemon.
cmp "$T/mnt/big" "$T/src/big" || fail "content differs through the mount"
"$TRACEFS" umount "$T/mnt"
read -r reads largest <<<"$(sql "$T/mount.db" \
	"SELECT count(*), max(bytes) FROM trace WHERE op = 'read' AND path = '/big'" | tr '|' ' ')"
note "8 MiB read sequentially: $reads read requests, the largest $largest bytes"
[ "$largest" -gt $((128 << 10)) ] || fail "no read request was larger than 128 KiB ($largest)"
[ "$reads" -le 24 ] || fail "$reads read requests for 8 MiB (64 would mean 128 KiB each)"

# A mount point with a space, which /proc/self/mountinfo escapes.
mkdir "$T/mnt two"
"$TRACEFS" mount --no-ws --db "$T/space.db" "$T/src" "$T/mnt two" >/dev/null
ra=$(cat "/sys/class/bdi/$(mountpoint -d "$T/mnt two")/read_ahead_kb")
"$TRACEFS" umount "$T/mnt two"
assert_eq "$ra" 1024 "read_ahead_kb of a mount point with a space in its name"

cd "$T/src"
ra=$("$TRACEFS" run --db "$T/run.db" -- sh -c 'cat "/sys/class/bdi/$(mountpoint -d .)/read_ahead_kb"' 2>/dev/null)
assert_eq "$ra" 1024 "read_ahead_kb of the mount of tracefs run"
