#!/bin/bash
# Process lineage: each process instance that touches the mount is one
# `processes` row (pid, parent, root, exe, argv, cwd, start, exit), read
# from /proc once; the events name it. Shown on real mounts: an exec chain
# sh -> make -> sh -(exec)-> cc -> cc1 under `tracefs run`'s COMMAND as
# root; threads map to their process; a process already exiting when first
# seen is 'gone', not invented; a reused pid is two instances. Then the
# reader: a format-1 trace (before lineage) still reports, exports and
# serves; corrupt processes rows are refused with a clear message.
source "$(dirname "$0")/../lib/common.sh"

[ "$(id -u)" = 0 ] || { echo "needs root (tracefs run, clone3 set_tid)"; exit 77; }
command -v make >/dev/null && command -v cc >/dev/null || { echo "needs make and cc"; exit 77; }
PROBE=$TOOLS/lineage_probe
[ -x "$PROBE" ] || fail "$PROBE is not built (make $PROBE)"

mkdir -p "$T/src"
cd "$T/src"
printf '#include "x.h"\nint f(void) { return X; }\n' >x.c
echo '#define X 1' >x.h
echo data >f
# `test` makes the recipe's shell touch the mount before it execs cc.
printf 'x.o: x.c x.h\n\ttest -f x.c && exec cc -c x.c -o x.o\n' >Makefile

# -o exact: every lookup and every flush reaches the file system.
"$TRACEFS" run -o exact --db "$T/lineage.db" -- sh -c \
	"make -s && $PROBE threads . 4 >'$T/threads.out' && $PROBE gone f >'$T/gone.out' &&
	 $PROBE reuse f >'$T/reuse.out'" 2>"$T/run.log" || fail "tracefs run: $(cat "$T/run.log")"
DB=$T/lineage.db
q() { sql "$DB" "$1"; }
assert_eq "$(q "SELECT value FROM meta WHERE key = 'format_version'")" 2 "format version"

# The root: COMMAND as tracefs run started it.
assert_eq "$(q "SELECT count(*) FROM processes WHERE state = 'root'")" 1 "one root"
ROOT=$(q "SELECT id FROM processes WHERE state = 'root'")
assert_eq "$(q "SELECT json_extract(argv, '\$[0]') || ' ' || json_extract(argv, '\$[1]') FROM processes WHERE id = $ROOT")" \
	"sh -c" "the root's argv"
assert_eq "$(q "SELECT exe FROM processes WHERE id = $ROOT")" "$(readlink -f "$(command -v sh)")" "the root's exe"
assert_eq "$(q "SELECT count(*) FROM processes WHERE root_id IS NOT $ROOT")" 0 "every chain ends at the root"

# The exec chain: the cc1 that read x.h, up to the root.
CC1=$(q "SELECT DISTINCT process FROM trace WHERE path = '/x.h' AND comm = 'cc1'")
[ -n "$CC1" ] || fail "no cc1 read of /x.h: $(q "SELECT pid, comm, process, op FROM trace WHERE path = '/x.h'")"
chain=$(q "WITH RECURSIVE up(id, depth) AS (SELECT $CC1, 0 UNION ALL
		SELECT p.parent_id, depth + 1 FROM up JOIN processes AS p ON p.id = up.id
		WHERE p.parent_id IS NOT NULL)
	SELECT group_concat(json_extract(p.argv, '\$[0]'), ' < ') FROM
	(SELECT * FROM up ORDER BY depth) AS up JOIN processes AS p ON p.id = up.id")
note "chain: $chain"
case $chain in
*/cc1" < cc < /bin/sh < make < sh") ;;
*) fail "the chain of cc1 is '$chain', not cc1 < cc < /bin/sh < make < sh" ;;
esac
# cc replaced the recipe's shell in the same pid: two rows, one pid.
assert_eq "$(q "SELECT count(DISTINCT c.pid) FROM processes AS c JOIN processes AS s ON s.id = c.parent_id
	WHERE json_extract(c.argv, '\$[0]') = 'cc' AND json_extract(s.argv, '\$[0]') = '/bin/sh' AND s.pid = c.pid")" \
	1 "the exec'd cc's parent is the shell it replaced, same pid"
assert_eq "$(q "SELECT argv FROM processes WHERE json_extract(argv, '\$[0]') = 'cc'")" \
	'["cc","-c","x.c","-o","x.o"]' "cc's argument vector"
