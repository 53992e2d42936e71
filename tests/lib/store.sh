# store.sh — helpers for the versioned store's tests (sourced after common.sh).

export LSAN_OPTIONS=suppressions=$ROOT/tests/lib/lsan-libgit2.supp:print_suppressions=0

export GIT_AUTHOR_NAME=seed GIT_AUTHOR_EMAIL=seed@seedhost
export GIT_COMMITTER_NAME=seed GIT_COMMITTER_EMAIL=seed@seedhost
export GIT_CONFIG_NOSYSTEM=1 HOME=$T # no user's git config reaches the tests
# The tests' git status must not take the index lock the daemon commits with.
export GIT_OPTIONAL_LOCKS=0
git config --global init.defaultBranch main
git config --global user.name tester
git config --global user.email tester@testhost

# A bare repository at $1 with one commit: README, bin/tool (executable), a symlink.
seed_remote() { # BARE
	git init -q --bare "$1"
	local seed=$T/seed.$$
	git clone -q "$1" "$seed" 2>/dev/null
	echo "the store's first file" >"$seed/README"
	mkdir "$seed/bin"
	printf '#!/bin/sh\necho tool\n' >"$seed/bin/tool"
	chmod +x "$seed/bin/tool"
	ln -s README "$seed/readme-link"
	git -C "$seed" add -A
	git -C "$seed" commit -qm "seed"
	git -C "$seed" push -q origin HEAD
	rm -rf "$seed"
}

# One line per non-directory under DIR (.git aside): path, type, exec bit,
# and content hash or link target. Directories are not listed: git keeps
# none, only the files in them.
manifest() { # DIR
	(cd "$1" && find . -path ./.git -prune -o ! -type d -print | LC_ALL=C sort |
		while IFS= read -r f; do
			if [ -L "$f" ]; then
				printf '%s link %s\n' "$f" "$(readlink "$f")"
			else
				printf '%s file %s %s\n' "$f" "$([ -x "$f" ] && echo x || echo -)" \
					"$(sha256sum <"$f" | cut -c1-16)"
			fi
		done)
}

# Whether the remote's branch holds PATH with CONTENT (or just PATH).
remote_has() { # BARE PATH [CONTENT]
	local got
	got=$(git -C "$1" show "main:$2" 2>/dev/null) || return 1
	[ $# -lt 3 ] || [ "$got" == "$3" ]
}

remote_lacks() { # BARE PATH
	! git -C "$1" cat-file -e "main:$2" 2>/dev/null
}

remote_commits() { git -C "$1" rev-list --count main; }

# Whether everything in the working copy $T/wc is committed and pushed to BARE.
synced() { # BARE
	[ -z "$(git -C "$T/wc" status --porcelain 2>/dev/null)" ] &&
		[ "$(git -C "$T/wc" rev-parse HEAD)" == "$(git -C "$1" rev-parse main)" ]
}

# Waits for COMMAND like wait_for, and notes how long it took.
await() { # SECONDS WHAT COMMAND...
	local start=$SECONDS limit=$1 what=$2
	shift 2
	wait_for "$limit" "$@" || return 1
	note "$what after $((SECONDS - start)) s"
}

# On failure, what the working copy and the remote hold.
store_fail() {
	{
		echo "working copy log:"; git -C "$T/wc" log --format='  %h %s' -5 2>&1
		echo "working copy status:"; git -C "$T/wc" status --short 2>&1 | head -20
		echo "remote log:"; git -C "$T/remote.git" log --format='  %h %s' -5 main 2>&1
	} >&2
	fail "$@"
}
