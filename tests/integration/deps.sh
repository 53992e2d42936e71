#!/bin/bash
# `tracefs deps`: a tiny C project (three C files, two headers, a generated
# config.h and a configure-like probe that compiles a conftest.c and removes
# it) built with make under `tracefs run`. compile_commands.json has one
# entry per C file make compiled, with its real arguments, and no conftest;
# each object's make rule lists exactly what `gcc -MM` lists; --why and
# --impact answer; the dot graph renders with Graphviz. Then the synthetic
# build of make_trace, and bad input: no trace, a format-1 trace without
# lineage, a corrupt processes row, a path that is not in the trace,
# usage errors, and -o over the trace itself.
source "$(dirname "$0")/../lib/common.sh"

command -v dot >/dev/null || { echo "no graphviz (dot): make deps"; exit 77; }
MAKE_TRACE=$TOOLS/make_trace
[ -x "$MAKE_TRACE" ] || fail "$MAKE_TRACE is not built: make BUILD=... $MAKE_TRACE"

# Runs `tracefs deps ARGS`, which must succeed with nothing on stderr.
deps() {
	"$TRACEFS" deps "$@" 2>"$T/stderr" || fail "tracefs deps $*: exit $? ($(cat "$T/stderr"))"
	[ ! -s "$T/stderr" ] || fail "tracefs deps $*: wrote to stderr: $(cat "$T/stderr")"
}

# Runs `tracefs deps ARGS`, which must fail with status STATUS saying MESSAGE.
deps_fails() { # STATUS MESSAGE ARGS...
	local status=$1 want=$2 rc=0
	shift 2
	"$TRACEFS" deps "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?
	assert_eq "$rc" "$status" "exit status of tracefs deps $*"
	grep -qF -- "$want" "$T/stderr" || fail "message '$(cat "$T/stderr")' lacks '$want'"
	[ ! -s "$T/stdout" ] || fail "tracefs deps $* failed but wrote: $(head -c 300 "$T/stdout")"
	note "refused: $(head -n 1 "$T/stderr")"
}

# ---- the project ----
P=$T/proj
mkdir -p "$P/include"
cat >"$P/include/util.h" <<'EOF'
int twice(int);
EOF
cat >"$P/include/log.h" <<'EOF'
void say(int);
EOF
cat >"$P/main.c" <<'EOF'
#include "util.h"
#include "log.h"
#include "config.h"
int main(void) { say(twice(VALUE)); return 0; }
EOF
cat >"$P/util.c" <<'EOF'
#include "util.h"
int twice(int x) { return 2 * x; }
EOF
cat >"$P/log.c" <<'EOF'
#include <stdio.h>
#include "log.h"
void say(int x) { printf("%d\n", x); }
EOF
# The probe is configure's way: a conftest.c compiled, run and removed by one shell.
cat >"$P/Makefile" <<'EOF'
CFLAGS = -O1 -Wall -Iinclude
prog: main.o util.o log.o
	$(CC) -o $@ main.o util.o log.o
main.o: main.c include/util.h include/log.h config.h
util.o: util.c include/util.h
log.o: log.c include/log.h
config.h:
	echo 'int main(void) { return 0; }' > conftest.c && $(CC) -o conftest conftest.c && ./conftest && rm -f conftest conftest.c
	echo '#define VALUE 21' > config.h-t && mv config.h-t config.h
EOF
(cd "$P" && "$TRACEFS" run --db "$T/trace.db" -- sh -c 'make && ./prog' >"$T/run.out" 2>"$T/run.err") ||
	fail "the build under tracefs run failed: $(cat "$T/run.err" "$T/run.out")"
assert_eq "$(tail -n 1 "$T/run.out")" 42 "the program's output"
assert_eq "$(ls "$P" | grep -c conftest)" 0 "conftest removed"
db=$T/trace.db

# compile_commands.json: one entry per C file make compiled, with its arguments.
deps "$db" --format compile-commands -o "$T/compile_commands.json"
python3 - "$T/compile_commands.json" "$P" <<'EOF' || fail "compile_commands.json is wrong"
import json, os, sys
entries = json.load(open(sys.argv[1]))
proj = sys.argv[2]
files = sorted(os.path.relpath(e["file"], proj) for e in entries)
assert files == ["log.c", "main.c", "util.c"], files
for e in entries:
    assert e["directory"] == proj, e
    stem = os.path.basename(e["file"])[:-2]
    assert e["arguments"] == ["cc", "-O1", "-Wall", "-Iinclude", "-c", "-o", stem + ".o", stem + ".c"], e
    assert e["output"] == os.path.join(proj, stem + ".o"), e
    assert os.path.isfile(e["file"]), e
EOF
note "compile_commands.json: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/compile_commands.json") entries, no conftest.c"

