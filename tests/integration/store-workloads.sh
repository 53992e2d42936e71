#!/bin/bash
# The original workloads through the versioned store behave as they do
# natively: the first workload's 88 mkdir and 88 rmdir are traced as on a
# plain mount (and, directories only, make no commit); a tar x through the
# store gives the same names, sizes and nanosecond mtimes as natively, and
# its commit changes none of them (make relies on them).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/store.sh"
source "$(dirname "$0")/../lib/first-workload.sh"

R=$T/remote.git M=$T/mnt
seed_remote "$R"
"$TRACEFS" store clone "$R" "$T/wc" >/dev/null
mkdir "$M" "$T/native"
mount_store() { # DB
	"$TRACEFS" mount --store --no-ws --db "$1" -o store_quiet=200,store_sync=0 \
		"$T/wc" "$M" 2>"$T/mount.log" || fail "mount: $(cat "$T/mount.log")"
}

mount_store "$T/first.db"
first_workload "$M"
"$TRACEFS" umount "$M"
check_first_workload_trace "$T/first.db"
assert_eq "$(sql "$T/first.db" "SELECT count(*) FROM commits")" 0 \
	"commits for the first workload (directories only)"
assert_eq "$(remote_commits "$R")" 1 "commits in the remote after the first workload"

mount_store "$T/tar.db"

members="wget-1.21.3/src wget-1.21.3/doc wget-1.21.3/Makefile.in wget-1.21.3/configure"
tar xzf /work/shared/workloads/wget-1.21.3.tar.gz -C "$T/native" $members
tar xzf /work/shared/workloads/wget-1.21.3.tar.gz -C "$M" $members
# (wget-1.21.3 itself is no member here: tar makes it, at its own time.)
stamp() { (cd "$1" && find wget-1.21.3 -mindepth 1 -printf '%p %s %T@ %m\n' | LC_ALL=C sort); }
await 120 "tar x in the remote" remote_has "$R" wget-1.21.3/configure || store_fail "tar x never reached the remote"
"$TRACEFS" umount "$M"
stamp "$T/native" >"$T/native.stamp"
stamp "$T/wc" >"$T/store.stamp"
diff "$T/native.stamp" "$T/store.stamp" >&2 || fail "names, sizes, mtimes or modes differ from native"
note "tar x: $(wc -l <"$T/store.stamp") entries with the same sizes, ns mtimes and modes as natively"

echo "store-workloads: ok"
