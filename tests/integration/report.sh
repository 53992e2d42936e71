#!/bin/bash
# `tracefs report`: on a crafted trace (tests/tools/make_trace crafted) the
# three phases and one finding of each kind appear with the right numbers;
# --json parses and its numbers equal direct sqlite3 queries; --html writes
# a page with SVG charts; --top limits the lists; a corrupt trace, a missing
# file and files that are no trace fail with a clear message. Then a trace
# recorded through a real mount reports sensibly.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/first-workload.sh"

MAKE_TRACE=$TOOLS/make_trace
[ -x "$MAKE_TRACE" ] || fail "$MAKE_TRACE is not built: make BUILD=... $MAKE_TRACE"

# Runs `tracefs report ARGS`, which must succeed with nothing on stderr.
report() {
	"$TRACEFS" report "$@" 2>"$T/stderr" || fail "tracefs report $*: exit $? ($(cat "$T/stderr"))"
	[ ! -s "$T/stderr" ] || fail "tracefs report $*: wrote to stderr: $(cat "$T/stderr")"
}

# Runs `tracefs report ARGS`, which must fail (exit 1) saying MESSAGE.
report_fails() { # MESSAGE ARGS...
	local want=$1 rc=0
	shift
	"$TRACEFS" report "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?
	assert_eq "$rc" 1 "exit status of tracefs report $*"
	grep -qF "tracefs report: " "$T/stderr" || fail "no 'tracefs report:' message: $(cat "$T/stderr")"
	grep -qF -- "$want" "$T/stderr" || fail "message '$(cat "$T/stderr")' lacks '$want'"
	[ ! -s "$T/stdout" ] || fail "tracefs report $* failed but wrote a report"
	note "refused: $(cat "$T/stderr")"
}

# Every line of FILE fits in 100 columns (characters, not bytes).
check_width() {
	python3 - "$1" <<'EOF' || fail "the report is wider than 100 columns"
import sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    if len(line.rstrip("\n")) > 100:
        sys.exit(f"line {n} has {len(line.rstrip())} columns: {line}")
EOF
}

# ---- the crafted trace: the terminal report ----

db=$T/crafted.db
"$MAKE_TRACE" crafted "$db"
report "$db" >"$T/report.txt"
check_width "$T/report.txt"
sed 's/^/  | /' "$T/report.txt" | sed -n '/Phases/,$p'

phases=$(awk '/^Phases/ { on = 1 } on && /^  #/ { rows = 1; next } rows && /^$/ { on = rows = 0 } rows { print $2 }' "$T/report.txt" | paste -sd' ')
assert_eq "$phases" "configure make remove" "phases of the crafted run"
expect_line() { # TEXT WHAT
	grep -qF -- "$1" "$T/report.txt" || fail "$2: no line with '$1'"
}
expect_line "files read many times over" reopened
expect_line "1 file opened 10 times or more, 25 opens in all." reopened
expect_line "opens      read  path" "reopened columns"
expect_line "25  2.44 KiB  /src/config.h" "reopened item"
expect_line "1 missing path looked up 5 times or more, 7 failed lookups in all." missing
expect_line "failed lookups  path" "missing columns"
expect_line "7  /src/missing.h" "missing item"
expect_line "1 file with 64 or more reads or writes of 1 to 511 bytes" "tiny I/O"
expect_line "tiny I/Os  of all I/Os  path" "tiny I/O columns"
expect_line "100          100  /build.log" "tiny I/O item"
expect_line "1 directory listed 10 times or more, 12 listings in all." relisted
expect_line "listings  readdirs  path" "relisted columns"
expect_line "12        24  /src" "relisted item"
expect_line "3 fsyncs on 1 file took 6.00 ms" fsync
expect_line "cc1 (4), gcc (3)" "who looked for /src/missing.h"
expect_line "EACCES" "errors by errno"
expect_line "events        860" "event count"

# ---- --json: parses, and its numbers are the trace's ----

