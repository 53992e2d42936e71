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
# Mounts with OPTIONS, makes rounds of 500 bursts of requests a few
# microseconds apart (4 requests each: lookup, open, flush, release) until
# a round in which the FUSE threads slept fewer than 500 times (under one
# sleep for four requests: they polled) or, with WANT "sleeps", 500 times
# or more (they did not), at most ROUNDS; unmounts; prints "SLEEPS ROUNDS
# REQUESTS": the sleeps in the last round, the rounds made, the requests in
# the trace. The load of a busy machine moves both ways: a poller that is
# preempted stops polling for a while (tracefs/loop.c), and requests that
# queue up while the shell and the daemon wait for a CPU find a thread
# awake without any polling. The rounds wait for a stretch that shows
# what the options do, rather than for a share of one fixed run.
sleeps_per_round() { # NAME WANT ROUNDS [OPTIONS]
	local db=$T/$1.db before sleeps round
	mount_daemon "$db" "${4:-}"
	[ -n "$(fuse_tasks "$daemon")" ] || fail "the daemon has no thread named tracefs-fuse"
	for ((round = 1; round <= $3; round++)); do
		before=$(fuse_sleeps "$daemon")
		for ((i = 0; i < 500; i++)); do burst; done
		sleeps=$(($(fuse_sleeps "$daemon") - before))
		if [ "$2" = sleeps ]; then [ "$sleeps" -ge 500 ] && break; else [ "$sleeps" -lt 500 ] && break; fi
	done
	"$TRACEFS" umount "$T/mnt"
	wait "$daemon" || fail "daemon exit status $?"
	echo "$sleeps $((round > $3 ? $3 : round)) $(sql "$db" "SELECT count(*) FROM trace WHERE path = '/f'")"
}

# --- the default: requests that come within the window find the thread awake ---
read -r sleeps rounds requests <<<"$(sleeps_per_round polling polls 40)"
note "default poll: the FUSE threads slept $sleeps times in round $rounds (500 bursts; $requests requests in all)"
[ "$requests" -ge $((rounds * 2000)) ] || fail "only $requests requests reached the trace in $rounds rounds"
[ "$sleeps" -lt 500 ] ||
	fail "the FUSE threads slept $sleeps times for 2,000 requests in each of $rounds rounds: they do not poll"

# --- poll=0: the thread sleeps before many requests (not all: a release is
# sent without waiting for the flush before it to be answered) ---
read -r sleeps rounds requests <<<"$(sleeps_per_round nopoll sleeps 40 poll=0)"
note "poll=0: the FUSE threads slept $sleeps times in round $rounds (500 bursts; $requests requests in all)"
[ "$sleeps" -ge 500 ] ||
	fail "with poll=0 the FUSE threads slept under 500 times for 2,000 requests in each of $rounds rounds"

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
