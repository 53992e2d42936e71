#!/bin/bash
# `tracefs diff`: a small C project (four .c files, two headers, a Makefile)
# is built under `tracefs run` (A); one header is edited so that what
# includes it grows, and `make` runs again (B); then the header is only
# touched and `make` runs once more (C). diff A B names exactly the objects
# that include the header and the relinked program as changed outputs,
# nothing new or gone, and the other objects as up to date; diff B C
# finds them rewritten alike (same sizes, same writers) and nothing
# changed; a trace against itself shows no change. The terminal form fits
# 100 columns and cuts lists with "N more"; --html writes one valid,
# self-contained page; the page may not overwrite a trace; missing,
# corrupt and foreign inputs fail clearly.
source "$(dirname "$0")/../lib/common.sh"

command -v make >/dev/null && command -v cc >/dev/null || { echo "no make or cc"; exit 77; }

# ---- the project and its three runs ----

mkdir "$T/proj"
cd "$T/proj"
cat >greet.h <<'EOF'
#define GREETING "hello"
void greet(void);
EOF
cat >util.h <<'EOF'
int twice(int x);
EOF
cat >main.c <<'EOF'
#include <stdio.h>
#include "greet.h"
#include "util.h"
int main(void) { greet(); printf("%d %s\n", twice(2), GREETING); return 0; }
EOF
cat >greet.c <<'EOF'
#include <stdio.h>
#include "greet.h"
void greet(void) { puts(GREETING); }
EOF
cat >util.c <<'EOF'
#include "util.h"
int twice(int x) { return 2 * x; }
EOF
cat >calc.c <<'EOF'
#include "util.h"
int thrice(int x) { return twice(x) + x; }
EOF
cat >Makefile <<'EOF'
OBJS = main.o greet.o util.o calc.o
prog: $(OBJS)
	$(CC) -o $@ $(OBJS)
main.o: main.c greet.h util.h
greet.o: greet.c greet.h
util.o: util.c util.h
calc.o: calc.c util.h
EOF

record() { # DB
	"$TRACEFS" run --db "$1" -- make >"$T/make.out" 2>"$T/run.err" ||
		fail "tracefs run make: $(cat "$T/make.out" "$T/run.err")"
}
record "$T/a.db"
[ "$(./prog)" = "$(printf 'hello\n4 hello')" ] || fail "the program built wrong: $(./prog)"
# A longer greeting: every object that includes greet.h grows, and so does prog.
sed -i 's/"hello"/"hello again, with a greeting long enough to move every size"/' greet.h
record "$T/b.db"
touch greet.h
record "$T/c.db"
cd "$T"

# Runs `tracefs diff ARGS`, which must succeed with nothing on stderr.
diff_ok() {
	"$TRACEFS" diff "$@" 2>"$T/stderr" || fail "tracefs diff $*: exit $? ($(cat "$T/stderr"))"
	[ ! -s "$T/stderr" ] || fail "tracefs diff $*: wrote to stderr: $(cat "$T/stderr")"
}

# Prints the sorted paths of outputs.CLASS (or reads.CLASS) of the JSON in FILE, one line.
paths() { # FILE SECTION CLASS
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted(e["path"] for e in d[sys.argv[2]][sys.argv[3]])))' "$@"
}

# ---- A -> B: exactly the recompiled objects and the program changed ----

diff_ok --json "$T/a.db" "$T/b.db" >"$T/ab.json"
assert_eq "$(paths "$T/ab.json" outputs changed)" "/greet.o /main.o /prog" "changed outputs A -> B"
assert_eq "$(paths "$T/ab.json" outputs new)" "" "new outputs A -> B"
assert_eq "$(paths "$T/ab.json" outputs gone)" "" "gone outputs A -> B"
assert_eq "$(paths "$T/ab.json" outputs kept)" "/calc.o /util.o" "outputs up to date in B"
assert_eq "$(paths "$T/ab.json" reads gone)" "/calc.c /util.c" "sources no longer read"
python3 - "$T/ab.json" <<'EOF' || fail "the JSON of A -> B"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["changed"] is True
assert d["a"]["outputs"] == 5 and d["b"]["outputs"] == 3, (d["a"], d["b"])
for e in d["outputs"]["changed"]:
    a, b = e["a"], e["b"]
    assert (a["size"], a["bytes_written"]) != (b["size"], b["bytes_written"]), e
    assert a["writer"] == b["writer"] and a["writer"] in ("as", "ld"), e
