#!/bin/bash
# The original demonstration's first workload through a local mount: the
# trace holds exactly the 88 mkdir and 88 rmdir events, on the right paths,
# in the right order, by the right processes, with durations.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/first-workload.sh"

mkdir -p "$T/src" "$T/mnt"
"$TRACEFS" mount --db "$T/trace.db" "$T/src" "$T/mnt"
first_workload "$T/mnt"
"$TRACEFS" umount "$T/mnt"

check_first_workload_trace "$T/trace.db"
assert_eq "$(ls -A "$T/src")" "" "backing directory empty after rm -rf"
n=$(sql "$T/trace.db" "SELECT count(*) FROM trace WHERE op IN ('mkdir', 'rmdir') AND dur_ns > 0 AND pid > 0")
assert_eq "$n" 176 "mkdir/rmdir events with a duration and a pid"
n=$(sql "$T/trace.db" "SELECT count(DISTINCT pid) FROM trace WHERE op = 'mkdir'")
assert_eq "$n" 88 "one mkdir process per directory"
mode=$((0777 & ~$(umask))) # the kernel applies the umask before the request
n=$(sql "$T/trace.db" "SELECT count(*) FROM trace WHERE op = 'mkdir' AND kind = 'dir' AND mode = $mode")
assert_eq "$n" 88 "mkdir events with kind dir and mode $mode"
sql "$T/trace.db" "SELECT op, count(*) FROM trace GROUP BY op ORDER BY 2 DESC" | sed 's/^/  /'
echo "first-workload: ok"
