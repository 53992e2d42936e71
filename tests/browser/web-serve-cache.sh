#!/bin/bash
# web-serve-cache: `tracefs serve` keeps the trace's index in TRACE.index
# (0600) and the next serve of the unchanged trace loads it: the timeline,
# phases, welcome and seeks (web-serve-cache.mjs) are the same as from a
# fresh build. A damaged cache (bytes flipped, truncated, not ours) is
# ignored with a notice and rebuilt; a trace that changed is indexed
# afresh; --no-cache neither reads nor writes it; a trace being written
# (a -wal with content) is not kept. A temporary file that a serve killed
# while writing left is removed by the next (not a live writer's); the
# cache directory loses the entries of traces that are gone, and the least
# recently used ones past its size cap.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"

cd "$T"
"$TOOLS/make_trace" big trace.db 35000 >/dev/null
kept=$T/trace.db.index

# Serves trace.db with ARGS until its index is ready (stderr in serve.err);
# sets URL and SERVER.
serve() { # ARGS...
	: >"$T/serve.err" # before it starts: not the last serve's words
	"$TRACEFS" serve "$T/trace.db" --ws 127.0.0.1:0 "$@" 2>"$T/serve.err" &
	SERVER=$!
	CLEANUP_PIDS=$SERVER
	URL=$(printed_url "$T/serve.err")
	index_told() { grep -q 'the index of .* was \(built\|loaded\)' "$T/serve.err"; }
	wait_for 120 index_told || fail "serve $* told nothing of its index: $(cat "$T/serve.err")"
}
stop() {
	kill "$SERVER" && wait "$SERVER" 2>/dev/null || true
	CLEANUP_PIDS=
}
# What a client gets, into FILE.
views() { # FILE
	run_node web-serve-cache "$URL" >"$1" || fail "the client: $(cat "$1")"
}
told() { # TEXT WHAT
	grep -q "$1" "$T/serve.err" || fail "$2: serve said $(cat "$T/serve.err")"
}

serve --no-cache
views fresh.txt
stop
[ ! -e "$kept" ] || fail "--no-cache wrote $kept"
[ "$(wc -l <fresh.txt)" -ge 15 ] || fail "too little from the client: $(head -c 300 fresh.txt)"

serve
told "was built in .* kept in $kept" "the first serve"
assert_eq "$(stat -c '%a %u' "$kept")" "600 $(id -u)" "the kept index's mode and owner"
views built.txt
stop
cmp -s fresh.txt built.txt || fail "a build that is kept answered otherwise than --no-cache"

serve
told "was loaded from $kept" "the second serve"
views loaded.txt
stop
cmp -s fresh.txt loaded.txt || fail "the loaded index answers otherwise: $(diff fresh.txt loaded.txt | head -c 600)"
note "kept 0600, loaded by the next serve, the same timeline, phases and seeks"

# Damaged: bytes flipped (in the header, the middle, the end), truncated,
# empty, another's (a symlink): each ignored with a notice, rebuilt as it was.
cp "$kept" good.index
size=$(stat -c %s good.index)
for case in 5 40 $((size / 2)) $((size - 1)) cut:100 cut:$((size / 3)) cut:0 link; do
	cp good.index "$kept"
	case $case in
	cut:*) truncate -s "${case#cut:}" "$kept" ;;
	link) rm "$kept" && ln -s "$T/good.index" "$kept" ;;
	*) printf '\x5a' | dd of="$kept" bs=1 seek="$case" conv=notrunc status=none
	   cmp -s "$kept" good.index && printf '\xa5' | dd of="$kept" bs=1 seek="$case" conv=notrunc status=none ;;
	esac
	serve
	told "the index kept in $kept\\( is out of date\\|: \\)" "a damaged index ($case)"
	told "was built in .* kept in $kept" "a damaged index ($case)"
	stop
	[ ! -L "$kept" ] && cmp -s "$kept" good.index || fail "a damaged index ($case) was not rebuilt as it was"
