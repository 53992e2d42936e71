#!/bin/bash
# Hostile or damaged traces: one validation for every reader. A trace with
# a path that does not start with /, ids pointing nowhere, seq <= 0, or an
# altered schema (a generated column that would run on every read) is
# refused by report, export and render alike, with a clear message and no
# output. On byte-flipped copies, report fails wherever export does.
source "$(dirname "$0")/../lib/common.sh"

MAKE_TRACE=$TOOLS/make_trace
[ -x "$MAKE_TRACE" ] || fail "$MAKE_TRACE is not built: make BUILD=... $MAKE_TRACE"
cd "$T"
"$MAKE_TRACE" crafted good.db

# Every reader refuses COPY: non-zero, the message holds WANT, no output.
refused_by_all() { # NAME WANT SQL
	local name=$1 want=$2 sql=$3 cmd out rc message
	cp good.db "$name.db"
	sqlite3 "$name.db" "$sql"
	for cmd in "report" "report --json" "report --html $name.html" \
		"export --format csv -o $name.csv" "render -o $name.png"; do
		set +e
		# shellcheck disable=SC2086 # cmd is words: the command, then options
		out=$(timeout 60 "$TRACEFS" $cmd "$name.db" 2>&1 >/dev/null)
		rc=$?
		set -e
		[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "$name: tracefs $cmd: exit $rc"
		grep -q -- "$want" <<<"$out" || fail "$name: tracefs $cmd: message '$out' lacks '$want'"
		message=$out
	done
	for out in "$name.html" "$name.csv" "$name.png"; do
		[ ! -e "$out" ] || fail "$name: $out was written"
	done
	note "$name: refused by report, export and render: $(grep -m1 . <<<"$message")"
}

first_path=$(sql good.db "SELECT path FROM events WHERE path IS NOT NULL LIMIT 1")
refused_by_all relative-path "bad path" "UPDATE paths SET path = 'etc/passwd' WHERE id = $first_path"
refused_by_all path-nowhere "bad path" "UPDATE events SET path = 99999 WHERE seq = 7"
refused_by_all path2-nowhere "bad second path" "UPDATE events SET path2 = 99999 WHERE seq = 7"
refused_by_all proc-nowhere "bad process" "UPDATE events SET proc = 99999 WHERE seq = 7"
refused_by_all seq-zero "bad seq" "UPDATE events SET seq = 0 WHERE seq = 1"
refused_by_all seq-negative "bad seq" "UPDATE events SET seq = -5 WHERE seq = 3"
refused_by_all generated-column "not as tracefs makes it" \
	"PRAGMA writable_schema = ON;
	 UPDATE sqlite_schema SET sql = 'CREATE TABLE paths(id INTEGER PRIMARY KEY, raw TEXT NOT NULL,
	   path TEXT GENERATED ALWAYS AS (raw || substr(hex(zeroblob(200000000)), 1, 0)) VIRTUAL)'
	 WHERE name = 'paths'"
refused_by_all trigger "which tracefs does not write" \
	"CREATE TRIGGER t BEFORE DELETE ON meta BEGIN SELECT 1; END"

# Byte flips: wherever export finds the damage, report must find it too.
size=$(stat -c %s good.db)
flips=40 damaged=0 both_refuse=0 undetected=0
while read -r offset bit; do
	cp good.db flip.db
	byte=$(od -An -tu1 -j "$offset" -N1 flip.db | tr -d ' ')
	printf "$(printf '\\%03o' $((byte ^ (1 << bit))))" |
		dd of=flip.db bs=1 seek="$offset" conv=notrunc status=none
	[ "$(sqlite3 flip.db 'PRAGMA integrity_check' 2>&1)" = ok ] && continue
	damaged=$((damaged + 1))
	export_rc=0 report_rc=0
	"$TRACEFS" export flip.db --format csv >/dev/null 2>&1 || export_rc=$?
	"$TRACEFS" report --json flip.db >/dev/null 2>&1 || report_rc=$?
	if [ $export_rc -ne 0 ]; then
		[ $report_rc -ne 0 ] || fail "flip at $offset bit $bit: export refuses, report exits 0"
		both_refuse=$((both_refuse + 1))
	elif [ $report_rc -eq 0 ]; then
		undetected=$((undetected + 1))
	fi
done < <(awk -v n=$flips -v size="$size" 'BEGIN { srand(13); for (i = 0; i < n; i++)
	printf "%d %d\n", 100 + int(rand() * (size - 100)), int(rand() * 8) }')
note "$flips byte flips: $damaged fail integrity_check; $both_refuse refused by export and report alike;" \
	"$undetected read as sound by both (damage no reader notices without a full integrity_check)"