assert_eq "$(q "SELECT cwd FROM processes WHERE id = $CC1")" "$T/src" "cc1's working directory"
assert_eq "$(q "SELECT count(*) FROM trace WHERE path = '/x.o' AND op = 'create' AND process IN
	(SELECT id FROM processes WHERE json_extract(argv, '\$[0]') = 'as' AND parent_id =
	 (SELECT parent_id FROM processes WHERE id = $CC1))")" 1 "x.o created by as, cc1's sibling under cc"

# Threads: four threads, four tids, one process.
PROBE_PID=$(awk '$1 == "pid" { print $2 }' "$T/threads.out")
assert_eq "$(q "SELECT count(DISTINCT pid) FROM trace WHERE path LIKE '/thread-%' AND op = 'create'")" 4 \
	"four creating threads"
assert_eq "$(q "SELECT count(DISTINCT process) || ' ' || min(p.pid) FROM trace AS t
	JOIN processes AS p ON p.id = t.process WHERE t.path LIKE '/thread-%' AND t.pid <> 0")" \
	"1 $PROBE_PID" "the threads' events have one process, the thread group"

# Gone: the child's only request is the flush its exit makes.
CHILD=$(awk '$1 == "child" { print $2 }' "$T/gone.out")
assert_eq "$(q "SELECT state, exe IS NULL, argv IS NULL FROM processes WHERE pid = $CHILD")" "gone|1|1" \
	"a process exiting before it was read: gone, exe and argv unknown"
assert_eq "$(q "SELECT op FROM trace WHERE pid = $CHILD")" flush "the gone child's request"
assert_eq "$(q "SELECT json_extract(p.argv, '\$[1]') FROM processes AS c JOIN processes AS p ON p.id = c.parent_id
	WHERE c.pid = $CHILD")" gone "the gone child's parent"

# Reuse: one pid, two instances, each with its own events.
REUSED=$(awk '$1 == "pid" { print $2 }' "$T/reuse.out")
assert_eq "$(q "SELECT count(*) FROM processes WHERE pid = $REUSED")" 2 "a reused pid is two instances"
assert_eq "$(q "SELECT count(DISTINCT process) FROM trace WHERE pid = $REUSED")" 2 "each with its events"
assert_eq "$(q "SELECT count(*) FROM processes WHERE first_seq IS NOT NULL AND pid = $REUSED")" 2 "first_seq"

# Exits seen, and the view joins.
assert_eq "$(q "SELECT exit_ns > start_ns FROM processes WHERE id = $ROOT")" 1 "the root's exit"
assert_eq "$(q "SELECT count(*) FROM trace WHERE process IS NOT NULL AND (exe IS NULL AND process NOT IN
	(SELECT id FROM processes WHERE state = 'gone'))")" 0 "the view's exe of every attributed event"
"$TRACEFS" report "$DB" >/dev/null || fail "report of a lineage trace"

# Exits at the end: two short processes exit while the exit watcher naps
# (50 ms after it took the first), and the run ends at once; both exits
# are still recorded.
(cd "$T/src" && "$TRACEFS" run --db "$T/exits.db" -- sh -c \
	'mkdir e1; mkdir e2; true' 2>"$T/exits.log") ||
	fail "tracefs run (exits): $(cat "$T/exits.log")"
assert_eq "$(sql "$T/exits.db" "SELECT count(*) || ' ' || count(exit_ns) FROM processes
	WHERE json_extract(argv, '\$[0]') = 'mkdir'")" "2 2" "the exits of two short processes at the end of a run"

# Under `tracefs mount` there is no root given: a process none of whose
# ancestors was recorded starts a chain of its own (a shell that only
# starts programs is not recorded), and one below a recorded process joins
# its chain, even after unrooted processes were seen from that shell.
mkdir -p "$T/msrc" "$T/mnt"
echo data >"$T/msrc/f"
"$TRACEFS" mount -o exact --no-ws --db "$T/mount.db" "$T/msrc" "$T/mnt"
sh -c "cat '$T/mnt/f' >/dev/null; cat '$T/mnt/f' >/dev/null"
sh -c "test -f '$T/mnt/f' && cat '$T/mnt/f' >/dev/null"
"$TRACEFS" umount "$T/mnt"
M=$T/mount.db
assert_eq "$(sql "$M" "SELECT group_concat(json_extract(argv, '\$[0]') || ':' || (parent_id IS NULL) || ':' || (root_id = id), ' ')
	FROM processes")" "cat:1:1 cat:1:1 sh:1:1 cat:0:0" "mount: two unrelated cats, then a shell and its cat"
assert_eq "$(sql "$M" "SELECT json_extract(p.argv, '\$[0]') FROM processes AS c JOIN processes AS p ON p.id = c.parent_id")" \
	sh "mount: the cat run by a recorded shell is its child"

