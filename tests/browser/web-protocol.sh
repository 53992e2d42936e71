#!/bin/bash
# web-protocol: the live server of `tracefs mount --ws ADDR:PORT` survives
# 1,000 malformed requests (see web-protocol.mjs) and refuses to serve
# anything outside its web root, through ".." or through a symlink; the
# mount keeps working and its trace is complete and intact.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/first-workload.sh"
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/src" "$T/mnt"
port=$(free_port)
"$TRACEFS" mount --ws "127.0.0.1:$port" --db "$T/trace.db" "$T/src" "$T/mnt" 2>"$T/mount.err"
url=$(printed_url "$T/mount.err")
[[ $url =~ ^http://127\.0\.0\.1:$port/\?token=[0-9a-f]{32}$ ]] || fail "the URL printed for --ws 127.0.0.1:$port: $url"

# A second server whose web root (a copy of the page) holds symlinks out of it.
cp -r "$BUILD/web" "$T/webroot"
ln -s /etc/passwd "$T/webroot/leak.txt"
ln -s /etc "$T/webroot/etc"
"$TOOLS/make_trace" crafted "$T/small.db"
port2=$(free_port)
"$TRACEFS" serve "$T/small.db" --ws "127.0.0.1:$port2" --web-root "$T/webroot" 2>"$T/serve.err" &
CLEANUP_PIDS=$!
url2=$(printed_url "$T/serve.err")

first_workload "$T/mnt"
# A tree that stays (5,000 files, made beside the mount and looked up
# through it): every welcome is then a snapshot of ~400 KB, still on its
# way when a case misbehaves at once.
for d in $(seq 1 100); do
	mkdir "$T/src/kept$d" && (cd "$T/src/kept$d" && touch $(seq -f 'file%g.c' 1 50)) ||
		fail "a tree beside the mount"
done
ls -lR "$T/mnt" >/dev/null || fail "ls -lR through the mount"
run_node web-protocol "$url" "$BUILD/web/index.html" "$url2" || fail "the protocol"

# The mount still works, and records.
echo after >"$T/mnt/after"
assert_eq "$(cat "$T/mnt/after")" after "a file written through the mount after the abuse"
"$TRACEFS" umount "$T/mnt"
check_first_workload_trace "$T/trace.db"
assert_eq "$(sql "$T/trace.db" "SELECT count(*) FROM trace WHERE op = 'create' AND path = '/after'")" 1 "the create after the abuse"
assert_eq "$(sql "$T/trace.db" 'PRAGMA integrity_check')" ok "trace integrity"
echo "web-protocol: ok"
