#!/bin/bash
# -o poll=USECS (tracefs/loop.c): after a request the reading thread keeps
# polling /dev/fuse before it sleeps, for a window that grows while
# requests keep coming within it. Seen from outside: requests a few
# microseconds apart find it awake (it does not sleep between them, as it
# does with -o poll=0), it stops once requests stop coming, and an unmount
# ends it while it polls.
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

# Voluntary context switches of the daemon's FUSE threads so far: a thread
# that sleeps waiting for a request makes one, a polling one does not.
fuse_sleeps() { # PID
	local task n=0
	for task in /proc/"$1"/task/*; do
		[ "$(cat "$task/comm" 2>/dev/null)" = tracefs-fuse ] || continue
		n=$((n + $(awk '/^voluntary_ctxt_switches:/ { print $2 }' "$task/status")))
	done
	echo "$n"
}
# Mounts with OPTIONS, makes 2,000 bursts of requests a few microseconds
# apart, unmounts; prints "SLEEPS REQUESTS" (sleeps of the FUSE threads
# meanwhile, requests in the trace).
sleeps_per_requests() { # NAME [OPTIONS]
	local db=$T/$1.db pid before after
	"$TRACEFS" mount ${2:+-o "$2"} -o timeout=0 --no-ws --db "$db" "$T/src" "$T/mnt" >/dev/null
	pid=$(daemon_pid "$T/mnt")
	[ -n "$pid" ] || fail "no daemon found for $T/mnt"
	[ -n "$(fuse_thread_states "$pid")" ] || fail "the daemon has no thread named tracefs-fuse"
	before=$(fuse_sleeps "$pid")
	for ((i = 0; i < 2000; i++)); do burst; done
	after=$(fuse_sleeps "$pid")
	"$TRACEFS" umount "$T/mnt"
	echo "$((after - before)) $(sql "$db" "SELECT count(*) FROM trace WHERE path = '/f'")"
}

# --- the default: requests that come within the window find the thread awake ---
read -r sleeps requests <<<"$(sleeps_per_requests polling)"
note "default poll: the FUSE threads slept $sleeps times for $requests requests"
[ "$requests" -ge 8000 ] || fail "only $requests requests reached the trace"
[ $((sleeps * 4)) -lt "$requests" ] ||
	fail "the FUSE threads slept $sleeps times for $requests requests: they do not poll"

# --- poll=0: the thread sleeps before most requests (not all: a release is
# sent without waiting for the flush before it to be answered) ---
read -r sleeps requests <<<"$(sleeps_per_requests nopoll poll=0)"
note "poll=0: the FUSE threads slept $sleeps times for $requests requests"
[ $((sleeps * 2)) -ge "$requests" ] ||
	fail "with poll=0 the FUSE threads slept only $sleeps times for $requests requests"

# --- polling stops once requests stop, and an unmount ends it ---
"$TRACEFS" mount -o poll=1000000,timeout=0 --no-ws --db "$T/idle.db" "$T/src" "$T/mnt" >/dev/null
pid=$(daemon_pid "$T/mnt")
for ((i = 0; i < 200; i++)); do burst; done
wait_for 10 no_thread_running "$pid" ||
	fail "the FUSE threads still run long after the last request: $(fuse_thread_states "$pid")"
note "after the requests stopped: FUSE threads $(fuse_thread_states "$pid")"
for ((i = 0; i < 200; i++)); do burst; done
"$TRACEFS" umount "$T/mnt"
is_mounted "$T/mnt" && fail "still mounted after tracefs umount"
daemon_gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for 10 daemon_gone "$pid" || fail "the daemon outlived its unmount by 10 s"
assert_eq "$(sql "$T/idle.db" "SELECT count(*) FROM trace WHERE op = 'open' AND path = '/f'")" 400 \
	"opens of /f in the trace"
