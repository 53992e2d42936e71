#!/bin/bash
# `tracefs serve` of damaged traces, through the real websocket server:
# a trace whose first event is invalid answers with an `error` message (it
# used to close, so the page reconnected forever); times at the ends of the
# int64 range replay without signed overflow (the sanitizer build aborts on
# one), whatever the client asks.
source "$(dirname "$0")/../lib/common.sh"

cd "$T"
"$TOOLS/make_trace" crafted good.db

# Serves DB; sets WS to its /events URL (with the printed query, if any).
serve() { # DB
	"$TRACEFS" serve "$1" --ws 127.0.0.1:0 2>"$1.err" &
	CLEANUP_PIDS="${CLEANUP_PIDS:-} $!"
	server=$!
	has_url() { grep -q 'http://127\.0\.0\.1:[0-9]*/' "$1.err"; }
	wait_for 20 has_url "$1" || fail "serve $1 printed no URL: $(cat "$1.err")"
	local url base
	url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/[^ ]*' "$1.err" | head -n 1)
	base=${url%%\?*}
	WS="ws://${base#http://}events${url#"$base"}"
}

# The first event is invalid (a negative duration): the client is told.
cp good.db bad-first.db
sqlite3 bad-first.db "UPDATE events SET dur = -1 WHERE seq = 1"
serve bad-first.db
timeout 20 "$TOOLS/ws_client" --until '"type":"error"' "$WS" >/dev/null 2>"$T/client.err" ||
	fail "no error message for a trace whose first event is invalid: $(cat "$T/client.err")"
note "bad first event: the client got an error message"
kill "$server" && wait "$server" 2>/dev/null || true

# The first event at the earliest time the trace can hold, the last at the
# latest: every span and difference is near 2^64 ns.
cp good.db extreme.db
sqlite3 extreme.db "
	UPDATE events SET ts = -9223372036854775808 WHERE seq = 1;
	UPDATE events SET ts = 9223372036854775807 - (SELECT value FROM meta WHERE key = 'start_ns')
	WHERE seq = (SELECT max(seq) FROM events);"
serve extreme.db
export WS_CLIENT_SEND='{"cmd":"speed","value":1000}
{"cmd":"play"}
{"cmd":"seek","ts_ns":9223372036854775807}
{"cmd":"seek","ts_ns":-9223372036854775808}
{"cmd":"play"}
{"cmd":"seek","ts_ns":0}
{"cmd":"snapshot"}
{"cmd":"speed","value":0.1}
{"cmd":"play"}
{"cmd":"seek","ts_ns":9223372036854775807}'
# The last seek's answer, the state at the very end, comes after the others'.
timeout 30 "$TOOLS/ws_client" --until '"position_ns":9223372036854775807,"ended":true' "$WS" \
	>/dev/null 2>"$T/client.err" ||
	fail "the extreme trace's replay: $(cat "$T/client.err")"
unset WS_CLIENT_SEND
kill -0 "$server" 2>/dev/null || fail "serve died: $(cat extreme.db.err)"
note "extreme times: play, seek to both ends, speed: served"
