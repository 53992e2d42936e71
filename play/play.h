/*
 * play.h — the whole interface of play/: playing a recorded trace into the
 * scene model. It owns the one mapping from the recorder's events to the
 * scene's (the names and numbers of ops and kinds are one list,
 * trace/names.h), the scan that learns a trace's activity, the pacing
 * of trace time into video time built from it (viz/'s timeline), and the
 * driver that applies the events due by a video time. `tracefs render`,
 * the live stream and replay use it.
 */
#ifndef TRACEFS_PLAY_H
#define TRACEFS_PLAY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"
#include "viz/viz.h"

/* The scene event for trace event E at video time T; strings are E's. */
void play_event(struct viz_event *out, const struct trace_event *e, double t);

/*
 * SCENE's counters (viz_scene_events() and the rest) as one JSON object:
 * {"events":N,"ops":{"lookup":N,...},"errnos":{"2":N,...},"processes":
 * [{"name":"make","events":N,"errors":N,"color":SLOT},...]}. Malloc'd, or
 * NULL when out of memory.
 */
char *play_stats_json(const struct viz_scene *scene);

/* ---- what a trace holds, in one read ---- */

/*
 * Activity, which paces the video: each event counts 1, and one that
 * changes the shape of the tree in a new way (the first event on a path,
 * the first removal of it) PLAY_CHANGE_WEIGHT more, so that an unpack, a
 * build that makes new files or an rm -rf gets more time than a configure
 * that touches the same few files over and over (less in depth: see
 * play.c).
 */
#define PLAY_CHANGE_WEIGHT 100

struct play_scan {
	int64_t first_ns, last_ns; /* the first and last event inside the window */
	int64_t events;		   /* events inside the window */
	int64_t *activity;	   /* per slice of first_ns .. last_ns (see PLAY_CHANGE_WEIGHT) */
	size_t slices;
	int64_t fullest_ns;	   /* when the most nodes were alive (find_fullest) */
	size_t fullest_nodes;
};

struct play_scan_options {
	int64_t from_ns, to_ns;	     /* the window; INT64_MIN / INT64_MAX: all */
	struct viz_scene *prescan;   /* if not NULL, gets every event (viz_scene_prescan) */
	bool find_fullest;	     /* find when the most nodes were alive in the window */
	volatile sig_atomic_t *stop; /* if not NULL: give up when it becomes non-zero */
};

/*
 * Reads the whole trace once (checking it from end to end, so that a
 * corrupt trace fails before anything is drawn) and leaves the reader at
 * its start. 0; 1 if it holds no event in the window; -1 with a message
 * in ERR. Free with play_scan_free().
 */
int play_scan(struct trace_reader *reader, const struct play_scan_options *options,
	      struct play_scan *scan, char *err, size_t err_size);
void play_scan_free(struct play_scan *scan);

/* ---- pacing ---- */

struct play_pacing {
	double duration;  /* video seconds, the tail included; <= 0: the default rule */
	double tail;	  /* video seconds after the last event (flashes fade, camera settles) */
	double speed;	  /* > 0: constant trace seconds per video second (ignores duration) */
	double idle_skip; /* > 0: constant speed, quiet gaps cut to this many trace seconds */
};

/*
 * The default length of a video of EVENTS events: a second per
 * PLAY_EVENTS_PER_SECOND events, from PLAY_MIN_SECONDS to PLAY_MAX_SECONDS.
 */
#define PLAY_EVENTS_PER_SECOND 500
#define PLAY_MIN_SECONDS 15.0
#define PLAY_MAX_SECONDS 60.0
double play_default_duration(int64_t events);

/*
 * Builds TIMELINE over SCAN's window. By default it is paced by activity
 * (see viz_timeline_pace); KNOTS is malloc'd (free it after the timeline).
 * The video then lasts play_length() seconds. 0 or -1 (out of memory).
 */
int play_timeline(const struct play_scan *scan, const struct play_pacing *pacing,
		  struct viz_timeline *timeline, double **knots);

/* ---- the driver ---- */

struct play {
	struct trace_reader *reader;
	struct viz_scene *scene;
	const struct viz_timeline *timeline;
	int64_t limit_ns; /* events after this are not applied; INT64_MAX: none */
	volatile sig_atomic_t *stop;
	/* If not NULL, where events come from instead of READER: as trace_reader_next() */
	int (*next)(void *ctx, struct trace_event *event, char *err, size_t err_size);
	void *next_ctx;
	int64_t applied;  /* events applied so far */
	/* private */
	struct trace_event pending; /* read, not yet applied */
	double pending_t, now;
	bool have_pending, done;
};

/* Applies the events due by video time T. 0, or -1 with a message in ERR. */
int play_until(struct play *play, double t, char *err, size_t err_size);

/* The scene model's allocator over malloc/realloc/free, for native users. */
const struct viz_allocator *play_allocator(void);

#endif
