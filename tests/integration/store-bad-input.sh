#!/bin/bash
# Bad input to the store's commands: a WORKDIR that is not a working copy,
# a remote that does not exist, a working copy with unresolved conflicts.
# Each gets a clear message, nothing is mounted and nothing is changed.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/store.sh"

mkdir "$T/mnt" "$T/plain"
echo data >"$T/plain/file"
expect_refusal() { # WHAT EXPECTED-MESSAGE COMMAND...
	local what=$1 expected=$2 out
	shift 2
	out=$("$@" 2>&1) && fail "$what: succeeded"
	[[ $out == *"$expected"* ]] || fail "$what: message '$out' lacks '$expected'"
	is_mounted "$T/mnt" && fail "$what: something was mounted"
	note "$what: $out"
}

# Not a working copy.
expect_refusal "plain directory" "is not a git working copy" \
	"$TRACEFS" mount --store --no-ws --db "$T/t1.db" "$T/plain" "$T/mnt"
[ ! -e "$T/t1.db" ] || fail "a trace was left behind"
[ ! -e "$T/plain/.git" ] || fail "the plain directory was changed"
expect_refusal "status of a plain directory" "is not a git working copy" \
	"$TRACEFS" store status "$T/plain"
expect_refusal "-o store on a plain directory" "is not a git working copy" \
	"$TRACEFS" mount -o store --no-ws --db "$T/t1.db" "$T/plain" "$T/mnt"

# Help after any action; an unknown option is not taken for a WORKDIR.
for action in clone status sync log; do
	out=$("$TRACEFS" store $action --help) || fail "store $action --help: exit $?"
	[[ $out == *"usage: tracefs store"* ]] || fail "store $action --help: '$out'"
done
expect_refusal "store status -q" "unknown option '-q'" "$TRACEFS" store status -q "$T/plain"
note "store ACTION --help: usage; an unknown option refused"

# A remote that does not exist.
expect_refusal "clone of a missing remote" "No such file or directory" \
	"$TRACEFS" store clone "$T/no-such-remote.git" "$T/wc"
[ ! -e "$T/wc" ] || fail "clone left $T/wc behind"
mkdir "$T/existing"
echo keep >"$T/existing/mine"
expect_refusal "clone into a non-empty directory" "cannot clone" \
	"$TRACEFS" store clone "$T/no-such-remote.git" "$T/existing"
assert_eq "$(ls -A "$T/existing")" mine "the non-empty directory's contents"

# A working copy with unresolved conflicts.
seed_remote "$T/remote.git"
git clone -q "$T/remote.git" "$T/conflicted"
git -C "$T/conflicted" checkout -q -b other
echo theirs >"$T/conflicted/README"
git -C "$T/conflicted" commit -qam theirs
git -C "$T/conflicted" checkout -q main
echo ours >"$T/conflicted/README"
git -C "$T/conflicted" commit -qam ours
git -C "$T/conflicted" merge -q other >/dev/null 2>&1 && fail "the merge did not conflict"
before=$(git -C "$T/conflicted" status --porcelain; git -C "$T/conflicted" rev-parse HEAD)
expect_refusal "working copy in a merge" "in the middle of a merge" \
	"$TRACEFS" mount --store --no-ws --db "$T/t2.db" "$T/conflicted" "$T/mnt"
git -C "$T/conflicted" merge --abort
git -C "$T/conflicted" checkout -q other
git -C "$T/conflicted" merge -q main >/dev/null 2>&1 || true
rm -f "$T/conflicted/.git/MERGE_HEAD" "$T/conflicted/.git/MERGE_MSG" "$T/conflicted/.git/MERGE_MODE"
before=$(git -C "$T/conflicted" status --porcelain; git -C "$T/conflicted" rev-parse HEAD)
expect_refusal "working copy with conflicts" "unresolved conflicts" \
	"$TRACEFS" mount --store --no-ws --db "$T/t2.db" "$T/conflicted" "$T/mnt"
assert_eq "$(git -C "$T/conflicted" status --porcelain; git -C "$T/conflicted" rev-parse HEAD)" \
	"$before" "the conflicted working copy"
[ ! -e "$T/t2.db" ] || fail "a trace was left behind"

# A store over its own working copy.
"$TRACEFS" store clone "$T/remote.git" "$T/wc" >/dev/null
expect_refusal "store mounted over itself" "cannot be mounted over its own working copy" \
	"$TRACEFS" mount --store --no-ws --db "$T/t3.db" "$T/wc" "$T/wc"
echo "store-bad-input: ok"
