#!/bin/bash
# store.sh — the versioned store's figures (not a test; tests/bench/run's
# workload s). Wall and CPU time, the median of RUNS runs each, of:
#   unpack  wget 1.21.3 unpacked (tar x) into a working copy, committed:
#           natively (tar x, then one `git add -A && git commit`), through
#           a plain tracefs mount then the same git commands, and through
#           `tracefs mount --store` (from the start until the working copy
#           is committed); CPU is tar's and git's, plus the daemon's
#   burst   1,000 small files written at once through the store: commits
#           made, seconds until all are committed, files committed a second
#   stream  files written one at a time, 100 ms apart, store_quiet=20:
#           commits a second when every change is its own commit
#   memory  the daemon's peak RSS over a 100,000-file repository: mounted,
#           every file looked up (find), 100 files changed and committed,
#           /.history of the last commit listed (find)
# The working copies have no remote: the figures are the commit's, not
# the network's. Prints lines "store-bench: …"; the last one sums up.
#
# usage: store.sh [RUNS] [SCRATCH_DIR] [CACHE_DIR]   (BUILD as for tests/run;
#        STORE_BENCH_PARTS=unpack,burst,stream,memory: which, default all)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TRACEFS=${BENCH_TRACEFS:-$BUILD/tracefs}
RUNS=${1:-3}
W=$(mktemp -d "${2:-/var/tmp}/store-bench.XXXXXX")
CACHE=${3:-$BUILD/bench/cache}
TARBALL=/work/shared/workloads/wget-1.21.3.tar.gz
[ -f "$CACHE/wget-1.21.3.tar.gz" ] && TARBALL=$CACHE/wget-1.21.3.tar.gz
mkdir -p "$CACHE"

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$W/gitconfig GIT_OPTIONAL_LOCKS=0
git config --global user.name bench
git config --global user.email bench@localhost
git config --global init.defaultBranch main
git config --global gc.auto 0 # no gc detached in the background, racing the next step

