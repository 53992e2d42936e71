#!/bin/bash
# `tracefs export`: a trace recorded through a mount (the first workload,
# a file whose name holds a newline and a quote, some writes) in each
# format: chrome is JSON with the documented fields, csv parses to exactly
# what `sqlite3 -csv` gives, jsonl matches the trace view row for row,
# gource's log makes Gource draw frames. A corrupt trace fails clearly and
# leaves no output file.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/first-workload.sh"

mkdir -p "$T/src" "$T/mnt"
"$TRACEFS" mount --db "$T/trace.db" "$T/src" "$T/mnt"
first_workload "$T/mnt"
(
	cd "$T/mnt" || exit 1
	weird=$'new\nline "quoted", name.txt'
	printf 'x%.0s' $(seq 100) >"$weird"
	cat "$weird" >/dev/null
	dd if=/dev/zero of=data.bin bs=4096 count=16 status=none
	mv data.bin data.moved
	rm "$weird"
) || fail "the workload failed"
"$TRACEFS" umount "$T/mnt"
db=$T/trace.db
events=$(sql "$db" "SELECT count(*) FROM trace")
note "$events events"

# Runs `tracefs export --format FORMAT -o OUT`, which must succeed quietly.
export_to() { # FORMAT OUT
	"$TRACEFS" export "$db" --format "$1" -o "$2" 2>"$T/stderr" ||
		fail "export --format $1: exit $? ($(cat "$T/stderr"))"
	[ ! -s "$T/stderr" ] || fail "export --format $1 wrote to stderr: $(cat "$T/stderr")"
}

# ---- chrome ----

export_to chrome "$T/trace.json"
python3 - "$T/trace.json" "$db" <<'EOF' || fail "chrome export"
import json, sqlite3, sys
t = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
assert t["displayTimeUnit"] == "ns", "displayTimeUnit"
events = t["traceEvents"]
xs = [e for e in events if e["ph"] == "X"]
for e in xs:
    for key in ("name", "ph", "ts", "dur", "pid", "tid", "cat", "args"):
        assert key in e, f"an X event lacks {key}: {e}"
    assert isinstance(e["ts"], (int, float)) and e["dur"] >= 0, e
rows = db.execute("SELECT seq, op, path, pid, dur_ns, result FROM trace WHERE op != 'lost' ORDER BY seq").fetchall()
assert len(xs) == len(rows), f"{len(xs)} X events for {len(rows)} rows"
for e, (seq, op, path, pid, dur, result) in zip(xs, rows):
    assert (e["args"]["seq"], e["name"], e["args"]["path"], e["pid"], e["tid"], e["args"]["result"]) == \
        (seq, op, path, pid, pid, result), f"row {seq}: {e}"
    assert abs(e["dur"] * 1000 - dur) < 1, f"row {seq}: dur {e['dur']} us vs {dur} ns"
meta = [e for e in events if e["ph"] == "M"]
names = {(e["name"], e["pid"]) : e["args"]["name"] for e in meta}
for pid, comm in db.execute("SELECT DISTINCT pid, comm FROM trace WHERE op != 'lost' AND pid > 0"):
    assert ("process_name", pid) in names and ("thread_name", pid) in names, f"no names for {pid}"
assert "mkdir" in names.values() and "rm" in names.values(), "commands as names"
weird = [e for e in xs if e["args"]["path"] == '/new\nline "quoted", name.txt']
assert weird, "the weird name is missing"
print(f"  chrome: {len(xs)} X events, {len(meta)} metadata events")
EOF

# ---- csv ----

# The exports carry the event's own columns, the view's first sixteen, and
# jsonl (the live stream's format) the process instance too; the rest of the
# lineage the view joins in (ppid, exe, argv, cwd) is not exported yet.
EVENT_COLUMNS="seq, ts_ns, dur_ns, op, path, path2, kind, pid, comm, uid, gid, result, bytes,
	\"offset\", flags, mode"

export_to csv "$T/trace.csv"
sqlite3 -batch -csv -header "$db" "SELECT $EVENT_COLUMNS FROM trace" >"$T/sqlite.csv"
python3 - "$T/trace.csv" "$T/sqlite.csv" "$events" <<'EOF' || fail "csv export"
import csv, sys
def rows(name):
    with open(name, newline="", encoding="utf-8", errors="surrogateescape") as f:
        return list(csv.reader(f, strict=True))
ours, theirs = rows(sys.argv[1]), rows(sys.argv[2])
assert len(ours) == int(sys.argv[3]) + 1, f"{len(ours)} rows for {sys.argv[3]} events + a header"
assert ours[0] == theirs[0], f"header {ours[0]} != {theirs[0]}"
for a, b in zip(ours, theirs):
    assert a == b, f"row differs:\n  ours   {a}\n  sqlite {b}"
