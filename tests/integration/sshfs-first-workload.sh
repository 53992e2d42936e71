#!/bin/bash
# The first workload of the 2009 demonstration, as it was run: on an sshfs
# mount, here with tracefs mounted over it. A private sshd on 127.0.0.1
# with throw-away keys serves $T/remote; nothing of the system's ssh
# configuration is used or changed.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/first-workload.sh"
source "$(dirname "$0")/../lib/sshd.sh"

command -v sshfs >/dev/null || skip "sshfs is not installed"
[ -x "$TRACEFS" ] || fail "$TRACEFS is not built"
mkdir -p "$T/remote" "$T/ssh" "$T/mnt"
start_sshd

sshfs -p "$port" -F /dev/null \
	-o IdentityFile="$T/keys/user",StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null \
	-o BatchMode=yes,LogLevel=ERROR \
	"root@127.0.0.1:$T/remote" "$T/ssh" 2>"$T/sshfs.log" ||
	fail "sshfs mount failed: $(cat "$T/sshfs.log"); sshd: $(cat "$T/sshd.log")"
is_mounted "$T/ssh" || fail "sshfs returned but $T/ssh is not a mount point"
echo probe >"$T/ssh/probe"
assert_eq "$(cat "$T/remote/probe")" probe "a file written through sshfs"
rm "$T/ssh/probe"

"$TRACEFS" mount --db "$T/trace.db" "$T/ssh" "$T/mnt" || fail "tracefs mount over sshfs failed"
is_mounted "$T/mnt" || fail "tracefs returned but $T/mnt is not a mount point"

first_workload "$T/mnt" 0

# readdir's d_ino is the backing file system's: sshfs says 4294967295
# (unknown), and so must tracefs, or programs that probe for d_ino (wget's
# configure) decide differently through tracefs. (The kernel asks for a
# new directory's first listing with READDIRPLUS.)
mkdir "$T/ssh/dino"
touch "$T/ssh/dino/a" "$T/ssh/dino/b"
d_inos() { python3 -c 'import os, sys; print(sorted((e.name, e.inode()) for e in os.scandir(sys.argv[1])))' "$1"; }
expected=$(d_inos "$T/ssh/dino")
note "d_ino over sshfs: $expected"
assert_eq "$(d_inos "$T/mnt/dino")" "$expected" "d_ino through tracefs over sshfs"
rm -r "$T/ssh/dino"

"$TRACEFS" umount "$T/mnt"
is_mounted "$T/mnt" && fail "tracefs still mounted after tracefs umount"
fusermount3 -u "$T/ssh"
is_mounted "$T/ssh" && fail "sshfs still mounted after fusermount3 -u"

assert_eq "$(sql "$T/trace.db" 'PRAGMA integrity_check')" ok "trace integrity"
check_first_workload_trace "$T/trace.db"
note "trace: $(sql "$T/trace.db" 'SELECT count(*) FROM trace') events, 88 mkdir and 88 rmdir as expected"
assert_eq "$(find "$T/remote" -mindepth 1 | wc -l)" 0 "entries left in the remote directory"
exit 0
