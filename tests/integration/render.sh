#!/bin/bash
# `tracefs render` on traces recorded live through a real mount. The first
# workload (with its two-second pause): just after the last mkdir, the model
# holds the root and 88 green directories that do not overlap, the newest
# red and labelled, and the picture shows them in those colours, the
# labels' plates (from --dump-scene) apart, the process list's dots
# coloured only when colouring by process; the
# default picture is the tree at its fullest (89 nodes), its clock in the
# pause; after `rm -rf 0` only the root remains, stamped with the last
# event; the default video is paced by activity and lasts at most 30 s,
# --duration sets its length; an .mp4 whose frame count and duration
# ffprobe confirms; a directory of PNG frames; SIGINT and SIGTERM stop a
# render at once and leave nothing; the errors (unknown type,
# no ffmpeg, ffmpeg failing, a corrupt, an empty or a non-trace file) exit
# non-zero with a clear message and leave no file. Then a 100,000-file tree
# renders without overlapping nodes.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/first-workload.sh"

command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null ||
	{ echo "ffmpeg and ffprobe are needed"; exit 77; }

# fontconfig (under cairo) keeps its configuration until exit by design.
echo "leak:libfontconfig.so" >"$T/lsan.supp"
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0"

# pixels.py PNG X Y: the RGB of a pixel of an 8-bit RGB or RGBA PNG (what
# cairo writes), decoded with zlib alone.
cat >"$T/pixels.py" <<'EOF'
import struct, sys, zlib