report --json "$db" >"$T/report.json"
python3 -c 'import json,sys; json.load(sys.stdin)' <"$T/report.json" || fail "--json is not JSON"
events=$(sql "$db" "SELECT count(*) FROM trace")
read_bytes=$(sql "$db" "SELECT coalesce(sum(bytes), 0) FROM trace WHERE op = 'read'")
written=$(sql "$db" "SELECT coalesce(sum(bytes), 0) FROM trace WHERE op IN ('write', 'copy_file_range')")
errors=$(sql "$db" "SELECT count(*) FROM trace WHERE result < 0")
op_counts=$(sql "$db" "SELECT op || '=' || count(*) FROM trace GROUP BY op ORDER BY op" | paste -sd' ')
n=$(sql "$db" "SELECT count(*) FROM trace WHERE op = 'write'")
p50=$(sql "$db" "SELECT dur_ns FROM trace WHERE op = 'write' ORDER BY dur_ns LIMIT 1 OFFSET ($n * 50 + 99) / 100 - 1")
p99=$(sql "$db" "SELECT dur_ns FROM trace WHERE op = 'write' ORDER BY dur_ns LIMIT 1 OFFSET ($n * 99 + 99) / 100 - 1")
python3 - "$T/report.json" "$events" "$read_bytes" "$written" "$errors" "$op_counts" "$p50" "$p99" <<'EOF' || fail "--json does not match the trace"
import json, sys
r = json.load(open(sys.argv[1]))
events, read, written, errors = map(int, sys.argv[2:6])
ops = dict(kv.split("=") for kv in sys.argv[6].split())
p50, p99 = int(sys.argv[7]), int(sys.argv[8])
def check(got, want, what):
    if got != want:
        sys.exit(f"{what}: JSON says {got!r}, the trace {want!r}")
check(r["events"], events, "events")
check(r["bytes_read"], read, "bytes read")
check(r["bytes_written"], written, "bytes written")
check(r["errors"], errors, "errors")
check({o["op"]: str(o["count"]) for o in r["operations"]}, ops, "operations")
write = next(o for o in r["operations"] if o["op"] == "write")
check(write["p50_ns"], p50, "p50 of write")
check(write["p99_ns"], p99, "p99 of write")
check([p["name"] for p in r["phases"]], ["configure", "make", "remove"], "phases")
check(sum(p["events"] for p in r["phases"]), events, "events in phases")
f = {x["kind"]: x for x in r["findings"]}
check(sorted(f), ["fsync", "missing", "relisted", "reopened", "tiny_io"], "finding kinds")
check(f["reopened"]["items"], [{"path": "/src/config.h", "opens": 25, "bytes_read": 2500}], "reopened")
check(f["missing"]["items"], [{"path": "/src/missing.h", "lookups": 7}], "missing")
check(f["tiny_io"]["items"], [{"path": "/build.log", "tiny": 100, "reads_writes": 100}], "tiny")
check(f["relisted"]["items"], [{"path": "/src", "listings": 12, "readdirs": 24}], "relisted")
check((f["fsync"]["total"], f["fsync"]["total_ns"]), (3, 6000000), "fsync")
missing = next(p for p in r["failing_paths"] if p["path"] == "/src/missing.h")
check((missing["name"], missing["count"], missing["processes"]),
      ("ENOENT", 7, [{"comm": "cc1", "count": 4}, {"comm": "gcc", "count": 3}]), "failing path")
check(sum(e["count"] for e in r["errors_by_errno"]), errors, "errors by errno")
check(sum(b["events"] for b in r["timeline"]["buckets"]), events, "events in the timeline")
check(r["created"], {"files": 125, "dirs": 0}, "created")
check(r["removed"], {"files": 150, "dirs": 1}, "removed")
EOF
note "--json matches sqlite3: $events events, $read_bytes bytes read, $errors errors, write p50 $p50 ns"

report --json --top 2 "$db" >"$T/top2.json"
python3 -c '
import json, sys
r = json.load(sys.stdin)
assert len(r["failing_paths"]) == 2 and len(r["processes"]) == 2, "--top 2 not applied"
assert r["processes_total"] == 7, r["processes_total"]' <"$T/top2.json" || fail "--top 2"

# ---- --html ----

"$TRACEFS" report --html "$T/report.html" "$db" 2>"$T/stderr" || fail "--html: $(cat "$T/stderr")"
grep -q "<svg" "$T/report.html" || fail "--html: no <svg in the page"
grep -q "/src/missing.h" "$T/report.html" || fail "--html: the failing path is missing"
grep -q "</html>" "$T/report.html" || fail "--html: the page is not complete"
! grep -qE "<(script|link)|src=\"http" "$T/report.html" || fail "--html: the page is not self-contained"
[ -z "$(ls "$T" | grep 'report.html.tmp')" ] || fail "--html left a temporary file"
note "--html: $(wc -c <"$T/report.html") bytes, $(grep -o "<svg" "$T/report.html" | wc -l) charts"

