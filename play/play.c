/*
 * play.c — a recorded trace into the scene model: the event mapping, the
 * one read that learns what a trace holds, its pacing, and the driver.
 */
#include "play/play.h"

#include <stdio.h>
#include <stdlib.h>

/* The scene model numbers ops and kinds as the recorder does (trace/names.h). */
_Static_assert((int)VIZ_OP_LOST == (int)TRACE_OP_LOST && (int)VIZ_OP_UNKNOWN == (int)TRACE_OP_COUNT,
	       "viz_op and rec_op come from one list");
_Static_assert((int)VIZ_KIND_COUNT == (int)TRACE_KIND_COUNT, "viz_kind and rec_kind come from one list");

void play_event(struct viz_event *out, const struct trace_event *e, double t)
{
	*out = (struct viz_event){
		.t = t,
		.ts_ns = e->ts_ns,
		.op = e->op < TRACE_OP_COUNT ? (enum viz_op)e->op : VIZ_OP_UNKNOWN,
		.kind = e->kind < TRACE_KIND_COUNT ? (enum viz_kind)e->kind : VIZ_KIND_NONE,
		.result = e->result,
		.pid = e->pid,
		.path = e->path,
		.path2 = e->path2,
		.comm = e->comm,
		.instance = e->process,
	};
}

/* ---- the scan ---- */

/* Slices of at least a millisecond, at most this many: fine enough to pace by. */
#define MAX_SLICES 20000
#define SLICE_NS 1000000

static size_t slice_count(int64_t first_ns, int64_t last_ns)
{
	uint64_t span = (uint64_t)last_ns - (uint64_t)first_ns;
	uint64_t n = span / SLICE_NS + 1;
	return n > MAX_SLICES ? MAX_SLICES : (size_t)n;
}

static size_t slice_of(const struct play_scan *scan, int64_t ts_ns)
{
	uint64_t span = (uint64_t)scan->last_ns - (uint64_t)scan->first_ns;
	if (span == 0 || ts_ns <= scan->first_ns)
		return 0;
	uint64_t off = (uint64_t)ts_ns - (uint64_t)scan->first_ns;
	size_t i = (size_t)((double)off / (double)span * (double)scan->slices);
	return i < scan->slices ? i : scan->slices - 1;
}

/*
 * Finding the fullest moment: a second scene takes every event at its
 * trace time with an instant fade, and its node count is sampled at the
 * end of each slice. The fullest moment is the largest count inside the
 * stretch of SUSTAIN (a share of the span) whose smallest count is the
 * largest: the tree at its fullest for a while, not a probe that makes
 * and removes a thousand directories in a few seconds (gnulib's confdir3
 * during configure).
 */
#define SUSTAIN 0.05

struct fullest {
	struct viz_scene *scene;
	size_t *samples; /* live nodes at the end of each slice */
	size_t next;	 /* the next slice to sample */
	double now;	 /* the scene's time */
};

static double scene_time(const struct play_scan *scan, int64_t ts_ns)
{
	return ts_ns > scan->first_ns ? (double)((uint64_t)ts_ns - (uint64_t)scan->first_ns) / 1e9 : 0;
}

/* The trace time at the end of slice I. */
static int64_t slice_end(const struct play_scan *scan, size_t i)
{
	uint64_t span = (uint64_t)scan->last_ns - (uint64_t)scan->first_ns;
	double off = (double)span * (double)(i + 1) / (double)scan->slices;
	return (int64_t)((uint64_t)scan->first_ns + (off >= (double)span ? span : (uint64_t)off));
}

static int fullest_start(struct fullest *f, const struct play_scan *scan)
{
	struct viz_options vo = {.fade = 1e-9, .origin_ns = scan->first_ns};
	f->scene = viz_scene_new(play_allocator(), &vo);
	f->samples = calloc(scan->slices, sizeof(*f->samples));
	return f->scene && f->samples ? 0 : -1;
}

static void fullest_free(struct fullest *f)
{
	viz_scene_free(f->scene);
	free(f->samples);
}

/* Samples the slices that end before slice UNTIL. */
static int fullest_sample(struct fullest *f, const struct play_scan *scan, size_t until)
{
	for (; f->next < until; f->next++) {
		int64_t end = slice_end(scan, f->next);
		f->now = scene_time(scan, end);
		if (viz_scene_advance(f->scene, f->now, end) != 0)
			return -1;
		f->samples[f->next] = viz_scene_node_count(f->scene);
	}
	return 0;
}

