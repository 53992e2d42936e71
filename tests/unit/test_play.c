/*
 * test_play.c — play/ and the pacing of viz/'s timeline: one list of op
 * and kind names on both sides, the trace-time <-> video-time map at its
 * limits, the default duration rule on the first workload's shape (video
 * <= 30 s, the 2 s pause <= 3 s of it), --duration, no frame stamped
 * outside the trace, the fullest moment. (The command itself, which draws
 * text with fontconfig, is tested in tests/integration/render.sh.)
 */
#include <math.h>
#include <stdbool.h>

#include "check.h"
#include "play/play.h"
#include "recorder/recorder.h"
#include "scratch.h"
#include "viz/viz.h"

#define NS 1000000000LL

static void cleanup(void)
{
	scratch_remove();
}

/* ---- names ---- */

static void test_names(void)
{
	for (int op = 0; op < TRACE_OP_COUNT; op++)
		CHECK(strcmp(viz_op_name((enum viz_op)op), trace_op_name((enum trace_op)op)) == 0,
		      "op %d: viz says %s, recorder %s", op, viz_op_name((enum viz_op)op),
		      trace_op_name((enum trace_op)op));
	CHECK(strcmp(viz_op_name(VIZ_OP_UNKNOWN), "?") == 0, "unknown op");
	for (int kind = 0; kind < TRACE_KIND_COUNT; kind++) {
		const char *a = viz_kind_name((enum viz_kind)kind), *b = trace_kind_name((enum trace_kind)kind);
		CHECK(a == b || (a && b && strcmp(a, b) == 0), "kind %d", kind);
	}
	CHECK(viz_kind_name(VIZ_KIND_NONE) == NULL, "the trace shows NULL for no kind");
	struct trace_event e = {.ts_ns = 5, .op = TRACE_OP_RMDIR, .kind = TRACE_KIND_DIR, .path = "/a",
			      .pid = 7, .result = -39, .comm = "rm"};
	struct viz_event v;
	play_event(&v, &e, 1.5);
	CHECK(v.op == VIZ_OP_RMDIR && v.kind == VIZ_KIND_DIR && v.t == 1.5 && v.ts_ns == 5 &&
		      v.pid == 7 && v.result == -39 && strcmp(v.path, "/a") == 0 &&
		      strcmp(v.comm, "rm") == 0,
	      "play_event maps the fields");
	e.op = 200;
	e.kind = 99;
	play_event(&v, &e, 0);
	CHECK(v.op == VIZ_OP_UNKNOWN && v.kind == VIZ_KIND_NONE, "out-of-range op and kind");
}

/* ---- the map ---- */

static void test_timeline_limits(void)
{
	/* Two slices of 1 s: the first takes 3 s of video, the second 1 s. */
	double knots[] = {0, 3, 4};
	struct viz_timeline tl;
	int64_t base = 1700000000LL * NS;
	viz_timeline_init(&tl, base, base + 2 * NS, knots, 2);
	CHECK(viz_timeline_end(&tl) == 4, "end");
	CHECK(viz_timeline_video_t(&tl, base) == 0, "first event at 0");
	CHECK(fabs(viz_timeline_video_t(&tl, base + NS / 2) - 1.5) < 1e-9, "inside a slice");
	CHECK(fabs(viz_timeline_video_t(&tl, base + 3 * NS / 2) - 3.5) < 1e-9, "second slice");
	CHECK(viz_timeline_trace_ns(&tl, 1.5) == base + NS / 2, "clock inside a slice: %lld",
	      (long long)(viz_timeline_trace_ns(&tl, 1.5) - base));
	/* The extremes of int64 and of double (UBSan checks the arithmetic). */
	CHECK(viz_timeline_video_t(&tl, INT64_MIN) == 0, "INT64_MIN");
	CHECK(viz_timeline_video_t(&tl, INT64_MAX) == 4, "INT64_MAX");
	CHECK(viz_timeline_trace_ns(&tl, -1e300) == base, "before the start");
	CHECK(viz_timeline_trace_ns(&tl, NAN) == base, "NaN");
	CHECK(viz_timeline_trace_ns(&tl, 1e300) == base + 2 * NS, "after the end");
	CHECK(viz_timeline_trace_ns(&tl, INFINITY) == base + 2 * NS, "infinity");
	/* A span over the whole int64 range. */
	double wide[] = {0, 1};
	viz_timeline_init(&tl, INT64_MIN, INT64_MAX, wide, 1);
	CHECK(viz_timeline_video_t(&tl, 0) > 0.49 && viz_timeline_video_t(&tl, 0) < 0.51, "middle");
	int64_t mid = viz_timeline_trace_ns(&tl, 0.5);
	CHECK(mid > -NS * 1000 && mid < NS * 1000, "middle back: %lld", (long long)mid);
	CHECK(viz_timeline_trace_ns(&tl, 1) == INT64_MAX, "end of the range");
	/* One instant: everything at 0. */
	double one[] = {0, 0};
	viz_timeline_init(&tl, base, base, one, 1);
	CHECK(viz_timeline_video_t(&tl, base) == 0 && viz_timeline_trace_ns(&tl, 5) == base,
	      "a one-instant trace");
	/* Pacing empty counts gives no NaN. */
	int64_t none[3] = {0, 0, 0};
	double k[4];
	viz_timeline_pace(k, none, 3, base, base + NS, &(struct viz_pacing){.duration = 10});
	CHECK(k[3] == 10 && k[1] > 0 && k[2] > k[1], "quiet everywhere: %g %g %g", k[1], k[2], k[3]);
}

