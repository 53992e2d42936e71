# common.sh — shared set-up for the integration tests (sourced, not run).
#
# Each test gets a private scratch directory $T that is unmounted and removed
# on exit, the daemon built with AddressSanitizer and UBSan in $TRACEFS, and
# a few assertion helpers. A test passes by exiting 0, skips with exit 77.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TRACEFS=${TRACEFS:-$BUILD/tracefs-asan}
TOOLS=$BUILD/tools
T=$(mktemp -d /tmp/tracefs-test.XXXXXX)
chmod 755 "$T"
# The daemon's stderr is /dev/null once it is in the background, so
# sanitizer reports go to files that cleanup() turns into a failure.
export ASAN_OPTIONS="log_path=$T/asan:detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="log_path=$T/asan:print_stacktrace=1:halt_on_error=1"

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "  $*"; }

assert_eq() { # ACTUAL EXPECTED WHAT
	[ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"
}

sql() { # DB QUERY — one value or rows separated by newlines, '|' between columns
	sqlite3 -batch -noheader "$1" "$2"
}

# Mount points under $T, deepest first.
mounts_under_t() {
	awk -v t="$T" '$5 == t || index($5, t "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

cleanup() {
	local rc=$?
	local m
	for m in $(mounts_under_t); do
		fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	if [ -n "${CLEANUP_PIDS:-}" ]; then kill $CLEANUP_PIDS 2>/dev/null || true; fi
	if ls "$T"/asan.* >/dev/null 2>&1; then
		echo "FAIL: sanitizer reports:" >&2
		cat "$T"/asan.* >&2
		rc=1
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

# Waits until COMMAND succeeds, polling every 20 ms, for at most SECONDS.
wait_for() { # SECONDS COMMAND...
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.02
	done
}

is_mounted() { mountpoint -q "$1"; }
