#!/bin/bash
# Who may read the trace: it names every file the workload touched, so the
# trace and its -wal and -shm are 0600 whatever the umask, and belong to
# whoever mounted: the user himself, or the user who ran `sudo tracefs run`.
# --db-mode shares it on purpose.
source "$(dirname "$0")/../lib/common.sh"

mode_owner() { stat -c '%a %U:%G' "$1"; }

mkdir -p "$T/src" "$T/mnt"
echo data >"$T/src/existing"
umask 000

# A mount by root with umask 000: the trace and, while it is written, its
# -wal and -shm are 0600.
"$TRACEFS" mount --no-ws --db "$T/mount.db" "$T/src" "$T/mnt"
cat "$T/mnt/existing" >/dev/null
wait_for 10 test -e "$T/mount.db-shm" || fail "no -shm while mounted"
assert_eq "$(mode_owner "$T/mount.db")" "600 root:root" "trace of a mount, umask 000"
assert_eq "$(mode_owner "$T/mount.db-wal")" "600 root:root" "its -wal"
assert_eq "$(mode_owner "$T/mount.db-shm")" "600 root:root" "its -shm"
"$TRACEFS" umount "$T/mnt"
assert_eq "$(mode_owner "$T/mount.db")" "600 root:root" "trace after unmount"

# sudo tracefs run, by uid 65534: the files are that user's, not root's.
# COMMAND looks at the -wal and -shm while the recorder holds them.
SUDO_UID=65534 SUDO_GID=65534 "$TRACEFS" run --db "$T/run.db" --dir "$T/src" -- \
	sh -c "cat '$T/src/existing' >/dev/null; stat -c '%a %u:%g' '$T/run.db-wal' '$T/run.db-shm' >'$T/siblings'" \
	2>/dev/null
assert_eq "$(mode_owner "$T/run.db")" "600 nobody:nogroup" "trace of sudo tracefs run"
assert_eq "$(sort -u "$T/siblings")" "600 65534:65534" "its -wal and -shm while written"
assert_eq "$(sql "$T/run.db" "SELECT count(*) FROM trace WHERE op = 'read' AND path = '/existing'")" 1 \
	"the trace is complete"

# Shared on purpose: --db-mode, and -o db_mode= for fstab.
"$TRACEFS" run --db-mode 0640 --db "$T/shared.db" --dir "$T/src" -- true 2>/dev/null
assert_eq "$(mode_owner "$T/shared.db")" "640 root:root" "--db-mode 0640"
"$TRACEFS" mount -o db_mode=644,no_ws --db "$T/fstab.db" "$T/src" "$T/mnt"
"$TRACEFS" umount "$T/mnt"
assert_eq "$(mode_owner "$T/fstab.db")" "644 root:root" "-o db_mode=644"
set +e
out=$("$TRACEFS" run --db-mode 0777 --db "$T/bad.db" -- true 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || fail "--db-mode 0777 accepted"
grep -q "expected octal permission bits" <<<"$out" || fail "message: $out"
[ ! -e "$T/bad.db" ] || fail "a refused --db-mode left a trace file"

# A user who mounts without root owns his trace, 0600 whatever his umask.
if command -v setpriv >/dev/null && [ -u "$(command -v fusermount3)" ]; then
	mkdir -p "$T/user/src" "$T/user/mnt"
	chown -R 65534:65534 "$T/user"
	setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T/user" \
		"$TRACEFS" mount --no-ws --db "$T/user/user.db" "$T/user/src" "$T/user/mnt" ||
		fail "mount as uid 65534"
	setpriv --reuid=65534 --regid=65534 --clear-groups touch "$T/user/mnt/made"
	wait_for 10 test -e "$T/user/user.db-wal" || fail "no -wal while mounted"
	assert_eq "$(mode_owner "$T/user/user.db-wal")" "600 nobody:nogroup" "-wal of a user's mount"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$TRACEFS" umount "$T/user/mnt"
	assert_eq "$(mode_owner "$T/user/user.db")" "600 nobody:nogroup" "trace of a user's mount"
else
	note "no setpriv or no setuid fusermount3: the non-root mount is not tried"
fi
