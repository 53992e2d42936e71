#!/bin/bash
# The versioned store's history through a real mount, read-only and
# without a checkout: /.history/by-id/ID and /.history/by-date/DATE-ID hold
# the tree of every commit (contents, symlinks, executable bits equal to
# `git archive` of that commit), /.history/versions/FILE each version of
# FILE; a new commit appears in it; nothing in it can be written, created,
# removed or renamed (EROFS), .history itself neither; browsing it changes
# nothing in the working copy; its reads are in the trace.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/store.sh"

seed_remote "$T/remote.git"
"$TRACEFS" store clone "$T/remote.git" "$T/wc" >/dev/null
mkdir "$T/mnt"
"$TRACEFS" mount --store --no-ws --db "$T/trace.db" -o store_quiet=200,store_sync=0 \
	"$T/wc" "$T/mnt" 2>"$T/mount.log" || store_fail "mount: $(cat "$T/mount.log")"
M=$T/mnt R=$T/remote.git H=$T/mnt/.history

# Three more commits: README twice, a new directory, a file removed.
echo "second version" >"$M/README"
await 60 "the first change committed" synced "$R" || store_fail "README never committed"
echo "third version" >"$M/README"
mkdir -p "$M/docs/deep"
printf 'a\nb\n' >"$M/docs/deep/notes.txt"
await 60 "the second change committed" synced "$R" || store_fail "docs never committed"
rm "$M/bin/tool"
await 60 "the removal committed" synced "$R" || store_fail "the removal never committed"
head_before=$(git -C "$T/wc" rev-parse HEAD)

ls -a "$M" | grep -qx .history && fail ".history is listed in the root (find and cp -a would walk every commit)"
assert_eq "$(ls "$H" | tr '\n' ' ')" "by-date by-id versions " "the history's top"

# by-id: one directory per commit, each the commit's tree.
assert_eq "$(ls "$H/by-id" | sort)" "$(git -C "$T/wc" rev-list HEAD | sort)" "commits by id"
for id in $(git -C "$T/wc" rev-list HEAD); do
	rm -rf "$T/archive" && mkdir "$T/archive"
	git -C "$T/wc" archive "$id" | tar x -C "$T/archive"
	assert_eq "$(manifest "$H/by-id/$id")" "$(manifest "$T/archive")" "the tree of $id"
done
first=$(git -C "$T/wc" rev-list --max-parents=0 HEAD)
[ -x "$H/by-id/$first/bin/tool" ] || fail "the first commit's bin/tool is not executable"
assert_eq "$(readlink "$H/by-id/$first/readme-link")" README "a symlink of the history"
assert_eq "$(cat "$H/by-id/${first:0:8}/README")" "the store's first file" "a commit found by a prefix of its id"
[ -e "$H/by-id/${head_before:0:8}/bin/tool" ] && fail "the last commit still holds bin/tool"
[ -e "$H/by-id/0000000000" ] && fail "a commit that does not exist was found"
[ -e "$H/by-id/not-hex" ] && fail "a name that is not an id was found"
assert_eq "$(stat -c %Y "$H/by-id/$first/README")" "$(git -C "$T/wc" log -1 --format=%ct "$first")" \
	"a history file's mtime (its commit's time)"

# by-date: the same commits named by their UTC time and short id.
expected=$(TZ=UTC git -C "$T/wc" log --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd-%h | sort)
assert_eq "$(ls "$H/by-date" | sort)" "$expected" "commits by date"
# Commits of one second sort by id, so the newest is found by HEAD's id, and
# no name sorts after the second it was made in.
newest=$(ls "$H/by-date" | grep -- "-$(git -C "$T/wc" log -1 --format=%h)\$")
assert_eq "$(cat "$H/by-date/$newest/README")" "third version" "the newest commit by date"
[ "$(ls "$H/by-date" | sort | tail -n 1 | cut -c1-20)" = "${newest:0:20}" ] ||
	fail "a commit is named after a later time than the newest ($newest)"
[ -e "$H/by-date/1999-01-01T00:00:00Z-${first:0:7}" ] && fail "a date that is not the commit's was found"

# versions: each version of a file, with its content then.
versions=$(ls "$H/versions/README")
assert_eq "$(echo "$versions" | wc -l)" 3 "versions of README"
assert_eq "$(for v in $versions; do cat "$H/versions/README/$v"; done | sort | tr '\n' '|')" \
	"second version|the store's first file|third version|" "README's versions"
assert_eq "$(ls "$H/versions/docs/deep/notes.txt" | wc -l)" 1 "versions of a file in a new directory"
assert_eq "$(ls "$H/versions")" "$(git -C "$T/wc" ls-tree --name-only HEAD)" "versions mirrors the branch's top directory"
[ -e "$H/versions/bin/tool" ] && fail "a removed file has versions (it is in by-id only)"
assert_eq "$(readlink "$H/versions/readme-link/$(ls "$H/versions/readme-link")")" README "a symlink's version"

