#!/bin/bash
# Mounting and unmounting every way a user can, and every bad input the
# issue names: each gives a clear message, a non-zero exit and nothing left
# mounted; each way of unmounting leaves a complete, consistent trace.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/first-workload.sh"

mkdir -p "$T/src" "$T/mnt"
echo data >"$T/src/existing"

expect_failure() { # WHAT PATTERN COMMAND...
	local what=$1 pattern=$2 out rc
	shift 2
	set +e
	out=$("$@" 2>&1)
	rc=$?
	set -e
	[ $rc -ne 0 ] || fail "$what: exit status 0"
	grep -q -- "$pattern" <<<"$out" || fail "$what: message '$out' lacks '$pattern'"
	is_mounted "$T/mnt" && fail "$what: left a mount behind"
	note "$what: exit $rc: $out"
}

trace_complete() { # DB — the trace is consistent and was closed properly
	assert_eq "$(sql "$1" 'PRAGMA integrity_check')" ok "integrity of $1"
	[ -n "$(sql "$1" "SELECT value FROM meta WHERE key = 'end_ns'")" ] || fail "$1 has no end_ns"
	[ ! -e "$1-wal" ] || [ ! -s "$1-wal" ] || fail "$1 left a non-empty WAL"
}

# --- bad input ---
expect_failure "missing source" "source $T/nope: No such file or directory" \
	"$TRACEFS" mount --db "$T/a.db" "$T/nope" "$T/mnt"
touch "$T/file"
expect_failure "mount point is a file" "is not a directory" \
	"$TRACEFS" mount --db "$T/a.db" "$T/src" "$T/file"
expect_failure "source is a file" "is not a directory" \
	"$TRACEFS" mount --db "$T/a.db" "$T/file" "$T/mnt"
expect_failure "db in a missing directory" "cannot create trace file" \
	"$TRACEFS" mount --db "$T/no/such/dir/a.db" "$T/src" "$T/mnt"
[ ! -e "$T/a.db" ] || fail "a failed mount left a trace file"
echo keep >"$T/exists.db"
expect_failure "existing db" "already exists" \
	"$TRACEFS" mount --db "$T/exists.db" "$T/src" "$T/mnt"
assert_eq "$(cat "$T/exists.db")" keep "an existing trace file was touched"
expect_failure "unknown option" "unrecognized option" "$TRACEFS" mount --bogus "$T/src" "$T/mnt"
expect_failure "unknown -o option" "unknown option" \
	"$TRACEFS" mount -o no_such_option --db "$T/b.db" "$T/src" "$T/mnt"
[ ! -e "$T/b.db" ] || fail "a failed mount left a trace file"
"$TRACEFS" --help | grep -q "usage: tracefs" || fail "--help"
"$TRACEFS" mount --help | grep -q "SOURCE MOUNTPOINT" || fail "mount --help"
"$TRACEFS" umount --help | grep -q "MOUNTPOINT" || fail "umount --help"
# A mistyped command is named as such, not taken for the mount form's SOURCE;
# a SOURCE that exists is never taken for a command, whatever its name.
(cd "$T" && expect_failure "mistyped command" "unknown command 'reprot' (did you mean 'report'?)" \
	"$TRACEFS" reprot x.db)
mkdir "$T/rendr"
(cd "$T" && expect_failure "a source named like a command" "SOURCE MOUNTPOINT" \
	"$TRACEFS" rendr)

# --- tracefs umount, default trace name in the working directory ---
(cd "$T" && "$TRACEFS" "$T/src" "$T/mnt")
is_mounted "$T/mnt" || fail "not mounted after the mount command returned"
assert_eq "$(cat "$T/mnt/existing")" data "content through the mount"
"$TRACEFS" umount "$T/mnt"
is_mounted "$T/mnt" && fail "still mounted after tracefs umount"
db=$(ls "$T"/tracefs-*.db)
trace_complete "$db"
[ "$(sql "$db" "SELECT count(*) FROM trace WHERE op = 'read' AND path = '/existing' AND bytes = 5")" -ge 1 ] ||
	fail "no read of /existing recorded"
assert_eq "$(sql "$db" "SELECT value FROM meta WHERE key = 'source'")" "$T/src" "meta source"
assert_eq "$(sql "$db" "SELECT value FROM meta WHERE key = 'mountpoint'")" "$T/mnt" "meta mountpoint"

# --- fusermount3 -u: the daemon finishes the trace by itself ---
"$TRACEFS" mount -f --db "$T/fusermount.db" "$T/src" "$T/mnt" 2>"$T/fg.log" &
daemon=$!
wait_for 10 is_mounted "$T/mnt" || fail "foreground mount did not come up: $(cat "$T/fg.log")"
touch "$T/mnt/by-fusermount"
fusermount3 -u "$T/mnt"
wait $daemon || fail "daemon exit status $? after fusermount3 -u"
trace_complete "$T/fusermount.db"
assert_eq "$(sql "$T/fusermount.db" "SELECT count(*) FROM trace WHERE op = 'create' AND path = '/by-fusermount'")" 1 "create recorded"

