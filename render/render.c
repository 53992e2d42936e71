/*
 * render.c — `tracefs render`: reads the trace once (play_scan: checked
 * from end to end, its activity counted, the fullest moment found), paces
 * it into video time (play_timeline), then plays it frame by frame into
 * the scene model and hands each frame to draw.c and the output.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "play/play.h"
#include "analyze/analyze.h"
#include "render/internal.h"
#include "render/render.h"

/* After the last event, besides the fade: the camera turns to the whole
 * tree (a video), and has settled there (a picture of the end). */
#define TAIL_SECONDS 1.5
#define SETTLE_SECONDS 4.0

volatile sig_atomic_t render_interrupted;

static void on_signal(int sig)
{
	render_interrupted = sig;
}

double clock_seconds(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_seconds(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

static int64_t seconds_to_ns(double seconds)
{
	return (int64_t)llround(seconds * 1e9);
}

struct timing {
	double events, model, draw; /* seconds the frame loop spent */
	double reading;		    /* CPU seconds of the thread that reads the trace */
};

/* ---- progress ---- */

struct progress {
	bool shown;
	double start, last;
};

static void show_progress(struct progress *p, long done, long total)
{
	double now = now_seconds();
	if (!p->shown || (now - p->last < 0.1 && done < total))
		return;
	p->last = now;
	double fraction = total > 0 ? (double)done / (double)total : 1;
	int filled = (int)(fraction * 30);
	char bar[31];
	memset(bar, '#', (size_t)filled);
	memset(bar + filled, '-', (size_t)(30 - filled));
	bar[30] = '\0';
	double elapsed = now - p->start;
	long eta = done > 0 ? (long)(elapsed / (double)done * (double)(total - done) + 0.5) : 0;
	fprintf(stderr, "\rrendering [%s] %3d%%  frame %ld/%ld  ETA %ld:%02ld ", bar,
		(int)(fraction * 100), done, total, eta / 60, eta % 60);
	if (done >= total)
		fputc('\n', stderr);
}

/* ---- phases ---- */

/* The report's phases (configure, make, ...), for the caption. */
struct phases {
	struct analyze_result analysis;
	bool ready;
	size_t current; /* the phase shown last: frames move forwards */
};

static void phases_load(const char *prog, const char *trace, struct phases *p)
{
	char err[512];
	if (analyze_run(trace, 1, &p->analysis, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: no phase captions: %s\n", prog, err);
		return;
	}
	p->ready = true;
}

static const char *phase_at(struct phases *p, int64_t ts_ns)
{
	if (!p->ready || p->analysis.nphases == 0)
		return NULL;
	const struct analyze_phase *ph = p->analysis.phases;
	size_t n = p->analysis.nphases, i = p->current < n ? p->current : 0;
	if (ts_ns < ph[i].start_ns)
		i = 0;
	while (i + 1 < n && ph[i + 1].start_ns <= ts_ns)
		i++;
	p->current = i;
	return ts_ns >= ph[i].start_ns && ts_ns <= ph[i].end_ns ? ph[i].name : NULL;
}

/* ---- the frame loop ---- */

struct job {
	const char *prog;
	const struct render_options *o;
	struct play play;
	struct output out;
	struct phases phases;
	struct timing timing;
	struct draw_buffers buffers;
	struct feed feed;
	double end_t; /* a picture: its video time; a video: its length */
};

static int draw_frame(struct job *j, struct viz_frame *frame)
{
	double start = now_seconds();
	if (viz_scene_frame(j->play.scene, frame) != 0) {
		fprintf(stderr, "%s: out of memory\n", j->prog);
		return -1;
	}
	double drawn = now_seconds();
	char err[256];
	if (render_draw_frame(j->out.cr, &j->buffers, frame, j->o->title, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", j->prog, err);
		return -1;
	}
	j->timing.model += drawn - start;
	j->timing.draw += now_seconds() - drawn;
	return output_emit(j->prog, j->o, &j->out);
}

static int run_frames(struct job *j)
{
	const struct render_options *o = j->o;
	bool single = o->kind == OUTPUT_PNG;
	/* A video: frames at 0, 1/fps, ... filling its length. A picture: the
	 * frames up to END_T are played (the camera eases) and the last drawn. */
	long total = single ? (long)floor(j->end_t * o->fps + 1e-9) + 1
			    : (long)ceil(j->end_t * o->fps - 1e-9);
	if (total < 1)
		total = 1;
	struct progress progress = {.shown = isatty(STDERR_FILENO) && !single,
				    .start = now_seconds()};
	struct viz_frame frame;
	char err[512];
	for (long i = 0; i < total; i++) {
		double t = single && i == total - 1 ? j->end_t : (double)i / o->fps;
		if (render_interrupted)
			return -1;
		double start = now_seconds();
		if (play_until(&j->play, t, err, sizeof(err)) != 0) {
			if (!render_interrupted)
				fprintf(stderr, "%s: %s\n", j->prog, err);
			return -1;
		}
		double played = now_seconds();
		int64_t clock = viz_timeline_trace_ns(j->play.timeline, t);
		if (!o->no_caption)
			viz_scene_set_caption(j->play.scene, phase_at(&j->phases, clock));
		viz_scene_advance(j->play.scene, t, clock);
		j->timing.events += played - start;
		j->timing.model += now_seconds() - played;
		if (!single || i == total - 1) {
			if (draw_frame(j, &frame) != 0)
				return -1;
			show_progress(&progress, i + 1, total);
		}
	}
	if (o->dump && dump_write(j->prog, o->dump, j->play.scene, &frame, j->end_t) != 0)
		return -1;
	return 0;
}

/* WALL and CPU: seconds of the frame loop, by the clock and on the CPU
 * (which a machine shared with other work does not inflate). */
static void print_benchmark(const struct job *j, double wall, double cpu)
{
	const struct render_options *o = j->o;
	const struct timing *t = &j->timing;
	double frames = (double)j->out.frames_written;
	printf("render benchmark: %s, %dx%d, %ld frames, %" PRId64 " events\n", o->trace,
	       o->width, o->height, j->out.frames_written, j->play.applied);
	printf("  %.1f frames/s overall, by the clock (reading the trace on a second thread, "
	       "applying its events, model and drawing; no encoding)\n",
	       frames / wall);
	printf("  %.1f frames/s of CPU time (all threads: reading, the frame loop, the stamp's "
	       "helper)\n", frames / cpu);
	printf("  %.1f frames/s model and drawing alone\n", frames / (t->model + t->draw));
	printf("  per frame: %.3f ms reading the trace (CPU of the second thread, alongside the "
	       "rest),\n", t->reading / frames * 1e3);
	printf("             %.3f ms applying events (and waiting for them), %.3f ms model, "
	       "%.3f ms drawing\n",
	       t->events / frames * 1e3, t->model / frames * 1e3, t->draw / frames * 1e3);
}

/* ---- the command ---- */

static char *root_label(struct trace_reader *reader)
{
	char *mountpoint = trace_reader_meta(reader, "mountpoint");
	if (!mountpoint)
		return NULL;
	const char *base = strrchr(mountpoint, '/');
	char *label = base && base[1] ? strdup(base + 1) : NULL;
	free(mountpoint);
	return label;
}

static int render(const char *prog, const struct render_options *o)
{
	char err[512];
	struct job j = {.prog = prog, .o = o, .out = {.pipe_fd = -1}};
	struct play_scan scan = {0};
	double *knots = NULL;
	struct viz_timeline timeline;
	int rc = 1;
	struct trace_reader *reader = trace_reader_open(o->trace, err, sizeof(err));
	if (!reader) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	int64_t first, last, count;
	if (trace_reader_span(reader, &first, &last, &count) != 0) {
		fprintf(stderr, "%s: %s: cannot read the span of the trace: the file is corrupt\n",
			prog, o->trace);
		goto done;
	}
	if (count == 0) {
		fprintf(stderr, "%s: %s: the trace holds no events: nothing to draw\n", prog, o->trace);
		goto done;
	}
	int64_t from_ns = isnan(o->from) ? INT64_MIN : first + seconds_to_ns(o->from);
	int64_t to_ns = isnan(o->to) ? INT64_MAX : first + seconds_to_ns(o->to);
	if (from_ns > last) {
		fprintf(stderr, "%s: --from %g is past the end of the trace (%.3f s long)\n", prog,
			o->from, (double)(last - first) / 1e9);
		goto done;
	}

	char *label = root_label(reader);
	struct viz_options vo = {.fade = o->fade, .color_by = o->color_by, .root_label = label,
				 .origin_ns = from_ns > first ? from_ns : first};
	j.play.scene = viz_scene_new(play_allocator(), &vo);
	free(label);
	if (!j.play.scene) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto done;
	}
	viz_scene_set_viewport(j.play.scene, o->width, o->height);
	bool picture = o->kind == OUTPUT_PNG;
	struct play_scan_options so = {.from_ns = from_ns, .to_ns = to_ns,
				       .prescan = o->prescan ? j.play.scene : NULL,
				       .find_fullest = picture && isnan(o->at),
				       .stop = &render_interrupted};
	int scanned = play_scan(reader, &so, &scan, err, sizeof(err));
	if (scanned < 0) {
		if (!render_interrupted)
			fprintf(stderr, "%s: %s\n", prog, err);
		goto done;
	}
	if (scanned > 0) {
		fprintf(stderr, "%s: %s: no events between --from and --to: nothing to draw\n", prog,
			o->trace);
		goto done;
	}
	double tail = o->fade + TAIL_SECONDS;
	struct play_pacing pacing = {.duration = o->duration, .tail = picture ? 0 : tail,
				     .speed = o->speed, .idle_skip = o->idle_skip};
	if (play_timeline(&scan, &pacing, &timeline, &knots) != 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto done;
	}
	j.play.reader = reader;
	j.play.timeline = &timeline;
	j.play.limit_ns = to_ns;
	j.play.stop = &render_interrupted;
	if (picture) {
		/* The moment drawn: --at, or the fullest; nothing after it is
		 * applied. At or past the last event: the end, settled. */
		int64_t at_ns = isnan(o->at) ? scan.fullest_ns : first + seconds_to_ns(o->at);
		if (at_ns < j.play.limit_ns)
			j.play.limit_ns = at_ns;
		j.end_t = viz_timeline_video_t(&timeline, at_ns);
		if (!isnan(o->at) && at_ns >= scan.last_ns)
			j.end_t += o->fade + SETTLE_SECONDS;
	} else {
		j.end_t = o->duration > 0 ? o->duration : viz_timeline_end(&timeline) + tail;
	}
	if (!o->no_caption)
		phases_load(prog, o->trace, &j.phases);
	if (output_open(prog, o, &j.out) != 0)
		goto done;
	double start = now_seconds(), cpu_start = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	if (feed_start(&j.feed, reader, &render_interrupted, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto done;
	}
	j.play.next = feed_next;
	j.play.next_ctx = &j.feed;
	if (run_frames(&j) != 0)
		goto done;
	feed_stop(&j.feed);
	j.timing.reading = j.feed.reading_seconds;
	double wall = now_seconds() - start;
	double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
	if (output_commit(prog, o, &j.out) != 0)
		goto done;
	if (o->benchmark)
		print_benchmark(&j, wall, cpu);
	rc = 0;
done:
	if (rc != 0)
		output_discard(&j.out, o);
	if (render_interrupted) {
		fprintf(stderr, "\n%s: interrupted; nothing written\n", prog);
		rc = 130;
	}
	feed_stop(&j.feed); /* before the reader it reads is closed */
	output_close(&j.out);
	draw_buffers_free(&j.buffers);
	if (j.phases.ready)
		analyze_free(&j.phases.analysis);
	free(knots);
	play_scan_free(&scan);
	viz_scene_free(j.play.scene);
	trace_reader_close(reader);
	/* cairo keeps fonts cached for the life of the process: hand them back,
	 * so that leak checkers see only real leaks. */
	cairo_debug_reset_static_data();
	return rc;
}

int render_command(int argc, char **argv)
{
	const char *prog = argv[0];
	struct render_options o;
	int parsed = options_parse(argc, argv, &o);
	if (parsed != 0)
		return parsed > 0 ? 0 : 2;
	if (o.kind == OUTPUT_VIDEO && !in_path("ffmpeg")) {
		fprintf(stderr, "%s: cannot write %s: ffmpeg is not installed (not found in PATH); "
				"install it, or render PNG frames into a directory instead\n",
			prog, o.output);
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	struct sigaction ignore = {.sa_handler = SIG_IGN};
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGPIPE, &ignore, NULL) != 0) {
		fprintf(stderr, "%s: cannot set signal handlers: %s\n", prog, strerror(errno));
		return 1;
	}
	return render(prog, &o);
}