assert any("\n" in r[4] and '"' in r[4] for r in ours), "the weird name is not in a field"
print(f"  csv: {len(ours)} rows equal to sqlite3 -csv")
EOF

# ---- jsonl ----

export_to jsonl "$T/trace.jsonl"
sqlite3 -batch -json "$db" "SELECT $EVENT_COLUMNS, process FROM trace" >"$T/sqlite.json"
python3 - "$T/trace.jsonl" "$T/sqlite.json" <<'EOF' || fail "jsonl export"
import json, sys
ours = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
theirs = json.load(open(sys.argv[2], encoding="utf-8"))
assert len(ours) == len(theirs), f"{len(ours)} lines for {len(theirs)} rows"
for a, b in zip(ours, theirs):
    assert list(a) == list(b), f"fields {list(a)} != {list(b)}"
    assert a == b, f"row differs:\n  ours   {a}\n  sqlite {b}"
print(f"  jsonl: {len(ours)} lines equal to the trace view")
EOF

# ---- gource ----

export_to gource "$T/trace.gource"
python3 - "$T/trace.gource" <<'EOF' || fail "gource log"
import sys
lines = open(sys.argv[1], "rb").read().decode("utf-8").split("\n")
assert lines[-1] == "", "no final newline"
lines = lines[:-1]
last = 0
types = set()
for line in lines:
    t, user, kind, path = line.split("|")
    assert int(t) >= last and kind in "AMD" and path.startswith("/"), line
    last = int(t)
    types.add(kind)
assert types == set("AMD"), f"types {types}"
assert any(l.endswith("|A|/data.moved") for l in lines), "the rename target"
assert any(l.endswith("|D|/data.bin") for l in lines), "the renamed file"
assert any("|D|/new?line" in l for l in lines), "the weird name, sanitized"
print(f"  gource: {len(lines)} lines")
EOF
if ! timeout 20 xvfb-run -a true >/dev/null 2>&1; then
	echo "xvfb-run cannot start an X server here"
	exit 77
fi
bytes=$(timeout 120 xvfb-run -a gource --log-format custom --stop-at-end --seconds-per-day 1 \
	--output-ppm-stream - -640x480 "$T/trace.gource" 2>"$T/gource.err" | head -c 1000000 | wc -c)
[ "$bytes" -gt 0 ] || fail "gource drew nothing: $(tail -5 "$T/gource.err")"
note "gource: $bytes bytes of frames"

# ---- stdout, and refusals ----

"$TRACEFS" export "$db" --format jsonl | cmp -s - "$T/trace.jsonl" || fail "stdout differs from -o"
# 'X' over the second half: opening works, reading events fails half-way.
cp "$db" "$T/corrupt.db"
pages=$(($(stat -c %s "$T/corrupt.db") / 4096))
head -c $(((pages - pages / 2) * 4096)) /dev/zero | tr '\0' X |
	dd of="$T/corrupt.db" bs=4096 seek=$((pages / 2)) conv=notrunc status=none
for format in chrome csv jsonl gource; do
	rc=0
	"$TRACEFS" export "$T/corrupt.db" --format $format -o "$T/out.$format" 2>"$T/stderr" || rc=$?
	assert_eq "$rc" 1 "exit status of exporting a corrupt trace as $format"
	grep -q "tracefs export: .*is corrupt" "$T/stderr" || fail "message: $(cat "$T/stderr")"
	[ -z "$(ls "$T" | grep "^out\.")" ] || fail "a failed export left $(ls "$T" | grep "^out\.")"
done
note "corrupt: $(cat "$T/stderr")"
rc=0
"$TRACEFS" export "$T/none.db" --format csv 2>"$T/stderr" || rc=$?
assert_eq "$rc" 1 "exit status of exporting a missing trace"
grep -q "does not exist" "$T/stderr" || fail "message: $(cat "$T/stderr")"
rc=0
"$TRACEFS" export "$db" --format xml 2>/dev/null || rc=$?
assert_eq "$rc" 2 "exit status of an unknown format"
# An output that is a device or a fifo is written in place, never replaced
# by a file renamed over it (which, as root, would replace /dev/null).
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/from-fifo" &
reader=$!
"$TRACEFS" export "$db" --format csv -o "$T/fifo" || fail "export to a fifo"
wait "$reader"
[ -p "$T/fifo" ] || fail "the fifo was replaced by a file"
cmp -s "$T/from-fifo" "$T/trace.csv" || fail "the csv through a fifo differs from the file export"
"$TRACEFS" report --html /dev/null "$db" >/dev/null || fail "report --html /dev/null"
[ -c /dev/null ] || fail "/dev/null is no longer a device"
echo "export: ok"
