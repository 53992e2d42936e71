#!/bin/bash
# The original second workload (unpack wget, sh configure, make, make
# distclean, rm -rf) through the versioned store: the same files extracted
# as natively (names, sizes, nanosecond mtimes: make reruns nothing), the
# build succeeds and distclean removes what it built, and the
# store commits as it goes: the sources reach the remote while the tree
# exists, its removal afterwards, and the remote ends as it began. (The
# build is not run natively too: wget-workload compares a build natively
# and traced, and two builds do not fit the time limit on a busy machine.)
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/store.sh"

tarball=$ROOT/../shared/workloads/wget-1.21.3.tar.gz
[ -f "$tarball" ] || { echo "no $tarball"; exit 77; }
# The optimised daemon: this workload runs for minutes, and the sanitizer
# build is covered by the other store tests.
TRACEFS=$BUILD/tracefs
WORKLOAD=$ROOT/tests/lib/second-workload

R=$T/remote.git M=$T/mnt
seed_remote "$R"
"$TRACEFS" store clone "$R" "$T/wc" >/dev/null
mkdir -p "$M" "$T/native" "$T/logs-native" "$T/logs-store"
tar xzf "$tarball" -C "$T/native"
(cd "$T/native/wget-1.21.3" && find . -printf '%p %y %s %T@\n' | LC_ALL=C sort) >"$T/logs-native/extracted"

"$TRACEFS" mount --store --no-ws --db "$T/trace.db" -o store_sync=0 "$T/wc" "$M" \
	2>"$T/mount.log" || fail "mount: $(cat "$T/mount.log")"
mkdir "$M/work"
start=$SECONDS
"$WORKLOAD" "$tarball" "$M/work" "$T/logs-store" ||
	fail "the workload failed through the store: $(tail -n 20 "$T"/logs-store/*.log)"
store_s=$((SECONDS - start))
note "the workload through the store: ${store_s}s"
await 120 "the removal committed" synced "$R" || store_fail "the end of the workload never reached the remote"
"$TRACEFS" umount "$M"

diff "$T/logs-native/extracted" "$T/logs-store/extracted" >"$T/diff" ||
	fail "extracted files differ from native: $(head -n 20 "$T/diff")"
note "extracted: $(wc -l <"$T/logs-store/extracted") entries, same as native"
grep -qx './src/wget f' "$T/logs-store/built" || fail "make built no src/wget"
grep -E '\.o f$|^\./src/wget f$|^\./Makefile f$' "$T/logs-store/distcleaned" &&
	fail "make distclean left build products"
if grep -E '(aclocal|autoconf|automake|autoheader)( |$)' "$T/logs-store/make.log" >"$T/rerun"; then
	fail "make reran autotools through the store: $(head -n 5 "$T/rerun")"
fi
# The sources were committed while the tree existed, and its removal after.
[ -n "$(git -C "$R" log -1 --format=%H main -- work/wget-1.21.3/src/main.c)" ] ||
	store_fail "the remote never held the unpacked sources"
remote_lacks "$R" work/wget-1.21.3/src/main.c || store_fail "the removal did not reach the remote"
assert_eq "$(git -C "$R" ls-tree --name-only main | tr '\n' ' ')" "README bin readme-link " \
	"the remote's tree after the workload"
commits=$(sql "$T/trace.db" "SELECT count(*) FROM commits WHERE result = 0")
[ "$commits" -ge 2 ] || fail "only $commits commits for a whole build"
note "$commits commits, $(sql "$T/trace.db" "SELECT sum(files) FROM commits") files committed in all"
git -C "$R" fsck --strict 2>&1 >/dev/null | grep . && fail "the remote fails git fsck"
echo "store-wget: ok"
