#!/bin/bash
# The store synchronises in the background: upstream changes appear in the
# mount; offline, commits queue locally and `store status` counts them;
# back online they are pushed; the same file changed on both sides keeps
# both versions (a conflict copy named after the other host), and the user
# is told by `store status`. Another machine's working copy is plain git.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/store.sh"

R=$T/remote.git M=$T/mnt
seed_remote "$R"
"$TRACEFS" store clone "$R" "$T/wc" >/dev/null
git clone -q "$R" "$T/other"
mkdir "$M"
"$TRACEFS" mount --store --no-ws --db "$T/trace.db" -o store_quiet=200,store_sync=1 \
	"$T/wc" "$M" 2>"$T/mount.log" || fail "mount: $(cat "$T/mount.log")"

# Upstream work appears in the mount; work in the mount reaches upstream.
echo "from the other machine" >"$T/other/other.txt"
git -C "$T/other" add other.txt
git -C "$T/other" commit -qm "other: add other.txt"
git -C "$T/other" push -q origin main
echo "from the mount" >"$M/mine.txt"
await 60 "upstream's file in the mount" grep -qs "from the other machine" "$M/other.txt" ||
	store_fail "upstream's change never reached the mount"
await 60 "the mount's file upstream" remote_has "$R" mine.txt "from the mount" ||
	store_fail "the mount's change never reached the remote"

# Offline: the remote goes away; commits queue.
mv "$R" "$T/remote.off"
echo "offline edit" >"$M/README"
await 60 "the offline commit" sh -c "git -C '$T/wc' show HEAD:README | grep -q offline" ||
	store_fail "the offline change was not committed"
status=$("$TRACEFS" store status "$T/wc")
[[ $status == *"not pushed: 1 commit"* ]] || fail "status while offline: $status"
note "offline status: $(grep 'not pushed' <<<"$status")"

# Meanwhile the other machine changes the same file.
git -C "$T/other" pull -q "$T/remote.off" main
echo "the other machine's edit" >"$T/other/README"
git -C "$T/other" commit -qam "other: edit README"
git -C "$T/other" push -q "$T/remote.off" main

# Back online: merged, both versions kept, pushed.
mv "$T/remote.off" "$R"
copy="README (conflict from seedhost $(date +%Y-%m-%d))"
await 60 "the conflict copy in the remote" remote_has "$R" "$copy" "the other machine's edit" ||
	store_fail "the conflict was not resolved into the remote"
remote_has "$R" README "offline edit" || store_fail "our version of README is lost"
wait_for 30 grep -qs "the other machine's edit" "$M/$copy" || fail "the conflict copy is not in the mount"
assert_eq "$(cat "$M/README")" "offline edit" "README in the mount"
status=$("$TRACEFS" store status "$T/wc")
[[ $status == *"not pushed: 0 commits"* ]] || fail "status once back online: $status"
[[ $status != *"last sync failed"* ]] || fail "status once back online: $status"
[[ $status == *"$copy"* ]] || fail "status does not tell of the conflict: $status"
note "status: $(grep -A1 conflicts <<<"$status" | tail -n 1)"
"$TRACEFS" umount "$M"

# Both sides converge.
git -C "$T/other" pull -q
manifest "$T/other" >"$T/other.manifest"
manifest "$T/wc" >"$T/wc.manifest"
diff "$T/other.manifest" "$T/wc.manifest" >&2 || fail "the two working copies differ"
merges=$(sql "$T/trace.db" "SELECT count(*) FROM commits WHERE files = 1 AND path = '/' AND result = 0")
[ "$merges" -ge 1 ] || fail "the merge is not in the trace"
echo "store-sync: ok"