def read_png(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat = 8, b''
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, color = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and color in (2, 6), 'unexpected PNG format'
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, lambda x, y: tuple(rows[y][x * bpp:x * bpp + 3])
EOF

# --- the first workload, recorded live ---
mkdir -p "$T/src" "$T/mnt"
"$TRACEFS" mount --db "$T/trace.db" "$T/src" "$T/mnt"
first_workload "$T/mnt" 2
"$TRACEFS" umount "$T/mnt"
check_first_workload_trace "$T/trace.db"

# Just after the last mkdir (in seconds from the first event), 0.6 s of
# video later, when the new node has grown and still flashes. The speed
# makes the 88 mkdirs last 10 s of video however fast this machine made
# them: each level of the chain is drawn about ten times smaller than its
# parent, and the camera eases with a time constant of 0.8 s of video, so
# a chain made faster than about a level per second of video outruns it
# (a fixed 0.05 trace seconds per video second, with mkdirs that took
# 0.2 s, left the newest node below a pixel).
read -r speed last_mkdir <<<"$(sql "$T/trace.db" "
	SELECT printf('%.6f %.3f', s, (m - (SELECT min(ts_ns) FROM trace)) / 1e9 + 0.6 * s)
	FROM (SELECT max(ts_ns) AS m, (max(ts_ns) - min(ts_ns)) / 1e10 AS s FROM trace WHERE op = 'mkdir')")"
note "last mkdir at ${last_mkdir}s; $speed trace seconds per video second"

"$TRACEFS" render "$T/trace.db" -o "$T/mkdirs.png" --at "$last_mkdir" --speed "$speed" \
	--dump-scene "$T/mkdirs.json" --title "first workload"
python3 - "$T/mkdirs.png" "$T/mkdirs.json" "$T/pixels.py" <<'EOF' || fail "the picture after the mkdirs"
import json, math, sys
exec(open(sys.argv[3]).read())
width, height, pixel = read_png(sys.argv[1])
scene = json.load(open(sys.argv[2]))
nodes = scene['nodes']
assert (width, height) == (1280, 720), (width, height)
# the model: the root and 88 directories, exactly the workload's
expected = {'/'}
p = ''
for level in range(11):
    p += '/%d' % level
    expected.add(p)
    expected.update(p + '/' + leaf for leaf in 'abcdefg')
assert {n['path'] for n in nodes} == expected, 'paths differ'
assert all(n['kind'] == 'dir' for n in nodes), 'a node is not a directory'
# no two nodes overlap (bounding circles disjoint)
circles = sorted(((n['target_x'], n['target_y'], n['target_r'], n['path']) for n in nodes),
                 key=lambda c: c[0] - c[2])
for i, (x, y, r, a) in enumerate(circles):
    for (u, v, s, b) in circles[i + 1:]:
        if u - s > x + r:
            break
        assert math.hypot(x - u, y - v) >= r + s, '%s and %s overlap' % (a, b)
# the newest node is red in the model, and red and labelled in the picture
last = next(n for n in nodes if n['path'] == '/0/1/2/3/4/5/6/7/8/9/10/g')
r, g, b, a = last['color']
assert r > 0.9 and g < 0.35 and b < 0.35, 'last node not red: %s' % last['color']
drawn = {d['id']: d for d in scene['frame']['nodes']}
assert last['id'] in drawn, 'the newest node is not drawn'
d = drawn[last['id']]
pr, pg, pb = pixel(int(d['x']), int(d['y']))
assert pr > 180 and pg < 100 and pb < 100, 'newest node pixel not red: %s' % ((pr, pg, pb),)
assert any(l['text'] == 'g' and l['color'][3] > 0.9 for l in scene['frame']['labels']), 'no label g'
print('  89 nodes, no overlap, %d drawn, the newest red with its label' % len(drawn))
EOF

# The labels' plates, as --dump-scene gives them, never meet, and each is
# beside its node. The process list's dots are coloured only when the nodes
# are coloured by process: in kind mode the list is plain text.
"$TRACEFS" render "$T/trace.db" -o "$T/by-process.png" --at "$last_mkdir" --speed "$speed" \
	--color-by process
python3 - "$T/mkdirs.png" "$T/mkdirs.json" "$T/by-process.png" "$T/pixels.py" <<'EOF' ||
import json, sys
exec(open(sys.argv[4]).read())
scene = json.load(open(sys.argv[2]))
labels = scene['frame']['labels']
drawn = {d['id']: d for d in scene['frame']['nodes']}
assert labels, 'no labels'
for i, l in enumerate(labels):
    p = l['plate']
    assert p['x0'] < l['x'] < p['x1'] and p['y0'] < l['y'] < p['y1'], 'plate not round %s' % l['text']
    assert l['node'] in drawn, 'label %s names no drawn node' % l['text']
    for m in labels[:i]:
        q = m['plate']
        meet = p['x0'] < q['x1'] and q['x0'] < p['x1'] and p['y0'] < q['y1'] and q['y0'] < p['y1']
        assert not meet, 'plates of %s and %s meet' % (l['text'], m['text'])

def coloured(path):
    width, height, pixel = read_png(path)
    n = 0
    for y in range(0, 100):
        for x in range(width - 250, width):
            r, g, b = pixel(x, y)
            n += max(r, g, b) - min(r, g, b) > 80
    return n

kind, process = coloured(sys.argv[1]), coloured(sys.argv[3])
assert kind == 0, '%d coloured pixels in the process list in kind mode' % kind
assert process > 20, 'no coloured dots in the process list by process (%d pixels)' % process
print('  %d labels, their plates apart; process dots: none by kind, %d pixels by process' %
      (len(labels), process))
EOF
	fail "labels' plates or the process list"

# A second later, in the pause, at a speed that gives that second 10 s of
# video: the flashes have faded, all 89 are green.
"$TRACEFS" render "$T/trace.db" -o "$T/pause.png" --at "$(python3 -c "print($last_mkdir + 1)")" \
	--speed 0.1 --dump-scene "$T/pause.json"
python3 - "$T/pause.png" "$T/pause.json" "$T/pixels.py" <<'EOF' || fail "the picture in the pause"
import json, sys
exec(open(sys.argv[3]).read())
width, height, pixel = read_png(sys.argv[1])
scene = json.load(open(sys.argv[2]))
nodes = {n['id']: n for n in scene['nodes']}
assert len(nodes) == 89, len(nodes)
for n in nodes.values():
    r, g, b, a = n['color']
    assert g > 0.6 and r < 0.4 and b < 0.45 and a == 1, '%s is not green: %s' % (n['path'], n['color'])
greens = 0
for d in scene['frame']['nodes']:
    if d['r'] >= 2.5 and 0 <= d['x'] < width and 0 <= d['y'] < height:
        pr, pg, pb = pixel(int(d['x']), int(d['y']))
        assert pg > 140 and pr < 110 and pb < 130, '%s drawn %s, not green' % (
            nodes[d['id']]['path'], (pr, pg, pb))
        greens += 1
assert greens >= 8, 'only %d nodes big enough to check' % greens
print('  in the pause: 89 green nodes in the model, %d drawn and checked by pixel' % greens)
EOF

# clock.py DUMP: the dump's clock in ns since the epoch (to the millisecond).
cat >"$T/clock.py" <<'EOF'
import calendar, json, sys, time
def clock_ns(dump):
    text = json.load(open(dump))['frame']['clock']  # "2026-12-04 13:59:56.603 UTC"
    day, ms = text[:19], text[20:23]
    return calendar.timegm(time.strptime(day, '%Y-%m-%d %H:%M:%S')) * 10**9 + int(ms) * 10**6
EOF

# The default picture: the tree at its fullest, stamped with a moment of
# the pause (after the last mkdir, before the first rmdir).
"$TRACEFS" render "$T/trace.db" -o "$T/default.png" --dump-scene "$T/default.json"
read -r last_mkdir_ns first_rmdir_ns <<<"$(sql "$T/trace.db" "
	SELECT max(ts_ns), (SELECT min(ts_ns) FROM trace WHERE op = 'rmdir') FROM trace
	WHERE op = 'mkdir'" | tr '|' ' ')"
python3 - "$T/default.json" "$last_mkdir_ns" "$first_rmdir_ns" "$T/clock.py" <<'EOF' ||
import json, sys
exec(open(sys.argv[4]).read())
scene = json.load(open(sys.argv[1]))
assert scene['node_count'] == 89, 'the default picture holds %d nodes' % scene['node_count']
clock = clock_ns(sys.argv[1])
assert int(sys.argv[2]) // 10**6 * 10**6 <= clock <= int(sys.argv[3]), 'clock %d outside the pause' % clock
assert scene['frame']['width'] == 1280 and scene['frame']['height'] == 720
assert all(k in n for n in scene['frame']['nodes'] for k in ('id', 'x', 'y', 'r'))
assert all(k in n for n in scene['nodes'] for k in ('id', 'flash', 'dying'))
print('  the default picture: 89 nodes, %.3f s after the last mkdir' % ((clock - int(sys.argv[2])) / 1e9))
EOF
	fail "the default picture"

# Past the end of the trace (rm -rf 0 done, settled): only the root, the
# clock at the last event.
"$TRACEFS" render "$T/trace.db" -o "$T/end.png" --at 1000 --dump-scene "$T/end.json"
last_ns=$(sql "$T/trace.db" "SELECT max(ts_ns) FROM trace")
python3 - "$T/end.json" "$last_ns" "$T/clock.py" <<'EOF' || fail "the end's clock"
import sys
exec(open(sys.argv[3]).read())
assert clock_ns(sys.argv[1]) == int(sys.argv[2]) // 10**6 * 10**6, 'the end is not stamped with the last event'
EOF
python3 - "$T/end.png" "$T/end.json" "$T/pixels.py" <<'EOF' || fail "the picture at the end"
import json, sys
exec(open(sys.argv[3]).read())
width, height, pixel = read_png(sys.argv[1])
scene = json.load(open(sys.argv[2]))
assert [n['path'] for n in scene['nodes']] == ['/'], [n['path'] for n in scene['nodes']]
assert scene['node_count'] == 1
(root,) = scene['frame']['nodes']
pr, pg, pb = pixel(int(root['x']), int(root['y']))
assert pg > 140 and pr < 110, 'root not green: %s' % ((pr, pg, pb),)
print('  after rm -rf 0: only the root')
EOF

# Same trace, same options: the same picture, byte for byte.
"$TRACEFS" render "$T/trace.db" -o "$T/mkdirs2.png" --at "$last_mkdir" --speed "$speed" \
	--title "first workload"
cmp -s "$T/mkdirs.png" "$T/mkdirs2.png" || fail "two renders of the same moment differ"

# --- videos: ffprobe counts their frames ---
# The default: paced by activity (the 2 s pause short), at most 30 s.
"$TRACEFS" render "$T/trace.db" -o "$T/default.mp4" --size 320x180
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/default.mp4")
python3 -c "import sys; sys.exit(not 10 <= $duration <= 30)" ||
	fail "the default video lasts ${duration}s"
note "default.mp4: ${duration}s"
# --duration 12 at 10 frames/s: 120 frames.
"$TRACEFS" render "$T/trace.db" -o "$T/twelve.mp4" --size 320x180 --fps 10 --duration 12
got=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
	-of csv=p=0 "$T/twelve.mp4")