# Each object's rule lists what gcc -MM lists (with the same arguments).
deps "$db" --format make -o "$T/deps.mk"
for stem in main util log; do
	want=$(cd "$P" && cc -O1 -Wall -Iinclude -MM "$stem.c" | tr -d '\\\n' | tr ' ' '\n' |
		grep -v ':$' | grep . | sed "s|^|$P/|" | sort)
	got=$(python3 - "$T/deps.mk" "$P/$stem.o" <<'EOF'
import sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
for line in text.splitlines():
    target, _, rest = line.partition(": ")
    if target.rstrip(":") == sys.argv[2]:
        print("\n".join(sorted(rest.split())))
EOF
)
	assert_eq "$got" "$want" "inputs of $stem.o against gcc -MM"
done
note "make rules of main.o, util.o, log.o equal gcc -MM"
grep -q "^$P/prog:" "$T/deps.mk" || fail "no rule for prog"
grep -q conftest "$T/deps.mk" && fail "a temporary in the make rules: $(grep conftest "$T/deps.mk")"
grep -q 'config.h-t' "$T/deps.mk" && fail "config.h-t (renamed away) in the make rules"

# --why and --impact, with a trace path and with a real path.
deps "$db" --why /include/util.h -o "$T/why"
grep -q "read by 2 commands" "$T/why" || fail "--why: $(cat "$T/why")"
grep -q "made /main.o" "$T/why" && grep -q "made /util.o" "$T/why" || fail "--why: $(cat "$T/why")"
"$TRACEFS" deps "$db" --impact "$P/include/log.h" >"$T/impact" 2>"$T/impact.err" ||
	fail "--impact: $(cat "$T/impact.err")"
assert_eq "$(tr '\n' ' ' <"$T/impact")" "/log.o /main.o /prog " "--impact include/log.h"
note "--impact include/log.h: $(tr '\n' ' ' <"$T/impact")"
"$TRACEFS" deps "$db" --impact /config.h >"$T/impact" 2>/dev/null
assert_eq "$(tr '\n' ' ' <"$T/impact")" "/main.o /prog " "--impact config.h"
# A relative path, as a shell user types it: from the working directory,
# else from the mount's root.
(cd "$P/include" && "$TRACEFS" deps "$db" --impact ./log.h) >"$T/impact" 2>"$T/impact.err" ||
	fail "--impact ./log.h in include/: $(cat "$T/impact.err")"
assert_eq "$(tr '\n' ' ' <"$T/impact")" "/log.o /main.o /prog " "--impact ./log.h in include/"
(cd "$(dirname "$P")" && "$TRACEFS" deps "$db" --impact "$(basename "$P")/include/../include/log.h") \
	>"$T/impact" 2>"$T/impact.err" || fail "--impact from the parent: $(cat "$T/impact.err")"
assert_eq "$(tr '\n' ' ' <"$T/impact")" "/log.o /main.o /prog " "--impact from the parent"
(cd / && "$TRACEFS" deps "$db" --impact include/log.h) >"$T/impact" 2>"$T/impact.err" ||
	fail "--impact include/log.h from /: $(cat "$T/impact.err")"
assert_eq "$(tr '\n' ' ' <"$T/impact")" "/log.o /main.o /prog " "--impact include/log.h from /"
(cd "$T" && "$TRACEFS" deps "$db" --impact include/log.h) >"$T/impact" 2>"$T/impact.err" ||
	fail "--impact include/log.h from $T: $(cat "$T/impact.err")"
assert_eq "$(tr '\n' ' ' <"$T/impact")" "/log.o /main.o /prog " "--impact include/log.h from $T"
grep -q "taking it from the mount's root: /include/log.h" "$T/impact.err" ||
	fail "the fallback to the mount's root not said: $(cat "$T/impact.err")"
"$TRACEFS" deps "$db" --impact "$P/include/../include/log.h" >"$T/impact" 2>"$T/impact.err" ||
	fail "--impact of an absolute path with '..': $(cat "$T/impact.err")"
assert_eq "$(tr '\n' ' ' <"$T/impact")" "/log.o /main.o /prog " "--impact of an absolute path with '..'"

# The graph: dot renders it; every command that made a file is a box.
deps "$db" --format dot -o "$T/deps.dot"
dot -Tpng -o "$T/deps.png" "$T/deps.dot" || fail "dot cannot render the graph"
boxes=$(grep -c 'shape=box' "$T/deps.dot")
assert_eq "$boxes" 5 "commands in the graph (3 compiles, the link, mv config.h)"
grep -q conftest "$T/deps.dot" && fail "a temporary in the graph"
deps "$db" --format dot --depth 1 -o "$T/deps-dirs.dot"
dot -Tpng -o "$T/deps-dirs.png" "$T/deps-dirs.dot" || fail "dot cannot render the grouped graph"
grep -q '"/include/"' "$T/deps-dirs.dot" || fail "--depth 1 does not group /include/"
grep -q '"cc -c in / ×3"' "$T/deps-dirs.dot" || fail "--depth 1 does not group the compiles"
deps "$db" --format json -o "$T/deps.json"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d["commands"]) == 5, d' \
	"$T/deps.json" || fail "json: $(head -c 500 "$T/deps.json")"

