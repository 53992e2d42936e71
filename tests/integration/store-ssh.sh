#!/bin/bash
# The versioned store with its remote behind a real sshd on 127.0.0.1
# (libgit2's ssh transport, the key in ~/.ssh, the host in known_hosts):
# clone, work through the mount, sshd stopped during work (commits queue),
# sshd back: everything pushed, nothing lost.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/store.sh"
source "$(dirname "$0")/../lib/sshd.sh"
# Full stacks through libgit2 (built without frame pointers), for the
# suppression of its ssh transport's leaks (tests/lib/lsan-libgit2.supp).
export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"

start_sshd
unset SSH_AUTH_SOCK
mkdir -m 700 "$T/.ssh" # HOME is $T (store.sh)
cp "$T/keys/user" "$T/.ssh/id_ed25519"
cp "$T/keys/user.pub" "$T/.ssh/id_ed25519.pub"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$T/keys/host.pub")" >"$T/.ssh/known_hosts"

R=$T/remote.git M=$T/mnt
seed_remote "$R"
"$TRACEFS" store clone "ssh://root@127.0.0.1:$port$R" "$T/wc" >/dev/null ||
	fail "clone over ssh failed; sshd: $(cat "$T/sshd.log")"
mkdir "$M"
"$TRACEFS" mount --store --no-ws --db "$T/trace.db" -o store_quiet=200,store_sync=1 \
	"$T/wc" "$M" 2>"$T/mount.log" || fail "mount: $(cat "$T/mount.log")"
echo "over ssh" >"$M/online.txt"
await 60 "a change pushed over ssh" remote_has "$R" online.txt "over ssh" ||
	store_fail "the change never reached the remote over ssh"

# sshd stopped: work goes on, commits queue.
kill "$sshd_pid"
wait "$sshd_pid" 2>/dev/null || true
echo "while sshd was down" >"$M/offline.txt"
mkdir "$M/dir"
echo "also offline" >"$M/dir/file"
await 60 "the offline commit" sh -c "git -C '$T/wc' cat-file -e HEAD:dir/file 2>/dev/null" ||
	store_fail "the offline change was not committed"
remote_lacks "$R" offline.txt || fail "pushed while sshd was down?"
status=$("$TRACEFS" store status "$T/wc")
# One commit, or two when the three changes straddle a quiet spell (a loaded machine).
[[ $status =~ "not pushed: "[12]" commit" ]] || fail "status while sshd is down: $status"
[[ $status == *"last sync failed: "*"origin"* ]] || fail "status does not say why: $status"
note "status while sshd is down: $(grep 'last sync' <<<"$status")"

# sshd back on the same port: the queue is pushed.
run_sshd || fail "sshd did not restart: $(cat "$T/sshd.log")"
await 60 "the queued commit pushed" remote_has "$R" dir/file "also offline" ||
	store_fail "the queued commit was never pushed"
remote_has "$R" offline.txt "while sshd was down" || store_fail "offline.txt is lost"
"$TRACEFS" umount "$M"
assert_eq "$(git -C "$T/wc" rev-parse main)" "$(git -C "$R" rev-parse main)" "the remote's branch"
git -C "$R" fsck --no-progress --strict 2>&1 | grep -v '^dangling' | grep . && fail "git fsck of the remote"
echo "store-ssh: ok"