assert_eq "$got" "120" "frames of a --duration 12 video at 10 frames/s"

span=$(sql "$T/trace.db" "SELECT (max(ts_ns) - min(ts_ns)) / 1e9 FROM trace")
"$TRACEFS" render "$T/trace.db" -o "$T/movie.mp4" --size 640x360 --fps 10 --speed 0.5 --color-by op
# frames at 0, 1/10, ... over the trace (span / 0.5 s), the fade (2 s) and the tail (1.5 s)
want=$(python3 -c "import math; print(math.ceil(($span / 0.5 + 3.5) * 10 - 1e-9))")
got=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height \
	-of csv=p=0 "$T/movie.mp4")
assert_eq "$got" "640,360,$want" "video width, height and frames"
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/movie.mp4")
python3 -c "import sys; sys.exit(abs($duration - $want / 10) > 0.15)" ||
	fail "video lasts ${duration}s, expected $((want / 10))s"
note "movie.mp4: $want frames, ${duration}s"

# --- a directory of frames ---
"$TRACEFS" render "$T/trace.db" -o "$T/frames" --size 320x180 --fps 2 --speed 1
want=$(python3 -c "import math; print(math.ceil(($span + 3.5) * 2 - 1e-9))")
assert_eq "$(ls "$T/frames" | wc -l)" "$want" "frames written"
[ -s "$T/frames/frame-000001.png" ] && [ -s "$T/frames/$(printf 'frame-%06d.png' "$want")" ] ||
	fail "frame files are not numbered from 1"