DAEMON=
cleanup() {
	for m in "$W"/*/mnt; do mountpoint -q "$m" 2>/dev/null && fusermount3 -u "$m"; done
	[ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

say() { echo "store-bench: $*"; }
PARTS=${STORE_BENCH_PARTS:-unpack,burst,stream,memory}
want() { [[ ",$PARTS," == *",$1,"* ]]; }
now() { echo "${EPOCHREALTIME/./}"; } # microseconds
# CPU seconds (user + system) of PID so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
rss_peak() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; } # KiB
median() { sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "?" }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e6 }'; }

# A working copy at $1 with one commit (a README) and no remote.
new_wc() {
	git init -q "$1"
	echo bench >"$1/README"
	git -C "$1" add README
	git -C "$1" commit -qm start
}

# Mounts working copy $1 at $2 in the foreground (DAEMON: its pid); -o $3.
mount_fg() { # WC MNT OPTIONS [--store]
	mkdir -p "$2"
	"$TRACEFS" mount ${4:-} --no-ws --db "$(dirname "$2")/trace.db" ${3:+-o "$3"} -f "$1" "$2" \
		>"$(dirname "$2")/mount.log" 2>&1 &
	DAEMON=$!
	# Long for a big working copy: the store commits what it finds changed first.
	for ((i = 0; i < 12000; i++)); do
		mountpoint -q "$2" && return 0
		kill -0 "$DAEMON" 2>/dev/null || break
		sleep 0.05
	done
	echo "store-bench: mount failed: $(cat "$(dirname "$2")/mount.log")" >&2
	exit 1
}

umount_fg() {
	fusermount3 -u "$1"
	wait "$DAEMON" || true
	DAEMON=
}

# Whether working copy $1 is committed (nothing in git status) past commit $2.
committed() { [ -z "$(git -C "$1" status --porcelain)" ] && [ "$(git -C "$1" rev-parse HEAD)" != "$2" ]; }

wait_committed() { # WC BEFORE
	for ((i = 0; i < 6000; i++)); do
		committed "$1" "$2" && return 0
		sleep 0.02
	done
	echo "store-bench: never committed" >&2
	exit 1
}

# ---- unpack

unpack_native() { # DIR: prints "WALL CPU"
	new_wc "$1/wc"
	local start out
	start=$(now)
	out=$( { /usr/bin/time -f '%U %S' tar xzf "$TARBALL" -C "$1/wc"; \
		/usr/bin/time -f '%U %S' git -C "$1/wc" add -A; \
		/usr/bin/time -f '%U %S' git -C "$1/wc" commit -qm unpack; } 2>&1 >/dev/null)
	echo "$(secs "$start" "$(now)") $(echo "$out" | awk '{ s += $1 + $2 } END { print s }')"
}

unpack_traced() { # DIR: plain tracefs mount, then git: prints "WALL CPU"
	new_wc "$1/wc"
	mount_fg "$1/wc" "$1/mnt" ""
	local cpu0 start out
	cpu0=$(cpu_of "$DAEMON")
	start=$(now)
	out=$( { /usr/bin/time -f '%U %S' tar xzf "$TARBALL" -C "$1/mnt"; } 2>&1 >/dev/null)
	local daemon_cpu
	daemon_cpu=$(awk -v a="$cpu0" -v b="$(cpu_of "$DAEMON")" 'BEGIN { print b - a }')
	out="$out
$( { /usr/bin/time -f '%U %S' git -C "$1/wc" add -A; \
	/usr/bin/time -f '%U %S' git -C "$1/wc" commit -qm unpack; } 2>&1 >/dev/null)"
	echo "$(secs "$start" "$(now)") $(echo "$out" | awk -v d="$daemon_cpu" '{ s += $1 + $2 } END { print s + d }')"
	umount_fg "$1/mnt"
}

unpack_store() { # DIR: prints "WALL CPU COMMITS"
	new_wc "$1/wc"
	local before cpu0 start out
	before=$(git -C "$1/wc" rev-parse HEAD)
	mount_fg "$1/wc" "$1/mnt" store_sync=0 --store
	cpu0=$(cpu_of "$DAEMON")
	start=$(now)
	out=$( { /usr/bin/time -f '%U %S' tar xzf "$TARBALL" -C "$1/mnt"; } 2>&1 >/dev/null)
	local tar_end wall cpu
	tar_end=$(now)
	wait_committed "$1/wc" "$before"
	wall=$(secs "$start" "$(now)")
	cpu=$(awk -v t="$out" -v a="$cpu0" -v b="$(cpu_of "$DAEMON")" \
		'BEGIN { split(t, x, " "); print x[1] + x[2] + b - a }')
	local commits
	commits=$(git -C "$1/wc" rev-list --count "$before..HEAD")
	umount_fg "$1/mnt"
	# Where the time went: tar through the mount, then the commits' own
	# durations (from the trace), the rest waiting for a quiet moment.
	echo "$wall $cpu $commits $(secs "$start" "$tar_end") $(sqlite3 "$1/trace.db" \
		"SELECT printf('%.2f', total(dur_ns) / 1e9) FROM commits")"
}

ratio_wall=- ratio_cpu=- sw=- nw=- sc=- nc=-
if want unpack; then
declare -a n_wall n_cpu t_wall t_cpu s_wall s_cpu
commits=
for ((r = 1; r <= RUNS; r++)); do
	rm -rf "$W/u" && mkdir -p "$W/u"
	read -r w c <<<"$(unpack_native "$W/u")"
	n_wall+=("$w") n_cpu+=("$c")
	rm -rf "$W/u" && mkdir -p "$W/u"
	read -r w c <<<"$(unpack_traced "$W/u")"
	t_wall+=("$w") t_cpu+=("$c")
	rm -rf "$W/u" && mkdir -p "$W/u"
	read -r w c k tar_s commit_s <<<"$(unpack_store "$W/u")"
	s_wall+=("$w") s_cpu+=("$c") commits=$k
	say "unpack run $r: native ${n_wall[-1]} s (${n_cpu[-1]} s CPU), traced mount + git ${t_wall[-1]} s (${t_cpu[-1]} s CPU), store ${s_wall[-1]} s (${s_cpu[-1]} s CPU; tar through the mount $tar_s s, $k commits taking $commit_s s)"
done
nw=$(printf '%s\n' "${n_wall[@]}" | median) nc=$(printf '%s\n' "${n_cpu[@]}" | median)
tw=$(printf '%s\n' "${t_wall[@]}" | median) tc=$(printf '%s\n' "${t_cpu[@]}" | median)
sw=$(printf '%s\n' "${s_wall[@]}" | median) sc=$(printf '%s\n' "${s_cpu[@]}" | median)
ratio_wall=$(awk -v a="$sw" -v b="$nw" 'BEGIN { printf "%.2f", a / b }')
ratio_cpu=$(awk -v a="$sc" -v b="$nc" 'BEGIN { printf "%.2f", a / b }')
say "unpack median: native $nw s ($nc s CPU); traced mount + git $tw s ($tc s CPU); store $sw s ($sc s CPU): ${ratio_wall}x wall, ${ratio_cpu}x CPU (target 1.5x)"
fi

# ---- burst and stream

burst_rate=- burst_commits=-
if want burst; then
rm -rf "$W/b" && mkdir -p "$W/b"
new_wc "$W/b/wc"
before=$(git -C "$W/b/wc" rev-parse HEAD)
mount_fg "$W/b/wc" "$W/b/mnt" store_sync=0 --store
start=$(now)
python3 -c '
import os, sys
d = sys.argv[1]
os.mkdir(d)
for i in range(1000):
    with open(os.path.join(d, "f%04d.txt" % i), "w") as f:
        f.write("small file %d\n" % i)
' "$W/b/mnt/burst"
written=$(secs "$start" "$(now)")
wait_committed "$W/b/wc" "$before"
took=$(secs "$start" "$(now)")
burst_commits=$(git -C "$W/b/wc" rev-list --count "$before..HEAD")
burst_rate=$(awk -v t="$took" 'BEGIN { printf "%.0f", 1000 / t }')
say "burst: 1,000 small files written in $written s, committed after $took s in $burst_commits commits ($burst_rate files/s)"
umount_fg "$W/b/mnt"
fi

stream_rate=-
if want stream; then
rm -rf "$W/s" && mkdir -p "$W/s"
new_wc "$W/s/wc"
before=$(git -C "$W/s/wc" rev-parse HEAD)
mount_fg "$W/s/wc" "$W/s/mnt" store_sync=0,store_quiet=20 --store
start=$(now)
python3 -c '
import os, sys, time
for i in range(100):
    with open(os.path.join(sys.argv[1], "s%03d.txt" % i), "w") as f:
        f.write("one at a time %d\n" % i)
    time.sleep(0.1)
' "$W/s/mnt"
wait_committed "$W/s/wc" "$before"
took=$(secs "$start" "$(now)")
stream_commits=$(git -C "$W/s/wc" rev-list --count "$before..HEAD")
stream_rate=$(awk -v n="$stream_commits" -v t="$took" 'BEGIN { printf "%.1f", n / t }')
say "stream: 100 files 100 ms apart: $stream_commits commits in $took s ($stream_rate commits/s)"
umount_fg "$W/s/mnt"
fi

# ---- memory with 100,000 files

rss_history=0
if want memory; then
big=$CACHE/store-100k.tar
if [ ! -f "$big" ]; then
	rm -rf "$W/gen" && mkdir -p "$W/gen"
	new_wc "$W/gen/wc"
	python3 -c '
import os, sys
root = sys.argv[1]
for d in range(100):
    p = os.path.join(root, "d%02d" % d)
    os.mkdir(p)
    for f in range(1000):
        with open(os.path.join(p, "f%04d" % f), "w") as out:
            out.write("file %d/%d\n" % (d, f))
' "$W/gen/wc"
	git -C "$W/gen/wc" add -A
	git -C "$W/gen/wc" commit -qm "100,000 files"
	git -C "$W/gen/wc" repack -adq
	tar cf "$big.tmp" -C "$W/gen" wc && mv "$big.tmp" "$big"
	rm -rf "$W/gen"
fi
rm -rf "$W/m" && mkdir -p "$W/m"
tar xf "$big" -C "$W/m"
# A copied working copy's index no longer matches the files' inodes and
# ctimes: refresh it first, as the first `git status` would, so that the
# mount does not rehash 100,000 files.
git -C "$W/m/wc" update-index -q --refresh
start=$(now)
mount_fg "$W/m/wc" "$W/m/mnt" store_sync=0 --store
mount_s=$(secs "$start" "$(now)")
rss_mounted=$(rss_peak "$DAEMON")
start=$(now)
files=$(find "$W/m/mnt" -type f | wc -l)
find_s=$(secs "$start" "$(now)")
rss_find=$(rss_peak "$DAEMON")
before=$(git -C "$W/m/wc" rev-parse HEAD)
for i in $(seq 0 99); do echo changed >>"$W/m/mnt/d$(printf %02d "$i")/f0000"; done
wait_committed "$W/m/wc" "$before"
rss_commit=$(rss_peak "$DAEMON")
head=$(git -C "$W/m/wc" rev-parse HEAD)
history_files=$(find "$W/m/mnt/.history/by-id/$head" -type f | wc -l)
rss_history=$(rss_peak "$DAEMON")
umount_fg "$W/m/mnt"
say "memory: $files files; mounted in $mount_s s; peak RSS $((rss_mounted / 1024)) MiB mounted, $((rss_find / 1024)) MiB after find ($find_s s), $((rss_commit / 1024)) MiB after a 100-file commit, $((rss_history / 1024)) MiB after finding the $history_files files of .history/by-id/HEAD"
fi

say "unpack wget through the store ${ratio_wall}x native wall (${ratio_cpu}x CPU; $sw s vs $nw s, $sc s vs $nc s CPU, median of $RUNS); burst 1,000 files $burst_rate files/s ($burst_commits commits); $stream_rate commits/s one at a time; 100,000 files: peak RSS $((rss_history / 1024)) MiB"
