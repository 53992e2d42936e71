# shellcheck shell=bash
# lib.sh — set-up shared by the browser tests (sourced after
# tests/lib/common.sh, not run): skips when the browser tooling is missing,
# finds the URL that tracefs prints, and runs the node half of a test.

BROWSER_DIR=$ROOT/tests/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "chromium is not installed ($CHROMIUM): run make deps"; exit 77; }
command -v node >/dev/null || { echo "node is not installed: run make deps"; exit 77; }
[ -d "$BROWSER_DIR/node_modules/playwright-core" ] ||
	{ echo "playwright-core is not installed in tests/browser: run make deps"; exit 77; }
[ -f "$BUILD/web/index.html" ] || fail "the page is not built: no $BUILD/web/index.html"
export CHROMIUM

# The URL (http://127.0.0.1:PORT/?token=HEX) that tracefs printed on stderr
# into FILE, waiting up to SECONDS for it.
printed_url() { # FILE [SECONDS]
	local file=$1 url=""
	has_url() { url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/\(?token=[0-9a-f]*\)\{0,1\}' "$file" 2>/dev/null | head -n 1) && [ -n "$url" ]; }
	wait_for "${2:-20}" has_url || fail "no URL printed in $file: $(cat "$file" 2>/dev/null)"
	echo "$url"
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs tests/browser/NAME.mjs with ARGS; its output goes to the test's log.
run_node() { # NAME ARGS...
	local name=$1
	shift
	node "$BROWSER_DIR/$name.mjs" "$@"
}