# --- SIGINT and SIGTERM: the render stops at once and leaves nothing ---
# A ten-minute 720p video (minutes of work); the signal comes once ffmpeg
# has created the temporary file, and the render must be gone within 10 s
# (~0.2 s optimised; 2-4 s seen for this sanitizer build on a loaded
# machine, its leak check at exit included).
mkdir "$T/sig"
for sig in INT TERM; do
	"$TRACEFS" render "$T/trace.db" -o "$T/sig/long.mp4" --duration 600 2>"$T/sig.err" &
	pid=$!
	wait_for 30 bash -c "ls -A '$T/sig' | grep -q partial" || fail "no partial video appeared"
	kill -s "$sig" "$pid"
	start=$(date +%s%N)
	# ended: a zombie until waited for, or gone
	wait_for 10 bash -c "grep -q ') Z' /proc/$pid/stat 2>/dev/null || [ ! -e /proc/$pid ]" ||
		fail "render still running 10 s after SIG$sig"
	rc=0
	wait "$pid" || rc=$?
	assert_eq "$rc" 130 "exit status after SIG$sig"
	grep -q "interrupted; nothing written" "$T/sig.err" || fail "after SIG$sig: $(cat "$T/sig.err")"
	note "SIG$sig: render gone $(( ($(date +%s%N) - start) / 1000000 )) ms after the signal"
	[ -z "$(ls -A "$T/sig")" ] || fail "left behind after SIG$sig: $(ls -A "$T/sig")"
done

# --- errors: a clear message, a non-zero exit, nothing left behind ---
expect_error() { # WHAT MESSAGE_PATTERN COMMAND...
	local what=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ $rc -ne 0 ] || fail "$what: exit status 0"
	grep -q -- "$pattern" "$T/err" || fail "$what: message '$(cat "$T/err")' lacks '$pattern'"
	note "$what: $(head -n 1 "$T/err")"
}
no_leftovers() { # DIR
	local left
	left=$(ls -A "$1" | grep -E '\.partial-|^out\.' || true)
	[ -z "$left" ] || fail "left behind in $1: $left"
}
mkdir "$T/o"
expect_error "unknown type" "unknown type '.avi'" "$TRACEFS" render "$T/trace.db" -o "$T/o/out.avi"
expect_error "no ffmpeg" "ffmpeg is not installed" \
	env PATH=/nonexistent "$TRACEFS" render "$T/trace.db" -o "$T/o/out.mp4"