# A new commit appears.
echo new >"$M/later"
await 60 "the fourth change committed" synced "$R" || store_fail "later never committed"
head=$(git -C "$T/wc" rev-parse HEAD)
wait_for 10 test -d "$H/by-id/$head" || fail "the new commit is not in by-id"
assert_eq "$(cat "$H/by-id/$head/later")" new "the new commit's file"

# Read-only, and .history reserved.
expect_erofs() { # WHAT COMMAND...
	local what=$1 out
	shift
	out=$("$@" 2>&1) && fail "$what succeeded"
	[[ $out == *"Read-only file system"* ]] || fail "$what: $out"
}
expect_erofs "writing a history file" sh -c "echo x >'$H/by-id/$head/README'"
expect_erofs "appending to a history file" sh -c "echo x >>'$H/by-id/$head/README'"
expect_erofs "creating in the history" touch "$H/by-id/$head/new"
expect_erofs "mkdir in the history" mkdir "$H/by-id/$head/newdir"
expect_erofs "mkdir in .history" mkdir "$H/mine"
expect_erofs "removing a history file" rm -f "$H/by-id/$head/README"
expect_erofs "chmod of a history file" chmod 777 "$H/by-id/$head/README"
expect_erofs "renaming in the history" mv "$H/by-id/$head/README" "$H/by-id/$head/README2"
expect_erofs "moving a history file out" mv "$H/by-id/$head/README" "$M/moved"
expect_erofs "moving a file into the history" mv "$M/later" "$H/by-id/$head/later2"
expect_erofs "symlink in the history" ln -s x "$H/by-id/$head/link"
expect_erofs "rmdir .history" rmdir "$H"
expect_erofs "renaming .history" mv "$H" "$M/old-history"
out=$(mkdir "$H" 2>&1) && fail "mkdir .history succeeded"
[[ $out == *"File exists"* ]] || fail "mkdir .history: $out"
mkdir "$M/dir"
expect_erofs "renaming a directory onto .history" mv -T "$M/dir" "$H"
rm -rf "$H" 2>/dev/null && fail "rm -rf .history succeeded"
[ -d "$H/by-id/$head" ] || fail "rm -rf removed part of the history"
cp "$H/by-id/$first/bin/tool" "$M/tool-restored" || fail "copying a version out failed"
cmp "$M/tool-restored" <(git -C "$T/wc" show "$first:bin/tool") || fail "the restored copy differs"

# Browsing changed nothing but what the mount was asked to (tool-restored, dir).
await 60 "the restore committed" synced "$R" || store_fail "tool-restored never committed"
remote_lacks "$R" .history || store_fail ".history reached the remote"
[ -e "$T/wc/.history" ] && fail "the working copy holds .history"
[ -z "$(git -C "$T/wc" status --porcelain)" ] || store_fail "the working copy changed"

"$TRACEFS" umount "$M"
git -C "$R" fsck --strict 2>&1 >/dev/null | grep . && fail "the remote fails git fsck"
reads=$(sql "$T/trace.db" "SELECT count(*) FROM trace WHERE op = 'read' AND path LIKE '/.history/by-id/%/README' AND bytes > 0")
[ "$reads" -ge 1 ] || fail "no read of the history in the trace"
refused=$(sql "$T/trace.db" "SELECT count(*) FROM trace WHERE path LIKE '/.history/%' AND result = -30")
[ "$refused" -ge 1 ] || fail "no refused write of the history in the trace"
note "history: $reads reads and $refused refused writes traced"

# report lists the commits: id, files, and the seq range each covers.
"$TRACEFS" report "$T/trace.db" >"$T/report.txt" || fail "report failed"
sed -n '/^Commits of the versioned store$/,/^$/p' "$T/report.txt" >"$T/commits.txt"
[ -s "$T/commits.txt" ] || fail "report has no commits section"
cat "$T/commits.txt"
while IFS='|' read -r id files first last; do
	line=$(grep -F " ${id:0:12} " "$T/commits.txt") || fail "report lacks commit $id"
	[[ $line =~ [[:space:]]$files[[:space:]]+$first[[:space:]]+$last[[:space:]] ]] ||
		fail "report's line for $id lacks files $files, seq $first to $last: $line"
done < <(sql "$T/trace.db" "SELECT id, files, ifnull(first_seq, 0), ifnull(last_seq, 0) FROM commits WHERE result = 0")
"$TRACEFS" report --json "$T/trace.db" >"$T/report.json" || fail "report --json failed"
assert_eq "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["commits"]), r["commits_total"], r["commits"][-1]["id"])' "$T/report.json")" \
	"$(sql "$T/trace.db" "SELECT count(*), count(*) FROM commits" | tr '|' ' ') $(sql "$T/trace.db" "SELECT id FROM commits ORDER BY seq DESC LIMIT 1")" \
	"report --json's commits"
echo PASS
