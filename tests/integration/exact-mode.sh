#!/bin/bash
# -o exact shows every access that default caching hides: ten stats of one
# file and ten failed lookups of a missing one all reach the trace; with
# -o direct_io every read() does too. By default the kernel answers repeats.
source "$(dirname "$0")/../lib/common.sh"

mkdir -p "$T/src" "$T/mnt"
head -c 65536 /dev/zero >"$T/src/file"

workload() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		stat "$T/mnt/file" >/dev/null
		stat "$T/mnt/missing" >/dev/null 2>&1 || true
		cat "$T/mnt/file" >/dev/null
	done
}

count() { # DB WHERE
	sql "$1" "SELECT count(*) FROM trace WHERE $2"
}

for mode in default exact exact,direct_io; do
	opts=()
	[ $mode = default ] || opts=(-o "$mode")
	"$TRACEFS" mount "${opts[@]}" --db "$T/$mode.db" "$T/src" "$T/mnt"
	workload
	"$TRACEFS" umount "$T/mnt"
	note "$mode: $(count "$T/$mode.db" "path = '/file' AND op IN ('lookup', 'getattr')") lookups+getattrs of /file," \
		"$(count "$T/$mode.db" "path = '/missing'") lookups of /missing," \
		"$(count "$T/$mode.db" "path = '/file' AND op = 'open'") opens," \
		"$(count "$T/$mode.db" "path = '/file' AND op = 'read'") reads"
done
assert_eq "$(sql "$T/exact.db" "SELECT value FROM meta WHERE key = 'cache_mode'")" exact "meta cache_mode"
# Negative and positive lookups are cached by default, not in exact mode.
[ "$(count "$T/default.db" "path = '/missing'")" -lt 10 ] || fail "default mode did not cache the missing name"
[ "$(count "$T/exact.db" "path = '/missing'")" -ge 10 ] || fail "exact mode missed failed lookups"
[ "$(count "$T/exact.db" "path = '/file' AND op IN ('lookup', 'getattr')")" -ge 20 ] ||
	fail "exact mode missed stats"
assert_eq "$(count "$T/exact.db" "path = '/file' AND op = 'open'")" 10 "opens in exact mode"
# With the page cache bypassed, each cat's reads reach the file system.
[ "$(count "$T/exact,direct_io.db" "path = '/file' AND op = 'read'")" -ge 10 ] ||
	fail "direct_io missed reads"
echo "exact-mode: ok"