mkdir "$T/bin"
printf '#!/bin/sh\necho "fake ffmpeg: refusing" >&2\nexit 3\n' >"$T/bin/ffmpeg"
chmod +x "$T/bin/ffmpeg"
expect_error "ffmpeg failing" "ffmpeg failed" \
	env PATH="$T/bin:$PATH" "$TRACEFS" render "$T/trace.db" -o "$T/o/out.mp4"
cp "$T/trace.db" "$T/corrupt.db"
size=$(stat -c %s "$T/corrupt.db")
dd if=/dev/urandom of="$T/corrupt.db" bs=1 seek=$((size / 3)) count=$((size / 3)) conv=notrunc status=none
expect_error "corrupt trace" "corrupt.db" "$TRACEFS" render "$T/corrupt.db" -o "$T/o/out.png"
cp "$T/trace.db" "$T/empty.db"
sqlite3 "$T/empty.db" "DELETE FROM events"
expect_error "empty trace" "no events" "$TRACEFS" render "$T/empty.db" -o "$T/o/out.png"
echo "not a trace" >"$T/text.db"
expect_error "not a trace" "text.db" "$TRACEFS" render "$T/text.db" -o "$T/o/out.mp4"
expect_error "missing trace" "missing.db" "$TRACEFS" render "$T/missing.db" -o "$T/o/out.png"
expect_error "bad size" "bad --size" "$TRACEFS" render "$T/trace.db" -o "$T/o/out.png" --size 12x
no_leftovers "$T/o"
no_leftovers "$T"

# --- a tree of 100,000 files ---
# The kernel keeps an inode (and the daemon a descriptor) for every file it
# has cached; dropping the caches now and then keeps that under the open
# files limit.
if [ -w /proc/sys/vm/drop_caches ]; then
	mkdir -p "$T/bigsrc" "$T/bigmnt"
	"$TRACEFS" mount --db "$T/big.db" "$T/bigsrc" "$T/bigmnt"
	python3 - "$T/bigmnt" <<'EOF'
import os, sys
for a in range(10):
    for b in range(10):
        d = '%s/d%d/e%d' % (sys.argv[1], a, b)
        os.makedirs(d)
        for c in range(1000):
            os.close(os.open('%s/f%d' % (d, c), os.O_CREAT | os.O_WRONLY, 0o644))
        with open('/proc/sys/vm/drop_caches', 'w') as f:
            f.write('2')
EOF
	"$TRACEFS" umount "$T/bigmnt"
	# Past the end: every node has eased into its place (nodes move from
	# their parent's place when they appear, so a frame amid creations has
	# some in flight).
	"$TRACEFS" render "$T/big.db" -o "$T/big.png" --at 100000 --dump-scene "$T/big.json"
	python3 - "$T/big.json" <<'EOF' || fail "the 100,000-file tree"
import json, math, sys
scene = json.load(open(sys.argv[1]))
nodes = scene['nodes']
assert len(nodes) == 100000 + 110 + 1, len(nodes)
circles = sorted(((n['target_x'], n['target_y'], n['target_r'], n['path']) for n in nodes),
                 key=lambda c: c[0] - c[2])
for i, (x, y, r, a) in enumerate(circles):
    for (u, v, s, b) in circles[i + 1:]:
        if u - s > x + r:
            break
        assert math.hypot(x - u, y - v) >= r + s, '%s and %s overlap' % (a, b)
drawn = scene['frame']['nodes']
circles = sorted(((n['x'], n['y'], n['r'], n['id']) for n in drawn), key=lambda c: c[0] - c[2])
for i, (x, y, r, a) in enumerate(circles):
    for (u, v, s, b) in circles[i + 1:]:
        if u - s > x + r:
            break
        assert math.hypot(x - u, y - v) >= (r + s) * 0.999, 'drawn %s and %s overlap' % (a, b)
print('  %d nodes, none overlapping; %d drawn, none overlapping' % (len(nodes), len(drawn)))
EOF
else
	note "100,000-file tree skipped: cannot drop the kernel's caches"
fi
echo "render: ok"