done
serve
views again.txt
stop
cmp -s fresh.txt again.txt || fail "after the damaged ones the index answers otherwise"
note "flipped bytes, truncations, a symlink: ignored with a notice and rebuilt"

# The trace changed: events appended (size and mtime), then only its mtime.
sqlite3 trace.db "INSERT INTO events(ts, dur, op, kind, path, path2, proc, result, bytes, \"offset\", flags, mode)
	SELECT ts + 1000000000, dur, op, kind, path, path2, proc, result, bytes, \"offset\", flags, mode
	FROM events ORDER BY seq DESC LIMIT 1000"
serve
told "out of date (the trace has changed since)" "the trace with more events"
told "was built in" "the trace with more events"
views grown.txt
stop
cmp -s fresh.txt grown.txt && fail "the trace with more events gave the same views"
touch -d '2001-02-03' trace.db
serve
told "was built in" "the trace with a new mtime"
stop
serve
told "was loaded from" "the trace with a new mtime, again"
views grown-again.txt
stop
cmp -s grown.txt grown-again.txt || fail "the changed trace's loaded index answers otherwise"
note "a changed trace is indexed afresh"

# A writer holds the trace open with events in its -wal: not kept (nor
# loaded), and what was kept stays as it was.
cp "$kept" before.index
python3 -c '
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_autocheckpoint = 0")
db.execute("INSERT INTO events(ts, dur, op, kind, path, path2, proc, result, bytes, [offset], flags, mode) SELECT ts + 1, dur, op, kind, path, path2, proc, result, bytes, [offset], flags, mode FROM events WHERE seq = 1")
db.commit()
print("written", flush=True)
time.sleep(600)' trace.db >writer.out &
writer=$!
CLEANUP_PIDS=$writer
wal_written() { grep -q written writer.out && [ -s trace.db-wal ]; }
wait_for 20 wal_written || fail "no writer with a -wal"
serve
told "is not kept: it is being written" "a trace being written"
told "was built in" "a trace being written"
kill "$SERVER" && wait "$SERVER" 2>/dev/null || true
kill "$writer" && wait "$writer" 2>/dev/null || true
CLEANUP_PIDS=
cmp -s "$kept" before.index || fail "serving a trace being written changed $kept"
note "a trace being written is not kept"
# Serves TRACE with ARGS until its index is ready, then stops (stderr in serve.err).
serve_once() { # TRACE ARGS...
	local trace=$1
	shift
	: >"$T/serve.err"
	"$TRACEFS" serve "$trace" --ws 127.0.0.1:0 "$@" 2>"$T/serve.err" &
	SERVER=$!
	CLEANUP_PIDS=$SERVER
	index_told() { grep -q 'the index of .* \(was built\|was loaded\|is not kept\)' "$T/serve.err"; }
	wait_for 120 index_told || fail "serve $trace told nothing of its index: $(cat "$T/serve.err")"
	stop
}

# Killed while it writes the index (the file size limit: SIGXFSZ, at a
# point the test knows; the trace not in WAL mode, so that reading it
# writes nothing): its temporary file stays. The next serve removes it once
# it is old, but not a live writer's (locked) nor a young one.
mkdir killed
cp trace.db killed/trace.db
sqlite3 killed/trace.db "PRAGMA journal_mode=DELETE" >/dev/null
(ulimit -f 8; exec "$TRACEFS" serve killed/trace.db --ws 127.0.0.1:0 2>killed/serve.err) && fail "serve lived past the file size limit"
left=$(ls killed/trace.db.index.tmp-* 2>/dev/null) || fail "no temporary file left by the killed serve: $(ls killed)"
[ "$(wc -l <<<"$left")" = 1 ] || fail "temporary files: $left"
cp "$left" killed/trace.db.index.tmp-LiVe01
cp "$left" killed/trace.db.index.tmp-YoUng1
touch -d '2 minutes ago' "$left" killed/trace.db.index.tmp-LiVe01
flock killed/trace.db.index.tmp-LiVe01 sleep 600 &
locker=$!
locked() { ! flock -n killed/trace.db.index.tmp-LiVe01 true; }
wait_for 20 locked || fail "flock did not lock"
serve_once killed/trace.db
kill "$locker" && wait "$locker" 2>/dev/null || true
told "kept in killed/trace.db.index" "the serve after the killed one"
[ ! -e "$left" ] || fail "the killed serve's $left is still there"
[ -e killed/trace.db.index.tmp-LiVe01 ] || fail "a live writer's temporary file was removed"
[ -e killed/trace.db.index.tmp-YoUng1 ] || fail "a young temporary file was removed"
note "a killed writer's temporary file is removed by the next serve, a live or young one is not"