gone = {(f["path"], f["errno"]) for f in d["failures"]["gone"]}
# cc1 looked for a precompiled util.h.gch only in A; that A looked for the
# objects before making them is no failure (every create looks up first).
assert ("/util.h.gch", "ENOENT") in gone, gone
assert not any(p.endswith(".o") for p, _ in gone), gone
assert [p["name"] for p in d["phases"]], d["phases"]
ops = {(c["command"], c["op"]): (c["a"], c["b"]) for c in d["commands"]}
assert ops[("as", "write")][0] > ops[("as", "write")][1], ops
assert all(l["op"] and ("a" in l) for l in d["latency"])
# Process lineage: the compiler lines not run again, nothing run in B only.
assert d["a"]["lineage"] and d["b"]["lineage"]
lines = d["command_lines"]
assert all(l["b"] == 0 for l in lines), lines
cc = sorted(l["argv"] for l in lines if l["argv"].startswith("cc "))
assert cc == ["cc -c -o calc.o calc.c", "cc -c -o util.o util.c"], cc
EOF
note "A -> B: changed $(paths "$T/ab.json" outputs changed); up to date $(paths "$T/ab.json" outputs kept)"

# ---- B -> C: the header only touched: rebuilt alike, nothing changed ----

diff_ok --json "$T/b.db" "$T/c.db" >"$T/bc.json"
assert_eq "$(paths "$T/bc.json" outputs changed)" "" "changed outputs B -> C"
assert_eq "$(paths "$T/bc.json" outputs new)$(paths "$T/bc.json" outputs gone)" "" "new or gone B -> C"
assert_eq "$(paths "$T/bc.json" outputs same)" "/greet.o /main.o /prog" "rewritten alike B -> C"
assert_eq "$(paths "$T/bc.json" outputs kept)" "" "up to date in C (neither B nor C wrote them)"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["command_lines"] == [], d["command_lines"]  # temporaries in arguments matched
' "$T/bc.json" || fail "B and C ran the same command lines"

# ---- a trace against itself ----

diff_ok --json "$T/a.db" "$T/a.db" >"$T/aa.json"
python3 - "$T/aa.json" <<'EOF' || fail "a trace differs from itself"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["changed"] is False
for section in ("outputs", "reads", "failures"):
    for cls, items in d[section].items():
        assert cls == "same" or not items, (section, cls, items)
assert not d["commands"]
assert all(p["a_ns"] == p["b_ns"] for p in d["phases"])
assert all(l["shift"] is None for l in d["latency"])
EOF
diff_ok "$T/a.db" "$T/a.db" >"$T/aa.txt"
grep -q "^No changes" "$T/aa.txt" || fail "no 'No changes' line: $(cat "$T/aa.txt")"

# ---- a trace from before process lineage (format 1) ----

old=$ROOT/tests/fuzz/corpus/trace/events-12.trace
assert_eq "$(sqlite3 "$old" "SELECT value FROM meta WHERE key = 'format_version'")" 1 "format of $old"
diff_ok --json "$old" "$old" >"$T/old.json"
python3 - "$T/old.json" <<'EOF' || fail "an old trace against itself"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["changed"] is False and d["command_lines"] is None and not d["a"]["lineage"], d
assert d["a"]["events"] == 12
EOF
diff_ok "$old" "$T/a.db" >"$T/old-new.txt"
grep -qF "Command lines: not compared (A has no process lineage: an older trace)" "$T/old-new.txt" ||
	fail "old against new: $(cat "$T/old-new.txt")"
grep -q "^Outputs" "$T/old-new.txt" || fail "old against new: no outputs compared"

# ---- the terminal form ----

diff_ok "$T/a.db" "$T/b.db" >"$T/ab.txt"
sed 's/^/  | /' "$T/ab.txt"
python3 - "$T/ab.txt" <<'EOF' || fail "the comparison is wider than 100 columns"
import sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    if len(line.rstrip("\n")) > 100:
        sys.exit(f"line {n} has {len(line.rstrip())} columns: {line}")
EOF
for want in "Outputs (files written and there at the end): 3 changed, 0 new, 0 gone" \
	"written by A, only read by B (up to date in B): 2" "no longer read" "Phases" \
	"  A only       1      0  cc -c -o util.o util.c"; do
	grep -qF -- "$want" "$T/ab.txt" || fail "no line with '$want'"