/* ---- the first workload's shape in a trace ---- */

/* The first workload as recorded: 88 mkdirs with their lookups and
 * getattrs over 0.66 s, a 2 s pause, rm -rf over 0.16 s. */
#define CREATE_NS (660 * 1000000LL)
#define PAUSE_NS (2 * NS)
#define REMOVE_NS (160 * 1000000LL)

static int64_t t0;

static void first_workload_paths(char paths[88][64])
{
	char chain[64] = "";
	int n = 0;
	for (int level = 0; level < 11; level++) {
		size_t len = strlen(chain);
		snprintf(chain + len, sizeof(chain) - len, "/%d", level);
		snprintf(paths[n++], 64, "%s", chain);
		for (char leaf = 'a'; leaf <= 'g'; leaf++)
			snprintf(paths[n++], 64, "%s/%c", chain, leaf);
	}
}

static void submit(struct recorder *r, int64_t ts, enum trace_op op, enum trace_kind kind,
		   int32_t result, const char *path, const char *comm)
{
	struct trace_event e = {.ts_ns = ts, .dur_ns = 1000, .bytes = -1, .offset = -1,
			      .path = path, .comm = comm, .pid = 100, .result = result,
			      .op = (uint8_t)op, .kind = (uint8_t)kind};
	recorder_submit(r, &e);
}

static void make_first_workload(const char *db)
{
	struct recorder_options options = {.db_path = db, .source = "/src", .mountpoint = "/mnt/fw"};
	char err[512] = "";
	struct recorder *r = recorder_open(&options, err, sizeof(err));
	CHECK(r, "recorder_open(%s): %s", db, err);
	static char paths[88][64];
	first_workload_paths(paths);
	t0 = 1700000000LL * NS;
	for (int i = 0; i < 88; i++) {
		int64_t ts = t0 + CREATE_NS * i / 87;
		submit(r, ts, TRACE_OP_LOOKUP, TRACE_KIND_NONE, -2, paths[i], "mkdir");
		submit(r, ts + 1000, TRACE_OP_MKDIR, TRACE_KIND_DIR, 0, paths[i], "mkdir");
		submit(r, ts + 2000, TRACE_OP_GETATTR, TRACE_KIND_DIR, 0, paths[i], "mkdir");
	}
	int64_t rm0 = t0 + CREATE_NS + PAUSE_NS;
	for (int i = 87; i >= 0; i--) {
		int64_t ts = rm0 + REMOVE_NS * (87 - i) / 87;
		submit(r, ts, TRACE_OP_OPENDIR, TRACE_KIND_DIR, 0, paths[i], "rm");
		submit(r, ts + 1000, TRACE_OP_READDIR, TRACE_KIND_DIR, 0, paths[i], "rm");
		submit(r, ts + 2000, TRACE_OP_RMDIR, TRACE_KIND_DIR, 0, paths[i], "rm");
	}
	CHECK(recorder_close(r, err, sizeof(err)) == 0, "recorder_close: %s", err);
}

static struct trace_reader *open_trace(const char *db)
{
	char err[512];
	struct trace_reader *reader = trace_reader_open(db, err, sizeof(err));
	CHECK(reader, "trace_reader_open: %s", err);
	return reader;
}

static void scan_trace(struct trace_reader *reader, struct play_scan *scan, bool fullest)
{
	char err[512];
	struct play_scan_options so = {.from_ns = INT64_MIN, .to_ns = INT64_MAX,
				       .find_fullest = fullest};
	CHECK(play_scan(reader, &so, scan, err, sizeof(err)) == 0, "play_scan: %s", err);
}

/* Every frame of a video of LENGTH seconds at 30 frames/s shows a time inside the trace. */
static void check_frames_inside(const struct viz_timeline *tl, double length)
{
	int64_t prev = INT64_MIN;
	for (long i = 0; i <= (long)(length * 30); i++) {
		int64_t ns = viz_timeline_trace_ns(tl, (double)i / 30);
		CHECK(ns >= tl->first_ns && ns <= tl->last_ns, "frame %ld at %lld ns, outside", i,
		      (long long)(ns - tl->first_ns));
		CHECK(ns >= prev, "the clock runs back at frame %ld", i);
		prev = ns;
	}
}