# The cache directory (nothing can be written beside these traces: a
# directory in the way). A.db is indexed there, then deleted; two large
# entries of nobody's (sparse) overfill the cap, and a killed writer's old
# temporary file lies there. Writing B's entry removes A's, the older large
# one (the least recently used) and the temporary file.
export XDG_CACHE_HOME=$T/xdg
cache=$XDG_CACHE_HOME/tracefs
mkdir cached
for t in a b; do
	cp trace.db cached/$t.db
	mkdir cached/$t.db.index
done
serve_once cached/a.db
told "kept in $cache/" "a.db, nothing beside it"
a_entry=$(ls "$cache"/*.index)
assert_eq "$(stat -c %a "$a_entry")" 600 "the cache entry's mode"
rm cached/a.db
printf TFSINDEX >"$cache/1-1.index"
printf TFSINDEX >"$cache/1-2.index"
truncate -s 700M "$cache/1-1.index" "$cache/1-2.index"
# Files that are not kept indexes (by name, or by their first bytes) are never removed.
truncate -s 700M "$cache/notes.index" "$cache/1-4.index"
touch -d '5 days ago' "$cache/notes.index" "$cache/1-4.index"
touch -d '3 days ago' "$cache/1-1.index"
touch -d '2 days ago' "$cache/1-2.index"
cp "$a_entry" "$cache/1-3.index.tmp-OlD001"
touch -d '1 hour ago' "$cache/1-3.index.tmp-OlD001"
serve_once cached/b.db
told "kept in $cache/" "b.db, nothing beside it"
[ ! -e "$a_entry" ] || fail "the entry of the deleted a.db stayed"
[ ! -e "$cache/1-1.index" ] || fail "the least recently used entry stayed past the cap"
[ -e "$cache/1-2.index" ] || fail "an entry was evicted though the rest was under the cap"
[ ! -e "$cache/1-3.index.tmp-OlD001" ] || fail "a killed writer's temporary file stayed"
[ -e "$cache/notes.index" ] && [ -e "$cache/1-4.index" ] || fail "a file that is no kept index was removed"
rm "$cache/notes.index" "$cache/1-4.index"
b_entry=$(ls "$cache"/*.index | grep -v '/1-2.index$')
[ "$(wc -l <<<"$b_entry")" = 1 ] || fail "cache entries: $(ls "$cache")"
# Loading an entry marks it used.
touch -d '4 days ago' "$b_entry"
serve_once cached/b.db
told "was loaded from $b_entry" "b.db again"
[ "$(stat -c %Y "$b_entry")" -gt "$(stat -c %Y "$cache/1-2.index")" ] || fail "loading $b_entry did not mark it used"
# A cache directory that is a symlink (or not ours alone) is not used at all.
export XDG_CACHE_HOME=$T/xdg-link
mkdir -p "$XDG_CACHE_HOME" elsewhere
ln -s "$PWD/elsewhere" "$XDG_CACHE_HOME/tracefs"
cp trace.db cached/c.db
mkdir cached/c.db.index
serve_once cached/c.db
told "is not kept" "c.db with a symlinked cache directory"
[ -z "$(ls -A elsewhere)" ] || fail "an index was written through the symlinked cache directory: $(ls elsewhere)"
unset XDG_CACHE_HOME
note "the cache directory drops the entries of deleted traces and the least recently used past 1 GiB, nothing else; a symlinked one is not used"
echo "web-serve-cache: ok"