done
grep -E "^  changed .*/main\.o$" "$T/ab.txt" | grep -q "size +" || fail "main.o's size change not shown"
diff_ok --top 1 "$T/a.db" "$T/b.db" >"$T/top1.txt"
grep -q "^  \.\.\. 2 more$" "$T/top1.txt" || fail "--top 1: no '... 2 more' after the first change"
rc=0
"$TRACEFS" diff --top 0 "$T/a.db" "$T/b.db" 2>"$T/stderr" || rc=$?
assert_eq "$rc" 2 "exit status of --top 0"

# ---- --html ----

"$TRACEFS" diff --html "$T/ab.html" "$T/a.db" "$T/b.db" 2>"$T/stderr" || fail "--html: $(cat "$T/stderr")"
grep -q "wrote $T/ab.html" "$T/stderr" || fail "--html says nothing of the page: $(cat "$T/stderr")"
python3 - "$T/ab.html" <<'EOF' || fail "--html: the page is not valid"
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "img", "hr", "input", "link"}
class Check(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.text = [], []
    def handle_starttag(self, tag, attrs):
        assert tag not in ("script", "link", "iframe", "img"), f"not self-contained: <{tag}>"
        if tag not in VOID:
            self.stack.append(tag)
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-3:]}"
        self.stack.pop()
    def handle_data(self, data):
        self.text.append(data)
page = open(sys.argv[1], encoding="utf-8").read()
assert page.startswith("<!DOCTYPE html>")
c = Check()
c.feed(page)
c.close()
assert not c.stack, f"unclosed: {c.stack}"
text = " ".join(c.text)
for want in ("/main.o", "/greet.o", "/prog", "changed", "Phases", "Latency per operation"):
    assert want in text, want
assert "http" not in page.replace("http-equiv", "")
EOF
note "--html: $(wc -c <"$T/ab.html") bytes"

# ---- inputs it must refuse ----

diff_fails() { # STATUS MESSAGE ARGS...
	local status=$1 want=$2 rc=0
	shift 2
	"$TRACEFS" diff "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?
	assert_eq "$rc" "$status" "exit status of tracefs diff $*"
	grep -qF "tracefs diff: " "$T/stderr" || fail "no 'tracefs diff:' message: $(cat "$T/stderr")"
	grep -qF -- "$want" "$T/stderr" || fail "message '$(cat "$T/stderr")' lacks '$want'"
	[ ! -s "$T/stdout" ] || fail "tracefs diff $* failed but wrote a comparison"
	note "refused: $(head -n 1 "$T/stderr")"
}
cp "$T/a.db" "$T/a-copy.db"
sum=$(md5sum <"$T/a.db")
diff_fails 1 "it is the trace being read" --html "$T/a.db" "$T/a.db" "$T/b.db"
diff_fails 1 "it is the trace being read" --html "$T/b.db" "$T/a.db" "$T/b.db"
ln -s "$T/b.db" "$T/b-link.db"
diff_fails 1 "it is the trace being read" --html "$T/b-link.db" "$T/a.db" "$T/b.db"
assert_eq "$(md5sum <"$T/a.db")" "$sum" "the trace after a refused --html"
diff_fails 1 "does not exist" "$T/a.db" "$T/missing.db"
echo "not a trace" >"$T/text.db"
diff_fails 1 "not a tracefs trace" "$T/text.db" "$T/a.db"
sqlite3 "$T/foreign.db" "CREATE TABLE t(x); INSERT INTO t VALUES (1)"
diff_fails 1 "foreign.db" "$T/a.db" "$T/foreign.db"
head -c 20000 "$T/a.db" >"$T/cut.db"
diff_fails 1 "cut.db" "$T/cut.db" "$T/a.db"
# Garbage over the middle of the events: corrupt, said so, no crash.
cp "$T/a.db" "$T/spoilt.db"
size=$(stat -c %s "$T/spoilt.db")
dd if=/dev/urandom of="$T/spoilt.db" bs=1 seek=$((size / 2)) count=4096 conv=notrunc 2>/dev/null
rc=0
"$TRACEFS" diff "$T/spoilt.db" "$T/a.db" >/dev/null 2>"$T/stderr" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "a spoilt trace: exit $rc ($(cat "$T/stderr"))"
[ "$rc" = 0 ] || grep -q "tracefs diff: " "$T/stderr" || fail "a spoilt trace: $(cat "$T/stderr")"
note "spoilt trace: exit $rc $(head -c 160 "$T/stderr")"
diff_fails 2 "give two traces" "$T/a.db"
"$TRACEFS" diff --help | grep -q "^usage: tracefs diff" || fail "--help"