static void test_first_workload_pacing(const char *db)
{
	struct trace_reader *reader = open_trace(db);
	struct play_scan scan;
	scan_trace(reader, &scan, false);
	CHECK(scan.events == 88 * 6, "%lld events", (long long)scan.events);
	CHECK(scan.first_ns == t0, "first");

	/* The defaults, as render uses them: a 3 s tail after the last event. */
	struct play_pacing pacing = {.tail = 3};
	struct viz_timeline tl;
	double *knots;
	CHECK(play_timeline(&scan, &pacing, &tl, &knots) == 0, "play_timeline");
	double length = viz_timeline_end(&tl) + pacing.tail;
	double pause = viz_timeline_video_t(&tl, t0 + CREATE_NS + PAUSE_NS) -
		       viz_timeline_video_t(&tl, t0 + CREATE_NS);
	double create = viz_timeline_video_t(&tl, t0 + CREATE_NS);
	printf("first workload, defaults: %.2f s of video; mkdirs %.2f s, the 2 s pause %.2f s, "
	       "rm -rf %.2f s\n", length, create, pause, viz_timeline_end(&tl) - create - pause);
	CHECK(length <= 30, "the default video lasts %.2f s", length);
	CHECK(pause <= 3, "the pause takes %.2f s of video", pause);
	CHECK(create >= 5, "the mkdirs get only %.2f s", create);
	check_frames_inside(&tl, length);
	free(knots);

	/* --duration 40: exactly that long, still no frame outside the trace. */
	pacing.duration = 40;
	CHECK(play_timeline(&scan, &pacing, &tl, &knots) == 0, "play_timeline");
	CHECK(fabs(viz_timeline_end(&tl) + pacing.tail - 40) < 1e-9, "--duration 40 gives %.3f s",
	      viz_timeline_end(&tl) + pacing.tail);
	check_frames_inside(&tl, 40);
	free(knots);

	/* --speed 0.5: constant, the whole span at half speed. */
	pacing = (struct play_pacing){.speed = 0.5};
	CHECK(play_timeline(&scan, &pacing, &tl, &knots) == 0, "play_timeline");
	double span = (double)(scan.last_ns - scan.first_ns) / 1e9;
	CHECK(fabs(viz_timeline_end(&tl) - span / 0.5) < 1e-6, "--speed 0.5: %.3f s for %.3f s",
	      viz_timeline_end(&tl), span);
	free(knots);

	/* --speed 1 --idle-skip 0.1: the pause becomes 0.1 s, the rest is as it was. */
	pacing = (struct play_pacing){.speed = 1, .idle_skip = 0.1};
	CHECK(play_timeline(&scan, &pacing, &tl, &knots) == 0, "play_timeline");
	pause = viz_timeline_video_t(&tl, t0 + CREATE_NS + PAUSE_NS) -
		viz_timeline_video_t(&tl, t0 + CREATE_NS);
	CHECK(pause > 0.09 && pause < 0.11, "--idle-skip 0.1: the pause takes %.3f s", pause);
	CHECK(fabs(viz_timeline_end(&tl) - (span - 1.9)) < 0.01, "--idle-skip: %.3f s",
	      viz_timeline_end(&tl));
	free(knots);
	play_scan_free(&scan);
	trace_reader_close(reader);
}

/* A busy stretch gets more video per trace second than a slow one. */
static void test_busy_gets_time(void)
{
	enum { SLICES = 100 };
	int64_t counts[SLICES] = {0};
	for (int i = 0; i < 10; i++)
		counts[i] = 1000; /* an unpack: 10,000 events in a tenth of the span */
	for (int i = 10; i < 90; i++)
		counts[i] = 20; /* a slow stretch: 1,600 events in eight tenths */
	double knots[SLICES + 1];
	viz_timeline_pace(knots, counts, SLICES, 0, 100 * NS, &(struct viz_pacing){.duration = 60});
	double busy = knots[10], slow = knots[90] - knots[10], quiet = knots[100] - knots[90];
	printf("busy tenth %.1f s, slow eight tenths %.1f s, quiet tenth %.1f s of 60 s\n", busy,
	       slow, quiet);
	CHECK(busy > 20 && busy / 10 > slow / 80 * 5, "the busy tenth gets %.1f s", busy);
	CHECK(quiet < 60 * VIZ_QUIET_SHARE + 1e-9, "the quiet tenth gets %.1f s", quiet);
	CHECK(fabs(knots[SLICES] - 60) < 1e-9, "the whole: %g", knots[SLICES]);
}

static void test_fullest(const char *db)
{
	struct trace_reader *reader = open_trace(db);
	struct play_scan scan;
	scan_trace(reader, &scan, true);
	CHECK(scan.fullest_nodes == 89, "the fullest moment has %zu nodes", scan.fullest_nodes);
	CHECK(scan.fullest_ns >= t0 + CREATE_NS && scan.fullest_ns < t0 + CREATE_NS + PAUSE_NS,
	      "the fullest moment is at +%.3f s", (double)(scan.fullest_ns - t0) / 1e9);
	play_scan_free(&scan);
	trace_reader_close(reader);
}

int main(void)
{
	check_on_fail = cleanup;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!scratch_make("test_play"))
		return 1;
	char db[256];
	scratch_path(db, sizeof(db), "first.db");
	test_names();
	test_timeline_limits();
	test_busy_gets_time();
	make_first_workload(db);
	test_first_workload_pacing(db);
	test_fullest(db);
	cleanup();
	printf("test_play: all passed\n");
	return 0;
}

