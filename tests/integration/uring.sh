#!/bin/bash
# -o uring (tracefs/uring.c): FUSE over io_uring. Requests come through the
# per-CPU queues (the queues' threads serve them, the /dev/fuse threads do
# not), POSIX behaviour is the backing file system's (the posix
# differential test runs over it), a lock that waits does not stall the
# queue that its unlock needs, the first workload is traced as over
# /dev/fuse, and an unmount leaves a complete trace. The kernel's switch
# (the fuse module's enable_uring) is put back as it was.
source "$(dirname "$0")/../lib/common.sh"

PARAMETER=/sys/module/fuse/parameters/enable_uring
[ -e "$PARAMETER" ] || { echo "this kernel has no FUSE over io_uring"; exit 77; }
was=$(cat "$PARAMETER")
restore_parameter() { echo "$was" >"$PARAMETER" 2>/dev/null || true; }
trap 'rc=$?; restore_parameter; (exit $rc); cleanup' EXIT

mkdir -p "$T/src" "$T/mnt"
echo data >"$T/src/f"

mount_daemon() { # DB OPTIONS
	"$TRACEFS" mount -f -o "$2" -o timeout=0 --no-ws --db "$1" "$T/src" "$T/mnt" \
		>>"$T/daemon.log" 2>&1 &
	daemon=$!
	wait_for 10 is_mounted "$T/mnt" || fail "the mount did not come up: $(cat "$T/daemon.log")"
}
# Voluntary context switches of the daemon's threads named NAME, summed:
# a thread that serves a request sleeps and wakes once for it.
switches() { # PID NAME
	local task sum=0 n
	for task in /proc/"$1"/task/*; do
		[ "$(cat "$task/comm" 2>/dev/null)" = "$2" ] || continue
		n=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$task/status" 2>/dev/null || echo 0)
		sum=$((sum + n))
	done
	echo "$sum"
}
threads() { # PID NAME
	local task count=0
	for task in /proc/"$1"/task/*; do
		[ "$(cat "$task/comm" 2>/dev/null)" = "$2" ] && count=$((count + 1))
	done
	echo "$count"
}
stop_daemon() {
	"$TRACEFS" umount "$T/mnt"
	wait "$daemon" || fail "the daemon exited with status $?"
}

# --- requests come by ring ---------------------------------------------------
echo N >"$PARAMETER" # -o uring switches it on
mount_daemon "$T/a.db" uring
grep -q "switched on" "$T/daemon.log" || fail "no word that the kernel's switch was turned on"
assert_eq "$(cat "$PARAMETER")" Y "enable_uring after -o uring"
: <"$T/mnt/f" # the queues start once INIT is answered
cpus=$(nproc --all)
wait_for 10 test "$(threads "$daemon" tracefs-uring)" -ge "$cpus" ||
	fail "expected a tracefs-uring thread per CPU ($cpus): $(threads "$daemon" tracefs-uring)"
ring_before=$(switches "$daemon" tracefs-uring)
dev_before=$(switches "$daemon" tracefs-fuse)
for _ in $(seq 1000); do : <"$T/mnt/f"; done # lookup, open, flush, release each
ring=$(($(switches "$daemon" tracefs-uring) - ring_before))
dev=$(($(switches "$daemon" tracefs-fuse) - dev_before))
note "over 4,000 requests: the ring threads slept $ring times, the /dev/fuse threads $dev"
# A ring thread that finds the next request already there does not sleep:
# the counts are lower bounds of the requests each side served.
[ "$ring" -ge 100 ] || fail "the ring threads served too little: $ring wake-ups"
[ "$dev" -lt 40 ] || fail "the /dev/fuse threads still served requests: $dev wake-ups"

# --- a lock that waits, and its unlock from the same CPU -------------------------
mkfifo "$T/locked" "$T/release"
taskset -c 0 flock "$T/mnt/f" -c "echo >$T/locked; read <$T/release" &
holder=$!
read -r <"$T/locked"
taskset -c 0 flock "$T/mnt/f" -c true &
waiter=$!
taskset -c 0 stat "$T/mnt/f" >/dev/null || fail "a stat on the waiting lock's CPU failed"
echo >"$T/release"
timeout 10 tail --pid="$holder" -f /dev/null || fail "the lock holder did not finish"
timeout 10 tail --pid="$waiter" -f /dev/null || fail "the waiting lock was never granted"
wait "$waiter" || fail "the waiting flock failed"

# --- the first workload --------------------------------------------------------
source "$ROOT/tests/lib/first-workload.sh"
first_workload "$T/mnt"
stop_daemon
assert_eq "$(sql "$T/a.db" "PRAGMA integrity_check")" ok "the trace's integrity"
check_first_workload_trace "$T/a.db"

# --- -o nouring: no ring ----------------------------------------------------------
mount_daemon "$T/b.db" nouring
: <"$T/mnt/f"
assert_eq "$(threads "$daemon" tracefs-uring)" 0 "ring threads with -o nouring"
stop_daemon

# --- POSIX behaviour over the ring ----------------------------------------------
MOUNT_EXTRA="-o uring" bash "$ROOT/tests/integration/posix-differential.sh" ||
	fail "the posix differential test over io_uring"
note "posix differential test passed over io_uring"
