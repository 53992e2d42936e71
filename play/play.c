/*
 * play.c — a recorded trace into the scene model: the event mapping, the
 * one read that learns what a trace holds, its pacing, and the driver.
 */
#include "play/play.h"

#include <stdio.h>
#include <stdlib.h>

/* The scene model numbers ops and kinds as the recorder does (recorder/names.h). */
_Static_assert((int)VIZ_OP_LOST == (int)REC_OP_LOST && (int)VIZ_OP_UNKNOWN == (int)REC_OP_COUNT,
	       "viz_op and rec_op come from one list");
_Static_assert((int)VIZ_KIND_COUNT == (int)REC_KIND_COUNT, "viz_kind and rec_kind come from one list");

void play_event(struct viz_event *out, const struct rec_event *e, double t)
{
	*out = (struct viz_event){
		.t = t,
		.ts_ns = e->ts_ns,
		.op = e->op < REC_OP_COUNT ? (enum viz_op)e->op : VIZ_OP_UNKNOWN,
		.kind = e->kind < REC_KIND_COUNT ? (enum viz_kind)e->kind : VIZ_KIND_NONE,
		.result = e->result,
		.pid = e->pid,
		.path = e->path,
		.path2 = e->path2,
		.comm = e->comm,
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
 * trace time with an instant fade. Its node count, fading nodes included,
 * bounds the live count from above, so the scene is only advanced (which
 * drops the removed nodes) when that bound beats the best so far.
 */
struct fullest {
	struct viz_scene *scene;
	int64_t from_ns; /* the window starts here */
	size_t best;
	int64_t best_ns;
};

static int fullest_start(struct fullest *f, int64_t origin_ns)
{
	struct viz_options vo = {.fade = 1e-9, .origin_ns = origin_ns};
	f->scene = viz_scene_new(viz_libc_allocator(), &vo);
	return f->scene ? 0 : -1;
}

static int fullest_take(struct fullest *f, const struct rec_event *e, int64_t origin_ns)
{
	double t = e->ts_ns > origin_ns ? (double)((uint64_t)e->ts_ns - (uint64_t)origin_ns) / 1e9 : 0;
	struct viz_event v;
	play_event(&v, e, t);
	if (viz_scene_apply(f->scene, &v) != 0)
		return -1;
	if (e->ts_ns < f->from_ns || viz_scene_node_count(f->scene) <= f->best)
		return 0;
	if (viz_scene_advance(f->scene, t, e->ts_ns) != 0)
		return -1;
	size_t live = viz_scene_node_count(f->scene);
	if (live > f->best) {
		f->best = live;
		f->best_ns = e->ts_ns;
	}
	return 0;
}

int play_scan(struct rec_reader *reader, const struct play_scan_options *o,
	      struct play_scan *scan, char *err, size_t err_size)
{
	*scan = (struct play_scan){0};
	int64_t first, last, count;
	if (rec_reader_span(reader, &first, &last, &count) != 0) {
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
	scan->counts = calloc(scan->slices, sizeof(*scan->counts));
	struct fullest fullest = {0};
	fullest.from_ns = o->from_ns;
	if (!scan->counts || (o->find_fullest && fullest_start(&fullest, first) != 0)) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	struct rec_event e;
	int64_t seq;
	int got;
	while ((got = rec_reader_next(reader, &e, &seq, err, err_size)) == 1) {
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
		if (o->find_fullest && fullest_take(&fullest, &e, first) != 0) {
			snprintf(err, err_size, "out of memory");
			goto fail;
		}
		if (e.ts_ns < o->from_ns)
			continue;
		scan->counts[slice_of(scan, e.ts_ns)]++;
		scan->events++;
	}
	if (got < 0)
		goto fail;
	if (o->prescan && viz_scene_prescan_done(o->prescan) != 0) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	if (rec_reader_seek(reader, INT64_MIN, err, err_size) != 0)
		goto fail;
	viz_scene_free(fullest.scene);
	scan->fullest_ns = fullest.best_ns;
	scan->fullest_nodes = fullest.best;
	if (scan->events == 0) {
		play_scan_free(scan);
		return 1;
	}
	return 0;
fail:
	viz_scene_free(fullest.scene);
	play_scan_free(scan);
	return -1;
}

void play_scan_free(struct play_scan *scan)
{
	free(scan->counts);
	scan->counts = NULL;
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
	viz_timeline_pace(*knots, scan->counts, scan->slices, scan->first_ns, scan->last_ns, &vp);
	viz_timeline_init(timeline, scan->first_ns, scan->last_ns, *knots, scan->slices);
	return 0;
}

/* ---- the driver ---- */

int play_until(struct play *p, double t, char *err, size_t err_size)
{
	while (!p->done) {
		if (!p->have_pending) {
			int64_t seq;
			int got = rec_reader_next(p->reader, &p->pending, &seq, err, err_size);
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
