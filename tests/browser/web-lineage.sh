#!/bin/bash
# web-lineage: process lineage on the page. `tracefs run` records a script
# that runs two commands touching different files (cp, sort); `tracefs
# serve` replays it; coloured by command, each command's files get their
# own hue, a file's tooltip names the command that wrote it, and a click on
# a command in the panel highlights what it touched (web-lineage.mjs).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root (tracefs run)"; exit 77; }

mkdir -p "$T/src"
cd "$T/src"
printf 'one\ntwo\n' >alpha.txt
printf 'b\na\nc\n' >beta.txt
printf 'cp alpha.txt alpha.copy\nsort beta.txt -o beta.sorted\n' >work.sh
"$TRACEFS" run --db "$T/run.db" -- sh ./work.sh 2>"$T/run.log" || fail "tracefs run: $(cat "$T/run.log")"
cd "$T"
[ "$(cat "$T/src/beta.sorted")" = "$(printf 'a\nb\nc')" ] || fail "the script's sort did not run"
# The two commands are the root's children, each with its own process instance.
assert_eq "$(sql "$T/run.db" "SELECT count(*) FROM processes AS c JOIN processes AS r ON r.id = c.parent_id
	WHERE r.state = 'root' AND json_extract(c.argv, '\$[0]') IN ('cp', 'sort')")" 2 "cp and sort below the root"

port=$(free_port)
"$TRACEFS" serve "$T/run.db" --ws "127.0.0.1:$port" 2>"$T/serve.err" &
CLEANUP_PIDS=$!
url=$(printed_url "$T/serve.err")
run_node web-lineage "$url" "$T" "$(sql "$T/run.db" "SELECT count(*) FROM events")" || fail "the page's lineage"
kill -TERM "$CLEANUP_PIDS"
wait "$CLEANUP_PIDS" || true
CLEANUP_PIDS=
# To look at the picture: WEB_LINEAGE_PNG=/tmp/lineage.png tests/run web-lineage
if [ -n "${WEB_LINEAGE_PNG:-}" ]; then cp "$T/lineage.png" "$WEB_LINEAGE_PNG"; fi
echo "web-lineage: ok"
