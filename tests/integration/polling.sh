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

# Mounts $T/src at $T/mnt in the foreground, in the background of this
# shell, and sets $daemon to its pid. Over /dev/fuse whatever the kernel's
# enable_uring says (another test may have switched it on meanwhile): the
# ring has threads of its own, which do not poll.
mount_daemon() { # DB [OPTIONS]
	"$TRACEFS" mount -f ${2:+-o "$2"} -o timeout=0,nouring --no-ws --db "$1" "$T/src" "$T/mnt" \
		>>"$T/daemon.log" 2>&1 &
	daemon=$!
	wait_for 10 is_mounted "$T/mnt" || fail "the mount did not come up: $(cat "$T/daemon.log")"
}
# The /proc task directories of the daemon's FUSE threads.
fuse_tasks() { # PID
	local task
	for task in /proc/"$1"/task/*; do
		[ "$(cat "$task/comm" 2>/dev/null)" = tracefs-fuse ] && echo "$task"
	done
}
# Their states, one letter each ("SS", "RS", ...).
fuse_thread_states() { # PID
	local task states=""
	for task in $(fuse_tasks "$1"); do
		states+=$(awk '{ print $3 }' "$task/stat" 2>/dev/null) # comm has no spaces
	done
	echo "$states"
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
	for task in $(fuse_tasks "$1"); do
		n=$((n + $(awk '/^voluntary_ctxt_switches:/ { print $2 }' "$task/status")))
	done
	echo "$n"
}
# Mounts with OPTIONS, makes 2,000 bursts of requests a few microseconds
# apart, unmounts; prints "SLEEPS REQUESTS" (sleeps of the FUSE threads
# meanwhile, requests in the trace).
sleeps_per_requests() { # NAME [OPTIONS]
	local db=$T/$1.db before after
	mount_daemon "$db" "${2:-}"
	[ -n "$(fuse_tasks "$daemon")" ] || fail "the daemon has no thread named tracefs-fuse"
	before=$(fuse_sleeps "$daemon")
	for ((i = 0; i < 2000; i++)); do burst; done
	after=$(fuse_sleeps "$daemon")
	"$TRACEFS" umount "$T/mnt"
	wait "$daemon" || fail "daemon exit status $?"
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
mount_daemon "$T/idle.db" poll=1000000
for ((i = 0; i < 200; i++)); do burst; done
wait_for 10 no_thread_running "$daemon" ||
	fail "the FUSE threads still run long after the last request: $(fuse_thread_states "$daemon")"
note "after the requests stopped: FUSE threads $(fuse_thread_states "$daemon")"
for ((i = 0; i < 200; i++)); do burst; done
"$TRACEFS" umount "$T/mnt"
is_mounted "$T/mnt" && fail "still mounted after tracefs umount"
wait "$daemon" || fail "daemon exit status $? after an unmount while polling"
assert_eq "$(sql "$T/idle.db" "SELECT count(*) FROM trace WHERE op = 'open' AND path = '/f'")" 400 \
	"opens of /f in the trace"
