#!/bin/bash
# The original second workload (unpack wget, sh configure, make, make
# distclean, rm -rf) natively and under `tracefs run`: it must behave the
# same — every mtime kept on extraction (else make reruns autoconf), the
# same files built and left after distclean, no autotools rerun, an empty
# directory at the end — and the trace shows configure then make, which
# `tracefs report` names as the phases unpack, configure, make, clean, remove.
# Then the build graph (`tracefs deps`, tests/lib/check-build-graph.py):
# compile_commands.json has one entry per object make built, with its real
# arguments and no conftest; every object's recorded inputs in the source
# tree equal what gcc -MD wrote in the native build (kept before distclean)
# and, for a sample, what `gcc -M` lists now; --impact of src/utils.h gives
# exactly the objects whose gcc -MD output names it, and src/wget.
source "$(dirname "$0")/../lib/common.sh"

tarball=$ROOT/../shared/workloads/wget-1.21.3.tar.gz
[ -f "$tarball" ] || { echo "no $tarball"; exit 77; }
command -v dot >/dev/null || { echo "no graphviz (dot): make deps"; exit 77; }
# The optimised daemon: this workload runs for minutes, and the sanitizer
# build is covered by every other integration test.
TRACEFS=$BUILD/tracefs
WORKLOAD=$ROOT/tests/lib/second-workload

mkdir -p "$T/native" "$T/traced" "$T/logs-native" "$T/logs-traced"
start=$SECONDS
KEEP=$T/kept "$WORKLOAD" "$tarball" "$T/native" "$T/logs-native"
native_s=$((SECONDS - start))
start=$SECONDS
"$TRACEFS" run --db "$T/trace.db" --dir "$T/traced" -- \
	"$WORKLOAD" "$tarball" "$T/traced" "$T/logs-traced" 2>"$T/summary" ||
	fail "the workload failed under tracefs run: $(cat "$T/summary"; tail -n 20 "$T"/logs-traced/*.log)"
traced_s=$((SECONDS - start))
note "native ${native_s}s, traced ${traced_s}s"
sed 's/^/  /' "$T/summary"

for listing in extracted built distcleaned; do
	diff "$T/logs-native/$listing" "$T/logs-traced/$listing" >"$T/diff" ||
		fail "$listing differs from native: $(head -n 20 "$T/diff")"
	note "$listing: $(wc -l <"$T/logs-traced/$listing") entries, same as native"
done
for run in native traced; do
	if grep -E '(aclocal|autoconf|automake|autoheader)( |$)' "$T/logs-$run/make.log" >"$T/rerun"; then
		fail "make reran autotools ($run): $(head -n 5 "$T/rerun")"
	fi
done
assert_eq "$(ls -A "$T/traced")" "" "traced directory empty after rm -rf"

db=$T/trace.db
assert_eq "$(sql "$db" 'PRAGMA integrity_check')" ok "trace integrity"
events=$(sql "$db" 'SELECT count(*) FROM trace')
lost=$(sql "$db" "SELECT value FROM meta WHERE key = 'events_lost'")
note "events: $events, lost: $lost"
[ "$events" -gt 100000 ] || fail "only $events events for a whole build"
# configure's shells come before make, make before distclean's rm.
first_configure=$(sql "$db" "SELECT min(seq) FROM trace WHERE comm = 'configure' OR (comm = 'sh' AND path LIKE '%/configure')")
first_make=$(sql "$db" "SELECT min(seq) FROM trace WHERE comm = 'make'")
first_cc1=$(sql "$db" "SELECT min(seq) FROM trace WHERE comm = 'cc1'")
[ -n "$first_configure" ] && [ -n "$first_make" ] && [ -n "$first_cc1" ] ||
	fail "configure ($first_configure), make ($first_make) or cc1 ($first_cc1) missing from the trace"
[ "$first_configure" -lt "$first_make" ] || fail "make traced before configure"
sql "$db" "SELECT comm, count(*) FROM trace GROUP BY comm ORDER BY 2 DESC LIMIT 8" | sed 's/^/  /'
# The report tells the story a person would: one phase per step of the script.
"$TRACEFS" report --json "$db" >"$T/report.json" 2>"$T/report.err" ||
	fail "tracefs report: $(cat "$T/report.err")"
phases=$(python3 -c 'import json, sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["phases"]))' <"$T/report.json")
assert_eq "$phases" "unpack configure make clean remove" "phases of the wget build"
probes=$(sql "$db" "SELECT count(*) FROM trace WHERE op IN ('getxattr', 'listxattr') AND result IN (-61, -95)")
errors=$(sql "$db" "SELECT count(*) FROM trace WHERE result < 0")
python3 -c 'import json, sys; r = json.load(sys.stdin); sys.exit(r["errors"] != int(sys.argv[1]) - int(sys.argv[2]) or r["attribute_probes"] != int(sys.argv[2]))' \
	"$errors" "$probes" <"$T/report.json" || fail "errors are not the failures without the $probes attribute probes"
note "phases: $phases; $probes attribute probes apart from $((errors - probes)) errors"

# ---- the build graph ----
tree=$T/traced/wget-1.21.3 # where the traced build ran (gone now: these are its paths)
for format in compile-commands make; do
	"$TRACEFS" deps "$db" --format $format -o "$T/deps.$format" 2>"$T/deps.err" ||
		fail "tracefs deps --format $format: $(cat "$T/deps.err")"
done
python3 "$ROOT/tests/lib/check-build-graph.py" "$T/deps.compile-commands" "$T/deps.make" "$tree" \
	"$T/kept" "$T/logs-traced/built" || fail "the build graph does not match the build"
header=/wget-1.21.3/src/utils.h
"$TRACEFS" deps "$db" --impact "$header" >"$T/impact" 2>"$T/deps.err" ||
	fail "tracefs deps --impact: $(cat "$T/deps.err")"
# the objects whose gcc -MD output (the native build's .deps/*.Po) names the header
want=$(grep -l '[ /]utils\.h' "$T"/kept/src/.deps/*.Po | sed 's|.*/\(.*\)\.Po$|/wget-1.21.3/src/\1.o|' | sort)
assert_eq "$(grep '\.o$' "$T/impact" | sort)" "$want" "objects of --impact $header"
grep -qx /wget-1.21.3/src/wget "$T/impact" || fail "--impact $header does not reach the wget binary"
note "--impact $header: $(grep -c '\.o$' "$T/impact") objects and src/wget ($(wc -l <"$T/impact") files in all)"
"$TRACEFS" deps "$db" --format dot --depth 2 -o "$T/deps.dot" 2>"$T/deps.err" ||
	fail "tracefs deps --format dot: $(cat "$T/deps.err")"
dot -Tsvg -o "$T/deps.svg" "$T/deps.dot" || fail "dot cannot render the wget graph"
echo "wget-workload: ok"
