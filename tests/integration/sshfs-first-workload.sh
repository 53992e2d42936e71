#!/bin/bash
# The first workload of the 2009 demonstration, as it was run: on an sshfs
# mount, here with tracefs mounted over it. A private sshd on 127.0.0.1
# with throw-away keys serves $T/remote; nothing of the system's ssh
# configuration is used or changed.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/first-workload.sh"

skip() { echo "SKIP: $*"; exit 77; }

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || skip "sshd is not installed (openssh-server)"
command -v sshfs >/dev/null || skip "sshfs is not installed"
command -v ssh-keygen >/dev/null || skip "ssh-keygen is not installed"
[ -x "$TRACEFS" ] || fail "$TRACEFS is not built"

mkdir -p "$T/remote" "$T/ssh" "$T/mnt" "$T/keys"
chmod 700 "$T/keys"
ssh-keygen -q -N '' -t ed25519 -f "$T/keys/host" -C tracefs-test-host
ssh-keygen -q -N '' -t ed25519 -f "$T/keys/user" -C tracefs-test-user
cp "$T/keys/user.pub" "$T/keys/authorized_keys"

# sshd chroots its unprivileged child into this directory; Debian creates
# it when the service starts, which it has not here.
[ -d /run/sshd ] || install -d -m 755 /run/sshd

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
sshd_pid=""
sshd_alive() { kill -0 "$sshd_pid" 2>/dev/null; }
sshd_up() { port_open "$port" || ! sshd_alive; }

started=no
for attempt in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	port_open "$port" && continue
	cat >"$T/sshd_config" <<-EOF
		ListenAddress 127.0.0.1
		Port $port
		HostKey $T/keys/host
		PidFile $T/sshd.pid
		AuthorizedKeysFile $T/keys/authorized_keys
		StrictModes no
		UsePAM no
		PermitRootLogin yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PubkeyAuthentication yes
		Subsystem sftp internal-sftp
		LogLevel ERROR
	EOF
	"$SSHD" -t -f "$T/sshd_config" 2>"$T/sshd.log" || skip "sshd rejects the configuration: $(cat "$T/sshd.log")"
	"$SSHD" -f "$T/sshd_config" -D -e 2>>"$T/sshd.log" &
	sshd_pid=$!
	CLEANUP_PIDS="${CLEANUP_PIDS:-} $sshd_pid"
	wait_for 10 sshd_up || fail "sshd did not come up on port $port: $(cat "$T/sshd.log")"
	if sshd_alive; then
		started=yes
		break
	fi
	note "sshd on port $port exited (attempt $attempt): $(tail -1 "$T/sshd.log")"
done
[ $started == yes ] || skip "cannot start sshd: $(cat "$T/sshd.log")"
note "sshd pid $sshd_pid on 127.0.0.1:$port"

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
