#!/bin/bash
# Long commands honour SIGINT and SIGTERM promptly: export and report of a
# big trace stop within moments of the signal, say so, exit 128 + the
# signal, and leave no output file, whole or partial.
source "$(dirname "$0")/../lib/common.sh"

cd "$T"
"$TOOLS/make_trace" big big.db 1000000

# Runs COMMAND in the background until READY succeeds, then sends SIGNAL;
# it must end with STATUS, saying "interrupted", within 10 s.
interrupt() { # SIGNAL STATUS READY COMMAND...
	local signal=$1 status=$2 ready=$3 pid rc start
	shift 3
	"$@" >/dev/null 2>"$T/stderr" &
	pid=$!
	wait_for 60 "$ready" "$pid" || fail "$*: never got going: $(cat "$T/stderr")"
	start=$(date +%s%N)
	kill "-$signal" "$pid"
	wait_for 10 gone "$pid" || fail "$*: still running 10 s after SIG$signal"
	set +e
	wait "$pid"
	rc=$?
	set -e
	assert_eq "$rc" "$status" "$*: exit status after SIG$signal"
	grep -q interrupted "$T/stderr" || fail "$*: message '$(cat "$T/stderr")'"
	note "$*: SIG$signal: exit $rc $(( ($(date +%s%N) - start) / 1000000 )) ms later: $(cat "$T/stderr")"
}
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status"; }
writing() { compgen -G "out.csv.tmp-*" >/dev/null; }
reading() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q "big.db$"; }

interrupt INT 130 writing "$TRACEFS" export big.db --format csv -o out.csv
interrupt TERM 143 reading "$TRACEFS" report big.db
interrupt INT 130 reading "$TRACEFS" report --html out.html big.db
leftovers=$(ls | grep -v '^big\.db\|^stderr$' || true)
[ -z "$leftovers" ] || fail "left behind: $leftovers"