# The report names command lines (argv), not only commands.
"$TRACEFS" report "$db" >"$T/report" 2>"$T/report.err" || fail "tracefs report: $(cat "$T/report.err")"
grep -q "Commands, by command line" "$T/report" || fail "no command lines in the report"
grep -qF "cc -O1 -Wall -Iinclude -c -o main.o main.c" "$T/report" ||
	fail "the report does not name main.c's compile: $(sed -n '/Commands, by/,/^$/p' "$T/report")"
"$TRACEFS" report --json "$db" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert any(c["argv"] == ["cc", "-O1", "-Wall", "-Iinclude", "-c", "-o", "util.o", "util.c"] for c in r["commands"]), r["commands"]
' || fail "report --json has no command lines"
"$TRACEFS" report --json "$ROOT/tests/fuzz/corpus/trace/events-3.trace" |
	python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["commands"] is not None)' ||
	fail "a trace without lineage: commands must be null (unknown)"

# ---- the synthetic build (make_trace build): its graph is known ----
"$MAKE_TRACE" build "$T/build.db" || fail "make_trace build"
"$TRACEFS" deps "$T/build.db" --impact /config.h >"$T/impact" 2>/dev/null
assert_eq "$(tr '\n' ' ' <"$T/impact")" "/.deps/x.Po /prog /x.o " "synthetic --impact config.h"
"$TRACEFS" deps "$T/build.db" --format compile-commands -o "$T/cc.json" 2>"$T/stderr" ||
	fail "synthetic compile_commands: $(cat "$T/stderr")"
grep -q "1 compiler passes (cc1) ran under a driver that was gone" "$T/stderr" ||
	fail "no word of the cc1 whose driver was gone: $(cat "$T/stderr")"
assert_eq "$(python3 -c 'import json,sys; print(" ".join(e["file"] for e in json.load(open(sys.argv[1]))))' "$T/cc.json")" \
	"/work/src/x.c /work/src/y.c" "synthetic compile_commands"

# A mount of SOURCE at another MOUNTPOINT: the database names the files under
# SOURCE (where they are once unmounted); --as-mounted keeps the mountpoint.
mkdir "$T/src" "$T/mnt"
cp -r "$P/include" "$P/util.c" "$P/log.c" "$T/src/"
"$TRACEFS" mount --db "$T/mount.db" --no-ws "$T/src" "$T/mnt" >/dev/null 2>&1 || fail "tracefs mount"
(cd "$T/mnt" && cc -Iinclude -c util.c && cc -Iinclude -c -o log.o log.c) || fail "cc through the mount"
"$TRACEFS" umount "$T/mnt" || fail "tracefs umount"
deps "$T/mount.db" --format compile-commands -o "$T/mount.json"
python3 - "$T/mount.json" "$T/src" <<'EOF' || fail "compile_commands of a mount: $(cat "$T/mount.json")"
import json, sys
entries, src = json.load(open(sys.argv[1])), sys.argv[2]
assert sorted((e["directory"], e["file"], e["output"]) for e in entries) == [
    (src, src + "/log.c", src + "/log.o"), (src, src + "/util.c", src + "/util.o")], entries
EOF
deps "$T/mount.db" --format compile-commands --as-mounted -o "$T/mount.json"
grep -q "\"directory\": \"$T/mnt\"" "$T/mount.json" || fail "--as-mounted: $(cat "$T/mount.json")"

# A run that touched no file: every format is empty, not an error.
mkdir "$T/empty"
(cd "$T/empty" && "$TRACEFS" run --db "$T/empty.db" -- true 2>/dev/null) || fail "tracefs run -- true"
for format in json compile-commands make dot; do
	deps "$T/empty.db" --format $format -o "$T/empty.$format"
done
assert_eq "$(cat "$T/empty.compile-commands")" "[]" "compile_commands of an empty run"

# ---- bad input ----
deps_fails 1 "no process lineage" "$ROOT/tests/fuzz/corpus/trace/events-3.trace"
deps_fails 1 "does not exist" "$T/missing.db"
echo "not a trace" >"$T/text.db"
deps_fails 1 "$T/text.db" "$T/text.db"
cp "$db" "$T/hostile.db"
sql "$T/hostile.db" "UPDATE processes SET argv = '[\"cc\", 5' WHERE id = 2"
deps_fails 1 "corrupt" "$T/hostile.db"
cp "$db" "$T/hostile.db"
sql "$T/hostile.db" "UPDATE processes SET argv = '[\"a\\u0000b\"]' WHERE id = 2"
deps_fails 1 "corrupt" "$T/hostile.db"
deps_fails 1 "no file /nowhere.h was read or made" "$db" --why /nowhere.h
deps_fails 2 "unknown format" "$db" --format svg
deps_fails 2 "--depth is for --format dot" "$db" --depth 2
deps_fails 2 "not both" "$db" --why /a --impact /b
deps_fails 2 "which trace" --format json
deps_fails 1 "" "$db" -o "$db"
assert_eq "$(sql "$db" 'PRAGMA integrity_check')" ok "the trace after -o over itself"
"$TRACEFS" deps --help | grep -q -- "--impact PATH" || fail "--help"
echo "deps: ok"