# A format-1 trace: procs as format 1 made it, no processes table.
cp "$DB" "$T/v1.db"
START_NS=$(q "SELECT value FROM meta WHERE key = 'start_ns'")
sqlite3 "$T/v1.db" <<EOF
PRAGMA legacy_alter_table = ON;
DROP VIEW commits;
DROP VIEW trace;
ALTER TABLE procs RENAME TO procs2;
CREATE TABLE procs(          -- one row per distinct (pid, comm, uid, gid)
  id INTEGER PRIMARY KEY,
  pid INTEGER NOT NULL,
  comm TEXT,                 -- NULL if unknown
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL
);
INSERT INTO procs SELECT id, pid, comm, uid, gid FROM procs2;
DROP TABLE procs2;
DROP TABLE processes;
UPDATE meta SET value = '1' WHERE key = 'format_version';
CREATE VIEW trace AS SELECT
  e.seq AS seq, e.ts + $START_NS AS ts_ns, e.dur AS dur_ns, o.name AS op,
  p.path AS path, p2.path AS path2, k.name AS kind, pr.pid AS pid,
  pr.comm AS comm, pr.uid AS uid, pr.gid AS gid, e.result AS result,
  e.bytes AS bytes, e."offset" AS "offset", e.flags AS flags, e.mode AS mode
FROM events AS e
  LEFT JOIN ops AS o ON o.id = e.op
  LEFT JOIN paths AS p ON p.id = e.path
  LEFT JOIN paths AS p2 ON p2.id = e.path2
  LEFT JOIN kinds AS k ON k.id = e.kind
  LEFT JOIN procs AS pr ON pr.id = e.proc;
VACUUM;
EOF
"$TRACEFS" report "$T/v1.db" >"$T/v1.report" 2>&1 || fail "report of a format-1 trace: $(cat "$T/v1.report")"
"$TRACEFS" export "$T/v1.db" --format jsonl >"$T/v1.jsonl" || fail "export of a format-1 trace"
assert_eq "$(wc -l <"$T/v1.jsonl")" "$(q 'SELECT count(*) FROM events')" "format-1 events exported"
"$TRACEFS" serve "$T/v1.db" --ws 127.0.0.1:0 2>"$T/serve.err" &
server=$!
CLEANUP_PIDS="${CLEANUP_PIDS:-} $server"
has_url() { grep -q 'http://127\.0\.0\.1:[0-9]*/' "$T/serve.err"; }
wait_for 20 has_url || fail "serve of a format-1 trace printed no URL: $(cat "$T/serve.err")"
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/[^ ]*' "$T/serve.err" | head -n 1)
base=${url%%\?*}
WS_CLIENT_SEND='{"cmd":"speed","value":1000000}
{"cmd":"play"}' timeout 30 "$TOOLS/ws_client" --until '"ended":true' \
	"ws://${base#http://}events${url#"$base"}" >/dev/null 2>"$T/client.err" ||
	fail "replay of a format-1 trace: $(cat "$T/client.err")"
kill "$server" && wait "$server" 2>/dev/null || true
note "format 1: report, export and serve (replayed to the end) work"

# Corrupt lineage: each refused, naming what is wrong.
corrupt() { # WHAT SQL EXPECTED-MESSAGE
	cp "$DB" "$T/bad.db"
	sqlite3 "$T/bad.db" "$2"
	if "$TRACEFS" report "$T/bad.db" >/dev/null 2>"$T/bad.err"; then
		fail "$1: a corrupt trace was reported"
	fi
	grep -q "$3" "$T/bad.err" || fail "$1: message '$(cat "$T/bad.err")' lacks '$3'"
	note "$1: $(head -n 1 "$T/bad.err")"
}
corrupt "argv not JSON" "UPDATE processes SET argv = '[\"cc\",' WHERE id = $CC1" \
	"processes id $CC1: bad argv"
corrupt "argv not strings" "UPDATE processes SET argv = '[1]' WHERE id = $CC1" "bad argv"
corrupt "parent after child" "UPDATE processes SET parent_id = $CC1 + 1 WHERE id = $CC1" "bad parent_id"
corrupt "unknown state" "UPDATE processes SET state = 'zombie' WHERE id = $CC1" "bad state"
corrupt "exe not text" "UPDATE processes SET exe = x'00' WHERE id = $CC1" "bad exe"
corrupt "missing process" "UPDATE procs SET process = 99999 WHERE id = 1" "procs id 1"
corrupt "lineage in format 1" "UPDATE meta SET value = '1' WHERE key = 'format_version'" \
	"format version 1 with process lineage"