static int fullest_take(struct fullest *f, const struct play_scan *scan, const struct trace_event *e)
{
	if (e->ts_ns >= scan->first_ns && fullest_sample(f, scan, slice_of(scan, e->ts_ns)) != 0)
		return -1;
	double t = scene_time(scan, e->ts_ns);
	struct viz_event v;
	play_event(&v, e, t > f->now ? t : f->now); /* clocks may step back */
	return viz_scene_apply(f->scene, &v);
}

static int fullest_find(struct fullest *f, struct play_scan *scan)
{
	if (fullest_sample(f, scan, scan->slices) != 0)
		return -1;
	size_t k = (size_t)(SUSTAIN * (double)scan->slices);
	k = k < 1 ? 1 : k;
	size_t best = 0, best_low = 0;
	for (size_t s = 0; s + k <= scan->slices; s++) {
		size_t low = SIZE_MAX;
		for (size_t i = s; i < s + k; i++)
			low = f->samples[i] < low ? f->samples[i] : low;
		if (low > best_low) {
			best_low = low;
			best = s;
		}
	}
	for (size_t i = best; i < best + k; i++) {
		if (f->samples[i] > scan->fullest_nodes) {
			scan->fullest_nodes = f->samples[i];
			scan->fullest_ns = slice_end(scan, i);
		}
	}
	return 0;
}

/*
 * The paths seen so far, as 64-bit hashes in an open-addressed table (a
 * collision only costs a little pacing accuracy).
 */
struct path_set {
	uint64_t *hashes; /* 0: empty */
	size_t capacity, count;
};

static uint64_t path_hash(const char *path)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */
	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 1099511628211ULL;
	return h ? h : 1;
}

/* 1 if H was not in SET (and now is), 0 if it was, -1 when out of memory. */
static int path_set_add(struct path_set *set, uint64_t h)
{
	if (set->count * 2 >= set->capacity) {
		size_t capacity = set->capacity ? set->capacity * 2 : 4096;
		uint64_t *hashes = calloc(capacity, sizeof(*hashes));
		if (!hashes)
			return -1;
		for (size_t i = 0; i < set->capacity; i++) {
			if (!set->hashes[i])
				continue;
			size_t j = (size_t)set->hashes[i] & (capacity - 1);
			while (hashes[j])
				j = (j + 1) & (capacity - 1);
			hashes[j] = set->hashes[i];
		}
		free(set->hashes);
		set->hashes = hashes;
		set->capacity = capacity;
	}
	size_t j = (size_t)h & (set->capacity - 1);
	while (set->hashes[j]) {
		if (set->hashes[j] == h)
			return 0;
		j = (j + 1) & (set->capacity - 1);
	}
	set->hashes[j] = h;
	set->count++;
	return 1;
}

/*
 * What a change at PATH weighs: PLAY_CHANGE_WEIGHT near the top, less in
 * depth, so that a probe making a chain of a thousand nested directories
 * (gnulib's confdir3) is one short scene, not the longest of the video.
 */
static int64_t change_weight(const char *path)
{
	int64_t depth = 0;
	for (; *path; path++)
		depth += *path == '/';
	return PLAY_CHANGE_WEIGHT * 8 / (8 + depth);
}

/*
 * 1 if E changes the shape of the tree in a new way: the first success on
 * a path, or its first removal (configure's conftest.c, made and removed
 * a hundred times, counts once); -1 when out of memory.
 */
static int changes_tree(struct path_set *seen, const struct trace_event *e)
{
	if (!e->path || e->result < 0)
		return 0;
	uint64_t h = path_hash(e->path);
	if (e->op == TRACE_OP_UNLINK || e->op == TRACE_OP_RMDIR)
		h = (h ^ 0x9e3779b97f4a7c15ULL) | 1; /* the removal of the path, apart */
	return path_set_add(seen, h);
}

