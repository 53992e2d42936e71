#!/bin/bash
# A tree with more objects than the daemon may hold descriptors: the daemon
# runs with a descriptor limit of 1024 and the tree, made natively, has
# 5,000 files, 100 directories and 100 symlinks. `find` and `ls -lR`
# through the mount succeed and print exactly what they print natively; no
# operation fails with EMFILE; and while the kernel still caches every one
# of those inodes the daemon holds fewer descriptors than the limit.
source "$(dirname "$0")/../lib/common.sh"

[ -x "$TRACEFS" ] || fail "$TRACEFS is not built"
LIMIT=1024
DIRS=100
FILES_PER_DIR=50

mkdir -p "$T/src" "$T/mnt"
(
	cd "$T/src"
	for d in $(seq -w 1 $DIRS); do
		mkdir "d$d"
		(cd "d$d" && touch $(seq -f "f%02g" 1 $FILES_PER_DIR) && ln -s f01 link)
		echo "contents of d$d" >"d$d/f01"
	done
)
objects=$(find "$T/src" -mindepth 1 | wc -l)
note "$objects objects made natively; the daemon's descriptor limit is $LIMIT"
[ "$objects" -gt $((LIMIT * 4)) ] || fail "the tree is not big enough"

listing() { # DIR COMMAND... — the output of COMMAND run in DIR
	local dir=$1
	shift
	(cd "$dir" && "$@")
}

# walk PREFIX — mounts with the daemon started through PREFIX and walks.
walk() {
	local PREFIX=$1
	rm -f "$T/trace.db"
	# shellcheck disable=SC2086
	$PREFIX prlimit --nofile=$LIMIT:$LIMIT "$TRACEFS" mount -f --no-ws --db "$T/trace.db" \
		"$T/src" "$T/mnt" 2>"$T/daemon.log" &
	daemon=$!
	wait_for 10 is_mounted "$T/mnt" || fail "mount did not come up: $(cat "$T/daemon.log")"
	# A daemon allowed to raise its hard limit (CAP_SYS_RESOURCE) is lowered
	# again: it must then let go of descriptors when it runs out.
	limit_now=$(awk '/^Max open files/ { print $4 }' "/proc/$daemon/limits")
	if [ "$limit_now" != $LIMIT ]; then
		note "the daemon raised its limit to $limit_now; setting it back to $LIMIT"
		prlimit --pid "$daemon" --nofile=$LIMIT:$LIMIT
	fi

	listing "$T/src" find . >"$T/find.native"
	listing "$T/mnt" find . >"$T/find.mnt" 2>"$T/find.err" || fail "find through the mount failed: $(head -3 "$T/find.err")"
	diff -u "$T/find.native" "$T/find.mnt" >&2 || fail "find lists differently through the mount"
	note "find: $(wc -l <"$T/find.mnt") lines, identical"

	LC_ALL=C listing "$T/src" ls -lR --time-style=full-iso . >"$T/ls.native"
	LC_ALL=C listing "$T/mnt" ls -lR --time-style=full-iso . >"$T/ls.mnt" 2>"$T/ls.err" ||
		fail "ls -lR through the mount failed: $(head -3 "$T/ls.err")"
	diff -u "$T/ls.native" "$T/ls.mnt" >&2 || fail "ls -lR lists differently through the mount"
	note "ls -lR: $(wc -l <"$T/ls.mnt") lines, identical"

	# Every file read back through the mount after the walks (its descriptor was
	# let go long ago): the contents are those of the right file.
	for d in $(seq -w 1 $DIRS); do
		[ "$(cat "$T/mnt/d$d/link")" == "contents of d$d" ] || fail "d$d/link reads wrongly"
	done
	note "$DIRS files read through symlinks whose descriptors had been let go"

	held=$(find "/proc/$daemon/fd" -mindepth 1 | wc -l)
	note "the daemon holds $held descriptors"
	[ "$held" -lt $LIMIT ] || fail "the daemon holds $held descriptors, not fewer than $LIMIT"

	"$TRACEFS" umount "$T/mnt"
	wait "$daemon" || fail "the daemon exited with an error: $(cat "$T/daemon.log")"
	emfile=$(sql "$T/trace.db" "SELECT count(*) FROM trace WHERE result IN (-24, -23)")
	note "$(sql "$T/trace.db" "SELECT count(*) FROM trace") events; $emfile failed with EMFILE or ENFILE"
	assert_eq "$emfile" 0 "operations that failed with EMFILE or ENFILE"
}

# Descriptors let go are opened again by file handle (the daemon is root)...
walk ""
# ... or, without CAP_DAC_READ_SEARCH, by name, checked to be the same inode.
note "again without CAP_DAC_READ_SEARCH (no file handles):"
walk "setpriv --bounding-set=-dac_read_search"
