#!/bin/bash
# -o poll=USECS (tracefs/loop.c): after a request the reading thread keeps
# polling /dev/fuse before it sleeps, for a window that grows while
# requests keep coming within it. Seen from outside: between requests that
# thread is running (state R), it stops once requests stop coming, an
# unmount ends it while it polls, and -o poll=0 never polls.
source "$(dirname "$0")/../lib/common.sh"

mkdir -p "$T/src" "$T/mnt"
echo data >"$T/src/f"

# The states of the daemon's FUSE threads, one letter each ("SS", "RS", ...).
fuse_thread_states() { # PID
	local task states=""
	for task in /proc/"$1"/task/*; do
		[ "$(cat "$task/comm" 2>/dev/null)" = tracefs-fuse ] || continue
		states+=$(awk '{ print $3 }' "$task/stat" 2>/dev/null) # comm has no spaces
	done
	echo "$states"
}
daemon_pid() { # MOUNTPOINT — the daemon serving it
	local pid
	for pid in $(pgrep -f "tracefs.* mount"); do
		[[ $(tr '\0' ' ' <"/proc/$pid/cmdline") == *" $T/src $1"* ]] && echo "$pid"
	done
}
# A burst of requests from this shell, without starting a process: with
# timeout=0 the lookup, open, flush and release all reach the daemon.
burst() { : <"$T/mnt/f"; }
no_thread_running() { [[ $(fuse_thread_states "$1") != *R* ]]; }

# --- bad values ---
for bad in poll=x poll=-1 poll=1000001 poll=; do
	set +e
	out=$("$TRACEFS" mount -o "$bad" --no-ws --db "$T/bad.db" "$T/src" "$T/mnt" 2>&1)
	rc=$?
	set -e
	[ $rc -ne 0 ] || fail "-o $bad was accepted"
	[[ $out == *"expected microseconds"* ]] || fail "-o $bad: message '$out'"
	is_mounted "$T/mnt" && fail "-o $bad left a mount behind"
done
[ ! -e "$T/bad.db" ] || fail "a rejected option left a trace file"
"$TRACEFS" mount --help | grep -q "poll=USECS" || fail "mount --help does not describe poll="

# --- polling: a window of up to one second, grown by requests 50 ms apart ---
"$TRACEFS" mount -o poll=1000000,timeout=0 --no-ws --db "$T/poll.db" "$T/src" "$T/mnt" >/dev/null
pid=$(daemon_pid "$T/mnt")
[ -n "$pid" ] || fail "no daemon found for $T/mnt"
[ -n "$(fuse_thread_states "$pid")" ] || fail "the daemon has no thread named tracefs-fuse"
for ((i = 0; i < 20; i++)); do
	burst
	sleep 0.05 # the spacing of the requests, which the window adapts to
done
running=0
for ((i = 0; i < 5; i++)); do
	burst
	sleep 0.05
	states=$(fuse_thread_states "$pid")
	[[ $states == *R* ]] && running=$((running + 1))
	note "50 ms after a request: FUSE threads $states"
done
[ $running -eq 5 ] || fail "the reading thread polled between requests $running times of 5"
# Requests stopped: the window (1 s at most) runs out and the thread sleeps.
wait_for 10 no_thread_running "$pid" ||
	fail "the FUSE threads still run long after the last request: $(fuse_thread_states "$pid")"
note "after the requests stopped: FUSE threads $(fuse_thread_states "$pid")"
# An unmount while the thread polls ends it, and the trace is complete.
burst
[[ $(fuse_thread_states "$pid") == *R* ]] || note "(the thread was not polling at the unmount)"
"$TRACEFS" umount "$T/mnt"
is_mounted "$T/mnt" && fail "still mounted after tracefs umount"
daemon_gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for 10 daemon_gone "$pid" || fail "the daemon outlived its unmount by 10 s"
assert_eq "$(sql "$T/poll.db" "SELECT count(*) FROM trace WHERE op = 'open' AND path = '/f'")" 26 \
	"opens of /f in the trace"

# --- poll=0: the thread sleeps between the same requests ---
"$TRACEFS" mount -o poll=0,timeout=0 --no-ws --db "$T/nopoll.db" "$T/src" "$T/mnt" >/dev/null
pid=$(daemon_pid "$T/mnt")
[ -n "$pid" ] || fail "no daemon found for $T/mnt"
for ((i = 0; i < 20; i++)); do
	burst
	sleep 0.05
done
for ((i = 0; i < 5; i++)); do
	burst
	sleep 0.05
	states=$(fuse_thread_states "$pid")
	[[ $states != *R* ]] || fail "with poll=0 a FUSE thread runs 50 ms after a request: $states"
done
note "poll=0, 50 ms after a request: FUSE threads $states"
"$TRACEFS" umount "$T/mnt"
