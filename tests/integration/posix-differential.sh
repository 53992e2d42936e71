#!/bin/bash
# POSIX behaviour through the mount is the backing file system's: the same
# scripted system calls (tests/tools/posix_script.c) give byte-identical
# results in a native directory and through tracefs — as root, and as an
# unprivileged user on an allow_other mount. The trace records the calls.
source "$(dirname "$0")/../lib/common.sh"

SCRIPT=$TOOLS/posix_script
[ -x "$SCRIPT" ] || fail "$SCRIPT is not built (make $SCRIPT)"
[ -x "$TRACEFS" ] || fail "$TRACEFS is not built"
command -v getfattr >/dev/null || fail "getfattr is missing (Debian package attr; make deps)"
USER_UID=65534

# run_pair NAME [posix_script options] — runs the script natively in
# $T/NAME-native and through a mount of $T/NAME-src at $T/NAME-mnt, and
# compares. The mount options come from $MOUNT_OPTS, and $MOUNT_EXTRA (for
# tests that run this one over another transport); the daemon runs under
# the command in the array MOUNT_WRAPPER, if any.
run_pair() {
	local name=$1 rc
	shift
	mkdir "$T/$name-native" "$T/$name-src" "$T/$name-mnt"
	# shellcheck disable=SC2086
	"${MOUNT_WRAPPER[@]}" "$TRACEFS" mount $MOUNT_OPTS ${MOUNT_EXTRA:-} --db "$T/$name.db" "$T/$name-src" "$T/$name-mnt" ||
		fail "$name: mount failed"
	is_mounted "$T/$name-mnt" || fail "$name: not mounted after the mount command returned"

	set +e
	timeout 60 "$SCRIPT" "$@" "$T/$name-native" >"$T/$name-native.out" 2>"$T/$name-native.err"
	rc=$?
	set -e
	[ $rc -eq 0 ] || fail "$name: native run exit $rc: $(cat "$T/$name-native.err")"
	set +e
	timeout 60 "$SCRIPT" "$@" "$T/$name-mnt" >"$T/$name-mnt.out" 2>"$T/$name-mnt.err"
	rc=$?
	set -e
	note "$name: $(wc -l <"$T/$name-native.out") steps natively, exit $rc through the mount"
	if ! diff -u --label native "$T/$name-native.out" --label tracefs "$T/$name-mnt.out" >"$T/$name.diff"; then
		echo "--- $name: native and tracefs results differ:" >&2
		cat "$T/$name.diff" >&2
		[ -s "$T/$name-mnt.err" ] && echo "stderr through the mount: $(cat "$T/$name-mnt.err")" >&2
		fail "$name: $(grep -c '^[-+][^-+]' "$T/$name.diff") differing lines"
	fi
	[ $rc -eq 0 ] || fail "$name: run through the mount exit $rc: $(cat "$T/$name-mnt.err")"
	note "$name: output identical"
}

# listing DIR — every object below DIR, sorted, with type, mode, owner,
# link count, size (not for directories), symlink target and xattrs.
listing() {
	(
		cd "$1"
		find . -mindepth 1 \( -type d -printf '%y %m %U:%G %n %p\0' \) -o \
			\( -type l -printf '%y %m %U:%G %n %s %p -> %l\0' \) -o \
			-printf '%y %m %U:%G %n %s %p\0' | LC_ALL=C sort -z | tr '\0\n' '\n?'
		find . -print0 | LC_ALL=C sort -z | xargs -0 getfattr -h -d -m - -- 2>&1
	)
}

same_backing() { # NAME — the source directory ends like the native one
	local name=$1
	listing "$T/$name-native" >"$T/$name-native.list"
	listing "$T/$name-src" >"$T/$name-src.list"
	diff -u --label native "$T/$name-native.list" --label "tracefs source" "$T/$name-src.list" >&2 ||
		fail "$name: the backing directory differs from the native one"
	note "$name: backing directory matches the native one ($(wc -l <"$T/$name-src.list") lines)"
}

op_counts() { # DB
	sql "$1" "SELECT op || '=' || count(*) FROM trace GROUP BY op ORDER BY op" | tr '\n' ' '
}

# finish_pair NAME — unmounts NAME's mount, compares its backing directory
# with the native one, checks the trace's integrity and notes its events.
finish_pair() {
	local name=$1 db=$T/$1.db
	"$TRACEFS" umount "$T/$name-mnt"
	is_mounted "$T/$name-mnt" && fail "still mounted after tracefs umount"
	same_backing "$name"
	assert_eq "$(sql "$db" 'PRAGMA integrity_check')" ok "integrity of $db"
	note "$name: $(sql "$db" 'SELECT count(*) FROM trace') events: $(op_counts "$db")"
}

at_least() { # DB WHAT QUERY — QUERY counts rows; at least one
	local n
	n=$(sql "$1" "$3")
	[ "$n" -ge 1 ] || fail "trace $1: no $2"
}

# --- as root -------------------------------------------------------------
MOUNT_OPTS=""
MOUNT_WRAPPER=()
run_pair root
finish_pair root
db=$T/root.db
at_least "$db" "rename /r_a -> /r_b" \
	"SELECT count(*) FROM trace WHERE op = 'rename' AND path = '/r_a' AND path2 = '/r_b' AND result = 0"