int play_scan(struct trace_reader *reader, const struct play_scan_options *o,
	      struct play_scan *scan, char *err, size_t err_size)
{
	*scan = (struct play_scan){0};
	int64_t first, last, count;
	if (trace_reader_span(reader, &first, &last, &count) != 0) {
		snprintf(err, err_size, "cannot read the span of the trace: the file is corrupt");
		return -1;
	}
	if (first < o->from_ns)
		first = o->from_ns;
	if (last > o->to_ns)
		last = o->to_ns;
	if (count == 0 || last < first)
		return 1;
	scan->first_ns = first;
	scan->last_ns = last;
	scan->slices = slice_count(first, last);
	scan->activity = calloc(scan->slices, sizeof(*scan->activity));
	struct fullest fullest = {0};
	struct path_set seen = {0};
	if (!scan->activity || (o->find_fullest && fullest_start(&fullest, scan) != 0)) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	struct trace_event e;
	int64_t seq;
	int got;
	while ((got = trace_reader_next(reader, &e, &seq, err, err_size)) == 1) {
		if (o->stop && *o->stop) {
			snprintf(err, err_size, "interrupted");
			goto fail;
		}
		struct viz_event v;
		play_event(&v, &e, 0);
		if (o->prescan && viz_scene_prescan(o->prescan, &v) != 0) {
			snprintf(err, err_size, "out of memory");
			goto fail;
		}
		if (e.ts_ns > o->to_ns)
			continue; /* read on: the whole file is checked */
		if (o->find_fullest && fullest_take(&fullest, scan, &e) != 0) {
			snprintf(err, err_size, "out of memory");
			goto fail;
		}
		if (e.ts_ns < o->from_ns)
			continue;
		int novel = changes_tree(&seen, &e);
		if (novel < 0) {
			snprintf(err, err_size, "out of memory");
			goto fail;
		}
		scan->activity[slice_of(scan, e.ts_ns)] += 1 + novel * change_weight(e.path);
		scan->events++;
	}
	if (got < 0)
		goto fail;
	if (o->prescan && viz_scene_prescan_done(o->prescan) != 0) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	if (trace_reader_seek(reader, INT64_MIN, err, err_size) != 0)
		goto fail;
	if (o->find_fullest && fullest_find(&fullest, scan) != 0) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	fullest_free(&fullest);
	free(seen.hashes);
	if (scan->events == 0) {
		play_scan_free(scan);
		return 1;
	}
	return 0;
fail:
	fullest_free(&fullest);
	free(seen.hashes);
	play_scan_free(scan);
	return -1;
}

void play_scan_free(struct play_scan *scan)
{
	free(scan->activity);
	scan->activity = NULL;
	scan->slices = 0;
}

/* ---- pacing ---- */

double play_default_duration(int64_t events)
{
	double seconds = (double)events / PLAY_EVENTS_PER_SECOND;
	return seconds < PLAY_MIN_SECONDS ? PLAY_MIN_SECONDS
	       : seconds > PLAY_MAX_SECONDS ? PLAY_MAX_SECONDS
					    : seconds;
}

int play_timeline(const struct play_scan *scan, const struct play_pacing *pacing,
		  struct viz_timeline *timeline, double **knots)
{
	*knots = malloc((scan->slices + 1) * sizeof(**knots));
	if (!*knots)
		return -1;
	double duration = pacing->duration > 0 ? pacing->duration
						: play_default_duration(scan->events);
	double tail = pacing->tail < duration / 4 ? pacing->tail : duration / 4;
	struct viz_pacing vp = {.duration = duration - tail, .speed = pacing->speed,
				.idle_skip = pacing->idle_skip};
	viz_timeline_pace(*knots, scan->activity, scan->slices, scan->first_ns, scan->last_ns, &vp);
	viz_timeline_init(timeline, scan->first_ns, scan->last_ns, *knots, scan->slices);
	return 0;
}

/* ---- the driver ---- */

int play_until(struct play *p, double t, char *err, size_t err_size)
{
	while (!p->done) {
		if (!p->have_pending) {
			int64_t seq;
			int got = p->next ? p->next(p->next_ctx, &p->pending, err, err_size)
					  : trace_reader_next(p->reader, &p->pending, &seq, err, err_size);
			if (got < 0)
				return -1;
			if (got == 0 || p->pending.ts_ns > p->limit_ns) {
				p->done = true;
				break;
			}
			double pt = viz_timeline_video_t(p->timeline, p->pending.ts_ns);
			p->pending_t = pt > p->now ? pt : p->now; /* clocks may step back */
			p->have_pending = true;
		}
		if (p->pending_t > t)
			break;
		if (p->stop && *p->stop) {
			snprintf(err, err_size, "interrupted");
			return -1;
		}
		struct viz_event v;
		play_event(&v, &p->pending, p->pending_t);
		p->have_pending = false;
		p->now = p->pending_t;
		p->applied++;
		if (viz_scene_apply(p->scene, &v) != 0) {
			snprintf(err, err_size, "out of memory");
			return -1;
		}
	}
	return 0;
}