# ---- refusals ----

report_fails "does not exist" "$T/missing.db"
[ ! -e "$T/missing.db" ] || fail "reporting a missing trace created it"
echo "not a database" >"$T/text.db"
report_fails "not an SQLite database" "$T/text.db"
sqlite3 "$T/plain.db" "CREATE TABLE t(x); INSERT INTO t VALUES (1)"
report_fails "not a tracefs trace" "$T/plain.db"
cp "$db" "$T/corrupt.db"
# 'X' over everything after the first page: b-tree pages SQLite cannot read.
size=$(stat -c %s "$T/corrupt.db")
head -c $((size - 4096)) /dev/zero | tr '\0' X | dd of="$T/corrupt.db" bs=4096 seek=1 conv=notrunc status=none
report_fails "is corrupt" "$T/corrupt.db"
report_fails "is corrupt" --json "$T/corrupt.db"
rc=0
"$TRACEFS" report --html "$T/corrupt.html" "$T/corrupt.db" 2>/dev/null || rc=$?
assert_eq "$rc" 1 "exit status of --html on a corrupt trace"
[ -z "$(ls "$T" | grep corrupt.html)" ] || fail "--html of a corrupt trace left a file"
rc=0
"$TRACEFS" report --top 0 "$db" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status of --top 0"

# ---- a trace recorded through a mount ----

mkdir -p "$T/src" "$T/mnt"
"$TRACEFS" mount -o exact --db "$T/mount.db" "$T/src" "$T/mnt"
first_workload "$T/mnt"
(
	cd "$T/mnt" || exit 1
	echo "hello" >greeting.txt
	for i in $(seq 12); do cat greeting.txt >/dev/null; done
	for i in $(seq 6); do stat nowhere.h >/dev/null 2>&1 || true; done
	mkdir listed && for i in $(seq 11); do ls listed >/dev/null; done
) || fail "the extra workload failed"
"$TRACEFS" umount "$T/mnt"

mdb=$T/mount.db
report "$mdb" >"$T/mount.txt"
check_width "$T/mount.txt"
report --json "$mdb" >"$T/mount.json"
python3 - "$T/mount.json" "$(sql "$mdb" "SELECT count(*) FROM trace")" <<'EOF' || fail "the report of the mounted run"
import json, sys
r = json.load(open(sys.argv[1]))
def check(cond, what):
    if not cond:
        sys.exit(what)
check(r["events"] == int(sys.argv[2]), f"events {r['events']} != {sys.argv[2]}")
ops = {o["op"]: o for o in r["operations"]}
check(ops["mkdir"]["count"] == 89 and ops["rmdir"]["count"] == 88, "mkdir and rmdir counts")
check(r["created"]["dirs"] == 89 and r["removed"]["dirs"] == 88, "dirs created and removed")
check(all(o["p50_ns"] <= o["p90_ns"] <= o["p99_ns"] <= o["max_ns"] for o in r["operations"]),
      "percentiles out of order")
procs = {p["comm"]: p for p in r["processes"]}
check(procs["mkdir"]["pids"] == 89, "one mkdir process per directory")
check("rm" in procs and procs["rm"]["events"] > 88, "rm's events")
f = {x["kind"]: x for x in r["findings"]}
check(any(i["path"] == "/greeting.txt" and i["opens"] >= 12 for i in f["reopened"]["items"]),
      "greeting.txt read 12 times")
check(any(i["path"] == "/nowhere.h" and i["lookups"] >= 6 for i in f["missing"]["items"]),
      "nowhere.h looked up 6 times")
check(any(i["path"] == "/listed" and i["listings"] >= 11 for i in f["relisted"]["items"]),
      "listed listed 11 times")
names = [p["name"] for p in r["phases"]]
# The workload's shell runs mkdir, then rm -rf, then the extras (cat, stat, ls).
check(names[:2] == ["mkdir", "remove"], f"the phases are not mkdir, remove, ...: {names}")
check(sum(p["events"] for p in r["phases"]) == r["events"], "every event in a phase")
EOF
sed 's/^/  | /' "$T/mount.txt" | sed -n '/^  | Phases/,/^  | $/p'
echo "report: ok"
