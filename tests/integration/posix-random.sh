#!/bin/bash
# Random operations through the mount are the backing file system's: four
# processes at once run tests/tools/posix_random (creates, links of
# symlinks, names replaced by other files, renames, lutimes, l*xattr, ...)
# from a printed seed, natively and through tracefs, and the results and the
# final trees must be identical. Rounds with new seeds run until the time
# budget is spent. Every other round the daemon gets a descriptor limit of
# 64, far below the number of objects it sees, so it must reopen what it let
# go, and inode numbers of removed objects are given to new ones while their
# nodes hold no descriptor (seed 215122422 found a node reused for such a
# new directory: the kernel, which still held the old one, failed its mkdir
# with ESTALE).
#
#   POSIX_RANDOM_SEED=N     start from this seed (default: from the clock)
#   POSIX_RANDOM_BUDGET=S   seconds of rounds (default 45; at least two run)
#   POSIX_RANDOM_FD_LIMIT=N descriptor limit of every other round (default 64;
#                           none: no limited rounds)
source "$(dirname "$0")/../lib/common.sh"

RANDOM_TOOL=$TOOLS/posix_random
[ -x "$RANDOM_TOOL" ] || fail "$RANDOM_TOOL is not built (make $RANDOM_TOOL)"
[ -x "$TRACEFS" ] || fail "$TRACEFS is not built"
seed=${POSIX_RANDOM_SEED:-$(date +%s%N | cut -c8-16)}
budget=${POSIX_RANDOM_BUDGET:-45}
OPS=5000
FD_LIMIT=${POSIX_RANDOM_FD_LIMIT:-64}

# round SEED FD_LIMIT — one native run and one through a fresh mount.
round() {
	local seed=$1 limit=$2 dir=$T/$1
	mkdir "$dir" "$dir/native" "$dir/src" "$dir/mnt"
	"$RANDOM_TOOL" --ops $OPS "$seed" "$dir/native" >"$dir/native.out" ||
		fail "seed $seed: native run failed"
	if [ "$limit" = none ]; then
		"$TRACEFS" mount --no-ws --db "$dir/trace.db" "$dir/src" "$dir/mnt" 2>"$dir/daemon.log" ||
			fail "seed $seed: mount failed: $(cat "$dir/daemon.log")"
	else
		# The daemon keeps the limit it is given (it raises the soft
		# limit only up to the hard one).
		prlimit --nofile=$limit:$limit "$TRACEFS" mount --no-ws --db "$dir/trace.db" \
			"$dir/src" "$dir/mnt" 2>"$dir/daemon.log" ||
			fail "seed $seed: mount failed: $(cat "$dir/daemon.log")"
	fi
	"$RANDOM_TOOL" --ops $OPS "$seed" "$dir/mnt" >"$dir/mnt.out" ||
		fail "seed $seed: run through the mount failed"
	"$TRACEFS" umount "$dir/mnt"
	if ! diff -u --label native "$dir/native.out" --label tracefs "$dir/mnt.out" >"$dir/diff"; then
		head -n 60 "$dir/diff" >&2
		fail "seed $seed (descriptor limit $limit): $(grep -c '^-[^-]' "$dir/diff") of" \
			"$(wc -l <"$dir/native.out") lines differ; reproduce with" \
			"POSIX_RANDOM_SEED=$seed tests/run integration/posix-random"
	fi
	local objects
	objects=$(grep -c ' tree ' "$dir/native.out")
	note "seed $seed, descriptor limit $limit: $(wc -l <"$dir/native.out") lines identical" \
		"($objects objects at the end), $(sql "$dir/trace.db" 'SELECT count(*) FROM trace') events"
	rm -rf "$dir"
}

start=$SECONDS
rounds=0
while :; do
	if [ $((rounds % 2)) -eq 0 ]; then limit=none; else limit=$FD_LIMIT; fi
	round $((seed + rounds)) $limit
	rounds=$((rounds + 1))
	[ $((SECONDS - start)) -lt "$budget" ] || [ $rounds -lt 2 ] || break
done
note "$rounds rounds of 4 x $OPS operations in $((SECONDS - start)) s, all identical"
