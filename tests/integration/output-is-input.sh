#!/bin/bash
# Every command that writes a file refuses to write over the trace it
# reads, by any name (the same path, another path, a hard link, a symlink,
# its -wal): a clear message, a non-zero exit, the trace untouched.
source "$(dirname "$0")/../lib/common.sh"

MAKE_TRACE=$TOOLS/make_trace
[ -x "$MAKE_TRACE" ] || fail "$MAKE_TRACE is not built: make BUILD=... $MAKE_TRACE"
cd "$T"
"$MAKE_TRACE" crafted a.db
cp a.db pristine.db
ln a.db hard.db
ln -s a.db link.db
ln -s "$T/a.db" link.png
ln -s "$T/a.db" link.html

refused() { # WHAT COMMAND...
	local what=$1 out rc
	shift
	set +e
	out=$("$@" 2>&1)
	rc=$?
	set -e
	[ $rc -ne 0 ] || fail "$what: exit status 0"
	grep -q "refusing to write" <<<"$out" || fail "$what: message '$out'"
	cmp -s a.db pristine.db || fail "$what: the trace was changed"
	[ -L link.db ] && [ -L link.png ] || fail "$what: a symlink was replaced"
	note "$what: exit $rc: $out"
}

refused "export -o the trace" "$TRACEFS" export a.db --format csv -o a.db
refused "export -o another path" "$TRACEFS" export a.db --format jsonl -o "$T/./a.db"
refused "export -o a hard link" "$TRACEFS" export a.db --format chrome -o hard.db
refused "export -o a symlink" "$TRACEFS" export hard.db --format gource -o link.db
refused "report --html the trace" "$TRACEFS" report --html a.db a.db
refused "report --html a symlink" "$TRACEFS" report --html link.html a.db
refused "render -o a symlink" "$TRACEFS" render a.db -o link.png
"$TRACEFS" export a.db --format csv -o out.csv || fail "export to another file"
[ -s out.csv ] || fail "no export"
"$TRACEFS" report --html out.html a.db >/dev/null 2>&1 || fail "report --html to another file"