# --- fusermount3 -u while another mount namespace holds a copy of the
# mount (one made meanwhile: unshare, a container, another `tracefs run`):
# the kernel keeps the connection for that copy, the daemon ends anyway ---
if [ "$(id -u)" = 0 ]; then
	# libfuse frees its copy of the mount point only in
	# fuse_session_unmount(), which must not run here: the path may be
	# another mount's by now.
	echo "leak:fuse_session_mount" >"$T/lsan.supp"
	LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0" \
		"$TRACEFS" mount -f --db "$T/copied.db" "$T/src" "$T/mnt" 2>"$T/fg.log" &
	daemon=$!
	wait_for 10 is_mounted "$T/mnt" || fail "foreground mount did not come up: $(cat "$T/fg.log")"
	touch "$T/mnt/before-the-copy"
	unshare -m sleep 600 &
	holder=$!
	CLEANUP_PIDS="${CLEANUP_PIDS:-} $holder"
	own_ns=$(readlink /proc/self/ns/mnt)
	in_new_ns() { [ "$(readlink "/proc/$holder/ns/mnt")" != "$own_ns" ]; }
	wait_for 10 in_new_ns || fail "unshare -m did not make a mount namespace"
	fusermount3 -u "$T/mnt"
	daemon_gone() { ! kill -0 "$daemon" 2>/dev/null; }
	wait_for 20 daemon_gone || fail "the daemon still runs after fusermount3 -u while another namespace holds a copy"
	wait $daemon || fail "daemon exit status $? after fusermount3 -u (copy elsewhere)"
	trace_complete "$T/copied.db"
	assert_eq "$(sql "$T/copied.db" "SELECT count(*) FROM trace WHERE path = '/before-the-copy' AND op = 'create'")" 1 \
		"create recorded (copy elsewhere)"
	kill "$holder"
	wait "$holder" 2>/dev/null || true
else
	note "not root: no mount namespace for the unmount-with-a-copy case"
fi

# --- SIGTERM and SIGINT to a foreground daemon ---
# Job control, so that background jobs do not start with SIGINT ignored
# (as a daemon started from a terminal does not).
set -m
for sig in TERM INT; do
	"$TRACEFS" mount -f --db "$T/sig$sig.db" "$T/src" "$T/mnt" 2>"$T/fg.log" &
	daemon=$!
	wait_for 10 is_mounted "$T/mnt" || fail "foreground mount did not come up: $(cat "$T/fg.log")"
	mkdir "$T/mnt/by-$sig"
	kill -$sig $daemon
	wait $daemon || fail "daemon exit status $? after SIG$sig"
	is_mounted "$T/mnt" && fail "still mounted after SIG$sig"
	trace_complete "$T/sig$sig.db"
	assert_eq "$(sql "$T/sig$sig.db" "SELECT comm FROM trace WHERE op = 'mkdir' AND path = '/by-$sig'")" mkdir "mkdir recorded before SIG$sig"
	note "SIG$sig: clean unmount, complete trace"
done
set +m

# --- tracing a directory in place (SOURCE == MOUNTPOINT) ---
mkdir -p "$T/inplace"
echo before >"$T/inplace/old"
"$TRACEFS" mount --db "$T/inplace.db" "$T/inplace" "$T/inplace"
is_mounted "$T/inplace" || fail "in-place mount missing"
assert_eq "$(cat "$T/inplace/old")" before "original content visible in place"
echo after >"$T/inplace/new"
"$TRACEFS" umount "$T/inplace"
assert_eq "$(cat "$T/inplace/new")" after "in-place write kept after unmount"
trace_complete "$T/inplace.db"
assert_eq "$(sql "$T/inplace.db" "SELECT count(*) FROM trace WHERE path = '/old' AND op = 'read'")" 1 "in-place read traced"
# --- --no-record: the same file system, nothing recorded, no live view ---

mkdir -p "$T/norecord"
out=$(cd "$T/norecord" && "$TRACEFS" mount -o norecord "$T/src" "$T/mnt" 2>&1)
grep -q "recording nothing" <<<"$out" || fail "--no-record: message '$out'"
grep -q "live view" <<<"$out" && fail "--no-record started a live view: $out"
first_workload "$T/mnt"
echo moved >"$T/mnt/to-move"
mv "$T/mnt/to-move" "$T/mnt/moved"
assert_eq "$(cat "$T/mnt/moved")" moved "--no-record: a renamed file's content"
"$TRACEFS" umount "$T/mnt"
is_mounted "$T/mnt" && fail "--no-record: still mounted after umount"
assert_eq "$(cat "$T/src/moved")" moved "--no-record: the rename reached the source"
assert_eq "$(ls -A "$T/norecord")" "" "--no-record: files left in the working directory"
expect_failure "--no-record with --db" "takes no trace file" \
	"$TRACEFS" mount --no-record --db "$T/nr.db" "$T/src" "$T/mnt"
expect_failure "--no-record with --ws" "takes no live view" \
	"$TRACEFS" mount -o norecord --ws 127.0.0.1:7999 "$T/src" "$T/mnt"
[ ! -e "$T/nr.db" ] || fail "--no-record left a trace file"
note "--no-record: served without a trace or a live view"

# --- options after the operands, as mount.fuse3 and fstab pass them ---

"$TRACEFS" "$T/src" "$T/mnt" -o ro --no-ws --db "$T/after.db" ||
	fail "SOURCE MOUNTPOINT -o ro: refused"
is_mounted "$T/mnt" || fail "SOURCE MOUNTPOINT -o ro: not mounted"
grep -q "^[^ ]* $T/mnt fuse.tracefs ro," /proc/mounts || fail "-o ro after the operands not applied: $(grep " $T/mnt " /proc/mounts)"
echo nope >"$T/mnt/nope" 2>/dev/null && fail "a write through a read-only mount"
"$TRACEFS" umount "$T/mnt"
trace_complete "$T/after.db"
expect_failure "a third operand" "unexpected argument 'extra'" \
	"$TRACEFS" "$T/src" "$T/mnt" -o ro extra
note "options after SOURCE MOUNTPOINT: -o ro applied"

echo "mount-lifecycle: ok"
