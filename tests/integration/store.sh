#!/bin/bash
# The versioned store through a real mount: everyday work (an editor's
# save, cp -a, tar x, renames of directories, rm -rf, chmod) is committed
# and pushed to the remote as it happens, an editor's save being one
# commit; each commit is in the trace; the reserved name .git can be
# neither seen, created, renamed onto nor removed; after unmounting, a
# fresh clone equals the mount's tree byte for byte (contents, symlinks,
# executable bits).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/store.sh"

seed_remote "$T/remote.git"
"$TRACEFS" store clone "$T/remote.git" "$T/wc" >/dev/null
mkdir "$T/mnt"
# store_sync=0: no fetch on a timer (nothing else writes the remote here).
"$TRACEFS" mount --store --no-ws --db "$T/trace.db" -o store_quiet=300,store_sync=0 \
	"$T/wc" "$T/mnt" 2>"$T/mount.log" || store_fail "mount: $(cat "$T/mount.log")"
M=$T/mnt R=$T/remote.git

# An editor's save: write a temporary file, fsync, rename over the original.
before=$(remote_commits "$R")
printf 'edited line\n' >"$M/.README.swp"
dd if=/dev/null of="$M/.README.swp" conv=notrunc,fsync status=none
mv "$M/.README.swp" "$M/README"
await 120 "the editor's save in the remote" synced "$R" || store_fail "the editor's save never reached the remote"
remote_has "$R" README "edited line" || store_fail "the remote lacks the editor's save"
assert_eq "$(remote_commits "$R")" $((before + 1)) "commits for one editor save"
remote_lacks "$R" .README.swp || store_fail "the temporary file was committed"
note "editor save: one commit: $(git -C "$R" log -1 --format=%s main)"

# cp -a of a tree with a symlink and an executable, from outside.
mkdir -p "$T/outside/tree/sub"
echo one >"$T/outside/tree/one"
printf '#!/bin/sh\n' >"$T/outside/tree/sub/run.sh"
chmod 755 "$T/outside/tree/sub/run.sh"
ln -s ../one "$T/outside/tree/sub/to-one"
cp -a "$T/outside/tree" "$M/tree"
await 120 "cp -a in the remote" synced "$R" || store_fail "cp -a never reached the remote"
remote_has "$R" tree/sub/to-one ../one || store_fail "the remote lacks the copied symlink"
[ "$(git -C "$R" ls-tree main tree/sub/run.sh | cut -c1-6)" == 100755 ] ||
	fail "the executable bit was not committed"

# tar x of part of a real source tree, then a directory renamed.
tar xzf /work/shared/workloads/wget-1.21.3.tar.gz -C "$M" wget-1.21.3/src wget-1.21.3/doc \
	wget-1.21.3/po wget-1.21.3/README
await 120 "tar x in the remote" synced "$R" || store_fail "tar x never reached the remote"
remote_has "$R" wget-1.21.3/src/main.c || store_fail "the remote lacks the unpacked files"
mv "$M/wget-1.21.3/doc" "$M/wget-1.21.3/documentation"
await 120 "rename in the remote" synced "$R" || store_fail "the rename never reached the remote"
remote_lacks "$R" wget-1.21.3/doc/wget.texi || store_fail "the renamed directory stayed"
remote_has "$R" wget-1.21.3/documentation/wget.texi || store_fail "the renamed directory is missing"

# rm -rf, chmod, a new symlink, a file removed.
rm -rf "$M/wget-1.21.3/po"
chmod -x "$M/bin/tool"
ln -s wget-1.21.3/README "$M/wget-readme"
rm "$M/readme-link"
await 120 "rm -rf, chmod, ln, rm in the remote" synced "$R" || store_fail "rm -rf, chmod, ln, rm never reached the remote"
remote_lacks "$R" wget-1.21.3/po/fr.po || store_fail "rm -rf did not reach the remote"
remote_lacks "$R" readme-link || store_fail "rm did not reach the remote"
remote_has "$R" wget-readme wget-1.21.3/README || store_fail "the new symlink did not reach the remote"
[ "$(git -C "$R" ls-tree main bin/tool | cut -c1-6)" == 100644 ] || store_fail "chmod -x not committed"

# The reserved name.
ls -a "$M" | grep -qx .git && fail ".git is listed"
[ -e "$M/.git" ] && fail ".git is visible"
out=$(touch "$M/.git" 2>&1) && fail "touch .git succeeded"
[[ $out == *"Operation not permitted"* ]] || store_fail "touch .git: $out"
mkdir "$M/tree/.git" 2>/dev/null && fail "mkdir tree/.git succeeded"
mv "$M/tree/one" "$M/.git" 2>/dev/null && fail "rename onto .git succeeded"
ln -s README "$M/.git" 2>/dev/null && fail "symlink .git succeeded"
rm -rf "$M/.git" # must not reach the real one
rmdir "$M/.git" 2>/dev/null && fail "rmdir .git succeeded"
[ -f "$T/wc/.git/HEAD" ] || store_fail "the working copy's .git was touched"
git -C "$T/wc" status --porcelain >/dev/null || store_fail "the working copy is broken"

"$TRACEFS" umount "$M"

# The remote equals the mount's tree, byte for byte.
git clone -q "$R" "$T/fresh"
manifest "$T/wc" >"$T/wc.manifest"
manifest "$T/fresh" >"$T/fresh.manifest"
diff "$T/wc.manifest" "$T/fresh.manifest" >&2 || store_fail "a fresh clone differs from the mount's tree"
note "fresh clone equals the tree: $(wc -l <"$T/wc.manifest") files and symlinks"
git -C "$R" fsck --no-progress 2>&1 | grep -v '^dangling' && fail "git fsck of the remote" || true

# Every commit is in the trace, with its files and the events it covers.
commits=$(sql "$T/trace.db" "SELECT count(*) FROM commits WHERE result = 0")
[ "$commits" -ge 5 ] || store_fail "only $commits commits in the trace" # one per step at least
sql "$T/trace.db" "SELECT id FROM commits WHERE result = 0" | while read -r id; do
	git -C "$R" cat-file -e "$id^{commit}" || store_fail "commit $id of the trace is not in the remote"
done
assert_eq "$(sql "$T/trace.db" "SELECT count(*) FROM commits WHERE files < 1 OR first_seq IS NULL OR last_seq < first_seq")" 0 \
	"commits without files or events"
pushed=$(( $(remote_commits "$R") - 1 ))
assert_eq "$commits" "$pushed" "commits in the trace vs the remote"
sql "$T/trace.db" "SELECT count(*) FROM trace t JOIN commits c ON t.seq BETWEEN c.first_seq AND c.last_seq
	WHERE t.op = 'rename' AND t.path = '/wget-1.21.3/doc'" | grep -qx 1 ||
	fail "the directory rename is not inside a commit's range"
note "commits in the trace: $commits, all in the remote"
git -C "$R" log --format='  %h %s' main | head -n 8
echo "store: ok"
