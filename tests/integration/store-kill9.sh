#!/bin/bash
# kill -9 of a store's daemon between a write and its commit: after the
# remount the change is committed and pushed, and both the working copy
# and the remote pass git fsck.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/store.sh"

seed_remote "$T/remote.git"
"$TRACEFS" store clone "$T/remote.git" "$T/wc" >/dev/null
mkdir "$T/mnt"
# A quiet time of an hour: nothing is committed before the kill.
"$TRACEFS" mount -f --store --no-ws --db "$T/trace1.db" -o store_quiet=3600000,store_sync=0 \
	"$T/wc" "$T/mnt" 2>"$T/daemon.log" &
daemon=$!
wait_for 30 is_mounted "$T/mnt" || fail "mount did not come up: $(cat "$T/daemon.log")"
echo "written before the kill" >"$T/mnt/unsaved.txt"
mkdir "$T/mnt/newdir"
echo "in a new directory" >"$T/mnt/newdir/file"
rm "$T/mnt/README"
[ -f "$T/wc/unsaved.txt" ] || fail "the write did not reach the working copy"
assert_eq "$(git -C "$T/wc" log --oneline | wc -l)" 1 "commits before the kill"
kill -9 $daemon
wait $daemon 2>/dev/null || true
fusermount3 -uz "$T/mnt"

"$TRACEFS" mount --store --no-ws --db "$T/trace2.db" -o store_sync=0 "$T/wc" "$T/mnt" 2>"$T/mount.log" ||
	fail "remount: $(cat "$T/mount.log")"
await 120 "the change in the remote" remote_has "$T/remote.git" newdir/file "in a new directory" ||
	store_fail "the change never reached the remote"
remote_has "$T/remote.git" unsaved.txt "written before the kill" || store_fail "unsaved.txt is not committed"
remote_lacks "$T/remote.git" README || store_fail "the removal is not committed"
note "commit after the remount: $(git -C "$T/remote.git" log -1 --format=%s main)"
assert_eq "$(git -C "$T/wc" status --porcelain)" "" "the working copy after the remount"
"$TRACEFS" umount "$T/mnt"
# The commit at mount is in the second trace.
assert_eq "$(sql "$T/trace2.db" "SELECT count(*) FROM commits WHERE files = 3")" 1 \
	"the leftover commit in the trace"
git -C "$T/wc" fsck --no-progress --strict 2>&1 | grep -v '^dangling' | grep . && fail "git fsck of the working copy"
git -C "$T/remote.git" fsck --no-progress --strict 2>&1 | grep -v '^dangling' | grep . && fail "git fsck of the remote"
echo "store-kill9: ok"
