# shellcheck shell=bash
# first-workload.sh — the first workload of the 2009 demonstration and the
# checks of its trace (sourced after common.sh, not run).
#
# In DIR: a chain of directories 0/1/…/10 (eleven levels), and in each level
# seven sub-directories a … g, every one made by its own `mkdir` process
# (11 + 77 = 88); then `rm -rf 0`.

FIRST_WORKLOAD_LEVELS=11
FIRST_WORKLOAD_LEAVES="a b c d e f g"

# The 88 directory paths, relative to the mount root, in creation order.
first_workload_paths() {
	local i l p=""
	for ((i = 0; i < FIRST_WORKLOAD_LEVELS; i++)); do
		p="$p/$i"
		echo "$p"
		for l in $FIRST_WORKLOAD_LEAVES; do
			echo "$p/$l"
		done
	done
}

# Runs the workload in DIR. The original waited two seconds between creating
# and removing the tree (so the viewer could see it); WAIT defaults to 0.
first_workload() { # DIR [WAIT_SECONDS]
	local dir=$1 wait=${2:-0}
	first_workload_create "$dir"
	if [ "$wait" != 0 ]; then
		sleep "$wait" # part of the demonstration, not synchronisation
	fi
	first_workload_remove "$dir"
}

# Its two halves, for tests that look at the tree in between.
first_workload_create() { # DIR
	local dir=$1
	# A subshell under `||` ignores set -e, hence the explicit exits.
	(
		cd "$dir" || exit 1
		for ((i = 0; i < FIRST_WORKLOAD_LEVELS; i++)); do
			mkdir "$i" || exit 1
			cd "$i" || exit 1
			for l in $FIRST_WORKLOAD_LEAVES; do
				mkdir "$l" || exit 1
			done
		done
	) || fail "first workload: creating the tree in $dir failed"
}

first_workload_remove() { # DIR
	local dir=$1
	(cd "$dir" && rm -rf 0) || fail "first workload: rm -rf 0 in $dir failed"
	[ ! -e "$dir/0" ] || fail "first workload: $dir/0 still exists after rm -rf"
}

# Exactly 88 OP events in DB, all successful, by COMM, one on each of the
# workload's paths.
check_workload_op() { # DB OP COMM
	local db=$1 op=$2 comm=$3 expected got n
	expected=$(first_workload_paths | LC_ALL=C sort)
	n=$(sql "$db" "SELECT count(*) FROM trace WHERE op = '$op'")
	assert_eq "$n" 88 "number of $op events"
	n=$(sql "$db" "SELECT count(*) FROM trace WHERE op = '$op' AND result = 0 AND comm = '$comm'")
	assert_eq "$n" 88 "$op events with result 0 and comm '$comm'"
	got=$(sql "$db" "SELECT path FROM trace WHERE op = '$op'" | LC_ALL=C sort)
	[ "$got" == "$expected" ] ||
		fail "$op paths differ from the workload's: $(diff <(echo "$expected") <(echo "$got") | head -20)"
}

# Checks a complete trace of first_workload run at the mount root: exactly 88
# mkdir events by `mkdir` and 88 rmdir events by `rm`, all successful, on the
# right paths, every mkdir after its parent's and every rmdir after its
# children's.
check_first_workload_trace() { # DB
	local db=$1 n
	check_workload_op "$db" mkdir mkdir
	check_workload_op "$db" rmdir rm

	n=$(sql "$db" "SELECT count(*) FROM trace WHERE op = 'mkdir' AND path = '/0/1/2/3/4/5/6/7/8/9/10/g'")
	assert_eq "$n" 1 "mkdir of /0/1/2/3/4/5/6/7/8/9/10/g"

	# Order: a mkdir after its parent's mkdir, an rmdir after its
	# children's rmdirs, and every rmdir after every mkdir.
	local -A mk rmseq
	local seq path parent
	while IFS='|' read -r seq path; do
		mk[$path]=$seq
	done < <(sql "$db" "SELECT seq, path FROM trace WHERE op = 'mkdir'")
	while IFS='|' read -r seq path; do
		rmseq[$path]=$seq
	done < <(sql "$db" "SELECT seq, path FROM trace WHERE op = 'rmdir'")
	for path in "${!mk[@]}"; do
		parent=${path%/*}
		[ -n "$parent" ] || continue
		[ "${mk[$parent]}" -lt "${mk[$path]}" ] ||
			fail "mkdir $path (seq ${mk[$path]}) is not after mkdir $parent (seq ${mk[$parent]})"
		[ "${rmseq[$parent]}" -gt "${rmseq[$path]}" ] ||
			fail "rmdir $parent (seq ${rmseq[$parent]}) is not after rmdir $path (seq ${rmseq[$path]})"
	done
	n=$(sql "$db" "SELECT (SELECT max(seq) FROM trace WHERE op = 'mkdir') <
	                      (SELECT min(seq) FROM trace WHERE op = 'rmdir')")
	assert_eq "$n" 1 "every rmdir comes after every mkdir"
	# The chain in creation order: 0, its leaves, then 1, …
	got=$(sql "$db" "SELECT path FROM trace WHERE op = 'mkdir' ORDER BY seq")
	[ "$got" == "$(first_workload_paths)" ] ||
		fail "mkdir events are not in the workload's order: $(diff <(first_workload_paths) <(echo "$got") | head -20)"
}
