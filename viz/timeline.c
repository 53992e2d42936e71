/*
 * timeline.c — trace time to video time and back: a constant speed, with
 * quiet gaps longer than the idle-skip limit shortened to that limit. It
 * works on the stream of events in order, so neither the renderer nor the
 * browser has to read a trace twice to play it.
 */
#include "viz/viz.h"

void viz_timeline_init(struct viz_timeline *timeline, int64_t origin_ns, double speed,
		       double idle_skip)
{
	*timeline = (struct viz_timeline){
		.origin_ns = origin_ns,
		.speed = speed > 0 ? speed : 1,
		.idle_skip = idle_skip > 0 ? idle_skip : 0,
	};
}

/*
 * Trace time cut out of the quiet gap between the last event and TS_NS.
 * Only the part after the origin counts: what comes before it is negative
 * time that is never shown.
 */
static int64_t cut_from_gap(const struct viz_timeline *timeline, int64_t ts_ns)
{
	int64_t start = timeline->last_ns > timeline->origin_ns ? timeline->last_ns
								: timeline->origin_ns;
	int64_t gap = ts_ns - start, limit = (int64_t)(timeline->idle_skip * 1e9);
	return timeline->idle_skip > 0 && gap > limit ? gap - limit : 0;
}

static double video_time(const struct viz_timeline *timeline, int64_t ts_ns, int64_t skipped_ns)
{
	return (double)(ts_ns - timeline->origin_ns - skipped_ns) / 1e9 / timeline->speed;
}

double viz_timeline_peek(const struct viz_timeline *timeline, int64_t ts_ns)
{
	if (!timeline->started)
		return video_time(timeline, ts_ns, 0);
	return video_time(timeline, ts_ns, timeline->skipped_ns + cut_from_gap(timeline, ts_ns));
}

double viz_timeline_map(struct viz_timeline *timeline, int64_t ts_ns)
{
	if (timeline->started && ts_ns < timeline->last_ns)
		ts_ns = timeline->last_ns; /* clocks may step back: keep time monotonic */
	double t = viz_timeline_peek(timeline, ts_ns);
	if (timeline->started) {
		timeline->skipped_ns += cut_from_gap(timeline, ts_ns);
		timeline->prev_ns = timeline->last_ns;
		timeline->prev_t = timeline->last_t;
	} else {
		timeline->prev_ns = ts_ns;
		timeline->prev_t = t;
		timeline->started = true;
	}
	timeline->last_ns = ts_ns;
	timeline->last_t = t;
	return t;
}

int64_t viz_timeline_trace_ns(const struct viz_timeline *timeline, double t)
{
	double ns_per_second = timeline->speed * 1e9;
	if (!timeline->started)
		return timeline->origin_ns + (int64_t)(t * ns_per_second);
	if (t >= timeline->last_t)
		return timeline->last_ns + (int64_t)((t - timeline->last_t) * ns_per_second);
	if (t < timeline->prev_t)
		return timeline->prev_ns - (int64_t)((timeline->prev_t - t) * ns_per_second);
	/* Between the last two events: a shortened gap runs the clock faster. */
	double u = (t - timeline->prev_t) / (timeline->last_t - timeline->prev_t);
	return timeline->prev_ns + (int64_t)(u * (double)(timeline->last_ns - timeline->prev_ns));
}