at_least "$db" "RENAME_EXCHANGE /r_b <-> /r_e" \
	"SELECT count(*) FROM trace WHERE op = 'rename' AND path = '/r_b' AND path2 = '/r_e' AND result = 0"
at_least "$db" "link /l1 -> /l2" \
	"SELECT count(*) FROM trace WHERE op = 'link' AND path = '/l1' AND path2 = '/l2' AND result = 0"
at_least "$db" "symlink /s1" "SELECT count(*) FROM trace WHERE op = 'symlink' AND path = '/s1' AND result = 0"
at_least "$db" "readlink /s1" "SELECT count(*) FROM trace WHERE op = 'readlink' AND path = '/s1'"
at_least "$db" "mknod /fifo" "SELECT count(*) FROM trace WHERE op = 'mknod' AND path = '/fifo' AND result = 0"
at_least "$db" "setxattr /x1" "SELECT count(*) FROM trace WHERE op = 'setxattr' AND path = '/x1' AND result = 0"
at_least "$db" "failed setxattr XATTR_CREATE on /x1 (EEXIST)" \
	"SELECT count(*) FROM trace WHERE op = 'setxattr' AND path = '/x1' AND result = -17"
at_least "$db" "getxattr /x1" "SELECT count(*) FROM trace WHERE op = 'getxattr' AND path = '/x1'"
at_least "$db" "listxattr /x1" "SELECT count(*) FROM trace WHERE op = 'listxattr' AND path = '/x1'"
at_least "$db" "removexattr /x1" "SELECT count(*) FROM trace WHERE op = 'removexattr' AND path = '/x1'"
at_least "$db" "fallocate /fa" "SELECT count(*) FROM trace WHERE op = 'fallocate' AND path = '/fa'"
at_least "$db" "copy_file_range /cf_src" \
	"SELECT count(*) FROM trace WHERE op = 'copy_file_range' AND path = '/cf_src'"
at_least "$db" "lseek /big" "SELECT count(*) FROM trace WHERE op = 'lseek' AND path = '/big'"
at_least "$db" "write of 'tail' at 5 GiB in /big" \
	"SELECT count(*) FROM trace WHERE op = 'write' AND path = '/big' AND offset = 5368709120 AND bytes = 4"
at_least "$db" "setattr /m (chmod/chown)" "SELECT count(*) FROM trace WHERE op = 'setattr' AND path = '/m'"
at_least "$db" "unlink /l1" "SELECT count(*) FROM trace WHERE op = 'unlink' AND path = '/l1' AND result = 0"
at_least "$db" "failed rmdir /ne (ENOTEMPTY)" \
	"SELECT count(*) FROM trace WHERE op = 'rmdir' AND path = '/ne' AND result = -39"
at_least "$db" "event on the name with a newline" \
	"SELECT count(*) FROM trace WHERE path = '/new' || char(10) || 'line'"
at_least "$db" "event on the UTF-8 name" \
	"SELECT count(*) FROM trace WHERE path = '/é 日本 ' || char(10) || ' x'"
at_least "$db" "event on the 30-level deep leaf (path longer than PATH_MAX)" \
	"SELECT count(*) FROM trace WHERE path LIKE '/level00-%/leaf' AND length(path) > 6000"
assert_eq "$(sql "$db" "SELECT count(*) FROM trace WHERE path NOT LIKE '/%'")" 0 "events with a path not starting with /"
assert_eq "$(sql "$db" "SELECT count(*) FROM trace WHERE op = 'mkdir' AND comm != 'posix_script'")" 0 \
	"mkdir events by another process than posix_script"

# --- as root, where a sandbox's filter refuses the *xattrat() calls ------
# (Linux 6.13's setxattrat, getxattrat, listxattrat, removexattrat: 463-466
# on x86_64 and arm64). EPERM, not ENOSYS: an xattr call may answer EPERM
# itself, so tracefs must find out once, not take each EPERM for a refusal.
if [ -x "$TOOLS/deny_syscalls" ] && "$TOOLS/deny_syscalls" EPERM 464 -- true; then
	MOUNT_WRAPPER=("$TOOLS/deny_syscalls" EPERM 463 464 465 466 --)
	run_pair filtered
	finish_pair filtered
	at_least "$T/filtered.db" "getxattr /x1 that found the attribute" \
		"SELECT count(*) FROM trace WHERE op = 'getxattr' AND path = '/x1' AND result = 0"
	MOUNT_WRAPPER=()
else
	note "filtered: skipped (no seccomp filter here)"
fi

# --- as an unprivileged user on an allow_other mount -----------------------
MOUNT_OPTS="-o allow_other"
run_pair user --as-user "$USER_UID"
finish_pair user
db=$T/user.db
at_least "$db" "create of /open/uf by uid $USER_UID" \
	"SELECT count(*) FROM trace WHERE op = 'create' AND path = '/open/uf' AND uid = $USER_UID AND gid = $USER_UID AND result = 0"
at_least "$db" "mkdir of /open/ud by uid $USER_UID" \
	"SELECT count(*) FROM trace WHERE op = 'mkdir' AND path = '/open/ud' AND uid = $USER_UID AND result = 0"
at_least "$db" "setup events by root" "SELECT count(*) FROM trace WHERE op = 'mkdir' AND path = '/rootdir' AND uid = 0"
exit 0
