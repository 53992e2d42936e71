/*
 * internal.h — what the files of render/ share (private to render/): the
 * command's options (options.c), the output being written (output.c), the
 * scene dump (dump.c); render.c drives them and draw.c paints a frame.
 */
#ifndef TRACEFS_RENDER_INTERNAL_H
#define TRACEFS_RENDER_INTERNAL_H

#include <cairo.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "trace/trace.h"
#include "viz/viz.h"

/* Set by SIGINT and SIGTERM: every loop gives up soon after. */
extern volatile sig_atomic_t render_interrupted;

/* ---- options.c ---- */

enum output_kind { OUTPUT_PNG, OUTPUT_FRAMES, OUTPUT_VIDEO, OUTPUT_NONE };

struct render_options {
	const char *trace, *output, *title, *dump;
	enum output_kind kind;
	const char *format; /* "mp4" or "webm" */
	int width, height;
	double fps, speed, idle_skip, fade, duration;
	double at, from, to; /* seconds from the first event; NAN when not given */
	enum viz_color_by color_by;
	bool prescan, benchmark, no_caption;
};

/* 0, 1 when --help was asked for (and printed), -1 on bad usage (reported). */
int options_parse(int argc, char **argv, struct render_options *o);

/* ---- output.c ---- */

/* Where the output is being written, to be renamed or removed at the end. */
struct output {
	char temp[PATH_MAX];
	bool temp_exists;
	pid_t ffmpeg;
	int pipe_fd;
	cairo_surface_t *surface;
	cairo_t *cr;
	long frames_written;
};

/* True if NAME is an executable file in a directory of $PATH. */
bool in_path(const char *name);
/* A temporary name next to FINAL: same file system, so rename() can move it. */
int temp_name(const char *prog, const char *final, char *temp, size_t size);
/* Each returns 0, or -1 after telling the user what failed. */
int output_open(const char *prog, const struct render_options *o, struct output *out);
int output_emit(const char *prog, const struct render_options *o, struct output *out);
int output_commit(const char *prog, const struct render_options *o, struct output *out);
/* Removes what was written so far, and stops ffmpeg. */
void output_discard(struct output *out, const struct render_options *o);
void output_close(struct output *out);

/* ---- dump.c ---- */

/* --dump-scene: the model's nodes and FRAME as JSON into PATH. 0 or -1. */
int dump_write(const char *prog, const char *path, struct viz_scene *scene,
	       const struct viz_frame *frame, double t);

/* ---- feed.c ---- */

#define FEED_BATCHES 4

/* The trace read on a thread of its own, batches ahead of the frame loop. */
struct feed {
	struct trace_reader *reader; /* the thread's alone while it runs */
	volatile sig_atomic_t *stop;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t room, ready;
	struct batch *batches[FEED_BATCHES]; /* a ring: FILLED of them from HEAD are ready */
	int head, filled;
	bool quit, running;
	double reading_seconds; /* the thread's CPU time in the reader */
	/* the frame loop's */
	struct batch *current;
	size_t taken;
};

/* CLOCK's time in seconds (CLOCK_MONOTONIC, or a CPU-time clock). */
double clock_seconds(clockid_t clock);

/* Starts reading READER from where it is. 0, or -1 with a message in ERR. */
int feed_start(struct feed *feed, struct trace_reader *reader, volatile sig_atomic_t *stop,
	       char *err, size_t err_size);
/* The next event (its strings valid until the next call): 1, 0 at the end, -1 with ERR. */
int feed_next(void *feed, struct trace_event *event, char *err, size_t err_size);
/* Stops the thread and frees what it used. Safe after a failed start and twice. */
void feed_stop(struct feed *feed);

/* ---- stamp_pair.c ---- */

/* A helper thread that stamps the lower rows of a picture while its caller stamps the upper. */
struct stamp_pair {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t go, done;
	bool running, failed, quit, pending;
	/* the job: stamp ST (its rows, its COVER) of FRAME, its edges or its nodes */
	struct viz_stamp st;
	const struct viz_frame *frame;
	bool edges;
	uint32_t *cover; /* the helper's scratch table */
	size_t cover_words;
	uint32_t *halos; /* the helper's list of halos (see viz_stamp) */
	size_t halo_capacity;
	double *row_weight; /* per row, while finding the split; all 0 between */
	size_t row_weight_len;
};

/* viz_stamp_edges (EDGES) or viz_stamp_frame of F into ST, on two threads when it can. */
void stamp_pair_run(struct stamp_pair *p, struct viz_stamp *st, const struct viz_frame *f,
		    bool edges);
/* Stops the helper and frees what it used; P is then as new. */
void stamp_pair_stop(struct stamp_pair *p);

/* ---- draw.c ---- */

/* What drawing keeps from one frame to the next, not to allocate it per frame. */
struct draw_buffers {
	uint32_t *glow; /* the stamp's halo buffer: all 0 between frames */
	size_t glow_words;
	uint32_t *cover; /* the stamp's scratch (see viz_stamp) */
	uint32_t *halos; /* the stamp's list of halos (see viz_stamp) */
	size_t halo_capacity;
	const struct viz_frame_node **order; /* the nodes cairo draws, sorted */
	size_t order_cap;
	struct stamp_pair pair;
};

void draw_buffers_free(struct draw_buffers *b);

/*
 * Draws FRAME (background, edges, nodes, labels, clock, process names,
 * legend and TITLE if not NULL) on CR, whose target is frame->width by
 * frame->height pixels, with B (zeroed at first). Returns 0, or -1 with
 * cairo's message in ERR.
 */
int render_draw_frame(cairo_t *cr, struct draw_buffers *b, const struct viz_frame *frame,
		      const char *title, char *err, size_t err_size);

#endif
