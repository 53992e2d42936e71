#!/bin/bash
# Two mounts of one remote (two working copies, two daemons) editing
# different files and the same file at the same time: both converge to
# the same tree, and every line written on either side is in one of the
# versions (the same file's two edits as the file and a conflict copy).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/store.sh"

R=$T/remote.git
seed_remote "$R"
for side in 1 2; do
	"$TRACEFS" store clone "$R" "$T/wc$side" >/dev/null
	mkdir "$T/mnt$side"
	"$TRACEFS" mount --store --no-ws --db "$T/trace$side.db" -o store_quiet=200,store_sync=1 \
		"$T/wc$side" "$T/mnt$side" 2>"$T/mount$side.log" || fail "mount $side: $(cat "$T/mount$side.log")"
done

# Different files, then the same file, on both sides at once.
echo "only on side 1" >"$T/mnt1/one.txt" &
echo "only on side 2" >"$T/mnt2/two.txt" &
wait
printf 'side 1 line A\nside 1 line B\n' >"$T/mnt1/README" &
printf 'side 2 line A\n' >"$T/mnt2/README" &
wait

converged() {
	manifest "$T/mnt1" >"$T/m1" && manifest "$T/mnt2" >"$T/m2" && cmp -s "$T/m1" "$T/m2" &&
		grep -q one.txt "$T/m1" && grep -q two.txt "$T/m1" &&
		cat "$T"/mnt1/README* | grep -q "side 1 line B" &&
		cat "$T"/mnt1/README* | grep -q "side 2 line A"
}
await 120 "both mounts converged" converged || {
	diff "$T/m1" "$T/m2" >&2
	store_fail "the two mounts did not converge"
}
note "files now: $(sed -E 's/ (file|link) .*//' "$T/m1" | tr '\n' ',')"
"$TRACEFS" umount "$T/mnt1"
"$TRACEFS" umount "$T/mnt2"
assert_eq "$(git -C "$T/wc1" rev-parse HEAD^{tree})" "$(git -C "$T/wc2" rev-parse HEAD^{tree})" \
	"the two working copies' trees"
assert_eq "$(git -C "$R" rev-parse main^{tree})" "$(git -C "$T/wc1" rev-parse HEAD^{tree})" \
	"the remote's tree"
for line in "only on side 1" "only on side 2" "side 1 line A" "side 1 line B" "side 2 line A"; do
	git -C "$R" grep -q -F "$line" main || fail "'$line' is not in the remote"
done
echo "store-two-mounts: ok"
