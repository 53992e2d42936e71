/*
 * timeline.c — trace time to video time and back, through knots at equal
 * slices of the trace's span, and the pacing that places the knots: by
 * activity, so that quiet stretches are short and busy ones get time, or
 * at a constant speed. Knots rather than a per-event mapping, because the
 * clock must be able to run both ways (a frame's video time to the trace
 * time it shows) and the browser can build the same map from the replay's
 * activity buckets.
 */
#include "viz/viz.h"

/* The span in ns as an unsigned number: exact for any two int64 values. */
static uint64_t span_ns(const struct viz_timeline *tl)
{
	return (uint64_t)tl->last_ns - (uint64_t)tl->first_ns;
}

void viz_timeline_init(struct viz_timeline *tl, int64_t first_ns, int64_t last_ns,
		       const double *knots, size_t slices)
{
	*tl = (struct viz_timeline){first_ns, last_ns > first_ns ? last_ns : first_ns, knots,
				    slices};
}

double viz_timeline_end(const struct viz_timeline *tl)
{
	return tl->slices ? tl->knots[tl->slices] : 0;
}

double viz_timeline_video_t(const struct viz_timeline *tl, int64_t ts_ns)
{
	if (tl->slices == 0 || ts_ns <= tl->first_ns)
		return 0;
	if (ts_ns >= tl->last_ns)
		return tl->knots[tl->slices];
	/* Both differences are exact in uint64: first <= ts < last. */
	double pos = (double)((uint64_t)ts_ns - (uint64_t)tl->first_ns) / (double)span_ns(tl) *
		     (double)tl->slices;
	size_t i = (size_t)pos;
	if (i >= tl->slices)
		i = tl->slices - 1;
	double u = pos - (double)i;
	return tl->knots[i] + u * (tl->knots[i + 1] - tl->knots[i]);
}

int64_t viz_timeline_trace_ns(const struct viz_timeline *tl, double t)
{
	if (tl->slices == 0 || !(t > 0))
		return tl->first_ns;
	if (t >= tl->knots[tl->slices])
		return tl->last_ns;
	/* The last slice that starts at or before T. */
	size_t lo = 0, hi = tl->slices;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tl->knots[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	double width = tl->knots[lo + 1] - tl->knots[lo];
	double u = width > 0 ? (t - tl->knots[lo]) / width : 0;
	double offset = ((double)lo + u) / (double)tl->slices * (double)span_ns(tl);
	uint64_t off = offset <= 0 ? 0 : offset >= (double)span_ns(tl) ? span_ns(tl)
								     : (uint64_t)offset;
	return (int64_t)((uint64_t)tl->first_ns + off);
}

/* Activity: each slice's share of the video, before scaling. */
static void activity_weights(double *w, const int64_t *counts, size_t slices)
{
	double events = 0, active = 0;
	for (size_t i = 0; i < slices; i++) {
		events += counts[i] > 0 ? (double)counts[i] : 0;
		active += counts[i] > 0;
	}
	double quiet = (double)slices - active;
	double quiet_share = active == 0 ? 1 : quiet / (double)slices;
	if (quiet_share > VIZ_QUIET_SHARE && active > 0)
		quiet_share = VIZ_QUIET_SHARE;
	for (size_t i = 0; i < slices; i++) {
		if (counts[i] > 0)
			w[i] = (1 - quiet_share) * (VIZ_ACTIVE_SHARE / active +
						    (1 - VIZ_ACTIVE_SHARE) * (double)counts[i] / events);
		else
			w[i] = quiet_share / quiet;
	}
}

/* Constant speed: each slice its trace seconds, runs of empty ones cut to IDLE_SKIP. */
static void speed_weights(double *w, const int64_t *counts, size_t slices, double slice_s,
			  double idle_skip)
{
	size_t i = 0;
	while (i < slices) {
		size_t j = i;
		while (j < slices && counts[j] <= 0)
			j++;
		double run = (double)(j - i) * slice_s, each = slice_s;
		if (j > i && idle_skip > 0 && run > idle_skip)
			each = idle_skip / (double)(j - i);
		for (; i < j; i++)
			w[i] = each;
		if (i < slices)
			w[i++] = slice_s;
	}
}

void viz_timeline_pace(double *knots, const int64_t *counts, size_t slices, int64_t first_ns,
		       int64_t last_ns, const struct viz_pacing *pacing)
{
	/* The weights go into knots[1 ..] and are summed in place. */
	double *w = knots + 1;
	double span_s = last_ns > first_ns ? (double)((uint64_t)last_ns - (uint64_t)first_ns) / 1e9 : 0;
	bool constant = pacing->speed > 0 || pacing->idle_skip > 0;
	if (constant)
		speed_weights(w, counts, slices, span_s / (double)(slices ? slices : 1),
			      pacing->idle_skip);
	else
		activity_weights(w, counts, slices);
	double total = 0;
	for (size_t i = 0; i < slices; i++)
		total += w[i];
	double scale = pacing->speed > 0 ? 1 / pacing->speed
		       : total > 0	 ? (pacing->duration > 0 ? pacing->duration : 0) / total
					 : 0;
	knots[0] = 0;
	for (size_t i = 1; i <= slices; i++)
		knots[i] = knots[i - 1] + knots[i] * scale;
}
