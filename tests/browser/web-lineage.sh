#!/bin/bash
# web-lineage: process lineage on the page. `tracefs run` records a script
# that runs two commands touching different files: cp, and a script of its
# own (sh ./sub.sh) whose children are cp and sort; `tracefs serve` replays it;
# coloured by command, each command's files get their own hue, the
# children's files shades of their command's, also when the scene comes
# from a snapshot; a file's tooltip names the command that wrote it, and a
# click on a command in the panel highlights what it touched
# (web-lineage.mjs).
# Live, `tracefs mount --ws` streams the same lineage (checked on the wire).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root (tracefs run)"; exit 77; }

mkdir -p "$T/src"
cd "$T/src"
printf 'one\ntwo\n' >alpha.txt
printf 'b\na\nc\n' >beta.txt
printf 'cp alpha.txt alpha.copy\nsh ./sub.sh\n' >work.sh
printf 'cp beta.txt beta.copy\nsort beta.txt -o beta.sorted\n' >sub.sh
"$TRACEFS" run --db "$T/run.db" -- sh ./work.sh 2>"$T/run.log" || fail "tracefs run: $(cat "$T/run.log")"
cd "$T"
[ "$(cat "$T/src/beta.sorted")" = "$(printf 'a\nb\nc')" ] || fail "the script's sort did not run"
# The two commands are the root's children, each with its own process instance;
# the second one's cp and sort are its children.
assert_eq "$(sql "$T/run.db" "SELECT group_concat(json_extract(c.argv, '\$[0]'), ' ') FROM processes AS c
	JOIN processes AS r ON r.id = c.parent_id WHERE r.state = 'root' ORDER BY c.id")" "cp sh" "cp and sh below the root"
assert_eq "$(sql "$T/run.db" "SELECT group_concat(json_extract(c.argv, '\$[0]'), ' ') FROM processes AS c
	JOIN processes AS p ON p.id = c.parent_id WHERE json_extract(p.argv, '\$[1]') = './sub.sh' ORDER BY c.id")" \
	"cp sort" "cp and sort below sh ./sub.sh"

# Live (`tracefs mount --ws`): the first event of each process instance
# carries its lineage; a client that joins later gets the rows in its
# snapshot.
[ -x "$TOOLS/ws_client" ] || fail "$TOOLS/ws_client is not built (make $TOOLS/ws_client)"
mkdir -p "$T/live" "$T/mnt"
cp "$T/src/alpha.txt" "$T/src/beta.txt" "$T/live/"
port=$(free_port)
"$TRACEFS" mount --ws "127.0.0.1:$port" --db "$T/live.db" "$T/live" "$T/mnt" 2>"$T/mount.err"
url=$(printed_url "$T/mount.err")
ws="ws://127.0.0.1:$port/events?token=${url#*token=}"
timeout 30 "$TOOLS/ws_client" --until '"line":"sort beta.txt -o beta.sorted"' --save "$T/early.ws" "$ws" \
	>"$T/early.out" 2>"$T/early.err" &
early=$!
wait_for 10 grep -q connected "$T/early.out" || fail "the live client did not connect: $(cat "$T/early.err")"
(cd "$T/mnt" && cp alpha.txt alpha.copy && sort beta.txt -o beta.sorted)
wait "$early" || fail "no lineage of sort in the live stream: $(tr -c '[:print:]' ' ' <"$T/early.ws" | tail -c 600)"
grep -aq '"lineage":\[{"id":[0-9]*,"parent":[0-9null]*,"root":[0-9]*,"line":"cp alpha.txt alpha.copy"}' "$T/early.ws" ||
	fail "no lineage of cp in the live stream"
grep -aq '"mode":[0-9]*,"process":[0-9]' "$T/early.ws" || fail "live events name no process instance"
timeout 30 "$TOOLS/ws_client" --until '"line":"cp alpha.txt alpha.copy"' --save "$T/late.ws" "$ws" \
	>/dev/null 2>"$T/late.err" || fail "a late client got no lineage: $(cat "$T/late.err")"
grep -aq '{"type":"snapshot",.*"lineage":\[{"id"' "$T/late.ws" || fail "a late client's snapshot has no lineage"
"$TRACEFS" umount "$T/mnt"
note "live: lineage on each instance's first event, and in a late client's snapshot"

port=$(free_port)
"$TRACEFS" serve "$T/run.db" --ws "127.0.0.1:$port" 2>"$T/serve.err" &
CLEANUP_PIDS=$!
url=$(printed_url "$T/serve.err")
run_node web-lineage "$url" "$T" "$(sql "$T/run.db" "SELECT count(*) FROM events")" || fail "the page's lineage"
kill -TERM "$CLEANUP_PIDS"
wait "$CLEANUP_PIDS" || true
CLEANUP_PIDS=
# To look at the picture: WEB_LINEAGE_PNG=/tmp/lineage.png tests/run web-lineage
if [ -n "${WEB_LINEAGE_PNG:-}" ]; then
	cp "$T/lineage.png" "$WEB_LINEAGE_PNG"
	cp "$T/lineage-snapshot.png" "${WEB_LINEAGE_PNG%.png}-snapshot.png"
fi
echo "web-lineage: ok"
